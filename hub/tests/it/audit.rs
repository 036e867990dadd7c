//! Every write lands in the audit log: who, when, what, before and after; never a secret.

use axum::http::StatusCode;
use serde_json::json;

use crate::support::{TestApp, on_both_stores};

on_both_stores!(every_write_is_audited, secrets_never_reach_the_audit_log);

async fn every_write_is_audited(app: TestApp) {
    app.create("/api/v1/groups", json!({ "name": "partners" })).await;
    let changed = json!({ "name": "partners", "description": "External partners" });
    assert_eq!(
        app.admin("PUT", "/api/v1/groups/partners", Some(changed.clone()))
            .await
            .status,
        StatusCode::OK
    );
    assert_eq!(
        app.admin("PUT", "/api/v1/groups/partners", Some(changed)).await.status,
        StatusCode::OK
    );
    assert_eq!(
        app.admin("DELETE", "/api/v1/groups/partners", None).await.status,
        StatusCode::NO_CONTENT
    );

    let log = app.viewer("GET", "/api/v1/audit?kind=group&key=partners", None).await;
    let items = log.json["items"].as_array().unwrap();
    let actions: Vec<&str> = items.iter().map(|entry| entry["action"].as_str().unwrap()).collect();
    assert_eq!(
        actions,
        ["delete", "update", "create"],
        "newest first; the unchanged PUT recorded nothing"
    );
    assert!(
        items
            .iter()
            .all(|entry| entry["actor"] == "token:test-admin" && entry["at"].is_string())
    );
    assert_eq!(items[1]["before"]["description"], "");
    assert_eq!(items[1]["after"]["description"], "External partners");
    assert!(items[0]["after"].is_null() && items[2]["before"].is_null());

    let by_actor = app.viewer("GET", "/api/v1/audit?actor=someone-else", None).await;
    assert_eq!(by_actor.json["items"], json!([]));
    let page = app.viewer("GET", "/api/v1/audit?kind=group&limit=2", None).await;
    let cursor = page.json["next_cursor"].as_str().expect("a second page");
    let rest = app
        .viewer(
            "GET",
            &format!("/api/v1/audit?kind=group&limit=2&cursor={cursor}"),
            None,
        )
        .await;
    assert_eq!(rest.json["items"][0]["action"], "create");
}

async fn secrets_never_reach_the_audit_log(app: TestApp) {
    let password = "a secret password";
    app.create("/api/v1/users", json!({ "name": "alice", "password": password }))
        .await;
    let application = app
        .create("/api/v1/applications", json!({ "name": "app", "owner": "alice" }))
        .await;
    let keys = format!("/api/v1/applications/{}/keys", application["id"].as_str().unwrap());
    let issued = app.create(&keys, json!({ "name": "ci" })).await;
    let token = app
        .create("/api/v1/admin-tokens", json!({ "name": "ci", "role": "viewer" }))
        .await;
    let log = app.viewer("GET", "/api/v1/audit?limit=500", None).await.text;
    for secret in [
        password,
        issued["secret"].as_str().unwrap(),
        token["secret"].as_str().unwrap(),
        "$argon2",
    ] {
        assert!(!log.contains(secret), "the audit log holds `{secret}`");
    }
    assert!(!log.contains("\"hash\""));
}
