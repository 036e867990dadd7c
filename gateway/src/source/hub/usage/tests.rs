use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use chrono::DateTime;

use super::{
    MAX_PENDING_SUMMARIES, MAX_SUMMARIES_PER_REPORT, Pending, Undelivered, UsageReport, UsageSink, first_tick,
    minute_of,
};
use crate::telemetry::{N_LATENCY_BUCKETS, UsageCounts};

/// A hub that answers each report with the next scripted outcome (then `Ok`), and keeps what it took.
#[derive(Clone, Default)]
struct ScriptedHub {
    outcomes: Arc<Mutex<VecDeque<Result<(), Undelivered>>>>,
    taken: Arc<Mutex<Vec<UsageReport>>>,
    offered: Arc<Mutex<usize>>,
}

impl ScriptedHub {
    fn answering(outcomes: impl IntoIterator<Item = Result<(), Undelivered>>) -> ScriptedHub {
        let hub = ScriptedHub::default();
        hub.outcomes.lock().unwrap().extend(outcomes);
        hub
    }

    /// Requests the hub took, per (minute second, key id, status class).
    fn taken(&self) -> Vec<(i64, Option<String>, &'static str, u64)> {
        let mut taken: Vec<_> = self
            .taken
            .lock()
            .unwrap()
            .iter()
            .flat_map(|report| report.summaries.clone())
            .map(|summary| {
                (
                    summary.minute.timestamp(),
                    summary.key,
                    summary.status_class,
                    summary.requests,
                )
            })
            .collect();
        taken.sort();
        taken
    }
}

impl UsageSink for ScriptedHub {
    async fn deliver(&self, report: &UsageReport) -> Result<(), Undelivered> {
        *self.offered.lock().unwrap() += 1;
        let outcome = self.outcomes.lock().unwrap().pop_front().unwrap_or(Ok(()));
        if outcome.is_ok() {
            self.taken.lock().unwrap().push(report.clone());
        }
        outcome
    }
}

fn counts(key: &str, status_class: &'static str, requests: u64) -> UsageCounts {
    let mut latency_ms_buckets = [0; N_LATENCY_BUCKETS];
    latency_ms_buckets[2] = requests;
    UsageCounts {
        api: "pets".into(),
        version: Some("v1".into()),
        user: Some("alice".into()),
        application: Some("alice/app".into()),
        key: Some(key.into()),
        status_class,
        latency_ms_buckets,
    }
}

fn minute(seconds: i64) -> DateTime<chrono::Utc> {
    DateTime::from_timestamp(seconds, 0).unwrap()
}

#[tokio::test]
async fn counts_the_hub_cannot_take_are_kept_and_merged_into_the_next_report() {
    let hub = ScriptedHub::answering([Err(Undelivered::Later("hub away".into()))]);
    let mut pending = Pending::new(hub.clone(), "gw-1".into());
    pending.add(minute(60), vec![counts("k1", "2xx", 3), counts("k1", "5xx", 1)]);
    pending.send().await;
    assert_eq!(hub.taken(), vec![], "the hub took nothing");

    pending.add(minute(60), vec![counts("k1", "2xx", 2)]);
    pending.add(minute(120), vec![counts("k2", "2xx", 4)]);
    pending.send().await;
    assert_eq!(
        hub.taken(),
        vec![
            (60, Some("k1".into()), "2xx", 5),
            (60, Some("k1".into()), "5xx", 1),
            (120, Some("k2".into()), "2xx", 4),
        ],
        "nothing lost, the same minute and key merged"
    );
    let reports = hub.taken.lock().unwrap().clone();
    assert_eq!(reports.len(), 1);
    assert_eq!(reports[0].instance, "gw-1");
    let summary = &reports[0].summaries[0];
    assert_eq!(summary.requests, summary.latency_ms_buckets.iter().sum::<u64>());

    pending.send().await;
    assert_eq!(
        *hub.offered.lock().unwrap(),
        2,
        "nothing is sent when nothing is pending"
    );
}

#[tokio::test]
async fn a_report_the_hub_refuses_is_dropped_and_the_rest_still_go() {
    let hub = ScriptedHub::answering([Err(Undelivered::Refused("summaries[0].api: bad".into()))]);
    let mut pending = Pending::new(hub.clone(), "gw-1".into());
    let many: Vec<_> = (0..MAX_SUMMARIES_PER_REPORT + 1)
        .map(|index| counts(&format!("k{index:05}"), "2xx", 1))
        .collect();
    pending.add(minute(60), many);
    pending.send().await;
    let reports = hub.taken.lock().unwrap().clone();
    assert_eq!(
        reports.iter().map(|report| report.summaries.len()).collect::<Vec<_>>(),
        vec![1],
        "the first report (of {MAX_SUMMARIES_PER_REPORT}) was refused, the second taken"
    );
    assert!(pending.summaries.is_empty());
}

#[tokio::test]
async fn past_the_cap_the_oldest_minutes_go_first() {
    let hub = ScriptedHub::default();
    let mut pending = Pending::new(hub.clone(), "gw-1".into());
    let per_minute = MAX_PENDING_SUMMARIES / 2;
    for minute_index in 1..=3 {
        let period: Vec<_> = (0..per_minute)
            .map(|index| counts(&format!("k{index}"), "2xx", 1))
            .collect();
        pending.add(minute(60 * minute_index), period);
    }
    assert_eq!(pending.summaries.len(), MAX_PENDING_SUMMARIES);
    let oldest = pending.summaries.keys().next().unwrap().0.timestamp();
    assert_eq!(oldest, 120, "the first minute was dropped");
}

#[test]
fn periods_start_on_multiples_of_the_interval_and_are_named_by_their_minute() {
    let at = |seconds: f64| UNIX_EPOCH + Duration::from_secs_f64(seconds);
    assert_eq!(minute_of(at(1_700_000_099.9)).timestamp(), 1_700_000_040);
    assert_eq!(minute_of(at(1_700_000_100.0)).timestamp(), 1_700_000_100);
    let now = SystemTime::now();
    let wait = first_tick(now, Duration::from_secs(60)) - std::time::Instant::now();
    let since_epoch = now.duration_since(UNIX_EPOCH).unwrap();
    let expected = Duration::from_secs(60) - Duration::from_nanos((since_epoch.as_nanos() % 60_000_000_000) as u64);
    assert!(
        wait <= expected && expected - wait < Duration::from_millis(100),
        "{wait:?} {expected:?}"
    );
}
