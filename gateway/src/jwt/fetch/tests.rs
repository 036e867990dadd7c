use std::time::Duration;

use hyper::header::HeaderValue;

use crate::jwt::tests::idp::{TestIdp, TestKey};

use super::*;

const MAX_BODY_BYTES: usize = 64 * 1024;

async fn get(client: &JwksClient, url: &str) -> Result<JwksResponse, FetchError> {
    client.get(&url.parse().unwrap()).await
}

#[tokio::test]
async fn jwks_is_fetched_with_its_max_age() {
    let idp = TestIdp::serving(&[&TestKey::ec_p256()]).await;
    idp.set_cache_control("public, max-age=600");
    let client = JwksClient::new(Duration::from_secs(5), MAX_BODY_BYTES);

    let response = get(&client, &idp.jwks_url).await.unwrap();

    let jwks: serde_json::Value = serde_json::from_slice(&response.body).unwrap();
    assert_eq!(jwks["keys"][0]["kid"], "ec-1");
    assert_eq!(response.max_age, Some(Duration::from_secs(600)));
}

#[tokio::test]
async fn https_url_is_fetched_over_tls() {
    // A plain-HTTP server cannot answer a TLS handshake: the request fails before any HTTP
    // request reaches it, which shows https goes through rustls rather than in the clear.
    let idp = TestIdp::serving(&[&TestKey::ec_p256()]).await;
    let https_url = idp.jwks_url.replacen("http://", "https://", 1);
    let client = JwksClient::new(Duration::from_secs(5), MAX_BODY_BYTES);

    let error = get(&client, &https_url).await.err().unwrap();

    assert!(matches!(error, FetchError::Transport(_)), "{error}");
    assert_eq!(idp.n_requests(), 0);
}

#[tokio::test]
async fn error_status_fails_the_fetch() {
    let idp = TestIdp::serving(&[&TestKey::ec_p256()]).await;
    idp.set_down(true);
    let client = JwksClient::new(Duration::from_secs(5), MAX_BODY_BYTES);

    let error = get(&client, &idp.jwks_url).await.err().unwrap();

    assert!(
        matches!(error, FetchError::Status(StatusCode::SERVICE_UNAVAILABLE)),
        "{error}"
    );
}

#[tokio::test]
async fn slow_jwks_endpoint_times_out() {
    let idp = TestIdp::serving(&[&TestKey::ec_p256()]).await;
    idp.set_delay(Duration::from_secs(5));
    let client = JwksClient::new(Duration::from_millis(100), MAX_BODY_BYTES);

    let error = get(&client, &idp.jwks_url).await.err().unwrap();

    assert!(matches!(error, FetchError::Timeout(_)), "{error}");
}

#[tokio::test]
async fn oversized_jwks_is_refused() {
    let idp = TestIdp::serving(&[&TestKey::rsa()]).await;
    let client = JwksClient::new(Duration::from_secs(5), 64);

    let error = get(&client, &idp.jwks_url).await.err().unwrap();

    assert!(matches!(error, FetchError::TooLarge(64)), "{error}");
}

#[test]
fn cache_control_max_age_is_read() {
    let check = |values: &[&'static str], expected: Option<u64>| {
        let mut headers = HeaderMap::new();
        for value in values {
            headers.append(CACHE_CONTROL, HeaderValue::from_static(value));
        }
        assert_eq!(
            cache_control_max_age(&headers),
            expected.map(Duration::from_secs),
            "{values:?}"
        );
    };

    check(&[], None);
    check(&["public, max-age=600"], Some(600));
    check(&["MAX-AGE=\"60\", must-revalidate"], Some(60));
    check(&["public", "max-age=120"], Some(120));
    check(&["max-age=soon"], None);
    check(&["max-age=600, no-cache"], Some(0));
    check(&["no-store"], Some(0));
}
