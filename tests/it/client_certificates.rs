//! Client certificates as a consumer credential, as deployed: `gatehouse up` with a TLS listener
//! (auto-publishing every change), a client CA, an API that takes certificates and an
//! application's certificate set up through the REST API, and curl presenting the certificate
//! (`--cert`/`--key`) to the gateway: served as the application, refused without a certificate,
//! and refused once the certificate is revoked.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::support::{ADMIN_PASSWORD, Hub, TempDir, up_on_free_ports};

/// A CA: its certificate, and leaves it signs.
struct Pki {
    issuer: rcgen::CertifiedIssuer<'static, rcgen::KeyPair>,
}

impl Pki {
    fn new(name: &str) -> Pki {
        let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
        params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        params.distinguished_name.push(rcgen::DnType::CommonName, name);
        let issuer = rcgen::CertifiedIssuer::self_signed(params, rcgen::KeyPair::generate().unwrap()).unwrap();
        Pki { issuer }
    }

    /// (certificate PEM, key PEM) for `CN=<common_name>` and `names`.
    fn issue(&self, common_name: &str, names: &[&str]) -> (String, String) {
        let mut params =
            rcgen::CertificateParams::new(names.iter().map(|name| name.to_string()).collect::<Vec<_>>()).unwrap();
        params.distinguished_name = rcgen::DistinguishedName::new();
        params.distinguished_name.push(rcgen::DnType::CommonName, common_name);
        let key = rcgen::KeyPair::generate().unwrap();
        let certificate = params.signed_by(&key, &self.issuer).unwrap();
        (certificate.pem(), key.serialize_pem())
    }
}

struct Admin {
    client: reqwest::Client,
    origin: String,
    token: String,
}

impl Admin {
    /// The status and JSON body of an admin API call.
    async fn call(&self, method: &str, path: &str, body: Value) -> (u16, Value) {
        let request = self
            .client
            .request(method.parse().unwrap(), format!("{}/api/v1{path}", self.origin))
            .bearer_auth(&self.token);
        let request = if body.is_null() { request } else { request.json(&body) };
        let response = request.send().await.unwrap();
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    async fn ok(&self, method: &str, path: &str, body: Value) -> Value {
        let (status, answer) = self.call(method, path, body).await;
        assert!((200..300).contains(&status), "{method} {path}: {status} {answer}");
        answer
    }
}

/// `curl https://orders.test:PORT/orders/1`, trusting `ca`, with a client certificate when given:
/// (status, body).
fn curl(port: u16, ca: &Path, certificate: Option<(&Path, &Path)>) -> (String, String) {
    let mut command = Command::new("curl");
    command
        .args(["-s", "-w", "\n%{http_code}"])
        .args(["--resolve", &format!("orders.test:{port}:127.0.0.1"), "--cacert"])
        .arg(ca);
    if let Some((certificate, key)) = certificate {
        command.arg("--cert").arg(certificate).arg("--key").arg(key);
    }
    let output = command
        .arg(format!("https://orders.test:{port}/orders/1"))
        .output()
        .expect("curl is installed");
    let text = String::from_utf8_lossy(&output.stdout).into_owned();
    let (body, status) = text.rsplit_once('\n').unwrap_or(("", &text));
    (status.to_owned(), body.to_owned())
}

/// Runs `check` until it returns `Some`, for at most 30 s (each change is published, then
/// reaches the gateway).
async fn eventually<T>(what: &str, mut check: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Some(value) = check() {
            return value;
        }
        assert!(Instant::now() < deadline, "{what} within 30 s");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

// Multi-threaded: curl runs blocking, and the upstream must answer meanwhile.
#[tokio::test(flavor = "multi_thread")]
async fn a_certificate_registered_through_the_hub_authenticates_its_application_at_the_gateway() {
    let data = TempDir::new();
    let mut command = up_on_free_ports(&data.path().join("up"));
    command.args(["--tls-listen", "127.0.0.1:0"]);
    let mut up = Hub::start(command);
    let tls_line = up.wait_for_stdout_line(|line| line.starts_with("gateway TLS"));
    let port: u16 = tls_line.rsplit(':').next().unwrap().trim().parse().unwrap();
    let admin = Admin {
        client: reqwest::Client::new(),
        origin: up.origin.clone(),
        token: up.issue_admin_token("admin", ADMIN_PASSWORD).await,
    };
    // The upstream answers with who the gateway says is calling.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let upstream = format!("http://{}", listener.local_addr().unwrap());
    let app = axum::Router::new().fallback(|headers: axum::http::HeaderMap| async move {
        let header = |name: &str| {
            headers
                .get(name)
                .and_then(|value| value.to_str().ok())
                .unwrap_or("")
                .to_owned()
        };
        axum::Json(json!({ "user": header("x-gatehouse-user"), "application": header("x-gatehouse-application") }))
    });
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });

    let server_pki = Pki::new("Edge CA");
    let clients = Pki::new("Partners CA");
    let (server_chain, server_key) = server_pki.issue("orders.test", &["orders.test"]);
    admin
        .ok(
            "POST",
            "/certificates",
            json!({ "name": "orders", "chain_pem": server_chain, "key_pem": server_key }),
        )
        .await;
    admin
        .ok(
            "POST",
            "/client-cas",
            json!({ "name": "partners", "ca_pem": clients.issuer.pem() }),
        )
        .await;
    admin.ok("POST", "/apis", json!({ "name": "orders", "route": { "path_prefix": "/orders" }, "upstream": { "targets": [{ "url": upstream }] }, "authentication": { "client_certificate": true } })).await;
    admin.ok("POST", "/groups", json!({ "name": "partners" })).await;
    admin
        .ok(
            "POST",
            "/plans",
            json!({ "name": "gold", "rate_limit": { "requests": 1000, "window_seconds": 1 } }),
        )
        .await;
    admin
        .ok(
            "POST",
            "/access-policies",
            json!({ "name": "partners-orders", "groups": ["partners"], "plan": "gold", "apis": [{ "api": "orders" }] }),
        )
        .await;
    admin
        .ok("POST", "/users", json!({ "name": "pia", "groups": ["partners"] }))
        .await;
    let application = admin
        .ok("POST", "/applications", json!({ "name": "till", "owner": "pia" }))
        .await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let certificates = format!("/applications/{application}/certificates");

    // The hub refuses the certificate with its key, naming the field, and keeps nothing.
    let (client_chain, client_key) = clients.issue("till.pia", &[]);
    let (status, problem) = admin
        .call(
            "POST",
            &certificates,
            json!({ "name": "till", "certificate_pem": format!("{client_chain}{client_key}") }),
        )
        .await;
    assert_eq!(status, 422, "{problem}");
    assert_eq!(problem["errors"][0]["field"], "certificate_pem", "{problem}");
    let registered = admin
        .ok(
            "POST",
            &certificates,
            json!({ "name": "till", "certificate_pem": client_chain }),
        )
        .await;
    assert_eq!(registered["subject"], "CN=till.pia", "{registered}");
    let certificate_id = registered["id"].as_str().unwrap().to_owned();

    let files = data.path();
    let (ca, certificate, key) = (files.join("ca.pem"), files.join("till.crt"), files.join("till.key"));
    std::fs::write(&ca, server_pki.issuer.pem()).unwrap();
    std::fs::write(&certificate, &client_chain).unwrap();
    std::fs::write(&key, &client_key).unwrap();

    // Served as the certificate's application, once the auto-published revision is applied.
    let body = eventually("the certificate is accepted", || {
        let (status, body) = curl(port, &ca, Some((&certificate, &key)));
        (status == "200").then_some(body)
    })
    .await;
    let seen: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(seen, json!({ "user": "pia", "application": "pia/till" }));
    // Without it: 401, saying so.
    let (status, body) = curl(port, &ca, None);
    assert_eq!(status, "401", "{body}");
    let problem: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(problem["rule"], "client_certificate_missing", "{problem}");

    // Revoked through the hub: refused at the gateway once published.
    admin
        .ok("POST", &format!("{certificates}/{certificate_id}/revoke"), Value::Null)
        .await;
    let body = eventually("the revoked certificate is refused", || {
        let (status, body) = curl(port, &ca, Some((&certificate, &key)));
        (status == "401").then_some(body)
    })
    .await;
    let problem: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(problem["rule"], "client_certificate_unknown", "{problem}");
    drop(up);
}
