//! Rate limits and quotas of plans: the third enforcement step, after authentication and access.
//! It owns the algorithm, the two stores of counts and the `RateLimit` headers; choosing the key
//! (consumer or application) is the caller's, and turning a refusal into a response is the edge's.
//!
//! ```text
//!  Limiter::check(key, plan limits, now) -> Decision
//!   ├─ Local: LocalLimiter, a sharded map in this process ───┐
//!   └─ Redis: RedisLimiter, one Lua script for all replicas ─┴─ the same rule: decide (GCRA + quota)
//!               └─ error or timeout: fail open or closed, and count it
//!  Decision::write_headers -> RateLimit-Policy, RateLimit, Retry-After
//! ```
//!
//! Counts are kept per (plan, key): a consumer calling APIs under two plans has two budgets, and
//! APIs under the same plan share one. A caller wanting one budget per API puts the API in the key.
//! Plans are [`PlanLimits`], built when a snapshot loads.

mod decide;
mod decision;
mod distributed;
mod gcra;
mod local;
mod plan;
mod quota;
#[cfg(test)]
mod test_support;
mod usage;

use std::time::{SystemTime, UNIX_EPOCH};

pub use decision::{Decision, LimitKind, RATELIMIT, RATELIMIT_POLICY, Refusal};
pub use distributed::{DEFAULT_KEY_PREFIX, FailMode, RedisLimiter, RedisUrlError};
pub use local::LocalLimiter;
pub use plan::{MAX_REQUESTS, MAX_WINDOW, PlanLimits, PlanLimitsError, QuotaLimit, QuotaPeriod, RateLimit};
pub use usage::{QuotaUsage, RateUsage, Usage};

/// The gateway's rate limiter: counts in this process, or in Redis shared by every replica.
#[derive(Debug)]
pub enum Limiter {
    /// In memory: the default, for one gateway.
    Local(LocalLimiter),
    /// In Redis: for several gateway replicas that must share each limit.
    Redis(RedisLimiter),
}

impl Default for Limiter {
    fn default() -> Self {
        Limiter::Local(LocalLimiter::default())
    }
}

impl Limiter {
    /// Decides a request by `key` (a consumer or an application) under its plan's `limits` at `now`,
    /// and counts it if allowed. The local store answers without awaiting anything.
    pub async fn check(&self, key: &str, limits: &PlanLimits, now: SystemTime) -> Decision {
        match self {
            Limiter::Local(local) => local.check(key, limits, now),
            Limiter::Redis(redis) => redis.check(key, limits, now).await,
        }
    }

    /// How much of `limits` the key has used, without counting anything; `None` when the shared
    /// store does not answer.
    pub async fn usage(&self, key: &str, limits: &PlanLimits, now: SystemTime) -> Option<Usage> {
        match self {
            Limiter::Local(local) => Some(local.usage(key, limits, now)),
            Limiter::Redis(redis) => redis.usage(key, limits, now).await,
        }
    }

    /// How many checks the shared store failed to answer since start; always 0 for the local store.
    pub fn store_failures(&self) -> u64 {
        match self {
            Limiter::Local(_) => 0,
            Limiter::Redis(redis) => redis.store_failures(),
        }
    }

    /// How many requests were let through because the shared store did not answer.
    pub fn failed_open(&self) -> u64 {
        match self {
            Limiter::Local(_) => 0,
            Limiter::Redis(redis) => redis.failed_open(),
        }
    }
}

/// The last instant the stores can count at: times plus a window stay below 2^53 µs, exact in Lua
/// numbers (about the year 2253).
const MAX_UNIX_MICROS: u64 = (1 << 53) - 2 * MAX_WINDOW.as_micros() as u64;

/// `now` in microseconds since the Unix epoch, the unit of every stored time; 0 before the epoch.
fn unix_micros(now: SystemTime) -> u64 {
    now.duration_since(UNIX_EPOCH).map_or(0, |since_epoch| {
        since_epoch.as_micros().min(u128::from(MAX_UNIX_MICROS)) as u64
    })
}

#[cfg(test)]
mod tests;
