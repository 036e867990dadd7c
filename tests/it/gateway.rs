//! The gateway as deployed: `gatehouse gateway` processes enforcing a snapshot file. The
//! distributed rate limit: three gateways sharing one Redis hold a plan's limit together, where
//! three gateways counting alone would each allow it.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use serde_json::json;

use crate::support::{Hub, TempDir, gatehouse, unique_name};

const KEY: &str = "ghk_distributed_limit_test";
/// The plan: `REQUESTS` per `WINDOW_SECONDS`.
const REQUESTS: u64 = 100;
const WINDOW_SECONDS: u64 = 2;
/// How long the gateways are hammered: five windows.
const RUN: Duration = Duration::from_secs(10);

fn redis_url() -> String {
    std::env::var("GATEHOUSE_TEST_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".into())
}

/// A snapshot with one API on `upstream` under a plan with a unique name (so Redis holds no
/// counts from an earlier run).
fn snapshot(upstream: &str, plan: &str) -> serde_json::Value {
    json!({
        "format": 1,
        "apis": [{ "name": "limited", "path_prefix": "/", "upstream": { "targets": [{ "url": upstream }] } }],
        "plans": [{ "name": plan, "rate_limit": { "requests": REQUESTS, "window_seconds": WINDOW_SECONDS } }],
        "consumers": [{ "key_hash": sha256_hex(KEY), "key_id": "k", "user": "hammer", "application": "a", "groups": ["g"] }],
        "access_rules": [{ "policy": "p", "groups": ["g"], "api": "limited", "plan": plan }]
    })
}

/// A tiny upstream that answers 200 to everything.
async fn upstream() -> (String, tokio::task::JoinHandle<()>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let app = axum::Router::new().fallback(|| async { "ok" });
    (
        url,
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() }),
    )
}

fn start_gateway(snapshot_file: &std::path::Path, data_dir: &std::path::Path, redis: Option<&str>) -> Hub {
    let mut command = gatehouse();
    command
        .arg("gateway")
        .arg("--snapshot")
        .arg(snapshot_file)
        .arg("--data-dir")
        .arg(data_dir)
        .args([
            "--gateway-listen",
            "127.0.0.1:0",
            "--gateway-admin-listen",
            "127.0.0.1:0",
        ]);
    if let Some(redis) = redis {
        // Generous: six debug-build processes share two cores with the test.
        command.args([
            "--rate-limit-store",
            redis,
            "--rate-limit-fail",
            "closed",
            "--rate-limit-timeout-ms",
            "2000",
        ]);
    }
    Hub::start_role(command, "gateway ")
}

/// Hammers the gateways round-robin for `RUN`; returns requests accepted in the first window
/// and in the rest.
async fn hammer(gateways: &[String]) -> (u64, u64, Duration) {
    let started = Instant::now();
    let (first, rest, errors) = (
        Arc::new(AtomicU64::new(0)),
        Arc::new(AtomicU64::new(0)),
        Arc::new(AtomicU64::new(0)),
    );
    let mut workers = Vec::new();
    for worker in 0..12 {
        let url = format!("{}/anything", gateways[worker % gateways.len()]);
        let (first, rest, errors) = (first.clone(), rest.clone(), errors.clone());
        workers.push(tokio::spawn(async move {
            let client = reqwest::Client::new();
            while started.elapsed() < RUN {
                // Which window a request counts in is decided when it is sent, not when its
                // answer arrives: on a loaded machine an answer can come a window late.
                let sent = started.elapsed();
                match client
                    .get(&url)
                    .header("x-api-key", KEY)
                    .send()
                    .await
                    .map(|response| response.status().as_u16())
                {
                    Ok(200) if sent < Duration::from_secs(WINDOW_SECONDS) => first.fetch_add(1, Ordering::Relaxed),
                    Ok(200) => rest.fetch_add(1, Ordering::Relaxed),
                    Ok(429) => 0,
                    other => {
                        eprintln!("unexpected answer: {other:?}");
                        errors.fetch_add(1, Ordering::Relaxed)
                    }
                };
            }
        }));
    }
    for worker in workers {
        worker.await.unwrap();
    }
    assert_eq!(errors.load(Ordering::Relaxed), 0, "only 200s and 429s");
    (
        first.load(Ordering::Relaxed),
        rest.load(Ordering::Relaxed),
        started.elapsed(),
    )
}

/// The two runs take turns: each needs the machine's cores to itself to count fairly.
static ONE_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

async fn run(redis: Option<&str>) -> f64 {
    let _turn = ONE_AT_A_TIME.lock().await;
    let (upstream_url, _upstream) = upstream().await;
    let dir = TempDir::new();
    let file = dir.path().join("snapshot.json");
    std::fs::write(
        &file,
        snapshot(&upstream_url, &unique_name("plan").replace('_', "-")).to_string(),
    )
    .unwrap();
    let gateways: Vec<Hub> = (0..3)
        .map(|index| {
            let data_dir = dir.path().join(format!("gateway-{index}"));
            start_gateway(&file, &data_dir, redis)
        })
        .collect();
    let origins: Vec<String> = gateways.iter().map(|gateway| gateway.origin.clone()).collect();
    let (first, rest, elapsed) = hammer(&origins).await;
    // The first window also spends the burst of an idle key; count per window after it.
    let later_windows = (elapsed.as_secs_f64() - WINDOW_SECONDS as f64) / WINDOW_SECONDS as f64;
    let per_window = rest as f64 / later_windows;
    eprintln!("accepted: {first} in the first window, {per_window:.1} per window after it (plan: {REQUESTS})");
    per_window
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_gateways_sharing_redis_hold_the_limit_together() {
    let per_window = run(Some(&redis_url())).await;
    let expected = REQUESTS as f64;
    assert!(
        (per_window - expected).abs() <= expected * 0.05,
        "{per_window:.1} per window, expected {expected} ± 5%"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_gateways_counting_alone_allow_three_times_the_limit() {
    let per_window = run(None).await;
    let expected = 3.0 * REQUESTS as f64;
    assert!(
        (per_window - expected).abs() <= expected * 0.05,
        "{per_window:.1} per window, expected {expected} ± 5%"
    );
}

fn sha256_hex(text: &str) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(text.as_bytes())
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect()
}

#[tokio::test]
async fn the_access_log_writes_one_json_line_per_request() {
    let (upstream_url, _upstream) = upstream().await;
    let dir = TempDir::new();
    let file = dir.path().join("snapshot.json");
    std::fs::write(&file, snapshot(&upstream_url, "logged").to_string()).unwrap();
    let mut command = gatehouse();
    command
        .arg("gateway")
        .arg("--snapshot")
        .arg(&file)
        .arg("--data-dir")
        .arg(dir.path())
        .args([
            "--gateway-listen",
            "127.0.0.1:0",
            "--gateway-admin-listen",
            "127.0.0.1:0",
            "--access-log",
        ]);
    let mut gateway = Hub::start_role(command, "gateway ");
    let client = reqwest::Client::new();
    let allowed = client
        .get(format!("{}/pets/1?x=y", gateway.origin))
        .header("x-api-key", KEY)
        .send()
        .await
        .unwrap();
    assert_eq!(allowed.status(), 200);
    let line = gateway.wait_for_stdout_line(|line| line.starts_with('{'));
    let entry: serde_json::Value = serde_json::from_str(&line).unwrap();
    assert_eq!(
        (entry["method"].as_str(), entry["path"].as_str()),
        (Some("GET"), Some("/pets/1"))
    );
    assert_eq!(
        (entry["api"].as_str(), entry["user"].as_str(), entry["status"].as_u64()),
        (Some("limited"), Some("hammer"), Some(200))
    );
    assert!(
        entry["duration_ms"].as_f64().is_some() && entry["request_id"].is_string(),
        "{entry}"
    );
    let refused = client.get(format!("{}/pets/1", gateway.origin)).send().await.unwrap();
    assert_eq!(refused.status(), 401);
    let line = gateway.wait_for_stdout_line(|line| line.contains("credentials_missing"));
    let entry: serde_json::Value = serde_json::from_str(&line).unwrap();
    assert_eq!(entry["status"], 401);
}
