//! Reading revisions. Publishing them (compiling the store into a snapshot) arrives with the
//! control loop; revisions are immutable, so there is nothing to update or delete.

use crate::error::HubError;
use crate::model::{Page, Revision};
use crate::store::Store;

/// One page of revisions, newest first.
pub async fn list(store: &Store, before: Option<i64>, limit: u32) -> Result<Page<Revision>, HubError> {
    let mut tx = store.begin().await?;
    let mut items = tx.list_revisions(before, limit + 1).await?;
    tx.commit().await?;
    let has_more = items.len() > limit as usize;
    items.truncate(limit as usize);
    let next_cursor = if has_more {
        items.last().map(|revision| revision.number.to_string())
    } else {
        None
    };
    Ok(Page { items, next_cursor })
}

/// One revision.
pub async fn get(store: &Store, number: i64) -> Result<Revision, HubError> {
    let mut tx = store.begin().await?;
    let revision = tx.get_revision(number).await?;
    tx.commit().await?;
    revision
        .map(|(revision, _snapshot)| revision)
        .ok_or_else(|| HubError::NotFound {
            kind: "revision",
            key: number.to_string(),
        })
}
