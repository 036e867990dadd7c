//! Request validation in the hub: a version opts in with `validate_requests`, which needs an
//! OpenAPI document whose schemas the gateway can compile (refused by field otherwise, nothing
//! written); the published snapshot carries the document's operations, parameters and bodies.

use axum::http::StatusCode;
use serde_json::{Value, json};

use crate::support::{TestApp, api, on_both_stores};

on_both_stores!(
    validation_needs_a_usable_document_and_is_refused_by_field,
    a_validating_version_reaches_the_snapshot_with_its_operations
);

const VERSIONS: &str = "/api/v1/apis/petstore/versions";

const DOCUMENT: &str = r##"{"openapi": "3.0.3", "info": {"title": "Pets", "version": "1"}, "paths": {
  "/pets": {"post": {"operationId": "createPet", "requestBody": {"required": true, "content": {
    "application/json": {"schema": {"$ref": "#/components/schemas/Pet"}}}}}},
  "/pets/{id}": {"get": {"operationId": "showPet", "parameters": [
    {"name": "id", "in": "path", "required": true, "schema": {"type": "integer"}}]}}},
  "components": {"schemas": {"Pet": {"type": "object", "required": ["name"],
    "properties": {"name": {"type": "string", "nullable": true}}}}}}"##;

fn version(extra: Value) -> Value {
    let mut body = json!({ "name": "v1", "status": "published", "selector": { "kind": "path", "segment": "v1" } });
    body.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
    body
}

async fn validation_needs_a_usable_document_and_is_refused_by_field(app: TestApp) {
    app.create("/api/v1/apis", api("petstore", "/pets")).await;
    let before = app.audit_count().await;
    let broken = DOCUMENT.replace("#/components/schemas/Pet", "#/components/schemas/Missing");
    let external = DOCUMENT.replace("#/components/schemas/Pet", "common.yaml#/Pet");
    for (extra, field, says) in [
        (
            json!({ "validate_requests": true }),
            "validate_requests",
            "needs an `openapi` document",
        ),
        (
            json!({ "validate_requests": true, "openapi": broken }),
            "openapi",
            "POST /pets.body",
        ),
        (
            json!({ "validate_requests": true, "openapi": external }),
            "openapi",
            "points outside the document",
        ),
        (
            json!({ "validate_requests": "yes", "openapi": DOCUMENT }),
            "validate_requests",
            "boolean",
        ),
    ] {
        let response = app.admin("POST", VERSIONS, Some(version(extra.clone()))).await;
        let fields = response.assert_problem(StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(fields, [field], "{extra}: {}", response.text);
        assert!(response.text.contains(says), "{extra}: {}", response.text);
    }
    assert_eq!(app.audit_count().await, before, "nothing was written");
}

async fn a_validating_version_reaches_the_snapshot_with_its_operations(app: TestApp) {
    app.create("/api/v1/apis", api("petstore", "/pets")).await;
    let created = app
        .create(
            VERSIONS,
            version(json!({ "validate_requests": true, "openapi": DOCUMENT })),
        )
        .await;
    assert_eq!(created["validate_requests"], true);
    let published = app
        .admin("POST", "/api/v1/revisions", Some(json!({ "message": "validate" })))
        .await;
    assert_eq!(published.status, StatusCode::CREATED, "{}", published.text);
    let snapshot = app.viewer("GET", "/api/v1/revisions/1/snapshot", None).await.json;
    let validation = &snapshot["apis"][0]["versions"][0]["validation"];
    assert_eq!(validation["dialect"], "openapi_3_0");
    assert_eq!(
        validation["components"]["schemas"]["Pet"]["properties"]["name"],
        json!({ "type": ["string", "null"] })
    );
    let operations: Vec<(&str, &str)> = validation["operations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|operation| {
            (
                operation["method"].as_str().unwrap(),
                operation["path"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(operations, [("POST", "/pets"), ("GET", "/pets/{id}")]);
    assert_eq!(validation["operations"][1]["parameters"][0]["in"], "path");

    // Turning it off is an ordinary change: the next snapshot has no validation.
    let replaced = app
        .admin(
            "PUT",
            &format!("{VERSIONS}/v1"),
            Some(version(json!({ "openapi": DOCUMENT }))),
        )
        .await;
    assert_eq!(replaced.status, StatusCode::OK, "{}", replaced.text);
    assert!(replaced.json.get("validate_requests").is_none(), "{}", replaced.text);
    app.admin("POST", "/api/v1/revisions", Some(json!({ "message": "off" })))
        .await;
    let snapshot = app.viewer("GET", "/api/v1/revisions/2/snapshot", None).await.json;
    assert!(
        snapshot["apis"][0]["versions"][0].get("validation").is_none(),
        "{snapshot}"
    );
}
