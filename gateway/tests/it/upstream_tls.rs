//! TLS to upstreams: an https upstream on loopback that demands a client certificate, with
//! certificates made here (rcgen). Proxied with mTLS; refused (502, and no request reaching it)
//! without the client certificate or when the CA does not match; SNI as configured; the private
//! key never in `/config`.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use http::{Request, Response, StatusCode};
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, DnType, IsCa, KeyPair};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use serde_json::{Value, json};
use tokio::net::TcpListener;

use crate::support::{ALICE_KEY, TestGateway, client, key_hash};

/// A certificate authority made for one test.
struct Authority {
    issuer: CertifiedIssuer<'static, KeyPair>,
}

impl Authority {
    fn new(name: &str) -> Authority {
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.distinguished_name.push(DnType::CommonName, name);
        Authority {
            issuer: CertifiedIssuer::self_signed(params, KeyPair::generate().unwrap()).unwrap(),
        }
    }

    fn pem(&self) -> String {
        self.issuer.pem()
    }

    /// A leaf certificate for `names` (DNS names; the common name is the first), and its key, PEM.
    fn issue(&self, names: &[&str]) -> (String, String) {
        let mut params = CertificateParams::new(names.iter().map(|name| name.to_string()).collect::<Vec<_>>()).unwrap();
        params.distinguished_name.push(DnType::CommonName, names[0]);
        let key = KeyPair::generate().unwrap();
        let certificate = params.signed_by(&key, &self.issuer).unwrap();
        (certificate.pem(), key.serialize_pem())
    }
}

/// An https upstream that demands a client certificate issued by `client_ca`. Answers with the
/// SNI it was sent and the client certificate's presence; counts requests and handshakes.
struct TlsUpstream {
    address: SocketAddr,
    /// The SNI of every completed handshake (`None` for none sent).
    handshakes: Arc<Mutex<Vec<Option<String>>>>,
    requests: Arc<Mutex<u64>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for TlsUpstream {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl TlsUpstream {
    async fn start(server: &Authority, client_ca: &Authority) -> TlsUpstream {
        let (certificate, key) = server.issue(&["localhost", "upstream.internal"]);
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let mut roots = rustls::RootCertStore::empty();
        roots
            .add(CertificateDer::from_pem_slice(client_ca.pem().as_bytes()).unwrap())
            .unwrap();
        let verifier = rustls::server::WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider.clone())
            .build()
            .unwrap();
        let config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_client_cert_verifier(verifier)
            .with_single_cert(
                vec![CertificateDer::from_pem_slice(certificate.as_bytes()).unwrap()],
                PrivateKeyDer::from_pem_slice(key.as_bytes()).unwrap(),
            )
            .unwrap();
        let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        let handshakes = Arc::new(Mutex::new(Vec::new()));
        let requests = Arc::new(Mutex::new(0));
        let (seen, counted) = (handshakes.clone(), requests.clone());
        let task = tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    return;
                };
                let (acceptor, seen, counted) = (acceptor.clone(), seen.clone(), counted.clone());
                tokio::spawn(async move {
                    let Ok(tls) = acceptor.accept(stream).await else { return };
                    let (_, session) = tls.get_ref();
                    let sni = session.server_name().map(str::to_owned);
                    let client_certificate = session.peer_certificates().is_some_and(|chain| !chain.is_empty());
                    seen.lock().unwrap().push(sni.clone());
                    let service = service_fn(move |_request: Request<Incoming>| {
                        *counted.lock().unwrap() += 1;
                        let body = json!({ "sni": sni, "client_certificate": client_certificate });
                        async move { Ok::<_, Infallible>(Response::new(Full::new(Bytes::from(body.to_string())))) }
                    });
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(tls), service)
                        .await;
                });
            }
        });
        TlsUpstream {
            address,
            handshakes,
            requests,
            task,
        }
    }

    fn requests(&self) -> u64 {
        *self.requests.lock().unwrap()
    }
}

/// One API, `/secure`, on `url` with `tls`, that alice may call.
fn snapshot(url: &str, tls: Value) -> Value {
    json!({
        "format": 1,
        "apis": [{ "name": "secure", "path_prefix": "/secure", "strip_prefix": true,
                   "upstream": { "targets": [{ "url": url }], "tls": tls } }],
        "plans": [{ "name": "unlimited" }],
        "consumers": [{ "key_hash": key_hash(ALICE_KEY), "key_id": "key_alice", "user": "alice", "application": "alice-app", "groups": ["staff"] }],
        "access_rules": [{ "policy": "staff", "groups": ["staff"], "api": "secure", "plan": "unlimited" }]
    })
}

async fn call(gateway: &TestGateway) -> (StatusCode, Value) {
    let response = client()
        .get(gateway.url("/secure/x"))
        .header("x-api-key", ALICE_KEY)
        .send()
        .await
        .unwrap();
    let status = response.status();
    (status, response.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn mtls_to_an_upstream_that_demands_a_client_certificate() {
    let (server_ca, client_ca) = (Authority::new("upstream ca"), Authority::new("client ca"));
    let upstream = TlsUpstream::start(&server_ca, &client_ca).await;
    let (certificate, key) = client_ca.issue(&["gateway.test"]);
    let url = format!("https://localhost:{}", upstream.address.port());
    let tls =
        json!({ "ca_pem": server_ca.pem(), "client_certificate": { "certificate_pem": certificate, "key_pem": key } });
    let gateway = TestGateway::start(snapshot(&url, tls)).await;

    let (status, body) = call(&gateway).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        body["client_certificate"], true,
        "the gateway presented its certificate"
    );
    assert_eq!(body["sni"], "localhost", "SNI is the target's host");
    // The connection is pooled: a second request makes no second handshake.
    let (status, _) = call(&gateway).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(upstream.handshakes.lock().unwrap().len(), 1);
    assert_eq!(upstream.requests(), 2);

    // `/config` shows the certificate but never the key.
    let config: Value = client()
        .get(gateway.admin_url("/config"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let shown = &config["apis"][0]["upstream"]["tls"]["client_certificate"];
    assert_eq!(shown["key_pem"], "(redacted)");
    assert!(shown["certificate_pem"].as_str().unwrap().contains("BEGIN CERTIFICATE"));
    assert!(!config.to_string().contains("PRIVATE KEY"), "{config}");
}

#[tokio::test]
async fn sni_override_is_sent_and_verified() {
    let (server_ca, client_ca) = (Authority::new("upstream ca"), Authority::new("client ca"));
    let upstream = TlsUpstream::start(&server_ca, &client_ca).await;
    let (certificate, key) = client_ca.issue(&["gateway.test"]);
    // By IP address: without the override no SNI is sent and the certificate names no IP.
    let url = format!("https://127.0.0.1:{}", upstream.address.port());
    let tls = json!({ "ca_pem": server_ca.pem(), "server_name": "upstream.internal",
                      "client_certificate": { "certificate_pem": certificate, "key_pem": key } });
    let gateway = TestGateway::start(snapshot(&url, tls)).await;
    let (status, body) = call(&gateway).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["sni"], "upstream.internal");

    // A name the certificate does not hold fails verification: 502, nothing reaches the upstream.
    let (certificate, key) = client_ca.issue(&["gateway.test"]);
    let tls = json!({ "ca_pem": server_ca.pem(), "server_name": "elsewhere.internal",
                      "client_certificate": { "certificate_pem": certificate, "key_pem": key } });
    gateway
        .runtime
        .apply(crate::support::parse(&snapshot(&url, tls)))
        .unwrap();
    let (status, body) = call(&gateway).await;
    assert_eq!(status, StatusCode::BAD_GATEWAY, "{body}");
    assert_eq!(body["rule"], "upstream_unavailable");
    assert_eq!(upstream.requests(), 1);
}

#[tokio::test]
async fn refused_without_the_client_certificate_or_with_another_ca() {
    let (server_ca, client_ca) = (Authority::new("upstream ca"), Authority::new("client ca"));
    let upstream = TlsUpstream::start(&server_ca, &client_ca).await;
    let url = format!("https://localhost:{}", upstream.address.port());

    // No client certificate configured: the upstream refuses the handshake.
    let gateway = TestGateway::start(snapshot(&url, json!({ "ca_pem": server_ca.pem() }))).await;
    let (status, body) = call(&gateway).await;
    assert_eq!(status, StatusCode::BAD_GATEWAY, "{body}");
    assert_eq!(body["rule"], "upstream_unavailable");

    // A client certificate from a CA the upstream does not trust.
    let stranger = Authority::new("stranger ca");
    let (certificate, key) = stranger.issue(&["gateway.test"]);
    let tls =
        json!({ "ca_pem": server_ca.pem(), "client_certificate": { "certificate_pem": certificate, "key_pem": key } });
    gateway
        .runtime
        .apply(crate::support::parse(&snapshot(&url, tls)))
        .unwrap();
    let (status, _) = call(&gateway).await;
    assert_eq!(status, StatusCode::BAD_GATEWAY);

    // The gateway verifying against a CA that did not sign the upstream's certificate, or
    // against the webpki roots (the default), refuses the upstream.
    let (certificate, key) = client_ca.issue(&["gateway.test"]);
    let client_certificate = json!({ "certificate_pem": certificate, "key_pem": key });
    for tls in [
        json!({ "ca_pem": stranger.pem(), "client_certificate": client_certificate }),
        json!({ "client_certificate": client_certificate }),
    ] {
        gateway
            .runtime
            .apply(crate::support::parse(&snapshot(&url, tls)))
            .unwrap();
        let (status, _) = call(&gateway).await;
        assert_eq!(status, StatusCode::BAD_GATEWAY);
    }
    assert_eq!(upstream.requests(), 0, "no request reached the upstream");

    // And with the right CA and certificate, it goes through.
    let tls = json!({ "ca_pem": server_ca.pem(), "client_certificate": client_certificate });
    gateway
        .runtime
        .apply(crate::support::parse(&snapshot(&url, tls)))
        .unwrap();
    let (status, body) = call(&gateway).await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

#[test]
fn bad_tls_settings_are_refused_naming_the_field() {
    let spec = snapshot(
        "https://localhost:1",
        json!({ "ca_pem": "not pem", "server_name": "no spaces allowed", "insecure_skip_verify": true,
                "client_certificate": { "certificate_pem": "-----BEGIN CERTIFICATE-----\n", "key_pem": "nope" } }),
    );
    let errors = gateway::compiled::CompiledSnapshot::compile(&crate::support::parse(&spec), None)
        .unwrap_err()
        .to_string();
    for field in [
        "apis[0].upstream.tls.ca_pem",
        "apis[0].upstream.tls.server_name",
        "apis[0].upstream.tls.insecure_skip_verify",
        "apis[0].upstream.tls.client_certificate.certificate_pem",
        "apis[0].upstream.tls.client_certificate.key_pem",
    ] {
        assert!(errors.contains(field), "{field} in {errors}");
    }
    assert!(!errors.contains("nope"), "the key is never echoed: {errors}");
}
