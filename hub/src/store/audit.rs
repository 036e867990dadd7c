//! Queries over the audit log: append-only, newest first.

use sqlx::Row;

use super::{StoreError, Tx, from_millis};
use crate::model::{AuditAction, AuditEntry};

/// An audit entry about to be written.
#[derive(Debug, Clone)]
pub struct NewAuditEntry {
    pub at: i64,
    pub actor: String,
    pub action: AuditAction,
    pub kind: String,
    pub key: String,
    pub before: Option<String>,
    pub after: Option<String>,
}

/// Which audit entries to list.
#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    pub actor: Option<String>,
    pub kind: Option<String>,
    pub key: Option<String>,
    pub action: Option<AuditAction>,
    /// Only entries older than this id (the cursor of the previous page).
    pub before_id: Option<i64>,
    pub limit: u32,
}

impl Tx {
    pub async fn append_audit(&mut self, entry: &NewAuditEntry) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO audit_log (at, actor, action, kind, object_key, before_state, after_state) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(entry.at)
        .bind(&entry.actor)
        .bind(entry.action.as_str())
        .bind(&entry.kind)
        .bind(&entry.key)
        .bind(entry.before.as_deref())
        .bind(entry.after.as_deref())
        .execute(&mut *self.inner)
        .await?;
        Ok(())
    }

    pub async fn list_audit(&mut self, filter: &AuditFilter) -> Result<Vec<AuditEntry>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, at, actor, action, kind, object_key, before_state, after_state FROM audit_log \
             WHERE ($1 IS NULL OR actor = $1) AND ($2 IS NULL OR kind = $2) AND ($3 IS NULL OR object_key = $3) \
             AND ($4 IS NULL OR action = $4) AND ($5 IS NULL OR id < $5) \
             ORDER BY id DESC LIMIT $6",
        )
        .bind(filter.actor.as_deref())
        .bind(filter.kind.as_deref())
        .bind(filter.key.as_deref())
        .bind(filter.action.map(AuditAction::as_str))
        .bind(filter.before_id)
        .bind(i64::from(filter.limit))
        .fetch_all(&mut *self.inner)
        .await?;
        rows.iter()
            .map(|row| {
                let action: String = row.try_get(3)?;
                let json = |column: usize| -> Result<Option<serde_json::Value>, StoreError> {
                    let text: Option<String> = row.try_get(column)?;
                    text.map(|text| serde_json::from_str(&text).map_err(|error| StoreError::Corrupt(error.to_string())))
                        .transpose()
                };
                Ok(AuditEntry {
                    id: row.try_get(0)?,
                    at: from_millis(row.try_get(1)?)?,
                    actor: row.try_get(2)?,
                    action: AuditAction::parse(&action)
                        .ok_or_else(|| StoreError::Corrupt(format!("audit action `{action}`")))?,
                    kind: row.try_get(4)?,
                    key: row.try_get(5)?,
                    before: json(6)?,
                    after: json(7)?,
                })
            })
            .collect()
    }
}
