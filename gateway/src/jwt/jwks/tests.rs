use std::sync::Arc;
use std::time::Duration;

use jsonwebtoken::Algorithm;

use crate::jwt::tests::idp::{AUDIENCE, ISSUER, TestIdp, TestKey, after, claims, settings, start, t0, verifier_for};
use crate::jwt::{IssuerConfig, JwtError, JwtVerifier};

use super::*;

#[tokio::test]
async fn unknown_kid_is_refused_after_exactly_one_refetch() {
    let key = TestKey::ec_p256();
    let (idp, verifier) = start(&[&key]).await;
    verifier.verify(&key.sign(&claims(t0())), t0()).await.unwrap();
    assert_eq!(idp.n_requests(), 1);

    let bogus = key.sign_as(Algorithm::ES256, Some("bogus-1"), &claims(after(60)));
    let error = verifier.verify(&bogus, after(60)).await.unwrap_err();
    assert_eq!(error, JwtError::UnknownKey { kid: "bogus-1".into() });
    assert_eq!(idp.n_requests(), 2);

    // A second bogus kid within the refresh interval does not reach the identity provider.
    let bogus = key.sign_as(Algorithm::ES256, Some("bogus-2"), &claims(after(70)));
    let error = verifier.verify(&bogus, after(70)).await.unwrap_err();
    assert_eq!(error, JwtError::UnknownKey { kid: "bogus-2".into() });
    assert_eq!(idp.n_requests(), 2);
}

#[tokio::test]
async fn rotated_key_verifies_after_one_refetch() {
    let (old, new) = (TestKey::ec_p256(), TestKey::ec_p256_rotated());
    let (idp, verifier) = start(&[&old]).await;
    verifier.verify(&old.sign(&claims(t0())), t0()).await.unwrap();

    idp.serve_keys(&[&new]);
    let identity = verifier.verify(&new.sign(&claims(after(60))), after(60)).await;

    assert_eq!(identity.unwrap().subject, "alice");
    assert_eq!(idp.n_requests(), 2);
}

#[tokio::test]
async fn cached_keys_outlive_a_jwks_outage() {
    let key = TestKey::ec_p256();
    let (idp, verifier) = start(&[&key]).await;
    verifier.verify(&key.sign(&claims(t0())), t0()).await.unwrap();

    idp.set_down(true);
    // Ten minutes on, the keys have expired and their refresh fails; they are still used.
    let later = after(600);
    assert!(verifier.verify(&key.sign(&claims(later)), later).await.is_ok());
    let bogus = key.sign_as(Algorithm::ES256, Some("bogus"), &claims(later));
    let error = verifier.verify(&bogus, later).await.unwrap_err();
    assert_eq!(error, JwtError::UnknownKey { kid: "bogus".into() });
    assert!(verifier.verify(&key.sign(&claims(later)), later).await.is_ok());
}

#[tokio::test]
async fn no_cached_keys_and_jwks_down_is_unavailable() {
    let key = TestKey::ec_p256();
    let (idp, verifier) = start(&[&key]).await;
    idp.set_down(true);

    let error = verifier.verify(&key.sign(&claims(t0())), t0()).await.unwrap_err();

    assert_eq!(
        error,
        JwtError::JwksUnavailable {
            url: idp.jwks_url.clone()
        }
    );

    // Nothing listens on a port just released: the connection itself is refused.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let jwks_url = format!("http://127.0.0.1:{port}/jwks.json");
    let issuer_config = IssuerConfig::new(ISSUER, &[AUDIENCE], &jwks_url);
    let verifier = JwtVerifier::new(&[issuer_config], &JwksCache::new(settings())).unwrap();
    let error = verifier.verify(&key.sign(&claims(t0())), t0()).await.unwrap_err();
    assert_eq!(error, JwtError::JwksUnavailable { url: jwks_url });
}

#[tokio::test]
async fn expired_keys_are_refreshed_in_the_background() {
    let (old, new) = (TestKey::ec_p256(), TestKey::ec_p256_rotated());
    let (idp, verifier) = start(&[&old]).await;
    verifier.verify(&old.sign(&claims(t0())), t0()).await.unwrap();
    idp.serve_keys(&[&old, &new]);

    // The expired keys answer at once; the refresh runs beside the request.
    let later = after(600);
    verifier.verify(&old.sign(&claims(later)), later).await.unwrap();
    for _ in 0..500 {
        if idp.n_requests() == 2 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(idp.n_requests(), 2);

    // The refreshed set already holds the new key: no further fetch.
    let soon = after(601);
    verifier.verify(&new.sign(&claims(soon)), soon).await.unwrap();
    assert_eq!(idp.n_requests(), 2);
}

#[tokio::test]
async fn concurrent_first_requests_share_one_fetch() {
    let key = TestKey::ec_p256();
    let (idp, verifier) = start(&[&key]).await;
    idp.set_delay(Duration::from_millis(100));
    let verifier = Arc::new(verifier);

    let mut requests = tokio::task::JoinSet::new();
    for _ in 0..8 {
        let verifier = Arc::clone(&verifier);
        let token = key.sign(&claims(t0()));
        requests.spawn(async move { verifier.verify(&token, t0()).await });
    }
    while let Some(verified) = requests.join_next().await {
        assert!(verified.unwrap().is_ok());
    }

    assert_eq!(idp.n_requests(), 1);
}

#[tokio::test]
async fn snapshot_swap_reuses_cached_keys() {
    let key = TestKey::ec_p256();
    let idp = TestIdp::serving(&[&key]).await;
    let jwks_cache = JwksCache::new(settings());
    let first = verifier_for(&idp, &jwks_cache);
    first.verify(&key.sign(&claims(t0())), t0()).await.unwrap();

    let second = verifier_for(&idp, &jwks_cache);
    drop(first);

    assert!(second.verify(&key.sign(&claims(t0())), t0()).await.is_ok());
    assert_eq!(idp.n_requests(), 1);
}

#[tokio::test]
async fn cache_control_max_age_sets_the_keys_lifetime() {
    let key = TestKey::ec_p256();
    let idp = TestIdp::serving(&[&key]).await;
    let jwks_cache = JwksCache::new(settings());
    let entry = jwks_cache.entry(&idp.jwks_url).unwrap();

    idp.set_cache_control("public, max-age=3600");
    let cached = entry.key_set(t0()).await.unwrap();
    assert_eq!(cached.expires_at, after(3600));

    // `max-age=0` still keeps keys for the refresh interval, so the IdP is not asked every time.
    idp.set_cache_control("max-age=0");
    let refreshed = entry.key_set_after_unknown_kid(&cached, after(60)).await;
    assert_eq!(refreshed.expires_at, after(60 + 30));
}
