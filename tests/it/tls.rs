//! TLS at the edge through the hub, as deployed: a certificate uploaded through the REST API and
//! published is served by a `gatehouse gateway` process following the hub on its TLS listener
//! (checked with curl and `openssl s_client`); a replacement swaps in on the next handshake; the
//! gateway's `/config` and metrics show it, its key redacted; the fleet view lists what the
//! gateway reports holding, and flags the replacement that expires in ten days.

use std::process::Command;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::support::{ADMIN_PASSWORD, Hub, TempDir, gatehouse, hub_on_sqlite, url_on};

/// A CA and a leaf it signs for `names`: (CA PEM, chain PEM, key PEM).
fn signed(common_name: &str, names: &[&str]) -> (String, String, String) {
    signed_until(common_name, names, None)
}

/// The same, the leaf valid until midnight UTC `days` from today where given (else rcgen's
/// far-off default).
fn signed_until(common_name: &str, names: &[&str], days: Option<i64>) -> (String, String, String) {
    let mut ca = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
    ca.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    ca.distinguished_name.push(rcgen::DnType::CommonName, "Binary Test CA");
    let issuer = rcgen::CertifiedIssuer::self_signed(ca, rcgen::KeyPair::generate().unwrap()).unwrap();
    let mut leaf =
        rcgen::CertificateParams::new(names.iter().map(|name| name.to_string()).collect::<Vec<_>>()).unwrap();
    leaf.distinguished_name = rcgen::DistinguishedName::new();
    leaf.distinguished_name.push(rcgen::DnType::CommonName, common_name);
    if let Some(days) = days {
        use chrono::Datelike as _;
        let until = chrono::Utc::now() + chrono::Duration::days(days);
        leaf.not_after = rcgen::date_time_ymd(until.year(), until.month() as u8, until.day() as u8);
    }
    let key = rcgen::KeyPair::generate().unwrap();
    let certificate = leaf.signed_by(&key, &issuer).unwrap();
    (issuer.pem(), certificate.pem(), key.serialize_pem())
}

struct Admin {
    client: reqwest::Client,
    origin: String,
    token: String,
}

impl Admin {
    async fn ok(&self, method: &str, path: &str, body: Value) -> Value {
        let request = self
            .client
            .request(method.parse().unwrap(), format!("{}/api/v1{path}", self.origin))
            .bearer_auth(&self.token);
        let request = if body.is_null() { request } else { request.json(&body) };
        let response = request.send().await.unwrap();
        let status = response.status().as_u16();
        let answer = response.json().await.unwrap_or(Value::Null);
        assert!((200..300).contains(&status), "{method} {path}: {status} {answer}");
        answer
    }
}

/// The subject `openssl s_client` saw for `server_name` on `port`, as `CN=…`.
fn served_subject(port: u16, server_name: &str) -> String {
    let output = Command::new("openssl")
        .args([
            "s_client",
            "-connect",
            &format!("127.0.0.1:{port}"),
            "-servername",
            server_name,
        ])
        .stdin(std::process::Stdio::null())
        .output()
        .expect("openssl is installed");
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .find_map(|line| line.strip_prefix("subject="))
        .unwrap_or_default()
        .replace(" = ", "=")
}

/// `curl` to `https://shop.test:PORT/shop/items`, trusting `ca`; the status code.
fn curl(port: u16, ca: &std::path::Path, key: &str) -> String {
    let output = Command::new("curl")
        .args(["-s", "-o", "/dev/null", "-w", "%{http_code}"])
        .args(["--resolve", &format!("shop.test:{port}:127.0.0.1"), "--cacert"])
        .arg(ca)
        .args(["-H", &format!("x-api-key: {key}")])
        .arg(format!("https://shop.test:{port}/shop/items"))
        .output()
        .expect("curl is installed");
    String::from_utf8_lossy(&output.stdout).into_owned()
}

async fn eventually(what: &str, mut check: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while !check() {
        assert!(Instant::now() < deadline, "{what} within 30 s");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

// Multi-threaded: curl and openssl run blocking, and the upstream must answer meanwhile.
#[tokio::test(flavor = "multi_thread")]
async fn a_certificate_uploaded_to_the_hub_is_served_by_a_following_gateway() {
    let data = TempDir::new();
    let hub = Hub::start(hub_on_sqlite(&data.path().join("hub")));
    let admin = Admin {
        client: reqwest::Client::new(),
        origin: hub.origin.clone(),
        token: hub.issue_admin_token("admin", ADMIN_PASSWORD).await,
    };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let upstream = format!("http://{}", listener.local_addr().unwrap());
    let app = axum::Router::new().fallback(|| async { "items" });
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });

    admin.ok("POST", "/apis", json!({ "name": "shop", "route": { "path_prefix": "/shop" }, "upstream": { "targets": [{ "url": upstream }] }, "https_redirect": true })).await;
    admin.ok("POST", "/groups", json!({ "name": "buyers" })).await;
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
            json!({ "name": "buyers-shop", "groups": ["buyers"], "plan": "gold", "apis": [{ "api": "shop" }] }),
        )
        .await;
    admin
        .ok("POST", "/users", json!({ "name": "bea", "groups": ["buyers"] }))
        .await;
    let application = admin
        .ok("POST", "/applications", json!({ "name": "till", "owner": "bea" }))
        .await;
    let key = admin
        .ok(
            "POST",
            &format!("/applications/{}/keys", application["id"].as_str().unwrap()),
            json!({ "name": "ci" }),
        )
        .await["secret"]
        .as_str()
        .unwrap()
        .to_owned();
    let (ca, chain, private_key) = signed("shop.test", &["shop.test"]);
    let created = admin
        .ok(
            "POST",
            "/certificates",
            json!({ "name": "shop", "chain_pem": chain, "key_pem": private_key }),
        )
        .await;
    assert_eq!(created["subject"], "CN=shop.test");
    assert!(created.get("key_pem").is_none(), "{created}");
    admin.ok("POST", "/revisions", json!({ "message": "tls" })).await;

    admin.ok("POST", "/gateways", json!({ "name": "edge-1" })).await;
    let token = admin
        .ok("POST", "/gateways/edge-1/tokens", json!({ "name": "edge-1" }))
        .await;
    let mut command = gatehouse();
    command
        .args([
            "gateway",
            "--hub",
            &hub.origin,
            "--token",
            token["secret"].as_str().unwrap(),
        ])
        .arg("--data-dir")
        .arg(data.path().join("gateway"))
        .args([
            "--gateway-listen",
            "127.0.0.1:0",
            "--gateway-admin-listen",
            "127.0.0.1:0",
        ])
        .args(["--tls-listen", "127.0.0.1:0"]);
    let mut gateway = Hub::start_role(command, "gateway ");
    let tls_line = gateway.wait_for_stdout_line(|line| line.starts_with("gateway TLS"));
    let port: u16 = tls_line.rsplit(':').next().unwrap().trim().parse().unwrap();
    let admin_url = url_on(&gateway.wait_for_stdout_line(|line| line.starts_with("gateway admin")));
    let plain = gateway.origin.clone();

    let ca_file = data.path().join("ca.pem");
    std::fs::write(&ca_file, &ca).unwrap();
    eventually("the published certificate is served", || {
        curl(port, &ca_file, &key) == "200"
    })
    .await;
    assert_eq!(served_subject(port, "shop.test"), "CN=shop.test");

    // Plain HTTP to the API redirects to the TLS listener.
    let redirect = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
        .get(format!("{plain}/shop/items"))
        .header("x-api-key", &key)
        .send()
        .await
        .unwrap();
    assert_eq!(redirect.status(), 308);
    assert_eq!(
        redirect.headers()["location"],
        format!("https://127.0.0.1:{port}/shop/items").as_str()
    );

    // The gateway's /config shows the certificate without its key; the metric its expiry.
    let config = reqwest::get(format!("{admin_url}/config"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(config.contains("\"name\":\"shop\""), "{config}");
    assert!(!config.contains("PRIVATE KEY"), "{config}");
    let metrics = reqwest::get(format!("{admin_url}/metrics"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        metrics.contains("gatehouse_tls_certificate_expiry_seconds{gatehouse_certificate=\"shop\"}"),
        "{metrics}"
    );

    // The gateway reports what its listener holds: the fleet lists the certificate, not expiring.
    let fleet = eventually_fleet(&admin, |certificates| {
        certificates
            .first()
            .is_some_and(|certificate| certificate["name"] == "shop")
    })
    .await;
    assert_eq!(fleet["hosts"], json!(["shop.test"]), "{fleet}");
    assert_eq!(fleet["expiring"], false, "{fleet}");

    // A replacement valid for ten more days, published, serves the next handshakes, and the fleet
    // flags it: the gateway reports the new one as soon as it applies.
    let (new_ca, new_chain, new_key) = signed_until("shop-renewed.test", &["shop.test"], Some(10));
    admin
        .ok(
            "PUT",
            "/certificates/shop",
            json!({ "name": "shop", "chain_pem": new_chain, "key_pem": new_key }),
        )
        .await;
    admin.ok("POST", "/revisions", json!({ "message": "renew" })).await;
    eventually("the renewed certificate is served", || {
        served_subject(port, "shop.test") == "CN=shop-renewed.test"
    })
    .await;
    std::fs::write(&ca_file, &new_ca).unwrap();
    assert_eq!(curl(port, &ca_file, &key), "200");
    let renewed = eventually_fleet(&admin, |certificates| {
        certificates
            .first()
            .is_some_and(|certificate| certificate["expiring"] == true)
    })
    .await;
    let days_left = renewed["days_left"].as_i64().unwrap();
    assert!((9..=10).contains(&days_left), "{renewed}");
    let _ = ca;
}

/// The first certificate edge-1 reports once `settled` holds of its list, waiting at most 10 s.
async fn eventually_fleet(admin: &Admin, settled: impl Fn(&[Value]) -> bool) -> Value {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let fleet = admin.ok("GET", "/fleet", Value::Null).await;
        let certificates = fleet[0]["certificates"].as_array().cloned().unwrap_or_default();
        if settled(&certificates) {
            return certificates[0].clone();
        }
        assert!(
            Instant::now() < deadline,
            "the fleet did not show the certificate: {fleet}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
