//! A real Prometheus for tests: Debian's `prometheus` package (`/usr/bin/prometheus`, or the binary
//! named by `GATEHOUSE_TEST_PROMETHEUS`) started on a free loopback port, scraping the targets it is
//! given every second, its storage in a temporary directory, killed on drop. Nothing here asserts the
//! behaviour under test; it only answers PromQL.
//!
//! ```ignore
//! use crate::prometheus::Prometheus;
//!
//! // Each target is an origin (`http://127.0.0.1:PORT`, e.g. a gateway's admin port) or a full
//! // URL with its path (`http://127.0.0.1:PORT/metrics`, the default path).
//! let prometheus = Prometheus::start(&[gateway_admin.origin.as_str()]).await;
//! prometheus.wait_for_targets_up(Duration::from_secs(20)).await.unwrap();
//!
//! // Instant query: one `Sample` (labels + value) per series; an error names the expression.
//! let samples = prometheus.query("sum by (http_response_status_code) (http_server_request_duration_seconds_count)").await?;
//! let value: Option<f64> = prometheus.query_value("sum(up)").await?; // None for an empty vector
//!
//! // Range query: one `Series` (labels + (unix seconds, value) points) per series.
//! let series = prometheus.query_range("up", start, end, Duration::from_secs(1)).await?;
//!
//! // Poll an instant query until the predicate holds (every 250 ms); an Err after `timeout` shows the last answer.
//! prometheus.wait_until("sum(up)", |samples| samples.first().is_some_and(|s| s.value >= 1.0), Duration::from_secs(20)).await?;
//! ```
//!
//! Every scrape carries `job="gatehouse-gateway"` (the job name, as METRICS.md expects of a scrape)
//! and `instance="127.0.0.1:PORT"`. Scrape and evaluation intervals are 1 s, so `rate(x[5s])` works.
//! Without the package the test panics with a message naming it (CI installs it).

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::{Context, anyhow, bail};
use serde_json::Value;

use crate::support::TempDir;

/// The scrape job's name, and so the `job` label of every series scraped.
pub const JOB: &str = "gatehouse-gateway";

/// How long Prometheus may take to open its storage and report ready.
const READY_TIMEOUT: Duration = Duration::from_secs(30);

/// One series of an instant query's answer.
#[derive(Debug, Clone, PartialEq)]
pub struct Sample {
    /// Every label of the series, `__name__` included when the expression kept it.
    pub labels: BTreeMap<String, String>,
    pub value: f64,
}

impl Sample {
    /// The label's value, or "" when the series has no such label (as PromQL treats it).
    pub fn label(&self, name: &str) -> &str {
        self.labels.get(name).map_or("", String::as_str)
    }
}

/// One series of a range query's answer: its labels and its points as (unix seconds, value).
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    pub labels: BTreeMap<String, String>,
    pub points: Vec<(f64, f64)>,
}

// === impl Prometheus ===

/// A running Prometheus process. Dropping it kills the process and removes its storage.
pub struct Prometheus {
    child: Child,
    /// `http://127.0.0.1:PORT`, where the HTTP API answers.
    pub origin: String,
    /// The number of targets in the scrape configuration.
    pub n_targets: usize,
    client: reqwest::Client,
    log_file: PathBuf,
    // Last, so the directory goes after the process that writes into it.
    _dir: TempDir,
}

impl Prometheus {
    /// Starts Prometheus scraping `targets` every second and waits until `/-/ready` answers 200.
    /// Panics (naming the package) when Prometheus is not installed, and with its log when it does
    /// not start.
    pub async fn start(targets: &[&str]) -> Prometheus {
        let binary = prometheus_binary();
        let dir = TempDir::new();
        let config_file = dir.path().join("prometheus.yml");
        std::fs::write(&config_file, scrape_config(targets)).expect("write prometheus.yml");
        let log_file = dir.path().join("prometheus.log");
        let port = free_port();
        let origin = format!("http://127.0.0.1:{port}");
        let log = std::fs::File::create(&log_file).expect("create prometheus.log");
        let child = Command::new(&binary)
            .arg(format!("--config.file={}", config_file.display()))
            .arg(format!("--storage.tsdb.path={}", dir.path().join("data").display()))
            .arg(format!("--web.listen-address=127.0.0.1:{port}"))
            .arg("--log.level=warn")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .unwrap_or_else(|error| panic!("starting {}: {error}", binary.display()));
        let mut prometheus = Prometheus {
            child,
            origin,
            n_targets: targets.len(),
            client: reqwest::Client::builder()
                .timeout(Duration::from_secs(10))
                .build()
                .expect("HTTP client"),
            log_file,
            _dir: dir,
        };
        prometheus.wait_ready().await;
        prometheus
    }

    /// Everything Prometheus has logged so far (warnings and errors), for a failure message.
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log_file).unwrap_or_default()
    }

    /// An instant query at the current time (`GET /api/v1/query`). A scalar or string answer is one
    /// sample without labels. An error answer is an `Err` naming the expression and Prometheus'
    /// `errorType` and `error`.
    pub async fn query(&self, promql: &str) -> anyhow::Result<Vec<Sample>> {
        let data = self.api("/api/v1/query", promql, &[]).await?;
        let result = &data["result"];
        match data["resultType"].as_str() {
            Some("vector") => result
                .as_array()
                .context("vector result is not an array")?
                .iter()
                .map(|item| {
                    Ok(Sample {
                        labels: labels(&item["metric"]),
                        value: number(&item["value"][1]).with_context(|| format!("sample {item}"))?,
                    })
                })
                .collect(),
            Some("scalar") | Some("string") => Ok(vec![Sample {
                labels: BTreeMap::new(),
                value: number(&result[1]).with_context(|| format!("result {result}"))?,
            }]),
            other => bail!("`{promql}`: unexpected resultType {other:?} in an instant query: {data}"),
        }
    }

    /// The one value an expression gives (`sum(...)`, `count(...)`): `None` when the answer is an
    /// empty vector, an `Err` when it holds several series.
    pub async fn query_value(&self, promql: &str) -> anyhow::Result<Option<f64>> {
        let samples = self.query(promql).await?;
        match samples.as_slice() {
            [] => Ok(None),
            [sample] => Ok(Some(sample.value)),
            _ => bail!("`{promql}` gave {} series, expected one: {samples:?}", samples.len()),
        }
    }

    /// A range query (`GET /api/v1/query_range`) from `start` to `end` every `step`.
    pub async fn query_range(
        &self,
        promql: &str,
        start: SystemTime,
        end: SystemTime,
        step: Duration,
    ) -> anyhow::Result<Vec<Series>> {
        let params = [
            ("start", unix_seconds(start).to_string()),
            ("end", unix_seconds(end).to_string()),
            ("step", step.as_secs_f64().to_string()),
        ];
        let data = self.api("/api/v1/query_range", promql, &params).await?;
        if data["resultType"] != "matrix" {
            bail!(
                "`{promql}`: unexpected resultType {} in a range query",
                data["resultType"]
            );
        }
        data["result"]
            .as_array()
            .context("matrix result is not an array")?
            .iter()
            .map(|item| {
                let points = item["values"]
                    .as_array()
                    .context("series without values")?
                    .iter()
                    .map(|point| {
                        let time = point[0].as_f64().context("point time")?;
                        Ok((time, number(&point[1]).with_context(|| format!("point {point}"))?))
                    })
                    .collect::<anyhow::Result<_>>()?;
                Ok(Series {
                    labels: labels(&item["metric"]),
                    points,
                })
            })
            .collect()
    }

    /// Runs the instant query every 250 ms until `predicate` holds on its answer, and returns that
    /// answer. After `timeout`, an `Err` with the last answer (or the last error).
    pub async fn wait_until(
        &self,
        promql: &str,
        predicate: impl Fn(&[Sample]) -> bool,
        timeout: Duration,
    ) -> anyhow::Result<Vec<Sample>> {
        let deadline = Instant::now() + timeout;
        loop {
            let answer = self.query(promql).await;
            if let Ok(samples) = &answer
                && predicate(samples)
            {
                return answer;
            }
            if Instant::now() > deadline {
                return match answer {
                    Ok(samples) => Err(anyhow!(
                        "`{promql}` did not satisfy the condition within {timeout:?}; last answer: {samples:?}"
                    )),
                    Err(error) => Err(error.context(format!("`{promql}` still failing after {timeout:?}"))),
                };
            }
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
    }

    /// Waits until every target has been scraped successfully (`up == 1` for each).
    pub async fn wait_for_targets_up(&self, timeout: Duration) -> anyhow::Result<()> {
        let n_targets = self.n_targets as f64;
        self.wait_until(
            &format!("count(up{{job=\"{JOB}\"}} == 1)"),
            |samples| samples.first().is_some_and(|sample| sample.value >= n_targets),
            timeout,
        )
        .await
        .with_context(|| format!("targets not up; Prometheus log:\n{}", self.log()))?;
        Ok(())
    }

    async fn api(&self, path: &str, promql: &str, params: &[(&str, String)]) -> anyhow::Result<Value> {
        let mut query = vec![("query", promql.to_owned())];
        query.extend(params.iter().map(|(name, value)| (*name, value.clone())));
        let response = self
            .client
            .get(format!("{}{path}", self.origin))
            .query(&query)
            .send()
            .await
            .with_context(|| format!("`{promql}`: GET {path}"))?;
        let status = response.status();
        let body: Value = response
            .json()
            .await
            .with_context(|| format!("`{promql}`: {status} without a JSON body"))?;
        if body["status"] != "success" {
            bail!(
                "`{promql}`: Prometheus answered {status}, {}: {}",
                body["errorType"].as_str().unwrap_or("?"),
                body["error"].as_str().unwrap_or("(no error message)")
            );
        }
        Ok(body["data"].clone())
    }

    async fn wait_ready(&mut self) {
        let deadline = Instant::now() + READY_TIMEOUT;
        let ready = format!("{}/-/ready", self.origin);
        loop {
            if let Ok(response) = self.client.get(&ready).send().await
                && response.status().is_success()
            {
                return;
            }
            let exited = self.child.try_wait().expect("try_wait");
            if exited.is_some() || Instant::now() > deadline {
                let _ = self.child.kill();
                let _ = self.child.wait();
                panic!(
                    "Prometheus {} before reporting ready at {ready}; its log:\n{}",
                    match exited {
                        Some(status) => format!("exited with {status}"),
                        None => format!("did not get ready within {READY_TIMEOUT:?}"),
                    },
                    self.log()
                );
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

impl Drop for Prometheus {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The Prometheus binary, or a panic naming the package that provides it.
fn prometheus_binary() -> PathBuf {
    if let Some(path) = std::env::var_os("GATEHOUSE_TEST_PROMETHEUS") {
        return PathBuf::from(path);
    }
    let found = std::env::var_os("PATH")
        .map(|path| std::env::split_paths(&path).collect::<Vec<_>>())
        .unwrap_or_default()
        .into_iter()
        .chain([PathBuf::from("/usr/bin")])
        .map(|dir| dir.join("prometheus"))
        .find(|candidate| candidate.is_file());
    found.unwrap_or_else(|| {
        panic!(
            "this test needs Prometheus: install Debian's `prometheus` package (apt-get install prometheus), \
             or set GATEHOUSE_TEST_PROMETHEUS to a prometheus binary"
        )
    })
}

/// prometheus.yml: one job scraping every target each second, each at its own metrics path.
fn scrape_config(targets: &[&str]) -> String {
    let mut config = String::from("global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n  evaluation_interval: 1s\n");
    config.push_str(&format!("scrape_configs:\n  - job_name: '{JOB}'\n    static_configs:"));
    if targets.is_empty() {
        config.push_str(" []");
    }
    config.push('\n');
    for target in targets {
        let (address, path) = split_target(target);
        config.push_str(&format!(
            "      - targets: ['{address}']\n        labels:\n          __metrics_path__: '{path}'\n"
        ));
    }
    config
}

/// `http://host:port/path` as (`host:port`, `/path`), the path `/metrics` when the target has none.
fn split_target(target: &str) -> (String, String) {
    let rest = target
        .strip_prefix("http://")
        .unwrap_or_else(|| panic!("Prometheus targets are http:// URLs: {target:?}"));
    match rest.split_once('/') {
        Some((address, path)) if !path.is_empty() => (address.to_owned(), format!("/{path}")),
        Some((address, _)) => (address.to_owned(), "/metrics".to_owned()),
        None => (rest.to_owned(), "/metrics".to_owned()),
    }
}

/// A loopback port nothing listens on right now (Prometheus binds it a moment later).
fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind a free port");
    listener.local_addr().expect("local address").port()
}

fn labels(metric: &Value) -> BTreeMap<String, String> {
    metric
        .as_object()
        .map(|object| {
            object
                .iter()
                .map(|(name, value)| (name.clone(), value.as_str().unwrap_or_default().to_owned()))
                .collect()
        })
        .unwrap_or_default()
}

/// A sample value: Prometheus sends numbers as strings ("1.5", "NaN", "+Inf").
fn number(value: &Value) -> anyhow::Result<f64> {
    let text = value.as_str().context("sample value is not a string")?;
    text.parse::<f64>().with_context(|| format!("sample value {text:?}"))
}

fn unix_seconds(time: SystemTime) -> f64 {
    time.duration_since(UNIX_EPOCH).expect("clock after 1970").as_secs_f64()
}

#[test]
fn targets_split_into_address_and_path() {
    assert_eq!(
        split_target("http://127.0.0.1:9001"),
        ("127.0.0.1:9001".into(), "/metrics".into())
    );
    assert_eq!(
        split_target("http://127.0.0.1:9001/"),
        ("127.0.0.1:9001".into(), "/metrics".into())
    );
    assert_eq!(
        split_target("http://127.0.0.1:9001/x/metrics"),
        ("127.0.0.1:9001".into(), "/x/metrics".into())
    );
}

/// Prometheus scrapes a metrics endpoint served here, and the harness reads the numbers back through
/// an instant query, a range query and `wait_until`; a bad expression is an error naming it.
#[tokio::test]
async fn prometheus_scrapes_a_target_and_answers_queries() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let origin = format!("http://{}", listener.local_addr().unwrap());
    let app = axum::Router::new().route(
        "/metrics",
        axum::routing::get(|| async { "# TYPE it_answer gauge\nit_answer{side=\"left\"} 42\n" }),
    );
    let server = tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });

    let started = SystemTime::now();
    let prometheus = Prometheus::start(&[origin.as_str()]).await;
    prometheus.wait_for_targets_up(Duration::from_secs(20)).await.unwrap();

    let samples = prometheus
        .wait_until("it_answer", |samples| !samples.is_empty(), Duration::from_secs(10))
        .await
        .unwrap();
    assert_eq!(samples.len(), 1, "{samples:?}");
    assert_eq!(samples[0].value, 42.0);
    assert_eq!(samples[0].label("side"), "left");
    assert_eq!(samples[0].label("job"), JOB);
    assert_eq!(samples[0].label("instance"), origin.trim_start_matches("http://"));
    assert_eq!(samples[0].label("missing"), "");

    assert_eq!(prometheus.query_value("sum(it_answer)").await.unwrap(), Some(42.0));
    assert_eq!(prometheus.query_value("it_answer{side=\"right\"}").await.unwrap(), None);
    assert_eq!(prometheus.query_value("1 + 1").await.unwrap(), Some(2.0));

    // A few scrapes more, so the range's grid (every second from `started`) has points after the first.
    prometheus
        .wait_until(
            "count_over_time(it_answer[1m])",
            |samples| samples.first().is_some_and(|sample| sample.value >= 3.0),
            Duration::from_secs(10),
        )
        .await
        .unwrap();
    let series = prometheus
        .query_range("it_answer", started, SystemTime::now(), Duration::from_secs(1))
        .await
        .unwrap();
    assert_eq!(series.len(), 1, "{series:?}");
    assert!(series[0].points.iter().all(|(_, value)| *value == 42.0), "{series:?}");

    let error = prometheus.query("sum(it_answer").await.unwrap_err().to_string();
    assert!(
        error.contains("`sum(it_answer`") && error.contains("bad_data"),
        "{error}"
    );
    server.abort();
}
