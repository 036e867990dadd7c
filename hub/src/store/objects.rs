//! Queries over `objects` and the tables that index them: references, labels, unique claims.
//! The store sees objects as JSON text; typing them is the domain's job.

use sqlx::Row;
use sqlx::any::AnyRow;

use super::{Backend, StoreError, Tx};
use crate::model::ListFilter;

/// One stored object, untyped.
#[derive(Debug, Clone)]
pub struct ObjectRow {
    pub kind: String,
    pub key: String,
    /// The object as JSON.
    pub spec: String,
    /// Lower-cased text the `q` filter searches.
    pub search: String,
    pub created_at: i64,
    pub updated_at: i64,
    pub created_by: String,
    pub updated_by: String,
}

/// An object that refers to another, and through which field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReferenceRow {
    pub kind: String,
    pub key: String,
    pub field: String,
    pub owned_by_target: bool,
}

/// Who holds a unique claim.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClaimRow {
    pub kind: String,
    pub key: String,
}

const OBJECT_COLUMNS: &str = "kind, object_key, spec, search, created_at, updated_at, created_by, updated_by";

impl Tx {
    pub async fn get_object(&mut self, kind: &str, key: &str) -> Result<Option<ObjectRow>, StoreError> {
        let sql = format!("SELECT {OBJECT_COLUMNS} FROM objects WHERE kind = $1 AND object_key = $2");
        let row = sqlx::query(&sql)
            .bind(kind)
            .bind(key)
            .fetch_optional(&mut *self.inner)
            .await?;
        row.map(|row| object_row(&row)).transpose()
    }

    pub async fn object_exists(&mut self, kind: &str, key: &str) -> Result<bool, StoreError> {
        let count: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM objects WHERE kind = $1 AND object_key = $2")
            .bind(kind)
            .bind(key)
            .fetch_one(&mut *self.inner)
            .await?;
        Ok(count > 0)
    }

    pub async fn insert_object(&mut self, row: &ObjectRow) -> Result<(), StoreError> {
        let sql = format!("INSERT INTO objects ({OBJECT_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)");
        sqlx::query(&sql)
            .bind(&row.kind)
            .bind(&row.key)
            .bind(&row.spec)
            .bind(&row.search)
            .bind(row.created_at)
            .bind(row.updated_at)
            .bind(&row.created_by)
            .bind(&row.updated_by)
            .execute(&mut *self.inner)
            .await?;
        Ok(())
    }

    /// Replaces an object's spec and records who changed it; creation fields stay.
    pub async fn update_object(&mut self, row: &ObjectRow) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE objects SET spec = $3, search = $4, updated_at = $5, updated_by = $6 \
             WHERE kind = $1 AND object_key = $2",
        )
        .bind(&row.kind)
        .bind(&row.key)
        .bind(&row.spec)
        .bind(&row.search)
        .bind(row.updated_at)
        .bind(&row.updated_by)
        .execute(&mut *self.inner)
        .await?;
        Ok(())
    }

    /// Deletes an object; its own references, labels and claims go with it.
    pub async fn delete_object(&mut self, kind: &str, key: &str) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM objects WHERE kind = $1 AND object_key = $2")
            .bind(kind)
            .bind(key)
            .execute(&mut *self.inner)
            .await?;
        Ok(())
    }

    /// Replaces what an object refers to: `(field, target kind, target key, owned by target)`.
    pub async fn set_references(
        &mut self,
        kind: &str,
        key: &str,
        references: &[(String, String, String, bool)],
    ) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM object_references WHERE kind = $1 AND object_key = $2")
            .bind(kind)
            .bind(key)
            .execute(&mut *self.inner)
            .await?;
        for (field, target_kind, target_key, owned_by_target) in references {
            sqlx::query(
                "INSERT INTO object_references (kind, object_key, field, target_kind, target_key, owned_by_target) \
                 VALUES ($1, $2, $3, $4, $5, $6)",
            )
            .bind(kind)
            .bind(key)
            .bind(field)
            .bind(target_kind)
            .bind(target_key)
            .bind(i64::from(*owned_by_target))
            .execute(&mut *self.inner)
            .await?;
        }
        Ok(())
    }

    /// Replaces an object's labels.
    pub async fn set_labels(&mut self, kind: &str, key: &str, labels: &[String]) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM object_labels WHERE kind = $1 AND object_key = $2")
            .bind(kind)
            .bind(key)
            .execute(&mut *self.inner)
            .await?;
        for label in labels {
            sqlx::query("INSERT INTO object_labels (kind, object_key, label) VALUES ($1, $2, $3)")
                .bind(kind)
                .bind(key)
                .bind(label)
                .execute(&mut *self.inner)
                .await?;
        }
        Ok(())
    }

    /// Drops every unique claim an object holds.
    pub async fn release_claims(&mut self, kind: &str, key: &str) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM unique_claims WHERE kind = $1 AND object_key = $2")
            .bind(kind)
            .bind(key)
            .execute(&mut *self.inner)
            .await?;
        Ok(())
    }

    /// Claims `value` in `scope` for an object; fails with `UniqueViolation` if taken.
    pub async fn claim(&mut self, scope: &str, value: &str, kind: &str, key: &str) -> Result<(), StoreError> {
        sqlx::query("INSERT INTO unique_claims (scope, value, kind, object_key) VALUES ($1, $2, $3, $4)")
            .bind(scope)
            .bind(value)
            .bind(kind)
            .bind(key)
            .execute(&mut *self.inner)
            .await?;
        Ok(())
    }

    /// The object holding a claim, if any.
    pub async fn claim_holder(&mut self, scope: &str, value: &str) -> Result<Option<ClaimRow>, StoreError> {
        let row = sqlx::query("SELECT kind, object_key FROM unique_claims WHERE scope = $1 AND value = $2")
            .bind(scope)
            .bind(value)
            .fetch_optional(&mut *self.inner)
            .await?;
        row.map(|row| {
            Ok(ClaimRow {
                kind: row.try_get(0)?,
                key: row.try_get(1)?,
            })
        })
        .transpose()
    }

    /// The objects that refer to `(kind, key)`, in key order.
    pub async fn referrers(&mut self, kind: &str, key: &str) -> Result<Vec<ReferenceRow>, StoreError> {
        let rows = sqlx::query(
            "SELECT kind, object_key, field, owned_by_target FROM object_references \
             WHERE target_kind = $1 AND target_key = $2 ORDER BY kind, object_key, field",
        )
        .bind(kind)
        .bind(key)
        .fetch_all(&mut *self.inner)
        .await?;
        rows.iter()
            .map(|row| {
                Ok(ReferenceRow {
                    kind: row.try_get(0)?,
                    key: row.try_get(1)?,
                    field: row.try_get(2)?,
                    owned_by_target: row.try_get::<i64, _>(3)? != 0,
                })
            })
            .collect()
    }

    /// Locks, until the transaction ends, the objects of `kind` that carry every one of `labels`,
    /// in key order. Two transactions that each check that another such object remains, then
    /// change one, so run one after the other, and the second sees what the first did. SQLite
    /// needs no lock: its single connection runs one transaction at a time.
    pub async fn lock_labelled(&mut self, kind: &str, labels: &[&str]) -> Result<(), StoreError> {
        if self.backend == Backend::Sqlite {
            return Ok(());
        }
        let mut sql = "SELECT o.object_key FROM objects o WHERE o.kind = $1".to_owned();
        for index in 0..labels.len() {
            sql.push_str(&format!(
                " AND EXISTS (SELECT 1 FROM object_labels l \
                  WHERE l.kind = o.kind AND l.object_key = o.object_key AND l.label = ${})",
                index + 2
            ));
        }
        sql.push_str(" ORDER BY o.object_key FOR UPDATE");
        let mut query = sqlx::query(&sql).bind(kind);
        for label in labels {
            query = query.bind(*label);
        }
        query.fetch_all(&mut *self.inner).await?;
        Ok(())
    }

    /// One page of a kind's objects, in key order.
    pub async fn list_objects(&mut self, kind: &str, filter: &ListFilter) -> Result<Vec<ObjectRow>, StoreError> {
        let mut sql = format!(
            "SELECT {OBJECT_COLUMNS} FROM objects o WHERE o.kind = $1 \
             AND ($2 IS NULL OR o.object_key > $2) \
             AND ($3 IS NULL OR o.search LIKE $3 ESCAPE '\\') \
             AND ($4 IS NULL OR EXISTS (SELECT 1 FROM object_references r \
                  WHERE r.kind = o.kind AND r.object_key = o.object_key AND r.target_kind = $4 AND r.target_key = $5))"
        );
        for index in 0..filter.labels.len() {
            sql.push_str(&format!(
                " AND EXISTS (SELECT 1 FROM object_labels l \
                  WHERE l.kind = o.kind AND l.object_key = o.object_key AND l.label = ${})",
                index + 7
            ));
        }
        sql.push_str(" ORDER BY o.object_key LIMIT $6");
        let pattern = filter
            .query
            .as_deref()
            .map(|query| format!("%{}%", escape_like(&query.to_lowercase())));
        let refers_to = filter.refers_to.as_ref();
        let mut query = sqlx::query(&sql)
            .bind(kind)
            .bind(filter.cursor.as_deref())
            .bind(pattern)
            .bind(refers_to.map(|target| target.kind))
            .bind(refers_to.map(|target| target.key.as_str()))
            .bind(i64::from(filter.limit));
        for label in &filter.labels {
            query = query.bind(label.as_str());
        }
        let rows = query.fetch_all(&mut *self.inner).await?;
        rows.iter().map(object_row).collect()
    }
}

fn object_row(row: &AnyRow) -> Result<ObjectRow, StoreError> {
    Ok(ObjectRow {
        kind: row.try_get(0)?,
        key: row.try_get(1)?,
        spec: row.try_get(2)?,
        search: row.try_get(3)?,
        created_at: row.try_get(4)?,
        updated_at: row.try_get(5)?,
        created_by: row.try_get(6)?,
        updated_by: row.try_get(7)?,
    })
}

/// Escapes `%`, `_` and `\` so user text matches literally in `LIKE … ESCAPE '\'`.
fn escape_like(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for character in text.chars() {
        if matches!(character, '%' | '_' | '\\') {
            escaped.push('\\');
        }
        escaped.push(character);
    }
    escaped
}
