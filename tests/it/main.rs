//! Integration tests of the real `gatehouse` binary: each test starts the process the way an operator
//! would (flags, environment, a config file, a data directory or a Postgres database) and talks to it
//! over HTTP or reads what it printed. The hub's handlers are tested in-process in `hub/tests`; this
//! binary checks the wiring around them: configuration, startup, storage, shutdown, logs.

mod cli;
mod client_certificates;
mod control_loop;
mod dashboards;
mod gateway;
mod impact;
mod manifests;
mod policy_ip;
mod postgres;
mod prometheus;
mod request_validation;
mod restart;
mod shadow;
mod sqlite;
mod story;
mod support;
mod tls;
