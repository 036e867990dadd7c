//! Bad input gets 4xx problem+json naming each field, and changes nothing.

use axum::http::StatusCode;
use serde_json::json;

use crate::support::{TestApp, api, on_both_stores};

on_both_stores!(
    invalid_fields_are_all_named,
    wrong_types_name_the_field,
    unknown_references_are_refused,
    duplicates_and_overlapping_routes_conflict,
    broken_openapi_documents_are_refused,
    names_cannot_change
);

async fn invalid_fields_are_all_named(app: TestApp) {
    let before = app.audit_count().await;
    let body = json!({
        "name": "Bad Name", "tags": ["ok", "Not OK"],
        "route": { "host": "exa mple.com", "path_prefix": "pets" },
        "upstream": { "targets": [{ "url": "ftp://x" }, { "url": "http://a", "weight": 20000 }] }
    });
    let response = app.admin("POST", "/api/v1/apis", Some(body)).await;
    let fields = response.assert_problem(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        fields,
        [
            "name",
            "tags[1]",
            "route.host",
            "route.path_prefix",
            "upstream.targets[0].url",
            "upstream.targets[1].weight"
        ]
    );
    let plan = json!({ "name": "p", "rate_limit": { "requests": 0, "window_seconds": 999999 } });
    let fields = app
        .admin("POST", "/api/v1/plans", Some(plan))
        .await
        .assert_problem(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(fields, ["rate_limit.requests", "rate_limit.window_seconds"]);
    let user = json!({ "name": "carol", "email": "not-an-email", "password": "short" });
    let fields = app
        .admin("POST", "/api/v1/users", Some(user))
        .await
        .assert_problem(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(fields, ["email", "password"]);
    assert_eq!(app.audit_count().await, before, "nothing was written");
    assert_eq!(app.viewer("GET", "/api/v1/apis", None).await.json["items"], json!([]));
}

async fn wrong_types_name_the_field(app: TestApp) {
    let mut body = api("petstore", "/pets");
    body["upstream"]["targets"][0]["weight"] = json!("heavy");
    let fields = app
        .admin("POST", "/api/v1/apis", Some(body))
        .await
        .assert_problem(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(fields, ["upstream.targets[0].weight"]);
    let mut body = api("petstore", "/pets");
    body["rout"] = json!({});
    let response = app.admin("POST", "/api/v1/apis", Some(body)).await;
    response.assert_problem(StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        response.text.contains("rout"),
        "unknown fields are named: {}",
        response.text
    );
    let missing = app
        .admin("POST", "/api/v1/plans", Some(json!({ "name": "gold" })))
        .await;
    missing.assert_problem(StatusCode::UNPROCESSABLE_ENTITY);
    assert!(missing.text.contains("rate_limit"), "{}", missing.text);
    let bad_enum = json!({ "name": "gold", "rate_limit": { "requests": 1, "window_seconds": 1 }, "quota": { "requests": 5, "period": "fortnight" } });
    let fields = app
        .admin("POST", "/api/v1/plans", Some(bad_enum))
        .await
        .assert_problem(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(fields, ["quota.period"]);
}

async fn unknown_references_are_refused(app: TestApp) {
    app.create("/api/v1/apis", api("petstore", "/pets")).await;
    app.create("/api/v1/groups", json!({ "name": "partners" })).await;
    let before = app.audit_count().await;
    let policy = json!({
        "name": "p", "groups": ["partners", "ghosts"], "plan": "nope",
        "apis": [{ "api": "petstore", "versions": ["v9"] }, { "api": "missing" }]
    });
    let response = app.admin("POST", "/api/v1/access-policies", Some(policy)).await;
    let fields = response.assert_problem(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(fields, ["groups[1]", "apis[0].versions[0]", "apis[1].api", "plan"]);
    assert!(response.text.contains("unknown group `ghosts`"), "{}", response.text);
    let user = app
        .admin(
            "POST",
            "/api/v1/users",
            Some(json!({ "name": "dave", "groups": ["ghosts"] })),
        )
        .await;
    assert_eq!(user.assert_problem(StatusCode::UNPROCESSABLE_ENTITY), ["groups[0]"]);
    let application = app
        .admin(
            "POST",
            "/api/v1/applications",
            Some(json!({ "name": "x", "owner": "nobody" })),
        )
        .await;
    assert_eq!(application.assert_problem(StatusCode::UNPROCESSABLE_ENTITY), ["owner"]);
    let key = app
        .admin(
            "POST",
            "/api/v1/applications/app_none/keys",
            Some(json!({ "name": "x" })),
        )
        .await;
    key.assert_problem(StatusCode::NOT_FOUND);
    assert_eq!(app.audit_count().await, before, "nothing was written");
}

async fn duplicates_and_overlapping_routes_conflict(app: TestApp) {
    app.create("/api/v1/apis", api("petstore", "/pets")).await;
    let duplicate = app.admin("POST", "/api/v1/apis", Some(api("petstore", "/other"))).await;
    duplicate.assert_problem(StatusCode::CONFLICT);
    assert!(duplicate.text.contains("already exists"), "{}", duplicate.text);
    let overlap = app.admin("POST", "/api/v1/apis", Some(api("pets-two", "/pets/"))).await;
    overlap.assert_problem(StatusCode::CONFLICT);
    assert!(
        overlap.text.contains("petstore"),
        "the conflict names the holder: {}",
        overlap.text
    );
    let mut on_host = api("pets-eu", "/pets");
    on_host["route"]["host"] = json!("eu.example.com");
    app.create("/api/v1/apis", on_host).await;
    app.create("/api/v1/apis", api("pets-admin", "/pets/admin")).await;

    let mut moved = api("pets-admin", "/pets");
    moved["description"] = json!("moved onto petstore's route");
    app.admin("PUT", "/api/v1/apis/pets-admin", Some(moved))
        .await
        .assert_problem(StatusCode::CONFLICT);

    app.create("/api/v1/users", json!({ "name": "alice" })).await;
    app.create("/api/v1/applications", json!({ "name": "billing", "owner": "alice" }))
        .await;
    let twin = app
        .admin(
            "POST",
            "/api/v1/applications",
            Some(json!({ "name": "billing", "owner": "alice" })),
        )
        .await;
    twin.assert_problem(StatusCode::CONFLICT);
    app.create(
        "/api/v1/apis/petstore/versions",
        json!({ "name": "v1", "selector": { "kind": "path", "segment": "v1" } }),
    )
    .await;
    let same_selector = json!({ "name": "v1-bis", "selector": { "kind": "path", "segment": "v1" } });
    app.admin("POST", "/api/v1/apis/petstore/versions", Some(same_selector))
        .await
        .assert_problem(StatusCode::CONFLICT);
}

async fn broken_openapi_documents_are_refused(app: TestApp) {
    app.create("/api/v1/apis", api("petstore", "/pets")).await;
    for (document, needle) in [
        ("openapi: 3.0.0\ninfo: [unclosed\n", "line"),
        ("{\"openapi\": \"3.0.0\",", "line"),
        ("swagger: '2.0'\ninfo: {title: x}\npaths: {}\n", "OpenAPI 3"),
        ("openapi: 3.1.0\npaths: {}\n", "info.title"),
    ] {
        let body = json!({ "name": "v1", "openapi": document });
        let response = app.admin("POST", "/api/v1/apis/petstore/versions", Some(body)).await;
        assert_eq!(response.assert_problem(StatusCode::UNPROCESSABLE_ENTITY), ["openapi"]);
        assert!(response.text.contains(needle), "{needle}: {}", response.text);
    }
}

async fn names_cannot_change(app: TestApp) {
    app.create("/api/v1/groups", json!({ "name": "partners" })).await;
    let renamed = app
        .admin("PUT", "/api/v1/groups/partners", Some(json!({ "name": "allies" })))
        .await;
    assert_eq!(renamed.assert_problem(StatusCode::UNPROCESSABLE_ENTITY), ["name"]);
    let missing = app
        .admin("PUT", "/api/v1/groups/nobody", Some(json!({ "name": "nobody" })))
        .await;
    missing.assert_problem(StatusCode::NOT_FOUND);
}
