//! An API's edge rules in the hub: validated by the gateway's own rules with each field named,
//! stored, compiled into the snapshot, written and read by manifests, and edited on the
//! dashboard's API form.

use axum::http::StatusCode;
use hub::model::Role;
use serde_json::{Value, json};

use crate::dashboard::{Browser, field_error};
use crate::support::{TestApp, api, on_both_stores};

on_both_stores!(
    bad_edge_rules_are_refused_naming_each_field,
    edge_rules_are_stored_published_and_exported,
    the_api_form_edits_edge_rules
);

fn edge() -> Value {
    json!({
        "cors": {
            "allow_origins": ["https://app.example.com"],
            "allow_methods": ["GET", "PUT"],
            "allow_headers": ["x-api-key"],
            "max_age_seconds": 600
        },
        "ip_allow": ["10.0.0.0/8", "2001:db8::/32"],
        "trusted_proxies": ["192.0.2.1"],
        "max_body_bytes": 1048576,
        "request_headers": { "add": [{ "name": "x-tenant", "value": "acme" }] },
        "response_headers": { "remove": ["server"] },
        "path_rewrite": { "kind": "template", "template": "/v2/{rest}" }
    })
}

async fn bad_edge_rules_are_refused_naming_each_field(app: TestApp) {
    let before = app.audit_count().await;
    let mut body = api("petstore", "/pets");
    body["edge"] = json!({
        "cors": { "allow_origins": ["*", "https://app.example.com/"], "allow_credentials": true, "max_age_seconds": 999999 },
        "ip_allow": ["10.0.0.0/33"],
        "ip_deny": ["not-a-cidr"],
        "max_body_bytes": 9_000_000_000_000u64,
        "request_headers": { "remove": ["x-gatehouse-user"], "add": [{ "name": "bad name", "value": "x" }] },
        "response_headers": { "rename": [{ "from": "x-a", "to": "transfer-encoding" }] },
        "path_rewrite": { "kind": "prefix", "from": "old", "to": "/new" }
    });
    let fields = app
        .admin("POST", "/api/v1/apis", Some(body))
        .await
        .assert_problem(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        fields,
        [
            "edge.cors.allow_origins[1]",
            "edge.cors.allow_credentials",
            "edge.cors.max_age_seconds",
            "edge.ip_allow[0]",
            "edge.ip_deny[0]",
            "edge.max_body_bytes",
            "edge.request_headers.remove[0]",
            "edge.request_headers.add[0].name",
            "edge.response_headers.rename[0].to",
            "edge.path_rewrite.from"
        ]
    );
    // A negative limit is not a number of bytes at all: refused by type, the field named.
    let mut body = api("petstore", "/pets");
    body["edge"] = json!({ "max_body_bytes": -1 });
    let response = app.admin("POST", "/api/v1/apis", Some(body)).await;
    response.assert_problem(StatusCode::UNPROCESSABLE_ENTITY);
    assert!(response.text.contains("edge.max_body_bytes"), "{}", response.text);
    assert_eq!(app.audit_count().await, before, "nothing was written");
}

async fn edge_rules_are_stored_published_and_exported(app: TestApp) {
    let mut body = api("petstore", "/pets");
    body["edge"] = edge();
    let created = app.admin("POST", "/api/v1/apis", Some(body)).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
    assert_eq!(created.json["edge"], edge());
    // Rules that change nothing are no rules.
    let mut plain = api("weather", "/weather");
    plain["edge"] = json!({});
    let plain = app.admin("POST", "/api/v1/apis", Some(plain)).await;
    assert_eq!(plain.status, StatusCode::CREATED, "{}", plain.text);
    assert!(plain.json.get("edge").is_none(), "{}", plain.text);

    let published = app
        .admin("POST", "/api/v1/revisions", Some(json!({ "message": "edge" })))
        .await;
    assert_eq!(published.status, StatusCode::CREATED, "{}", published.text);
    let snapshot = app.viewer("GET", "/api/v1/revisions/1/snapshot", None).await.json;
    let apis = snapshot["apis"].as_array().unwrap();
    let pets = apis.iter().find(|api| api["name"] == "petstore").unwrap();
    assert_eq!(pets["edge"], edge());
    let weather = apis.iter().find(|api| api["name"] == "weather").unwrap();
    assert!(weather.get("edge").is_none(), "{weather}");

    let files = app.admin("GET", "/api/v1/manifests", None).await.json["files"].clone();
    let text = files
        .as_array()
        .unwrap()
        .iter()
        .find(|file| file["path"] == "apis/petstore.yaml")
        .and_then(|file| file["text"].as_str())
        .unwrap()
        .to_owned();
    assert!(
        text.contains("edge:") && text.contains("template: /v2/{rest}"),
        "{text}"
    );
    // Applying the export changes nothing: the rules round-trip.
    let applied = app
        .admin(
            "POST",
            "/api/v1/manifests/apply",
            Some(json!({ "files": files, "dry_run": true })),
        )
        .await;
    assert_eq!(applied.status, StatusCode::OK, "{}", applied.text);
    assert_eq!(applied.json["steps"], json!([]), "{}", applied.text);
    // A manifest with a bad rule is refused at its line.
    let bad = json!([{ "path": "apis/petstore.yaml", "text": text.replace("10.0.0.0/8", "10.0.0.1/8") }]);
    let refused = app
        .admin("POST", "/api/v1/manifests/apply", Some(json!({ "files": bad })))
        .await;
    assert!(refused.status.is_client_error(), "{}", refused.text);
    assert!(refused.text.contains("edge.ip_allow[0]"), "{}", refused.text);
}

async fn the_api_form_edits_edge_rules(app: TestApp) {
    let mut admin = Browser::signed_in(&app, "root", Role::Admin).await;
    let page = admin.get("/dashboard/apis/new").await;
    assert!(page.text.contains(r#"name="edge_cors_origins""#), "{}", page.text);
    let fields = [
        ("name", "petstore"),
        ("path_prefix", "/pets"),
        ("targets", "http://127.0.0.1:9000 100"),
        ("edge_cors_origins", "https://app.example.com"),
        ("edge_cors_methods", "get, put"),
        ("edge_cors_headers", "x-api-key"),
        ("edge_ip_allow", "10.0.0.0/8\n2001:db8::/32"),
        ("edge_max_body_bytes", "1048576"),
        (
            "edge_request_headers",
            "remove x-debug\nrename x-old x-new\nadd x-tenant acme corp",
        ),
        ("edge_path_rewrite", "/old => /new"),
    ];
    let mut bad = fields.to_vec();
    bad[6] = ("edge_ip_allow", "10.0.0.0/33");
    bad[8] = ("edge_request_headers", "add x-gatehouse-user mallory");
    let page = admin.submit("/dashboard/apis", &bad).await;
    assert_eq!(page.status, StatusCode::BAD_REQUEST, "{}", page.text);
    assert!(
        field_error(&page.text, "edge_ip_allow").contains("prefix length"),
        "{}",
        page.text
    );
    assert!(field_error(&page.text, "edge_request_headers").contains("x-gatehouse-user"));
    assert!(page.text.contains("10.0.0.0/33"), "what was typed is kept");

    let page = admin.submit("/dashboard/apis", &fields).await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.text);
    let stored = app.viewer("GET", "/api/v1/apis/petstore", None).await.json;
    assert_eq!(
        stored["edge"],
        json!({
            "cors": { "allow_origins": ["https://app.example.com"], "allow_methods": ["GET", "PUT"], "allow_headers": ["x-api-key"] },
            "ip_allow": ["10.0.0.0/8", "2001:db8::/32"],
            "max_body_bytes": 1048576,
            "request_headers": {
                "remove": ["x-debug"],
                "rename": [{ "from": "x-old", "to": "x-new" }],
                "add": [{ "name": "x-tenant", "value": "acme corp" }]
            },
            "path_rewrite": { "kind": "prefix", "from": "/old", "to": "/new" }
        })
    );
    // The edit form shows the stored rules as they were typed.
    let page = admin.get("/dashboard/apis/petstore/edit").await;
    assert!(page.text.contains("rename x-old x-new"), "{}", page.text);
    assert!(page.text.contains(r#"value="/old =&#62; /new""#), "{}", page.text);
}
