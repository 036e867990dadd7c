//! A revision: an immutable, numbered, published snapshot of the hub's state.

use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;

/// One published revision, without its snapshot content.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Revision {
    /// Increases by one with each publish.
    pub number: i64,
    /// Hex SHA-256 of the snapshot content.
    pub content_hash: String,
    /// Who published it.
    pub author: String,
    pub created_at: DateTime<Utc>,
    /// Why it was published.
    pub message: String,
    /// The source commit it was published from, when known.
    pub source_commit: Option<String>,
}
