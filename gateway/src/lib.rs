//! The data plane library. It owns the snapshot contract (the one document the hub compiles to
//! and the gateway loads) and the rules the hub and the gateway must agree on (route matching,
//! access evaluation), so both ask the same code. It knows nothing of SQL or HTML.

pub mod access;
pub mod compiled;
pub mod route;
pub mod snapshot;
pub mod upstream;
