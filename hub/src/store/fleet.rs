//! Queries over `gateway_status`: the last report of each gateway.

use sqlx::Row;

use super::{StoreError, Tx};

/// A gateway's last report, as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusRow {
    pub gateway: String,
    pub instance: String,
    pub version: String,
    pub started_at: i64,
    pub applied_revision: Option<i64>,
    pub last_error_revision: Option<i64>,
    pub last_error: Option<String>,
    pub requests: i64,
    pub refusals: i64,
    pub last_seen: i64,
    /// The listener's certificates, JSON as the domain writes it.
    pub certificates: String,
}

const COLUMNS: &str = "gateway, instance, version, started_at, applied_revision, last_error_revision, last_error, requests, refusals, last_seen, certificates";

impl Tx {
    /// Records a report, replacing the gateway's previous one.
    pub async fn upsert_gateway_status(&mut self, status: &StatusRow) -> Result<(), StoreError> {
        let sql = format!(
            "INSERT INTO gateway_status ({COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) \
             ON CONFLICT (gateway) DO UPDATE SET instance = $2, version = $3, started_at = $4, applied_revision = $5, \
             last_error_revision = $6, last_error = $7, requests = $8, refusals = $9, last_seen = $10, certificates = $11"
        );
        sqlx::query(&sql)
            .bind(&status.gateway)
            .bind(&status.instance)
            .bind(&status.version)
            .bind(status.started_at)
            .bind(status.applied_revision)
            .bind(status.last_error_revision)
            .bind(status.last_error.as_deref())
            .bind(status.requests)
            .bind(status.refusals)
            .bind(status.last_seen)
            .bind(&status.certificates)
            .execute(&mut *self.inner)
            .await?;
        Ok(())
    }

    /// Every gateway's last report.
    pub async fn gateway_statuses(&mut self) -> Result<Vec<StatusRow>, StoreError> {
        let rows = sqlx::query(&format!("SELECT {COLUMNS} FROM gateway_status ORDER BY gateway"))
            .fetch_all(&mut *self.inner)
            .await?;
        rows.iter()
            .map(|row| {
                Ok(StatusRow {
                    gateway: row.try_get(0)?,
                    instance: row.try_get(1)?,
                    version: row.try_get(2)?,
                    started_at: row.try_get(3)?,
                    applied_revision: row.try_get(4)?,
                    last_error_revision: row.try_get(5)?,
                    last_error: row.try_get(6)?,
                    requests: row.try_get(7)?,
                    refusals: row.try_get(8)?,
                    last_seen: row.try_get(9)?,
                    certificates: row.try_get(10)?,
                })
            })
            .collect()
    }
}
