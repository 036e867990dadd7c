//! The data plane library. It owns the rules the hub and the gateway must agree on, so that
//! both ask the same code; it knows nothing of SQL or HTML.
//!
//! Today it holds route normalisation ([`route`]); the snapshot contract and the request path
//! arrive with the gateway itself.

pub mod limit;
pub mod route;
