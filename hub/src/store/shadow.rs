//! Queries over `shadow_refusals`: what shadowed access policies and plans would have refused,
//! per minute, rule and user, appended as gateways report it and summed when read.

use sqlx::Row;

use super::{StoreError, Tx};

/// One stored count: a gateway's would-be refusals of one minute, rule and user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShadowRefusalRow {
    /// Unix seconds.
    pub bucket_start: i64,
    pub gateway: String,
    /// `policy` or `plan`.
    pub rule_kind: String,
    pub rule: String,
    pub user_name: Option<String>,
    pub requests: i64,
}

/// Rows per `INSERT`: 100 × 6 parameters stays under SQLite's oldest limit of 999.
const ROWS_PER_INSERT: usize = 100;

impl Tx {
    /// Appends counts.
    pub async fn insert_shadow_refusals(&mut self, rows: &[ShadowRefusalRow]) -> Result<(), StoreError> {
        for chunk in rows.chunks(ROWS_PER_INSERT) {
            let placeholders: Vec<String> = (0..chunk.len())
                .map(|row| {
                    let numbers: Vec<String> = (1..=6).map(|column| format!("${}", row * 6 + column)).collect();
                    format!("({})", numbers.join(", "))
                })
                .collect();
            let sql = format!(
                "INSERT INTO shadow_refusals (bucket_start, gateway, rule_kind, rule, user_name, requests) VALUES {}",
                placeholders.join(", ")
            );
            let mut query = sqlx::query(&sql);
            for row in chunk {
                query = query
                    .bind(row.bucket_start)
                    .bind(row.gateway.clone())
                    .bind(row.rule_kind.clone())
                    .bind(row.rule.clone())
                    .bind(row.user_name.clone())
                    .bind(row.requests);
            }
            query.execute(&mut *self.inner).await?;
        }
        Ok(())
    }

    /// Would-be refusals from `since` (Unix seconds) on, summed by rule kind, rule and user, most first.
    pub async fn shadow_refusals_since(
        &mut self,
        since: i64,
    ) -> Result<Vec<(String, String, Option<String>, i64)>, StoreError> {
        let rows = sqlx::query(
            "SELECT rule_kind, rule, user_name, CAST(SUM(requests) AS BIGINT) AS total FROM shadow_refusals \
             WHERE bucket_start >= $1 GROUP BY rule_kind, rule, user_name ORDER BY total DESC, rule_kind, rule, user_name",
        )
        .bind(since)
        .fetch_all(&mut *self.inner)
        .await?;
        rows.iter()
            .map(|row| Ok((row.try_get(0)?, row.try_get(1)?, row.try_get(2)?, row.try_get(3)?)))
            .collect()
    }

    /// Deletes counts older than `before` (Unix seconds); returns how many rows went.
    pub async fn delete_shadow_refusals_before(&mut self, before: i64) -> Result<u64, StoreError> {
        let done = sqlx::query("DELETE FROM shadow_refusals WHERE bucket_start < $1")
            .bind(before)
            .execute(&mut *self.inner)
            .await?;
        Ok(done.rows_affected())
    }
}
