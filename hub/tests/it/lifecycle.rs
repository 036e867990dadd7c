//! Lifecycle of API versions: deprecation and sunset dates and a successor, validated by field,
//! carried into the snapshot, applied from manifests in any order, detached when the successor
//! goes.

use axum::http::StatusCode;
use serde_json::{Value, json};

use crate::support::{TestApp, api, on_both_stores};

on_both_stores!(
    lifecycle_fields_are_refused_by_field,
    lifecycle_reaches_the_snapshot_and_a_draft_successor_blocks_publishing,
    deleting_the_successor_detaches_it,
    manifests_name_a_successor_listed_after_its_predecessor
);

const VERSIONS: &str = "/api/v1/apis/petstore/versions";

fn version(name: &str, extra: Value) -> Value {
    let mut body = json!({ "name": name, "status": "published", "selector": { "kind": "path", "segment": name } });
    body.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
    body
}

async fn lifecycle_fields_are_refused_by_field(app: TestApp) {
    app.create("/api/v1/apis", api("petstore", "/pets")).await;
    let before = app.audit_count().await;
    for (extra, field) in [
        (json!({ "successor": "v9" }), "successor"),
        (json!({ "successor": "v1" }), "successor"),
        (json!({ "successor": "Not A Name" }), "successor"),
        (
            json!({ "deprecated_at": "2026-06-01T00:00:00Z", "sunset_at": "2026-01-01T00:00:00Z" }),
            "sunset_at",
        ),
        (json!({ "deprecated_at": "next tuesday" }), "deprecated_at"),
    ] {
        let response = app.admin("POST", VERSIONS, Some(version("v1", extra.clone()))).await;
        let fields = response.assert_problem(StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(fields, [field], "{extra}: {}", response.text);
    }
    assert_eq!(app.audit_count().await, before, "nothing was written");
}

async fn lifecycle_reaches_the_snapshot_and_a_draft_successor_blocks_publishing(app: TestApp) {
    app.create("/api/v1/apis", api("petstore", "/pets")).await;
    app.create(VERSIONS, version("v2", json!({ "status": "draft" }))).await;
    let created = app
        .create(
            VERSIONS,
            version(
                "v1",
                json!({ "status": "deprecated", "deprecated_at": "2026-01-01T00:00:00Z",
                        "sunset_at": "2026-07-01T00:00:00Z", "successor": "v2" }),
            ),
        )
        .await;
    assert_eq!(created["successor"], "v2");
    assert_eq!(created["sunset_at"], "2026-07-01T00:00:00Z");
    let refused = app
        .admin("POST", "/api/v1/revisions", Some(json!({ "message": "too soon" })))
        .await;
    assert_eq!(
        refused.assert_problem(StatusCode::UNPROCESSABLE_ENTITY),
        ["api_versions/petstore/v1"]
    );
    assert!(
        refused.text.contains("successor: version `v2` is a draft"),
        "{}",
        refused.text
    );
    let replaced = app
        .admin("PUT", &format!("{VERSIONS}/v2"), Some(version("v2", json!({}))))
        .await;
    assert_eq!(replaced.status, StatusCode::OK, "{}", replaced.text);
    let published = app
        .admin("POST", "/api/v1/revisions", Some(json!({ "message": "v2 out" })))
        .await;
    assert_eq!(published.status, StatusCode::CREATED, "{}", published.text);
    let snapshot = app.viewer("GET", "/api/v1/revisions/1/snapshot", None).await.json;
    let versions = snapshot["apis"][0]["versions"].as_array().unwrap();
    let v1 = versions.iter().find(|version| version["name"] == "v1").unwrap();
    assert_eq!(
        (&v1["deprecated_at"], &v1["sunset_at"], &v1["successor"]),
        (&json!(1_767_225_600), &json!(1_782_864_000), &json!("v2"))
    );
    let v2 = versions.iter().find(|version| version["name"] == "v2").unwrap();
    assert!(
        v2.get("successor").is_none() && v2.get("deprecated_at").is_none(),
        "{v2}"
    );
}

async fn deleting_the_successor_detaches_it(app: TestApp) {
    app.create("/api/v1/apis", api("petstore", "/pets")).await;
    app.create(VERSIONS, version("v2", json!({}))).await;
    app.create(VERSIONS, version("v1", json!({ "successor": "v2" }))).await;
    let blocked = app.admin("DELETE", &format!("{VERSIONS}/v2"), None).await;
    blocked.assert_problem(StatusCode::CONFLICT);
    assert!(blocked.text.contains("successor"), "{}", blocked.text);
    let deleted = app.admin("DELETE", &format!("{VERSIONS}/v2?cascade=true"), None).await;
    assert!(deleted.status.is_success(), "{}", deleted.text);
    let v1 = app.viewer("GET", &format!("{VERSIONS}/v1"), None).await.json;
    assert!(v1.get("successor").is_none(), "{v1}");
}

async fn manifests_name_a_successor_listed_after_its_predecessor(app: TestApp) {
    let text = "kind: Api\nname: petstore\nspec:\n  route:\n    path_prefix: /pets\n  upstream:\n    targets:\n      - url: http://127.0.0.1:9000\n  versions:\n    - name: v1\n      status: deprecated\n      selector: {kind: path, segment: v1}\n      deprecated_at: 2026-01-01T00:00:00Z\n      sunset_at: 2026-07-01T00:00:00Z\n      successor: v2\n    - name: v2\n      status: published\n      selector: {kind: path, segment: v2}\n";
    let files = json!([{ "path": "apis/petstore.yaml", "text": text }]);
    let applied = app
        .admin("POST", "/api/v1/manifests/apply", Some(json!({ "files": files })))
        .await;
    assert_eq!(applied.status, StatusCode::OK, "{}", applied.text);
    let v1 = app.viewer("GET", &format!("{VERSIONS}/v1"), None).await.json;
    assert_eq!(
        (&v1["successor"], &v1["deprecated_at"]),
        (&json!("v2"), &json!("2026-01-01T00:00:00Z"))
    );
    // The export writes the same fields back, so a round trip keeps them.
    let exported = app.admin("GET", "/api/v1/manifests", None).await.json;
    let petstore = exported["files"]
        .as_array()
        .unwrap()
        .iter()
        .find(|file| file["path"] == "apis/petstore.yaml")
        .unwrap()["text"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(
        petstore.contains("successor: v2") && petstore.contains("sunset_at:"),
        "{petstore}"
    );
    let again = app
        .admin(
            "POST",
            "/api/v1/manifests/apply",
            Some(json!({ "files": exported["files"] })),
        )
        .await;
    assert_eq!(again.json["steps"], json!([]), "{}", again.text);
}
