//! Domain operations: what the admin API, the dashboard, the portal and the manifest commands
//! all call. Each takes the store and plain model types, and knows nothing of HTTP or SQL.

pub mod access_views;
pub mod admin_tokens;
pub mod api_keys;
pub mod audit;
pub mod bootstrap;
pub mod client_certificates;
pub mod events;
pub mod fleet;
mod kinds;
pub mod manifests;
pub mod objects;
pub mod publish;
pub mod revisions;
pub mod shadow;
pub mod sign_in;
pub mod usage;
