//! Prometheus metrics, served on the admin port's `/metrics`.
//!
//! - `gatehouse_requests_total{api,version,method,status_class,consumer}`: every request.
//! - `gatehouse_request_duration_seconds{api,version}`: whole time in the gateway.
//! - `gatehouse_upstream_duration_seconds{api,version}`: time to the upstream's headers.
//! - `gatehouse_gateway_added_seconds{api}`: the gateway's own share (whole minus upstream).
//! - `gatehouse_refusals_total{api,reason}`: refusals by rule.
//! - `gatehouse_upstream_target_up{api,target}`: 1 when a target takes traffic (written by `admin` at scrape time).
//! - `gatehouse_snapshot_revision`, `gatehouse_snapshot_load_seconds`, `gatehouse_snapshot_rejected_total`.
//! - `gatehouse_rate_limit_store_failures_total`: calls to the shared limit store that failed.

use std::sync::Arc;

use prometheus_client::encoding::{EncodeLabelSet, EncodeLabelValue, LabelValueEncoder};
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

use super::Outcome;

/// A label value that shares the snapshot's string instead of copying it, with its content's
/// hash worked out once. The metric families hash their label sets with SipHash on every
/// request; hashing one `u64` instead of the labels' text cuts that cost by about three quarters
/// (callgrind). The hash is of the content, with a fixed seed, so
/// equal values hash alike whichever snapshot made them.
#[derive(Debug, Clone)]
pub struct Label {
    value: Arc<str>,
    hash: u64,
}

impl Label {
    pub fn new(value: Arc<str>) -> Label {
        use std::hash::BuildHasher;
        let hash = foldhash::fast::FixedState::with_seed(0x6761_7465_686f_7573).hash_one(&*value);
        Label { value, hash }
    }

    /// The content's hash, worked out when the label was made.
    pub(super) fn hash(&self) -> u64 {
        self.hash
    }

    pub(super) fn value(&self) -> &Arc<str> {
        &self.value
    }
}

impl PartialEq for Label {
    fn eq(&self, other: &Label) -> bool {
        self.hash == other.hash && (Arc::ptr_eq(&self.value, &other.value) || self.value == other.value)
    }
}

impl Eq for Label {}

impl std::hash::Hash for Label {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        state.write_u64(self.hash);
    }
}

impl EncodeLabelValue for Label {
    fn encode(&self, encoder: &mut LabelValueEncoder<'_>) -> Result<(), std::fmt::Error> {
        std::fmt::Write::write_str(encoder, &self.value)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    api: Label,
    version: Label,
    method: Label,
    status_class: &'static str,
    consumer: Label,
}

// One write into the family's SipHash instead of one per label: the labels' own hashes mixed.
impl std::hash::Hash for RequestLabels {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        let mixed = [self.api.hash, self.version.hash, self.method.hash, self.consumer.hash]
            .into_iter()
            .fold(self.status_class.as_bytes()[0] as u64, |mixed, hash| {
                (mixed.rotate_left(17) ^ hash).wrapping_mul(0x9e37_79b9_7f4a_7c15)
            });
        state.write_u64(mixed);
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct ApiVersionLabels {
    api: Label,
    version: Label,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct ApiLabels {
    api: Label,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct RefusalLabels {
    api: Label,
    reason: &'static str,
}

/// One API version's latency histograms and labels.
#[derive(Clone)]
pub struct RouteMetrics {
    duration: Histogram,
    upstream: Histogram,
    added: Histogram,
    api: Label,
    version: Label,
}

impl RouteMetrics {
    /// The API's label.
    pub(super) fn api(&self) -> &Label {
        &self.api
    }

    /// The version's label: empty for requests without a version.
    pub(super) fn version(&self) -> &Label {
        &self.version
    }
}

/// Every metric the gateway exports.
pub struct Metrics {
    registry: Registry,
    requests: Family<RequestLabels, Counter>,
    duration: Family<ApiVersionLabels, Histogram>,
    upstream_duration: Family<ApiVersionLabels, Histogram>,
    added: Family<ApiLabels, Histogram>,
    refusals: Family<RefusalLabels, Counter>,
    pub snapshot_revision: Gauge,
    snapshot_load_micros: Gauge,
    pub snapshot_rejected: Counter,
    strings: Strings,
}

/// Shared label values for what is not in the snapshot.
struct Strings {
    none: Label,
    anonymous: Label,
    methods: [Label; 8],
}

fn histogram() -> Histogram {
    // 100 µs to ~13 s.
    Histogram::new(exponential_buckets(0.0001, 2.0, 18))
}

impl Metrics {
    pub fn new() -> Metrics {
        let mut registry = Registry::with_prefix("gatehouse");
        let requests = Family::default();
        registry.register(
            "requests",
            "Requests by API, version, method, status class and consumer",
            requests.clone(),
        );
        let duration = Family::new_with_constructor(histogram as fn() -> Histogram);
        registry.register(
            "request_duration_seconds",
            "Time in the gateway, from request to response headers",
            duration.clone(),
        );
        let upstream_duration = Family::new_with_constructor(histogram as fn() -> Histogram);
        registry.register(
            "upstream_duration_seconds",
            "Time from sending upstream to its response headers",
            upstream_duration.clone(),
        );
        let added = Family::new_with_constructor(histogram as fn() -> Histogram);
        registry.register(
            "gateway_added_seconds",
            "The gateway's own share of a request's time",
            added.clone(),
        );
        let refusals = Family::default();
        registry.register("refusals", "Requests the gateway refused, by rule", refusals.clone());
        let snapshot_revision = Gauge::default();
        registry.register(
            "snapshot_revision",
            "Revision of the snapshot being enforced",
            snapshot_revision.clone(),
        );
        let snapshot_load_micros = Gauge::default();
        registry.register(
            "snapshot_load_microseconds",
            "Time the last snapshot took to parse, compile and swap",
            snapshot_load_micros.clone(),
        );
        let snapshot_rejected = Counter::default();
        registry.register(
            "snapshot_rejected",
            "Snapshots refused as invalid",
            snapshot_rejected.clone(),
        );
        let methods = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "OTHER"]
            .map(|method| Label::new(method.into()));
        Metrics {
            registry,
            requests,
            duration,
            upstream_duration,
            added,
            refusals,
            snapshot_revision,
            snapshot_load_micros,
            snapshot_rejected,
            strings: Strings {
                none: Label::new("".into()),
                anonymous: Label::new("".into()),
                methods,
            },
        }
    }

    pub fn snapshot_loaded(&self, revision: u64, load_time: std::time::Duration) {
        self.snapshot_revision.set(revision as i64);
        self.snapshot_load_micros.set(load_time.as_micros() as i64);
    }

    /// The handles of one API version's metrics, taken once when a snapshot loads so that
    /// recording a request looks nothing up but its request counter.
    pub fn route_metrics(&self, api: &Arc<str>, version: Option<&Arc<str>>) -> RouteMetrics {
        let api = Label::new(api.clone());
        let version = version.map_or_else(|| self.strings.none.clone(), |version| Label::new(version.clone()));
        let api_version = ApiVersionLabels {
            api: api.clone(),
            version: version.clone(),
        };
        RouteMetrics {
            duration: self.duration.get_or_create(&api_version).clone(),
            upstream: self.upstream_duration.get_or_create(&api_version).clone(),
            added: self.added.get_or_create(&ApiLabels { api: api.clone() }).clone(),
            api,
            version,
        }
    }

    /// Records a request that took `total`; returns its route's handles, `None` for a request
    /// no API was found for.
    pub(super) fn record<'a>(
        &self,
        outcome: &Outcome<'a>,
        total: std::time::Duration,
        consumer_labels: bool,
    ) -> Option<&'a RouteMetrics> {
        let context = outcome.context;
        let Some(routed) = context.routed else {
            let labels = RefusalLabels {
                api: self.strings.none.clone(),
                reason: context.refusal.unwrap_or("route_not_found"),
            };
            self.refusals.get_or_create(&labels).inc();
            return None;
        };
        let route = outcome.loaded.route_metrics(self, routed.api, routed.version);
        let consumer = match (&context.caller, consumer_labels) {
            (Some(caller), true) => Label::new(caller.user.clone()),
            _ => self.strings.anonymous.clone(),
        };
        let method_index = crate::access::METHODS
            .iter()
            .position(|known| *known == outcome.method.as_str())
            .unwrap_or(7);
        let status_class = super::STATUS_CLASSES[super::status_class(outcome.status)];
        let labels = RequestLabels {
            api: route.api.clone(),
            version: route.version.clone(),
            method: self.strings.methods[method_index].clone(),
            status_class,
            consumer,
        };
        self.requests.get_or_create(&labels).inc();
        route.duration.observe(total.as_secs_f64());
        if let Some(upstream) = context.upstream_time {
            route.upstream.observe(upstream.as_secs_f64());
            route.added.observe(total.saturating_sub(upstream).as_secs_f64());
        }
        if let Some(reason) = context.refusal {
            self.refusals
                .get_or_create(&RefusalLabels {
                    api: route.api.clone(),
                    reason,
                })
                .inc();
        }
        Some(route)
    }

    /// The text exposition format; `limit_store_failures` is read from the limiter, which owns it.
    pub fn encode(&self, limit_store_failures: u64) -> String {
        let mut text = String::new();
        prometheus_client::encoding::text::encode(&mut text, &self.registry).expect("writing to a String cannot fail");
        let failures = limit_store_failures;
        let eof = text.rfind("# EOF").unwrap_or(text.len());
        text.insert_str(
            eof,
            &format!(
                "# HELP gatehouse_rate_limit_store_failures Calls to the shared rate-limit store that failed.\n\
                 # TYPE gatehouse_rate_limit_store_failures counter\ngatehouse_rate_limit_store_failures_total {failures}\n"
            ),
        );
        text
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}
