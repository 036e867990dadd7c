//! Queries over `usage_summaries`: the gateways' usage summaries, appended as they come and
//! summed when read; minute rows rolled up into hour rows, and old rows deleted. The latency
//! histogram is stored as a JSON array of counts (TEXT), read back here.

use futures_util::TryStreamExt as _;
use sqlx::Row;
use sqlx::any::AnyRow;

use super::{StoreError, Tx};

/// One stored summary: a gateway's requests of one bucket (a minute or an hour) with one API,
/// version, user, application, API key and status class.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UsageRow {
    /// Unix seconds.
    pub bucket_start: i64,
    /// 60 for a minute row, 3600 for an hour row.
    pub bucket_seconds: i64,
    pub gateway: String,
    pub api: String,
    pub version: Option<String>,
    pub user_name: Option<String>,
    pub application: Option<String>,
    pub api_key: Option<String>,
    pub status_class: String,
    pub requests: i64,
    /// Requests per latency bucket (`gateway::telemetry::LATENCY_BUCKETS_MS`, then the rest).
    pub latency_ms_buckets: Vec<u64>,
}

/// Which rows a read sums: `bucket_start` in `[since, until)`, and the given values.
#[derive(Debug, Clone, Default)]
pub struct UsageFilter {
    pub since: i64,
    pub until: i64,
    pub api: Option<String>,
    pub user_name: Option<String>,
    pub application: Option<String>,
}

/// A column usage is totalled or last seen by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UsageColumn {
    Api,
    UserName,
    Application,
    ApiKey,
}

impl UsageColumn {
    fn name(self) -> &'static str {
        match self {
            UsageColumn::Api => "api",
            UsageColumn::UserName => "user_name",
            UsageColumn::Application => "application",
            UsageColumn::ApiKey => "api_key",
        }
    }
}

const COLUMNS: &str = "bucket_start, bucket_seconds, gateway, api, version, user_name, application, api_key, status_class, requests, latency_ms_buckets";
const N_COLUMNS: usize = 11;
/// Rows per `INSERT`: 50 × 11 parameters stays under SQLite's oldest limit of 999.
const ROWS_PER_INSERT: usize = 50;

impl Tx {
    /// Appends summaries.
    pub async fn insert_usage(&mut self, rows: &[UsageRow]) -> Result<(), StoreError> {
        for chunk in rows.chunks(ROWS_PER_INSERT) {
            let placeholders: Vec<String> = (0..chunk.len())
                .map(|row| {
                    let numbers: Vec<String> = (1..=N_COLUMNS)
                        .map(|column| format!("${}", row * N_COLUMNS + column))
                        .collect();
                    format!("({})", numbers.join(", "))
                })
                .collect();
            let sql = format!(
                "INSERT INTO usage_summaries ({COLUMNS}) VALUES {}",
                placeholders.join(", ")
            );
            let mut query = sqlx::query(&sql);
            for row in chunk {
                let buckets = serde_json::to_string(&row.latency_ms_buckets).expect("numbers serialise");
                query = query
                    .bind(row.bucket_start)
                    .bind(row.bucket_seconds)
                    .bind(row.gateway.clone())
                    .bind(row.api.clone())
                    .bind(row.version.clone())
                    .bind(row.user_name.clone())
                    .bind(row.application.clone())
                    .bind(row.api_key.clone())
                    .bind(row.status_class.clone())
                    .bind(row.requests)
                    .bind(buckets);
            }
            query.execute(&mut *self.inner).await?;
        }
        Ok(())
    }

    /// Calls `each` with every row the filter selects, streamed rather than collected. Only the
    /// bucket, status class, requests and histogram are read; the other fields are left empty.
    pub async fn for_each_usage(
        &mut self,
        filter: &UsageFilter,
        mut each: impl FnMut(UsageRow),
    ) -> Result<(), StoreError> {
        let mut sql = String::from(
            "SELECT bucket_start, bucket_seconds, status_class, requests, latency_ms_buckets FROM usage_summaries \
             WHERE bucket_start >= $1 AND bucket_start < $2",
        );
        let mut values = Vec::new();
        for (column, value) in [
            ("api", &filter.api),
            ("user_name", &filter.user_name),
            ("application", &filter.application),
        ] {
            if let Some(value) = value {
                values.push(value.clone());
                sql.push_str(&format!(" AND {column} = ${}", values.len() + 2));
            }
        }
        let mut query = sqlx::query(&sql).bind(filter.since).bind(filter.until);
        for value in values {
            query = query.bind(value);
        }
        let mut rows = query.fetch(&mut *self.inner);
        while let Some(row) = rows.try_next().await? {
            each(UsageRow {
                bucket_start: row.try_get(0)?,
                bucket_seconds: row.try_get(1)?,
                status_class: row.try_get(2)?,
                requests: row.try_get(3)?,
                latency_ms_buckets: buckets(&row, 4)?,
                ..UsageRow::default()
            });
        }
        Ok(())
    }

    /// Requests and errors (4xx and 5xx) per value of `column`, for rows with a value whose
    /// bucket starts in `[since, until)`: the most requests first (then by value), at most `limit`.
    pub async fn usage_totals(
        &mut self,
        column: UsageColumn,
        since: i64,
        until: i64,
        limit: i64,
    ) -> Result<Vec<(String, i64, i64)>, StoreError> {
        let column = column.name();
        // Postgres sums BIGINT to NUMERIC, which the `Any` driver cannot decode: cast it back.
        let sql = format!(
            "SELECT {column}, CAST(SUM(requests) AS BIGINT), \
             CAST(SUM(CASE WHEN status_class IN ('4xx', '5xx') THEN requests ELSE 0 END) AS BIGINT) \
             FROM usage_summaries WHERE bucket_start >= $1 AND bucket_start < $2 AND {column} IS NOT NULL \
             GROUP BY {column} ORDER BY 2 DESC, 1 LIMIT $3"
        );
        let rows = sqlx::query(&sql)
            .bind(since)
            .bind(until)
            .bind(limit)
            .fetch_all(&mut *self.inner)
            .await?;
        rows.iter()
            .map(|row| Ok((row.try_get(0)?, row.try_get(1)?, row.try_get(2)?)))
            .collect()
    }

    /// The latest bucket start with a request, per value of `column`.
    pub async fn usage_last_seen(&mut self, column: UsageColumn) -> Result<Vec<(String, i64)>, StoreError> {
        let column = column.name();
        let sql = format!(
            "SELECT {column}, MAX(bucket_start) FROM usage_summaries WHERE {column} IS NOT NULL GROUP BY {column}"
        );
        let rows = sqlx::query(&sql).fetch_all(&mut *self.inner).await?;
        rows.iter().map(|row| Ok((row.try_get(0)?, row.try_get(1)?))).collect()
    }

    /// Each distinct API, version and application of the rows with an application whose bucket
    /// starts in `[since, until)`, of one API when given.
    pub async fn usage_applications(
        &mut self,
        since: i64,
        until: i64,
        api: Option<&str>,
    ) -> Result<Vec<(String, Option<String>, String)>, StoreError> {
        let mut sql = String::from(
            "SELECT DISTINCT api, version, application FROM usage_summaries \
             WHERE bucket_start >= $1 AND bucket_start < $2 AND application IS NOT NULL",
        );
        if api.is_some() {
            sql.push_str(" AND api = $3");
        }
        let mut query = sqlx::query(&sql).bind(since).bind(until);
        if let Some(api) = api {
            query = query.bind(api.to_owned());
        }
        let rows = query.fetch_all(&mut *self.inner).await?;
        rows.iter()
            .map(|row| Ok((row.try_get(0)?, row.try_get(1)?, row.try_get(2)?)))
            .collect()
    }

    /// Deletes the minute rows whose bucket starts before `before`, calling `each` with every
    /// row deleted: exactly those, even while gateways append.
    pub async fn take_minute_usage(&mut self, before: i64, mut each: impl FnMut(UsageRow)) -> Result<u64, StoreError> {
        // `bucket_seconds = 60` as a literal: the partial index `usage_summaries_minutes` needs it.
        let sql =
            format!("DELETE FROM usage_summaries WHERE bucket_seconds = 60 AND bucket_start < $1 RETURNING {COLUMNS}");
        let mut rows = sqlx::query(&sql).bind(before).fetch(&mut *self.inner);
        let mut taken = 0;
        while let Some(row) = rows.try_next().await? {
            each(UsageRow {
                bucket_start: row.try_get(0)?,
                bucket_seconds: row.try_get(1)?,
                gateway: row.try_get(2)?,
                api: row.try_get(3)?,
                version: row.try_get(4)?,
                user_name: row.try_get(5)?,
                application: row.try_get(6)?,
                api_key: row.try_get(7)?,
                status_class: row.try_get(8)?,
                requests: row.try_get(9)?,
                latency_ms_buckets: buckets(&row, 10)?,
            });
            taken += 1;
        }
        Ok(taken)
    }

    /// Deletes every row whose bucket starts before `before`; returns how many.
    pub async fn delete_usage_before(&mut self, before: i64) -> Result<u64, StoreError> {
        let done = sqlx::query("DELETE FROM usage_summaries WHERE bucket_start < $1")
            .bind(before)
            .execute(&mut *self.inner)
            .await?;
        Ok(done.rows_affected())
    }
}

impl Default for UsageRow {
    fn default() -> Self {
        UsageRow {
            bucket_start: 0,
            bucket_seconds: 60,
            gateway: String::new(),
            api: String::new(),
            version: None,
            user_name: None,
            application: None,
            api_key: None,
            status_class: String::new(),
            requests: 0,
            latency_ms_buckets: Vec::new(),
        }
    }
}

fn buckets(row: &AnyRow, index: usize) -> Result<Vec<u64>, StoreError> {
    let text: String = row.try_get(index)?;
    serde_json::from_str(&text).map_err(|error| StoreError::Corrupt(format!("usage latency buckets `{text}`: {error}")))
}
