//! Tests of the response headers a decision writes.

use super::*;
use crate::limit::test_support::{plan, quota, rate};
use crate::limit::{MAX_REQUESTS, QuotaPeriod};

/// Writes a decision's headers for `limits` and checks them, as `name: value` lines in order.
fn check(limits: &PlanLimits, decision: Decision, expected: &[&str]) {
    let mut headers = HeaderMap::new();
    decision.write_headers(limits, &mut headers);
    let actual: Vec<String> = headers
        .iter()
        .map(|(name, value)| format!("{name}: {}", value.to_str().unwrap()))
        .collect();
    assert_eq!(actual, expected, "{decision:?}");
}

fn decision(
    allowed: bool,
    reported: LimitKind,
    remaining: u64,
    reset_ms: u64,
    retry_after_ms: Option<u64>,
) -> Decision {
    Decision {
        allowed,
        limit: 0,
        remaining,
        reset: Duration::from_millis(reset_ms),
        retry_after: retry_after_ms.map(Duration::from_millis),
        refusal: (!allowed).then_some(match reported {
            LimitKind::Rate => Refusal::Rate,
            LimitKind::Quota => Refusal::Quota,
        }),
        reported: Some(reported),
        failed_open: false,
    }
}

#[test]
fn allowed_response_carries_policy_and_state() {
    let gold = plan("gold", rate(100, 60), None);
    check(
        &gold,
        decision(true, LimitKind::Rate, 42, 17_000, None),
        &[
            r#"ratelimit-policy: "gold";q=100;w=60"#,
            r#"ratelimit: "gold";r=42;t=17"#,
        ],
    );
}

#[test]
fn refused_response_adds_retry_after_rounded_up() {
    let gold = plan("gold", rate(100, 60), quota(1_000, QuotaPeriod::Day));
    let policy = r#"ratelimit-policy: "gold";q=100;w=60, "gold/day";q=1000;w=86400"#;
    check(
        &gold,
        decision(false, LimitKind::Rate, 0, 59_400, Some(600)),
        &[policy, r#"ratelimit: "gold";r=0;t=60"#, "retry-after: 1"],
    );
    check(
        &gold,
        decision(false, LimitKind::Quota, 0, 3_600_000, Some(3_600_000)),
        &[policy, r#"ratelimit: "gold/day";r=0;t=3600"#, "retry-after: 3600"],
    );
    check(
        &gold,
        decision(false, LimitKind::Rate, 0, 20_000, Some(20_001)),
        &[policy, r#"ratelimit: "gold";r=0;t=20"#, "retry-after: 21"],
    );
}

#[test]
fn store_unavailable_reports_only_the_policy() {
    let gold = plan("gold", rate(100, 60), None);
    let policy = r#"ratelimit-policy: "gold";q=100;w=60"#;
    check(&gold, Decision::without_store(&gold, true), &[policy]);
    check(&gold, Decision::without_store(&gold, false), &[policy]);
    let closed = Decision::without_store(&gold, false);
    assert_eq!(
        (closed.allowed, closed.refusal),
        (false, Some(Refusal::StoreUnavailable))
    );
}

#[test]
fn unlimited_plan_has_no_headers() {
    check(&plan("open", None, None), Decision::unlimited(), &[]);
}

#[test]
fn longest_policy_name_fits_the_header_buffer() {
    let name = "\"".repeat(200);
    let limits = plan(&name, None, quota(MAX_REQUESTS, QuotaPeriod::Month));
    let mut decision = decision(true, LimitKind::Quota, u64::MAX, u64::MAX, None);
    decision.reset = Duration::MAX;
    let value = decision.ratelimit_header(&limits).unwrap();
    assert!(
        value
            .to_str()
            .unwrap()
            .ends_with(";r=18446744073709551615;t=18446744073709551615")
    );
}
