//! Queries over revisions: immutable once written.

use sqlx::Row;
use sqlx::any::AnyRow;

use super::{StoreError, Tx, from_millis, to_millis};
use crate::model::{Revision, RevisionKind};

/// The columns [`revision_row`] reads, in its order.
const REVISION_COLUMNS: &str = "number, content_hash, author, created_at, message, source_commit, kind, rolled_back_to";

/// Which revisions [`Tx::list_revisions_between`] returns, newest first.
#[derive(Debug, Clone, Default)]
pub struct RevisionFilter {
    /// Only revisions numbered below this.
    pub before: Option<i64>,
    /// Only revisions recorded at or after this time.
    pub since: Option<chrono::DateTime<chrono::Utc>>,
    /// Only revisions recorded before this time.
    pub until: Option<chrono::DateTime<chrono::Utc>>,
    pub limit: u32,
}

impl Tx {
    /// Records a revision with its snapshot content.
    pub async fn insert_revision(&mut self, revision: &Revision, snapshot: &str) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO revisions \
             (number, content_hash, author, created_at, message, source_commit, kind, rolled_back_to, snapshot) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(revision.number)
        .bind(&revision.content_hash)
        .bind(&revision.author)
        .bind(to_millis(revision.created_at))
        .bind(&revision.message)
        .bind(revision.source_commit.as_deref())
        .bind(revision.kind.as_str())
        .bind(revision.rolled_back_to)
        .bind(snapshot)
        .execute(&mut *self.inner)
        .await?;
        Ok(())
    }

    /// Revisions newest first, below `before` when given.
    pub async fn list_revisions(&mut self, before: Option<i64>, limit: u32) -> Result<Vec<Revision>, StoreError> {
        let rows = sqlx::query(&format!(
            "SELECT {REVISION_COLUMNS} FROM revisions \
             WHERE ($1 IS NULL OR number < $1) ORDER BY number DESC LIMIT $2"
        ))
        .bind(before)
        .bind(i64::from(limit))
        .fetch_all(&mut *self.inner)
        .await?;
        rows.iter().map(revision_row).collect()
    }

    /// Revisions newest first, within the filter's numbers and times.
    pub async fn list_revisions_between(&mut self, filter: &RevisionFilter) -> Result<Vec<Revision>, StoreError> {
        let rows = sqlx::query(&format!(
            "SELECT {REVISION_COLUMNS} FROM revisions \
             WHERE ($1 IS NULL OR number < $1) AND ($2 IS NULL OR created_at >= $2) \
             AND ($3 IS NULL OR created_at < $3) ORDER BY number DESC LIMIT $4"
        ))
        .bind(filter.before)
        .bind(filter.since.map(to_millis))
        .bind(filter.until.map(to_millis))
        .bind(i64::from(filter.limit))
        .fetch_all(&mut *self.inner)
        .await?;
        rows.iter().map(revision_row).collect()
    }

    /// The first revision numbered above `after`, oldest first.
    pub async fn next_revision_after(&mut self, after: i64) -> Result<Option<Revision>, StoreError> {
        let row = sqlx::query(&format!(
            "SELECT {REVISION_COLUMNS} FROM revisions WHERE number > $1 ORDER BY number LIMIT 1"
        ))
        .bind(after)
        .fetch_optional(&mut *self.inner)
        .await?;
        row.as_ref().map(revision_row).transpose()
    }

    /// One revision and its snapshot content.
    pub async fn get_revision(&mut self, number: i64) -> Result<Option<(Revision, String)>, StoreError> {
        let row = sqlx::query(&format!(
            "SELECT {REVISION_COLUMNS}, snapshot FROM revisions WHERE number = $1"
        ))
        .bind(number)
        .fetch_optional(&mut *self.inner)
        .await?;
        row.map(|row| Ok((revision_row(&row)?, row.try_get(8)?))).transpose()
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
        kind: {
            let kind: String = row.try_get(6)?;
            RevisionKind::parse(&kind).ok_or_else(|| StoreError::Corrupt(format!("revision kind `{kind}`")))?
        },
        rolled_back_to: row.try_get(7)?,
    })
}
