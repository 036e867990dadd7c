//! Who may call the admin API: nobody unauthenticated, viewers read, admins write.

use axum::http::{StatusCode, header};
use base64::Engine;
use serde_json::json;

use crate::support::{TestApp, api, on_both_stores};

on_both_stores!(
    unauthenticated_requests_get_401,
    viewers_read_but_cannot_write,
    users_authenticate_with_their_password,
    the_last_enabled_admin_cannot_be_disabled_demoted_or_deleted,
    demoting_the_last_two_admins_at_once_keeps_one
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

    // Basic shares the sign-in lock-out: after five wrong guesses, even the right password waits.
    app.create(
        "/api/v1/users",
        json!({ "name": "guessed", "role": "admin", "password": password }),
    )
    .await;
    for _ in 0..5 {
        app.send(
            "GET",
            "/api/v1/apis",
            Some(&basic("guessed", "a wrong guess, again")),
            None,
            None,
        )
        .await
        .assert_problem(StatusCode::UNAUTHORIZED);
    }
    let locked = app
        .send("GET", "/api/v1/apis", Some(&basic("guessed", password)), None, None)
        .await;
    let details = locked.assert_problem(StatusCode::UNAUTHORIZED);
    assert!(locked.text.contains("try again in"), "{details:?} {}", locked.text);

    // Another enabled admin, so that root is not the last one and may be disabled.
    app.create("/api/v1/users", json!({ "name": "ops", "role": "admin" }))
        .await;
    let disabled = json!({ "name": "root", "role": "admin", "disabled": true });
    assert_eq!(
        app.admin("PUT", "/api/v1/users/root", Some(disabled)).await.status,
        StatusCode::OK
    );
    app.send("GET", "/api/v1/apis", Some(&admin), None, None)
        .await
        .assert_problem(StatusCode::UNAUTHORIZED);
}

async fn the_last_enabled_admin_cannot_be_disabled_demoted_or_deleted(app: TestApp) {
    app.create("/api/v1/groups", json!({ "name": "staff" })).await;
    app.create("/api/v1/users", json!({ "name": "root", "role": "admin" }))
        .await;
    // A disabled admin does not count.
    app.create(
        "/api/v1/users",
        json!({ "name": "ops", "role": "admin", "groups": ["staff"], "disabled": true }),
    )
    .await;
    let before = app.audit_count().await;
    let last_admin = |response: crate::support::Response| {
        response.assert_problem(StatusCode::CONFLICT);
        assert!(
            response.text.contains("user `root` is the last enabled admin"),
            "the refusal says why: {}",
            response.text
        );
    };
    let disable = json!({ "name": "root", "role": "admin", "disabled": true });
    last_admin(app.admin("PUT", "/api/v1/users/root", Some(disable)).await);
    let demote = json!({ "name": "root", "role": "viewer" });
    last_admin(app.admin("PUT", "/api/v1/users/root", Some(demote.clone())).await);
    last_admin(app.admin("DELETE", "/api/v1/users/root", None).await);
    last_admin(app.admin("DELETE", "/api/v1/users/root?cascade=true", None).await);
    assert_eq!(app.audit_count().await, before, "nothing was written");
    let root = app.viewer("GET", "/api/v1/users/root", None).await;
    assert_eq!(
        (root.json["role"].as_str(), root.json["disabled"].as_bool()),
        (Some("admin"), Some(false))
    );

    // Once another admin is enabled, root may step down; then ops is the last one.
    let enable = json!({ "name": "ops", "role": "admin", "groups": ["staff"] });
    assert_eq!(
        app.admin("PUT", "/api/v1/users/ops", Some(enable)).await.status,
        StatusCode::OK
    );
    let demoted = app.admin("PUT", "/api/v1/users/root", Some(demote)).await;
    assert_eq!(demoted.status, StatusCode::OK, "{}", demoted.text);
    let refused = app.admin("DELETE", "/api/v1/users/ops", None).await;
    refused.assert_problem(StatusCode::CONFLICT);
    assert!(
        refused.text.contains("user `ops` is the last enabled admin"),
        "{}",
        refused.text
    );

    // Changes that leave the admin an enabled admin go through, cascades included.
    let detached = app.admin("DELETE", "/api/v1/groups/staff?cascade=true", None).await;
    assert_eq!(detached.status, StatusCode::NO_CONTENT, "{}", detached.text);
    let ops = app.viewer("GET", "/api/v1/users/ops", None).await;
    assert_eq!(ops.json["groups"], json!([]));
    let renamed = json!({ "name": "ops", "role": "admin", "display_name": "Operations" });
    assert_eq!(
        app.admin("PUT", "/api/v1/users/ops", Some(renamed)).await.status,
        StatusCode::OK
    );
    assert_eq!(
        app.admin("DELETE", "/api/v1/users/root", None).await.status,
        StatusCode::NO_CONTENT,
        "a former admin can go"
    );
}

async fn demoting_the_last_two_admins_at_once_keeps_one(app: TestApp) {
    let app = &app;
    let demote = |name: String| async move {
        let path = format!("/api/v1/users/{name}");
        let body = json!({ "name": name, "role": "viewer" });
        app.admin("PUT", &path, Some(body)).await
    };
    app.create("/api/v1/users", json!({ "name": "admin-0", "role": "admin" }))
        .await;
    let mut remaining = "admin-0".to_owned();
    // Each round, two admins are left and both are demoted at once: exactly one must stay.
    for round in 1..=20 {
        let newcomer = format!("admin-{round}");
        app.create("/api/v1/users", json!({ "name": newcomer, "role": "admin" }))
            .await;
        let (first, second) = tokio::join!(demote(remaining.clone()), demote(newcomer.clone()));
        let statuses = [first.status, second.status];
        assert!(
            statuses.contains(&StatusCode::CONFLICT) && !statuses.iter().any(|status| status.is_server_error()),
            "round {round}: one goes through, the other is refused:\n{}\n{}",
            first.text,
            second.text
        );
        if first.status == StatusCode::OK {
            remaining = newcomer;
        }
    }
    let admins = app.viewer("GET", "/api/v1/users?role=admin&disabled=false", None).await;
    let names: Vec<&str> = admins.json["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|user| user["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, [remaining.as_str()], "{}", admins.text);
}
