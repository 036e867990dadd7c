//! The demo's story (deploy/demo/README.md) played end to end with the real binary and a real
//! Prometheus, no Docker: `gatehouse up` posting annotations to a recording stand-in for Grafana,
//! `gatehouse demo upstream`, the demo manifests applied with `gatehouse apply`, keys from
//! `gatehouse demo seed`, traffic from `gatehouse demo traffic`; then the pull request that lowers
//! plan `standard` from 2,000 to 20 requests per 65 s, applied with `--publish`, and a rollback.
//! Prometheus must see no 429s before, 429s after the publish (none before its annotation's time),
//! and none once rolled back; the stand-in must have received both annotations in Grafana's
//! format. And `gatehouse impact` on the pull request names the APIs, the group and its users.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::extract::State;
use axum::http::HeaderMap;
use serde_json::{Value, json};

use crate::prometheus::Prometheus;
use crate::support::{ADMIN_PASSWORD, Exited, Hub, TempDir, gatehouse, hub_on_sqlite, run_to_exit, up_on_free_ports};

/// The service-account token the hub is given for Grafana.
const GRAFANA_TOKEN: &str = "glsa_story_test_token";

/// All users together: sam and priya (support, plan `standard`) get a third each, about 3.3 a
/// second, or 217 per 65 s: far under 2,000, far over 20.
const RATE: &str = "10";

/// Every 429 the gateway had counted by `at` (unix seconds; now when `None`), as last scraped.
fn rate_limited_total(at: Option<f64>) -> String {
    let at = at.map(|at| format!(" @ {at:.3}")).unwrap_or_default();
    format!(
        "sum(http_server_request_duration_seconds_count{{job=\"gatehouse-gateway\",\
         http_response_status_code=\"429\"}}{at}) or vector(0)"
    )
}

/// The 429s Prometheus counts, over a window.
fn rate_limited_in(window: &str) -> String {
    format!(
        "sum(increase(http_server_request_duration_seconds_count{{job=\"gatehouse-gateway\",\
         http_response_status_code=\"429\"}}[{window}])) or vector(0)"
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lowered_plan_shows_as_429s_at_its_annotation_and_a_rollback_ends_them() {
    let grafana = Recorder::start().await;
    let dir = TempDir::new();
    let upstream = start_upstream();
    let (manifests, manifests_pr) = demo_manifests(dir.path(), &upstream.origin);

    let mut command = up_on_free_ports(&dir.path().join("data"));
    command
        .args(["--grafana-url", &grafana.origin])
        .env("GATEHOUSE_GRAFANA_TOKEN", GRAFANA_TOKEN);
    let mut up = Hub::start(command);
    let (gateway, gateway_admin) = up.gateway_urls();
    let token = up.issue_admin_token("admin", ADMIN_PASSWORD).await;

    // The demo as the README sets it up: manifests applied and published, the users' keys seeded.
    let applied = client_command(
        &up,
        &token,
        &["apply"],
        &manifests,
        &["--publish", "--message", "the demo"],
    );
    assert_success(&applied, "apply the demo manifests");
    let keys_file = dir.path().join("demo-keys.txt");
    let mut seed = gatehouse();
    seed.args(["demo", "seed", "--hub", &up.origin, "--keys"])
        .arg(&keys_file)
        .env("GATEHOUSE_TOKEN", &token);
    let seeded = run_to_exit(&mut seed);
    assert_success(&seeded, "demo seed");
    let keys = std::fs::read_to_string(&keys_file).expect("demo seed wrote the keys");
    for user in ["sam", "priya", "hana"] {
        assert!(keys.contains(&format!("\n{user}=ghk_")), "{user}'s key in:\n{keys}");
    }

    let prometheus = Prometheus::start(&[gateway_admin.as_str()]).await;
    prometheus
        .wait_for_targets_up(Duration::from_secs(30))
        .await
        .expect("Prometheus scrapes the gateway's admin port");
    let mut traffic = gatehouse();
    traffic
        .args([
            "demo",
            "traffic",
            "--gateway",
            &gateway,
            "--rate",
            RATE,
            "--interval",
            "5",
            "--keys",
        ])
        .arg(&keys_file);
    let traffic = Hub::start_role(traffic, "demo traffic:");

    // Before: the traffic flows, support's writes are refused (403), nothing is rate limited.
    prometheus
        .wait_until(
            "sum(increase(http_server_request_duration_seconds_count{job=\"gatehouse-gateway\",gatehouse_consumer=\"sam\",http_response_status_code=\"200\"}[15s]))",
            |samples| samples.first().is_some_and(|sample| sample.value >= 20.0),
            Duration::from_secs(30),
        )
        .await
        .expect("sam's calls succeed through the gateway");
    // Counters, not increases: a series' first scrape has no increase of its own, and each refusal
    // is its own series (method, API, user).
    prometheus
        .wait_until(
            "sum(http_server_request_duration_seconds_count{job=\"gatehouse-gateway\",gatehouse_refusal=\"access_denied\",gatehouse_consumer=~\"sam|priya\"})",
            |samples| samples.first().is_some_and(|sample| sample.value > 0.0),
            Duration::from_secs(30),
        )
        .await
        .expect("support's writes get 403");
    let before = prometheus.query_value(&rate_limited_total(None)).await.unwrap();
    assert_eq!(before, Some(0.0), "no 429 under plan standard at 2,000/65 s");
    let last_good = latest_revision(&up, &token).await;

    // The pull request, applied and published: 20 requests per 65 s.
    let lowered = client_command(
        &up,
        &token,
        &["apply"],
        &manifests_pr,
        &["--publish", "--message", "tidy the plans"],
    );
    assert_success(&lowered, "apply the pull request");
    assert!(
        lowered.stdout.contains("~ update Plan standard (rate_limit)"),
        "{}",
        lowered.stdout
    );
    let publish = grafana
        .wait_for(|annotation| {
            tags(annotation).contains(&"publish".to_owned()) && text(annotation).contains("tidy the plans")
        })
        .await;
    let rising = prometheus
        .wait_until(
            "sum(rate(http_server_request_duration_seconds_count{job=\"gatehouse-gateway\",http_response_status_code=\"429\"}[10s]))",
            |samples| samples.first().is_some_and(|sample| sample.value >= 2.0),
            Duration::from_secs(40),
        )
        .await
        .expect("429s rise to several a second under 20/65 s");
    // The jump is at the annotation: nothing had been limited at its time.
    let published_at = publish.body["time"].as_i64().expect("time") as f64 / 1000.0;
    let up_to_annotation = prometheus
        .query_value(&rate_limited_total(Some(published_at)))
        .await
        .unwrap();
    assert_eq!(
        up_to_annotation,
        Some(0.0),
        "no 429 before the annotation; after: {rising:?}"
    );
    let limited_users = prometheus
        .query(
            "sum by (gatehouse_consumer, gatehouse_plan, gatehouse_refusal) (increase(http_server_request_duration_seconds_count{job=\"gatehouse-gateway\",http_response_status_code=\"429\"}[15s])) > 0",
        )
        .await
        .unwrap();
    let mut names: Vec<&str> = limited_users
        .iter()
        .map(|sample| sample.label("gatehouse_consumer"))
        .collect();
    names.sort_unstable();
    assert_eq!(names, ["priya", "sam"], "only support is limited: {limited_users:?}");
    assert!(
        limited_users
            .iter()
            .all(|sample| sample.label("gatehouse_plan") == "standard"
                && sample.label("gatehouse_refusal") == "rate_limited"),
        "{limited_users:?}"
    );

    // Rollback to the revision before the pull request: the 429s stop.
    let response = up
        .client
        .post(up.url(&format!("/api/v1/revisions/{last_good}/rollback")))
        .bearer_auth(&token)
        .json(&json!({ "message": "roll back: standard was lowered by mistake" }))
        .send()
        .await
        .expect("POST rollback");
    assert_eq!(response.status(), 201, "{}", response.text().await.unwrap_or_default());
    let rollback = grafana
        .wait_for(|annotation| tags(annotation).contains(&"rollback".to_owned()))
        .await;
    prometheus
        .wait_until(
            &rate_limited_in("5s"),
            |samples| samples.first().is_some_and(|sample| sample.value == 0.0),
            Duration::from_secs(30),
        )
        .await
        .expect("no 429 once rolled back");
    let stopped_at = prometheus.query_value(&rate_limited_total(None)).await.unwrap();
    tokio::time::sleep(Duration::from_secs(4)).await;
    let later = prometheus.query_value(&rate_limited_total(None)).await.unwrap();
    assert_eq!(stopped_at, later, "the 429 count stays where it was once rolled back");
    // And the traffic is answered again (not merely not limited).
    prometheus
        .wait_until(
            "sum(increase(http_server_request_duration_seconds_count{job=\"gatehouse-gateway\",gatehouse_consumer=~\"sam|priya\",http_response_status_code=\"200\"}[5s]))",
            |samples| samples.first().is_some_and(|sample| sample.value >= 5.0),
            Duration::from_secs(20),
        )
        .await
        .expect("support's reads succeed again");

    // The annotations, as Grafana's HTTP API takes them.
    for (annotation, kind) in [(&publish, "publish"), (&rollback, "rollback")] {
        assert_eq!(annotation.method, "POST");
        assert_eq!(annotation.path, "/api/annotations");
        assert_eq!(
            annotation.authorization.as_deref(),
            Some(format!("Bearer {GRAFANA_TOKEN}").as_str())
        );
        let body = &annotation.body;
        let time = body["time"].as_i64().unwrap_or_else(|| panic!("time in ms: {body}"));
        let now_ms = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_millis() as i64;
        assert!(
            (now_ms - 300_000..=now_ms).contains(&time),
            "time is recent, in ms: {body}"
        );
        let tags = tags(annotation);
        assert!(
            tags.contains(&"gatehouse".to_owned()) && tags.contains(&kind.to_owned()),
            "{body}"
        );
        assert!(tags.iter().any(|tag| tag.starts_with("revision:")), "{body}");
        assert!(
            body.get("timeEnd").is_none() && body.get("dashboardUID").is_none(),
            "{body}"
        );
    }
    // `<message> — revision N by <author>`, the author being the admin token apply ran with.
    assert!(
        text(&publish).starts_with("tidy the plans — revision "),
        "{}",
        publish.body
    );
    assert!(text(&publish).contains(" by token:"), "{}", publish.body);
    assert!(
        text(&rollback).contains("roll back: standard was lowered by mistake"),
        "{}",
        rollback.body
    );
    assert!(publish.body["time"].as_i64() < rollback.body["time"].as_i64());

    // The traffic's own summary saw the same story.
    let played = traffic.stop();
    let total = played
        .stdout
        .lines()
        .find(|line| line.trim_start().starts_with("total"))
        .unwrap_or_else(|| {
            panic!(
                "demo traffic prints a total; stdout:\n{}\nstderr:\n{}",
                played.stdout, played.stderr
            )
        });
    assert!(total.contains("403 ") && total.contains("429 "), "{}", played.stdout);
    drop(upstream);
}

#[tokio::test]
async fn the_impact_of_the_pull_request_names_the_apis_the_group_and_its_users() {
    let dir = TempDir::new();
    let (manifests, manifests_pr) = demo_manifests(dir.path(), "http://127.0.0.1:9400");

    // Offline: by API and group.
    let mut impact = gatehouse();
    impact
        .args(["impact", "--base"])
        .arg(&manifests)
        .arg("--head")
        .arg(&manifests_pr);
    let offline = run_to_exit(&mut impact);
    assert_success(&offline, "impact");
    for expected in [
        "narrows-access",
        "plan `standard`: rate limit 2,000/65 s → 20/65 s",
        "APIs:   employees, payroll",
        "Groups: support",
    ] {
        assert!(
            offline.stdout.contains(expected),
            "{expected:?} in:\n{}",
            offline.stdout
        );
    }

    // Given the hub the demo was seeded into: by user too, and only support's.
    let hub = Hub::start(hub_on_sqlite(&dir.path().join("data")));
    let token = hub.issue_admin_token("admin", ADMIN_PASSWORD).await;
    assert_success(
        &client_command(&hub, &token, &["apply"], &manifests, &["--publish"]),
        "apply the demo manifests",
    );
    let mut seed = gatehouse();
    seed.args(["demo", "seed", "--hub", &hub.origin, "--keys"])
        .arg(dir.path().join("keys.txt"))
        .env("GATEHOUSE_TOKEN", &token);
    assert_success(&run_to_exit(&mut seed), "demo seed");
    let mut impact = gatehouse();
    impact
        .args(["impact", "--base"])
        .arg(&manifests)
        .arg("--head")
        .arg(&manifests_pr)
        .args(["--hub", &hub.origin, "--format", "json"])
        .env("GATEHOUSE_TOKEN", &token);
    let with_hub = run_to_exit(&mut impact);
    assert_success(&with_hub, "impact --hub");
    let report: Value = serde_json::from_str(&with_hub.stdout).expect("a JSON report");
    assert_eq!(report["verdict"], "narrows-access", "{report}");
    assert_eq!(report["apis"], json!(["employees", "payroll"]), "{report}");
    assert_eq!(report["groups"], json!(["support"]), "{report}");
    assert_eq!(report["users"], json!(["priya", "sam"]), "{report}");
    assert_eq!(report["items"][0]["severity"], "limit-lowered", "{report}");
}

/// `gatehouse demo upstream` on a free port.
fn start_upstream() -> Hub {
    let mut command = gatehouse();
    command.args(["demo", "upstream", "--listen", "127.0.0.1:0"]);
    Hub::start_role(command, "demo upstream")
}

/// Copies of deploy/demo/manifests and manifests-pr with their upstream URL replaced by `upstream`.
fn demo_manifests(into: &Path, upstream: &str) -> (PathBuf, PathBuf) {
    let shipped = Path::new(env!("CARGO_MANIFEST_DIR")).join("deploy/demo");
    let copies = ["manifests", "manifests-pr"].map(|name| {
        let copy = into.join(name);
        std::fs::create_dir_all(&copy).expect("create manifest dir");
        for entry in std::fs::read_dir(shipped.join(name)).expect("deploy/demo manifests") {
            let path = entry.expect("dir entry").path();
            let text = std::fs::read_to_string(&path).expect("read manifest");
            assert!(
                !text.contains("http://") || text.contains("http://127.0.0.1:9400"),
                "{}: the demo's upstream is http://127.0.0.1:9400",
                path.display()
            );
            let text = text.replace("http://127.0.0.1:9400", upstream);
            std::fs::write(copy.join(path.file_name().expect("file name")), text).expect("write manifest");
        }
        copy
    });
    let [manifests, manifests_pr] = copies;
    (manifests, manifests_pr)
}

/// `gatehouse <command> DIR --hub … <extra>` with the token in the environment.
fn client_command(hub: &Hub, token: &str, command: &[&str], dir: &Path, extra: &[&str]) -> Exited {
    let mut process = gatehouse();
    process
        .args(command)
        .arg(dir)
        .args(["--hub", &hub.origin])
        .args(extra)
        .env("GATEHOUSE_TOKEN", token);
    run_to_exit(&mut process)
}

fn assert_success(exited: &Exited, what: &str) {
    assert!(
        exited.status.success(),
        "{what}: {}\nstdout:\n{}\nstderr:\n{}",
        exited.status,
        exited.stdout,
        exited.stderr
    );
}

/// The number of the latest revision (the newest change event).
async fn latest_revision(hub: &Hub, token: &str) -> i64 {
    let (status, body) = hub.get_json(token, "/api/v1/events?limit=1").await;
    assert_eq!(status, 200, "{body}");
    body["items"][0]["revision"]
        .as_i64()
        .unwrap_or_else(|| panic!("a revision: {body}"))
}

fn tags(annotation: &Recorded) -> Vec<String> {
    annotation.body["tags"]
        .as_array()
        .map(|tags| tags.iter().filter_map(|tag| tag.as_str().map(str::to_owned)).collect())
        .unwrap_or_default()
}

fn text(annotation: &Recorded) -> &str {
    annotation.body["text"].as_str().unwrap_or_default()
}

// === impl Recorder ===

/// One request the stand-in for Grafana received.
#[derive(Debug, Clone)]
struct Recorded {
    method: String,
    path: String,
    authorization: Option<String>,
    body: Value,
}

/// A stand-in for Grafana's HTTP API on loopback: records every request and answers as Grafana
/// answers a created annotation.
struct Recorder {
    origin: String,
    requests: Arc<Mutex<Vec<Recorded>>>,
    server: tokio::task::JoinHandle<()>,
}

impl Recorder {
    async fn start() -> Recorder {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let origin = format!("http://{}", listener.local_addr().unwrap());
        let requests: Arc<Mutex<Vec<Recorded>>> = Arc::default();
        let app = axum::Router::new()
            .fallback(
                |State(requests): State<Arc<Mutex<Vec<Recorded>>>>,
                 method: axum::http::Method,
                 uri: axum::http::Uri,
                 headers: HeaderMap,
                 body: String| async move {
                    let id = {
                        let mut requests = requests.lock().unwrap();
                        requests.push(Recorded {
                            method: method.to_string(),
                            path: uri.path().to_owned(),
                            authorization: headers
                                .get("authorization")
                                .and_then(|value| value.to_str().ok())
                                .map(str::to_owned),
                            body: serde_json::from_str(&body).unwrap_or(Value::String(body)),
                        });
                        requests.len()
                    };
                    axum::Json(json!({ "id": id, "message": "Annotation added" }))
                },
            )
            .with_state(Arc::clone(&requests));
        let server = tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        Recorder {
            origin,
            requests,
            server,
        }
    }

    /// The first recorded request that satisfies `predicate`, waiting up to 20 s for it.
    async fn wait_for(&self, predicate: impl Fn(&Recorded) -> bool) -> Recorded {
        let deadline = std::time::Instant::now() + Duration::from_secs(20);
        loop {
            if let Some(found) = self.requests.lock().unwrap().iter().find(|request| predicate(request)) {
                return found.clone();
            }
            if std::time::Instant::now() > deadline {
                panic!(
                    "no such annotation within 20 s; received: {:#?}",
                    self.requests.lock().unwrap()
                );
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

impl Drop for Recorder {
    fn drop(&mut self) {
        self.server.abort();
    }
}

#[test]
fn demo_traffic_refuses_bad_flags_naming_each() {
    let cases: [(&[&str], &str); 4] = [
        (&["--rate", "0"], "--rate"),
        (&["--rate", "fast"], "--rate"),
        (&["--gateway", "127.0.0.1:8000"], "--gateway"),
        (&["--duration", "5d"], "--duration"),
    ];
    for (flags, named) in cases {
        let mut command = gatehouse();
        command.args(["demo", "traffic", "--key", "sam=ghk_x"]).args(flags);
        let exited = run_to_exit(&mut command);
        assert_eq!(exited.status.code(), Some(64), "{flags:?}: {exited:?}");
        assert!(
            exited.stderr.contains(named),
            "{flags:?} names {named}: {}",
            exited.stderr
        );
    }
    // No keys at all: a usage error that says how to get some.
    let dir = TempDir::new();
    let mut command = gatehouse();
    command.args(["demo", "traffic"]).current_dir(dir.path());
    let exited = run_to_exit(&mut command);
    assert_eq!(exited.status.code(), Some(64), "{exited:?}");
    assert!(exited.stderr.contains("gatehouse demo seed"), "{}", exited.stderr);
}
