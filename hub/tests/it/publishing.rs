//! Publishing: revisions compiled from the state, no revision for an unchanged state, diffs,
//! rollback, refusals naming the objects; and the fleet: gateway tokens, the revision stream,
//! status reports.

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use http_body_util::BodyExt;
use serde_json::{Value, json};
use tower::ServiceExt;

use crate::support::{TestApp, api, on_both_stores};

on_both_stores!(
    publishing_records_revisions_and_rolls_back,
    states_a_gateway_could_not_enforce_are_not_published,
    gateways_stream_revisions_and_report_status,
    the_fleet_flags_the_certificates_a_gateway_reports_expiring,
    auto_publish_publishes_every_change
);

async fn setup(app: &TestApp) {
    app.create("/api/v1/apis", api("petstore", "/pets")).await;
    app.create("/api/v1/groups", json!({ "name": "partners" })).await;
    app.create(
        "/api/v1/plans",
        json!({ "name": "gold", "rate_limit": { "requests": 10, "window_seconds": 1 } }),
    )
    .await;
    app.create("/api/v1/users", json!({ "name": "alice", "groups": ["partners"] }))
        .await;
    app.create("/api/v1/access-policies", json!({
        "name": "partners-pets", "groups": ["partners"], "plan": "gold", "apis": [{ "api": "petstore", "methods": ["GET", "DELETE"] }]
    }))
    .await;
    let application = app
        .create("/api/v1/applications", json!({ "name": "billing", "owner": "alice" }))
        .await;
    app.create(
        &format!("/api/v1/applications/{}/keys", application["id"].as_str().unwrap()),
        json!({ "name": "ci" }),
    )
    .await;
}

async fn publish(app: &TestApp, message: &str) -> (StatusCode, Value) {
    let response = app
        .admin("POST", "/api/v1/revisions", Some(json!({ "message": message })))
        .await;
    (response.status, response.json)
}

async fn publishing_records_revisions_and_rolls_back(app: TestApp) {
    setup(&app).await;
    let (status, first) = publish(&app, "first").await;
    assert_eq!(status, StatusCode::CREATED, "{first}");
    assert_eq!(
        (first["revision"]["number"].as_i64(), first["created"].as_bool()),
        (Some(1), Some(true))
    );
    assert_eq!(first["revision"]["author"], "token:test-admin");
    let (status, again) = publish(&app, "nothing changed").await;
    assert_eq!(
        (status, again["created"].as_bool()),
        (StatusCode::OK, Some(false)),
        "an unchanged state is not published again"
    );
    assert_eq!(again["revision"]["number"], 1);

    let snapshot = app.viewer("GET", "/api/v1/revisions/1/snapshot", None).await.json;
    assert_eq!(snapshot["revision"], 1);
    assert_eq!(snapshot["access_rules"][0]["methods"], json!(["GET", "DELETE"]));
    assert_eq!(snapshot["consumers"][0]["user"], "alice");
    assert!(
        snapshot["consumers"][0].get("key_hash").is_none(),
        "key hashes are not shown"
    );

    let narrowed = json!({ "name": "partners-pets", "groups": ["partners"], "plan": "gold", "apis": [{ "api": "petstore", "methods": ["GET"] }] });
    assert_eq!(
        app.admin("PUT", "/api/v1/access-policies/partners-pets", Some(narrowed))
            .await
            .status,
        StatusCode::OK
    );
    let (status, second) = publish(&app, "drop DELETE").await;
    assert_eq!(
        (status, second["revision"]["number"].as_i64()),
        (StatusCode::CREATED, Some(2))
    );
    let diff = app.viewer("GET", "/api/v1/revisions/diff?from=1&to=2", None).await.json;
    assert_eq!(diff.as_array().unwrap().len(), 1, "{diff}");
    assert_eq!(
        (
            diff[0]["kind"].as_str(),
            diff[0]["key"].as_str(),
            diff[0]["change"].as_str()
        ),
        (Some("access_rule"), Some("partners-pets/petstore"), Some("changed"))
    );

    let rolled = app.admin("POST", "/api/v1/revisions/1/rollback", Some(json!({}))).await;
    assert_eq!(rolled.status, StatusCode::CREATED, "{}", rolled.text);
    assert_eq!(rolled.json["revision"]["number"], 3);
    assert_eq!(
        rolled.json["revision"]["content_hash"], first["revision"]["content_hash"],
        "the same content as revision 1"
    );
    assert_eq!(rolled.json["revision"]["message"], "roll back to revision 1");
    let rolled_again = app.admin("POST", "/api/v1/revisions/1/rollback", Some(json!({}))).await;
    assert_eq!(rolled_again.status, StatusCode::OK, "already in force");
    app.admin("POST", "/api/v1/revisions/9/rollback", Some(json!({})))
        .await
        .assert_problem(StatusCode::NOT_FOUND);
    app.viewer("POST", "/api/v1/revisions", Some(json!({})))
        .await
        .assert_problem(StatusCode::FORBIDDEN);
}

async fn states_a_gateway_could_not_enforce_are_not_published(app: TestApp) {
    setup(&app).await;
    app.create(
        "/api/v1/apis/petstore/versions",
        json!({ "name": "v2", "status": "draft", "selector": { "kind": "path", "segment": "v2" } }),
    )
    .await;
    let on_draft = json!({ "name": "partners-pets", "groups": ["partners"], "plan": "gold", "apis": [{ "api": "petstore", "versions": ["v2"] }] });
    assert_eq!(
        app.admin("PUT", "/api/v1/access-policies/partners-pets", Some(on_draft))
            .await
            .status,
        StatusCode::OK
    );
    let refused = app
        .admin("POST", "/api/v1/revisions", Some(json!({ "message": "oops" })))
        .await;
    assert_eq!(
        refused.assert_problem(StatusCode::UNPROCESSABLE_ENTITY),
        ["access_policies/partners-pets/apis[0]"]
    );
    assert!(refused.text.contains("draft"), "{}", refused.text);
    assert_eq!(
        app.viewer("GET", "/api/v1/revisions", None).await.json["items"],
        json!([]),
        "nothing was published"
    );
}

async fn gateways_stream_revisions_and_report_status(app: TestApp) {
    setup(&app).await;
    app.create("/api/v1/gateways", json!({ "name": "edge-1" })).await;
    let issued = app
        .create("/api/v1/gateways/edge-1/tokens", json!({ "name": "edge-1" }))
        .await;
    let token = issued["secret"].as_str().unwrap().to_owned();
    assert!(token.starts_with("ghgw_"));
    publish(&app, "first").await;

    // The stream sends the latest revision at once.
    let request = Request::get("/api/v1/gateway/stream")
        .header(header::AUTHORIZATION, format!("Bearer {token}"))
        .body(Body::empty())
        .unwrap();
    let response = app.router.clone().oneshot(request).await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert!(
        response.headers()[header::CONTENT_TYPE]
            .to_str()
            .unwrap()
            .starts_with("text/event-stream")
    );
    let mut body = response.into_body();
    let event = next_event(&mut body).await;
    assert!(event.contains("event: snapshot") && event.contains("id: 1"), "{event}");
    let data = event.lines().find_map(|line| line.strip_prefix("data: ")).unwrap();
    assert_eq!(serde_json::from_str::<Value>(data).unwrap()["revision"], 1);

    // The gateway reports; the fleet shows it online, on the latest revision.
    let report = json!({ "instance": "host-1", "version": "0.1.0", "started_at": "2026-11-25T10:00:00Z", "applied_revision": 1, "requests": 5, "refusals": 1 });
    let reported = app
        .as_token(&token, "POST", "/api/v1/gateway/status", Some(report))
        .await;
    assert_eq!(reported.status, StatusCode::NO_CONTENT, "{}", reported.text);
    let fleet = app.viewer("GET", "/api/v1/fleet", None).await.json;
    assert_eq!(
        (
            fleet[0]["name"].as_str(),
            fleet[0]["liveness"].as_str(),
            fleet[0]["drift"].as_bool()
        ),
        (Some("edge-1"), Some("online"), Some(false))
    );

    // A second publish: a gateway still on revision 1 drifts; one that refused 2 says why.
    app.create(
        "/api/v1/plans",
        json!({ "name": "silver", "rate_limit": { "requests": 5, "window_seconds": 1 } }),
    )
    .await;
    publish(&app, "second").await;
    let refused = json!({ "instance": "host-1", "version": "0.1.0", "started_at": "2026-11-25T10:00:00Z", "applied_revision": 1, "last_error": { "revision": 2, "message": "plans[1]: bad" } });
    app.as_token(&token, "POST", "/api/v1/gateway/status", Some(refused))
        .await;
    let fleet = app.viewer("GET", "/api/v1/fleet", None).await.json;
    assert_eq!(fleet[0]["drift"], true);
    assert_eq!(
        fleet[0]["last_error"],
        json!({ "revision": 2, "message": "plans[1]: bad" })
    );

    // Revoking the token: reports and new streams are refused.
    let id = issued["token"]["id"].as_str().unwrap();
    assert_eq!(
        app.admin("DELETE", &format!("/api/v1/gateways/edge-1/tokens/{id}"), None)
            .await
            .status,
        StatusCode::NO_CONTENT
    );
    app.as_token(
        &token,
        "POST",
        "/api/v1/gateway/status",
        Some(json!({ "instance": "x", "version": "x", "started_at": "2026-11-25T10:00:00Z" })),
    )
    .await
    .assert_problem(StatusCode::UNAUTHORIZED);
    app.as_token(&token, "GET", "/api/v1/gateway/stream", None)
        .await
        .assert_problem(StatusCode::UNAUTHORIZED);
}

async fn the_fleet_flags_the_certificates_a_gateway_reports_expiring(app: TestApp) {
    app.create("/api/v1/gateways", json!({ "name": "edge-1" })).await;
    let token = app
        .create("/api/v1/gateways/edge-1/tokens", json!({ "name": "edge-1" }))
        .await["secret"]
        .as_str()
        .unwrap()
        .to_owned();
    let now = chrono::Utc::now();
    let at = |days: i64| (now + chrono::Duration::days(days) + chrono::Duration::hours(1)).to_rfc3339();
    let report = |certificates: Value| json!({ "instance": "host-1", "version": "0.1.0", "started_at": "2026-11-25T10:00:00Z", "certificates": certificates });
    let reported = app
        .as_token(
            &token,
            "POST",
            "/api/v1/gateway/status",
            Some(report(json!([
                { "name": "shop", "hosts": ["shop.test"], "not_after": at(365) },
                { "name": "soon", "hosts": ["soon.test", "*.soon.test"], "not_after": at(5) },
                { "name": "old", "hosts": ["old.test"], "not_after": at(-3) },
            ]))),
        )
        .await;
    assert_eq!(reported.status, StatusCode::NO_CONTENT, "{}", reported.text);

    // Soonest first, with the days each has left, the expired and the expiring flagged.
    let fleet = app.viewer("GET", "/api/v1/fleet", None).await.json;
    let shown: Vec<(&str, i64, bool, bool)> = fleet[0]["certificates"]
        .as_array()
        .unwrap()
        .iter()
        .map(|certificate| {
            (
                certificate["name"].as_str().unwrap(),
                certificate["days_left"].as_i64().unwrap(),
                certificate["expiring"].as_bool().unwrap(),
                certificate["expired"].as_bool().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        shown,
        vec![
            ("old", -2, true, true),
            ("soon", 5, true, false),
            ("shop", 365, false, false)
        ]
    );
    assert_eq!(
        fleet[0]["certificates"][1]["hosts"],
        json!(["soon.test", "*.soon.test"])
    );

    // The fleet page warns, names each expiring certificate, and counts the rest.
    let mut browser = crate::dashboard::Browser::signed_in(&app, "vera", hub::model::Role::Viewer).await;
    let page = browser.get("/dashboard/gateways").await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.text);
    assert!(
        page.text
            .contains("2 certificates gateways serve expire within 30 days"),
        "{}",
        page.text
    );
    assert!(page.text.contains(">old: expired</span>"), "{}", page.text);
    assert!(page.text.contains(">soon: 5 days left</span>"), "{}", page.text);
    assert!(page.text.contains("soon.test, *.soon.test"), "{}", page.text);
    assert!(page.text.contains("1 valid for 30+ days"), "{}", page.text);
    assert!(!page.text.contains(">shop:"), "{}", page.text);

    // A report with a bad certificate is refused naming it, and the last report stands.
    let refused = app
        .as_token(
            &token,
            "POST",
            "/api/v1/gateway/status",
            Some(report(json!([{ "name": "x".repeat(300), "not_after": at(1) }]))),
        )
        .await;
    assert_eq!(
        refused.assert_problem(StatusCode::UNPROCESSABLE_ENTITY),
        ["certificates[0].name"]
    );
    let wrong_type = app
        .as_token(
            &token,
            "POST",
            "/api/v1/gateway/status",
            Some(report(json!([{ "name": "shop", "not_after": "next tuesday" }]))),
        )
        .await;
    wrong_type.assert_problem(StatusCode::UNPROCESSABLE_ENTITY);
    assert!(wrong_type.text.contains("not_after"), "{}", wrong_type.text);
    let fleet = app.viewer("GET", "/api/v1/fleet", None).await.json;
    assert_eq!(fleet[0]["certificates"].as_array().unwrap().len(), 3, "{fleet}");

    // A gateway without a TLS listener reports none, and the page says nothing of certificates.
    app.as_token(&token, "POST", "/api/v1/gateway/status", Some(report(json!([]))))
        .await;
    let page = browser.get("/dashboard/gateways").await;
    assert!(!page.text.contains("expire within"), "{}", page.text);
}

/// The next server-sent event (up to its blank line), waiting at most 5 s.
async fn next_event(body: &mut Body) -> String {
    let mut text = String::new();
    while !text.contains("\n\n") {
        let frame = tokio::time::timeout(std::time::Duration::from_secs(5), body.frame())
            .await
            .expect("an event in time");
        let frame = frame.expect("the stream is open").expect("a frame");
        if let Ok(data) = frame.into_data() {
            text.push_str(&String::from_utf8_lossy(&data));
        }
    }
    text
}

async fn auto_publish_publishes_every_change(app: TestApp) {
    let app = app.auto_publishing();
    let created = app
        .admin("POST", "/api/v1/groups", Some(json!({ "name": "partners" })))
        .await;
    assert_eq!(created.status, StatusCode::CREATED);
    assert_eq!(created.headers["x-gatehouse-publish"], "revision 1");
    let unchanged = app
        .admin("PUT", "/api/v1/groups/partners", Some(json!({ "name": "partners" })))
        .await;
    assert_eq!(
        unchanged.headers["x-gatehouse-publish"], "unchanged",
        "groups alone do not change what gateways enforce"
    );
    app.admin("POST", "/api/v1/apis", Some(api("petstore", "/pets"))).await;
    let revisions = app.viewer("GET", "/api/v1/revisions", None).await.json;
    assert_eq!(revisions["items"][0]["number"], 2);
    assert_eq!(revisions["items"][0]["author"], "auto-publish");
    assert_eq!(revisions["items"][0]["message"], "auto-publish after POST /api/v1/apis");
    let refused = app
        .admin("POST", "/api/v1/groups", Some(json!({ "name": "Bad Name" })))
        .await;
    assert!(
        refused.headers.get("x-gatehouse-publish").is_none(),
        "a refused change publishes nothing"
    );
}
