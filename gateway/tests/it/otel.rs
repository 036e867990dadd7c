//! OpenTelemetry: W3C trace context through the gateway, and what it exports over OTLP/HTTP to a
//! real receiver on loopback that decodes the protobuf bodies.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::routing::post;
use gateway::telemetry::{OtlpSettings, TelemetrySettings};
use http::StatusCode;
use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::{KeyValue, any_value};
use opentelemetry_proto::tonic::metrics::v1::{HistogramDataPoint, metric};
use opentelemetry_proto::tonic::trace::v1::{Span, span};
use prost::Message;
use serde_json::Value;

use crate::support::{ALICE_KEY, TestGateway, client, snapshot};
use crate::upstream::Upstream;

const CLIENT_TRACE_ID: &str = "4bf92f3577b34da6a3ce929d0e0e4736";
const CLIENT_SPAN_ID: &str = "00f067aa0ba902b7";
const CLIENT_TRACEPARENT: &str = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
const CLIENT_TRACESTATE: &str = "congo=t61rcWkgMzE,rojo=00f067aa0ba902b7";

#[tokio::test]
async fn otlp_exports_a_span_that_continues_the_clients_trace() {
    let receiver = Receiver::start().await;
    let upstream = Upstream::start("one").await;
    let gateway = TestGateway::with_telemetry(snapshot(&upstream.url(), 100), receiver.settings()).await;

    let (status, body) = get(
        &gateway,
        "/pets/v1/dogs",
        &[
            ("x-api-key", ALICE_KEY),
            ("traceparent", CLIENT_TRACEPARENT),
            ("tracestate", CLIENT_TRACESTATE),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let sent = &body["headers"];
    let upstream_parent = sent["traceparent"].as_str().expect("a traceparent goes upstream");
    let fields: Vec<&str> = upstream_parent.split('-').collect();
    assert_eq!(fields.len(), 4, "{upstream_parent}");
    assert_eq!((fields[0], fields[1], fields[3]), ("00", CLIENT_TRACE_ID, "01"));
    assert_ne!(fields[2], CLIENT_SPAN_ID, "the upstream's parent is the gateway's span");
    assert_eq!(sent["tracestate"], CLIENT_TRACESTATE, "tracestate goes on unchanged");

    let span = receiver.wait_for_span(CLIENT_TRACE_ID).await;
    assert_eq!(hex(&span.span_id), fields[2], "the span the upstream was told of");
    assert_eq!(
        hex(&span.parent_span_id),
        CLIENT_SPAN_ID,
        "the client's span is the parent"
    );
    assert_eq!(span.kind, span::SpanKind::Server as i32);
    assert_eq!(span.name, "GET pets");
    assert_eq!(string(&span.attributes, "gatehouse.api"), Some("pets"));
    assert_eq!(string(&span.attributes, "gatehouse.api_version"), Some("v1"));
    assert_eq!(string(&span.attributes, "gatehouse.consumer"), Some("alice"));
    assert_eq!(string(&span.attributes, "http.request.method"), Some("GET"));
    assert_eq!(string(&span.attributes, "url.path"), Some("/pets/v1/dogs"));
    assert_eq!(string(&span.attributes, "server.address"), Some("127.0.0.1"));
    assert_eq!(int(&span.attributes, "http.response.status_code"), Some(200));
    assert_eq!(string(&span.attributes, "gatehouse.refusal"), None);

    let point = receiver
        .wait_for_duration_point(|point| string(&point.attributes, "gatehouse.api") == Some("pets"))
        .await;
    assert!(point.count >= 1);
    assert!(
        point.sum.is_some_and(|sum| sum > 0.0 && sum < 10.0),
        "seconds, not milliseconds"
    );
    assert_eq!(string(&point.attributes, "gatehouse.api_version"), Some("v1"));
    assert_eq!(string(&point.attributes, "http.request.method"), Some("GET"));
    assert_eq!(int(&point.attributes, "http.response.status_code"), Some(200));
    shut_down(&gateway).await;
}

#[tokio::test]
async fn otlp_starts_a_new_trace_and_names_refusals() {
    let receiver = Receiver::start().await;
    let upstream = Upstream::start("one").await;
    let gateway = TestGateway::with_telemetry(snapshot(&upstream.url(), 100), receiver.settings()).await;

    // No traceparent: a new trace, and a tracestate of no trace is dropped.
    let (status, body) = get(
        &gateway,
        "/pets/v1/cats",
        &[("x-api-key", ALICE_KEY), ("tracestate", CLIENT_TRACESTATE)],
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let upstream_parent = body["headers"]["traceparent"]
        .as_str()
        .expect("a traceparent goes upstream");
    let trace_id = upstream_parent.split('-').nth(1).unwrap().to_owned();
    assert_ne!(trace_id, CLIENT_TRACE_ID);
    assert!(body["headers"].get("tracestate").is_none());
    let span = receiver.wait_for_span(&trace_id).await;
    assert!(span.parent_span_id.is_empty(), "a root span");

    // A refusal is traced too, with its rule; a malformed traceparent starts a new trace.
    let refused_trace = "0af7651916cd43dd8448eb211c80319c";
    let malformed = format!("00-{refused_trace}-b7ad6b7169203331");
    let (status, _) = get(&gateway, "/pets/v1/cats", &[("traceparent", &malformed)]).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let valid = format!("00-{refused_trace}-b7ad6b7169203331-01");
    let (status, _) = get(&gateway, "/pets/v1/cats", &[("traceparent", &valid)]).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let span = receiver.wait_for_span(refused_trace).await;
    assert_eq!(hex(&span.parent_span_id), "b7ad6b7169203331");
    assert_eq!(int(&span.attributes, "http.response.status_code"), Some(401));
    assert_eq!(
        string(&span.attributes, "gatehouse.refusal"),
        Some("credentials_missing")
    );
    assert_eq!(
        receiver.spans_of(refused_trace),
        1,
        "the malformed traceparent was not continued"
    );
    shut_down(&gateway).await;
}

#[tokio::test]
async fn without_otlp_the_trace_context_reaches_the_upstream_unchanged() {
    let upstream = Upstream::start("one").await;
    let gateway = TestGateway::start(snapshot(&upstream.url(), 100)).await;
    let (status, body) = get(
        &gateway,
        "/pets/v1/dogs",
        &[
            ("x-api-key", ALICE_KEY),
            ("traceparent", CLIENT_TRACEPARENT),
            ("tracestate", CLIENT_TRACESTATE),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["headers"]["traceparent"], CLIENT_TRACEPARENT);
    assert_eq!(body["headers"]["tracestate"], CLIENT_TRACESTATE);
}

async fn get(gateway: &TestGateway, path: &str, headers: &[(&str, &str)]) -> (StatusCode, Value) {
    let mut request = client().get(gateway.url(path));
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let response = request.send().await.unwrap();
    let status = response.status();
    (status, response.json().await.unwrap_or(Value::Null))
}

/// Exports what is left while the receiver still answers, off the test's runtime (which the
/// receiver runs on), as a binary would on its way out.
async fn shut_down(gateway: &TestGateway) {
    let runtime = gateway.runtime.clone();
    tokio::task::spawn_blocking(move || runtime.telemetry.otel.as_ref().expect("OTLP is on").shutdown())
        .await
        .unwrap();
}

/// An OTLP/HTTP receiver: accepts protobuf exports on `/v1/traces` and `/v1/metrics` and keeps
/// what they held. Stops when dropped.
struct Receiver {
    url: String,
    received: Arc<Received>,
    task: tokio::task::JoinHandle<()>,
}

#[derive(Default)]
struct Received {
    spans: Mutex<Vec<Span>>,
    duration_points: Mutex<Vec<HistogramDataPoint>>,
}

impl Drop for Receiver {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// How long a test waits for an export; the gateway exports every 100 ms.
const DEADLINE: Duration = Duration::from_secs(10);

impl Receiver {
    async fn start() -> Receiver {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let received = Arc::new(Received::default());
        let router = Router::new()
            .route("/v1/traces", post(traces))
            .route("/v1/metrics", post(metrics))
            .with_state(received.clone());
        let task = tokio::spawn(async move {
            axum::serve(listener, router).await.unwrap();
        });
        Receiver { url, received, task }
    }

    fn settings(&self) -> TelemetrySettings {
        let otlp = OtlpSettings::new(&self.url)
            .unwrap()
            .with_export_interval(Duration::from_millis(100));
        TelemetrySettings {
            otlp: Some(otlp),
            ..TelemetrySettings::default()
        }
    }

    fn spans_of(&self, trace_id: &str) -> usize {
        let spans = self.received.spans.lock().unwrap();
        spans.iter().filter(|span| hex(&span.trace_id) == trace_id).count()
    }

    async fn wait_for_span(&self, trace_id: &str) -> Span {
        let found = || {
            let spans = self.received.spans.lock().unwrap();
            spans.iter().find(|span| hex(&span.trace_id) == trace_id).cloned()
        };
        poll(found, &format!("a span of trace {trace_id}")).await
    }

    async fn wait_for_duration_point(&self, matches: impl Fn(&HistogramDataPoint) -> bool) -> HistogramDataPoint {
        let found = || {
            let points = self.received.duration_points.lock().unwrap();
            points.iter().rev().find(|point| matches(point)).cloned()
        };
        poll(found, "an http.server.request.duration point").await
    }
}

/// Calls `found` until it finds something, for at most [`DEADLINE`].
async fn poll<T>(found: impl Fn() -> Option<T>, what: &str) -> T {
    let started = Instant::now();
    loop {
        if let Some(value) = found() {
            return value;
        }
        assert!(started.elapsed() < DEADLINE, "no {what} within {DEADLINE:?}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn traces(State(received): State<Arc<Received>>, body: Bytes) -> StatusCode {
    let Ok(request) = ExportTraceServiceRequest::decode(body) else {
        return StatusCode::BAD_REQUEST;
    };
    let spans = request
        .resource_spans
        .into_iter()
        .flat_map(|resource| resource.scope_spans)
        .flat_map(|scope| scope.spans);
    received.spans.lock().unwrap().extend(spans);
    StatusCode::OK
}

async fn metrics(State(received): State<Arc<Received>>, body: Bytes) -> StatusCode {
    let Ok(request) = ExportMetricsServiceRequest::decode(body) else {
        return StatusCode::BAD_REQUEST;
    };
    let points = request
        .resource_metrics
        .into_iter()
        .flat_map(|resource| resource.scope_metrics)
        .flat_map(|scope| scope.metrics)
        .filter(|metric| metric.name == "http.server.request.duration" && metric.unit == "s")
        .filter_map(|metric| match metric.data {
            Some(metric::Data::Histogram(histogram)) => Some(histogram.data_points),
            _ => None,
        })
        .flatten();
    received.duration_points.lock().unwrap().extend(points);
    StatusCode::OK
}

fn value<'a>(attributes: &'a [KeyValue], key: &str) -> Option<&'a any_value::Value> {
    attributes
        .iter()
        .find(|attribute| attribute.key == key)
        .and_then(|attribute| attribute.value.as_ref()?.value.as_ref())
}

fn string<'a>(attributes: &'a [KeyValue], key: &str) -> Option<&'a str> {
    match value(attributes, key)? {
        any_value::Value::StringValue(text) => Some(text),
        _ => None,
    }
}

fn int(attributes: &[KeyValue], key: &str) -> Option<i64> {
    match value(attributes, key)? {
        any_value::Value::IntValue(number) => Some(*number),
        _ => None,
    }
}

fn hex(bytes: &[u8]) -> String {
    hex::encode(bytes)
}
