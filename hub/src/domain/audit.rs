//! Reading the audit log. Writing it happens inside every change (`domain::objects`).

use crate::error::HubError;
use crate::model::{AuditEntry, Page};
use crate::store::{AuditFilter, Store};

/// One page of audit entries, newest first.
pub async fn list(store: &Store, filter: &AuditFilter) -> Result<Page<AuditEntry>, HubError> {
    let mut probe = filter.clone();
    probe.limit = filter.limit + 1;
    let mut tx = store.begin().await?;
    let mut items = tx.list_audit(&probe).await?;
    tx.commit().await?;
    let has_more = items.len() > filter.limit as usize;
    items.truncate(filter.limit as usize);
    let next_cursor = if has_more {
        items.last().map(|entry| entry.id.to_string())
    } else {
        None
    };
    Ok(Page { items, next_cursor })
}
