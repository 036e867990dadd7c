//! What a gateway tells its hub about its traffic (`POST /api/v1/gateway/usage`): every
//! `usage_interval`, [`report_usage`] drains the runtime's usage counts
//! (`telemetry::UsageAggregator`), labels them with the minute the period began in, and sends
//! them. Nothing is sent for a period without requests. Counts the hub could not take (it is
//! away, failing, or refuses the token) are kept and merged with the next period's, so an outage
//! loses nothing up to [`MAX_PENDING_SUMMARIES`]; past that the oldest minutes go first. A report
//! the hub refuses as invalid is dropped: sending it again cannot help. At shutdown the counts
//! left are sent once more.
//!
//! The body: `{instance, summaries: [{minute, api, version, user, application, key, status_class,
//! requests, latency_ms_buckets}]}`, documented field by field on [`UsageReport`] and
//! [`UsageSummary`], and in `docs/GATEWAY.md` (Usage summaries).

use std::collections::BTreeMap;
use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use chrono::{DateTime, Utc};
use serde::Serialize;
use tokio::sync::watch;

use crate::runtime::Runtime;
use crate::telemetry::{N_LATENCY_BUCKETS, ShadowKey, UsageCounts};

/// Summaries per report at most; more are sent in several reports.
pub const MAX_SUMMARIES_PER_REPORT: usize = 1000;
/// Summaries kept for a hub that does not take them, at most: about 200 bytes each.
pub const MAX_PENDING_SUMMARIES: usize = 50_000;
/// The longest the last report at shutdown may take.
const LAST_REPORT_TIMEOUT: Duration = Duration::from_secs(5);

/// The usage body, as the hub reads it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UsageReport {
    /// The gateway process, named as in its status reports (`<host>-<pid>`).
    pub instance: String,
    /// At most [`MAX_SUMMARIES_PER_REPORT`]; never empty.
    pub summaries: Vec<UsageSummary>,
    /// What shadowed rules would have refused, per minute, rule and user; left out when none.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub shadow_refusals: Vec<ShadowRefusalSummary>,
}

/// The requests of one minute that one shadowed access policy or plan would have refused to one user.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ShadowRefusalSummary {
    /// The start of the minute, as in [`UsageSummary::minute`].
    pub minute: DateTime<Utc>,
    /// `policy` or `plan`.
    pub rule_kind: &'static str,
    /// The access policy's or plan's name.
    pub rule: String,
    /// The user refused; `null` for a caller without one.
    pub user: Option<String>,
    /// Would-be refusals counted.
    pub requests: u64,
}

/// The requests of one minute with one API, version, user, application, key and status class.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UsageSummary {
    /// The start of the minute (UTC, RFC 3339, `2026-12-02T22:23:00Z`) in which the counting
    /// period began; periods start on a multiple of `usage_interval`, so with the default of a
    /// minute a summary holds exactly that minute.
    pub minute: DateTime<Utc>,
    /// The API's name.
    pub api: String,
    /// The API version's name; `null` for an API without versions, or a request no version was
    /// selected for.
    pub version: Option<String>,
    /// The user who called; `null` when the request was refused before it was authenticated.
    pub user: Option<String>,
    /// The API key's application (`owner/name`); `null` for a JWT, or no credentials.
    pub application: Option<String>,
    /// The API key's id; `null` for a JWT, or no credentials.
    pub key: Option<String>,
    /// `1xx`, `2xx`, `3xx`, `4xx` or `5xx`: of the response, refusals included.
    pub status_class: &'static str,
    /// Requests counted: the sum of `latency_ms_buckets`.
    pub requests: u64,
    /// Requests by the time they spent in the gateway (to the response's headers), in
    /// milliseconds: at most 1, 2, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, and
    /// more (`telemetry::LATENCY_BUCKETS_MS`).
    pub latency_ms_buckets: [u64; N_LATENCY_BUCKETS],
}

/// Where usage reports go: the hub over HTTP (`HubClient`), or, for the gateway inside the hub's
/// own process (`up`), the hub's store.
pub trait UsageSink: Send + Sync + 'static {
    /// Delivers one report.
    fn deliver(&self, report: &UsageReport) -> impl Future<Output = Result<(), Undelivered>> + Send;
}

/// Why a report was not delivered, which decides what becomes of its counts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Undelivered {
    /// The hub cannot take it now (away, failing, the token refused): the counts are kept and
    /// sent again with the next report.
    Later(String),
    /// The hub refused the report itself: sending it again cannot help, so its counts are dropped.
    Refused(String),
}

/// Reports the usage `runtime` counts to `sink` every `interval`, until `stop` turns true; then
/// reports what is left once more. Returns at once when the runtime counts no usage.
pub async fn report_usage(
    sink: impl UsageSink,
    runtime: Arc<Runtime>,
    instance: String,
    interval: Duration,
    mut stop: watch::Receiver<bool>,
) {
    let Some(usage) = runtime.telemetry.usage.as_ref() else {
        return;
    };
    let mut pending = Pending::new(sink, instance);
    let mut ticks = tokio::time::interval_at(first_tick(SystemTime::now(), interval).into(), interval);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    let mut period_start = SystemTime::now();
    loop {
        let last = tokio::select! {
            _ = ticks.tick() => false,
            _ = stop.wait_for(|stop| *stop) => true,
        };
        let now = SystemTime::now();
        pending.add(minute_of(period_start), usage.drain());
        if let Some(shadow_usage) = &runtime.telemetry.shadow_usage {
            pending.add_shadow(minute_of(period_start), shadow_usage.drain());
        }
        period_start = now;
        if last {
            if tokio::time::timeout(LAST_REPORT_TIMEOUT, pending.send()).await.is_err() {
                tracing::warn!("the last usage report did not reach the hub before shutdown");
            }
            return;
        }
        pending.send().await;
    }
}

/// When the first period ends: the next multiple of `interval` since the epoch, so that periods
/// of a minute are whole minutes (and shorter ones that divide a minute never straddle two).
fn first_tick(now: SystemTime, interval: Duration) -> Instant {
    let interval_nanos = interval.as_nanos().max(1);
    let since_epoch = now.duration_since(UNIX_EPOCH).unwrap_or_default().as_nanos();
    let wait = interval_nanos - since_epoch % interval_nanos;
    Instant::now() + Duration::from_nanos(u64::try_from(wait).unwrap_or(u64::MAX))
}

/// The start of the minute `time` falls in.
fn minute_of(time: SystemTime) -> DateTime<Utc> {
    let seconds = time.duration_since(UNIX_EPOCH).unwrap_or_default().as_secs() as i64;
    DateTime::from_timestamp(seconds - seconds % 60, 0).unwrap_or_default()
}

/// A summary's identity: its minute first, so that the oldest go first (to the hub, and when
/// over the cap).
type SummaryKey = (
    DateTime<Utc>,
    Arc<str>,
    Option<Arc<str>>,
    Option<Arc<str>>,
    Option<Arc<str>>,
    Option<Arc<str>>,
    &'static str,
);

/// Counts not yet delivered, merged by minute and key.
struct Pending<S> {
    sink: S,
    instance: String,
    summaries: BTreeMap<SummaryKey, [u64; N_LATENCY_BUCKETS]>,
    /// Would-be refusals of shadowed rules, sent with the first report of a round.
    shadow: BTreeMap<(DateTime<Utc>, ShadowKey), u64>,
    /// Whether the last delivery failed, so an outage is logged once.
    failing: bool,
}

impl<S: UsageSink> Pending<S> {
    fn new(sink: S, instance: String) -> Pending<S> {
        Pending {
            sink,
            instance,
            summaries: BTreeMap::new(),
            shadow: BTreeMap::new(),
            failing: false,
        }
    }

    /// Adds a period's counts, labelled with `minute`, and drops the oldest past the cap.
    fn add(&mut self, minute: DateTime<Utc>, counts: Vec<UsageCounts>) {
        for counts in counts {
            let key = (
                minute,
                counts.api,
                counts.version,
                counts.user,
                counts.application,
                counts.key,
                counts.status_class,
            );
            self.merge(key, counts.latency_ms_buckets);
        }
        let mut dropped = 0u64;
        while self.summaries.len() > MAX_PENDING_SUMMARIES {
            if let Some((_, buckets)) = self.summaries.pop_first() {
                dropped += buckets.iter().sum::<u64>();
            }
        }
        if dropped > 0 {
            tracing::warn!(
                dropped_requests = dropped,
                max_pending = MAX_PENDING_SUMMARIES,
                "the hub has not taken usage for long: the oldest minutes are dropped"
            );
        }
    }

    /// Adds a period's would-be refusals, labelled with `minute`. Few: one per shadowed rule and
    /// user refused, so they are not capped.
    fn add_shadow(&mut self, minute: DateTime<Utc>, counts: Vec<(ShadowKey, u64)>) {
        for (key, requests) in counts {
            *self.shadow.entry((minute, key)).or_default() += requests;
        }
    }

    fn merge(&mut self, key: SummaryKey, buckets: [u64; N_LATENCY_BUCKETS]) {
        let sums = self.summaries.entry(key).or_insert([0; N_LATENCY_BUCKETS]);
        for (sum, count) in sums.iter_mut().zip(buckets) {
            *sum += count;
        }
    }

    /// Sends every pending summary, oldest first, a report at a time; stops at the first
    /// report the hub cannot take now, keeping it and the rest for the next time.
    async fn send(&mut self) {
        while !self.summaries.is_empty() || !self.shadow.is_empty() {
            let shadow = std::mem::take(&mut self.shadow);
            let batch: Vec<(SummaryKey, [u64; N_LATENCY_BUCKETS])> = std::iter::from_fn(|| self.summaries.pop_first())
                .take(MAX_SUMMARIES_PER_REPORT)
                .collect();
            let report = UsageReport {
                instance: self.instance.clone(),
                summaries: batch.iter().map(summary).collect(),
                shadow_refusals: shadow.iter().map(shadow_summary).collect(),
            };
            match self.sink.deliver(&report).await {
                Ok(()) => {
                    if std::mem::take(&mut self.failing) {
                        tracing::info!("usage reports reach the hub again");
                    }
                }
                Err(Undelivered::Refused(reason)) => {
                    let requests: u64 = report.summaries.iter().map(|summary| summary.requests).sum();
                    tracing::error!(%reason, requests, "the hub refused a usage report; its counts are dropped");
                }
                Err(Undelivered::Later(reason)) => {
                    let n_pending = self.summaries.len() + batch.len();
                    for (key, buckets) in batch {
                        self.merge(key, buckets);
                    }
                    for (key, requests) in shadow {
                        *self.shadow.entry(key).or_default() += requests;
                    }
                    // Said once per outage, not every period.
                    if !std::mem::replace(&mut self.failing, true) {
                        tracing::warn!(%reason, n_pending, "could not report usage to the hub; keeping the counts");
                    } else {
                        tracing::debug!(%reason, n_pending, "could not report usage to the hub; keeping the counts");
                    }
                    return;
                }
            }
        }
    }
}

fn shadow_summary(
    ((minute, (kind, rule, user)), requests): (&(DateTime<Utc>, ShadowKey), &u64),
) -> ShadowRefusalSummary {
    ShadowRefusalSummary {
        minute: *minute,
        rule_kind: kind.as_str(),
        rule: rule.to_string(),
        user: user.as_deref().map(str::to_owned),
        requests: *requests,
    }
}

fn summary((key, buckets): &(SummaryKey, [u64; N_LATENCY_BUCKETS])) -> UsageSummary {
    let (minute, api, version, user, application, api_key, status_class) = key;
    let text = |value: &Option<Arc<str>>| value.as_deref().map(str::to_owned);
    UsageSummary {
        minute: *minute,
        api: api.to_string(),
        version: text(version),
        user: text(user),
        application: text(application),
        key: text(api_key),
        status_class,
        requests: buckets.iter().sum(),
        latency_ms_buckets: *buckets,
    }
}

#[cfg(test)]
mod tests;
