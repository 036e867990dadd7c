//! The control plane: the domain model, its store (Postgres or embedded SQLite), identity, and
//! the admin REST API and the admin dashboard.
//!
//! Layers point one way: `http` (handlers: parse, call the domain, render) → `domain`
//! (operations over plain types) → `store` (SQL) and `model` (types and their validation).
//! No handler runs SQL; no domain function sees HTTP.

pub mod compiler;
pub mod config;
pub mod dashboard;
pub mod demo;
pub mod distribution;
pub mod domain;
pub mod error;
pub mod http;
pub mod identity;
pub mod impact;
pub mod lint;
pub mod manifest;
pub mod model;
pub mod server;
pub mod store;
pub mod validate;
pub mod web;

pub use config::HubConfig;
pub use error::HubError;
pub use http::{AppState, app};
pub use store::Store;
