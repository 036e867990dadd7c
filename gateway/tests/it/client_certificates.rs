//! Client certificates as a consumer credential, with real clients: a CA for the TLS listener
//! and one for consumers made here (`rcgen`), a gateway started as `gatehouse gateway` starts
//! one, and curl presenting certificates (`--cert`/`--key`) to it.

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::{Value, json};

use crate::support::{key_hash, metric_sum};
use crate::tls::{Pki, run, scratch, tls_gateway};
use crate::upstream::Upstream;

/// What curl got: the status, the response headers (lower-cased names) and the body.
struct Answer {
    status: String,
    headers: Vec<(String, String)>,
    body: String,
}

impl Answer {
    fn header(&self, name: &str) -> &str {
        self.headers
            .iter()
            .find(|(key, _)| key == name)
            .map_or("", |(_, value)| value.as_str())
    }

    fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|error| panic!("{error}: {}", self.body))
    }
}

/// A client's certificate and key written to files, for `curl --cert/--key`.
#[derive(Clone)]
struct ClientFiles {
    certificate: PathBuf,
    key: PathBuf,
}

fn write_client(dir: &Path, name: &str, (chain, key): &(String, String)) -> ClientFiles {
    let files = ClientFiles {
        certificate: dir.join(format!("{name}.crt")),
        key: dir.join(format!("{name}.key")),
    };
    std::fs::write(&files.certificate, chain).unwrap();
    std::fs::write(&files.key, key).unwrap();
    files
}

/// The certificate's SHA-256 fingerprint as `openssl x509` computes it, in the snapshot's form
/// (lower-case hex, no colons): an implementation apart from the gateway's.
fn openssl_fingerprint(certificate: &Path) -> String {
    let output = run(
        "openssl",
        &[
            "x509",
            "-noout",
            "-fingerprint",
            "-sha256",
            "-in",
            certificate.to_str().unwrap(),
        ],
        None,
    );
    let text = String::from_utf8_lossy(&output.stdout);
    let (_, hex) = text.trim().split_once('=').unwrap_or_else(|| panic!("{text}"));
    hex.replace(':', "").to_ascii_lowercase()
}

/// `curl` over TLS to `edge.test` (resolved to loopback), trusting `ca`, with `extra` arguments.
fn curl(port: u16, path: &str, ca: &Path, client: Option<&ClientFiles>, extra: &[&str]) -> Answer {
    let resolve = format!("edge.test:{port}:127.0.0.1");
    let url = format!("https://edge.test:{port}{path}");
    let mut args = vec!["-sS", "-i", "--resolve", &resolve, "--cacert", ca.to_str().unwrap()];
    let (certificate, key);
    if let Some(client) = client {
        certificate = client.certificate.display().to_string();
        key = client.key.display().to_string();
        args.extend_from_slice(&["--cert", &certificate, "--key", &key]);
    }
    args.extend_from_slice(extra);
    args.push(&url);
    let output = run("curl", &args, None);
    let out = String::from_utf8_lossy(&output.stdout).to_string();
    if !output.status.success() {
        return Answer {
            status: "000".into(),
            headers: Vec::new(),
            body: String::from_utf8_lossy(&output.stderr).to_string(),
        };
    }
    let (head, body) = out.split_once("\r\n\r\n").unwrap_or((&out, ""));
    let mut lines = head.lines();
    let status = lines
        .next()
        .and_then(|line| line.split_whitespace().nth(1))
        .unwrap_or("")
        .to_owned();
    let headers = lines
        .filter_map(|line| line.split_once(':'))
        .map(|(name, value)| (name.trim().to_ascii_lowercase(), value.trim().to_owned()))
        .collect();
    Answer {
        status,
        headers,
        body: body.to_owned(),
    }
}

/// Three APIs that take client certificates besides keys: `orders` (staff, unlimited),
/// `limited` (staff, 2 requests a minute per application) and `reports` (auditors only).
/// Alice's application has a certificate and a key; Bob has a key.
fn snapshot(upstream: &str, client_ca: &str, server: &(String, String), alice_fingerprint: Option<&str>) -> Value {
    let takes_certificates = json!({ "client_certificate": true, "jwt": false });
    let mut consumers = vec![
        json!({ "key_hash": key_hash("k-alice"), "key_id": "key_alice", "user": "alice",
                "application": "alice/app", "groups": ["staff"] }),
        json!({ "key_hash": key_hash("k-bob"), "key_id": "key_bob", "user": "bob",
                "application": "bob/app", "groups": ["staff"] }),
    ];
    if let Some(fingerprint) = alice_fingerprint {
        consumers.push(
            json!({ "certificate_sha256": fingerprint, "key_id": "cert_alice", "user": "alice",
                               "application": "alice/app", "groups": ["staff"] }),
        );
    }
    json!({
        "format": 1,
        "apis": [
            { "name": "orders", "path_prefix": "/orders", "authentication": takes_certificates,
              "upstream": { "targets": [{ "url": upstream }] } },
            { "name": "limited", "path_prefix": "/limited", "authentication": takes_certificates,
              "upstream": { "targets": [{ "url": upstream }] } },
            { "name": "reports", "path_prefix": "/reports", "authentication": takes_certificates,
              "upstream": { "targets": [{ "url": upstream }] } }
        ],
        "plans": [
            { "name": "open" },
            { "name": "two", "rate_limit": { "requests": 2, "window_seconds": 60 }, "limit_by": "application" }
        ],
        "consumers": consumers,
        "access_rules": [
            { "policy": "staff-orders", "groups": ["staff"], "api": "orders", "plan": "open" },
            { "policy": "staff-limited", "groups": ["staff"], "api": "limited", "plan": "two" },
            { "policy": "auditors", "groups": ["auditors"], "api": "reports", "plan": "open" }
        ],
        "tls": {
            "certificates": [{ "name": "edge", "chain_pem": server.0, "key_pem": server.1 }],
            "client_ca_pem": client_ca
        }
    })
}

#[tokio::test(flavor = "multi_thread")]
async fn a_consumer_authenticated_by_client_certificate() {
    let dir = scratch("consumer-mtls");
    let server_pki = Pki::new("Gatehouse Test CA");
    let consumers = Pki::new("Consumer CA");
    let server = server_pki.issue("edge.test", &["edge.test"]);
    let ca = dir.join("ca.pem");
    std::fs::write(&ca, server_pki.ca_pem()).unwrap();
    let alice = write_client(&dir, "alice", &consumers.issue("alice", &[]));
    let carol = write_client(&dir, "carol", &consumers.issue("carol", &[]));
    let mallory = write_client(&dir, "mallory", &Pki::new("Other CA").issue("alice", &[]));
    let fingerprint = openssl_fingerprint(&alice.certificate);
    let carol_fingerprint = openssl_fingerprint(&carol.certificate);
    let upstream = Upstream::start("orders").await;
    let document = snapshot(&upstream.url(), &consumers.ca_pem(), &server, Some(&fingerprint));
    let (gateway, port) = tls_gateway(&dir, &document, None).await;

    let (ca_path, p, alice_files) = (ca.clone(), port, alice.clone());
    let answers = tokio::task::spawn_blocking(move || {
        let get = |path: &str, client: Option<&ClientFiles>, extra: &[&str]| curl(p, path, &ca_path, client, extra);
        (
            get("/orders/1", Some(&alice), &[]),
            get("/orders/1", Some(&alice), &["--http1.1"]),
            get("/orders/1", None, &[]),
            get("/orders/1", Some(&carol), &[]),
            get("/orders/1", Some(&mallory), &[]),
            get("/reports/1", Some(&alice), &[]),
            // A key in the request is the credential, whatever certificate the connection has.
            get("/orders/1", Some(&alice), &["-H", "x-api-key: k-bob"]),
            get("/orders/1", Some(&alice), &["-H", "x-api-key: k-nobody"]),
        )
    })
    .await
    .unwrap();
    let (accepted, http1, missing, unknown, stranger, denied, with_key, bad_key) = answers;

    // Accepted: the upstream sees the certificate's consumer, as it would a key's.
    assert_eq!(accepted.status, "200", "{}", accepted.body);
    let seen = accepted.json();
    assert_eq!(seen["headers"]["x-gatehouse-user"], "alice", "{seen}");
    assert_eq!(seen["headers"]["x-gatehouse-application"], "alice/app", "{seen}");
    assert_eq!(http1.status, "200", "{}", http1.body);

    // No certificate on the connection: 401, and the challenge lists what the API takes.
    assert_eq!(missing.status, "401", "{}", missing.body);
    assert_eq!(missing.header("content-type"), "application/problem+json");
    assert_eq!(missing.json()["rule"], "client_certificate_missing");
    assert!(
        missing.json()["detail"]
            .as_str()
            .unwrap()
            .contains("none was presented in the TLS handshake"),
        "{}",
        missing.body
    );
    assert_eq!(
        missing.header("www-authenticate"),
        r#"ApiKey realm="gatehouse", header="x-api-key", ClientCertificate realm="gatehouse""#
    );

    // Signed by the client CA but registered to no one: 401 naming its fingerprint.
    assert_eq!(unknown.status, "401", "{}", unknown.body);
    let problem = unknown.json();
    assert_eq!(problem["rule"], "client_certificate_unknown");
    assert!(
        problem["detail"].as_str().unwrap().contains(&carol_fingerprint),
        "{problem}"
    );
    assert!(problem["detail"].as_str().unwrap().contains("CN=carol"), "{problem}");
    assert!(unknown.header("www-authenticate").contains("ClientCertificate"));

    // From another CA: the handshake itself fails (the listener verifies every certificate it
    // is shown), so no request is ever made, whatever the subject says.
    assert_eq!(stranger.status, "000", "{}", stranger.body);

    // Access and plans apply to the certificate's consumer as to a key's.
    assert_eq!(denied.status, "403", "{}", denied.body);
    assert_eq!(denied.json()["rule"], "access_denied");
    assert!(
        denied.json()["detail"].as_str().unwrap().contains("group `staff`"),
        "{}",
        denied.body
    );

    // Precedence: Bob's key wins over Alice's certificate; a bad key is refused as such.
    assert_eq!(with_key.status, "200", "{}", with_key.body);
    assert_eq!(with_key.json()["headers"]["x-gatehouse-user"], "bob");
    assert_eq!(bad_key.status, "401", "{}", bad_key.body);
    assert_eq!(bad_key.json()["rule"], "api_key_unknown");

    // Plain HTTP cannot carry a certificate, and says so.
    let plain = crate::support::client()
        .get(gateway.url("/orders/1"))
        .send()
        .await
        .unwrap();
    assert_eq!(plain.status(), 401);
    let problem: Value = plain.json().await.unwrap();
    assert_eq!(problem["rule"], "client_certificate_missing");
    assert!(problem["detail"].as_str().unwrap().contains("plain-HTTP"), "{problem}");

    // A plan limited per application counts Alice's key and certificate together.
    let (ca_path, p, alice) = (ca.clone(), port, alice_files.clone());
    let limited = tokio::task::spawn_blocking(move || {
        (
            curl(p, "/limited/1", &ca_path, None, &["-H", "x-api-key: k-alice"]),
            curl(p, "/limited/1", &ca_path, Some(&alice), &[]),
            curl(p, "/limited/1", &ca_path, Some(&alice), &[]),
            // Bob's application has its own count.
            curl(p, "/limited/1", &ca_path, None, &["-H", "x-api-key: k-bob"]),
        )
    })
    .await
    .unwrap();
    assert_eq!(limited.0.status, "200", "{}", limited.0.body);
    assert_eq!(limited.1.status, "200", "{}", limited.1.body);
    assert_eq!(limited.2.status, "429", "{}", limited.2.body);
    assert_eq!(limited.2.json()["rule"], "rate_limited");
    assert!(limited.2.json()["detail"].as_str().unwrap().contains("plan `two`"));
    assert!(!limited.2.header("retry-after").is_empty(), "{:?}", limited.2.headers);
    assert_eq!(limited.3.status, "200", "{}", limited.3.body);

    // The metrics tell the certificate's consumer and application, as for a key.
    let metrics = gateway.metrics().await;
    let alice_series = |status: &str| {
        metric_sum(
            &metrics,
            "http_server_request_duration_seconds_count",
            &[
                ("gatehouse_consumer", "alice"),
                ("gatehouse_application", "alice/app"),
                ("http_response_status_code", status),
            ],
        )
    };
    assert_eq!(alice_series("200"), 4.0, "{metrics}");
    assert_eq!(alice_series("403"), 1.0, "{metrics}");
    assert_eq!(alice_series("429"), 1.0, "{metrics}");
    let refusals = |rule: &str| {
        metric_sum(
            &metrics,
            "http_server_request_duration_seconds_count",
            &[("gatehouse_refusal", rule)],
        )
    };
    assert_eq!(refusals("client_certificate_missing"), 2.0, "{metrics}");
    assert_eq!(refusals("client_certificate_unknown"), 1.0, "{metrics}");

    // Unregistered in a new snapshot: the next request with the certificate is refused.
    let revoked = snapshot(&upstream.url(), &consumers.ca_pem(), &server, None);
    std::fs::write(dir.join("snapshot.json"), revoked.to_string()).unwrap();
    let mut status = String::new();
    for _ in 0..50 {
        let (ca_path, p, alice) = (ca.clone(), port, alice_files.clone());
        let answer = tokio::task::spawn_blocking(move || curl(p, "/orders/1", &ca_path, Some(&alice), &[]))
            .await
            .unwrap();
        status = answer.status.clone();
        if status == "401" {
            assert_eq!(answer.json()["rule"], "client_certificate_unknown");
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(status, "401", "the unregistered certificate is refused");
    let _ = std::fs::remove_dir_all(&dir);
}
