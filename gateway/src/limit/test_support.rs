//! Helpers shared by the limiter's unit tests: instants, plans, and a decision written as one short
//! line, so that a test reads as a list of requests and what each should get.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use super::{Decision, LimitKind, PlanLimits, QuotaLimit, QuotaPeriod, RateLimit, Refusal, quota};

/// An instant in UTC.
pub(super) fn utc(year: u64, month: u64, day: u64, hour: u64, minute: u64, second: u64) -> SystemTime {
    let days = quota::days_from_civil(year, month, day);
    UNIX_EPOCH + Duration::from_secs(days * 86_400 + hour * 3_600 + minute * 60 + second)
}

/// 2026-11-25 13:00:00 UTC plus `ms` milliseconds: the tests' clock.
pub(super) fn at_ms(ms: u64) -> SystemTime {
    utc(2026, 11, 25, 13, 0, 0) + Duration::from_millis(ms)
}

/// `requests` per `window_secs`.
pub(super) fn rate(requests: u64, window_secs: u64) -> Option<RateLimit> {
    Some(RateLimit {
        requests,
        window: Duration::from_secs(window_secs),
    })
}

/// `requests` per `period`.
pub(super) fn quota(requests: u64, period: QuotaPeriod) -> Option<QuotaLimit> {
    Some(QuotaLimit { requests, period })
}

/// A valid plan.
pub(super) fn plan(name: &str, rate: Option<RateLimit>, quota: Option<QuotaLimit>) -> PlanLimits {
    PlanLimits::new(name, rate, quota).expect("the test's plan is valid")
}

/// A decision as one line: `+ rate 2/3 t=20s`, `- quota 0/5 t=11h retry=…`, `- store`, `+ open`.
pub(super) fn describe(decision: &Decision) -> String {
    let sign = if decision.allowed { '+' } else { '-' };
    match (decision.reported, decision.refusal) {
        (_, Some(Refusal::StoreUnavailable)) => format!("{sign} store"),
        (None, _) if decision.failed_open => format!("{sign} open"),
        (None, _) => sign.to_string(),
        (Some(kind), _) => {
            let kind = match kind {
                LimitKind::Rate => "rate",
                LimitKind::Quota => "quota",
            };
            let retry = decision
                .retry_after
                .map(|retry_after| format!(" retry={retry_after:?}"))
                .unwrap_or_default();
            format!(
                "{sign} {kind} {}/{} t={:?}{retry}",
                decision.remaining, decision.limit, decision.reset
            )
        }
    }
}

/// Only the verdicts of a run, `+` or `-` per request.
pub(super) fn verdicts(decisions: &[Decision]) -> String {
    decisions
        .iter()
        .map(|decision| if decision.allowed { '+' } else { '-' })
        .collect()
}
