//! What a check answers, and how it reads on the wire: the `RateLimit-Policy`, `RateLimit` and
//! `Retry-After` headers of draft-ietf-httpapi-ratelimit-headers. Turning a refusal into a 429 (or a
//! 503 when the store is away) with problem+json is the gateway edge's job, not this module's.

use std::time::Duration;

use http::header::RETRY_AFTER;
use http::{HeaderMap, HeaderName, HeaderValue};

use super::plan::PlanLimits;

/// `RateLimit-Policy`: the plan's limits, e.g. `"gold";q=100;w=60`; the same on every response.
pub const RATELIMIT_POLICY: HeaderName = HeaderName::from_static("ratelimit-policy");
/// `RateLimit`: where the key stands, e.g. `"gold";r=42;t=17`.
pub const RATELIMIT: HeaderName = HeaderName::from_static("ratelimit");

/// The answer to one check: whether the request may go on, and the numbers its headers report.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Decision {
    /// True when the request may go on (and was counted).
    pub allowed: bool,
    /// Requests the reported limit allows per window or period.
    pub limit: u64,
    /// Requests the reported limit would still admit now.
    pub remaining: u64,
    /// Time until the reported limit is whole again.
    pub reset: Duration,
    /// When refused by a limit: how long until a request could be admitted.
    pub retry_after: Option<Duration>,
    /// Why the request was refused; `None` when it was allowed.
    pub refusal: Option<Refusal>,
    /// Which of the plan's limits `limit`, `remaining` and `reset` describe; `None` when the plan
    /// has no limit or the store could not be asked.
    pub reported: Option<LimitKind>,
    /// True when the store could not be asked and the request was allowed all the same (fail open).
    pub failed_open: bool,
}

/// One of a plan's two limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LimitKind {
    /// Requests per window.
    Rate,
    /// Requests per calendar day or month.
    Quota,
}

/// Why a request was refused; each becomes its own problem type at the edge.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Refusal {
    /// The plan's rate limit is used up for now (429).
    Rate,
    /// The plan's quota for this day or month is used up (429).
    Quota,
    /// The shared store could not be asked and the limiter fails closed (503, "rate-limit store unavailable").
    StoreUnavailable,
}

impl Decision {
    /// The decision for a plan with nothing to count.
    pub(super) fn unlimited() -> Decision {
        Decision {
            allowed: true,
            limit: 0,
            remaining: 0,
            reset: Duration::ZERO,
            retry_after: None,
            refusal: None,
            reported: None,
            failed_open: false,
        }
    }

    /// The decision when the store could not be asked: allowed if failing open, refused if closed.
    pub(super) fn without_store(limits: &PlanLimits, fail_open: bool) -> Decision {
        let limit = match (limits.rate(), limits.quota()) {
            (Some(rate), _) => rate.requests,
            (None, Some(quota)) => quota.requests,
            (None, None) => 0,
        };
        Decision {
            allowed: fail_open,
            limit,
            refusal: (!fail_open).then_some(Refusal::StoreUnavailable),
            failed_open: fail_open,
            ..Decision::unlimited()
        }
    }

    /// Adds this decision's headers to a response: `RateLimit-Policy` whenever the plan has limits,
    /// `RateLimit` when the store answered, and `Retry-After` (whole seconds, rounded up) when a
    /// limit refused the request.
    pub fn write_headers(&self, limits: &PlanLimits, headers: &mut HeaderMap) {
        if let Some(policy) = limits.policy_header() {
            headers.insert(RATELIMIT_POLICY, policy.clone());
        }
        if let Some(ratelimit) = self.ratelimit_header(limits) {
            headers.insert(RATELIMIT, ratelimit);
        }
        if let Some(retry_after) = self.retry_after {
            headers.insert(RETRY_AFTER, HeaderValue::from(whole_seconds(retry_after)));
        }
    }

    /// The `RateLimit` header value, e.g. `"gold";r=42;t=17`, or `None` when there is nothing to report.
    pub fn ratelimit_header(&self, limits: &PlanLimits) -> Option<HeaderValue> {
        let item = match self.reported? {
            LimitKind::Rate => &limits.headers.rate_item,
            LimitKind::Quota => &limits.headers.quota_item,
        };
        // Built on the stack; the one allocation is the header value's own copy.
        let mut value = StackBuf::default();
        value.push(item);
        value.push(itoa::Buffer::new().format(self.remaining).as_bytes());
        value.push(b";t=");
        value.push(itoa::Buffer::new().format(whole_seconds(self.reset)).as_bytes());
        Some(HeaderValue::from_bytes(value.as_bytes()).expect("policy names are escaped to printable ASCII"))
    }
}

/// A duration in whole seconds, rounded up, so that a client waiting that long is never early.
pub(super) fn whole_seconds(duration: Duration) -> u64 {
    duration
        .as_secs()
        .saturating_add(u64::from(duration.subsec_nanos() > 0))
}

/// Room for the longest `RateLimit` value: a policy name of 64 escaped characters and two numbers.
const STACK_BUF_LEN: usize = 256;

struct StackBuf {
    bytes: [u8; STACK_BUF_LEN],
    len: usize,
}

impl Default for StackBuf {
    fn default() -> Self {
        StackBuf {
            bytes: [0; STACK_BUF_LEN],
            len: 0,
        }
    }
}

impl StackBuf {
    fn push(&mut self, bytes: &[u8]) {
        let end = self.len + bytes.len();
        self.bytes[self.len..end].copy_from_slice(bytes);
        self.len = end;
    }

    fn as_bytes(&self) -> &[u8] {
        &self.bytes[..self.len]
    }
}

#[cfg(test)]
mod tests;
