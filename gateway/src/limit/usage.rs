//! How much of a plan a key has used, read without counting: what a developer portal shows
//! next to the plan ("1,990 of 2,000 left in this window; 10 of 100,000 this month"). Pure, from
//! the same stored state `decide` reads, so it says exactly what the next check would see.

use std::time::Duration;

use super::decide::KeyState;
use super::plan::{PlanLimits, QuotaPeriod};
use super::quota;

/// A key's standing under one plan.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Usage {
    pub rate: Option<RateUsage>,
    pub quota: Option<QuotaUsage>,
}

/// The rate limit's window.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateUsage {
    pub limit: u64,
    /// Requests admitted now, one after the other.
    pub remaining: u64,
    /// Until the whole burst is available again.
    pub reset: Duration,
}

/// The quota's current calendar period.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QuotaUsage {
    pub limit: u64,
    pub used: u64,
    pub period: QuotaPeriod,
    /// Until the period ends and the count starts again.
    pub reset: Duration,
}

/// The usage a stored state shows at `now_us`.
pub(super) fn usage(limits: &PlanLimits, state: &KeyState, now_us: u64) -> Usage {
    let rate = limits.gcra.map(|gcra| RateUsage {
        limit: gcra.requests(),
        remaining: gcra.remaining(state.tat_us, now_us),
        reset: gcra.reset(state.tat_us, now_us),
    });
    let quota = limits.quota().map(|quota| {
        let period = quota::period_at(quota.period, now_us);
        let used = if state.quota_end_us == period.end_us {
            state.quota_used
        } else {
            0
        };
        QuotaUsage {
            limit: quota.requests,
            used,
            period: quota.period,
            reset: Duration::from_micros(period.end_us - now_us),
        }
    });
    Usage { rate, quota }
}
