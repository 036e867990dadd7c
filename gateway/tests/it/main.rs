//! The gateway as deployed: real listeners, real upstream servers on loopback, real clients.

mod support;
mod upstream;

mod client_certificates;
mod edge;
mod enforcement;
mod hub_stream;
mod jwt;
mod lifecycle;
mod metrics_parity;
mod otel;
mod policy_ip;
mod proxying;
mod snapshots;
mod tls;
mod upstream_tls;
mod usage;
