//! The hub's integration tests: the production router over a real store, every store test run
//! on embedded SQLite and on Postgres.

mod support;

mod audit;
mod auth;
mod certificates;
mod client_certificates;
mod crud;
mod dashboard;
mod edge_rules;
mod events;
mod impact;
mod lifecycle;
mod lint;
mod listing;
mod manifests;
mod policy_ip;
mod publishing;
mod references;
mod request_validation;
mod requests;
mod service;
mod shadow;
mod upstream_tls;
mod usage;
mod validation;
