//! TLS at the edge, with real clients: certificates made here (`rcgen`), a gateway started as
//! `gatehouse gateway` starts one, and curl, `openssl s_client` and h2load against it.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Duration;

use serde_json::{Value, json};

use crate::support::TestGateway;
use crate::upstream::Upstream;

/// A test CA and the certificates it signs (ECDSA P-256).
pub struct Pki {
    issuer: rcgen::CertifiedIssuer<'static, rcgen::KeyPair>,
}

impl Pki {
    pub fn new(name: &str) -> Pki {
        let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
        params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        params.distinguished_name.push(rcgen::DnType::CommonName, name);
        let issuer = rcgen::CertifiedIssuer::self_signed(params, rcgen::KeyPair::generate().unwrap()).unwrap();
        Pki { issuer }
    }

    pub fn ca_pem(&self) -> String {
        self.issuer.pem()
    }

    /// A certificate with subject `CN=<common_name>` for `names`: (chain PEM, key PEM).
    pub fn issue(&self, common_name: &str, names: &[&str]) -> (String, String) {
        let names: Vec<String> = names.iter().map(|name| name.to_string()).collect();
        let mut params = rcgen::CertificateParams::new(names).unwrap();
        params.distinguished_name = rcgen::DistinguishedName::new();
        params.distinguished_name.push(rcgen::DnType::CommonName, common_name);
        let key = rcgen::KeyPair::generate().unwrap();
        let certificate = params.signed_by(&key, &self.issuer).unwrap();
        (certificate.pem(), key.serialize_pem())
    }
}

/// A fresh directory for one test's files.
pub fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("gatehouse-tls-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Writes `NAME.crt`/`NAME.key`, each by a rename, so the watcher never reads half a file.
fn write_pair(dir: &Path, name: &str, (chain, key): &(String, String)) {
    for (extension, text) in [("key", key), ("crt", chain)] {
        let temporary = dir.join(format!(".{name}.{extension}.tmp"));
        std::fs::write(&temporary, text).unwrap();
        std::fs::rename(&temporary, dir.join(format!("{name}.{extension}"))).unwrap();
    }
}

fn api_snapshot(upstream: &str, tls: Option<Value>) -> Value {
    let mut snapshot = json!({
        "format": 1,
        "apis": [
            {"name": "pets", "path_prefix": "/pets", "upstream": {"targets": [{"url": upstream}]}},
            {"name": "secure", "path_prefix": "/secure", "https_redirect": true,
             "upstream": {"targets": [{"url": upstream}]}}
        ],
        "plans": [{"name": "open"}],
        "consumers": [{"key_hash": crate::support::key_hash("k"), "key_id": "k1", "user": "u",
                       "application": "u/app", "groups": ["all"]}],
        "access_rules": [
            {"policy": "all", "groups": ["all"], "api": "pets", "plan": "open"},
            {"policy": "all", "groups": ["all"], "api": "secure", "plan": "open"}
        ]
    });
    if let Some(tls) = tls {
        snapshot["tls"] = tls;
    }
    snapshot
}

/// A gateway with a TLS listener, on `snapshot` (a file) and optionally a certificate directory.
pub async fn tls_gateway(dir: &Path, snapshot: &Value, cert_dir: Option<PathBuf>) -> (TestGateway, u16) {
    let file = dir.join("snapshot.json");
    std::fs::write(&file, snapshot.to_string()).unwrap();
    let config = gateway::config::GatewayConfig {
        snapshot: Some(file),
        data_dir: dir.join("data"),
        tls_listen: Some("127.0.0.1:0".parse().unwrap()),
        tls_cert_dir: cert_dir,
        reload_interval: Duration::from_millis(100),
        workers: 2,
        ..Default::default()
    };
    let gateway = TestGateway::from_config(config).await;
    let port = gateway.tls_address.expect("a TLS listener").port();
    (gateway, port)
}

pub fn run(program: &str, args: &[&str], stdin: Option<&str>) -> Output {
    use std::io::Write;
    let mut child = Command::new(program)
        .args(args)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap_or_else(|error| panic!("{program} must be installed: {error}"));
    let mut input = child.stdin.take().unwrap();
    input.write_all(stdin.unwrap_or("").as_bytes()).unwrap();
    drop(input);
    child.wait_with_output().unwrap()
}

fn text(output: &Output) -> String {
    format!(
        "{}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

/// `curl` over TLS to `host` (resolved to loopback), trusting `ca`: (status, HTTP version).
fn curl(port: u16, host: &str, path: &str, ca: &Path, extra: &[&str]) -> (String, String) {
    let resolve = format!("{host}:{port}:127.0.0.1");
    let url = format!("https://{host}:{port}{path}");
    let mut args = vec![
        "-sS",
        "-o",
        "/dev/null",
        "-w",
        "%{http_code} %{http_version}",
        "--resolve",
        &resolve,
        "--cacert",
        ca.to_str().unwrap(),
        "-H",
        "x-api-key: k",
    ];
    args.extend_from_slice(extra);
    args.push(&url);
    let output = run("curl", &args, None);
    let out = String::from_utf8_lossy(&output.stdout).to_string();
    let (status, version) = out.split_once(' ').unwrap_or((&out, ""));
    (status.to_owned(), version.to_owned())
}

/// `openssl s_client` to the TLS port with `args`; the whole output.
fn s_client(port: u16, args: &[&str]) -> (bool, String) {
    let connect = format!("127.0.0.1:{port}");
    let mut all = vec!["s_client", "-connect", &connect];
    all.extend_from_slice(args);
    let output = run("openssl", &all, Some("Q\n"));
    (output.status.success(), text(&output))
}

/// The subject line `openssl s_client` printed for the server's certificate, without the
/// spaces OpenSSL 3 puts around `=` (`subject=CN=edge.test`).
fn subject(output: &str) -> String {
    output
        .lines()
        .find(|line| line.starts_with("subject="))
        .unwrap_or_else(|| panic!("no subject in:\n{output}"))
        .replace(" = ", "=")
}

#[tokio::test(flavor = "multi_thread")]
async fn sni_alpn_and_versions_with_curl_openssl_and_h2load() {
    let dir = scratch("sni");
    let certs = dir.join("certs");
    std::fs::create_dir_all(&certs).unwrap();
    let pki = Pki::new("Gatehouse Test CA");
    write_pair(&certs, "api", &pki.issue("api.example.test", &["api.example.test"]));
    write_pair(&certs, "default", &pki.issue("fallback.test", &["fallback.test"]));
    write_pair(&certs, "wild", &pki.issue("wild.example.test", &["*.example.test"]));
    let ca = dir.join("ca.pem");
    std::fs::write(&ca, pki.ca_pem()).unwrap();
    let upstream = Upstream::start("pets").await;
    let (gateway, port) = tls_gateway(&dir, &api_snapshot(&upstream.url(), None), Some(certs)).await;

    // curl: h2 by ALPN, HTTP/1.1 when asked; the certificate verifies for each name.
    let (ca_path, p) = (ca.clone(), port);
    let checks = tokio::task::spawn_blocking(move || {
        (
            curl(p, "api.example.test", "/pets/1", &ca_path, &[]),
            curl(p, "api.example.test", "/pets/1", &ca_path, &["--http1.1"]),
            curl(p, "www.example.test", "/pets/1", &ca_path, &[]),
            // The wildcard covers one level only: the default certificate does not verify.
            curl(p, "a.b.example.test", "/pets/1", &ca_path, &[]),
        )
    })
    .await
    .unwrap();
    assert_eq!(checks.0, ("200".into(), "2".into()));
    assert_eq!(checks.1, ("200".into(), "1.1".into()));
    assert_eq!(checks.2, ("200".into(), "2".into()));
    assert_eq!(checks.3.0, "000", "no certificate is valid for a.b.example.test");

    // The upstream hears that the client came over https.
    let (ca_path, p) = (ca.clone(), port);
    let echoed = tokio::task::spawn_blocking(move || {
        let resolve = format!("api.example.test:{p}:127.0.0.1");
        let url = format!("https://api.example.test:{p}/pets/1");
        let args = [
            "-sS",
            "--resolve",
            &resolve,
            "--cacert",
            ca_path.to_str().unwrap(),
            "-H",
            "x-api-key: k",
            &url,
        ];
        serde_json::from_slice::<Value>(&run("curl", &args, None).stdout).unwrap()
    })
    .await
    .unwrap();
    assert_eq!(echoed["headers"]["x-forwarded-proto"], "https", "{echoed}");

    let p = port;
    let (exact, wildcard, no_sni, http1, tls12, tls11) = tokio::task::spawn_blocking(move || {
        (
            s_client(p, &["-servername", "api.example.test", "-alpn", "h2"]),
            s_client(p, &["-servername", "x.example.test", "-alpn", "h2"]),
            s_client(p, &["-noservername", "-alpn", "h2"]),
            s_client(p, &["-servername", "api.example.test", "-alpn", "http/1.1"]),
            s_client(p, &["-servername", "api.example.test", "-tls1_2"]),
            s_client(
                p,
                &[
                    "-servername",
                    "api.example.test",
                    "-tls1_1",
                    "-cipher",
                    "DEFAULT@SECLEVEL=0",
                ],
            ),
        )
    })
    .await
    .unwrap();
    // SNI picks the exact name, then the wildcard; no SNI gets the default certificate.
    assert!(subject(&exact.1).contains("CN=api.example.test"), "{}", exact.1);
    assert!(exact.1.contains("ALPN protocol: h2"), "{}", exact.1);
    assert!(subject(&wildcard.1).contains("CN=wild.example.test"), "{}", wildcard.1);
    assert!(subject(&no_sni.1).contains("CN=fallback.test"), "{}", no_sni.1);
    assert!(http1.1.contains("ALPN protocol: http/1.1"), "{}", http1.1);
    assert!(exact.1.contains("TLSv1.3"), "{}", exact.1);
    assert!(tls12.0 && tls12.1.contains("Protocol  : TLSv1.2"), "{}", tls12.1);
    // TLS 1.1 is refused: the handshake fails, no certificate is sent.
    assert!(!tls11.0, "{}", tls11.1);
    assert!(!tls11.1.contains("subject="), "{}", tls11.1);

    // h2load over TLS negotiates h2 and every request succeeds.
    let url = format!("https://127.0.0.1:{port}/pets/1");
    let h2load = tokio::task::spawn_blocking(move || {
        run(
            "h2load",
            &["-n", "200", "-c", "4", "-m", "4", "-H", "x-api-key: k", &url],
            None,
        )
    })
    .await
    .unwrap();
    let report = text(&h2load);
    assert!(report.contains("Application protocol: h2"), "{report}");
    assert!(report.contains("200 succeeded, 0 failed, 0 errored"), "{report}");
    assert!(report.contains("200 2xx"), "{report}");

    // The directory's certificates have their expiry on the admin port.
    let metrics = gateway.metrics().await;
    let expiry = crate::support::metric_sum(
        &metrics,
        "gatehouse_tls_certificate_expiry_seconds",
        &[("gatehouse_certificate", "api")],
    );
    assert!(expiry > 86_400.0 * 365.0, "{metrics}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test(flavor = "multi_thread")]
async fn the_snapshot_certificates_client_ca_and_https_redirect() {
    let dir = scratch("snapshot");
    let pki = Pki::new("Gatehouse Test CA");
    let clients = Pki::new("Consumer CA");
    let (chain, key) = pki.issue("edge.test", &["edge.test"]);
    let tls = json!({
        "certificates": [{"name": "edge", "chain_pem": chain, "key_pem": key}],
        "client_ca_pem": clients.ca_pem(),
    });
    let ca = dir.join("ca.pem");
    std::fs::write(&ca, pki.ca_pem()).unwrap();
    let upstream = Upstream::start("pets").await;
    let (gateway, port) = tls_gateway(&dir, &api_snapshot(&upstream.url(), Some(tls)), None).await;

    let client_pair = clients.issue("alice", &[]);
    let stranger_pair = Pki::new("Other CA").issue("mallory", &[]);
    for (name, pair) in [("alice", &client_pair), ("mallory", &stranger_pair)] {
        std::fs::write(dir.join(format!("{name}.crt")), &pair.0).unwrap();
        std::fs::write(dir.join(format!("{name}.key")), &pair.1).unwrap();
    }
    let (ca_path, p, d) = (ca.clone(), port, dir.clone());
    let (plain_tls, with_cert, stranger, requested) = tokio::task::spawn_blocking(move || {
        let cert = |name: &str| {
            (
                d.join(format!("{name}.crt")).display().to_string(),
                d.join(format!("{name}.key")).display().to_string(),
            )
        };
        let (alice_crt, alice_key) = cert("alice");
        let (mallory_crt, mallory_key) = cert("mallory");
        (
            curl(p, "edge.test", "/pets/1", &ca_path, &[]),
            curl(
                p,
                "edge.test",
                "/pets/1",
                &ca_path,
                &["--cert", &alice_crt, "--key", &alice_key],
            ),
            curl(
                p,
                "edge.test",
                "/pets/1",
                &ca_path,
                &["--cert", &mallory_crt, "--key", &mallory_key],
            ),
            s_client(p, &["-servername", "edge.test"]),
        )
    })
    .await
    .unwrap();
    // The snapshot's certificate serves; a client certificate is asked for, not required.
    assert_eq!(plain_tls.0, "200");
    assert_eq!(with_cert.0, "200");
    assert!(
        requested.1.contains("Acceptable client certificate CA names"),
        "{}",
        requested.1
    );
    assert!(
        requested.1.replace(" = ", "=").contains("\nCN=Consumer CA"),
        "{}",
        requested.1
    );
    assert!(subject(&requested.1).contains("CN=edge.test"), "{}", requested.1);
    // One the client CA did not sign fails the handshake.
    assert_eq!(stranger.0, "000");

    // /config shows the section with the key redacted.
    let config: Value = crate::support::client()
        .get(gateway.admin_url("/config"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let served = &config["tls"]["certificates"][0];
    assert_eq!(served["name"], "edge");
    assert_eq!(served["key_pem"], "(redacted)");
    assert!(!config.to_string().contains("PRIVATE KEY"), "{config}");
    assert!(served["chain_pem"].as_str().unwrap().contains("BEGIN CERTIFICATE"));
    let metrics = gateway.metrics().await;
    assert!(
        crate::support::metric_sum(
            &metrics,
            "gatehouse_tls_certificate_expiry_seconds",
            &[("gatehouse_certificate", "edge")]
        ) > 0.0,
        "{metrics}"
    );

    // Plain HTTP to an API with https_redirect: 308 to the TLS port, the path and query kept.
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let response = client
        .post(format!("http://{}/secure/orders?page=2", gateway.address))
        .header("host", "edge.test")
        .header("x-api-key", "k")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 308);
    assert_eq!(
        response.headers()["location"],
        format!("https://edge.test:{port}/secure/orders?page=2").as_str()
    );
    let problem: Value = response.json().await.unwrap();
    assert_eq!(problem["rule"], "https_required");
    let hits = upstream.hits();
    // Another API is served over plain HTTP as before; the redirected one over TLS.
    let plain = client
        .get(format!("http://{}/pets/1", gateway.address))
        .header("x-api-key", "k")
        .send()
        .await
        .unwrap();
    assert_eq!(plain.status(), 200);
    let (ca_path, p) = (ca.clone(), port);
    let secure = tokio::task::spawn_blocking(move || curl(p, "edge.test", "/secure/orders", &ca_path, &[]))
        .await
        .unwrap();
    assert_eq!(secure.0, "200");
    assert_eq!(upstream.hits(), hits + 2, "the 308 never reached the upstream");
    let metrics = gateway.metrics().await;
    assert_eq!(
        crate::support::metric_sum(
            &metrics,
            "http_server_request_duration_seconds_count",
            &[
                ("gatehouse_refusal", "https_required"),
                ("http_response_status_code", "308")
            ]
        ),
        1.0,
        "{metrics}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_certificate_swap_under_load_loses_no_request() {
    let dir = scratch("swap");
    let certs = dir.join("certs");
    std::fs::create_dir_all(&certs).unwrap();
    let pki = Pki::new("Gatehouse Test CA");
    write_pair(&certs, "edge", &pki.issue("edge-old", &["edge.test"]));
    let ca = dir.join("ca.pem");
    std::fs::write(&ca, pki.ca_pem()).unwrap();
    let upstream = Upstream::start("pets").await;
    let (_gateway, port) = tls_gateway(&dir, &api_snapshot(&upstream.url(), None), Some(certs.clone())).await;

    // Long-lived connections: h2load's 4 clients keep theirs for 4 seconds.
    let url = format!("https://127.0.0.1:{port}/pets/1");
    let load = tokio::task::spawn_blocking(move || {
        run(
            "h2load",
            &["-D", "4", "-c", "4", "-m", "2", "-H", "x-api-key: k", &url],
            None,
        )
    });
    // New connections: curl, one handshake per request, before, during and after the swap.
    let (ca_path, p) = (ca.clone(), port);
    let fresh = tokio::task::spawn_blocking(move || {
        let started = std::time::Instant::now();
        let mut statuses = Vec::new();
        while started.elapsed() < Duration::from_secs(3) {
            statuses.push(curl(p, "edge.test", "/pets/1", &ca_path, &[]).0);
        }
        statuses
    });
    tokio::time::sleep(Duration::from_millis(1200)).await;
    write_pair(&certs, "edge", &pki.issue("edge-new", &["edge.test"]));
    // The next handshakes get the new certificate once the directory is read again.
    let p = port;
    let mut swapped = String::new();
    for _ in 0..50 {
        swapped = tokio::task::spawn_blocking(move || s_client(p, &["-servername", "edge.test"]).1)
            .await
            .unwrap();
        if subject(&swapped).contains("CN=edge-new") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(subject(&swapped).contains("CN=edge-new"), "{swapped}");

    let statuses = fresh.await.unwrap();
    assert!(statuses.len() > 5, "{statuses:?}");
    assert!(statuses.iter().all(|status| status == "200"), "{statuses:?}");
    let report = text(&load.await.unwrap());
    assert!(report.contains("Application protocol: h2"), "{report}");
    assert!(report.contains("0 failed, 0 errored, 0 timeout"), "{report}");
    assert!(!report.contains(" 0 succeeded"), "{report}");
    let _ = std::fs::remove_dir_all(&dir);
}
