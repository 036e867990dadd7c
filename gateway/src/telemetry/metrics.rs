//! Prometheus metrics, served on the admin port's `/metrics`, named as OpenTelemetry's
//! Prometheus compatibility rules name the OTLP instruments (`otel`), so that one query reads the
//! same either way. `deploy/METRICS.md` lists every metric and label.
//!
//! Recorded per request: `http_server_request_duration_seconds` (every request, with its
//! method, status, API, version, operation, consumer, application, plan and refusal),
//! `http_client_request_duration_seconds` (the upstream's part) and
//! `gatehouse_gateway_duration_seconds` (the gateway's own part). Gateway-wide readings
//! (snapshot, targets, plans, the shared limit store) are taken at scrape time: `fleet`.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use prometheus_client::encoding::{EncodeLabelSet, EncodeLabelValue, LabelValueEncoder};
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::{Registry, Unit};

use super::Outcome;

/// `http.server.request.duration` and `http.client.request.duration` buckets, in seconds: the
/// semantic conventions' advice, with three more below 5 ms, where a gateway's answers fall.
pub const REQUEST_BUCKETS: [f64; 17] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0,
];

/// `gatehouse.gateway.duration` buckets, in seconds: the gateway's own share is microseconds.
pub const GATEWAY_BUCKETS: [f64; 11] = [
    0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1,
];

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

/// One request's attributes, worked out once and recorded by Prometheus and by OTLP alike.
/// The field names are the Prometheus labels; `otel` names them the OpenTelemetry way. An
/// empty value is a label Prometheus drops, as an absent OTLP attribute.
#[derive(Debug, Clone, PartialEq, Eq, EncodeLabelSet)]
pub struct RequestLabels {
    pub http_request_method: &'static str,
    pub http_response_status_code: u16,
    pub gatehouse_api: Label,
    pub gatehouse_api_version: Label,
    pub gatehouse_operation: Label,
    pub gatehouse_consumer: Label,
    pub gatehouse_application: Label,
    pub gatehouse_plan: Label,
    pub gatehouse_refusal: &'static str,
}

// One write into the family's SipHash instead of one per label: the labels' own hashes mixed.
impl std::hash::Hash for RequestLabels {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        let mixed = [
            text_hash(self.http_request_method),
            u64::from(self.http_response_status_code),
            self.gatehouse_api.hash,
            self.gatehouse_api_version.hash,
            self.gatehouse_operation.hash,
            self.gatehouse_consumer.hash,
            self.gatehouse_application.hash,
            self.gatehouse_plan.hash,
            text_hash(self.gatehouse_refusal),
        ]
        .into_iter()
        .fold(0, |mixed: u64, hash| {
            (mixed.rotate_left(17) ^ hash).wrapping_mul(0x9e37_79b9_7f4a_7c15)
        });
        state.write_u64(mixed);
    }
}

/// A short static text's hash: its length and first and last bytes, enough to tell methods and
/// refusal rules apart (equal texts hash alike, which is all `Hash` must promise).
fn text_hash(text: &str) -> u64 {
    let bytes = text.as_bytes();
    let first = bytes.first().copied().unwrap_or(0);
    let last = bytes.last().copied().unwrap_or(0);
    (bytes.len() as u64) << 16 | u64::from(first) << 8 | u64::from(last)
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct RouteLabels {
    gatehouse_api: Label,
    gatehouse_api_version: Label,
}

/// One API version's upstream and gateway histograms, and its labels.
#[derive(Clone)]
pub struct RouteMetrics {
    client_duration: Histogram,
    gateway_duration: Histogram,
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

/// The per-request metrics, and the snapshot's readings the fleet metrics report.
pub struct Metrics {
    registry: Registry,
    requests: Family<RequestLabels, Histogram, fn() -> Histogram>,
    client_duration: Family<RouteLabels, Histogram, fn() -> Histogram>,
    gateway_duration: Family<RouteLabels, Histogram, fn() -> Histogram>,
    /// Revision of the snapshot in force, its load time in microseconds, and snapshots refused.
    snapshot_revision: AtomicU64,
    snapshot_load_micros: AtomicU64,
    snapshot_rejected: AtomicU64,
    none: Label,
    /// `gatehouse_shadow_refusals_total` (`shadow`).
    pub(super) shadow: super::shadow::ShadowMetrics,
}

fn request_histogram() -> Histogram {
    Histogram::new(REQUEST_BUCKETS)
}

fn gateway_histogram() -> Histogram {
    Histogram::new(GATEWAY_BUCKETS)
}

/// The method as the HTTP semantic conventions name it: `_OTHER` for one they do not know.
pub fn method_name(method: &http::Method) -> &'static str {
    use http::Method;
    match *method {
        Method::GET => "GET",
        Method::HEAD => "HEAD",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::PATCH => "PATCH",
        Method::DELETE => "DELETE",
        Method::OPTIONS => "OPTIONS",
        Method::CONNECT => "CONNECT",
        Method::TRACE => "TRACE",
        _ => "_OTHER",
    }
}

impl Metrics {
    pub fn new() -> Metrics {
        let mut registry = Registry::default();
        let requests = Family::new_with_constructor(request_histogram as fn() -> Histogram);
        registry.register_with_unit(
            "http_server_request_duration",
            "Duration of HTTP server requests, from request to response headers",
            Unit::Seconds,
            requests.clone(),
        );
        let client_duration = Family::new_with_constructor(request_histogram as fn() -> Histogram);
        registry.register_with_unit(
            "http_client_request_duration",
            "Duration of the gateway's requests to upstreams, to the response headers",
            Unit::Seconds,
            client_duration.clone(),
        );
        let gateway_duration = Family::new_with_constructor(gateway_histogram as fn() -> Histogram);
        registry.register_with_unit(
            "gatehouse_gateway_duration",
            "The gateway's own share of a proxied request's time",
            Unit::Seconds,
            gateway_duration.clone(),
        );
        let shadow = super::shadow::ShadowMetrics::register(&mut registry);
        Metrics {
            shadow,
            registry,
            requests,
            client_duration,
            gateway_duration,
            snapshot_revision: AtomicU64::new(0),
            snapshot_load_micros: AtomicU64::new(0),
            snapshot_rejected: AtomicU64::new(0),
            none: Label::new("".into()),
        }
    }

    /// Records a snapshot put in force.
    pub fn snapshot_loaded(&self, revision: u64, load_time: std::time::Duration) {
        self.snapshot_revision.store(revision, Ordering::Relaxed);
        self.snapshot_load_micros
            .store(load_time.as_micros() as u64, Ordering::Relaxed);
    }

    /// Records a snapshot refused as invalid.
    pub fn snapshot_rejected(&self) {
        self.snapshot_rejected.fetch_add(1, Ordering::Relaxed);
    }

    /// The revision in force, its load time in seconds, and how many snapshots were refused.
    pub fn snapshot_readings(&self) -> (u64, f64, u64) {
        (
            self.snapshot_revision.load(Ordering::Relaxed),
            self.snapshot_load_micros.load(Ordering::Relaxed) as f64 / 1e6,
            self.snapshot_rejected.load(Ordering::Relaxed),
        )
    }

    /// The handles of one API version's metrics, taken on the route's first request so that
    /// recording looks nothing up but the request's own series.
    pub fn route_metrics(&self, api: &Arc<str>, version: Option<&Arc<str>>) -> RouteMetrics {
        let api = Label::new(api.clone());
        let version = version.map_or_else(|| self.none.clone(), |version| Label::new(version.clone()));
        let labels = RouteLabels {
            gatehouse_api: api.clone(),
            gatehouse_api_version: version.clone(),
        };
        RouteMetrics {
            client_duration: self.client_duration.get_or_create(&labels).clone(),
            gateway_duration: self.gateway_duration.get_or_create(&labels).clone(),
            api,
            version,
        }
    }

    /// The labels of a finished request, and its route's handles (`None` when no API matched).
    pub(super) fn request_labels<'a>(
        &self,
        outcome: &Outcome<'a>,
        consumer_labels: bool,
    ) -> (RequestLabels, Option<&'a RouteMetrics>) {
        let context = outcome.context;
        let route = context
            .routed
            .map(|routed| outcome.loaded.route_metrics(self, routed.api, routed.version));
        let label =
            |value: Option<&Arc<str>>| value.map_or_else(|| self.none.clone(), |value| Label::new(value.clone()));
        let caller = context.caller.as_ref().filter(|_| consumer_labels);
        let compiled = &outcome.loaded.compiled;
        let operation = context.routed.and_then(|routed| {
            let version = &compiled.apis[routed.api].versions[routed.version?];
            Some(&version.operations[context.operation?].id)
        });
        let labels = RequestLabels {
            http_request_method: method_name(outcome.method),
            http_response_status_code: outcome.status.as_u16(),
            gatehouse_api: route.map_or_else(|| self.none.clone(), |route| route.api.clone()),
            gatehouse_api_version: route.map_or_else(|| self.none.clone(), |route| route.version.clone()),
            gatehouse_operation: label(operation),
            gatehouse_consumer: label(caller.map(|caller| &caller.user)),
            gatehouse_application: label(caller.and_then(|caller| caller.application.as_ref())),
            gatehouse_plan: label(context.plan.map(|plan| outcome.loaded.plan_limits[plan].plan_arc())),
            gatehouse_refusal: context.refusal.unwrap_or(""),
        };
        (labels, route)
    }

    /// Records a request that took `total`, `upstream` of it waiting for the upstream.
    pub(super) fn record(
        &self,
        labels: &RequestLabels,
        route: Option<&RouteMetrics>,
        total: std::time::Duration,
        upstream: Option<std::time::Duration>,
    ) {
        self.requests.get_or_create(labels).observe(total.as_secs_f64());
        if let (Some(route), Some(upstream)) = (route, upstream) {
            route.client_duration.observe(upstream.as_secs_f64());
            route
                .gateway_duration
                .observe(total.saturating_sub(upstream).as_secs_f64());
        }
    }

    /// The text exposition format: the request metrics, then the fleet's `readings`.
    pub fn encode(&self, readings: &super::fleet::FleetReadings) -> String {
        let mut text = String::new();
        prometheus_client::encoding::text::encode_registry(&mut text, &self.registry)
            .expect("writing to a String cannot fail");
        readings.encode(&mut text);
        prometheus_client::encoding::text::encode_eof(&mut text).expect("writing to a String cannot fail");
        text
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}
