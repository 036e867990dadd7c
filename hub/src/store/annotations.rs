//! Queries over the annotation cursors: how far each sink has posted the revisions, and which hub
//! replica holds the right to post the next one. The lease is taken by one conditional UPDATE, so
//! of several replicas asking at once exactly one gets it, on either backend.

use sqlx::Row;

use super::{StoreError, Tx, from_millis};

/// A sink's progress, as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AnnotationCursorRow {
    /// The last revision posted (or skipped as refused).
    pub last_revision: i64,
    /// The replica holding the lease, if any.
    pub holder: Option<String>,
    /// Unix ms until which `holder` may post without asking again.
    pub held_until: i64,
    /// Failed posts, counted over every replica since the sink was set up.
    pub failures: i64,
    /// Why the latest failed post failed, and when.
    pub last_error: Option<(String, chrono::DateTime<chrono::Utc>)>,
}

/// The outcome of asking for a sink's lease.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AnnotationClaim {
    /// This replica holds the lease; the last revision posted.
    Held { last_revision: i64 },
    /// Another replica holds it until this time (Unix ms).
    HeldElsewhere { until: i64 },
}

impl Tx {
    /// Creates the sink's cursor at `last_revision`, unless it exists.
    pub async fn ensure_annotation_cursor(&mut self, sink: &str, last_revision: i64) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO annotation_cursors (sink, last_revision) VALUES ($1, $2) ON CONFLICT (sink) DO NOTHING",
        )
        .bind(sink)
        .bind(last_revision)
        .execute(&mut *self.inner)
        .await?;
        Ok(())
    }

    /// Takes (or renews) the sink's lease for `holder` until `held_until`, unless another holder's
    /// lease runs past `now` (both Unix ms).
    pub async fn claim_annotation_cursor(
        &mut self,
        sink: &str,
        holder: &str,
        now: i64,
        held_until: i64,
    ) -> Result<AnnotationClaim, StoreError> {
        let claimed = sqlx::query(
            "UPDATE annotation_cursors SET holder = $2, held_until = $4 \
             WHERE sink = $1 AND (holder = $2 OR holder IS NULL OR held_until < $3) RETURNING last_revision",
        )
        .bind(sink)
        .bind(holder)
        .bind(now)
        .bind(held_until)
        .fetch_optional(&mut *self.inner)
        .await?;
        if let Some(row) = claimed {
            return Ok(AnnotationClaim::Held {
                last_revision: row.try_get(0)?,
            });
        }
        let until: Option<i64> = sqlx::query_scalar("SELECT held_until FROM annotation_cursors WHERE sink = $1")
            .bind(sink)
            .fetch_optional(&mut *self.inner)
            .await?;
        until
            .map(|until| AnnotationClaim::HeldElsewhere { until })
            .ok_or_else(|| StoreError::Corrupt(format!("no annotation cursor for `{sink}`")))
    }

    /// Moves the cursor from `from` to `to` and renews the lease, if `holder` still holds it and
    /// nobody moved the cursor meanwhile. False when the lease was lost.
    pub async fn advance_annotation_cursor(
        &mut self,
        sink: &str,
        holder: &str,
        from: i64,
        to: i64,
        held_until: i64,
    ) -> Result<bool, StoreError> {
        let moved = sqlx::query(
            "UPDATE annotation_cursors SET last_revision = $4, held_until = $5 \
             WHERE sink = $1 AND holder = $2 AND last_revision = $3",
        )
        .bind(sink)
        .bind(holder)
        .bind(from)
        .bind(to)
        .bind(held_until)
        .execute(&mut *self.inner)
        .await?;
        Ok(moved.rows_affected() == 1)
    }

    /// Gives the lease up, if `holder` has it, so any replica can post the next revision at once.
    pub async fn release_annotation_cursor(&mut self, sink: &str, holder: &str) -> Result<(), StoreError> {
        sqlx::query("UPDATE annotation_cursors SET holder = NULL, held_until = 0 WHERE sink = $1 AND holder = $2")
            .bind(sink)
            .bind(holder)
            .execute(&mut *self.inner)
            .await?;
        Ok(())
    }

    /// Counts a failed post and keeps why it failed.
    pub async fn record_annotation_failure(&mut self, sink: &str, message: &str, at: i64) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE annotation_cursors SET failures = failures + 1, last_error = $2, last_error_at = $3 WHERE sink = $1",
        )
        .bind(sink)
        .bind(message)
        .bind(at)
        .execute(&mut *self.inner)
        .await?;
        Ok(())
    }

    /// The sink's progress, if it was ever set up.
    pub async fn annotation_cursor(&mut self, sink: &str) -> Result<Option<AnnotationCursorRow>, StoreError> {
        let row = sqlx::query(
            "SELECT last_revision, holder, held_until, failures, last_error, last_error_at \
             FROM annotation_cursors WHERE sink = $1",
        )
        .bind(sink)
        .fetch_optional(&mut *self.inner)
        .await?;
        row.map(|row| {
            let last_error: Option<String> = row.try_get(4)?;
            let last_error_at: Option<i64> = row.try_get(5)?;
            Ok(AnnotationCursorRow {
                last_revision: row.try_get(0)?,
                holder: row.try_get(1)?,
                held_until: row.try_get(2)?,
                failures: row.try_get(3)?,
                last_error: match (last_error, last_error_at) {
                    (Some(message), Some(at)) => Some((message, from_millis(at)?)),
                    _ => None,
                },
            })
        })
        .transpose()
    }
}
