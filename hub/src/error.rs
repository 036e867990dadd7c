//! The hub's error type: every way a domain operation can fail that a caller can act on.
//! Turning it into HTTP (problem+json) happens once, in `http::problem`.

use crate::store::StoreError;
use crate::validate::FieldError;

/// What went wrong in a hub operation.
#[derive(Debug, thiserror::Error)]
pub enum HubError {
    /// The input broke one or more rules; each entry names its field.
    #[error("the request is invalid")]
    Invalid(Vec<FieldError>),
    /// The object does not exist (or the caller may not know it exists).
    #[error("{kind} `{key}` does not exist")]
    NotFound { kind: &'static str, key: String },
    /// The change collides with what the store holds: a duplicate name, a claimed route,
    /// or an object still in use.
    #[error("{detail}")]
    Conflict { detail: String },
    /// No credentials, or credentials that match nothing.
    #[error("{detail}")]
    Unauthenticated { detail: String },
    /// Valid credentials whose role does not allow the operation.
    #[error("{detail}")]
    Forbidden { detail: String },
    /// The store failed for a reason the caller cannot fix.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl HubError {
    /// A single-field validation error.
    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        HubError::Invalid(vec![FieldError::new(field, message)])
    }
}
