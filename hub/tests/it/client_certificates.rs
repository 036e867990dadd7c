//! Client certificates as a consumer credential, in the hub: applications' certificates checked
//! on the way in (not PEM, not one leaf, a key included, a CA's, expired, an unknown application:
//! refused naming the field, nothing written), shown with subject, fingerprint and expiry,
//! revoked and deleted; client CAs compiled into the snapshot's `tls.client_ca_pem`; APIs that
//! take certificates (REST, manifests, the dashboard's form) refused at publish without a CA; and
//! the dashboard registering and revoking them, published at once as keys are.

use axum::http::StatusCode;
use hub::model::Role;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::dashboard::{Browser, field_error};
use crate::support::{TestApp, on_both_stores};

on_both_stores!(
    client_certificates_are_checked_and_a_refusal_changes_nothing,
    client_cas_and_certificates_reach_the_snapshot_and_revoking_takes_them_out,
    manifests_carry_an_apis_client_certificate_setting,
    the_dashboard_registers_revokes_and_publishes_client_certificates
);

/// A test CA, and leaf certificates it signs.
struct Pki {
    issuer: rcgen::CertifiedIssuer<'static, rcgen::KeyPair>,
}

/// A leaf certificate: its PEM, its key's PEM, and the hex SHA-256 of its DER.
struct Leaf {
    pem: String,
    key_pem: String,
    sha256: String,
}

impl Pki {
    fn new(name: &str) -> Pki {
        let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
        params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        params.distinguished_name.push(rcgen::DnType::CommonName, name);
        let issuer = rcgen::CertifiedIssuer::self_signed(params, rcgen::KeyPair::generate().unwrap()).unwrap();
        Pki { issuer }
    }

    fn ca_pem(&self) -> String {
        self.issuer.pem()
    }

    /// A leaf for `CN=<common_name>`, valid until `days` from now (negative: expired).
    fn issue(&self, common_name: &str, days: i64) -> Leaf {
        let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
        params.distinguished_name = rcgen::DistinguishedName::new();
        params.distinguished_name.push(rcgen::DnType::CommonName, common_name);
        let now = time::OffsetDateTime::now_utc();
        params.not_before = now - time::Duration::days(400);
        params.not_after = now + time::Duration::days(days);
        let key = rcgen::KeyPair::generate().unwrap();
        let certificate = params.signed_by(&key, &self.issuer).unwrap();
        Leaf {
            pem: certificate.pem(),
            key_pem: key.serialize_pem(),
            sha256: hex::encode(Sha256::digest(certificate.der())),
        }
    }
}

/// A user in group `staff` with an application; the application's id.
async fn application(app: &TestApp, user: &str) -> String {
    app.create("/api/v1/groups", json!({ "name": "staff" })).await;
    app.create("/api/v1/users", json!({ "name": user, "groups": ["staff"] }))
        .await;
    let created = app
        .create("/api/v1/applications", json!({ "name": "billing", "owner": user }))
        .await;
    created["id"].as_str().unwrap().to_owned()
}

fn certificates_path(application: &str) -> String {
    format!("/api/v1/applications/{application}/certificates")
}

async fn publish(app: &TestApp) -> crate::support::Response {
    app.admin("POST", "/api/v1/revisions", Some(json!({ "message": "mtls" })))
        .await
}

async fn client_certificates_are_checked_and_a_refusal_changes_nothing(app: TestApp) {
    let id = application(&app, "alice").await;
    let pki = Pki::new("Consumer CA");
    let alice = pki.issue("alice", 90);
    let other = pki.issue("other", 90);
    let before = app.audit_count().await;
    let path = certificates_path(&id);
    for (body, field, says) in [
        (
            json!({ "name": "prod", "certificate_pem": "not a certificate" }),
            "certificate_pem",
            "holds no `BEGIN CERTIFICATE` block",
        ),
        (
            json!({ "name": "prod", "certificate_pem": "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n" }),
            "certificate_pem",
            "",
        ),
        (
            json!({ "name": "prod", "certificate_pem": format!("{}{}", alice.pem, alice.key_pem) }),
            "certificate_pem",
            "holds a private key",
        ),
        (
            json!({ "name": "prod", "certificate_pem": format!("{}{}", alice.pem, other.pem) }),
            "certificate_pem",
            "holds 2 certificates",
        ),
        (
            json!({ "name": "prod", "certificate_pem": pki.ca_pem() }),
            "certificate_pem",
            "is a CA certificate",
        ),
        (
            json!({ "name": "prod", "certificate_pem": pki.issue("old", -1).pem }),
            "certificate_pem",
            "has expired",
        ),
        (json!({ "name": " ", "certificate_pem": alice.pem }), "name", ""),
    ] {
        let response = app.admin("POST", &path, Some(body)).await;
        let fields = response.assert_problem(StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(fields, [field], "{}", response.text);
        assert!(response.text.contains(says), "{}", response.text);
    }
    // An unknown application is refused naming the field, as any unknown reference.
    let unknown = app
        .admin(
            "POST",
            &certificates_path("app_nope"),
            Some(json!({ "name": "prod", "certificate_pem": alice.pem })),
        )
        .await;
    assert_eq!(
        unknown.assert_problem(StatusCode::UNPROCESSABLE_ENTITY),
        ["application"]
    );
    assert!(
        unknown.text.contains("unknown application `app_nope`"),
        "{}",
        unknown.text
    );
    // Not JSON of the right shape: 400 or 422, nothing written.
    let extra = app
        .admin(
            "POST",
            &path,
            Some(json!({ "name": "prod", "certificate_pem": alice.pem, "key_pem": alice.key_pem })),
        )
        .await;
    assert!(extra.status.is_client_error(), "{}", extra.text);
    assert_eq!(app.audit_count().await, before, "nothing was written");
    let listed = app.viewer("GET", &path, None).await;
    assert_eq!(listed.json["items"], json!([]), "{}", listed.text);

    // Registered: the hub shows what the certificate says, and its fingerprint.
    let created = app
        .admin(
            "POST",
            &path,
            Some(json!({ "name": "prod", "certificate_pem": alice.pem })),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
    let certificate = &created.json;
    let certificate_id = certificate["id"].as_str().unwrap().to_owned();
    assert!(certificate_id.starts_with("cert_"), "{certificate}");
    assert_eq!(certificate["application"], id.as_str());
    assert_eq!(certificate["subject"], "CN=alice");
    assert_eq!(certificate["sha256_fingerprint"], alice.sha256.as_str());
    assert_eq!(certificate["revoked_at"], Value::Null);
    let not_after: chrono::DateTime<chrono::Utc> = certificate["not_after"].as_str().unwrap().parse().unwrap();
    assert_eq!((not_after - chrono::Utc::now()).num_days(), 89);
    assert!(!created.text.contains("PRIVATE KEY"));

    // The same certificate twice: one certificate names one application.
    let again = app
        .admin(
            "POST",
            &path,
            Some(json!({ "name": "again", "certificate_pem": alice.pem })),
        )
        .await;
    again.assert_problem(StatusCode::CONFLICT);
    assert!(again.text.contains(&certificate_id), "{}", again.text);

    // Read, listed, revoked (listed still, with the time), deleted.
    let item = format!("{path}/{certificate_id}");
    let read = app.viewer("GET", &item, None).await;
    assert_eq!(read.status, StatusCode::OK, "{}", read.text);
    assert_eq!(read.json["created_by"], "token:test-admin", "{}", read.text);
    let viewer_write = app
        .viewer(
            "POST",
            &path,
            Some(json!({ "name": "x", "certificate_pem": other.pem })),
        )
        .await;
    assert_eq!(viewer_write.status, StatusCode::FORBIDDEN, "{}", viewer_write.text);
    let revoked = app.admin("POST", &format!("{item}/revoke"), None).await;
    assert_eq!(revoked.status, StatusCode::OK, "{}", revoked.text);
    assert!(revoked.json["revoked_at"].is_string(), "{}", revoked.text);
    let active = app.viewer("GET", &format!("{path}?revoked=false"), None).await;
    assert_eq!(active.json["items"], json!([]), "{}", active.text);
    let all = app.viewer("GET", &format!("{path}?revoked=true"), None).await;
    assert_eq!(all.json["items"][0]["id"], certificate_id.as_str(), "{}", all.text);
    // Another application's path does not find it.
    let elsewhere = app
        .viewer(
            "GET",
            &format!("{}/{certificate_id}", certificates_path("app_other")),
            None,
        )
        .await;
    elsewhere.assert_problem(StatusCode::NOT_FOUND);
    let deleted = app.admin("DELETE", &item, None).await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT, "{}", deleted.text);
    app.viewer("GET", &item, None)
        .await
        .assert_problem(StatusCode::NOT_FOUND);
}

async fn client_cas_and_certificates_reach_the_snapshot_and_revoking_takes_them_out(app: TestApp) {
    let id = application(&app, "alice").await;
    let pki = Pki::new("Consumer CA");
    let alice = pki.issue("alice", 90);
    app.create(
        "/api/v1/plans",
        json!({ "name": "gold", "rate_limit": { "requests": 10, "window_seconds": 1 } }),
    )
    .await;
    let mut api = crate::support::api("orders", "/orders");
    api["authentication"] = json!({ "client_certificate": true });
    let created = app.create("/api/v1/apis", api).await;
    assert_eq!(created["authentication"]["client_certificate"], true);
    app.create(
        "/api/v1/access-policies",
        json!({ "name": "staff-orders", "groups": ["staff"], "plan": "gold", "apis": [{ "api": "orders" }] }),
    )
    .await;
    app.create(
        &certificates_path(&id),
        json!({ "name": "prod", "certificate_pem": alice.pem }),
    )
    .await;

    // Without a client CA no gateway would ask for a certificate: the publish is refused.
    let refused = publish(&app).await;
    assert_eq!(
        refused.assert_problem(StatusCode::UNPROCESSABLE_ENTITY),
        ["apis/orders/authentication.client_certificate"]
    );

    // A client CA: checked as the gateways will use it, nothing written when refused.
    let before = app.audit_count().await;
    for (body, field) in [
        (json!({ "name": "partners", "ca_pem": "nope" }), "ca_pem"),
        (
            json!({ "name": "partners", "ca_pem": format!("{}{}", pki.ca_pem(), alice.key_pem) }),
            "ca_pem",
        ),
        (json!({ "name": "Partners!", "ca_pem": pki.ca_pem() }), "name"),
    ] {
        let fields = app
            .admin("POST", "/api/v1/client-cas", Some(body))
            .await
            .assert_problem(StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(fields, [field]);
    }
    assert_eq!(app.audit_count().await, before, "nothing was written");
    let ca = app
        .create(
            "/api/v1/client-cas",
            json!({ "name": "partners", "ca_pem": pki.ca_pem() }),
        )
        .await;
    assert_eq!(ca["certificates"][0]["subject"], "CN=Consumer CA", "{ca}");
    assert_eq!(ca["certificates"][0]["sha256_fingerprint"].as_str().unwrap().len(), 64);

    let published = publish(&app).await;
    assert_eq!(published.status, StatusCode::CREATED, "{}", published.text);
    let number = published.json["revision"]["number"].as_i64().unwrap();
    let snapshot = hub::domain::publish::snapshot(&app.store, number).await.unwrap();
    assert!(snapshot.apis[0].authentication.client_certificate);
    let tls = snapshot.tls.clone().expect("a tls section");
    assert_eq!(tls.client_ca_pem.as_deref(), Some(pki.ca_pem().as_str()));
    let consumer = snapshot
        .consumers
        .iter()
        .find(|consumer| consumer.certificate_sha256.is_some())
        .expect("the certificate's consumer");
    assert_eq!(consumer.certificate_sha256.as_deref(), Some(alice.sha256.as_str()));
    assert_eq!(consumer.key_hash, None);
    assert_eq!(
        (consumer.user.as_str(), consumer.application.as_str()),
        ("alice", "alice/billing")
    );
    assert_eq!(consumer.groups, ["staff"]);
    // The admin API's copy shows the fingerprint (it is no secret).
    let shown = app
        .viewer("GET", &format!("/api/v1/revisions/{number}/snapshot"), None)
        .await;
    assert_eq!(
        shown.json["consumers"][0]["certificate_sha256"],
        alice.sha256.as_str(),
        "{}",
        shown.text
    );

    // Revoked, and published: gone from the snapshot.
    let certificate_id = &consumer.key_id;
    let item = format!("{}/{certificate_id}", certificates_path(&id));
    let revoked = app.admin("POST", &format!("{item}/revoke"), None).await;
    assert_eq!(revoked.status, StatusCode::OK, "{}", revoked.text);
    let published = publish(&app).await;
    let number = published.json["revision"]["number"].as_i64().unwrap();
    let snapshot = hub::domain::publish::snapshot(&app.store, number).await.unwrap();
    assert!(
        snapshot
            .consumers
            .iter()
            .all(|consumer| consumer.certificate_sha256.is_none())
    );

    // The last client CA may go while an API takes certificates; the next publish says why it
    // cannot be published.
    let deleted = app.admin("DELETE", "/api/v1/client-cas/partners", None).await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT, "{}", deleted.text);
    publish(&app).await.assert_problem(StatusCode::UNPROCESSABLE_ENTITY);
}

async fn manifests_carry_an_apis_client_certificate_setting(app: TestApp) {
    let mut api = crate::support::api("orders", "/orders");
    api["authentication"] = json!({ "client_certificate": true });
    app.create("/api/v1/apis", api).await;
    app.create("/api/v1/apis", crate::support::api("plain", "/plain")).await;
    let exported = app.admin("GET", "/api/v1/manifests", None).await.json["files"].clone();
    let text = |path: &str| {
        exported
            .as_array()
            .unwrap()
            .iter()
            .find(|file| file["path"] == path)
            .unwrap_or_else(|| panic!("{path} in {exported}"))["text"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    let orders = text("apis/orders.yaml");
    assert!(
        orders.contains("authentication:\n    client_certificate: true"),
        "{orders}"
    );
    assert!(
        !text("apis/plain.yaml").contains("authentication"),
        "the default is left out"
    );

    // Applied back: nothing changes; turned off in the file: the API changes.
    let applied = app
        .admin("POST", "/api/v1/manifests/apply", Some(json!({ "files": exported })))
        .await;
    assert_eq!(applied.json["steps"], json!([]), "{}", applied.text);
    let off = orders.replace("client_certificate: true", "client_certificate: false");
    let files = json!([{ "path": "apis/orders.yaml", "text": off }]);
    let applied = app
        .admin("POST", "/api/v1/manifests/apply", Some(json!({ "files": files })))
        .await;
    assert_eq!(applied.status, StatusCode::OK, "{}", applied.text);
    assert_eq!(applied.json["steps"][0]["action"], "update", "{}", applied.text);
    let api = app.viewer("GET", "/api/v1/apis/orders", None).await;
    assert!(api.json.get("authentication").is_none(), "{}", api.text);
    // A misspelt setting is refused at its line.
    let typo = orders.replace("client_certificate: true", "client_certificates: true");
    let files = json!([{ "path": "apis/orders.yaml", "text": typo }]);
    let refused = app
        .admin("POST", "/api/v1/manifests/apply", Some(json!({ "files": files })))
        .await;
    assert!(refused.status.is_client_error(), "{}", refused.text);
    assert!(refused.text.contains("client_certificates"), "{}", refused.text);
}

async fn the_dashboard_registers_revokes_and_publishes_client_certificates(app: TestApp) {
    let id = application(&app, "alice").await;
    let pki = Pki::new("Consumer CA");
    let alice = pki.issue("alice", 90);
    // Credentials are published on top of the latest revision: there must be one.
    assert_eq!(publish(&app).await.status, StatusCode::CREATED);
    let mut admin = Browser::signed_in(&app, "root", Role::Admin).await;

    let refused = admin
        .submit(
            "/dashboard/keys/certificates",
            &[
                ("application", &id),
                ("name", "prod"),
                ("certificate_pem", &format!("{}{}", alice.pem, alice.key_pem)),
            ],
        )
        .await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{}", refused.text);
    assert!(
        field_error(&refused.text, "certificate_pem").contains("holds a private key"),
        "{}",
        refused.text
    );
    let saved = admin
        .submit(
            "/dashboard/keys/certificates",
            &[("application", &id), ("name", "prod"), ("certificate_pem", &alice.pem)],
        )
        .await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.text);
    let page = admin.get("/dashboard/keys").await;
    assert!(page.text.contains("CN=alice"), "{}", page.text);
    assert!(page.text.contains(&alice.sha256), "{}", page.text);
    assert!(
        page.text.contains(r#"<span class="badge ok">active</span>"#),
        "{}",
        page.text
    );

    // Published at once, on its own.
    let latest = hub::domain::publish::latest(&app.store).await.unwrap().unwrap();
    assert_eq!(latest.0.number, 2, "{:?}", latest.0);
    assert!(
        latest.0.message.contains("registered in the dashboard"),
        "{:?}",
        latest.0
    );
    let consumer = latest
        .1
        .consumers
        .iter()
        .find(|consumer| consumer.certificate_sha256.as_deref() == Some(alice.sha256.as_str()))
        .expect("published");
    let certificate_id = consumer.key_id.clone();

    let revoked = admin
        .submit(
            &format!("/dashboard/keys/{id}/certificates/{certificate_id}/revoke"),
            &[],
        )
        .await;
    assert_eq!(revoked.status, StatusCode::SEE_OTHER, "{}", revoked.text);
    let latest = hub::domain::publish::latest(&app.store).await.unwrap().unwrap();
    assert_eq!(latest.0.number, 3);
    assert!(
        latest
            .1
            .consumers
            .iter()
            .all(|consumer| consumer.certificate_sha256.is_none())
    );
    let page = admin.get("/dashboard/keys").await;
    assert!(page.text.contains(r#"<span class="badge no">revoked"#), "{}", page.text);

    // The client CA on the Certificates page, refused naming its input, then uploaded.
    let refused = admin
        .submit(
            "/dashboard/client-cas",
            &[("ca_name", "partners"), ("ca_pem", "-----BEGIN NOTHING-----")],
        )
        .await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{}", refused.text);
    assert!(!field_error(&refused.text, "ca_pem").is_empty(), "{}", refused.text);
    let saved = admin
        .submit(
            "/dashboard/client-cas",
            &[("ca_name", "partners"), ("ca_pem", &pki.ca_pem())],
        )
        .await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.text);
    let page = admin.get("/dashboard/certificates").await;
    assert!(page.text.contains("CN=Consumer CA"), "{}", page.text);

    // The API form's checkbox.
    let saved = admin
        .submit(
            "/dashboard/apis",
            &[
                ("name", "orders"),
                ("path_prefix", "/orders"),
                ("targets", "http://127.0.0.1:9000 100"),
                ("client_certificate", "on"),
            ],
        )
        .await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.text);
    let api = app.viewer("GET", "/api/v1/apis/orders", None).await;
    assert_eq!(api.json["authentication"]["client_certificate"], true, "{}", api.text);
    let form = admin.get("/dashboard/apis/orders/edit").await;
    assert!(
        form.text.contains(r#"name="client_certificate" value="on" checked"#),
        "{}",
        form.text
    );
    let shown = admin.get("/dashboard/apis/orders").await;
    assert!(shown.text.contains("client certificates"), "{}", shown.text);
}
