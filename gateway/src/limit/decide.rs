//! The rule both stores apply: a plan's rate limit (GCRA) and quota checked together, so that a
//! request refused by either is counted by neither. Pure: the stored state and `now` in, the
//! decision and the state to store out. The Redis script is this function in Lua.

use std::time::Duration;

use super::decision::{Decision, LimitKind, Refusal};
use super::plan::PlanLimits;
use super::quota;

/// What a store keeps per (plan, key); all zero for a key never seen.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(super) struct KeyState {
    /// GCRA's theoretical arrival time, µs since the epoch; at or before now means a whole burst.
    pub(super) tat_us: u64,
    /// The end of the quota period `quota_used` counts in; a count from another period is void.
    pub(super) quota_end_us: u64,
    /// Requests counted against the quota in that period.
    pub(super) quota_used: u64,
}

impl KeyState {
    /// From this instant on the state says nothing the empty state would not, so a store may forget it.
    pub(super) fn idle_from_us(&self) -> u64 {
        self.tat_us.max(self.quota_end_us)
    }
}

/// A decision and, when the request was counted, the state to store.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Outcome {
    pub(super) decision: Decision,
    pub(super) next: Option<KeyState>,
}

/// Decides a request at `now_us` for a key whose stored state is `state`.
///
/// When both limits refuse, the decision reports the one whose `retry_after` is later, so that a
/// client told to wait is not refused again; when both admit, the one with fewer requests left.
pub(super) fn decide(limits: &PlanLimits, state: &KeyState, now_us: u64) -> Outcome {
    if limits.is_unlimited() {
        return Outcome {
            decision: Decision::unlimited(),
            next: None,
        };
    }
    let rate_admits = limits.gcra.is_none_or(|gcra| gcra.admits(state.tat_us, now_us));
    let quota = limits.quota().map(|quota| {
        let period = quota::period_at(quota.period, now_us);
        let used = if state.quota_end_us == period.end_us {
            state.quota_used
        } else {
            0
        };
        (quota.requests, period, used)
    });
    let quota_admits = quota.is_none_or(|(requests, _, used)| used < requests);
    let allowed = rate_admits && quota_admits;

    let mut next = *state;
    let rate_report = limits.gcra.map(|gcra| {
        if allowed {
            next.tat_us = gcra.admit(state.tat_us, now_us);
        }
        Report {
            kind: LimitKind::Rate,
            limit: gcra.requests(),
            remaining: gcra.remaining(next.tat_us, now_us),
            reset: gcra.reset(next.tat_us, now_us),
            retry_after: (!rate_admits).then(|| gcra.retry_after(state.tat_us, now_us)),
        }
    });
    let quota_report = quota.map(|(requests, period, used)| {
        let used = used + u64::from(allowed);
        if allowed {
            next.quota_end_us = period.end_us;
            next.quota_used = used;
        }
        let until_end = Duration::from_micros(period.end_us - now_us);
        Report {
            kind: LimitKind::Quota,
            limit: requests,
            remaining: requests.saturating_sub(used),
            reset: until_end,
            retry_after: (!quota_admits).then_some(until_end),
        }
    });
    let report = match (rate_report, quota_report) {
        (Some(rate), Some(quota)) if allowed => {
            if quota.remaining < rate.remaining {
                quota
            } else {
                rate
            }
        }
        // `None < Some`, so a limit that refused wins over one that did not, and the later wait wins.
        (Some(rate), Some(quota)) => {
            if quota.retry_after >= rate.retry_after {
                quota
            } else {
                rate
            }
        }
        (Some(report), None) | (None, Some(report)) => report,
        (None, None) => unreachable!("a plan with limits has a rate limit or a quota"),
    };
    Outcome {
        decision: Decision {
            allowed,
            limit: report.limit,
            remaining: report.remaining,
            reset: report.reset,
            retry_after: report.retry_after,
            refusal: (!allowed).then_some(match report.kind {
                LimitKind::Rate => Refusal::Rate,
                LimitKind::Quota => Refusal::Quota,
            }),
            reported: Some(report.kind),
            failed_open: false,
        },
        next: allowed.then_some(next),
    }
}

/// One limit's side of a decision.
#[derive(Debug, Clone, Copy)]
struct Report {
    kind: LimitKind,
    limit: u64,
    remaining: u64,
    reset: Duration,
    retry_after: Option<Duration>,
}

#[cfg(test)]
mod tests;
