//! Identity: who is calling. Password hashing, generated secrets (API keys, admin tokens), and
//! the actor an admin request runs as.

pub mod actor;
pub mod password;
pub mod secret;

pub use actor::Actor;
