//! Create, read, replace and delete for every kind of object.

use axum::http::StatusCode;
use serde_json::{Value, json};

use crate::support::{TestApp, api, on_both_stores};

on_both_stores!(
    apis_round_trip,
    api_versions_round_trip,
    users_groups_and_plans_round_trip,
    access_policies_round_trip,
    applications_and_keys_round_trip,
    gateways_and_admin_tokens_round_trip,
    revisions_are_listed_and_read
);

/// POST, GET, PUT, GET, DELETE, GET on one object; returns the created JSON.
async fn round_trip(
    app: &TestApp,
    collection: &str,
    key_field: &str,
    body: Value,
    change: impl Fn(&mut Value),
) -> Value {
    let created = app.create(collection, body.clone()).await;
    let key = created[key_field].as_str().expect("key in response").to_owned();
    let item = format!("{collection}/{key}");
    let read = app.admin("GET", &item, None).await;
    assert_eq!(read.status, StatusCode::OK, "{}", read.text);
    assert_eq!(read.json, created);
    assert!(
        created["created_at"].is_string() && created["created_by"] == "token:test-admin",
        "{created}"
    );

    let mut changed = body;
    if key_field != "name" {
        changed.as_object_mut().unwrap().remove(key_field);
    }
    change(&mut changed);
    let replaced = app.admin("PUT", &item, Some(changed)).await;
    assert_eq!(replaced.status, StatusCode::OK, "{}", replaced.text);
    assert_eq!(app.admin("GET", &item, None).await.json, replaced.json);
    assert_ne!(replaced.json, created, "the change shows");

    let deleted = app.admin("DELETE", &item, None).await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT, "{}", deleted.text);
    app.admin("GET", &item, None)
        .await
        .assert_problem(StatusCode::NOT_FOUND);
    created
}

async fn apis_round_trip(app: TestApp) {
    let created = round_trip(&app, "/api/v1/apis", "name", api("petstore", "/pets/"), |body| {
        body["upstream"]["targets"] = json!([
            { "url": "http://127.0.0.1:9000", "weight": 90 },
            { "url": "http://127.0.0.1:9001", "weight": 10 }
        ]);
    })
    .await;
    assert_eq!(created["route"]["path_prefix"], "/pets", "prefix is normalised");
    assert_eq!(created["external"], false);
    let external = app
        .create(
            "/api/v1/apis",
            json!({
                "name": "weather", "external": true, "route": { "host": "Weather.Example.com", "path_prefix": "/" },
                "upstream": { "targets": [{ "url": "https://api.weather.example" }] }
            }),
        )
        .await;
    assert_eq!(external["route"]["host"], "weather.example.com");
    assert_eq!(external["upstream"]["targets"][0]["weight"], 100, "default weight");
}

async fn api_versions_round_trip(app: TestApp) {
    app.create("/api/v1/apis", api("petstore", "/pets")).await;
    let openapi = "openapi: 3.0.3\ninfo:\n  title: Pets\n  version: '1'\npaths:\n  /pets:\n    get:\n      operationId: listPets\n";
    let version = json!({
        "name": "v1", "status": "published", "openapi": openapi,
        "selector": { "kind": "path", "segment": "v1" }
    });
    let created = round_trip(&app, "/api/v1/apis/petstore/versions", "name", version, |body| {
        body["status"] = json!("deprecated");
        body["selector"] = json!({ "kind": "header", "name": "X-Api-Version", "value": "1" });
    })
    .await;
    assert_eq!(created["api"], "petstore");
    let unknown_api = app
        .admin("POST", "/api/v1/apis/nope/versions", Some(json!({ "name": "v1" })))
        .await;
    unknown_api.assert_problem(StatusCode::NOT_FOUND);
}

async fn users_groups_and_plans_round_trip(app: TestApp) {
    round_trip(
        &app,
        "/api/v1/groups",
        "name",
        json!({ "name": "partners", "description": "External partners" }),
        |body| {
            body["display_name"] = json!("Partners");
        },
    )
    .await;
    app.create("/api/v1/groups", json!({ "name": "staff" })).await;
    let user = json!({ "name": "alice", "email": "alice@example.com", "groups": ["staff"], "password": "correct horse battery" });
    let created = round_trip(&app, "/api/v1/users", "name", user, |body| {
        body["role"] = json!("viewer");
        body.as_object_mut().unwrap().remove("password");
    })
    .await;
    assert_eq!(created["has_password"], true);
    assert_eq!(created["role"], "developer");
    assert!(
        created.get("password").is_none() && created.get("password_hash").is_none(),
        "{created}"
    );
    let plan = json!({ "name": "gold", "rate_limit": { "requests": 100, "window_seconds": 60 } });
    round_trip(&app, "/api/v1/plans", "name", plan, |body| {
        body["quota"] = json!({ "requests": 100000, "period": "month" });
    })
    .await;
}

async fn access_policies_round_trip(app: TestApp) {
    app.create("/api/v1/apis", api("petstore", "/pets")).await;
    app.create("/api/v1/apis/petstore/versions", json!({ "name": "v1" }))
        .await;
    app.create("/api/v1/groups", json!({ "name": "partners" })).await;
    app.create(
        "/api/v1/plans",
        json!({ "name": "gold", "rate_limit": { "requests": 10, "window_seconds": 1 } }),
    )
    .await;
    let policy = json!({
        "name": "partners-petstore", "groups": ["partners"], "plan": "gold",
        "apis": [{ "api": "petstore", "versions": ["v1"], "methods": ["GET", "HEAD"], "operations": ["listPets"] }]
    });
    round_trip(&app, "/api/v1/access-policies", "name", policy, |body| {
        body["apis"][0]["methods"] = json!(["GET", "POST"]);
    })
    .await;
}

async fn applications_and_keys_round_trip(app: TestApp) {
    app.create("/api/v1/users", json!({ "name": "alice" })).await;
    round_trip(
        &app,
        "/api/v1/applications",
        "id",
        json!({ "name": "billing", "owner": "alice" }),
        |body| {
            body["description"] = json!("Nightly billing sync");
        },
    )
    .await;

    let application = app
        .create("/api/v1/applications", json!({ "name": "billing", "owner": "alice" }))
        .await;
    let keys = format!("/api/v1/applications/{}/keys", application["id"].as_str().unwrap());
    let issued = app.create(&keys, json!({ "name": "ci" })).await;
    let secret = issued["secret"].as_str().unwrap();
    let key = &issued["key"];
    assert!(
        secret.starts_with("ghk_") && secret.starts_with(key["prefix"].as_str().unwrap()),
        "{issued}"
    );
    let read = app
        .admin("GET", &format!("{keys}/{}", key["id"].as_str().unwrap()), None)
        .await;
    assert_eq!(read.json, *key);
    assert!(!read.text.contains(secret), "the secret is never shown again");
    assert!(read.json.get("hash").is_none());

    let revoked = app
        .admin("POST", &format!("{keys}/{}/revoke", key["id"].as_str().unwrap()), None)
        .await;
    assert_eq!(revoked.status, StatusCode::OK, "{}", revoked.text);
    assert!(revoked.json["revoked_at"].is_string());
    let active = app.admin("GET", &format!("{keys}?revoked=false"), None).await;
    assert_eq!(active.json["items"], json!([]));
    let deleted = app
        .admin("DELETE", &format!("{keys}/{}", key["id"].as_str().unwrap()), None)
        .await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT);
    let past = app
        .admin(
            "POST",
            &keys,
            Some(json!({ "name": "old", "expires_at": "2001-01-01T00:00:00Z" })),
        )
        .await;
    assert_eq!(past.assert_problem(StatusCode::UNPROCESSABLE_ENTITY), ["expires_at"]);
}

async fn gateways_and_admin_tokens_round_trip(app: TestApp) {
    round_trip(
        &app,
        "/api/v1/gateways",
        "name",
        json!({ "name": "edge-eu-1", "tags": ["eu"] }),
        |body| {
            body["description"] = json!("Frankfurt");
        },
    )
    .await;
    let issued = app
        .create("/api/v1/admin-tokens", json!({ "name": "ci", "role": "viewer" }))
        .await;
    let secret = issued["secret"].as_str().unwrap().to_owned();
    let id = issued["token"]["id"].as_str().unwrap().to_owned();
    assert_eq!(
        app.as_token(&secret, "GET", "/api/v1/apis", None).await.status,
        StatusCode::OK
    );
    let read = app.admin("GET", &format!("/api/v1/admin-tokens/{id}"), None).await;
    assert_eq!(read.json["role"], "viewer");
    assert!(!read.text.contains(&secret));
    assert_eq!(
        app.admin("DELETE", &format!("/api/v1/admin-tokens/{id}"), None)
            .await
            .status,
        StatusCode::NO_CONTENT
    );
    app.as_token(&secret, "GET", "/api/v1/apis", None)
        .await
        .assert_problem(StatusCode::UNAUTHORIZED);
}

async fn revisions_are_listed_and_read(app: TestApp) {
    use hub::model::Revision;
    let mut tx = app.store.begin().await.unwrap();
    for number in 1..=3 {
        let revision = Revision {
            number,
            content_hash: format!("hash-{number}"),
            author: "alice".into(),
            created_at: chrono::Utc::now(),
            message: format!("change {number}"),
            source_commit: (number == 2).then(|| "abc123".into()),
            kind: hub::model::RevisionKind::Publish,
            rolled_back_to: None,
        };
        tx.insert_revision(&revision, "{}").await.unwrap();
    }
    tx.commit().await.unwrap();
    let page = app.viewer("GET", "/api/v1/revisions?limit=2", None).await;
    let numbers: Vec<i64> = page.json["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["number"].as_i64().unwrap())
        .collect();
    assert_eq!(numbers, [3, 2]);
    let next = app
        .viewer(
            "GET",
            &format!(
                "/api/v1/revisions?cursor={}",
                page.json["next_cursor"].as_str().unwrap()
            ),
            None,
        )
        .await;
    assert_eq!(next.json["items"][0]["number"], 1);
    let two = app.viewer("GET", "/api/v1/revisions/2", None).await;
    assert_eq!(
        (two.json["message"].as_str(), two.json["source_commit"].as_str()),
        (Some("change 2"), Some("abc123"))
    );
    app.viewer("GET", "/api/v1/revisions/9", None)
        .await
        .assert_problem(StatusCode::NOT_FOUND);
    app.admin("DELETE", "/api/v1/revisions/2", None)
        .await
        .assert_problem(StatusCode::METHOD_NOT_ALLOWED);
}
