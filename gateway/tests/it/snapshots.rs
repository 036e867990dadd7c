//! Snapshots: swapped under load without a failed request, refused whole when invalid,
//! reloaded from a file, restarted from the last good one.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use http::StatusCode;
use serde_json::Value;

use crate::support::{ALICE_KEY, TestGateway, client, parse, snapshot};
use crate::upstream::Upstream;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn swaps_under_load_fail_no_request() {
    let (one, two) = (Upstream::start("one").await, Upstream::start("two").await);
    let gateway = Arc::new(TestGateway::start(snapshot(&one.url(), 100)).await);
    let stop = Arc::new(AtomicBool::new(false));
    let (ok, failed) = (Arc::new(AtomicU64::new(0)), Arc::new(AtomicU64::new(0)));
    let mut clients = Vec::new();
    for _ in 0..8 {
        let (gateway, stop, ok, failed) = (gateway.clone(), stop.clone(), ok.clone(), failed.clone());
        clients.push(tokio::spawn(async move {
            let client = client();
            while !stop.load(Ordering::Relaxed) {
                let response = client
                    .get(gateway.url("/pets/v1/x"))
                    .header("x-api-key", ALICE_KEY)
                    .send()
                    .await;
                match response {
                    Ok(response) if response.status() == StatusCode::OK => ok.fetch_add(1, Ordering::Relaxed),
                    _ => failed.fetch_add(1, Ordering::Relaxed),
                };
            }
        }));
    }
    for revision in 2..=41u64 {
        let upstream = if revision % 2 == 0 { &two } else { &one };
        let mut document = snapshot(&upstream.url(), 100);
        document["revision"] = revision.into();
        gateway.runtime.apply(parse(&document)).expect("applies");
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    stop.store(true, Ordering::Relaxed);
    for client in clients {
        client.await.unwrap();
    }
    assert_eq!(
        failed.load(Ordering::Relaxed),
        0,
        "of {} requests",
        ok.load(Ordering::Relaxed)
    );
    assert!(ok.load(Ordering::Relaxed) > 100);
    assert!(one.hits() > 0 && two.hits() > 0, "both snapshots served");
    assert_eq!(gateway.runtime.current().compiled.revision, 41);
}

#[tokio::test]
async fn an_invalid_snapshot_is_refused_and_the_old_one_keeps_serving() {
    let upstream = Upstream::start("one").await;
    let gateway = TestGateway::start(snapshot(&upstream.url(), 100)).await;
    let mut broken = snapshot(&upstream.url(), 100);
    broken["revision"] = 2.into();
    broken["access_rules"][0]["plan"] = "platinum".into();
    let error = gateway.runtime.apply(parse(&broken)).expect_err("refused");
    assert_eq!(error.to_string(), "access_rules[0].plan: unknown plan `platinum`");
    let response = client()
        .get(gateway.url("/pets/v1/x"))
        .header("x-api-key", ALICE_KEY)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let ready: Value = client()
        .get(gateway.admin_url("/readyz"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(ready["revision"], 1);
    let metrics = gateway.metrics().await;
    assert!(metrics.contains("gatehouse_snapshot_rejected_total 1"), "{metrics}");
}

#[tokio::test]
async fn a_file_source_reloads_and_the_last_good_snapshot_restarts_the_gateway() {
    use gateway::source::{self, LastGood};
    let (one, two) = (Upstream::start("one").await, Upstream::start("two").await);
    let dir = std::env::temp_dir().join(format!(
        "gatehouse-gw-{}",
        std::process::id() as u64 * 1000 + rand_suffix()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("snapshot.json");
    let last_good = LastGood::in_dir(&dir);
    std::fs::write(&file, snapshot(&one.url(), 100).to_string()).unwrap();

    let gateway = TestGateway::start(gateway_empty()).await;
    source::start(&gateway.runtime, Some(&file), Some(&last_good));
    let watcher = tokio::spawn(source::watch_file(
        gateway.runtime.clone(),
        file.clone(),
        Some(last_good.clone()),
        std::time::Duration::from_millis(50),
    ));
    let upstream_of = || async {
        let response = client()
            .get(gateway.url("/pets/v1/x"))
            .header("x-api-key", ALICE_KEY)
            .send()
            .await
            .unwrap();
        response.json::<Value>().await.unwrap()["upstream"].clone()
    };
    assert_eq!(upstream_of().await, "one");

    let mut next = snapshot(&two.url(), 100);
    next["revision"] = 2.into();
    std::fs::write(&file, next.to_string()).unwrap();
    wait_for(|| gateway.runtime.current().compiled.revision == 2).await;
    assert_eq!(upstream_of().await, "two");

    std::fs::write(&file, "{ not json").unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    assert_eq!(
        gateway.runtime.current().compiled.revision,
        2,
        "the broken file changed nothing"
    );
    watcher.abort();

    // A new gateway whose source is broken starts from the last good snapshot.
    let restarted = TestGateway::start(gateway_empty()).await;
    source::start(&restarted.runtime, Some(&file), Some(&last_good));
    assert_eq!(restarted.runtime.current().compiled.revision, 2);
    let response = client()
        .get(restarted.url("/pets/v1/x"))
        .header("x-api-key", ALICE_KEY)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
}

fn gateway_empty() -> Value {
    serde_json::json!({ "format": 1 })
}

fn rand_suffix() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos() as u64
}

async fn wait_for(condition: impl Fn() -> bool) {
    for _ in 0..100 {
        if condition() {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    panic!("condition not met in 2 s");
}

#[tokio::test]
async fn the_admin_port_shows_what_is_enforced_with_keys_redacted() {
    let upstream = Upstream::start("one").await;
    let gateway = TestGateway::start(snapshot(&upstream.url(), 100)).await;
    let config: Value = client()
        .get(gateway.admin_url("/config"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(config["apis"][0]["name"], "pets");
    let hash = crate::support::key_hash(ALICE_KEY);
    let shown = config["consumers"][0]["key_hash"].as_str().unwrap();
    assert!(
        shown.starts_with(&hash[..8]) && shown.contains("redacted") && !shown.contains(&hash),
        "{shown}"
    );
    assert_eq!(
        client()
            .get(gateway.admin_url("/healthz"))
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::OK
    );
    assert_eq!(
        client().get(gateway.admin_url("/nope")).send().await.unwrap().status(),
        StatusCode::NOT_FOUND
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_large_snapshot_is_kept_on_disk_only_and_config_still_shows_it_across_proxy_workers() {
    let upstream = Upstream::start("one").await;
    let mut document = snapshot(&upstream.url(), 100);
    // Enough keys to pass the 1 MiB that stays in memory.
    let consumers = document["consumers"].as_array_mut().unwrap();
    for index in 0..12_000 {
        consumers.push(serde_json::json!({
            "key_hash": crate::support::key_hash(&format!("filler-{index}")),
            "key_id": format!("filler-{index}"),
            "user": format!("filler-user-{}", index % 50),
            "application": "filler",
            "groups": ["support"],
        }));
    }
    let text = document.to_string();
    assert!(text.len() > 1 << 20, "{} bytes", text.len());
    let dir = std::env::temp_dir().join(format!("gatehouse-large-{}", rand_suffix()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("snapshot.json");
    std::fs::write(&file, &text).unwrap();
    let gateway = crate::support::TestGateway::from_config(gateway::config::GatewayConfig {
        snapshot: Some(file),
        data_dir: dir.join("data"),
        workers: 3,
        ..Default::default()
    })
    .await;
    assert!(
        matches!(
            gateway.runtime.current().document,
            gateway::runtime::DocumentCopy::File { .. }
        ),
        "not kept in memory"
    );
    // The last good file was written before the swap: `/config` answers at once.
    let response = client().get(gateway.admin_url("/config")).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let config: Value = response.json().await.unwrap();
    assert_eq!(config["apis"][0]["name"], "pets");
    assert_eq!(config["consumers"].as_array().unwrap().len(), 12_003);
    let shown = config["consumers"][5]["key_hash"].as_str().unwrap();
    assert!(shown.contains("redacted"), "{shown}");
    // Many connections, spread by the kernel over the three proxy workers, each with its own
    // upstream pool: every one is answered.
    let mut calls = Vec::new();
    for _ in 0..24 {
        let url = gateway.url("/pets/v1/x");
        calls.push(tokio::spawn(async move {
            let client = client();
            let mut statuses = Vec::new();
            for _ in 0..5 {
                let response = client.get(&url).header("x-api-key", ALICE_KEY).send().await.unwrap();
                statuses.push(response.status());
            }
            statuses
        }));
    }
    for call in calls {
        assert!(call.await.unwrap().iter().all(|status| *status == StatusCode::OK));
    }
    assert_eq!(upstream.hits(), 120);
    // A last good file changed behind the gateway's back is not shown as what it enforces.
    std::fs::write(dir.join("data").join("last-good-snapshot.json"), b"{}").unwrap();
    let response = client().get(gateway.admin_url("/config")).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    let _ = std::fs::remove_dir_all(&dir);
}
