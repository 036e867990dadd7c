//! Change events: each published revision as a dated mark (who published what, why, from which
//! commit, and whether it was a rollback), for `GET /api/v1/events` and for the annotations the
//! hub posts to Grafana (`distribution::annotations`). Events are read from the revisions; nothing
//! else is stored for them.

use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;

use crate::error::HubError;
use crate::model::{Revision, RevisionKind};
use crate::store::{RevisionFilter, Store};

/// One published revision, as a change event.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Event {
    /// The revision's number.
    pub revision: i64,
    /// `publish` or `rollback`.
    pub kind: RevisionKind,
    /// When the revision was published.
    pub time: DateTime<Utc>,
    /// Who published it.
    pub author: String,
    /// Why: the publish message (a rollback's defaults to "roll back to revision N").
    pub message: String,
    /// The source commit it was published from, when known.
    pub source_commit: Option<String>,
    /// For a rollback, the revision whose content it published again.
    pub rolled_back_to: Option<i64>,
}

impl From<Revision> for Event {
    fn from(revision: Revision) -> Event {
        Event {
            revision: revision.number,
            kind: revision.kind,
            time: revision.created_at,
            author: revision.author,
            message: revision.message,
            source_commit: revision.source_commit,
            rolled_back_to: revision.rolled_back_to,
        }
    }
}

/// One page of events, newest first.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct EventPage {
    pub items: Vec<Event>,
    /// Pass as `before` to get the next page; absent on the last page.
    pub next_before: Option<i64>,
}

/// Which events [`list`] returns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventFilter {
    /// Only revisions numbered below this one.
    pub before: Option<i64>,
    /// Only revisions published at or after this time.
    pub since: Option<DateTime<Utc>>,
    /// Only revisions published before this time.
    pub until: Option<DateTime<Utc>>,
    /// Page size.
    pub limit: u32,
}

/// One page of events, newest first.
pub async fn list(store: &Store, filter: &EventFilter) -> Result<EventPage, HubError> {
    let mut tx = store.begin().await?;
    let mut revisions = tx
        .list_revisions_between(&RevisionFilter {
            before: filter.before,
            since: filter.since,
            until: filter.until,
            limit: filter.limit + 1,
        })
        .await?;
    tx.commit().await?;
    let has_more = revisions.len() > filter.limit as usize;
    revisions.truncate(filter.limit as usize);
    let next_before = if has_more {
        revisions.last().map(|revision| revision.number)
    } else {
        None
    };
    Ok(EventPage {
        items: revisions.into_iter().map(Event::from).collect(),
        next_before,
    })
}
