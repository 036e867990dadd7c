//! Queries over `sign_in_failures` (the password backoff) and `password_links` (one-time links
//! that set a password). Times are Unix milliseconds.

use sqlx::Row;

use super::{StoreError, Tx};

/// A one-time password link, as stored (the token itself is never stored).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PasswordLinkRow {
    pub token_hash: String,
    pub user_name: String,
    /// `invitation` or `reset`.
    pub purpose: String,
    pub created_by: String,
    pub created_at: i64,
    pub expires_at: i64,
    pub used_at: Option<i64>,
}

impl Tx {
    /// Failures so far and the time until which the account is locked, if any row exists.
    pub async fn sign_in_failures(&mut self, account: &str) -> Result<Option<(i64, i64)>, StoreError> {
        let row = sqlx::query("SELECT failures, locked_until FROM sign_in_failures WHERE account = $1")
            .bind(account)
            .fetch_optional(&mut *self.inner)
            .await?;
        row.map(|row| Ok((row.try_get(0)?, row.try_get(1)?))).transpose()
    }

    /// Counts one more failure, atomically (concurrent attempts each count); returns the total.
    pub async fn count_sign_in_failure(&mut self, account: &str) -> Result<i64, StoreError> {
        let failures = sqlx::query_scalar(
            "INSERT INTO sign_in_failures (account, failures, locked_until) VALUES ($1, 1, 0) \
             ON CONFLICT (account) DO UPDATE SET failures = sign_in_failures.failures + 1 RETURNING failures",
        )
        .bind(account)
        .fetch_one(&mut *self.inner)
        .await?;
        Ok(failures)
    }

    pub async fn set_sign_in_lock(&mut self, account: &str, locked_until: i64) -> Result<(), StoreError> {
        sqlx::query("UPDATE sign_in_failures SET locked_until = $2 WHERE account = $1")
            .bind(account)
            .bind(locked_until)
            .execute(&mut *self.inner)
            .await?;
        Ok(())
    }

    pub async fn clear_sign_in_failures(&mut self, account: &str) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM sign_in_failures WHERE account = $1")
            .bind(account)
            .execute(&mut *self.inner)
            .await?;
        Ok(())
    }

    pub async fn insert_password_link(&mut self, link: &PasswordLinkRow) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO password_links (token_hash, user_name, purpose, created_by, created_at, expires_at, used_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(&link.token_hash)
        .bind(&link.user_name)
        .bind(&link.purpose)
        .bind(&link.created_by)
        .bind(link.created_at)
        .bind(link.expires_at)
        .bind(link.used_at)
        .execute(&mut *self.inner)
        .await?;
        Ok(())
    }

    pub async fn password_link(&mut self, token_hash: &str) -> Result<Option<PasswordLinkRow>, StoreError> {
        let row = sqlx::query(
            "SELECT token_hash, user_name, purpose, created_by, created_at, expires_at, used_at \
             FROM password_links WHERE token_hash = $1",
        )
        .bind(token_hash)
        .fetch_optional(&mut *self.inner)
        .await?;
        row.map(|row| {
            Ok(PasswordLinkRow {
                token_hash: row.try_get(0)?,
                user_name: row.try_get(1)?,
                purpose: row.try_get(2)?,
                created_by: row.try_get(3)?,
                created_at: row.try_get(4)?,
                expires_at: row.try_get(5)?,
                used_at: row.try_get(6)?,
            })
        })
        .transpose()
    }

    /// Marks a link used; false when it was used already (so a link works once, even when two
    /// requests race).
    pub async fn use_password_link(&mut self, token_hash: &str, now: i64) -> Result<bool, StoreError> {
        let done = sqlx::query("UPDATE password_links SET used_at = $2 WHERE token_hash = $1 AND used_at IS NULL")
            .bind(token_hash)
            .bind(now)
            .execute(&mut *self.inner)
            .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Ends every unused link of a user (a new link replaces the old ones).
    pub async fn expire_password_links(&mut self, user_name: &str, now: i64) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE password_links SET expires_at = $2 WHERE user_name = $1 AND used_at IS NULL AND expires_at > $2",
        )
        .bind(user_name)
        .bind(now)
        .execute(&mut *self.inner)
        .await?;
        Ok(())
    }
}
