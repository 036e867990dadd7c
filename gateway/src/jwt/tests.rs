use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::Algorithm;
use serde_json::json;

use super::*;
use idp::{AUDIENCE, ISSUER, TestKey, claims, settings, start, t0, unix};

pub(super) mod idp;

// === accepted tokens ===

#[tokio::test]
async fn valid_token_names_subject_and_groups() {
    let key = TestKey::ec_p256();
    let (idp, verifier) = start(&[&key]).await;

    let identity = verifier.verify(&key.sign(&claims(t0())), t0()).await.unwrap();

    assert_eq!(&*identity.issuer, ISSUER);
    assert_eq!(identity.subject, "alice");
    assert_eq!(identity.groups, ["staff", "billing"]);
    assert_eq!(idp.n_requests(), 1);
}

#[tokio::test]
async fn every_supported_algorithm_verifies() {
    // The RSA JWK carries no `alg`, so the RSA family's algorithms come from `kty` alone.
    let rsa = TestKey::rsa().without_jwk_alg();
    let (p256, p384, ed25519) = (TestKey::ec_p256(), TestKey::ec_p384(), TestKey::ed25519());
    let (_idp, verifier) = start(&[&rsa, &p256, &p384, &ed25519]).await;

    let tokens = [
        rsa.sign(&claims(t0())),
        rsa.sign_as(Algorithm::PS256, Some(rsa.kid), &claims(t0())),
        p256.sign(&claims(t0())),
        p384.sign(&claims(t0())),
        ed25519.sign(&claims(t0())),
    ];
    for token in tokens {
        assert_eq!(verifier.verify(&token, t0()).await.unwrap().subject, "alice");
    }
}

#[tokio::test]
async fn token_without_kid_is_tried_against_keys_of_its_algorithm() {
    let (p256, ed25519) = (TestKey::ec_p256(), TestKey::ed25519());
    let (_idp, verifier) = start(&[&ed25519, &p256]).await;

    let token = p256.sign_as(Algorithm::ES256, None, &claims(t0()));

    assert!(verifier.verify(&token, t0()).await.is_ok());
}

#[tokio::test]
async fn inline_jwks_issuer_verifies_without_fetching() {
    let key = TestKey::ed25519();
    let issuer_config = IssuerConfig {
        jwks_url: None,
        jwks: Some(idp::jwks(&[&key])),
        ..IssuerConfig::new(ISSUER, &[AUDIENCE], "http://unused.test/")
    };
    let verifier = JwtVerifier::new(&[issuer_config], &JwksCache::new(settings())).unwrap();

    assert!(verifier.verify(&key.sign(&claims(t0())), t0()).await.is_ok());
}

// === refused tokens ===

async fn refusal(key: &TestKey, token: &str) -> JwtError {
    let (_idp, verifier) = start(&[key]).await;
    verifier.verify(token, t0()).await.unwrap_err()
}

#[tokio::test]
async fn expired_token_is_refused() {
    let key = TestKey::ec_p256();
    let mut expired = claims(t0());
    expired["exp"] = json!(unix(t0()) - 61);
    assert_eq!(refusal(&key, &key.sign(&expired)).await, JwtError::Expired);

    // Within the default leeway of 60 seconds, the token still passes.
    expired["exp"] = json!(unix(t0()) - 59);
    let (_idp, verifier) = start(&[&key]).await;
    assert!(verifier.verify(&key.sign(&expired), t0()).await.is_ok());
}

#[tokio::test]
async fn not_yet_valid_token_is_refused() {
    let key = TestKey::ec_p256();
    let mut early = claims(t0());
    early["nbf"] = json!(unix(t0()) + 120);

    assert_eq!(refusal(&key, &key.sign(&early)).await, JwtError::NotYetValid);
}

#[tokio::test]
async fn token_for_another_audience_is_refused() {
    let key = TestKey::ec_p256();
    let mut elsewhere = claims(t0());
    elsewhere["aud"] = json!(["billing-api", "crm"]);

    assert_eq!(refusal(&key, &key.sign(&elsewhere)).await, JwtError::WrongAudience);
}

#[tokio::test]
async fn token_from_an_untrusted_issuer_is_refused() {
    let key = TestKey::ec_p256();
    let mut foreign = claims(t0());
    foreign["iss"] = json!("https://evil.test");

    let error = refusal(&key, &key.sign(&foreign)).await;

    assert_eq!(
        error,
        JwtError::UnknownIssuer {
            iss: "https://evil.test".into()
        }
    );
}

#[tokio::test]
async fn alg_none_is_refused_before_any_key_is_fetched() {
    let key = TestKey::ec_p256();
    let (idp, verifier) = start(&[&key]).await;
    let encode = |value: serde_json::Value| URL_SAFE_NO_PAD.encode(value.to_string());
    let header = encode(json!({ "alg": "none", "typ": "JWT" }));
    let unsigned = format!("{header}.{}.", encode(claims(t0())));

    let error = verifier.verify(&unsigned, t0()).await.unwrap_err();

    assert_eq!(error, JwtError::AlgorithmNotAllowed { alg: "none".into() });
    assert_eq!(idp.n_requests(), 0);
}

#[tokio::test]
async fn hs256_signed_with_the_public_key_is_refused() {
    // The classic key-confusion attack: use the issuer's public key as an HMAC secret.
    let rsa = TestKey::rsa();
    let public_pem = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/jwt/rsa-2048.pub.pem"
    ))
    .unwrap();
    let mut header = jsonwebtoken::Header::new(Algorithm::HS256);
    header.kid = Some(rsa.kid.to_owned());
    let secret = jsonwebtoken::EncodingKey::from_secret(&public_pem);
    let forged = jsonwebtoken::encode(&header, &claims(t0()), &secret).unwrap();

    let error = refusal(&rsa, &forged).await;

    assert_eq!(error, JwtError::AlgorithmNotAllowed { alg: "HS256".into() });
}

#[tokio::test]
async fn algorithm_is_pinned_to_the_named_key() {
    // An ES256 token naming the RSA key: the key, not the header, decides the algorithm.
    let (rsa, p256) = (TestKey::rsa(), TestKey::ec_p256());
    let (_idp, verifier) = start(&[&rsa, &p256]).await;
    let token = p256.sign_as(Algorithm::ES256, Some(rsa.kid), &claims(t0()));

    let error = verifier.verify(&token, t0()).await.unwrap_err();

    assert_eq!(error, JwtError::AlgorithmNotAllowed { alg: "ES256".into() });
}

#[tokio::test]
async fn token_signed_by_another_key_under_a_known_kid_is_refused() {
    let (served, impostor) = (TestKey::ec_p256(), TestKey::ec_p256_rotated());
    let token = impostor.sign_as(Algorithm::ES256, Some(served.kid), &claims(t0()));

    assert_eq!(refusal(&served, &token).await, JwtError::BadSignature);
}

// === configuration and refusals ===

#[test]
fn issuer_config_fills_defaults() {
    let issuer_config: IssuerConfig = serde_json::from_value(json!({
        "issuer": ISSUER,
        "audiences": [AUDIENCE],
        "jwks_url": "https://idp.test/jwks.json",
    }))
    .unwrap();

    assert_eq!(
        issuer_config,
        IssuerConfig::new(ISSUER, &[AUDIENCE], "https://idp.test/jwks.json")
    );
    assert_eq!(
        (
            issuer_config.subject_claim.as_str(),
            issuer_config.groups_claim.as_str()
        ),
        ("sub", "groups")
    );
    assert_eq!(issuer_config.leeway_seconds, 60);
}

#[test]
fn bad_issuer_configs_report_every_problem() {
    let good = IssuerConfig::new(ISSUER, &[AUDIENCE], "https://idp.test/jwks.json");
    let symmetric_only = json!({ "keys": [{ "kty": "oct", "k": "c2VjcmV0" }] });
    let issuer_configs = [
        good.clone(),
        good.clone(),
        IssuerConfig {
            audiences: vec![],
            jwks_url: Some("ftp://idp.test/keys".into()),
            ..good.clone()
        },
        IssuerConfig {
            issuer: "b".into(),
            jwks_url: None,
            jwks: Some(symmetric_only),
            ..good.clone()
        },
        IssuerConfig {
            issuer: "c".into(),
            jwks: Some(json!({ "keys": [] })),
            leeway_seconds: 3600,
            ..good
        },
    ];

    let problems = JwtVerifier::new(&issuer_configs, &JwksCache::new(settings())).unwrap_err();
    let problems: Vec<(&str, &IssuerProblem)> = problems
        .iter()
        .map(|error| (error.issuer.as_str(), &error.problem))
        .collect();

    assert_eq!(
        problems,
        [
            (ISSUER, &IssuerProblem::Duplicate),
            (ISSUER, &IssuerProblem::NoAudience),
            (
                ISSUER,
                &IssuerProblem::BadJwksUrl {
                    reason: "it must start with http:// or https://"
                }
            ),
            (
                "b",
                &IssuerProblem::BadJwks {
                    reason: "it holds no key that can verify JWT signatures"
                }
            ),
            ("c", &IssuerProblem::BothKeySources),
            ("c", &IssuerProblem::LeewayTooLarge { max: 600 }),
        ]
    );
}

#[test]
fn every_refusal_names_its_rule_and_challenge() {
    let check = |error: JwtError, rule: &str, challenge: &str| {
        assert_eq!(error.rule(), rule);
        assert_eq!(error.www_authenticate("gatehouse"), challenge);
    };
    let invalid = |description: &str| {
        format!(r#"Bearer realm="gatehouse", error="invalid_token", error_description="{description}""#)
    };

    check(JwtError::MissingToken, "jwt_missing", r#"Bearer realm="gatehouse""#);
    check(JwtError::Expired, "jwt_expired", &invalid("The token has expired."));
    check(
        JwtError::UnknownKey { kid: "k1".into() },
        "jwt_unknown_key",
        &invalid("The token names signing key `k1`, which its issuer does not publish."),
    );
    check(
        JwtError::JwksUnavailable {
            url: "http://idp.internal/jwks".into(),
        },
        "jwt_jwks_unavailable",
        r#"Bearer realm="gatehouse""#,
    );
    assert!(
        !JwtError::JwksUnavailable { url: String::new() }
            .to_string()
            .contains("idp.internal")
    );
    assert!(JwtError::WrongAudience.is_client_error());
}

#[test]
fn values_echoed_from_a_token_are_bounded_and_quote_free() {
    let kid = format!("\"quoted\"\\{}", "x".repeat(500));

    let error = JwtError::UnknownKey {
        kid: error::echoable(&kid),
    };

    let JwtError::UnknownKey { kid } = &error else {
        unreachable!()
    };
    assert_eq!(kid.len(), 64 + 3);
    assert!(!kid.contains('"') && !kid.contains('\\'));
}
