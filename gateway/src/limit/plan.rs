//! A plan's limits as the gateway enforces them: checked once when a snapshot loads, with the
//! algorithm's parameters and the `RateLimit-Policy` header value computed then, not per request.

use std::sync::Arc;
use std::time::Duration;

use http::HeaderValue;

use super::gcra::Gcra;

/// A rate limit: at most `requests` in any `window`, in steady state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimit {
    /// Requests allowed per window; also the largest burst.
    pub requests: u64,
    /// The window: a whole number of seconds.
    pub window: Duration,
}

/// A quota: at most `requests` per calendar period (UTC).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QuotaLimit {
    /// Requests allowed per period.
    pub requests: u64,
    /// The calendar period the count belongs to.
    pub period: QuotaPeriod,
}

/// A calendar period in UTC; a quota's count starts again at its first instant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum QuotaPeriod {
    /// From 00:00 UTC to the next 00:00 UTC.
    Day,
    /// From the first of the month 00:00 UTC to the first of the next.
    Month,
}

/// Why a plan's limits cannot be enforced; the hub reports it when it publishes the plan.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PlanLimitsError {
    #[error("a limit must allow between 1 and {max} requests")]
    RequestsOutOfRange { max: u64 },
    #[error("a rate limit's window must be a whole number of seconds between 1 and {max_secs}")]
    WindowOutOfRange { max_secs: u64 },
    #[error("a rate limit may allow at most one request per microsecond of its window")]
    RateTooFine,
}

/// Most requests a limit may allow: the Redis script counts in Lua numbers (doubles), exact below 2^53.
pub const MAX_REQUESTS: u64 = 1 << 50;
/// Longest rate-limit window: 366 days, so that times in microseconds stay exact in Lua numbers.
pub const MAX_WINDOW: Duration = Duration::from_secs(366 * 86_400);
/// Longest plan name carried into a header; longer names are cut, since headers name, not identify.
const MAX_POLICY_NAME: usize = 64;

/// The limits of one plan, ready to enforce. Built once per plan when a snapshot loads.
#[derive(Debug, Clone)]
pub struct PlanLimits {
    plan: Arc<str>,
    rate: Option<RateLimit>,
    quota: Option<QuotaLimit>,
    pub(super) gcra: Option<Gcra>,
    pub(super) headers: PolicyHeaders,
}

impl PlanLimits {
    /// Checks a plan's limits and precomputes what enforcing them needs.
    pub fn new(
        plan: impl Into<Arc<str>>,
        rate: Option<RateLimit>,
        quota: Option<QuotaLimit>,
    ) -> Result<Self, PlanLimitsError> {
        let plan = plan.into();
        let gcra = rate.as_ref().map(check_rate).transpose()?;
        if let Some(quota) = &quota {
            check_requests(quota.requests)?;
        }
        let headers = PolicyHeaders::new(&plan, rate.as_ref(), quota.as_ref());
        Ok(PlanLimits {
            plan,
            rate,
            quota,
            gcra,
            headers,
        })
    }

    /// The plan's name.
    pub fn plan(&self) -> &str {
        &self.plan
    }

    /// The plan's name, shared: the local store keeps it per key without copying the text.
    pub(crate) fn plan_arc(&self) -> &Arc<str> {
        &self.plan
    }

    /// The rate limit, if the plan has one.
    pub fn rate(&self) -> Option<&RateLimit> {
        self.rate.as_ref()
    }

    /// The quota, if the plan has one.
    pub fn quota(&self) -> Option<&QuotaLimit> {
        self.quota.as_ref()
    }

    /// True when the plan has neither a rate limit nor a quota: nothing to count.
    pub fn is_unlimited(&self) -> bool {
        self.rate.is_none() && self.quota.is_none()
    }

    /// The `RateLimit-Policy` header value, e.g. `"gold";q=100;w=60, "gold/day";q=10000;w=86400`.
    pub fn policy_header(&self) -> Option<&HeaderValue> {
        self.headers.policy.as_ref()
    }
}

/// Header pieces computed once per plan, so that a response only appends numbers.
#[derive(Debug, Clone)]
pub(super) struct PolicyHeaders {
    pub(super) policy: Option<HeaderValue>,
    /// The start of the rate limit's `RateLimit` item: `"gold";r=`.
    pub(super) rate_item: Box<[u8]>,
    /// The start of the quota's `RateLimit` item: `"gold/day";r=`.
    pub(super) quota_item: Box<[u8]>,
}

impl PolicyHeaders {
    fn new(plan: &str, rate: Option<&RateLimit>, quota: Option<&QuotaLimit>) -> Self {
        let rate_name = policy_name(plan, "");
        let quota_name = policy_name(
            plan,
            match quota.map(|quota| quota.period) {
                Some(QuotaPeriod::Month) => "/month",
                _ => "/day",
            },
        );
        let mut items = Vec::new();
        if let Some(rate) = rate {
            items.push(format!("{rate_name};q={};w={}", rate.requests, rate.window.as_secs()));
        }
        if let Some(quota) = quota {
            // A month has no fixed length, so its policy names no window; the `t` of `RateLimit` says when it resets.
            match quota.period {
                QuotaPeriod::Day => items.push(format!("{quota_name};q={};w=86400", quota.requests)),
                QuotaPeriod::Month => items.push(format!("{quota_name};q={}", quota.requests)),
            }
        }
        let policy = (!items.is_empty())
            .then(|| HeaderValue::from_str(&items.join(", ")).expect("policy names are escaped to printable ASCII"));
        PolicyHeaders {
            policy,
            rate_item: format!("{rate_name};r=").into_bytes().into_boxed_slice(),
            quota_item: format!("{quota_name};r=").into_bytes().into_boxed_slice(),
        }
    }
}

/// A policy name as a structured-field string: quoted, `"` and `\` escaped, anything outside
/// printable ASCII replaced by `_` (sf-strings cannot carry it).
fn policy_name(plan: &str, suffix: &str) -> String {
    let mut name = String::with_capacity(plan.len() + suffix.len() + 2);
    name.push('"');
    for c in plan.chars().take(MAX_POLICY_NAME).chain(suffix.chars()) {
        match c {
            '"' | '\\' => {
                name.push('\\');
                name.push(c);
            }
            ' '..='~' => name.push(c),
            _ => name.push('_'),
        }
    }
    name.push('"');
    name
}

fn check_requests(requests: u64) -> Result<(), PlanLimitsError> {
    if (1..=MAX_REQUESTS).contains(&requests) {
        Ok(())
    } else {
        Err(PlanLimitsError::RequestsOutOfRange { max: MAX_REQUESTS })
    }
}

fn check_rate(rate: &RateLimit) -> Result<Gcra, PlanLimitsError> {
    check_requests(rate.requests)?;
    let window = rate.window;
    if window.subsec_nanos() != 0 || window.is_zero() || window > MAX_WINDOW {
        return Err(PlanLimitsError::WindowOutOfRange {
            max_secs: MAX_WINDOW.as_secs(),
        });
    }
    // GCRA spaces requests at least a microsecond apart; a finer rate could not give N per window.
    let window_us = window.as_secs() * 1_000_000;
    if rate.requests > window_us {
        return Err(PlanLimitsError::RateTooFine);
    }
    Ok(Gcra::new(rate.requests, window_us))
}

#[cfg(test)]
mod tests;
