//! Requests the API cannot read: malformed, oversized, mistyped. Each gets a 4xx problem and
//! leaves the store as it was.

use axum::body::Body;
use axum::http::StatusCode;
use serde_json::json;

use crate::support::{TEST_BODY_LIMIT, TestApp, api, on_both_stores};

on_both_stores!(
    unreadable_requests_change_nothing,
    control_characters_in_parameters_get_400
);

async fn unreadable_requests_change_nothing(app: TestApp) {
    let before = app.audit_count().await;
    let bearer = format!("Bearer {}", app.admin);
    let auth = Some(bearer.as_str());

    let malformed = app
        .send(
            "POST",
            "/api/v1/apis",
            auth,
            Some(Body::from("{\"name\": \"x\",")),
            Some("application/json"),
        )
        .await;
    malformed.assert_problem(StatusCode::BAD_REQUEST);
    assert!(malformed.text.contains("not valid JSON"), "{}", malformed.text);

    let trailing = app
        .send(
            "POST",
            "/api/v1/groups",
            auth,
            Some(Body::from("{\"name\": \"x\"} {}")),
            Some("application/json"),
        )
        .await;
    trailing.assert_problem(StatusCode::BAD_REQUEST);

    let mut huge = api("huge", "/huge");
    huge["description"] = json!("x".repeat(TEST_BODY_LIMIT + 1));
    let oversized = app
        .send(
            "POST",
            "/api/v1/apis",
            auth,
            Some(Body::from(huge.to_string())),
            Some("application/json"),
        )
        .await;
    oversized.assert_problem(StatusCode::PAYLOAD_TOO_LARGE);

    let body = api("petstore", "/pets").to_string();
    let wrong_type = app
        .send(
            "POST",
            "/api/v1/apis",
            auth,
            Some(Body::from(body.clone())),
            Some("text/plain"),
        )
        .await;
    wrong_type.assert_problem(StatusCode::UNSUPPORTED_MEDIA_TYPE);
    let no_type = app
        .send("POST", "/api/v1/apis", auth, Some(Body::from(body)), None)
        .await;
    no_type.assert_problem(StatusCode::UNSUPPORTED_MEDIA_TYPE);

    let not_object = app
        .send(
            "POST",
            "/api/v1/apis",
            auth,
            Some(Body::from("[1, 2]")),
            Some("application/json"),
        )
        .await;
    not_object.assert_problem(StatusCode::UNPROCESSABLE_ENTITY);

    let hostile_path = app.send("GET", "/api/v1/apis/%00%ff", auth, None, None).await;
    assert!(hostile_path.status.is_client_error(), "{}", hostile_path.text);
    let nul_text = json!({ "name": "nul", "description": "a\u{0000}b" });
    let nul = app.admin("POST", "/api/v1/groups", Some(nul_text)).await;
    assert_eq!(nul.assert_problem(StatusCode::UNPROCESSABLE_ENTITY), ["description"]);

    app.send("GET", "/api/v1/nothing-here", auth, None, None)
        .await
        .assert_problem(StatusCode::NOT_FOUND);
    app.send("PATCH", "/api/v1/apis", auth, None, None)
        .await
        .assert_problem(StatusCode::METHOD_NOT_ALLOWED);

    assert_eq!(app.audit_count().await, before, "nothing was written");
    assert_eq!(app.viewer("GET", "/api/v1/apis", None).await.json["items"], json!([]));
}

/// Postgres refuses NUL in text, so a NUL that reached it was a 500. Any control character in a
/// parameter is refused up front, naming the parameter.
async fn control_characters_in_parameters_get_400(app: TestApp) {
    app.create("/api/v1/apis", api("petstore", "/pets")).await;
    let cases = [
        ("/api/v1/apis?q=%00", "q"),
        ("/api/v1/apis?cursor=%00", "cursor"),
        ("/api/v1/apis?tag=a%00", "tag"),
        ("/api/v1/apis?q=pet%1Fstore", "q"),
        ("/api/v1/apis?q=%7F", "q"),
        ("/api/v1/applications?cursor=%15CR%05%00&q=x", "cursor"),
        ("/api/v1/apis/%00", "name"),
        ("/api/v1/apis/petstore%0A", "name"),
        ("/api/v1/apis/petstore/versions/v1%00", "version"),
    ];
    for (path, parameter) in cases {
        let response = app.viewer("GET", path, None).await;
        assert_eq!(response.assert_problem(StatusCode::BAD_REQUEST), [parameter], "{path}");
        assert!(
            response.json["detail"]
                .as_str()
                .unwrap()
                .contains(&format!("`{parameter}`")),
            "{path}: {}",
            response.text
        );
    }
    let deleted = app.admin("DELETE", "/api/v1/apis/petstore%00?cascade=true", None).await;
    assert_eq!(deleted.assert_problem(StatusCode::BAD_REQUEST), ["name"]);
    // Ordinary escapes still work.
    let found = app.viewer("GET", "/api/v1/apis?q=pet%20store&tag=demo", None).await;
    assert_eq!(found.status, StatusCode::OK, "{}", found.text);
    let found = app.viewer("GET", "/api/v1/apis?q=pet", None).await;
    assert_eq!(found.json["items"][0]["name"], "petstore", "{}", found.text);
}
