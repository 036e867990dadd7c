//! The same metrics however they travel: one gateway, scraped on `/metrics` and exporting over
//! OTLP/HTTP to a real receiver (the `oteltest` package's sink, run by `tests/otlp/sink.py` in a
//! venv this test makes under `target/`). The OTLP names and attributes are translated by
//! OpenTelemetry's Prometheus compatibility rules (as a collector's Prometheus exporter does);
//! then both must hold the same metric names, the same label sets and the same values.

use std::collections::BTreeMap;
use std::io::{BufRead as _, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use gateway::telemetry::{GATEWAY_BUCKETS, OtlpSettings, REQUEST_BUCKETS, TelemetrySettings};
use serde_json::{Value, json};

use crate::support::{ALICE_KEY, BOB_KEY, TestGateway, client, snapshot};
use crate::upstream::Upstream;

/// A series: its Prometheus name and its non-empty labels, sorted.
type Series = (String, BTreeMap<String, String>);

#[tokio::test]
async fn a_scrape_and_an_otlp_export_carry_the_same_metrics() {
    let sink = Sink::start();
    let upstream = Upstream::start("one").await;
    let mut document = snapshot(&upstream.url(), 2);
    document["apis"][0]["versions"][0]["operations"] = json!([
        { "id": "listDogs", "method": "GET", "path": "/dogs" },
        { "id": "adoptDog", "method": "POST", "path": "/dogs/{id}" }
    ]);
    let otlp = OtlpSettings::new(&sink.url)
        .unwrap()
        .with_export_interval(Duration::from_millis(200))
        .with_instance("parity-test");
    let telemetry = TelemetrySettings {
        otlp: Some(otlp),
        ..TelemetrySettings::default()
    };
    let gateway = TestGateway::with_telemetry(document, telemetry).await;

    // 200s with and without an operation, a 429 under bob's plan, 401, 403, 404 and a POST.
    let client = client();
    let calls: [(&str, &str, Option<&str>, u16); 9] = [
        ("GET", "/pets/v1/dogs", Some(ALICE_KEY), 200),
        ("GET", "/pets/v1/dogs", Some(ALICE_KEY), 200),
        ("POST", "/pets/v1/dogs/7", Some(ALICE_KEY), 200),
        ("GET", "/pets/v1/cats", Some(BOB_KEY), 200),
        ("GET", "/pets/v1/dogs", Some(BOB_KEY), 200),
        ("GET", "/pets/v1/dogs", Some(BOB_KEY), 429),
        ("DELETE", "/pets/v1/dogs/7", Some(BOB_KEY), 403),
        ("GET", "/pets/v1/dogs", None, 401),
        ("GET", "/nowhere", None, 404),
    ];
    for (method, path, key, status) in calls {
        let mut request = client.request(method.parse().unwrap(), gateway.url(path));
        if let Some(key) = key {
            request = request.header("x-api-key", key);
        }
        let response = request.send().await.unwrap();
        assert_eq!(response.status().as_u16(), status, "{method} {path}");
    }

    let scraped = scrape(&gateway.metrics().await);
    let requests = |series: &BTreeMap<Series, f64>| -> f64 {
        series
            .iter()
            .filter(|((name, _), _)| name == "http_server_request_duration_seconds_count")
            .map(|(_, value)| value)
            .sum()
    };
    assert_eq!(requests(&scraped), calls.len() as f64, "{scraped:#?}");
    // Cumulative exports: wait for the one that has seen every request.
    let exported = sink.wait_for(|exported| requests(exported) == calls.len() as f64).await;

    let names = |series: &BTreeMap<Series, f64>| -> Vec<String> {
        let mut names: Vec<String> = series.keys().map(|(name, _)| name.clone()).collect();
        names.dedup();
        names
    };
    assert_eq!(names(&exported), names(&scraped));
    for name in [
        "http_server_request_duration_seconds_count",
        "http_client_request_duration_seconds_count",
        "gatehouse_gateway_duration_seconds_count",
        "gatehouse_snapshot_revision",
        "gatehouse_snapshot_load_duration_seconds",
        "gatehouse_snapshot_rejected_total",
        "gatehouse_rate_limit_store_failures_total",
        "gatehouse_rate_limit_failed_open_total",
        "gatehouse_upstream_target_up",
        "gatehouse_plan_rate_limit",
        "gatehouse_plan_rate_window_seconds",
    ] {
        assert!(names(&scraped).iter().any(|found| found == name), "{name} is missing");
    }
    // Same label sets, same values: the request counts, the gauges, the counters, the buckets.
    // Sums are of the same durations, added in another order: equal to rounding.
    let differences: Vec<String> = scraped
        .keys()
        .chain(exported.keys())
        .filter(|series| {
            let (scraped, exported) = (scraped.get(*series), exported.get(*series));
            match (scraped, exported) {
                (Some(a), Some(b)) if series.0.ends_with("_sum") => (a - b).abs() > 1e-9 * a.abs().max(1.0),
                (a, b) => a != b,
            }
        })
        .map(|series| {
            format!(
                "{series:?}: scraped {:?}, exported {:?}",
                scraped.get(series),
                exported.get(series)
            )
        })
        .collect();
    assert!(differences.is_empty(), "{}", differences.join("\n"));

    let labels_of = |status: &str| {
        scraped
            .keys()
            .find(|(name, labels)| {
                name == "http_server_request_duration_seconds_count"
                    && labels.get("http_response_status_code").map(String::as_str) == Some(status)
            })
            .map(|(_, labels)| labels.clone())
            .unwrap_or_else(|| panic!("no series with status {status}"))
    };
    let limited = labels_of("429");
    assert_eq!(limited["gatehouse_refusal"], "rate_limited");
    assert_eq!(limited["gatehouse_plan"], "support");
    assert_eq!(limited["gatehouse_consumer"], "bob");
    assert_eq!(limited["gatehouse_application"], "bob-app");
    assert_eq!(limited["gatehouse_operation"], "listDogs");
    assert_eq!(labels_of("404")["gatehouse_refusal"], "route_not_found");
    assert!(!labels_of("404").contains_key("gatehouse_api"), "no API matched");
    assert_eq!(labels_of("403")["gatehouse_refusal"], "access_denied");
    assert!(
        !labels_of("403").contains_key("gatehouse_plan"),
        "refused before a plan applied"
    );

    let bounds = sink.bounds();
    assert_eq!(bounds["http.server.request.duration"], REQUEST_BUCKETS.to_vec());
    assert_eq!(bounds["http.client.request.duration"], REQUEST_BUCKETS.to_vec());
    assert_eq!(bounds["gatehouse.gateway.duration"], GATEWAY_BUCKETS.to_vec());
    let resource = sink.resource();
    assert_eq!(resource["service.name"], "gatehouse-gateway");
    assert_eq!(resource["service.instance.id"], "parity-test");
}

/// Every sample of the text exposition, by series; empty labels are left out, as Prometheus
/// drops them when it stores a sample.
fn scrape(text: &str) -> BTreeMap<Series, f64> {
    let mut series = BTreeMap::new();
    for line in text.lines().filter(|line| !line.starts_with('#')) {
        let (head, value) = line.rsplit_once(' ').expect("a sample line");
        let (name, labels) = match head.split_once('{') {
            Some((name, labels)) => (name, labels.trim_end_matches('}')),
            None => (head, ""),
        };
        let labels = labels
            .split(',')
            .filter_map(|pair| pair.split_once('='))
            .map(|(label, value)| (label.to_owned(), value.trim_matches('"').to_owned()))
            .filter(|(_, value)| !value.is_empty())
            .collect();
        series.insert((name.to_owned(), labels), value.parse().expect("a number"));
    }
    series
}

/// The Prometheus name of an OTLP metric: dots to underscores, the unit's word appended (an
/// annotation in braces has none), `_total` for a monotonic sum.
fn prometheus_name(metric: &Value) -> String {
    let mut name = metric["name"].as_str().unwrap().replace('.', "_");
    match metric["unit"].as_str().unwrap_or("") {
        "s" => name.push_str("_seconds"),
        "" => {}
        unit if unit.starts_with('{') => {}
        unit => panic!("no rule here for unit {unit}"),
    }
    if metric["sum"]["isMonotonic"] == true {
        name.push_str("_total");
    }
    name
}

/// Attributes as text: strings, and integers (which protobuf's JSON mapping writes as strings).
fn attributes(holder: &Value) -> BTreeMap<String, String> {
    let mut attributes = BTreeMap::new();
    for attribute in holder["attributes"].as_array().into_iter().flatten() {
        let value = &attribute["value"];
        let text = value["stringValue"]
            .as_str()
            .or_else(|| value["intValue"].as_str())
            .unwrap_or_else(|| panic!("an attribute of a type this test does not translate: {attribute}"));
        attributes.insert(attribute["key"].as_str().unwrap().to_owned(), text.to_owned());
    }
    attributes
}

/// A data point's attributes as Prometheus labels: dots to underscores.
fn labels(point: &Value) -> BTreeMap<String, String> {
    attributes(point)
        .into_iter()
        .map(|(key, value)| (key.replace('.', "_"), value))
        .collect()
}

/// A number in protobuf's JSON mapping: 64-bit integers are strings.
fn number(value: &Value) -> f64 {
    value
        .as_f64()
        .or_else(|| value.as_str().and_then(|text| text.parse().ok()))
        .unwrap_or(0.0)
}

/// Every metric of one metrics export, whatever resource and scope it came under.
fn metrics_of(export: &Value) -> impl Iterator<Item = &Value> {
    export["resourceMetrics"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|resource| resource["scopeMetrics"].as_array().into_iter().flatten())
        .flat_map(|scope| scope["metrics"].as_array().into_iter().flatten())
}

/// The series of one metrics export, as a Prometheus scrape of them would name them.
fn translate(export: &Value, series: &mut BTreeMap<Series, f64>) {
    for metric in metrics_of(export) {
        let name = prometheus_name(metric);
        if let Some(points) = metric["histogram"]["dataPoints"].as_array() {
            for point in points {
                let labels = labels(point);
                series.insert((format!("{name}_count"), labels.clone()), number(&point["count"]));
                series.insert((format!("{name}_sum"), labels.clone()), number(&point["sum"]));
                let bounds = point["explicitBounds"].as_array().cloned().unwrap_or_default();
                let counts = point["bucketCounts"].as_array().cloned().unwrap_or_default();
                let mut cumulative = 0.0;
                for (index, count) in counts.iter().enumerate() {
                    cumulative += number(count);
                    let le = bounds
                        .get(index)
                        .map_or("+Inf".to_owned(), |bound| prometheus_float(bound.as_f64().unwrap()));
                    let mut labels = labels.clone();
                    labels.insert("le".to_owned(), le);
                    series.insert((format!("{name}_bucket"), labels), cumulative);
                }
            }
        }
        let points = metric["gauge"]["dataPoints"]
            .as_array()
            .or(metric["sum"]["dataPoints"].as_array());
        for point in points.into_iter().flatten() {
            let value = point.get("asDouble").or(point.get("asInt")).map(number).unwrap_or(0.0);
            series.insert((name.clone(), labels(point)), value);
        }
    }
}

/// A bucket bound as the text exposition writes `le`.
fn prometheus_float(value: f64) -> String {
    let text = value.to_string();
    if text.contains('.') { text } else { format!("{text}.0") }
}

/// The receiver's process and what it has written.
struct Sink {
    url: String,
    child: Child,
    exports: Arc<Mutex<Vec<Value>>>,
}

impl Drop for Sink {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Sink {
    fn start() -> Sink {
        let python = venv_python();
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let mut child = Command::new(python)
            .arg(workspace().join("tests/otlp/sink.py"))
            .arg(port.to_string())
            .stdout(Stdio::piped())
            .spawn()
            .expect("the OTLP sink starts");
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let first = lines.next().expect("the sink says it listens").unwrap();
        assert!(first.contains("listening"), "{first}");
        let exports = Arc::new(Mutex::new(Vec::new()));
        let written = exports.clone();
        std::thread::spawn(move || {
            for line in lines.map_while(Result::ok) {
                if let Ok(value) = serde_json::from_str::<Value>(&line) {
                    written.lock().unwrap().push(value);
                }
            }
        });
        Sink {
            url: format!("http://127.0.0.1:{port}"),
            child,
            exports,
        }
    }

    /// The series of the metrics exports so far, later exports replacing earlier points.
    fn series(&self) -> BTreeMap<Series, f64> {
        let mut series = BTreeMap::new();
        for export in self.exports.lock().unwrap().iter() {
            if let Some(metrics) = export.get("metrics") {
                translate(metrics, &mut series);
            }
        }
        series
    }

    async fn wait_for(&self, done: impl Fn(&BTreeMap<Series, f64>) -> bool) -> BTreeMap<Series, f64> {
        let started = Instant::now();
        loop {
            let series = self.series();
            if done(&series) {
                return series;
            }
            assert!(
                started.elapsed() < Duration::from_secs(15),
                "no OTLP export with every request within 15 s: {series:#?}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Each histogram's bucket bounds, from the last export.
    fn bounds(&self) -> BTreeMap<String, Vec<f64>> {
        let mut bounds = BTreeMap::new();
        for export in self.exports.lock().unwrap().iter() {
            for metric in metrics_of(&export["metrics"]) {
                if let Some(point) = metric["histogram"]["dataPoints"].get(0) {
                    let values = point["explicitBounds"].as_array().unwrap();
                    bounds.insert(
                        metric["name"].as_str().unwrap().to_owned(),
                        values.iter().map(|bound| bound.as_f64().unwrap()).collect(),
                    );
                }
            }
        }
        bounds
    }

    /// The resource attributes of the last metrics export.
    fn resource(&self) -> BTreeMap<String, String> {
        let exports = self.exports.lock().unwrap();
        let export = exports
            .iter()
            .rev()
            .find(|export| export.get("metrics").is_some())
            .expect("a metrics export");
        attributes(&export["metrics"]["resourceMetrics"][0]["resource"])
    }
}

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap().to_owned()
}

/// The venv's Python with the pinned `oteltest`, made on first use.
fn venv_python() -> PathBuf {
    let venv = workspace().join("target/otlp-venv");
    let python = venv.join("bin/python");
    let ready = || {
        Command::new(&python)
            .args(["-c", "import oteltest.sink"])
            .status()
            .is_ok_and(|status| status.success())
    };
    if !ready() {
        let made = Command::new("python3")
            .args(["-m", "venv"])
            .arg(&venv)
            .status()
            .expect("python3 runs");
        assert!(made.success(), "python3 -m venv {}", venv.display());
        let installed = Command::new(venv.join("bin/pip"))
            .args(["install", "--quiet", "--disable-pip-version-check", "-r"])
            .arg(workspace().join("tests/otlp/requirements.txt"))
            .status()
            .expect("pip runs");
        assert!(installed.success(), "installing tests/otlp/requirements.txt");
    }
    python
}
