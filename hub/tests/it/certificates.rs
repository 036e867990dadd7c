//! The gateways' TLS certificates in the hub: checked on the way in (bad PEM and a key that is
//! not the certificate's refused naming the field), shown with what the chain says and never
//! with the key (REST, list, audit, published snapshot, manifest export, dashboard), compiled
//! into the snapshot's `tls` section with the key, and managed on the dashboard's page.

use axum::http::StatusCode;
use hub::model::Role;
use serde_json::{Value, json};

use crate::dashboard::{Browser, field_error};
use crate::support::{TestApp, on_both_stores};

on_both_stores!(
    certificates_are_checked_and_never_show_their_key,
    a_published_certificate_reaches_the_snapshot_with_its_key,
    the_certificates_page_uploads_and_warns_before_expiry
);

/// A certificate for `names` valid for `days` from now: (chain PEM, key PEM).
fn certificate(common_name: &str, names: &[&str], days: i64) -> (String, String) {
    let names: Vec<String> = names.iter().map(|name| name.to_string()).collect();
    let mut params = rcgen::CertificateParams::new(names).unwrap();
    params.distinguished_name = rcgen::DistinguishedName::new();
    params.distinguished_name.push(rcgen::DnType::CommonName, common_name);
    let now = std::time::SystemTime::now();
    params.not_before = (now - std::time::Duration::from_secs(86_400)).into();
    params.not_after = (now + std::time::Duration::from_secs(days as u64 * 86_400 + 3_600)).into();
    let key = rcgen::KeyPair::generate().unwrap();
    let certificate = params.self_signed(&key).unwrap();
    (certificate.pem(), key.serialize_pem())
}

fn body(name: &str, (chain, key): &(String, String)) -> Value {
    json!({ "name": name, "chain_pem": chain, "key_pem": key })
}

async fn certificates_are_checked_and_never_show_their_key(app: TestApp) {
    let pair = certificate("api.example.com", &["api.example.com", "*.api.example.com"], 90);
    let other = certificate("other", &["other.example.com"], 90);
    let before = app.audit_count().await;
    for (input, field) in [
        (
            json!({ "name": "api", "chain_pem": "not a certificate", "key_pem": pair.1 }),
            "chain_pem",
        ),
        (
            json!({ "name": "api", "chain_pem": pair.0, "key_pem": "garbage" }),
            "key_pem",
        ),
        (
            json!({ "name": "api", "chain_pem": pair.0, "key_pem": other.1 }),
            "key_pem",
        ),
        (json!({ "name": "api", "chain_pem": pair.0 }), "key_pem"),
        (
            json!({ "name": "Not A Slug", "chain_pem": pair.0, "key_pem": pair.1 }),
            "name",
        ),
    ] {
        let fields = app
            .admin("POST", "/api/v1/certificates", Some(input))
            .await
            .assert_problem(StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(fields, [field]);
    }
    assert_eq!(app.audit_count().await, before, "nothing was written");

    let created = app
        .admin("POST", "/api/v1/certificates", Some(body("api", &pair)))
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
    assert_eq!(created.json["subject"], "CN=api.example.com");
    assert_eq!(
        created.json["dns_names"],
        json!(["api.example.com", "*.api.example.com"])
    );
    assert_eq!(created.json["sha256_fingerprint"].as_str().unwrap().len(), 64);
    let not_after: chrono::DateTime<chrono::Utc> = created.json["not_after"].as_str().unwrap().parse().unwrap();
    assert_eq!((not_after - chrono::Utc::now()).num_days(), 90);

    // Replacing without a key keeps the stored one (it still matches); a new chain with the
    // old key is refused.
    let renewed = app
        .admin(
            "PUT",
            "/api/v1/certificates/api",
            Some(json!({ "name": "api", "description": "renewed", "chain_pem": pair.0 })),
        )
        .await;
    assert_eq!(renewed.status, StatusCode::OK, "{}", renewed.text);
    let fields = app
        .admin(
            "PUT",
            "/api/v1/certificates/api",
            Some(json!({ "name": "api", "chain_pem": other.0 })),
        )
        .await
        .assert_problem(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(fields, ["key_pem"]);

    // The key is in no answer: create, get, list, the audit log.
    let key_line = pair.1.lines().nth(1).unwrap().to_owned();
    for path in [
        "/api/v1/certificates/api",
        "/api/v1/certificates",
        "/api/v1/audit?limit=500",
    ] {
        let response = app.admin("GET", path, None).await;
        assert_eq!(response.status, StatusCode::OK, "{path}: {}", response.text);
        assert!(!response.text.contains("PRIVATE KEY"), "{path}: {}", response.text);
        assert!(!response.text.contains(&key_line), "{path}");
        assert!(!response.text.contains("key_pem"), "{path}: {}", response.text);
    }
    assert!(!created.text.contains("PRIVATE KEY"));
    let deleted = app.admin("DELETE", "/api/v1/certificates/api", None).await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT, "{}", deleted.text);
}

async fn a_published_certificate_reaches_the_snapshot_with_its_key(app: TestApp) {
    let pair = certificate("edge.example.com", &["edge.example.com"], 200);
    app.create("/api/v1/certificates", body("edge", &pair)).await;
    let published = app
        .admin("POST", "/api/v1/revisions", Some(json!({ "message": "tls" })))
        .await;
    assert_eq!(published.status, StatusCode::CREATED, "{}", published.text);

    // Gateways get the key: the stored revision holds it.
    let snapshot = hub::domain::publish::snapshot(&app.store, 1).await.unwrap();
    let tls = snapshot.tls.expect("a tls section");
    assert_eq!(tls.certificates.len(), 1);
    assert_eq!(tls.certificates[0].name, "edge");
    assert_eq!(tls.certificates[0].key_pem, pair.1);
    // The admin API's copy of the snapshot does not.
    let shown = app.viewer("GET", "/api/v1/revisions/1/snapshot", None).await;
    assert_eq!(
        shown.json["tls"]["certificates"][0]["key_pem"], "(redacted)",
        "{}",
        shown.text
    );
    assert!(!shown.text.contains("PRIVATE KEY"), "{}", shown.text);
    // Nor do the manifests: certificates are not exported (their keys do not belong in git).
    let export = app.admin("GET", "/api/v1/manifests", None).await;
    assert_eq!(export.status, StatusCode::OK, "{}", export.text);
    assert!(!export.text.contains("PRIVATE KEY") && !export.text.contains("BEGIN CERTIFICATE"));

    // An API's https_redirect goes into the snapshot too.
    let mut api = crate::support::api("shop", "/shop");
    api["https_redirect"] = json!(true);
    app.create("/api/v1/apis", api).await;
    app.admin("POST", "/api/v1/revisions", Some(json!({ "message": "redirect" })))
        .await;
    let shown = app.viewer("GET", "/api/v1/revisions/2/snapshot", None).await;
    assert_eq!(shown.json["apis"][0]["https_redirect"], true, "{}", shown.text);
}

async fn the_certificates_page_uploads_and_warns_before_expiry(app: TestApp) {
    let mut admin = Browser::signed_in(&app, "root", Role::Admin).await;
    let page = admin.get("/dashboard/certificates").await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.text);
    assert!(page.text.contains("No certificate yet"), "{}", page.text);

    let soon = certificate("soon.example.com", &["soon.example.com"], 10);
    let later = certificate("later.example.com", &["later.example.com"], 300);
    let refused = admin
        .submit(
            "/dashboard/certificates",
            &[
                ("name", "soon"),
                ("chain_pem", "-----BEGIN NOTHING-----"),
                ("key_pem", &soon.1),
            ],
        )
        .await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{}", refused.text);
    assert!(!field_error(&refused.text, "chain_pem").is_empty(), "{}", refused.text);
    // The key typed is never sent back, even to the person who typed it.
    assert!(!refused.text.contains("PRIVATE KEY"), "{}", refused.text);

    for (name, pair) in [("soon", &soon), ("later", &later)] {
        let saved = admin
            .submit(
                "/dashboard/certificates",
                &[("name", name), ("chain_pem", &pair.0), ("key_pem", &pair.1)],
            )
            .await;
        assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.text);
    }
    let page = admin.get("/dashboard/certificates").await;
    assert!(page.text.contains("CN=soon.example.com"), "{}", page.text);
    assert!(
        page.text
            .contains(r#"<span class="badge warn" title="under 30 days">10 days</span>"#),
        "{}",
        page.text
    );
    assert!(page.text.contains(">300</td>"), "{}", page.text);
    assert!(!page.text.contains("PRIVATE KEY"), "{}", page.text);

    // Uploading under a known name replaces it.
    let renewed = certificate("soon.example.com", &["soon.example.com"], 400);
    let saved = admin
        .submit(
            "/dashboard/certificates",
            &[("name", "soon"), ("chain_pem", &renewed.0), ("key_pem", &renewed.1)],
        )
        .await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.text);
    let page = admin.get("/dashboard/certificates").await;
    assert!(!page.text.contains("badge warn"), "{}", page.text);
    assert!(page.text.contains(">400</td>"), "{}", page.text);

    // A viewer sees the list and no form.
    let mut viewer = Browser::signed_in(&app, "watcher", Role::Viewer).await;
    let page = viewer.get("/dashboard/certificates").await;
    assert!(page.text.contains("CN=soon.example.com") && !page.text.contains("Upload a certificate"));
}
