use chrono::{DateTime, Utc};
use gateway::telemetry::N_LATENCY_BUCKETS;

use super::{MAX_PROBLEMS, UsageReport, UsageSummary, check_report, percentile};

fn histogram(filled: &[(usize, u64)]) -> [u64; N_LATENCY_BUCKETS] {
    let mut buckets = [0; N_LATENCY_BUCKETS];
    for &(bucket, count) in filled {
        buckets[bucket] = count;
    }
    buckets
}

#[test]
fn a_percentile_is_interpolated_within_the_bucket_it_falls_in() {
    // 100 requests: 50 at most 1 ms, 40 in (1, 2], 10 in (5, 10].
    let buckets = histogram(&[(0, 50), (1, 40), (3, 10)]);
    for (quantile, expected) in [(0.25, 0.5), (0.5, 1.0), (0.7, 1.5), (0.95, 7.5), (1.0, 10.0)] {
        let found = percentile(&buckets, quantile).unwrap();
        assert!((found - expected).abs() < 1e-9, "p{quantile}: {found}, not {expected}");
    }
}

#[test]
fn percentiles_never_fall_as_the_quantile_rises() {
    let buckets = histogram(&[(2, 3), (5, 1), (9, 7), (13, 2)]);
    let mut previous = 0.0;
    for step in 0..=100 {
        let found = percentile(&buckets, step as f64 / 100.0).unwrap();
        assert!(found >= previous, "p{step}: {found} < {previous}");
        previous = found;
    }
}

#[test]
fn the_open_bucket_gives_its_lower_bound_and_no_requests_give_none() {
    assert_eq!(percentile(&histogram(&[(13, 5)]), 0.99), Some(10_000.0));
    assert_eq!(percentile(&histogram(&[]), 0.5), None);
}

fn summary(minute: &str) -> UsageSummary {
    UsageSummary {
        minute: minute.parse().unwrap(),
        api: "pets".into(),
        version: Some("v1".into()),
        user: Some("alice".into()),
        application: Some("alice/app".into()),
        key: Some("key_1".into()),
        status_class: "2xx".into(),
        requests: 3,
        latency_ms_buckets: histogram(&[(0, 2), (4, 1)]).to_vec(),
    }
}

fn fields(report: &UsageReport, now: DateTime<Utc>) -> Vec<String> {
    match check_report(report, now) {
        Ok(()) => Vec::new(),
        Err(problems) => problems.into_iter().map(|problem| problem.field).collect(),
    }
}

#[test]
fn each_bad_field_of_a_report_is_named() {
    let now: DateTime<Utc> = "2026-12-02T12:00:30Z".parse().unwrap();
    let good = summary("2026-12-02T11:59:00Z");
    let mut report = UsageReport {
        instance: "gw-1".into(),
        shadow_refusals: Vec::new(),
        summaries: vec![good.clone()],
    };
    assert_eq!(fields(&report, now), Vec::<String>::new());

    let mut off_minute = summary("2026-12-02T11:59:01Z");
    off_minute.status_class = "2XX".into();
    let mut ahead = summary("2026-12-02T13:00:00Z");
    ahead.requests = 4;
    let mut short = good.clone();
    short.latency_ms_buckets.pop();
    short.user = Some(String::new());
    let mut control = good.clone();
    control.api = "pe\u{0}ts".into();
    report.summaries = vec![good, off_minute, ahead, short, control];
    assert_eq!(
        fields(&report, now),
        [
            "summaries[1].minute",
            "summaries[1].status_class",
            "summaries[2].minute",
            "summaries[2].requests",
            "summaries[3].user",
            "summaries[3].latency_ms_buckets",
            "summaries[4].api",
        ]
    );
}

#[test]
fn a_report_of_nothing_but_problems_names_a_bounded_number() {
    let now: DateTime<Utc> = "2026-12-02T12:00:30Z".parse().unwrap();
    let mut bad = summary("2026-12-02T11:59:00Z");
    bad.status_class = "9xx".into();
    let report = UsageReport {
        instance: "gw-1".into(),
        shadow_refusals: Vec::new(),
        summaries: vec![bad; 500],
    };
    let named = fields(&report, now);
    assert_eq!(named.len(), MAX_PROBLEMS + 1);
    assert_eq!(named.last().map(String::as_str), Some("summaries"));
}
