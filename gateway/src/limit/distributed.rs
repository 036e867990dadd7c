//! The Redis store: one state per (plan, key) shared by every gateway replica, so that N per window
//! means N across the fleet. The rule runs inside one Lua script (`distributed/check.lua`, sent by
//! EVALSHA, loaded again on NOSCRIPT), atomic across replicas; the headers come from the same Rust
//! code as the local store's. When Redis is away or slow, the limiter fails open or closed as
//! configured, and counts it.

use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime};

use redis::aio::{ConnectionManager, ConnectionManagerConfig};

use super::decide::{KeyState, decide};
use super::decision::Decision;
use super::plan::PlanLimits;
use super::usage::{Usage, usage};
use super::{quota, unix_micros};

/// What to do with a request when the shared store cannot be asked in time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FailMode {
    /// Allow it, uncounted: availability over the limit.
    Open,
    /// Refuse it with [`super::Refusal::StoreUnavailable`]: the limit over availability.
    Closed,
}

/// The Redis URL could not be used; the gateway reports it at start-up and exits.
#[derive(Debug, thiserror::Error)]
#[error("the rate limiter's Redis URL is invalid")]
pub struct RedisUrlError(#[source] redis::RedisError);

/// Where counts live by default; each key gets `{prefix}{…}:rate` and `{prefix}{…}:quota:<period>`.
pub const DEFAULT_KEY_PREFIX: &str = "gatehouse:limit:";

/// How long a quota key outlives its period, so that a replica whose clock is behind still finds it.
const QUOTA_KEY_MARGIN_MS: u64 = 3_600_000;

static CHECK_SCRIPT: &str = include_str!("distributed/check.lua");

/// Counts kept in Redis, shared by every gateway replica that uses the same Redis and key prefix.
pub struct RedisLimiter {
    connection: ConnectionManager,
    script: redis::Script,
    fail_mode: FailMode,
    timeout: Duration,
    key_prefix: Box<str>,
    store_failures: AtomicU64,
    failed_open: AtomicU64,
}

impl RedisLimiter {
    /// A limiter on the Redis at `url`, allowing each call `timeout` before `fail_mode` decides.
    ///
    /// Fails only on a malformed URL: when Redis cannot be reached, the limiter is returned all the
    /// same, connects in the background and applies `fail_mode` meanwhile, so that a gateway starts
    /// without Redis. Must be called within a Tokio runtime.
    pub async fn connect(url: &str, fail_mode: FailMode, timeout: Duration) -> Result<Self, RedisUrlError> {
        let client = redis::Client::open(url).map_err(RedisUrlError)?;
        // One attempt per reconnection: the per-call timeout, not a retry loop, bounds a request's wait.
        let config = ConnectionManagerConfig::new()
            .set_number_of_retries(0)
            .set_connection_timeout(Some(timeout))
            .set_response_timeout(Some(timeout));
        let connection = ConnectionManager::new_lazy_with_config(client, config).map_err(RedisUrlError)?;
        let limiter = RedisLimiter {
            connection,
            script: redis::Script::new(CHECK_SCRIPT),
            fail_mode,
            timeout,
            key_prefix: DEFAULT_KEY_PREFIX.into(),
            store_failures: AtomicU64::new(0),
            failed_open: AtomicU64::new(0),
        };
        // Connect and load the script now, so that the first request does not pay for it; a failure
        // here is no request's, so it is not counted.
        let mut connection = limiter.connection.clone();
        let _ = tokio::time::timeout(timeout, limiter.script.load_async(&mut connection)).await;
        Ok(limiter)
    }

    /// Uses another key prefix, so that two fleets (or two tests) can share one Redis.
    pub fn with_key_prefix(mut self, key_prefix: &str) -> Self {
        self.key_prefix = key_prefix.into();
        self
    }

    /// What happens to a request when Redis cannot be asked.
    pub fn fail_mode(&self) -> FailMode {
        self.fail_mode
    }

    /// How many checks Redis did not answer in time (error or timeout), since start: a metric.
    pub fn store_failures(&self) -> u64 {
        self.store_failures.load(Ordering::Relaxed)
    }

    /// How many of those failures let the request through (fail-open).
    pub fn failed_open(&self) -> u64 {
        self.failed_open.load(Ordering::Relaxed)
    }

    /// Decides a request by `key` under `limits` at `now`, counting it in Redis if allowed.
    pub async fn check(&self, key: &str, limits: &PlanLimits, now: SystemTime) -> Decision {
        if limits.is_unlimited() {
            return Decision::unlimited();
        }
        let now_us = unix_micros(now);
        match tokio::time::timeout(self.timeout, self.run_script(key, limits, now_us)).await {
            Ok(Ok(reply)) => {
                let outcome = decide(limits, &reply.state, now_us);
                debug_assert_eq!(
                    outcome.decision.allowed, reply.allowed,
                    "check.lua and decide() disagree"
                );
                outcome.decision
            }
            Ok(Err(_)) | Err(_) => {
                self.store_failures.fetch_add(1, Ordering::Relaxed);
                if self.fail_mode == FailMode::Open {
                    self.failed_open.fetch_add(1, Ordering::Relaxed);
                }
                Decision::without_store(limits, self.fail_mode == FailMode::Open)
            }
        }
    }

    /// The key's usage under `limits` at `now`, read from Redis without counting; `None` when
    /// Redis does not answer in time.
    pub async fn usage(&self, key: &str, limits: &PlanLimits, now: SystemTime) -> Option<Usage> {
        let now_us = unix_micros(now);
        let keys = self.keys(key, limits, now_us);
        let mut connection = self.connection.clone();
        let mut command = redis::cmd("MGET");
        command.arg(&keys.rate).arg(&keys.quota);
        let read = command.query_async::<(Option<u64>, Option<u64>)>(&mut connection);
        let (tat_us, quota_used) = tokio::time::timeout(self.timeout, read).await.ok()?.ok()?;
        let state = KeyState {
            tat_us: tat_us.unwrap_or(0),
            quota_end_us: keys.quota_end_us,
            quota_used: quota_used.unwrap_or(0),
        };
        Some(usage(limits, &state, now_us))
    }

    /// Runs the script for one request: decides, counts if allowed, and returns the state before.
    async fn run_script(&self, key: &str, limits: &PlanLimits, now_us: u64) -> redis::RedisResult<ScriptReply> {
        let keys = self.keys(key, limits, now_us);
        let (emission_us, tolerance_us) = limits
            .gcra
            .map_or((0, 0), |gcra| (gcra.emission_us(), gcra.tolerance_us()));
        let mut invocation = self.script.key(&keys.rate);
        invocation
            .key(&keys.quota)
            .arg(now_us)
            .arg(emission_us)
            .arg(tolerance_us)
            .arg(limits.quota().map_or(0, |quota| quota.requests))
            .arg(keys.quota_ttl_ms);
        let mut connection = self.connection.clone();
        let (allowed, tat_us, quota_used): (u8, u64, u64) = invocation.invoke_async(&mut connection).await?;
        Ok(ScriptReply {
            allowed: allowed == 1,
            state: KeyState {
                tat_us,
                quota_end_us: keys.quota_end_us,
                quota_used,
            },
        })
    }

    /// The keys for one request. Both carry the same `{…}` hash tag, so that a Redis Cluster keeps
    /// them in one slot, as a script needs; the plan's length comes first, so that no two (plan, key)
    /// pairs make the same text.
    fn keys(&self, key: &str, limits: &PlanLimits, now_us: u64) -> Keys {
        let plan = limits.plan();
        let base = format!("{}{{{}:{plan}:{key}}}", self.key_prefix, plan.len());
        let Some(quota) = limits.quota() else {
            return Keys {
                quota: format!("{base}:quota"),
                rate: base + ":rate",
                quota_end_us: 0,
                quota_ttl_ms: 0,
            };
        };
        let period = quota::period_at(quota.period, now_us);
        Keys {
            quota: format!("{base}:quota:{}", quota::label(quota.period, period.start_us)),
            rate: base + ":rate",
            quota_end_us: period.end_us,
            quota_ttl_ms: (period.end_us - now_us).div_ceil(1000) + QUOTA_KEY_MARGIN_MS,
        }
    }
}

impl fmt::Debug for RedisLimiter {
    // By hand: the connection's debug form would show the Redis URL, password included.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisLimiter")
            .field("fail_mode", &self.fail_mode)
            .field("timeout", &self.timeout)
            .field("key_prefix", &self.key_prefix)
            .field("store_failures", &self.store_failures())
            .finish_non_exhaustive()
    }
}

/// The Redis keys and quota bookkeeping of one request.
struct Keys {
    rate: String,
    quota: String,
    quota_end_us: u64,
    quota_ttl_ms: u64,
}

/// What the script answers: its verdict, and the state it read before counting.
struct ScriptReply {
    allowed: bool,
    state: KeyState,
}

#[cfg(test)]
mod tests;
