//! Upstreams: their targets, the weighted choice among them, passive health (eject after
//! consecutive failures, return after a cool-down), and the connection pools they send through.

mod balance;
mod pool;
pub mod tls;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::time::Duration;

use bytes::Bytes;
use http::uri::{Authority, Scheme};
use http_body_util::{Either, Full};

use crate::compiled::Problems;
use crate::snapshot::{ActiveHealthSpec, PassiveHealthSpec, UpstreamSpec};
use balance::Schedule;

pub use pool::{PoolCache, PooledBody, SendError, TargetPool, set_worker_slot};
use tls::UpstreamTls;

/// A request body on its way upstream: the client's stream, or nothing (for a retry, which
/// only happens when there was no body). The stream is counted when the API limits its size.
pub type ProxyBody = Either<crate::edge::body::RequestBody, Full<Bytes>>;

/// An upstream ready to take requests.
#[derive(Debug)]
pub struct Upstream {
    pub targets: Box<[Target]>,
    schedule: Schedule,
    pub read_timeout: Duration,
    pub retries: u32,
    passive: PassiveHealthSpec,
    pub active: Option<ActiveHealthSpec>,
    pub connect_timeout: Duration,
}

/// One upstream server and what the gateway has seen of its health.
#[derive(Debug)]
pub struct Target {
    pub url: Arc<str>,
    pub scheme: Scheme,
    pub authority: Authority,
    /// The URL's path without a trailing `/` (empty for none), prepended to forwarded paths.
    pub base_path: Box<str>,
    /// The `Host` header requests to this target carry.
    pub host_header: http::HeaderValue,
    pub weight: u32,
    consecutive_failures: AtomicU32,
    ejected_until_ms: AtomicU64,
    /// Set by active health checks; true when there are none.
    probe_healthy: AtomicBool,
    /// Connections to it; absent when compiled without pools (in the hub).
    pub pool: Option<Arc<TargetPool>>,
}

impl Upstream {
    pub(crate) fn compile(
        spec: &UpstreamSpec,
        field: &str,
        pools: Option<&PoolCache>,
        problems: &mut Problems,
    ) -> Upstream {
        if spec.targets.is_empty() {
            problems.push(format!("{field}.targets"), "must list at least one target");
        }
        // Built once for all the upstream's https targets; plain http ones never need it.
        let https = spec.targets.iter().any(|target| target.url.starts_with("https://"));
        let tls = match (&spec.tls, https) {
            (None, false) => None,
            (tls, _) => match UpstreamTls::build(tls.as_ref().unwrap_or(&Default::default())) {
                Ok(tls) => Some(Arc::new(tls)),
                Err(tls_problems) => {
                    for problem in tls_problems {
                        problems.push(format!("{field}.tls.{}", problem.field), problem.message);
                    }
                    None
                }
            },
        };
        let mut targets = Vec::with_capacity(spec.targets.len());
        for (index, target) in spec.targets.iter().enumerate() {
            match Target::parse(&target.url, target.weight, pools, tls.as_ref()) {
                Ok(parsed) => targets.push(parsed),
                Err(message) => problems.push(format!("{field}.targets[{index}].url"), message),
            }
        }
        if !spec.targets.is_empty() && spec.targets.iter().all(|target| target.weight == 0) {
            problems.push(
                format!("{field}.targets"),
                "at least one target must have a weight above 0",
            );
        }
        if let Some(active) = &spec.active_health
            && !active.path.starts_with('/')
        {
            problems.push(format!("{field}.active_health.path"), "must start with `/`");
        }
        let weights: Vec<u32> = targets.iter().map(|target: &Target| target.weight).collect();
        let connect_timeout = Duration::from_millis(spec.connect_timeout_ms.max(1));
        Upstream {
            targets: targets.into(),
            schedule: Schedule::new(&weights),
            read_timeout: Duration::from_millis(spec.read_timeout_ms.max(1)),
            retries: spec.retries,
            passive: spec.passive_health.clone(),
            active: spec.active_health.clone(),
            connect_timeout,
        }
    }

    /// Picks a target by weight among the healthy ones, avoiding `exclude` (the target that just
    /// failed). When every target is out, picks among all rather than fail outright: a
    /// recovering upstream is better tried than refused.
    pub fn pick(&self, now_ms: u64, exclude: Option<usize>) -> Option<usize> {
        let available = |index: usize| Some(index) != exclude && self.targets[index].is_available(now_ms);
        self.schedule
            .pick(available)
            .or_else(|| self.schedule.pick(|index| Some(index) != exclude))
    }

    /// Records the outcome of a request to a target, for passive health.
    pub fn record(&self, target: usize, success: bool, now_ms: u64) {
        let target = &self.targets[target];
        if success {
            if target.consecutive_failures.load(Ordering::Relaxed) != 0 {
                target.consecutive_failures.store(0, Ordering::Relaxed);
            }
            return;
        }
        let failures = target.consecutive_failures.fetch_add(1, Ordering::Relaxed) + 1;
        if self.passive.failures > 0 && failures >= self.passive.failures {
            target
                .ejected_until_ms
                .store(now_ms + self.passive.cooldown_ms, Ordering::Relaxed);
            target.consecutive_failures.store(0, Ordering::Relaxed);
            tracing::warn!(target = %target.url, cooldown_ms = self.passive.cooldown_ms, "target ejected after consecutive failures");
        }
    }
}

impl Target {
    fn parse(
        url: &str,
        weight: u32,
        pools: Option<&PoolCache>,
        tls: Option<&Arc<UpstreamTls>>,
    ) -> Result<Target, String> {
        let uri: http::Uri = url.parse().map_err(|error| format!("is not a URL: {error}"))?;
        let scheme = uri.scheme().cloned().ok_or("must start with http:// or https://")?;
        if scheme != Scheme::HTTP && scheme != Scheme::HTTPS {
            return Err("must be http:// or https://".into());
        }
        let authority = uri.authority().cloned().ok_or("must name a host")?;
        if uri.query().is_some() {
            return Err("must not have a query".into());
        }
        // The TLS of an https target, with the name its handshake sends and verifies.
        let tls = match (scheme == Scheme::HTTPS, tls) {
            (true, Some(tls)) => Some((tls.clone(), tls.server_name_for(authority.host())?)),
            // The upstream's TLS did not compile; that problem is reported on its own field.
            (true, None) => return Err("cannot be reached: the upstream's `tls` is invalid".into()),
            (false, _) => None,
        };
        let base_path = uri.path().trim_end_matches('/');
        let host_header = http::HeaderValue::from_str(authority.as_str()).map_err(|_| "has an invalid host")?;
        Ok(Target {
            pool: pools.map(|pools| pools.get(&authority, tls)),
            host_header,
            url: url.into(),
            scheme,
            authority,
            base_path: base_path.into(),
            weight,
            consecutive_failures: AtomicU32::new(0),
            ejected_until_ms: AtomicU64::new(0),
            probe_healthy: AtomicBool::new(true),
        })
    }

    /// Whether the target may get traffic now.
    pub fn is_available(&self, now_ms: u64) -> bool {
        self.weight > 0
            && self.probe_healthy.load(Ordering::Relaxed)
            && self.ejected_until_ms.load(Ordering::Relaxed) <= now_ms
    }

    /// Records an active health check's verdict.
    pub fn set_probe_healthy(&self, healthy: bool) {
        self.probe_healthy.store(healthy, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests;
