//! The portal's integration tests: the production router on a loopback port over a real store
//! (SQLite and Postgres), driven by an HTTP client with a cookie jar, as a browser would.

mod catalog;
mod lifecycle;
mod security;
mod sign_in;
mod support;
