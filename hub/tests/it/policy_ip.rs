//! Access policies' IP allow and deny lists in the hub: each bad entry refused by name with
//! nothing written, stored, compiled into every grant of the policy (and left out of the
//! snapshot when empty), shown in "who can call what", told by the impact report, written and
//! read by manifests, and edited on the dashboard's policy form.

use axum::http::StatusCode;
use chrono::Utc;
use hub::model::Role;
use serde_json::{Value, json};

use crate::dashboard::{Browser, field_error};
use crate::support::{TestApp, api, on_both_stores};

on_both_stores!(
    bad_ip_lists_are_refused_naming_each_entry,
    ip_lists_are_published_shown_reported_and_exported,
    the_policy_form_edits_ip_lists
);

/// An API, a group with one user, a plan, and policy `partners` with `lists` merged in.
async fn seed(app: &TestApp, lists: Value) -> Value {
    app.create("/api/v1/apis", api("petstore", "/pets")).await;
    app.create("/api/v1/apis", api("weather", "/weather")).await;
    app.create("/api/v1/groups", json!({ "name": "partners" })).await;
    app.create("/api/v1/users", json!({ "name": "pat", "groups": ["partners"] }))
        .await;
    app.create(
        "/api/v1/plans",
        json!({ "name": "gold", "rate_limit": { "requests": 10, "window_seconds": 1 } }),
    )
    .await;
    let mut policy = json!({
        "name": "partners", "groups": ["partners"], "plan": "gold",
        "apis": [{ "api": "petstore", "methods": ["GET", "HEAD"] }, { "api": "weather" }]
    });
    for (field, value) in lists.as_object().unwrap() {
        policy[field] = value.clone();
    }
    policy
}

async fn bad_ip_lists_are_refused_naming_each_entry(app: TestApp) {
    let policy = seed(
        &app,
        json!({
            "ip_allow": ["10.0.0.0/8", "10.0.0.0/33", "10.0.0.1/8", "2001:db8::/32"],
            "ip_deny": ["not-a-cidr", "192.0.2.0/24", "192.0.2.0/24"]
        }),
    )
    .await;
    let before = app.audit_count().await;
    let response = app.admin("POST", "/api/v1/access-policies", Some(policy)).await;
    let fields = response.assert_problem(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(fields, ["ip_allow[1]", "ip_allow[2]", "ip_deny[0]", "ip_deny[2]"]);
    assert!(
        response.text.contains("the prefix length must be 0 to 32"),
        "{}",
        response.text
    );
    assert!(response.text.contains("has host bits set"), "{}", response.text);
    assert_eq!(app.audit_count().await, before, "nothing was written");
    let listed = app.viewer("GET", "/api/v1/access-policies", None).await.json;
    assert_eq!(listed["items"], json!([]), "{listed}");
}

async fn ip_lists_are_published_shown_reported_and_exported(app: TestApp) {
    let lists = json!({ "ip_allow": ["10.0.0.0/8", "2001:db8::/32"], "ip_deny": ["10.9.0.0/16"] });
    let policy = seed(&app, lists.clone()).await;
    let created = app.admin("POST", "/api/v1/access-policies", Some(policy.clone())).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
    assert_eq!(created.json["ip_allow"], lists["ip_allow"]);
    assert_eq!(created.json["ip_deny"], lists["ip_deny"]);
    // A policy without lists shows none.
    app.create(
        "/api/v1/plans",
        json!({ "name": "silver", "rate_limit": { "requests": 1, "window_seconds": 1 } }),
    )
    .await;
    let open = json!({ "name": "public", "groups": ["partners"], "plan": "silver", "apis": [{ "api": "weather" }] });
    let open = app.admin("POST", "/api/v1/access-policies", Some(open)).await;
    assert!(
        open.json.get("ip_allow").is_none() && open.json.get("ip_deny").is_none(),
        "{}",
        open.text
    );

    let published = app
        .admin(
            "POST",
            "/api/v1/revisions",
            Some(json!({ "message": "partners from their networks" })),
        )
        .await;
    assert_eq!(published.status, StatusCode::CREATED, "{}", published.text);
    let snapshot = app.viewer("GET", "/api/v1/revisions/1/snapshot", None).await.json;
    let rules = snapshot["access_rules"].as_array().unwrap();
    for rule in rules.iter().filter(|rule| rule["policy"] == "partners") {
        assert_eq!(
            rule["ip_allow"], lists["ip_allow"],
            "every grant carries the lists: {rule}"
        );
        assert_eq!(rule["ip_deny"], lists["ip_deny"]);
    }
    let open_rule = rules.iter().find(|rule| rule["policy"] == "public").unwrap();
    assert!(
        open_rule.get("ip_allow").is_none() && open_rule.get("ip_deny").is_none(),
        "empty lists are left out, so older snapshots keep their hash: {open_rule}"
    );

    // Who can call what: petstore only through `partners`, so only from its networks; weather
    // through `partners` from those, and through `public` (a later rule) from anywhere else.
    let mut admin = Browser::signed_in(&app, "root", Role::Admin).await;
    let by_api = admin.get("/dashboard/access/apis/petstore").await.text;
    let restriction = "GET, HEAD: only from 10.0.0.0/8, 2001:db8::/32, not from 10.9.0.0/16 (policy `partners`); \
                       elsewhere refused";
    assert!(by_api.contains(restriction), "{by_api}");
    assert!(by_api.contains(r#"<abbr class="restricted""#), "{by_api}");
    let by_user = admin.get("/dashboard/access/users/pat").await.text;
    assert!(
        by_user.contains("not from 10.9.0.0/16 (policy `partners`); elsewhere plan `silver`"),
        "weather from elsewhere goes through `public`: {by_user}"
    );

    // Narrowing the lists is told by the impact report before publishing, with whom it narrows.
    let mut narrowed = policy.clone();
    narrowed["ip_allow"] = json!(["10.0.0.0/8"]);
    let replaced = app
        .admin("PUT", "/api/v1/access-policies/partners", Some(narrowed))
        .await;
    assert_eq!(replaced.status, StatusCode::OK, "{}", replaced.text);
    let report = hub::impact::from_store::pending(&app.store, Utc::now())
        .await
        .unwrap()
        .expect("the pending state publishes");
    let messages: Vec<String> = report
        .items
        .iter()
        .map(|item| format!("{} {}", item.severity.as_str(), item.message))
        .collect();
    assert!(
        messages.contains(
            &"narrowing access policy `partners` now grants API `petstore` only from 10.0.0.0/8, not from 10.9.0.0/16 \
              (was: only from 10.0.0.0/8, 2001:db8::/32, not from 10.9.0.0/16) — affects group `partners`; 1 user"
                .to_owned()
        ),
        "{messages:#?}"
    );

    // Exported and applied back, the lists round-trip; a bad entry in a manifest is named.
    let files = app.admin("GET", "/api/v1/manifests", None).await.json["files"].clone();
    let text = files
        .as_array()
        .unwrap()
        .iter()
        .find(|file| file["text"].as_str().unwrap_or_default().contains("name: partners\n"))
        .and_then(|file| file["text"].as_str())
        .unwrap()
        .to_owned();
    assert!(text.contains("ip_allow:") && text.contains("10.9.0.0/16"), "{text}");
    let applied = app
        .admin(
            "POST",
            "/api/v1/manifests/apply",
            Some(json!({ "files": files, "dry_run": true })),
        )
        .await;
    assert_eq!(applied.status, StatusCode::OK, "{}", applied.text);
    assert_eq!(applied.json["steps"], json!([]), "{}", applied.text);
    let path = files
        .as_array()
        .unwrap()
        .iter()
        .find(|file| file["text"].as_str() == Some(text.as_str()))
        .unwrap()["path"]
        .clone();
    let bad = json!([{ "path": path, "text": text.replace("10.9.0.0/16", "10.9.0.0/99") }]);
    let refused = app
        .admin("POST", "/api/v1/manifests/apply", Some(json!({ "files": bad })))
        .await;
    assert!(refused.status.is_client_error(), "{}", refused.text);
    assert!(refused.text.contains("ip_deny[0]"), "{}", refused.text);
}

async fn the_policy_form_edits_ip_lists(app: TestApp) {
    seed(&app, json!({})).await;
    let mut admin = Browser::signed_in(&app, "root", Role::Admin).await;
    let page = admin.get("/dashboard/policies/new").await;
    assert!(
        page.text.contains(r#"name="ip_allow""#) && page.text.contains(r#"name="ip_deny""#),
        "{}",
        page.text
    );
    let mut fields = vec![
        ("name", "partners"),
        ("groups", "partners"),
        ("plan", "gold"),
        ("grants", "petstore methods=GET"),
        ("ip_allow", "10.0.0.0/8\n2001:db8::/33x"),
        ("ip_deny", "10.9.0.0/16"),
    ];
    let page = admin.submit("/dashboard/policies", &fields).await;
    assert_eq!(page.status, StatusCode::BAD_REQUEST, "{}", page.text);
    assert!(
        field_error(&page.text, "ip_allow").contains("2001:db8::/33x"),
        "{}",
        page.text
    );
    assert!(page.text.contains("2001:db8::/33x"), "what was typed is kept");

    fields[4] = ("ip_allow", "10.0.0.0/8\n2001:db8::/32");
    let page = admin.submit("/dashboard/policies", &fields).await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.text);
    let stored = app.viewer("GET", "/api/v1/access-policies/partners", None).await.json;
    assert_eq!(stored["ip_allow"], json!(["10.0.0.0/8", "2001:db8::/32"]));
    assert_eq!(stored["ip_deny"], json!(["10.9.0.0/16"]));
    // The edit form shows the lists one a line.
    let page = admin.get("/dashboard/policies/partners").await;
    assert!(page.text.contains("10.0.0.0/8\n2001:db8::/32"), "{}", page.text);
}
