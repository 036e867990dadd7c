//! Usage analytics: the summaries gateways report ([`ingest`]), what the dashboard and the
//! portal read of them ([`series`], [`top`], [`last_used`]), and their upkeep ([`maintain`]):
//! minute rows merged into hour rows past the rollup age, and everything deleted past the
//! retention. Rows are appended as they come and summed when read, so a gateway's report never
//! waits on another's. Latency percentiles come from the merged histograms, interpolated within
//! their bucket (`gateway::telemetry::LATENCY_BUCKETS_MS`, the gateway's contract).

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::time::Duration;

use chrono::{DateTime, Utc};
use gateway::telemetry::{LATENCY_BUCKETS_MS, N_LATENCY_BUCKETS, STATUS_CLASSES};
use serde::Deserialize;
use utoipa::ToSchema;

use crate::error::HubError;
use crate::store::{Store, UsageColumn, UsageFilter, UsageRow};
use crate::validate::{Checker, FieldError, MAX_SHORT_TEXT_LEN};

/// Summaries one report may hold.
pub const MAX_SUMMARIES_PER_REPORT: usize = 10_000;
/// Points one series may hold.
pub const MAX_POINTS: u64 = 10_000;
/// How far ahead of the hub's clock a summary's minute may be (clocks drift).
pub const MAX_CLOCK_SKEW_SECONDS: i64 = 300;
/// A minute row's length.
pub const MINUTE_SECONDS: i64 = 60;
/// An hour row's length.
pub const HOUR_SECONDS: i64 = 3600;
/// Problems a refused report names at most; the rest are summed up in one more.
const MAX_PROBLEMS: usize = 20;

/// What a gateway reports about its traffic (`POST /api/v1/gateway/usage`).
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UsageReport {
    /// The gateway process (`<host>-<pid>`), as in its status reports.
    pub instance: String,
    /// At most 10,000.
    pub summaries: Vec<UsageSummary>,
    /// What shadowed access policies and plans would have refused, per minute, rule and user.
    #[serde(default)]
    pub shadow_refusals: Vec<super::shadow::ShadowRefusalSummary>,
}

/// The requests of one minute with one API, version, user, application, key and status class.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UsageSummary {
    /// The start of the minute counted (seconds zero), not ahead of the hub's clock.
    pub minute: DateTime<Utc>,
    /// The API's name.
    pub api: String,
    /// The API version's name; absent for an API without versions.
    #[serde(default)]
    pub version: Option<String>,
    /// The user who called; absent for a request refused before authentication.
    #[serde(default)]
    pub user: Option<String>,
    /// The API key's application (`owner/name`); absent for a JWT or no credentials.
    #[serde(default)]
    pub application: Option<String>,
    /// The API key's id; absent for a JWT or no credentials.
    #[serde(default)]
    pub key: Option<String>,
    /// `1xx`, `2xx`, `3xx`, `4xx` or `5xx`.
    #[schema(example = "2xx")]
    pub status_class: String,
    /// Requests counted: the sum of `latency_ms_buckets`.
    pub requests: u64,
    /// Requests by time in the gateway, in milliseconds: at most 1, 2, 5, 10, 25, 50, 100,
    /// 250, 500, 1000, 2500, 5000, 10000, and more (14 counts).
    pub latency_ms_buckets: Vec<u64>,
}

/// Checks a gateway's report and stores it, all or nothing. A refused report names each
/// field at fault (`summaries[3].status_class`) and stores nothing.
pub async fn ingest(store: &Store, gateway: &str, report: UsageReport, now: DateTime<Utc>) -> Result<(), HubError> {
    check_report(&report, now).map_err(HubError::Invalid)?;
    let shadow_rows = super::shadow::rows(gateway, &report.shadow_refusals, now).map_err(HubError::Invalid)?;
    let rows: Vec<UsageRow> = report
        .summaries
        .into_iter()
        .filter(|summary| summary.requests > 0)
        .map(|summary| UsageRow {
            bucket_start: summary.minute.timestamp(),
            bucket_seconds: MINUTE_SECONDS,
            gateway: gateway.to_owned(),
            api: summary.api,
            version: summary.version,
            user_name: summary.user,
            application: summary.application,
            api_key: summary.key,
            status_class: summary.status_class,
            requests: summary.requests as i64,
            latency_ms_buckets: summary.latency_ms_buckets,
        })
        .collect();
    if rows.is_empty() && shadow_rows.is_empty() {
        return Ok(());
    }
    let mut tx = store.begin().await?;
    tx.insert_usage(&rows).await?;
    tx.insert_shadow_refusals(&shadow_rows).await?;
    tx.commit().await?;
    Ok(())
}

/// What [`series`] sums: the requests of an API, a user or an application (or of everything,
/// where a filter is `None`), in steps of `step_seconds` from `since` to `until`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UsageQuery {
    pub api: Option<String>,
    pub user: Option<String>,
    pub application: Option<String>,
    /// The first point's start (whole seconds).
    pub since: DateTime<Utc>,
    /// The end, excluded: the last point is the one that starts before it.
    pub until: DateTime<Utc>,
    /// Each point's length: at least 60, the finest rows' minute.
    pub step_seconds: u32,
}

/// One step of a series. A row counts in the point its minute (or, once rolled up, its hour)
/// starts in, so with steps shorter than an hour, older hours fall whole in their first step.
#[derive(Debug, Clone, PartialEq)]
pub struct UsagePoint {
    pub start: DateTime<Utc>,
    pub requests: u64,
    /// Requests by status class: 1xx, 2xx, 3xx, 4xx, 5xx.
    pub by_class: [u64; 5],
    /// 4xx and 5xx.
    pub errors: u64,
    /// Latency percentiles, in milliseconds; `None` without requests.
    pub p50_ms: Option<f64>,
    pub p95_ms: Option<f64>,
    pub p99_ms: Option<f64>,
}

/// The series `query` asks for: one point per step from `since` to `until`, steps without
/// requests included (as zero).
pub async fn series(store: &Store, query: &UsageQuery) -> Result<Vec<UsagePoint>, HubError> {
    let (since, until, step) = (
        query.since.timestamp(),
        query.until.timestamp(),
        i64::from(query.step_seconds),
    );
    if until <= since {
        return Err(HubError::invalid("until", "must be after `since`"));
    }
    if step < MINUTE_SECONDS {
        return Err(HubError::invalid(
            "step_seconds",
            "must be at least 60: usage is kept by the minute",
        ));
    }
    let n_points = (until - since + step - 1) / step;
    if n_points as u64 > MAX_POINTS {
        return Err(HubError::invalid(
            "step_seconds",
            format!("makes {n_points} points from `since` to `until`; at most {MAX_POINTS}"),
        ));
    }
    let mut sums = vec![Sums::default(); n_points as usize];
    let filter = UsageFilter {
        since,
        until,
        api: query.api.clone(),
        user_name: query.user.clone(),
        application: query.application.clone(),
    };
    let mut tx = store.begin().await?;
    tx.for_each_usage(&filter, |row| {
        let index = ((row.bucket_start - since) / step) as usize;
        if let Some(sums) = sums.get_mut(index) {
            sums.add(&row);
        }
    })
    .await?;
    tx.commit().await?;
    Ok(sums
        .into_iter()
        .enumerate()
        .map(|(index, sums)| {
            let start = DateTime::from_timestamp(since + index as i64 * step, 0).unwrap_or_default();
            sums.point(start)
        })
        .collect())
}

/// What usage is totalled, or last seen, by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UsageDimension {
    Api,
    User,
    /// Applications, as `owner/name`.
    Application,
    /// API keys, by id.
    Key,
}

/// One API's, user's, application's or key's requests in a time range.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UsageTotal {
    pub name: String,
    pub requests: u64,
    /// 4xx and 5xx.
    pub errors: u64,
}

/// The `limit` APIs, users, applications or keys with the most requests whose minute (or hour)
/// starts in `[since, until)`, the most first (ties by name). Requests without a user,
/// application or key (refused before authentication, or by JWT) count for no one.
pub async fn top(
    store: &Store,
    by: UsageDimension,
    since: DateTime<Utc>,
    until: DateTime<Utc>,
    limit: usize,
) -> Result<Vec<UsageTotal>, HubError> {
    if limit == 0 {
        return Ok(Vec::new());
    }
    let mut tx = store.begin().await?;
    let totals = tx
        .usage_totals(
            column(by),
            since.timestamp(),
            until.timestamp(),
            i64::try_from(limit).unwrap_or(i64::MAX),
        )
        .await?;
    tx.commit().await?;
    Ok(totals
        .into_iter()
        .map(|(name, requests, errors)| UsageTotal {
            name,
            requests: requests.max(0) as u64,
            errors: errors.max(0) as u64,
        })
        .collect())
}

/// When each application or key (or API, or user) was last used, as far as the usage kept
/// tells: the start of the latest minute with a request (of the hour, once rolled up). Those
/// never used within the retention are absent. The gateway's admin port knows the second
/// (`/keys/last-used`), but only since its start; this outlives restarts and covers every gateway.
pub async fn last_used(store: &Store, by: UsageDimension) -> Result<HashMap<String, DateTime<Utc>>, HubError> {
    let mut tx = store.begin().await?;
    let seen = tx.usage_last_seen(column(by)).await?;
    tx.commit().await?;
    Ok(seen
        .into_iter()
        .filter_map(|(name, seconds)| Some((name, DateTime::from_timestamp(seconds, 0)?)))
        .collect())
}

/// The applications (`owner/name`) that called each API version (`None` for an API without
/// versions) with a request whose minute (or hour) starts in `[since, until)`: of one API, or of
/// every API. Calls by JWT carry no application and count for none.
pub async fn callers(
    store: &Store,
    api: Option<&str>,
    since: DateTime<Utc>,
    until: DateTime<Utc>,
) -> Result<BTreeMap<(String, Option<String>), BTreeSet<String>>, HubError> {
    let mut tx = store.begin().await?;
    let rows = tx.usage_applications(since.timestamp(), until.timestamp(), api).await?;
    tx.commit().await?;
    let mut callers: BTreeMap<(String, Option<String>), BTreeSet<String>> = BTreeMap::new();
    for (api, version, application) in rows {
        callers.entry((api, version)).or_default().insert(application);
    }
    Ok(callers)
}

/// How long usage is kept, and how long at the minute.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UsageSettings {
    /// Minute rows older than this are merged into hour rows.
    pub rollup_after: Duration,
    /// Rows older than this are deleted.
    pub retention: Duration,
}

impl Default for UsageSettings {
    fn default() -> Self {
        UsageSettings {
            rollup_after: Duration::from_secs(48 * 3600),
            retention: Duration::from_secs(30 * 24 * 3600),
        }
    }
}

/// What one [`maintain`] did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Maintained {
    /// Minute rows merged into hour rows.
    pub minute_rows_rolled_up: u64,
    /// Hour rows written for them.
    pub hour_rows_written: u64,
    /// Rows deleted as older than the retention.
    pub rows_deleted: u64,
}

/// Deletes the rows older than the retention, then merges the minute rows of every whole hour
/// older than the rollup age into one hour row per gateway, API, version, user, application, key
/// and status class: the merged rows are inserted and the minute rows deleted in one transaction,
/// so the totals never change. Safe to run from several hub replicas at once.
pub async fn maintain(store: &Store, now: DateTime<Utc>, settings: &UsageSettings) -> Result<Maintained, HubError> {
    let seconds = |duration: Duration| i64::try_from(duration.as_secs()).unwrap_or(i64::MAX);
    let now = now.timestamp();
    let mut tx = store.begin().await?;
    let rows_deleted = tx
        .delete_usage_before(now.saturating_sub(seconds(settings.retention)))
        .await?;
    tx.delete_shadow_refusals_before(now.saturating_sub(seconds(settings.retention)))
        .await?;
    tx.commit().await?;

    // Whole hours only, so an hour is never half minutes and half rolled up.
    let rollup_before = now.saturating_sub(seconds(settings.rollup_after));
    let rollup_before = rollup_before - rollup_before.rem_euclid(HOUR_SECONDS);
    let mut hours: HashMap<HourKey, (i64, [u64; N_LATENCY_BUCKETS])> = HashMap::new();
    let mut tx = store.begin().await?;
    let minute_rows_rolled_up = tx
        .take_minute_usage(rollup_before, |row| {
            let hour = row.bucket_start - row.bucket_start.rem_euclid(HOUR_SECONDS);
            let key = (
                hour,
                row.gateway,
                row.api,
                row.version,
                row.user_name,
                row.application,
                row.api_key,
                row.status_class,
            );
            let (requests, buckets) = hours.entry(key).or_insert((0, [0; N_LATENCY_BUCKETS]));
            *requests = requests.saturating_add(row.requests);
            for (sum, count) in buckets.iter_mut().zip(row.latency_ms_buckets) {
                *sum += count;
            }
        })
        .await?;
    let merged: Vec<UsageRow> = hours
        .into_iter()
        .map(
            |((hour, gateway, api, version, user_name, application, api_key, status_class), (requests, buckets))| {
                UsageRow {
                    bucket_start: hour,
                    bucket_seconds: HOUR_SECONDS,
                    gateway,
                    api,
                    version,
                    user_name,
                    application,
                    api_key,
                    status_class,
                    requests,
                    latency_ms_buckets: buckets.to_vec(),
                }
            },
        )
        .collect();
    tx.insert_usage(&merged).await?;
    tx.commit().await?;
    Ok(Maintained {
        minute_rows_rolled_up,
        hour_rows_written: merged.len() as u64,
        rows_deleted,
    })
}

/// The latency, in milliseconds, below which a fraction `quantile` of a histogram's requests
/// fall, interpolated linearly within the bucket it lands in (from 0 for the first); the
/// open-ended last bucket gives its lower bound. `None` for an empty histogram.
pub fn percentile(buckets: &[u64; N_LATENCY_BUCKETS], quantile: f64) -> Option<f64> {
    let total: u64 = buckets.iter().sum();
    if total == 0 {
        return None;
    }
    let rank = quantile.clamp(0.0, 1.0) * total as f64;
    let mut below = 0u64;
    for (index, &count) in buckets.iter().enumerate() {
        if count == 0 {
            continue;
        }
        let lower = index
            .checked_sub(1)
            .map_or(0.0, |previous| LATENCY_BUCKETS_MS[previous] as f64);
        let Some(&upper) = LATENCY_BUCKETS_MS.get(index) else {
            return Some(lower);
        };
        if (below + count) as f64 >= rank {
            let fraction = (rank - below as f64) / count as f64;
            return Some(lower + fraction.clamp(0.0, 1.0) * (upper as f64 - lower));
        }
        below += count;
    }
    Some(LATENCY_BUCKETS_MS[LATENCY_BUCKETS_MS.len() - 1] as f64)
}

type HourKey = (
    i64,
    String,
    String,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
    String,
);

/// One point's sums while the rows are read.
#[derive(Debug, Clone, Default)]
struct Sums {
    by_class: [u64; 5],
    buckets: [u64; N_LATENCY_BUCKETS],
}

impl Sums {
    fn add(&mut self, row: &UsageRow) {
        if let Some(class) = STATUS_CLASSES.iter().position(|class| *class == row.status_class) {
            self.by_class[class] += row.requests.max(0) as u64;
        }
        for (sum, count) in self.buckets.iter_mut().zip(&row.latency_ms_buckets) {
            *sum += count;
        }
    }

    fn point(self, start: DateTime<Utc>) -> UsagePoint {
        UsagePoint {
            start,
            requests: self.by_class.iter().sum(),
            by_class: self.by_class,
            errors: self.by_class[3] + self.by_class[4],
            p50_ms: percentile(&self.buckets, 0.50),
            p95_ms: percentile(&self.buckets, 0.95),
            p99_ms: percentile(&self.buckets, 0.99),
        }
    }
}

fn column(by: UsageDimension) -> UsageColumn {
    match by {
        UsageDimension::Api => UsageColumn::Api,
        UsageDimension::User => UsageColumn::UserName,
        UsageDimension::Application => UsageColumn::Application,
        UsageDimension::Key => UsageColumn::ApiKey,
    }
}

/// Every problem of a report, each naming its field; at most [`MAX_PROBLEMS`] and one more
/// saying how many summaries were not checked.
fn check_report(report: &UsageReport, now: DateTime<Utc>) -> Result<(), Vec<FieldError>> {
    let mut checker = Checker::new();
    checker.text("instance", &report.instance, MAX_SHORT_TEXT_LEN);
    checker.ensure(!report.instance.is_empty(), "instance", "must not be empty");
    checker.ensure(
        report.summaries.len() <= MAX_SUMMARIES_PER_REPORT,
        "summaries",
        format!("must hold at most {MAX_SUMMARIES_PER_REPORT} summaries"),
    );
    let mut problems = checker.finish().err().unwrap_or_default();
    if !problems.is_empty() {
        return Err(problems);
    }
    for (index, summary) in report.summaries.iter().enumerate() {
        if problems.len() >= MAX_PROBLEMS {
            problems.push(FieldError::new(
                "summaries",
                format!("{} more summaries were not checked", report.summaries.len() - index),
            ));
            break;
        }
        if let Err(mut found) = check_summary(&format!("summaries[{index}]"), summary, now) {
            problems.append(&mut found);
        }
    }
    if problems.is_empty() { Ok(()) } else { Err(problems) }
}

fn check_summary(field: &str, summary: &UsageSummary, now: DateTime<Utc>) -> Result<(), Vec<FieldError>> {
    let mut checker = Checker::new();
    let minute = summary.minute;
    checker.ensure(
        minute.timestamp().rem_euclid(MINUTE_SECONDS) == 0 && minute.timestamp_subsec_nanos() == 0,
        format!("{field}.minute"),
        "must be the start of a minute (seconds zero)",
    );
    checker.ensure(
        minute.timestamp() <= now.timestamp() + MAX_CLOCK_SKEW_SECONDS,
        format!("{field}.minute"),
        "must not be ahead of the hub's clock",
    );
    checker.ensure(!summary.api.is_empty(), format!("{field}.api"), "must not be empty");
    checker.text(&format!("{field}.api"), &summary.api, MAX_SHORT_TEXT_LEN);
    for (name, value) in [
        ("version", &summary.version),
        ("user", &summary.user),
        ("application", &summary.application),
        ("key", &summary.key),
    ] {
        if let Some(value) = value {
            let name = format!("{field}.{name}");
            checker.ensure(!value.is_empty(), &name, "must not be empty: leave it out instead");
            checker.text(&name, value, MAX_SHORT_TEXT_LEN);
        }
    }
    checker.ensure(
        STATUS_CLASSES.contains(&summary.status_class.as_str()),
        format!("{field}.status_class"),
        "must be one of 1xx, 2xx, 3xx, 4xx, 5xx",
    );
    let buckets = &summary.latency_ms_buckets;
    if buckets.len() != N_LATENCY_BUCKETS {
        checker.push(
            format!("{field}.latency_ms_buckets"),
            format!(
                "must hold {N_LATENCY_BUCKETS} counts (at most {LATENCY_BUCKETS_MS:?} ms, and more), not {}",
                buckets.len()
            ),
        );
    } else {
        let in_buckets = buckets.iter().try_fold(0u64, |sum, count| sum.checked_add(*count));
        checker.ensure(
            in_buckets == Some(summary.requests) && i64::try_from(summary.requests).is_ok(),
            format!("{field}.requests"),
            "must be the sum of `latency_ms_buckets`",
        );
    }
    checker.finish()
}

#[cfg(test)]
mod tests;
