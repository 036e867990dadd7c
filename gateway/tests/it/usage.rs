//! Usage summaries, as a gateway following a hub sends them: every request of an API reaches the
//! hub's usage endpoint exactly once, counted by API, version, user, application, key and status
//! class, and a hub outage loses none of them. The hub here is the protocol peer of `hub_stream`;
//! `hub/tests/it/usage.rs` runs a gateway against the real hub and reads its analytics.

use std::collections::BTreeMap;
use std::time::Duration;

use gateway::config::GatewayConfig;
use reqwest::StatusCode;

use crate::hub_stream::{HubPeer, TempDir, config, eventually, ready_revision, revision};
use crate::support::{ALICE_KEY, BOB_KEY, TestGateway, client, snapshot};
use crate::upstream::Upstream;

/// What a summary counts for: (api, version, user, application, key, status class).
type Key = (
    String,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
    String,
);

/// The requests of every summary the hub took, summed per key; checks each summary on the way.
fn totals(hub: &HubPeer) -> BTreeMap<Key, u64> {
    let mut totals = BTreeMap::new();
    for report in hub.usage_reports() {
        assert!(
            report["instance"].as_str().is_some_and(|instance| !instance.is_empty()),
            "{report}"
        );
        let summaries = report["summaries"].as_array().expect("summaries");
        assert!(!summaries.is_empty(), "an empty report was sent: {report}");
        for summary in summaries {
            let requests = summary["requests"].as_u64().expect("requests");
            let buckets = summary["latency_ms_buckets"].as_array().expect("latency_ms_buckets");
            assert_eq!(buckets.len(), gateway::telemetry::N_LATENCY_BUCKETS, "{summary}");
            let in_buckets: u64 = buckets.iter().map(|count| count.as_u64().unwrap()).sum();
            assert_eq!(in_buckets, requests, "the buckets add up to the requests: {summary}");
            let minute = chrono::DateTime::parse_from_rfc3339(summary["minute"].as_str().expect("minute")).unwrap();
            assert_eq!(minute.timestamp() % 60, 0, "the start of a minute: {summary}");
            let now = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap();
            assert!(minute.timestamp() <= now.as_secs() as i64, "{summary}");
            let text = |field: &str| summary[field].as_str().map(str::to_owned);
            let key = (
                text("api").expect("api"),
                text("version"),
                text("user"),
                text("application"),
                text("key"),
                text("status_class").expect("status_class"),
            );
            *totals.entry(key).or_default() += requests;
        }
    }
    totals
}

fn key(user: Option<(&str, &str, &str)>, status_class: &str) -> Key {
    (
        "pets".into(),
        Some("v1".into()),
        user.map(|(user, _, _)| user.into()),
        user.map(|(_, application, _)| application.into()),
        user.map(|(_, _, key)| key.into()),
        status_class.into(),
    )
}

const ALICE: Option<(&str, &str, &str)> = Some(("alice", "alice-app", "key_alice"));
const BOB: Option<(&str, &str, &str)> = Some(("bob", "bob-app", "key_bob"));

/// Sends `n` requests and asserts each got `status`.
async fn call(gateway: &TestGateway, n: usize, method: reqwest::Method, key: Option<&str>, status: StatusCode) {
    for _ in 0..n {
        let mut request = client().request(method.clone(), gateway.url("/pets/v1/pets"));
        if let Some(key) = key {
            request = request.header("x-api-key", key);
        }
        assert_eq!(request.send().await.unwrap().status(), status);
    }
}

async fn following(hub: &HubPeer, data_dir: &TempDir) -> TestGateway {
    let gateway = TestGateway::from_config(GatewayConfig {
        usage_interval: Duration::from_secs(1),
        ..config(hub, data_dir.path())
    })
    .await;
    // Readiness from the admin port, which counts as no API's usage.
    eventually("the snapshot is enforced", Duration::from_secs(5), || async {
        ready_revision(&gateway).await == Some(1)
    })
    .await;
    gateway
}

async fn until_totals(hub: &HubPeer, expected: &BTreeMap<Key, u64>) {
    let total: u64 = expected.values().sum();
    eventually(
        &format!("{total} requests in usage reports"),
        Duration::from_secs(5),
        || std::future::ready(totals(hub).values().sum::<u64>() >= total),
    )
    .await;
    assert_eq!(&totals(hub), expected);
}

#[tokio::test]
async fn every_request_of_an_api_reaches_the_hub_once_by_caller_and_status_class() {
    let upstream = Upstream::start("one").await;
    let hub = HubPeer::start().await;
    hub.publish(&revision(snapshot(&upstream.url(), 100), 1));
    let data_dir = TempDir::new();
    let gateway = following(&hub, &data_dir).await;

    let (n_alice, n_bob, n_bob_refused, n_anonymous) = (7, 3, 2, 4);
    call(&gateway, n_alice, reqwest::Method::GET, Some(ALICE_KEY), StatusCode::OK).await;
    call(&gateway, n_bob, reqwest::Method::GET, Some(BOB_KEY), StatusCode::OK).await;
    // Bob may only read: the 403 is still told with who asked.
    call(
        &gateway,
        n_bob_refused,
        reqwest::Method::DELETE,
        Some(BOB_KEY),
        StatusCode::FORBIDDEN,
    )
    .await;
    call(
        &gateway,
        n_anonymous,
        reqwest::Method::GET,
        None,
        StatusCode::UNAUTHORIZED,
    )
    .await;
    // No API: not anyone's usage.
    let unrouted = client().get(gateway.url("/nowhere")).send().await.unwrap();
    assert_eq!(unrouted.status(), StatusCode::NOT_FOUND);

    let expected = BTreeMap::from([
        (key(ALICE, "2xx"), n_alice as u64),
        (key(BOB, "2xx"), n_bob as u64),
        (key(BOB, "4xx"), n_bob_refused as u64),
        (key(None, "4xx"), n_anonymous as u64),
    ]);
    until_totals(&hub, &expected).await;
    // Two more periods: nothing is counted twice, and quiet periods send nothing.
    let n_reports = hub.usage_reports().len();
    tokio::time::sleep(Duration::from_millis(2500)).await;
    assert_eq!(totals(&hub), expected);
    assert_eq!(hub.usage_reports().len(), n_reports, "nothing is sent without requests");
}

#[tokio::test]
async fn usage_counted_while_the_hub_is_away_arrives_when_it_returns() {
    let upstream = Upstream::start("one").await;
    let mut hub = HubPeer::start().await;
    hub.publish(&revision(snapshot(&upstream.url(), 100), 1));
    let data_dir = TempDir::new();
    let gateway = following(&hub, &data_dir).await;

    call(&gateway, 2, reqwest::Method::GET, Some(ALICE_KEY), StatusCode::OK).await;
    until_totals(&hub, &BTreeMap::from([(key(ALICE, "2xx"), 2)])).await;

    hub.stop().await;
    call(&gateway, 5, reqwest::Method::GET, Some(ALICE_KEY), StatusCode::OK).await;
    // At least one report fails meanwhile.
    tokio::time::sleep(Duration::from_millis(2200)).await;
    call(&gateway, 1, reqwest::Method::GET, Some(BOB_KEY), StatusCode::OK).await;
    hub.restart().await;

    until_totals(&hub, &BTreeMap::from([(key(ALICE, "2xx"), 7), (key(BOB, "2xx"), 1)])).await;
}

#[tokio::test]
async fn the_counts_left_at_shutdown_are_reported() {
    let upstream = Upstream::start("one").await;
    let hub = HubPeer::start().await;
    hub.publish(&revision(snapshot(&upstream.url(), 100), 1));
    let data_dir = TempDir::new();
    let gateway = TestGateway::from_config(GatewayConfig {
        // Longer than the test: only the last report at shutdown can carry the requests.
        usage_interval: Duration::from_secs(3600),
        ..config(&hub, data_dir.path())
    })
    .await;
    eventually("the snapshot is enforced", Duration::from_secs(5), || async {
        ready_revision(&gateway).await == Some(1)
    })
    .await;
    call(&gateway, 3, reqwest::Method::GET, Some(ALICE_KEY), StatusCode::OK).await;
    assert!(hub.usage_reports().is_empty());
    drop(gateway);
    until_totals(&hub, &BTreeMap::from([(key(ALICE, "2xx"), 3)])).await;
}
