//! Tests of the rule both stores share: rate and quota together, and what a decision reports.

use std::time::SystemTime;

use super::*;
use crate::limit::QuotaPeriod;
use crate::limit::test_support::{at_ms, describe, plan, quota, rate, utc};
use crate::limit::unix_micros;

/// Runs requests at `instants` through `decide`, threading the state as a store would, and checks
/// each decision's one-line description.
fn check(limits: &PlanLimits, instants: &[SystemTime], expected: &[&str]) -> KeyState {
    let mut state = KeyState::default();
    let mut actual = Vec::new();
    for &now in instants {
        let outcome = decide(limits, &state, unix_micros(now));
        assert!(
            outcome.next.is_none() || outcome.decision.allowed,
            "only an allowed request is stored"
        );
        if let Some(next) = outcome.next {
            state = next;
        }
        actual.push(describe(&outcome.decision));
    }
    assert_eq!(actual, expected);
    state
}

#[test]
fn rate_limit_reports_remaining_and_reset() {
    let gold = plan("gold", rate(3, 60), None);
    check(
        &gold,
        &[at_ms(0), at_ms(0), at_ms(0), at_ms(0), at_ms(20_000)],
        &[
            "+ rate 2/3 t=20s",
            "+ rate 1/3 t=40s",
            "+ rate 0/3 t=60s",
            "- rate 0/3 t=60s retry=20s",
            "+ rate 0/3 t=60s",
        ],
    );
}

#[test]
fn a_request_refused_by_the_rate_is_not_counted_by_the_quota() {
    let gold = plan("gold", rate(2, 60), quota(10, QuotaPeriod::Day));
    let state = check(
        &gold,
        &[at_ms(0), at_ms(0), at_ms(0)],
        &["+ rate 1/2 t=30s", "+ rate 0/2 t=60s", "- rate 0/2 t=60s retry=30s"],
    );
    assert_eq!(state.quota_used, 2);
}

#[test]
fn a_request_refused_by_the_quota_is_not_counted_by_the_rate() {
    let gold = plan("gold", rate(10, 60), quota(2, QuotaPeriod::Day));
    let state = check(
        &gold,
        &[at_ms(0), at_ms(0), at_ms(0)],
        &[
            "+ quota 1/2 t=39600s",
            "+ quota 0/2 t=39600s",
            "- quota 0/2 t=39600s retry=39600s",
        ],
    );
    assert_eq!(state.tat_us, unix_micros(at_ms(12_000)), "two requests at 6 s each");
}

#[test]
fn when_both_refuse_the_later_wait_is_reported() {
    let gold = plan("gold", rate(1, 60), quota(1, QuotaPeriod::Day));
    // At 13:00 the day's end is further than the rate's next slot.
    check(
        &gold,
        &[at_ms(0), at_ms(1_000)],
        &["+ rate 0/1 t=60s", "- quota 0/1 t=39599s retry=39599s"],
    );
    // Ten seconds before midnight, the rate's next slot is further.
    let late = utc(2026, 11, 25, 23, 59, 50);
    check(
        &gold,
        &[late, late],
        &["+ rate 0/1 t=60s", "- rate 0/1 t=60s retry=60s"],
    );
}

#[test]
fn an_allowed_request_reports_the_limit_with_fewer_left() {
    let gold = plan("gold", rate(100, 60), quota(3, QuotaPeriod::Day));
    check(&gold, &[at_ms(0)], &["+ quota 2/3 t=39600s"]);
    let silver = plan("silver", rate(2, 60), quota(3, QuotaPeriod::Day));
    check(
        &silver,
        &[at_ms(0), at_ms(0)],
        &["+ rate 1/2 t=30s", "+ rate 0/2 t=60s"],
    );
}

#[test]
fn the_quota_starts_again_at_midnight_utc() {
    let free = plan("free", None, quota(2, QuotaPeriod::Day));
    check(
        &free,
        &[
            utc(2026, 11, 25, 23, 0, 0),
            utc(2026, 11, 25, 23, 30, 0),
            utc(2026, 11, 25, 23, 59, 59),
            utc(2026, 11, 26, 0, 0, 0),
        ],
        &[
            "+ quota 1/2 t=3600s",
            "+ quota 0/2 t=1800s",
            "- quota 0/2 t=1s retry=1s",
            "+ quota 1/2 t=86400s",
        ],
    );
}

#[test]
fn the_monthly_quota_starts_again_on_the_first() {
    let free = plan("free", None, quota(1, QuotaPeriod::Month));
    check(
        &free,
        &[
            utc(2026, 11, 30, 12, 0, 0),
            utc(2026, 11, 30, 23, 59, 59),
            utc(2026, 12, 1, 0, 0, 0),
        ],
        &[
            "+ quota 0/1 t=43200s",
            "- quota 0/1 t=1s retry=1s",
            "+ quota 0/1 t=2678400s",
        ],
    );
}

#[test]
fn a_plan_without_limits_counts_nothing() {
    check(&plan("open", None, None), &[at_ms(0), at_ms(0)], &["+", "+"]);
}
