//! JWTs through the gateway: signed by a real key pair whose public half a real JWKS endpoint
//! serves; the good one passes with its groups, each bad one is refused with its rule.

use std::time::{SystemTime, UNIX_EPOCH};

use http::StatusCode;
use jsonwebtoken::jwk::Jwk;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{Value, json};

use crate::support::{TestGateway, client, snapshot};
use crate::upstream::Upstream;

const ISSUER: &str = "https://idp.example";

struct Idp {
    jwks_url: String,
    key: EncodingKey,
    _server: tokio::task::JoinHandle<()>,
}

impl Idp {
    async fn start() -> Idp {
        let pem = std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/jwt/ec-p256.pem")).unwrap();
        let key = EncodingKey::from_ec_pem(&pem).unwrap();
        let mut jwk = Jwk::from_encoding_key(&key, Algorithm::ES256).unwrap();
        jwk.common.key_id = Some("ec-1".into());
        let jwks = json!({ "keys": [jwk] });
        let app = axum::Router::new().route(
            "/jwks.json",
            axum::routing::get(move || async move { axum::Json(jwks) }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let jwks_url = format!("http://{}/jwks.json", listener.local_addr().unwrap());
        let server = tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        Idp {
            jwks_url,
            key,
            _server: server,
        }
    }

    fn sign(&self, kid: &str, claims: &Value) -> String {
        let mut header = Header::new(Algorithm::ES256);
        header.kid = Some(kid.into());
        jsonwebtoken::encode(&header, claims, &self.key).unwrap()
    }
}

fn now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs()
}

fn claims(audience: &str, expires_in: i64) -> Value {
    json!({ "iss": ISSUER, "aud": audience, "sub": "dana", "exp": now() as i64 + expires_in, "groups": ["staff"] })
}

async fn call(gateway: &TestGateway, token: &str) -> (StatusCode, reqwest::header::HeaderMap, Value) {
    let response = client()
        .get(gateway.url("/pets/v1/x"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    let (status, headers) = (response.status(), response.headers().clone());
    (status, headers, response.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn tokens_from_a_trusted_issuer_pass_and_bad_ones_name_their_rule() {
    let (upstream, idp) = (Upstream::start("one").await, Idp::start().await);
    let mut document = snapshot(&upstream.url(), 100);
    document["jwt_issuers"] = json!([{ "issuer": ISSUER, "audiences": ["gatehouse"], "jwks_url": idp.jwks_url }]);
    let gateway = TestGateway::start(document).await;

    let (status, _, body) = call(&gateway, &idp.sign("ec-1", &claims("gatehouse", 300))).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        body["headers"]["x-gatehouse-user"], "dana",
        "the subject, with groups from the token"
    );

    let none = format!(
        "{}.{}.",
        b64(r#"{"alg":"none","typ":"JWT"}"#),
        b64(&claims("gatehouse", 300).to_string())
    );
    for (token, rule) in [
        (idp.sign("ec-1", &claims("gatehouse", -120)), "jwt_expired"),
        (idp.sign("ec-1", &claims("someone-else", 300)), "jwt_wrong_audience"),
        (idp.sign("ec-9", &claims("gatehouse", 300)), "jwt_unknown_key"),
        (none, "jwt_algorithm_not_allowed"),
        ("not.a.token".to_owned(), "jwt_malformed"),
    ] {
        let (status, headers, problem) = call(&gateway, &token).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{rule}: {problem}");
        assert_eq!(problem["rule"], rule, "{problem}");
        let challenge = headers["www-authenticate"].to_str().unwrap();
        assert!(challenge.contains(r#"error="invalid_token""#), "{challenge}");
    }
    assert_eq!(upstream.hits(), 1, "only the good token reached the upstream");
}

fn b64(text: &str) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(text)
}
