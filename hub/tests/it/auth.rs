//! Who may call the admin API: nobody unauthenticated, viewers read, admins write.

use axum::http::{StatusCode, header};
use base64::Engine;
use serde_json::json;

use crate::support::{TestApp, api, on_both_stores};

on_both_stores!(
    unauthenticated_requests_get_401,
    viewers_read_but_cannot_write,
    users_authenticate_with_their_password
);

async fn unauthenticated_requests_get_401(app: TestApp) {
    for (authorization, path) in [
        (None, "/api/v1/apis"),
        (Some("Bearer ghat_not-a-real-token"), "/api/v1/apis"),
        (Some("Bearer "), "/api/v1/groups"),
        (Some("Digest abc"), "/api/v1/users"),
        (Some("Basic !!!not-base64"), "/api/v1/plans"),
    ] {
        let response = app.send("GET", path, authorization, None, None).await;
        response.assert_problem(StatusCode::UNAUTHORIZED);
        let challenge = response
            .headers
            .get(header::WWW_AUTHENTICATE)
            .expect("a 401 carries WWW-Authenticate");
        assert!(challenge.to_str().unwrap().contains("Bearer"));
    }
    let write = app
        .send(
            "POST",
            "/api/v1/apis",
            None,
            Some(api("x", "/x").to_string().into()),
            Some("application/json"),
        )
        .await;
    write.assert_problem(StatusCode::UNAUTHORIZED);
}

async fn viewers_read_but_cannot_write(app: TestApp) {
    app.create("/api/v1/groups", json!({ "name": "partners" })).await;
    assert_eq!(
        app.viewer("GET", "/api/v1/groups/partners", None).await.status,
        StatusCode::OK
    );
    assert_eq!(app.viewer("GET", "/api/v1/audit", None).await.status, StatusCode::OK);
    let before = app.audit_count().await;
    let writes = [
        ("POST", "/api/v1/groups", Some(json!({ "name": "x" }))),
        (
            "PUT",
            "/api/v1/groups/partners",
            Some(json!({ "name": "partners", "description": "changed" })),
        ),
        ("DELETE", "/api/v1/groups/partners", None),
        (
            "POST",
            "/api/v1/admin-tokens",
            Some(json!({ "name": "escalate", "role": "admin" })),
        ),
    ];
    for (method, path, body) in writes {
        let response = app.viewer(method, path, body).await;
        response.assert_problem(StatusCode::FORBIDDEN);
        assert!(
            response.text.contains("admin"),
            "the refusal names the role: {}",
            response.text
        );
    }
    assert_eq!(app.audit_count().await, before);
}

async fn users_authenticate_with_their_password(app: TestApp) {
    let basic = |name: &str, password: &str| {
        format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(format!("{name}:{password}"))
        )
    };
    let password = "a long enough password";
    app.create(
        "/api/v1/users",
        json!({ "name": "root", "role": "admin", "password": password }),
    )
    .await;
    app.create("/api/v1/users", json!({ "name": "dev", "password": password }))
        .await;
    let admin = basic("root", password);
    let created = app
        .send(
            "POST",
            "/api/v1/groups",
            Some(&admin),
            Some(json!({ "name": "g" }).to_string().into()),
            Some("application/json"),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
    assert_eq!(created.json["created_by"], "root", "the audit names the user");

    app.send(
        "GET",
        "/api/v1/apis",
        Some(&basic("root", "wrong password!")),
        None,
        None,
    )
    .await
    .assert_problem(StatusCode::UNAUTHORIZED);
    app.send("GET", "/api/v1/apis", Some(&basic("ghost", password)), None, None)
        .await
        .assert_problem(StatusCode::UNAUTHORIZED);
    let developer = app
        .send("GET", "/api/v1/apis", Some(&basic("dev", password)), None, None)
        .await;
    developer.assert_problem(StatusCode::FORBIDDEN);

    let disabled = json!({ "name": "root", "role": "admin", "disabled": true });
    assert_eq!(
        app.admin("PUT", "/api/v1/users/root", Some(disabled)).await.status,
        StatusCode::OK
    );
    app.send("GET", "/api/v1/apis", Some(&admin), None, None)
        .await
        .assert_problem(StatusCode::UNAUTHORIZED);
}
