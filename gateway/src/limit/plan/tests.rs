//! Tests of plan validation and of the precomputed `RateLimit-Policy` value.

use super::*;
use crate::limit::test_support::{quota, rate};

/// Builds a plan and checks its `RateLimit-Policy` value (`None`: no header) or its error.
fn check(
    plan: &str,
    rate: Option<RateLimit>,
    quota: Option<QuotaLimit>,
    expected: Result<Option<&str>, PlanLimitsError>,
) {
    let actual = PlanLimits::new(plan, rate, quota)
        .map(|limits| limits.policy_header().map(|value| value.to_str().unwrap().to_owned()));
    assert_eq!(
        actual,
        expected.map(|value| value.map(str::to_owned)),
        "{plan:?} {rate:?} {quota:?}"
    );
}

#[test]
fn policy_header_names_each_limit_of_the_plan() {
    check("gold", rate(100, 60), None, Ok(Some(r#""gold";q=100;w=60"#)));
    check(
        "gold",
        rate(100, 60),
        quota(10_000, QuotaPeriod::Day),
        Ok(Some(r#""gold";q=100;w=60, "gold/day";q=10000;w=86400"#)),
    );
    check(
        "free",
        None,
        quota(300, QuotaPeriod::Month),
        Ok(Some(r#""free/month";q=300"#)),
    );
    check("open", None, None, Ok(None));
}

#[test]
fn policy_names_are_escaped_into_structured_field_strings() {
    check(r#"a"b\c é"#, rate(1, 1), None, Ok(Some(r#""a\"b\\c _";q=1;w=1"#)));
    let long = "p".repeat(100);
    let expected = format!(r#""{}";q=1;w=1"#, "p".repeat(64));
    check(&long, rate(1, 1), None, Ok(Some(&expected)));
}

#[test]
fn unenforceable_limits_are_refused() {
    let requests = Err(PlanLimitsError::RequestsOutOfRange { max: MAX_REQUESTS });
    let window = Err(PlanLimitsError::WindowOutOfRange {
        max_secs: MAX_WINDOW.as_secs(),
    });
    check("p", rate(0, 60), None, requests.clone());
    check("p", None, quota(0, QuotaPeriod::Day), requests.clone());
    check("p", None, quota(MAX_REQUESTS + 1, QuotaPeriod::Month), requests);
    check("p", rate(1, 0), None, window.clone());
    check("p", rate(1, MAX_WINDOW.as_secs() + 1), None, window.clone());
    let half_second = Some(RateLimit {
        requests: 1,
        window: Duration::from_millis(1_500),
    });
    check("p", half_second, None, window);
    check("p", rate(2_000_000, 1), None, Err(PlanLimitsError::RateTooFine));
    check("p", rate(1_000_000, 1), None, Ok(Some(r#""p";q=1000000;w=1"#)));
}
