//! Objects in use cannot vanish from under what uses them, unless the caller cascades.

use axum::http::StatusCode;
use serde_json::json;

use crate::support::{TestApp, api, on_both_stores};

on_both_stores!(
    deleting_a_used_group_names_the_policy,
    cascading_a_group_detaches_it,
    deleting_an_api_cascades_to_its_versions_and_narrows_policies,
    a_plan_in_use_cannot_be_cascaded_away,
    deleting_a_user_cascades_to_applications_and_keys
);

async fn setup(app: &TestApp) {
    app.create("/api/v1/apis", api("petstore", "/pets")).await;
    app.create("/api/v1/apis", api("billing", "/billing")).await;
    app.create(
        "/api/v1/apis/petstore/versions",
        json!({ "name": "v1", "selector": { "kind": "path", "segment": "v1" } }),
    )
    .await;
    app.create(
        "/api/v1/apis/petstore/versions",
        json!({ "name": "v2", "selector": { "kind": "path", "segment": "v2" } }),
    )
    .await;
    app.create("/api/v1/groups", json!({ "name": "partners" })).await;
    app.create("/api/v1/groups", json!({ "name": "staff" })).await;
    app.create(
        "/api/v1/plans",
        json!({ "name": "gold", "rate_limit": { "requests": 10, "window_seconds": 1 } }),
    )
    .await;
    app.create(
        "/api/v1/users",
        json!({ "name": "alice", "groups": ["partners", "staff"] }),
    )
    .await;
    app.create(
        "/api/v1/access-policies",
        json!({
            "name": "partners-apis", "groups": ["partners", "staff"], "plan": "gold",
            "apis": [{ "api": "petstore", "versions": ["v1"] }, { "api": "billing" }]
        }),
    )
    .await;
}

async fn deleting_a_used_group_names_the_policy(app: TestApp) {
    setup(&app).await;
    let before = app.audit_count().await;
    let refused = app.admin("DELETE", "/api/v1/groups/partners", None).await;
    refused.assert_problem(StatusCode::CONFLICT);
    assert!(
        refused.text.contains("access policy `partners-apis`"),
        "{}",
        refused.text
    );
    assert!(refused.text.contains("user `alice`"), "{}", refused.text);
    assert_eq!(
        app.viewer("GET", "/api/v1/groups/partners", None).await.status,
        StatusCode::OK,
        "still there"
    );
    assert_eq!(app.audit_count().await, before);
}

async fn cascading_a_group_detaches_it(app: TestApp) {
    setup(&app).await;
    let response = app.admin("DELETE", "/api/v1/groups/partners?cascade=true", None).await;
    assert_eq!(response.status, StatusCode::NO_CONTENT, "{}", response.text);
    let policy = app.viewer("GET", "/api/v1/access-policies/partners-apis", None).await;
    assert_eq!(policy.json["groups"], json!(["staff"]));
    let alice = app.viewer("GET", "/api/v1/users/alice", None).await;
    assert_eq!(alice.json["groups"], json!(["staff"]));
    let audit = app
        .viewer("GET", "/api/v1/audit?kind=access_policy&action=update", None)
        .await;
    assert_eq!(
        audit.json["items"][0]["before"]["groups"],
        json!(["partners", "staff"]),
        "the detach is audited"
    );
}

async fn deleting_an_api_cascades_to_its_versions_and_narrows_policies(app: TestApp) {
    setup(&app).await;
    let refused = app.admin("DELETE", "/api/v1/apis/petstore", None).await;
    refused.assert_problem(StatusCode::CONFLICT);
    assert!(refused.text.contains("API version `petstore/v1`"), "{}", refused.text);

    // Deleting the only version a grant names removes that grant instead of widening it.
    let version = app
        .admin("DELETE", "/api/v1/apis/petstore/versions/v1?cascade=true", None)
        .await;
    assert_eq!(version.status, StatusCode::NO_CONTENT, "{}", version.text);
    let policy = app.viewer("GET", "/api/v1/access-policies/partners-apis", None).await;
    assert_eq!(
        policy.json["apis"],
        json!([{ "api": "billing", "versions": [], "methods": [], "operations": [] }])
    );

    let api = app.admin("DELETE", "/api/v1/apis/petstore?cascade=true", None).await;
    assert_eq!(api.status, StatusCode::NO_CONTENT, "{}", api.text);
    app.viewer("GET", "/api/v1/apis/petstore/versions/v2", None)
        .await
        .assert_problem(StatusCode::NOT_FOUND);
    let free_again = app.admin("POST", "/api/v1/apis", Some(api_body())).await;
    assert_eq!(
        free_again.status,
        StatusCode::CREATED,
        "the route was released: {}",
        free_again.text
    );
}

fn api_body() -> serde_json::Value {
    api("petstore-next", "/pets")
}

async fn a_plan_in_use_cannot_be_cascaded_away(app: TestApp) {
    setup(&app).await;
    let refused = app.admin("DELETE", "/api/v1/plans/gold?cascade=true", None).await;
    refused.assert_problem(StatusCode::CONFLICT);
    assert!(refused.text.contains("partners-apis"), "{}", refused.text);
    assert_eq!(
        app.viewer("GET", "/api/v1/access-policies/partners-apis", None)
            .await
            .json["plan"],
        "gold"
    );
}

async fn deleting_a_user_cascades_to_applications_and_keys(app: TestApp) {
    setup(&app).await;
    let application = app
        .create("/api/v1/applications", json!({ "name": "billing", "owner": "alice" }))
        .await;
    let id = application["id"].as_str().unwrap();
    app.create(&format!("/api/v1/applications/{id}/keys"), json!({ "name": "ci" }))
        .await;
    app.admin("DELETE", "/api/v1/users/alice", None)
        .await
        .assert_problem(StatusCode::CONFLICT);
    let response = app.admin("DELETE", "/api/v1/users/alice?cascade=true", None).await;
    assert_eq!(response.status, StatusCode::NO_CONTENT, "{}", response.text);
    app.viewer("GET", &format!("/api/v1/applications/{id}"), None)
        .await
        .assert_problem(StatusCode::NOT_FOUND);
    let deleted_keys = app
        .viewer("GET", "/api/v1/audit?kind=api_key&action=delete", None)
        .await;
    assert_eq!(deleted_keys.json["items"].as_array().unwrap().len(), 1);
}
