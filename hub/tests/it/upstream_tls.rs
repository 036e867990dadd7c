//! TLS to upstreams in the hub: an API's (and a version's) `upstream.tls` through the REST API,
//! the dashboard and manifests into the published snapshot, with the client certificate's
//! private key never shown by any read (API, page, audit, export, revision snapshot) and kept
//! when a read's `(redacted)` (or an empty key field) is written back.

use axum::http::StatusCode;
use hub::domain::publish;
use hub::model::Role;
use rcgen::{CertificateParams, KeyPair};
use serde_json::{Value, json};

use crate::dashboard::{Browser, field_error};
use crate::support::{TestApp, api, on_both_stores};

on_both_stores!(
    the_key_is_stored_published_and_never_echoed,
    bad_tls_settings_are_refused_naming_the_field,
    manifests_export_it_redacted_and_apply_it_back_unchanged,
    the_dashboard_form_sets_tls_and_keeps_the_key_unseen
);

/// A self-signed certificate and its private key, PEM.
fn certificate(name: &str) -> (String, String) {
    let key = KeyPair::generate().unwrap();
    let certificate = CertificateParams::new(vec![name.to_owned()])
        .unwrap()
        .self_signed(&key)
        .unwrap();
    (certificate.pem(), key.serialize_pem())
}

fn secure_api(ca: &str, certificate: &str, key: &str) -> Value {
    let mut body = api("billing", "/billing");
    body["upstream"] = json!({
        "targets": [{ "url": "https://billing.internal:8443", "weight": 100 }],
        "tls": {
            "ca_pem": ca,
            "server_name": "billing.internal",
            "client_certificate": { "certificate_pem": certificate, "key_pem": key }
        }
    });
    body
}

async fn publish(app: &TestApp) -> i64 {
    let published = app
        .admin("POST", "/api/v1/revisions", Some(json!({ "message": "tls" })))
        .await;
    assert_eq!(published.status, StatusCode::CREATED, "{}", published.text);
    published.json["revision"]["number"].as_i64().unwrap()
}

/// The key in the snapshot the gateways get (not any API's view of it).
async fn published_key(app: &TestApp, revision: i64) -> String {
    let snapshot = publish::snapshot(&app.store, revision).await.unwrap();
    let tls = snapshot.apis[0].upstream.tls.clone().expect("tls in the snapshot");
    tls.client_certificate.expect("client certificate").key_pem
}

async fn the_key_is_stored_published_and_never_echoed(app: TestApp) {
    let (ca, _) = certificate("ca.internal");
    let (client, key) = certificate("gateway.internal");
    let created = app.create("/api/v1/apis", secure_api(&ca, &client, &key)).await;
    let tls = &created["upstream"]["tls"];
    assert_eq!(tls["client_certificate"]["key_pem"], "(redacted)");
    assert_eq!(tls["client_certificate"]["certificate_pem"], client.as_str());
    assert_eq!(tls["server_name"], "billing.internal");
    assert!(!created.to_string().contains("PRIVATE KEY"));
    let first = publish(&app).await;

    // What a read shows, written back with a change, keeps the key.
    let mut read = app.admin("GET", "/api/v1/apis/billing", None).await.json;
    assert_eq!(read["upstream"], created["upstream"]);
    read["upstream"]["tls"]["server_name"] = json!("billing.example.com");
    for field in ["created_at", "created_by", "updated_at", "updated_by", "version"] {
        read.as_object_mut().unwrap().remove(field);
    }
    let replaced = app.admin("PUT", "/api/v1/apis/billing", Some(read)).await;
    assert_eq!(replaced.status, StatusCode::OK, "{}", replaced.text);
    assert_eq!(
        replaced.json["upstream"]["tls"]["client_certificate"]["key_pem"],
        "(redacted)"
    );

    // A version's own upstream is redacted the same way.
    let version = app
        .create(
            "/api/v1/apis/billing/versions",
            json!({ "name": "v1", "status": "published", "upstream": secure_api(&ca, &client, &key)["upstream"] }),
        )
        .await;
    assert_eq!(
        version["upstream"]["tls"]["client_certificate"]["key_pem"],
        "(redacted)"
    );

    let revision = publish(&app).await;
    assert_eq!(
        published_key(&app, revision).await,
        key,
        "the gateways get the key itself"
    );
    let diff = app
        .admin(
            "GET",
            &format!("/api/v1/revisions/diff?from={first}&to={revision}"),
            None,
        )
        .await;
    assert_eq!(diff.status, StatusCode::OK, "{}", diff.text);
    assert!(
        diff.text.contains("billing.example.com"),
        "the change shows: {}",
        diff.text
    );
    let snapshot = app
        .admin("GET", &format!("/api/v1/revisions/{revision}/snapshot"), None)
        .await;
    assert_eq!(snapshot.status, StatusCode::OK);
    assert_eq!(
        snapshot.json["apis"][0]["upstream"]["tls"]["server_name"],
        "billing.example.com"
    );
    for shown in [
        diff.text,
        snapshot.text,
        app.admin("GET", "/api/v1/apis", None).await.text,
        app.admin("GET", "/api/v1/apis/billing/versions/v1", None).await.text,
        app.admin("GET", "/api/v1/audit", None).await.text,
        app.admin("GET", "/api/v1/manifests", None).await.text,
    ] {
        assert!(!shown.contains("PRIVATE KEY"), "{shown}");
    }
}

async fn bad_tls_settings_are_refused_naming_the_field(app: TestApp) {
    let (ca, _) = certificate("ca.internal");
    let (client, key) = certificate("gateway.internal");
    let before = app.audit_count().await;
    let check = |change: fn(&mut Value), field: &'static str| {
        let mut body = secure_api(&ca, &client, &key);
        change(&mut body["upstream"]["tls"]);
        (body, field)
    };
    for (body, field) in [
        check(|tls| tls["ca_pem"] = json!("not a certificate"), "upstream.tls.ca_pem"),
        check(
            |tls| tls["server_name"] = json!("not a name!"),
            "upstream.tls.server_name",
        ),
        check(
            |tls| tls["insecure_skip_verify"] = json!(true),
            "upstream.tls.insecure_skip_verify",
        ),
        check(
            |tls| tls["client_certificate"]["key_pem"] = json!(""),
            "upstream.tls.client_certificate.key_pem",
        ),
        check(
            |tls| {
                tls["client_certificate"]["key_pem"] =
                    json!("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n")
            },
            "upstream.tls.client_certificate",
        ),
    ] {
        let refused = app.admin("POST", "/api/v1/apis", Some(body)).await;
        let fields = refused.assert_problem(StatusCode::UNPROCESSABLE_ENTITY);
        assert!(
            fields.iter().any(|named| named.starts_with(field)),
            "{field}: {}",
            refused.text
        );
        assert!(
            !refused.text.contains("PRIVATE KEY"),
            "the key is never echoed: {}",
            refused.text
        );
    }
    assert_eq!(app.audit_count().await, before, "nothing was written");
}

async fn manifests_export_it_redacted_and_apply_it_back_unchanged(app: TestApp) {
    let (ca, _) = certificate("ca.internal");
    let (client, key) = certificate("gateway.internal");
    app.create("/api/v1/apis", secure_api(&ca, &client, &key)).await;
    let exported = app.admin("GET", "/api/v1/manifests", None).await.json["files"].clone();
    let document = exported
        .as_array()
        .unwrap()
        .iter()
        .find(|file| file["path"] == "apis/billing.yaml")
        .expect("the API's file")["text"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(document.contains("key_pem: (redacted)"), "{document}");
    assert!(document.contains("server_name: billing.internal"), "{document}");
    assert!(!document.contains("PRIVATE KEY"));

    let applied = app
        .admin("POST", "/api/v1/manifests/apply", Some(json!({ "files": exported })))
        .await;
    assert_eq!(applied.status, StatusCode::OK, "{}", applied.text);
    assert_eq!(applied.json["steps"], json!([]), "the export applies back unchanged");

    // A changed SNI applies and the key stays.
    let changed = document.replace("server_name: billing.internal", "server_name: billing.example.com");
    let files = json!([{ "path": "apis/billing.yaml", "text": changed }]);
    let applied = app
        .admin("POST", "/api/v1/manifests/apply", Some(json!({ "files": files })))
        .await;
    assert_eq!(applied.status, StatusCode::OK, "{}", applied.text);
    assert_eq!(applied.json["steps"][0]["action"], "update", "{}", applied.text);
    let revision = publish(&app).await;
    assert_eq!(published_key(&app, revision).await, key);
}

async fn the_dashboard_form_sets_tls_and_keeps_the_key_unseen(app: TestApp) {
    let (ca, _) = certificate("ca.internal");
    let (client, key) = certificate("gateway.internal");
    let mut admin = Browser::signed_in(&app, "root", Role::Admin).await;
    let form = |ca: &str, key: &str| -> Vec<(&'static str, String)> {
        vec![
            ("name", "billing".into()),
            ("path_prefix", "/billing".into()),
            ("targets", "https://billing.internal:8443 100".into()),
            ("tls_ca_pem", ca.into()),
            ("tls_server_name", "billing.internal".into()),
            ("tls_client_certificate_pem", client.clone()),
            ("tls_client_key_pem", key.into()),
        ]
    };
    let pairs = |fields: &[(&'static str, String)]| -> Vec<(&'static str, String)> { fields.to_vec() };
    async fn submit(
        admin: &mut Browser<'_>,
        path: &str,
        fields: Vec<(&'static str, String)>,
    ) -> crate::dashboard::Page {
        let fields: Vec<(&str, &str)> = fields.iter().map(|(name, value)| (*name, value.as_str())).collect();
        admin.submit(path, &fields).await
    }

    // A new certificate without its key is refused at the key's field.
    let page = submit(&mut admin, "/dashboard/apis", pairs(&form(&ca, ""))).await;
    assert_eq!(page.status, StatusCode::BAD_REQUEST, "{}", page.text);
    assert!(
        field_error(&page.text, "tls_client_key_pem").contains("required"),
        "{}",
        page.text
    );
    let page = submit(&mut admin, "/dashboard/apis", pairs(&form(&ca, &key))).await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.text);

    // The edit page shows the certificate and the SNI, never the key; saving it as shown (the
    // key field empty) keeps the key.
    let page = admin.get("/dashboard/apis/billing/edit").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.text.contains("billing.internal"));
    assert!(page.text.contains("BEGIN CERTIFICATE"));
    assert!(!page.text.contains("PRIVATE KEY"), "{}", page.text);
    assert!(page.text.contains("a key is stored"), "{}", page.text);
    let page = submit(&mut admin, "/dashboard/apis/billing", pairs(&form(&ca, ""))).await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.text);
    let revision = publish(&app).await;
    assert_eq!(
        published_key(&app, revision).await,
        key.trim(),
        "the form trims what was pasted"
    );

    // A bad CA bundle is refused next to its field, and the refused page holds no key.
    let page = submit(
        &mut admin,
        "/dashboard/apis/billing",
        pairs(&form("not a certificate", &key)),
    )
    .await;
    assert_eq!(page.status, StatusCode::BAD_REQUEST);
    assert!(!field_error(&page.text, "tls_ca_pem").is_empty(), "{}", page.text);
    assert!(
        !page.text.contains("PRIVATE KEY"),
        "a refused form does not echo the key"
    );
}
