//! Queries over revisions: immutable once written.

use sqlx::Row;
use sqlx::any::AnyRow;

use super::{StoreError, Tx, from_millis, to_millis};
use crate::model::Revision;

impl Tx {
    /// Records a revision with its snapshot content.
    pub async fn insert_revision(&mut self, revision: &Revision, snapshot: &str) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO revisions (number, content_hash, author, created_at, message, source_commit, snapshot) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(revision.number)
        .bind(&revision.content_hash)
        .bind(&revision.author)
        .bind(to_millis(revision.created_at))
        .bind(&revision.message)
        .bind(revision.source_commit.as_deref())
        .bind(snapshot)
        .execute(&mut *self.inner)
        .await?;
        Ok(())
    }

    /// Revisions newest first, below `before` when given.
    pub async fn list_revisions(&mut self, before: Option<i64>, limit: u32) -> Result<Vec<Revision>, StoreError> {
        let rows = sqlx::query(
            "SELECT number, content_hash, author, created_at, message, source_commit FROM revisions \
             WHERE ($1 IS NULL OR number < $1) ORDER BY number DESC LIMIT $2",
        )
        .bind(before)
        .bind(i64::from(limit))
        .fetch_all(&mut *self.inner)
        .await?;
        rows.iter().map(revision_row).collect()
    }

    /// One revision and its snapshot content.
    pub async fn get_revision(&mut self, number: i64) -> Result<Option<(Revision, String)>, StoreError> {
        let row = sqlx::query(
            "SELECT number, content_hash, author, created_at, message, source_commit, snapshot FROM revisions \
             WHERE number = $1",
        )
        .bind(number)
        .fetch_optional(&mut *self.inner)
        .await?;
        row.map(|row| Ok((revision_row(&row)?, row.try_get(6)?))).transpose()
    }
}

fn revision_row(row: &AnyRow) -> Result<Revision, StoreError> {
    Ok(Revision {
        number: row.try_get(0)?,
        content_hash: row.try_get(1)?,
        author: row.try_get(2)?,
        created_at: from_millis(row.try_get(3)?)?,
        message: row.try_get(4)?,
        source_commit: row.try_get(5)?,
    })
}
