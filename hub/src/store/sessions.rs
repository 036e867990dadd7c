//! Queries over `portal_sessions`: a session's id, its serialised data and when it expires
//! (Unix seconds). The portal's session store speaks through these.

use sqlx::Row;

use super::{StoreError, Tx};

impl Tx {
    /// Inserts a new session; [`StoreError::UniqueViolation`] when the id is taken.
    pub async fn insert_session(&mut self, id: &str, data: &str, expires_at: i64) -> Result<(), StoreError> {
        sqlx::query("INSERT INTO portal_sessions (id, data, expires_at) VALUES ($1, $2, $3)")
            .bind(id)
            .bind(data)
            .bind(expires_at)
            .execute(&mut *self.inner)
            .await?;
        Ok(())
    }

    /// Rewrites an existing session; one deleted meanwhile (signed out) stays deleted, so a
    /// request still running at sign-out cannot bring it back.
    pub async fn update_session(&mut self, id: &str, data: &str, expires_at: i64) -> Result<(), StoreError> {
        sqlx::query("UPDATE portal_sessions SET data = $2, expires_at = $3 WHERE id = $1")
            .bind(id)
            .bind(data)
            .bind(expires_at)
            .execute(&mut *self.inner)
            .await?;
        Ok(())
    }

    /// A session's data, unless it is missing or expired at `now`.
    pub async fn session(&mut self, id: &str, now: i64) -> Result<Option<(String, i64)>, StoreError> {
        let row = sqlx::query("SELECT data, expires_at FROM portal_sessions WHERE id = $1 AND expires_at > $2")
            .bind(id)
            .bind(now)
            .fetch_optional(&mut *self.inner)
            .await?;
        row.map(|row| Ok((row.try_get(0)?, row.try_get(1)?))).transpose()
    }

    pub async fn delete_session(&mut self, id: &str) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM portal_sessions WHERE id = $1")
            .bind(id)
            .execute(&mut *self.inner)
            .await?;
        Ok(())
    }

    /// Deletes every session expired at `now`; returns how many.
    pub async fn delete_expired_sessions(&mut self, now: i64) -> Result<u64, StoreError> {
        let done = sqlx::query("DELETE FROM portal_sessions WHERE expires_at <= $1")
            .bind(now)
            .execute(&mut *self.inner)
            .await?;
        Ok(done.rows_affected())
    }
}
