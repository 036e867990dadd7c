//! A revision: an immutable, numbered, published snapshot of the hub's state.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
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
    /// What recorded it: a publish of the current state, or a rollback.
    pub kind: RevisionKind,
    /// For a rollback, the revision whose content it published again.
    pub rolled_back_to: Option<i64>,
}

/// What recorded a revision.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum RevisionKind {
    /// The current state, compiled (`POST /api/v1/revisions`, auto-publish, the portal's keys).
    Publish,
    /// An earlier revision's content, published again (`POST /api/v1/revisions/{n}/rollback`).
    Rollback,
}

impl RevisionKind {
    /// The name stored, shown and used as an annotation tag.
    pub fn as_str(self) -> &'static str {
        match self {
            RevisionKind::Publish => "publish",
            RevisionKind::Rollback => "rollback",
        }
    }

    /// Reads a stored name.
    pub fn parse(name: &str) -> Option<RevisionKind> {
        match name {
            "publish" => Some(RevisionKind::Publish),
            "rollback" => Some(RevisionKind::Rollback),
            _ => None,
        }
    }
}
