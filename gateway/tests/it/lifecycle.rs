//! Lifecycle signals: a deprecated version's answers carry `Deprecation`, `Sunset` and the
//! successor's `Link`; a retired one answers 410 naming its successor; others carry none.

use http::StatusCode;
use serde_json::{Value, json};

use crate::support::{ALICE_KEY, TestGateway, client, snapshot};
use crate::upstream::Upstream;

/// The shared test snapshot with v1 deprecated (dates and successor v3), v0 retired (successor
/// v3) and v3 published on its own path segment.
fn lifecycle_snapshot(upstream: &str) -> Value {
    let mut snapshot = snapshot(upstream, 100);
    snapshot["apis"][0]["versions"] = json!([
        { "name": "v1", "status": "deprecated", "selector": { "kind": "path", "segment": "v1" },
          "deprecated_at": 1_767_225_600, "sunset_at": 1_782_864_000, "successor": "v3" },
        { "name": "v2", "status": "published", "selector": { "kind": "header", "name": "api-version", "value": "2" } },
        { "name": "v0", "status": "retired", "selector": { "kind": "path", "segment": "v0" }, "successor": "v3" },
        { "name": "v3", "status": "published", "selector": { "kind": "path", "segment": "v3" } }
    ]);
    snapshot
}

async fn get(gateway: &TestGateway, path: &str, key: Option<&str>) -> reqwest::Response {
    let mut request = client().get(gateway.url(path));
    if let Some(key) = key {
        request = request.header("x-api-key", key);
    }
    request.send().await.unwrap()
}

#[tokio::test]
async fn deprecated_version_answers_with_deprecation_sunset_and_successor_link() {
    let upstream = Upstream::start("pets").await;
    let gateway = TestGateway::start(lifecycle_snapshot(&upstream.url())).await;
    let response = get(&gateway, "/pets/v1/pets", Some(ALICE_KEY)).await;
    assert_eq!(response.status(), StatusCode::OK);
    let headers = response.headers();
    assert_eq!(headers["deprecation"], "@1767225600");
    assert_eq!(headers["sunset"], "Wed, 01 Jul 2026 00:00:00 GMT");
    assert_eq!(headers["link"], r#"</pets/v3>; rel="successor-version""#);
    // A refusal of the deprecated version tells the same: the client learns it either way.
    let refused = get(&gateway, "/pets/v1/pets", None).await;
    assert_eq!(refused.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(refused.headers()["deprecation"], "@1767225600");
    assert_eq!(upstream.hits(), 1);
}

#[tokio::test]
async fn published_version_answers_without_lifecycle_headers() {
    let upstream = Upstream::start("pets").await;
    let gateway = TestGateway::start(lifecycle_snapshot(&upstream.url())).await;
    let response = get(&gateway, "/pets/v3/pets", Some(ALICE_KEY)).await;
    assert_eq!(response.status(), StatusCode::OK);
    for name in ["deprecation", "sunset", "link"] {
        assert!(!response.headers().contains_key(name), "{name} on a published version");
    }
}

#[tokio::test]
async fn retired_version_gets_410_naming_its_successor_without_reaching_the_upstream() {
    let upstream = Upstream::start("pets").await;
    let gateway = TestGateway::start(lifecycle_snapshot(&upstream.url())).await;
    let response = get(&gateway, "/pets/v0/pets", Some(ALICE_KEY)).await;
    assert_eq!(response.status(), StatusCode::GONE);
    assert_eq!(response.headers()["content-type"], "application/problem+json");
    assert_eq!(response.headers()["link"], r#"</pets/v3>; rel="successor-version""#);
    assert_eq!(response.headers()["deprecation"], "@0");
    let problem: Value = response.json().await.unwrap();
    assert_eq!(problem["rule"], "version_retired");
    assert_eq!(problem["successor"], "v3");
    assert_eq!(
        problem["detail"],
        "version `v0` of API `pets` is retired; its successor is `v3`, at /pets/v3"
    );
    assert_eq!(upstream.hits(), 0);
}

#[tokio::test]
async fn snapshot_naming_an_unknown_successor_is_refused_by_field() {
    let mut snapshot = lifecycle_snapshot("http://127.0.0.1:9");
    snapshot["apis"][0]["versions"][0]["successor"] = json!("v9");
    let parsed = crate::support::parse(&snapshot);
    let error = gateway::compiled::CompiledSnapshot::compile(&parsed, None).unwrap_err();
    assert_eq!(
        error.to_string(),
        "apis[0].versions[0].successor: API `pets` has no version `v9`"
    );
}
