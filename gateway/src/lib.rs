//! The data plane library. It owns the snapshot contract (the one document the hub compiles to
//! and the gateway loads) and the rules the hub and the gateway must agree on (route matching,
//! access evaluation), so both ask the same code. It knows nothing of SQL or HTML.
//!
//! A request's path: `server` accepts it (on one of the `workers`, a runtime per core), `pipeline` runs route → authenticate → authorize →
//! rate-limit → validate (`validation`, for versions that opt in), `proxy` forwards it, `refusal` words every no, `telemetry` records the outcome.
//! `runtime` holds the snapshot in force (swapped whole by `source`), compiled by `compiled`.

pub mod access;
pub mod admin;
pub mod compiled;
pub mod config;
pub mod edge;
pub mod health;
pub mod jwt;
pub mod lifecycle;
pub mod limit;
pub mod pipeline;
pub mod proxy;
pub mod refusal;
pub mod route;
pub mod runtime;
pub mod server;
pub mod shadow;
pub mod snapshot;
pub mod source;
pub mod start;
pub mod telemetry;
pub mod tls;
pub mod upstream;
pub mod validation;
pub mod workers;
