//! OpenTelemetry over OTLP/HTTP, only when an OTLP endpoint is configured: one server span per
//! request, continuing the client's W3C trace context and handing the gateway's span to the
//! upstream in `traceparent`, and the same metrics as the Prometheus scrape (`metrics`,
//! `fleet`), under the names and attributes `deploy/METRICS.md` lists, with the same buckets.
//!
//! The SDK batches spans and reads metrics on two threads of its own, so the request path only
//! queues a finished span and updates a histogram. Exports go out through `export::ExportClient`.
//! Dropping [`Otel`] flushes what is queued, waiting at most [`EXPORT_TIMEOUT`] per signal.

mod export;

use std::borrow::Cow;
use std::sync::Weak;
use std::time::Duration;

use http::header::{self, HeaderName, HeaderValue};
use http::uri::{Authority, Scheme, Uri};
use http::{Method, Request};
use opentelemetry::metrics::{AsyncInstrument, Histogram, Meter, MeterProvider as _};
use opentelemetry::trace::{
    Span as _, SpanContext, SpanId, SpanKind, Status, TraceContextExt as _, TraceFlags, TraceId, TraceState,
    Tracer as _, TracerProvider as _,
};
use opentelemetry::{Context, InstrumentationScope, KeyValue};
use opentelemetry_otlp::{MetricExporter, Protocol, SpanExporter, WithExportConfig as _, WithHttpConfig as _};
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::metrics::{PeriodicReader, SdkMeterProvider};
use opentelemetry_sdk::trace::{BatchConfigBuilder, BatchSpanProcessor, SdkTracer, SdkTracerProvider};

use super::Outcome;
use super::metrics::{GATEWAY_BUCKETS, Label, REQUEST_BUCKETS, RequestLabels};
use crate::runtime::Runtime;

/// W3C Trace Context: the caller's span, and vendors' state that travels with it.
pub const TRACEPARENT: HeaderName = HeaderName::from_static("traceparent");
pub const TRACESTATE: HeaderName = HeaderName::from_static("tracestate");

/// Longest an export may take, retries included; shutdown waits at most this long per signal.
pub const EXPORT_TIMEOUT: Duration = Duration::from_secs(5);

/// Where and how often to export. `Copy`, like the [`super::TelemetrySettings`] it sits in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OtlpSettings {
    /// The collector's base URL, without a trailing slash; `/v1/traces` and `/v1/metrics` are
    /// added to it.
    pub endpoint: &'static str,
    /// Longest a finished span or a metric point waits before it is exported.
    pub export_interval: Duration,
    /// The resource's `service.instance.id` (the Prometheus `instance`); none when unset.
    pub instance: Option<&'static str>,
}

/// Why OTLP export could not start.
#[derive(Debug, thiserror::Error)]
pub enum OtelError {
    #[error("otlp_endpoint must be an http:// or https:// URL with a host, not `{0}`")]
    Endpoint(String),
    #[error("the OTLP exporter: {0}")]
    Exporter(#[from] opentelemetry_otlp::ExporterBuildError),
}

/// The OpenTelemetry pipeline: a tracer and the request-duration histogram, both exporting
/// over OTLP/HTTP with protobuf bodies.
pub struct Otel {
    tracer: SdkTracer,
    tracer_provider: SdkTracerProvider,
    meter_provider: SdkMeterProvider,
    meter: Meter,
    duration: Histogram<f64>,
    client_duration: Histogram<f64>,
    gateway_duration: Histogram<f64>,
    /// `gatehouse.shadow.refusals`: what shadowed rules would have refused (`shadow`).
    shadow_refusals: opentelemetry::metrics::Counter<u64>,
}

/// The server span of one request, from [`Otel::start_span`] to [`Otel::end_span`]. Boxed, so
/// that an `Option<RequestSpan>` costs the request path one word when OTLP is off.
pub struct RequestSpan(Box<opentelemetry_sdk::trace::Span>);

/// The resource's `service.name`: the Prometheus `job` of metrics that come over OTLP.
pub const SERVICE_NAME: &str = "gatehouse-gateway";

// Attribute names: OpenTelemetry's HTTP semantic conventions, then Gatehouse's own.
const HTTP_REQUEST_METHOD: &str = "http.request.method";
const HTTP_REQUEST_METHOD_ORIGINAL: &str = "http.request.method_original";
const HTTP_RESPONSE_STATUS_CODE: &str = "http.response.status_code";
const URL_PATH: &str = "url.path";
const URL_SCHEME: &str = "url.scheme";
const SERVER_ADDRESS: &str = "server.address";
const SERVER_PORT: &str = "server.port";
const ERROR_TYPE: &str = "error.type";
const GATEHOUSE_API: &str = "gatehouse.api";
const GATEHOUSE_API_VERSION: &str = "gatehouse.api_version";
const GATEHOUSE_CONSUMER: &str = "gatehouse.consumer";
const GATEHOUSE_REFUSAL: &str = "gatehouse.refusal";
const GATEHOUSE_OPERATION: &str = "gatehouse.operation";
const GATEHOUSE_APPLICATION: &str = "gatehouse.application";
const GATEHOUSE_PLAN: &str = "gatehouse.plan";
const GATEHOUSE_TARGET: &str = "gatehouse.target";
const GATEHOUSE_CERTIFICATE: &str = "gatehouse.certificate";
const GATEHOUSE_RULE_KIND: &str = "gatehouse.rule_kind";
const GATEHOUSE_RULE: &str = "gatehouse.rule";

// === impl OtlpSettings ===

impl OtlpSettings {
    /// How often spans and metrics are exported unless told otherwise.
    pub const DEFAULT_EXPORT_INTERVAL: Duration = Duration::from_secs(10);

    /// Checks the collector's URL (`http://127.0.0.1:4318`). The string is kept for the life of
    /// the process, so that the settings stay `Copy`; a gateway reads them once, at start.
    pub fn new(endpoint: &str) -> Result<OtlpSettings, OtelError> {
        let trimmed = endpoint.trim().trim_end_matches('/');
        let valid = trimmed.parse::<Uri>().is_ok_and(|uri| {
            matches!(uri.scheme_str(), Some("http" | "https")) && uri.host().is_some_and(|host| !host.is_empty())
        });
        if !valid {
            return Err(OtelError::Endpoint(endpoint.to_owned()));
        }
        Ok(OtlpSettings {
            endpoint: Box::leak(trimmed.to_owned().into_boxed_str()),
            export_interval: OtlpSettings::DEFAULT_EXPORT_INTERVAL,
            instance: None,
        })
    }

    /// The same settings, naming the gateway `instance` (kept for the life of the process).
    pub fn with_instance(self, instance: &str) -> OtlpSettings {
        OtlpSettings {
            instance: Some(Box::leak(instance.to_owned().into_boxed_str())),
            ..self
        }
    }

    /// The same settings, exporting every `export_interval`.
    pub fn with_export_interval(self, export_interval: Duration) -> OtlpSettings {
        OtlpSettings {
            export_interval,
            ..self
        }
    }
}

// === impl Otel ===

impl Otel {
    /// Builds the exporters and starts the SDK's batching threads; nothing is sent until there
    /// is something to send.
    pub fn new(settings: &OtlpSettings) -> Result<Otel, OtelError> {
        let mut resource = Resource::builder_empty()
            .with_service_name(SERVICE_NAME)
            .with_attribute(KeyValue::new("service.version", env!("CARGO_PKG_VERSION")));
        if let Some(instance) = settings.instance {
            resource = resource.with_attribute(KeyValue::new("service.instance.id", instance));
        }
        let resource = resource.build();
        let span_exporter = SpanExporter::builder()
            .with_http()
            .with_protocol(Protocol::HttpBinary)
            .with_endpoint(format!("{}/v1/traces", settings.endpoint))
            .with_timeout(EXPORT_TIMEOUT)
            .with_http_client(export::ExportClient::new(EXPORT_TIMEOUT))
            .build()?;
        let batch_config = BatchConfigBuilder::default()
            .with_scheduled_delay(settings.export_interval)
            .build();
        let tracer_provider = SdkTracerProvider::builder()
            .with_span_processor(
                BatchSpanProcessor::builder(span_exporter)
                    .with_batch_config(batch_config)
                    .build(),
            )
            .with_resource(resource.clone())
            .build();
        let metric_exporter = MetricExporter::builder()
            .with_http()
            .with_protocol(Protocol::HttpBinary)
            .with_endpoint(format!("{}/v1/metrics", settings.endpoint))
            .with_timeout(EXPORT_TIMEOUT)
            .with_http_client(export::ExportClient::new(EXPORT_TIMEOUT))
            .build()?;
        let meter_provider = SdkMeterProvider::builder()
            .with_reader(
                PeriodicReader::builder(metric_exporter)
                    .with_interval(settings.export_interval)
                    .build(),
            )
            .with_resource(resource)
            .build();
        let scope = InstrumentationScope::builder("gatehouse")
            .with_version(env!("CARGO_PKG_VERSION"))
            .build();
        let meter = meter_provider.meter_with_scope(scope.clone());
        let histogram = |name: &'static str, description: &'static str, boundaries: &[f64]| {
            meter
                .f64_histogram(name)
                .with_unit("s")
                .with_description(description)
                .with_boundaries(boundaries.to_vec())
                .build()
        };
        let duration = histogram(
            "http.server.request.duration",
            "Duration of HTTP server requests, from request to response headers",
            &REQUEST_BUCKETS,
        );
        let client_duration = histogram(
            "http.client.request.duration",
            "Duration of the gateway's requests to upstreams, to the response headers",
            &REQUEST_BUCKETS,
        );
        let gateway_duration = histogram(
            "gatehouse.gateway.duration",
            "The gateway's own share of a proxied request's time",
            &GATEWAY_BUCKETS,
        );
        let shadow_refusals = meter
            .u64_counter("gatehouse.shadow.refusals")
            .with_description("Requests a shadowed access policy or plan would have refused")
            .build();
        Ok(Otel {
            shadow_refusals,
            tracer: tracer_provider.tracer_with_scope(scope),
            tracer_provider,
            meter_provider,
            meter,
            duration,
            client_duration,
            gateway_duration,
        })
    }

    /// Registers the gateway-wide metrics (`fleet`), read from `runtime` at each export; once
    /// the runtime is gone they report nothing.
    pub fn observe_fleet(&self, runtime: &Weak<Runtime>) {
        let reading = |read: fn(&Runtime) -> u64| {
            let runtime = runtime.clone();
            move |observer: &dyn AsyncInstrument<u64>| {
                if let Some(runtime) = runtime.upgrade() {
                    observer.observe(read(&runtime), &[]);
                }
            }
        };
        self.meter
            .u64_observable_gauge("gatehouse.snapshot.revision")
            .with_description("Revision of the snapshot in force")
            .with_callback(reading(|runtime| runtime.telemetry.metrics.snapshot_readings().0))
            .build();
        self.meter
            .u64_observable_counter("gatehouse.snapshot.rejected")
            .with_unit("{snapshot}")
            .with_description("Snapshots refused as invalid")
            .with_callback(reading(|runtime| runtime.telemetry.metrics.snapshot_readings().2))
            .build();
        self.meter
            .u64_observable_counter("gatehouse.rate_limit.store.failures")
            .with_unit("{check}")
            .with_description("Rate-limit checks the shared store did not answer")
            .with_callback(reading(|runtime| runtime.limiter.store_failures()))
            .build();
        self.meter
            .u64_observable_counter("gatehouse.rate_limit.failed_open")
            .with_unit("{request}")
            .with_description("Requests let through unlimited because the shared store did not answer")
            .with_callback(reading(|runtime| runtime.limiter.failed_open()))
            .build();
        let load = runtime.clone();
        self.meter
            .f64_observable_gauge("gatehouse.snapshot.load.duration")
            .with_unit("s")
            .with_description("Time the last snapshot took to parse, compile and swap")
            .with_callback(move |observer| {
                if let Some(runtime) = load.upgrade() {
                    observer.observe(runtime.telemetry.metrics.snapshot_readings().1, &[]);
                }
            })
            .build();
        let targets = runtime.clone();
        self.meter
            .u64_observable_gauge("gatehouse.upstream.target.up")
            .with_description("1 when an upstream target takes traffic")
            .with_callback(move |observer| {
                let Some(runtime) = targets.upgrade() else { return };
                for target in super::fleet::targets(&runtime) {
                    let attributes = [
                        KeyValue::new(GATEHOUSE_API, target.api),
                        KeyValue::new(GATEHOUSE_TARGET, target.target),
                    ];
                    observer.observe(u64::from(target.up), &attributes);
                }
            })
            .build();
        let limits = runtime.clone();
        self.meter
            .u64_observable_gauge("gatehouse.plan.rate_limit")
            .with_unit("{request}")
            .with_description("Requests a plan's rate limit allows per window")
            .with_callback(move |observer| {
                let Some(runtime) = limits.upgrade() else { return };
                for plan in super::fleet::plans(&runtime) {
                    observer.observe(plan.requests, &[KeyValue::new(GATEHOUSE_PLAN, plan.plan)]);
                }
            })
            .build();
        let certificates = runtime.clone();
        self.meter
            .f64_observable_gauge("gatehouse.tls.certificate.expiry")
            .with_unit("s")
            .with_description("Seconds until a TLS listener certificate's not-after")
            .with_callback(move |observer| {
                let Some(runtime) = certificates.upgrade() else { return };
                for certificate in super::fleet::certificates(&runtime) {
                    let attributes = [KeyValue::new(GATEHOUSE_CERTIFICATE, certificate.certificate)];
                    observer.observe(certificate.expiry_seconds, &attributes);
                }
            })
            .build();
        let windows = runtime.clone();
        self.meter
            .f64_observable_gauge("gatehouse.plan.rate_window")
            .with_unit("s")
            .with_description("A plan's rate-limit window")
            .with_callback(move |observer| {
                let Some(runtime) = windows.upgrade() else { return };
                for plan in super::fleet::plans(&runtime) {
                    observer.observe(plan.window_seconds, &[KeyValue::new(GATEHOUSE_PLAN, plan.plan)]);
                }
            })
            .build();
    }

    /// Starts the request's server span as a child of the client's span when the request
    /// carries a valid `traceparent`, else as the root of a new trace. Then sets `traceparent`
    /// on the request to the gateway's span, for the upstream; `tracestate` goes on unchanged,
    /// unless the trace is new, when it belongs to no trace any more and is removed.
    pub fn start_span<B>(&self, request: &mut Request<B>) -> RequestSpan {
        let client_span = client_span_context(request.headers());
        let continued = client_span.is_some();
        let parent = client_span.map_or_else(Context::new, |client_span| {
            Context::new().with_remote_span_context(client_span)
        });
        let method = method_name(request.method());
        let mut attributes = Vec::with_capacity(12);
        attributes.push(KeyValue::new(HTTP_REQUEST_METHOD, method.unwrap_or("_OTHER")));
        if method.is_none() {
            attributes.push(KeyValue::new(
                HTTP_REQUEST_METHOD_ORIGINAL,
                request.method().as_str().to_owned(),
            ));
        }
        attributes.push(KeyValue::new(URL_PATH, request.uri().path().to_owned()));
        let scheme = if request.uri().scheme() == Some(&Scheme::HTTPS) {
            "https"
        } else {
            "http"
        };
        attributes.push(KeyValue::new(URL_SCHEME, scheme));
        if let Some(authority) = server_authority(request.uri(), request.headers()) {
            attributes.push(KeyValue::new(SERVER_ADDRESS, authority.host().to_owned()));
            if let Some(port) = authority.port_u16() {
                attributes.push(KeyValue::new(SERVER_PORT, i64::from(port)));
            }
        }
        // The name is the method until the API is known; `end_span` completes it.
        let span = self
            .tracer
            .span_builder(method.unwrap_or("HTTP"))
            .with_kind(SpanKind::Server)
            .with_attributes(attributes)
            .start_with_context(&self.tracer, &parent);
        let headers = request.headers_mut();
        headers.insert(TRACEPARENT, traceparent(span.span_context()));
        if !continued {
            headers.remove(TRACESTATE);
        }
        RequestSpan(Box::new(span))
    }

    /// Completes the span with what the request came to (API, version, consumer, status,
    /// refusal) and hands it to the batch exporter.
    pub fn end_span(&self, request_span: RequestSpan, outcome: &Outcome<'_>) {
        let mut span = request_span.0;
        if !span.is_recording() {
            return;
        }
        let status = outcome.status.as_u16();
        span.set_attribute(KeyValue::new(HTTP_RESPONSE_STATUS_CODE, i64::from(status)));
        let context = outcome.context;
        if let Some(routed) = context.routed {
            let api = &outcome.loaded.compiled.apis[routed.api];
            span.update_name(format!(
                "{} {}",
                method_name(outcome.method).unwrap_or("HTTP"),
                api.name
            ));
            span.set_attribute(KeyValue::new(GATEHOUSE_API, api.name.clone()));
            if let Some(version) = routed.version {
                span.set_attribute(KeyValue::new(GATEHOUSE_API_VERSION, api.versions[version].name.clone()));
            }
        }
        if let Some(caller) = &context.caller {
            span.set_attribute(KeyValue::new(GATEHOUSE_CONSUMER, caller.user.clone()));
        }
        if let Some(refusal) = context.refusal {
            span.set_attribute(KeyValue::new(GATEHOUSE_REFUSAL, refusal));
        }
        // A server span is in error for a 5xx only: a 4xx is the client's mistake.
        if status >= 500 {
            let error_type = context.refusal.map_or(Cow::Owned(status.to_string()), Cow::Borrowed);
            span.set_attribute(KeyValue::new(ERROR_TYPE, error_type.clone()));
            span.set_status(Status::error(error_type));
        }
        span.end();
    }

    /// Records a request: its labels as the Prometheus scrape has them, renamed to attributes
    /// (an empty one left out), in `http.server.request.duration`, and its upstream's share in
    /// `http.client.request.duration` and `gatehouse.gateway.duration`. Values are the
    /// snapshot's shared strings: nothing is copied.
    pub fn record(&self, labels: &RequestLabels, total: Duration, upstream: Option<Duration>) {
        let mut attributes = Vec::with_capacity(9);
        attributes.push(KeyValue::new(HTTP_REQUEST_METHOD, labels.http_request_method));
        attributes.push(KeyValue::new(
            HTTP_RESPONSE_STATUS_CODE,
            i64::from(labels.http_response_status_code),
        ));
        let push = |attributes: &mut Vec<KeyValue>, key: &'static str, label: &Label| {
            if !label.value().is_empty() {
                attributes.push(KeyValue::new(key, label.value().clone()));
            }
        };
        push(&mut attributes, GATEHOUSE_API, &labels.gatehouse_api);
        push(&mut attributes, GATEHOUSE_API_VERSION, &labels.gatehouse_api_version);
        let route_attributes = attributes.len();
        push(&mut attributes, GATEHOUSE_OPERATION, &labels.gatehouse_operation);
        push(&mut attributes, GATEHOUSE_CONSUMER, &labels.gatehouse_consumer);
        push(&mut attributes, GATEHOUSE_APPLICATION, &labels.gatehouse_application);
        push(&mut attributes, GATEHOUSE_PLAN, &labels.gatehouse_plan);
        if !labels.gatehouse_refusal.is_empty() {
            attributes.push(KeyValue::new(GATEHOUSE_REFUSAL, labels.gatehouse_refusal));
        }
        self.duration.record(total.as_secs_f64(), &attributes);
        if let Some(upstream) = upstream {
            // API and version only, as the scrape has them: they follow method and status.
            let route = &attributes[2..route_attributes];
            self.client_duration.record(upstream.as_secs_f64(), route);
            self.gateway_duration
                .record(total.saturating_sub(upstream).as_secs_f64(), route);
        }
    }

    /// Counts a would-be refusal with the scrape's labels as attributes (`gatehouse.rule_kind`,
    /// `gatehouse.rule`, and `gatehouse.consumer` unless empty).
    pub(super) fn record_shadow(&self, labels: &super::shadow::ShadowLabels) {
        let mut attributes = Vec::with_capacity(3);
        attributes.push(KeyValue::new(GATEHOUSE_RULE_KIND, labels.gatehouse_rule_kind));
        attributes.push(KeyValue::new(GATEHOUSE_RULE, labels.gatehouse_rule.value().clone()));
        if !labels.gatehouse_consumer.value().is_empty() {
            attributes.push(KeyValue::new(
                GATEHOUSE_CONSUMER,
                labels.gatehouse_consumer.value().clone(),
            ));
        }
        self.shadow_refusals.add(1, &attributes);
    }

    /// Exports what is queued now. Blocks for up to [`EXPORT_TIMEOUT`] per signal, and never on
    /// the Tokio runtime: async code calls it through `spawn_blocking`.
    pub fn flush(&self) {
        report("flushing spans", self.tracer_provider.force_flush());
        report("flushing metrics", self.meter_provider.force_flush());
    }

    /// Exports what is left and stops the SDK's threads; later spans and points are dropped.
    /// Blocks like [`Otel::flush`]. Dropping `Otel` does it too, for a gateway that did not.
    pub fn shutdown(&self) {
        report(
            "exporting the last spans",
            self.tracer_provider.shutdown_with_timeout(EXPORT_TIMEOUT),
        );
        report(
            "exporting the last metrics",
            self.meter_provider.shutdown_with_timeout(EXPORT_TIMEOUT),
        );
    }
}

impl Drop for Otel {
    fn drop(&mut self) {
        self.shutdown();
    }
}

fn report(what: &str, result: opentelemetry_sdk::error::OTelSdkResult) {
    match result {
        Ok(()) | Err(opentelemetry_sdk::error::OTelSdkError::AlreadyShutdown) => {}
        Err(error) => tracing::warn!(%error, "{what} to the OTLP endpoint failed"),
    }
}

/// The method as the semantic conventions name it; `None` for one they do not know.
fn method_name(method: &Method) -> Option<&'static str> {
    Some(super::method_name(method)).filter(|name| *name != "_OTHER")
}

/// The host the client addressed: the URI's authority (HTTP/2, absolute form), else `Host`.
fn server_authority(uri: &Uri, headers: &http::HeaderMap) -> Option<Authority> {
    uri.authority().cloned().or_else(|| {
        headers
            .get(header::HOST)
            .and_then(|host| Authority::try_from(host.as_bytes()).ok())
    })
}

/// The client's span from a valid W3C `traceparent` (version 00, or a later one read as 00),
/// with its `tracestate`; `None` when there is none or it is malformed. Written out rather than
/// through the SDK's propagator, which costs several allocations per request.
fn client_span_context(headers: &http::HeaderMap) -> Option<SpanContext> {
    let text = headers.get(TRACEPARENT)?.as_bytes();
    if text.len() < 55 || text[2] != b'-' || text[35] != b'-' || text[52] != b'-' {
        return None;
    }
    let [version] = lowercase_hex::<1>(&text[..2])?;
    // Version 00 is exactly 55 characters; a later version may append `-` and more fields.
    let length_fits = if version == 0 {
        text.len() == 55
    } else {
        text.len() == 55 || text[55] == b'-'
    };
    if version == 0xff || !length_fits {
        return None;
    }
    let trace_id = TraceId::from_bytes(lowercase_hex(&text[3..35])?);
    let span_id = SpanId::from_bytes(lowercase_hex(&text[36..52])?);
    let [flags] = lowercase_hex::<1>(&text[53..55])?;
    if trace_id == TraceId::INVALID || span_id == SpanId::INVALID {
        return None;
    }
    let trace_state = headers
        .get(TRACESTATE)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.parse::<TraceState>().ok())
        .unwrap_or_default();
    let flags = TraceFlags::new(flags) & TraceFlags::SAMPLED;
    Some(SpanContext::new(trace_id, span_id, flags, true, trace_state))
}

/// `N` bytes from `2 * N` lowercase hex digits, as W3C Trace Context writes them.
fn lowercase_hex<const N: usize>(digits: &[u8]) -> Option<[u8; N]> {
    let nibble = |digit: u8| match digit {
        b'0'..=b'9' => Some(digit - b'0'),
        b'a'..=b'f' => Some(digit - b'a' + 10),
        _ => None,
    };
    let mut bytes = [0u8; N];
    for (byte, pair) in bytes.iter_mut().zip(digits.chunks_exact(2)) {
        *byte = nibble(pair[0])? << 4 | nibble(pair[1])?;
    }
    Some(bytes)
}

/// `traceparent` naming `span_context` as the parent: `00-<trace id>-<span id>-<flags>`.
fn traceparent(span_context: &SpanContext) -> HeaderValue {
    let mut text = [0u8; 55];
    text[..3].copy_from_slice(b"00-");
    hex::encode_to_slice(span_context.trace_id().to_bytes(), &mut text[3..35]).expect("32 hex digits fit");
    text[35] = b'-';
    hex::encode_to_slice(span_context.span_id().to_bytes(), &mut text[36..52]).expect("16 hex digits fit");
    text[52] = b'-';
    hex::encode_to_slice([span_context.trace_flags().to_u8()], &mut text[53..55]).expect("2 hex digits fit");
    HeaderValue::from_bytes(&text).expect("hex digits and dashes make a header value")
}

#[cfg(test)]
mod tests;
