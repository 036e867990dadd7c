//! A test identity provider: real key pairs from `gateway/tests/fixtures/jwt` (generated once
//! with `openssl genpkey -algorithm RSA|EC|ED25519 ...`; the exact commands are in the README
//! there), a JWKS endpoint on a real HTTP server bound to 127.0.0.1:0 that counts its requests,
//! and tokens signed with `jsonwebtoken::encode`.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use jsonwebtoken::jwk::Jwk;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{Value, json};

use crate::jwt::{IssuerConfig, JwksCache, JwksCacheSettings, JwtVerifier};

pub const ISSUER: &str = "https://idp.test";
pub const AUDIENCE: &str = "gatehouse";

/// Cache settings for tests: a refresh interval long enough that the tests' own steps never
/// cross it by accident.
pub fn settings() -> JwksCacheSettings {
    JwksCacheSettings {
        default_ttl: Duration::from_secs(300),
        min_refresh_interval: Duration::from_secs(30),
        fetch_timeout: Duration::from_secs(5),
        ..JwksCacheSettings::default()
    }
}

/// A verifier trusting the test identity provider, with keys from `jwks_cache`.
pub fn verifier_for(idp: &TestIdp, jwks_cache: &JwksCache) -> JwtVerifier {
    let issuer_config = IssuerConfig::new(ISSUER, &[AUDIENCE, "other-api"], &idp.jwks_url);
    JwtVerifier::new(&[issuer_config], jwks_cache).unwrap()
}

/// A test identity provider serving `keys`, and a verifier with a fresh cache trusting it.
pub async fn start(keys: &[&TestKey]) -> (TestIdp, JwtVerifier) {
    let idp = TestIdp::serving(keys).await;
    let verifier = verifier_for(&idp, &JwksCache::new(settings()));
    (idp, verifier)
}

/// `seconds` after [`t0`].
pub fn after(seconds: u64) -> SystemTime {
    t0() + Duration::from_secs(seconds)
}

/// The fixed "now" of every test: 2027-01-15T08:00:00Z.
pub fn t0() -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(1_800_000_000)
}

/// Seconds since the epoch, for claims.
pub fn unix(time: SystemTime) -> u64 {
    time.duration_since(UNIX_EPOCH).unwrap().as_secs()
}

/// Claims that pass every check at `now`.
pub fn claims(now: SystemTime) -> Value {
    json!({
        "iss": ISSUER,
        "aud": AUDIENCE,
        "sub": "alice",
        "iat": unix(now),
        "exp": unix(now) + 300,
        "groups": ["staff", "billing"],
    })
}

/// A private key of the test identity provider and the public JWK it publishes for it.
pub struct TestKey {
    pub kid: &'static str,
    pub algorithm: Algorithm,
    encoding_key: EncodingKey,
    jwk: Jwk,
}

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/jwt/");

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(format!("{FIXTURES}{name}")).unwrap()
}

impl TestKey {
    pub fn rsa() -> TestKey {
        let encoding_key = EncodingKey::from_rsa_pem(&fixture("rsa-2048.pem")).unwrap();
        TestKey::new("rsa-1", Algorithm::RS256, encoding_key)
    }

    pub fn ec_p256() -> TestKey {
        let encoding_key = EncodingKey::from_ec_pem(&fixture("ec-p256.pem")).unwrap();
        TestKey::new("ec-1", Algorithm::ES256, encoding_key)
    }

    pub fn ec_p256_rotated() -> TestKey {
        let encoding_key = EncodingKey::from_ec_pem(&fixture("ec-p256-rotated.pem")).unwrap();
        TestKey::new("ec-2", Algorithm::ES256, encoding_key)
    }

    pub fn ec_p384() -> TestKey {
        let encoding_key = EncodingKey::from_ec_pem(&fixture("ec-p384.pem")).unwrap();
        TestKey::new("ec-384", Algorithm::ES384, encoding_key)
    }

    pub fn ed25519() -> TestKey {
        let encoding_key = EncodingKey::from_ed_pem(&fixture("ed25519.pem")).unwrap();
        TestKey::new("ed-1", Algorithm::EdDSA, encoding_key)
    }

    fn new(kid: &'static str, algorithm: Algorithm, encoding_key: EncodingKey) -> TestKey {
        let mut jwk = Jwk::from_encoding_key(&encoding_key, algorithm).unwrap();
        jwk.common.key_id = Some(kid.to_owned());
        TestKey {
            kid,
            algorithm,
            encoding_key,
            jwk,
        }
    }

    /// The public JWK, without its `alg`: the verifier must then derive the algorithms from
    /// `kty` and `crv`.
    pub fn without_jwk_alg(mut self) -> TestKey {
        self.jwk.common.key_algorithm = None;
        self
    }

    /// The public JWK, as the JWKS endpoint serves it.
    pub fn public_jwk(&self) -> Value {
        serde_json::to_value(&self.jwk).unwrap()
    }

    /// A token with this key's `kid` and algorithm.
    pub fn sign(&self, claims: &Value) -> String {
        self.sign_as(self.algorithm, Some(self.kid), claims)
    }

    /// A token signed with this key, claiming any algorithm and `kid`.
    pub fn sign_as(&self, algorithm: Algorithm, kid: Option<&str>, claims: &Value) -> String {
        let mut header = Header::new(algorithm);
        header.kid = kid.map(str::to_owned);
        jsonwebtoken::encode(&header, claims, &self.encoding_key).unwrap()
    }
}

/// A JWK Set document for `keys`.
pub fn jwks(keys: &[&TestKey]) -> Value {
    json!({ "keys": keys.iter().map(|key| key.public_jwk()).collect::<Vec<_>>() })
}

/// A JWKS endpoint on 127.0.0.1, stopped when dropped.
pub struct TestIdp {
    pub jwks_url: String,
    state: Arc<IdpState>,
    server: tokio::task::JoinHandle<()>,
}

#[derive(Default)]
struct IdpState {
    jwks: Mutex<Value>,
    cache_control: Mutex<Option<&'static str>>,
    delay: Mutex<Duration>,
    down: AtomicBool,
    n_requests: AtomicUsize,
}

impl TestIdp {
    /// Starts serving a JWK Set of `keys`.
    pub async fn serving(keys: &[&TestKey]) -> TestIdp {
        let state = Arc::new(IdpState::default());
        *state.jwks.lock().unwrap() = jwks(keys);
        let app = axum::Router::new()
            .route("/jwks.json", axum::routing::get(serve_jwks))
            .with_state(Arc::clone(&state));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let jwks_url = format!("http://{}/jwks.json", listener.local_addr().unwrap());
        let server = tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        TestIdp {
            jwks_url,
            state,
            server,
        }
    }

    /// From now on, serves `keys` instead (a key rotation).
    pub fn serve_keys(&self, keys: &[&TestKey]) {
        *self.state.jwks.lock().unwrap() = jwks(keys);
    }

    /// From now on, answers 503 (`true`) or the JWK Set (`false`).
    pub fn set_down(&self, down: bool) {
        self.state.down.store(down, Ordering::SeqCst);
    }

    /// From now on, sends this `Cache-Control` header.
    pub fn set_cache_control(&self, cache_control: &'static str) {
        *self.state.cache_control.lock().unwrap() = Some(cache_control);
    }

    /// From now on, waits this long before answering.
    pub fn set_delay(&self, delay: Duration) {
        *self.state.delay.lock().unwrap() = delay;
    }

    /// How many JWKS requests arrived, answered or not.
    pub fn n_requests(&self) -> usize {
        self.state.n_requests.load(Ordering::SeqCst)
    }
}

impl Drop for TestIdp {
    fn drop(&mut self) {
        self.server.abort();
    }
}

async fn serve_jwks(State(state): State<Arc<IdpState>>) -> Response {
    state.n_requests.fetch_add(1, Ordering::SeqCst);
    let delay = *state.delay.lock().unwrap();
    if !delay.is_zero() {
        tokio::time::sleep(delay).await;
    }
    if state.down.load(Ordering::SeqCst) {
        return StatusCode::SERVICE_UNAVAILABLE.into_response();
    }
    let mut response = axum::Json(state.jwks.lock().unwrap().clone()).into_response();
    if let Some(cache_control) = *state.cache_control.lock().unwrap() {
        response
            .headers_mut()
            .insert(header::CACHE_CONTROL, HeaderValue::from_static(cache_control));
    }
    response
}
