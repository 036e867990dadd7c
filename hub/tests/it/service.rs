//! What the service says about itself: health, readiness, its OpenAPI document, its reference page.

use std::collections::BTreeSet;

use axum::http::{StatusCode, header};
use serde_json::Value;

use crate::support::{TestApp, on_both_stores};

on_both_stores!(health_and_readiness, openapi_document_and_reference_page);

async fn health_and_readiness(app: TestApp) {
    let health = app.send("GET", "/healthz", None, None, None).await;
    assert_eq!(
        (health.status, health.json["status"].as_str()),
        (StatusCode::OK, Some("ok"))
    );
    let ready = app.send("GET", "/readyz", None, None, None).await;
    assert_eq!(
        (ready.status, ready.json["status"].as_str()),
        (StatusCode::OK, Some("ready"))
    );
    let request_id = ready
        .headers
        .get("x-request-id")
        .expect("every response carries a request id");
    assert!(!request_id.is_empty());
}

async fn openapi_document_and_reference_page(app: TestApp) {
    let document = app.send("GET", "/api/v1/openapi.json", None, None, None).await;
    assert_eq!(document.status, StatusCode::OK);
    assert!(document.json["openapi"].as_str().unwrap().starts_with("3."));
    let paths = document.json["paths"].as_object().unwrap();
    for path in [
        "/api/v1/apis",
        "/api/v1/apis/{name}",
        "/api/v1/apis/{api}/versions/{version}",
        "/api/v1/users",
        "/api/v1/groups",
        "/api/v1/plans",
        "/api/v1/access-policies",
        "/api/v1/applications/{id}/keys",
        "/api/v1/gateways",
        "/api/v1/admin-tokens",
        "/api/v1/audit",
        "/api/v1/revisions",
        "/healthz",
        "/readyz",
    ] {
        assert!(paths.contains_key(path), "{path} is documented");
    }
    let create_api = &paths["/api/v1/apis"]["post"]["responses"];
    for status in ["201", "401", "403", "409", "413", "415", "422"] {
        assert!(create_api.get(status).is_some(), "POST /apis documents {status}");
    }
    assert!(document.json["components"]["schemas"]["Problem"].is_object());
    every_response_schema_accepts_its_objects(&document.json);

    let page = app.send("GET", "/api/v1/reference", None, None, None).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.text.contains("/static/vendor/swagger-ui/swagger-ui-bundle.js"));
    assert!(!page.text.contains("https://"), "nothing loads from outside");
    let bundle = app
        .send(
            "GET",
            "/static/vendor/swagger-ui/swagger-ui-bundle.js",
            None,
            None,
            None,
        )
        .await;
    assert_eq!(bundle.status, StatusCode::OK);
    let content_type = bundle.headers.get(header::CONTENT_TYPE).unwrap().to_str().unwrap();
    assert!(content_type.starts_with("text/javascript"));
    assert!(bundle.text.len() > 100_000);
}

/// A member of an `allOf` with `additionalProperties: false` refuses the other members'
/// properties, so no object could match the whole: no 200 or 201 response may hold one.
fn every_response_schema_accepts_its_objects(document: &Value) {
    let mut closed = Vec::new();
    let mut seen = BTreeSet::new();
    for (path, item) in document["paths"].as_object().unwrap() {
        for (method, operation) in item.as_object().unwrap() {
            for status in ["200", "201"] {
                let Some(content) = operation["responses"][status]["content"].as_object() else {
                    continue;
                };
                for media in content.values() {
                    let at = format!("{method} {path} {status}");
                    find_closed_members(document, &media["schema"], &at, &mut seen, &mut closed);
                }
            }
        }
    }
    assert!(
        closed.is_empty(),
        "allOf members with additionalProperties: false:\n{}",
        closed.join("\n")
    );
    // Request bodies keep saying what serde refuses.
    let spec = &document["components"]["schemas"]["ApiVersionSpec"];
    assert_eq!(spec["additionalProperties"], false, "{spec}");
}

fn find_closed_members(
    document: &Value,
    schema: &Value,
    at: &str,
    seen: &mut BTreeSet<String>,
    closed: &mut Vec<String>,
) {
    let schema = match schema["$ref"].as_str() {
        Some(reference) => {
            if !seen.insert(reference.to_owned()) {
                return;
            }
            resolve(document, reference)
        }
        None => schema,
    };
    if let Some(members) = schema["allOf"].as_array() {
        for (index, member) in members.iter().enumerate() {
            let resolved = match member["$ref"].as_str() {
                Some(reference) => resolve(document, reference),
                None => member,
            };
            if resolved["additionalProperties"] == false {
                closed.push(format!(
                    "{at}: allOf[{index}] {}",
                    member["$ref"].as_str().unwrap_or("(inline)")
                ));
            }
        }
    }
    match schema {
        Value::Object(fields) => {
            for value in fields.values() {
                find_closed_members(document, value, at, seen, closed);
            }
        }
        Value::Array(values) => {
            for value in values {
                find_closed_members(document, value, at, seen, closed);
            }
        }
        _ => {}
    }
}

fn resolve<'a>(document: &'a Value, reference: &str) -> &'a Value {
    let pointer = reference.strip_prefix('#').expect("a local reference");
    document
        .pointer(pointer)
        .unwrap_or_else(|| panic!("{reference} resolves"))
}
