//! The running gateway: the snapshot being enforced (swapped atomically, whole or not at all)
//! and what outlives snapshots: connection pools, the rate limiter, JWKS keys, telemetry.

use std::cell::Cell;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant, SystemTime};

use arc_swap::ArcSwap;
use http::{HeaderMap, HeaderValue};
use sha2::{Digest, Sha256};

use crate::compiled::{CompileErrors, CompiledSnapshot};
use crate::jwt::{JwksCache, JwtVerifier};
use crate::limit::{Limiter, PlanLimits};
use crate::snapshot::{QuotaPeriodSpec, Snapshot};
use crate::source::LastGood;
use crate::telemetry::{Telemetry, TelemetrySettings};
use crate::upstream::PoolCache;

/// A compiled snapshot with what is built for it when it loads.
pub struct Loaded {
    pub compiled: CompiledSnapshot,
    /// The document as received (compact JSON), for `/config`: smaller than the parsed
    /// document, which is dropped once compiled.
    pub document: DocumentCopy,
    pub jwt: JwtVerifier,
    /// Indexed like `compiled.plans`.
    pub plan_limits: Vec<PlanLimits>,
    /// Metric handles per API, then per version (slot 0 for requests without a version), made
    /// on a route's first request: with 10,000 APIs, series for routes never called would cost
    /// memory, load time and every scrape.
    route_metrics: Vec<Box<[std::sync::OnceLock<crate::telemetry::RouteMetrics>]>>,
    /// Active health checks of this snapshot's upstreams; they stop when it is dropped.
    _health_checks: crate::health::HealthChecks,
}

/// Why a snapshot was not applied; the running one stays.
#[derive(Debug, thiserror::Error)]
pub enum ApplyError {
    #[error(transparent)]
    Malformed(#[from] crate::snapshot::SnapshotError),
    #[error(transparent)]
    Invalid(#[from] CompileErrors),
}

/// The gateway's state shared by every connection.
impl Loaded {
    /// The metric handles of an API version.
    pub fn route_metrics(
        &self,
        metrics: &crate::telemetry::Metrics,
        api: usize,
        version: Option<usize>,
    ) -> &crate::telemetry::RouteMetrics {
        self.route_metrics[api][version.map_or(0, |index| index + 1)].get_or_init(|| {
            let api = &self.compiled.apis[api];
            metrics.route_metrics(&api.name, version.map(|index| &api.versions[index].name))
        })
    }
}

pub struct Runtime {
    current: ArcSwap<Loaded>,
    pools: PoolCache,
    pub limiter: Limiter,
    jwks: JwksCache,
    pub telemetry: Telemetry,
    /// Whether a snapshot from a source (not the empty start) is in force.
    ready: AtomicBool,
    /// The TLS listener's certificates from `--tls-cert-dir` (the snapshot's are in
    /// `compiled.tls`); empty without one. Here so that the expiry metric reads both.
    pub tls_files: Arc<ArcSwap<crate::tls::CertificateTable>>,
}

/// Where the document in force is kept for `/config`.
#[derive(Debug)]
pub enum DocumentCopy {
    /// The empty start: no document.
    None,
    Memory(bytes::Bytes),
    /// A large document lives only in the last good file, written before the swap; the hash
    /// of its bytes tells whether the file still holds it.
    File {
        path: std::path::PathBuf,
        sha256: [u8; 32],
    },
}

impl Runtime {
    /// A gateway enforcing the empty snapshot (every request 404) until one is applied.
    pub fn new(limiter: Limiter, telemetry: TelemetrySettings) -> Arc<Runtime> {
        Runtime::with_workers(limiter, telemetry, 0)
    }

    /// As [`Runtime::new`], with connection pools kept per proxy worker (`crate::workers`).
    pub fn with_workers(limiter: Limiter, telemetry: TelemetrySettings, workers: usize) -> Arc<Runtime> {
        let pools = PoolCache::new(workers);
        let jwks = JwksCache::default();
        let telemetry = Telemetry::new(telemetry);
        let empty = build(&Snapshot::empty(), DocumentCopy::None, &pools, &jwks).expect("the empty snapshot compiles");
        let runtime = Arc::new(Runtime {
            current: ArcSwap::from_pointee(empty),
            pools,
            limiter,
            jwks,
            telemetry,
            ready: AtomicBool::new(false),
            tls_files: Arc::default(),
        });
        if let Some(otel) = &runtime.telemetry.otel {
            otel.observe_fleet(&Arc::downgrade(&runtime));
        }
        runtime
    }

    /// The snapshot in force; a request holds it until it finishes.
    pub fn current(&self) -> Arc<Loaded> {
        self.current.load_full()
    }

    /// Whether a snapshot has been applied.
    pub fn is_ready(&self) -> bool {
        self.ready.load(Ordering::Acquire)
    }

    /// The document in force, from memory or from the last good file; `None` for the empty
    /// start, or when the file no longer holds it (a newer one is being applied, or it was
    /// changed by hand).
    pub fn document(&self, loaded: &Loaded) -> Option<bytes::Bytes> {
        match &loaded.document {
            DocumentCopy::None => None,
            DocumentCopy::Memory(document) => Some(document.clone()),
            DocumentCopy::File { path, sha256 } => {
                let bytes = std::fs::read(path).ok()?;
                (<[u8; 32]>::from(Sha256::digest(&bytes)) == *sha256).then(|| bytes.into())
            }
        }
    }

    /// Compiles a snapshot and swaps it in. Requests in flight finish on the one they began
    /// with. An invalid snapshot changes nothing.
    pub fn apply(&self, snapshot: Snapshot) -> Result<Duration, ApplyError> {
        let document = serde_json::to_vec(&snapshot).expect("a snapshot always serialises");
        self.apply_parsed(snapshot, document.into(), None, Instant::now())
    }

    /// Parses a snapshot document (as a file or the hub sends it), compiles it and swaps it in;
    /// the load time reported covers all three. With `last_good`, a document that compiles is
    /// kept there before the swap, and one over 1 MiB then only there.
    pub fn apply_document(&self, document: bytes::Bytes, last_good: Option<&LastGood>) -> Result<Duration, ApplyError> {
        let started = Instant::now();
        // Consumers borrow from the document's bytes; the clone is a reference count.
        let bytes = document.clone();
        let snapshot = Snapshot::parse_borrowed(&bytes).inspect_err(|_| {
            self.telemetry.metrics.snapshot_rejected();
        })?;
        self.apply_parsed(snapshot, document, last_good, started)
    }

    fn apply_parsed<C: crate::snapshot::Consumer>(
        &self,
        snapshot: Snapshot<C>,
        document: bytes::Bytes,
        last_good: Option<&LastGood>,
        started: Instant,
    ) -> Result<Duration, ApplyError> {
        let revision = snapshot.revision;
        let mut loaded = build(&snapshot, DocumentCopy::None, &self.pools, &self.jwks).inspect_err(|_| {
            self.telemetry.metrics.snapshot_rejected();
        })?;
        // Free the parsed document before the swap, not after: it is the largest thing here.
        drop(snapshot);
        // Kept on disk before the swap, so that `/config` never misses it; the write is not
        // part of the load time.
        let compiled_in = started.elapsed();
        loaded.document = keep(document, last_good);
        let swapped = Instant::now();
        loaded
            .compiled
            .consumers
            .carry_last_used(&self.current().compiled.consumers);
        self.current.store(Arc::new(loaded));
        self.ready.store(true, Ordering::Release);
        let took = compiled_in + swapped.elapsed();
        self.telemetry.metrics.snapshot_loaded(revision, took);
        Ok(took)
    }

    /// A request id: the client's when it sent a sane one, otherwise a new one.
    pub fn request_id(&self, headers: &HeaderMap) -> HeaderValue {
        if let Some(given) = headers.get(crate::proxy::REQUEST_ID)
            && given.len() <= 128
            && given.as_bytes().iter().all(|b| b.is_ascii_graphic())
        {
            return given.clone();
        }
        new_request_id()
    }
}

/// Documents up to this size stay in memory for `/config` even when they are also on disk.
/// At 10,000 APIs and 100,000 keys a document is about 20 MB, a fifth of the gateway's memory.
const KEEP_IN_MEMORY_BYTES: usize = 1 << 20;

/// Saves an applied document as the last good one; says where `/config` finds it. A document
/// that could not be saved stays in memory.
fn keep(document: bytes::Bytes, last_good: Option<&LastGood>) -> DocumentCopy {
    let Some(last_good) = last_good else {
        return DocumentCopy::Memory(document);
    };
    if let Err(error) = last_good.save(&document) {
        tracing::warn!(path = %last_good.path().display(), %error, "could not keep the last good snapshot");
        return DocumentCopy::Memory(document);
    }
    if document.len() <= KEEP_IN_MEMORY_BYTES {
        return DocumentCopy::Memory(document);
    }
    DocumentCopy::File {
        path: last_good.path().to_path_buf(),
        sha256: Sha256::digest(&document).into(),
    }
}

fn build<C: crate::snapshot::Consumer>(
    snapshot: &Snapshot<C>,
    document: DocumentCopy,
    pools: &PoolCache,
    jwks: &JwksCache,
) -> Result<Loaded, CompileErrors> {
    let compiled = CompiledSnapshot::compile(snapshot, Some(pools))?;
    let plan_limits = compiled.plans.iter().map(plan_limits).collect();
    // The issuers were checked when compiling; a failure here would be a bug in that check.
    let jwt = JwtVerifier::new(&compiled.jwt_issuers, jwks).map_err(|errors| {
        let errors = errors.into_iter().map(|error| crate::compiled::CompileError {
            field: "jwt_issuers".into(),
            message: error.to_string(),
        });
        CompileErrors(errors.collect())
    })?;
    let health_checks = crate::health::HealthChecks::start(&compiled);
    let route_metrics = compiled
        .apis
        .iter()
        .map(|api| (0..=api.versions.len()).map(|_| std::sync::OnceLock::new()).collect())
        .collect();
    Ok(Loaded {
        compiled,
        document,
        route_metrics,
        jwt,
        plan_limits,
        _health_checks: health_checks,
    })
}

fn plan_limits(plan: &crate::snapshot::PlanSpec) -> PlanLimits {
    let rate = plan.rate_limit.map(|rate| crate::limit::RateLimit {
        requests: rate.requests,
        window: Duration::from_secs(rate.window_seconds),
    });
    let quota = plan.quota.map(|quota| crate::limit::QuotaLimit {
        requests: quota.requests,
        period: match quota.period {
            QuotaPeriodSpec::Day => crate::limit::QuotaPeriod::Day,
            QuotaPeriodSpec::Month => crate::limit::QuotaPeriod::Month,
        },
    });
    PlanLimits::new(plan.name.as_str(), rate, quota).expect("plan limits were checked when compiling")
}

thread_local! {
    static REQUEST_COUNTER: Cell<(u64, u64)> = const { Cell::new((0, 0)) };
}

/// `<random per-thread prefix>-<counter>` in hex: unique without a shared counter, and built
/// without the formatting machinery (it runs on every request).
fn new_request_id() -> HeaderValue {
    let (prefix, count) = REQUEST_COUNTER.with(|cell| {
        let (mut prefix, count) = cell.get();
        if prefix == 0 {
            let nanos = SystemTime::now()
                .duration_since(SystemTime::UNIX_EPOCH)
                .map_or(1, |d| d.as_nanos() as u64);
            prefix = (nanos ^ (std::thread::current().id().as_u64_hash() << 32)) | 1;
        }
        cell.set((prefix, count + 1));
        (prefix, count + 1)
    });
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut id = [0u8; 33];
    for (index, slot) in id[..16].iter_mut().enumerate() {
        *slot = HEX[((prefix >> (60 - 4 * index)) & 0xf) as usize];
    }
    id[16] = b'-';
    for (index, slot) in id[17..].iter_mut().enumerate() {
        *slot = HEX[((count >> (60 - 4 * index)) & 0xf) as usize];
    }
    HeaderValue::from_bytes(&id).expect("hex is a valid header value")
}

trait ThreadIdHash {
    fn as_u64_hash(&self) -> u64;
}

impl ThreadIdHash for std::thread::ThreadId {
    fn as_u64_hash(&self) -> u64 {
        use std::hash::{Hash, Hasher};
        let mut hasher = std::collections::hash_map::DefaultHasher::new();
        self.hash(&mut hasher);
        hasher.finish()
    }
}
