use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::json;

use super::*;

const NOW: u64 = 1_800_000_000;

fn now() -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(NOW)
}

/// An unsigned compact token: the checks here need no key.
fn compact(header: &Value, claims: &Value) -> String {
    let header = URL_SAFE_NO_PAD.encode(header.to_string());
    let claims = URL_SAFE_NO_PAD.encode(claims.to_string());
    format!("{header}.{claims}.c2lnbmF0dXJl")
}

fn es256(claims: Value) -> String {
    compact(&json!({ "alg": "ES256", "kid": "k1" }), &claims)
}

fn parse_error(token: &str) -> JwtError {
    UntrustedToken::parse(token).err().expect("the token should be refused")
}

fn period(claims: Value, leeway_seconds: u64) -> Result<(), JwtError> {
    UntrustedToken::parse(&es256(claims))?.check_validity_period(now(), leeway_seconds)
}

fn audience(aud: Value) -> Result<(), JwtError> {
    let accepted = ["gatehouse".to_owned(), "crm".to_owned()];
    UntrustedToken::parse(&es256(json!({ "aud": aud })))?.check_audience(&accepted)
}

fn malformed(reason: &'static str) -> JwtError {
    JwtError::Malformed { reason }
}

#[test]
fn bearer_token_is_read_from_the_authorization_header() {
    assert_eq!(bearer_token("Bearer abc.def.ghi"), Ok("abc.def.ghi"));
    assert_eq!(bearer_token("bearer   abc.def.ghi "), Ok("abc.def.ghi"));
    assert_eq!(bearer_token("Basic dXNlcjpwYXNz"), Err(JwtError::MissingToken));
    assert_eq!(bearer_token("Bearer"), Err(JwtError::MissingToken));
    assert!(matches!(bearer_token("Bearer  "), Err(JwtError::Malformed { .. })));
}

#[test]
fn parse_keeps_the_signing_input_and_kid() {
    let token = es256(json!({ "sub": "alice" }));

    let untrusted = UntrustedToken::parse(&token).unwrap();

    assert_eq!(untrusted.algorithm, Algorithm::ES256);
    assert_eq!(untrusted.kid.as_deref(), Some("k1"));
    assert_eq!(untrusted.signature, "c2lnbmF0dXJl");
    assert_eq!(format!("{}.{}", untrusted.signing_input, untrusted.signature), token);
}

#[test]
fn none_hmac_and_unknown_algorithms_are_refused() {
    for alg in [
        "none", "None", "NONE", "HS256", "HS384", "HS512", "ES512", "RSA-OAEP", "",
    ] {
        let token = compact(&json!({ "alg": alg }), &json!({}));
        assert_eq!(
            parse_error(&token),
            JwtError::AlgorithmNotAllowed { alg: alg.to_owned() }
        );
    }
}

#[test]
fn malformed_tokens_are_refused() {
    let claims = URL_SAFE_NO_PAD.encode(r#"{"sub":"alice"}"#);
    let header = URL_SAFE_NO_PAD.encode(r#"{"alg":"ES256"}"#);
    let cases = [
        ("only.two".to_owned(), "it does not have three dot-separated parts"),
        (
            format!("{header}.{claims}.sig.x.y"),
            "it does not have three dot-separated parts",
        ),
        (format!("%%%.{claims}.sig"), "its header is not base64url-encoded JSON"),
        (
            format!("{header}.bm90IGpzb24.sig"),
            "its claims are not base64url-encoded JSON",
        ),
        (
            format!("{header}.WzEsMl0.sig"),
            "its claims are not base64url-encoded JSON",
        ),
        (compact(&json!({ "typ": "JWT" }), &json!({})), "its header has no `alg`"),
        (
            compact(&json!({ "alg": 256 }), &json!({})),
            "its header's `alg` is not a string",
        ),
        (
            compact(&json!({ "alg": "ES256", "kid": 7 }), &json!({})),
            "its header's `kid` is not a string",
        ),
        (
            compact(&json!({ "alg": "ES256", "crit": ["b64"], "b64": false }), &json!({})),
            "its header lists critical extensions (`crit`)",
        ),
        (
            format!("{header}.{}.sig", "A".repeat(MAX_TOKEN_BYTES)),
            "it is longer than 16 KiB",
        ),
    ];
    for (token, reason) in cases {
        assert_eq!(parse_error(&token), malformed(reason), "{reason}");
    }
}

#[test]
fn exp_is_required_and_checked_with_leeway() {
    assert_eq!(
        period(json!({}), 0),
        Err(JwtError::MissingClaim { claim: "exp".into() })
    );
    assert_eq!(period(json!({ "exp": NOW }), 0), Err(JwtError::Expired));
    assert_eq!(period(json!({ "exp": NOW + 1 }), 0), Ok(()));
    assert_eq!(period(json!({ "exp": NOW - 30 }), 60), Ok(()));
    assert_eq!(period(json!({ "exp": NOW as f64 + 0.5 }), 0), Ok(()));
}

#[test]
fn nbf_is_checked_with_leeway() {
    let exp = NOW + 300;
    assert_eq!(
        period(json!({ "exp": exp, "nbf": NOW + 10 }), 0),
        Err(JwtError::NotYetValid)
    );
    assert_eq!(period(json!({ "exp": exp, "nbf": NOW + 10 }), 60), Ok(()));
    assert_eq!(period(json!({ "exp": exp, "nbf": NOW }), 0), Ok(()));
}

#[test]
fn time_claims_of_the_wrong_type_are_refused_not_skipped() {
    // CVE-2026-25537: a string `nbf` read as absent let a future token through.
    let far_future = (NOW + 1_000_000).to_string();
    assert_eq!(
        period(json!({ "exp": NOW + 300, "nbf": far_future }), 0),
        Err(malformed("its `nbf` claim is not a number"))
    );
    assert_eq!(
        period(json!({ "exp": "never" }), 0),
        Err(malformed("its `exp` claim is not a number"))
    );
    assert_eq!(
        period(json!({ "exp": null }), 0),
        Err(malformed("its `exp` claim is not a number"))
    );
}

#[test]
fn audience_must_name_an_accepted_one() {
    assert_eq!(audience(json!("gatehouse")), Ok(()));
    assert_eq!(audience(json!(["billing", "crm"])), Ok(()));
    assert_eq!(audience(json!("billing")), Err(JwtError::WrongAudience));
    assert_eq!(audience(json!([])), Err(JwtError::WrongAudience));
    assert_eq!(
        audience(json!(["crm", 7])),
        Err(malformed("its `aud` claim holds a value that is not a string"))
    );
    assert_eq!(
        audience(json!(7)),
        Err(malformed("its `aud` claim is neither a string nor an array"))
    );
    let token = es256(json!({}));
    let no_aud = UntrustedToken::parse(&token).unwrap();
    assert_eq!(
        no_aud.check_audience(&[]),
        Err(JwtError::MissingClaim { claim: "aud".into() })
    );
}

#[test]
fn issuer_must_be_a_string() {
    let token = es256(json!({ "iss": "https://idp.test" }));
    assert_eq!(UntrustedToken::parse(&token).unwrap().issuer(), Ok("https://idp.test"));
    let token = es256(json!({ "iss": ["https://idp.test"] }));
    assert_eq!(
        UntrustedToken::parse(&token).unwrap().issuer(),
        Err(malformed("its `iss` claim is not a string"))
    );
    let token = es256(json!({}));
    assert_eq!(
        UntrustedToken::parse(&token).unwrap().issuer(),
        Err(JwtError::MissingClaim { claim: "iss".into() })
    );
}

#[test]
fn subject_is_read_from_the_configured_claim() {
    let token = es256(json!({
        "sub": "alice",
        "email": "alice@example.com",
        "user": { "id": "u-42" },
        "n": 7,
        "empty": "",
    }));
    let untrusted = UntrustedToken::parse(&token).unwrap();

    assert_eq!(untrusted.subject("sub"), Ok("alice".to_owned()));
    assert_eq!(untrusted.subject("email"), Ok("alice@example.com".to_owned()));
    assert_eq!(untrusted.subject("user.id"), Ok("u-42".to_owned()));
    assert_eq!(
        untrusted.subject("upn"),
        Err(JwtError::MissingClaim { claim: "upn".into() })
    );
    assert_eq!(
        untrusted.subject("empty"),
        Err(JwtError::MissingClaim { claim: "empty".into() })
    );
    assert_eq!(
        untrusted.subject("n"),
        Err(malformed("its subject claim is not a string"))
    );
}

#[test]
fn groups_are_an_array_or_a_space_separated_string() {
    let token = es256(json!({
        "groups": ["staff", "billing"],
        "scope": "read  write ",
        "realm_access": { "roles": ["admin"] },
        "https://example.com/groups": ["namespaced"],
        "bad": { "staff": true },
        "mixed": ["staff", 1],
    }));
    let untrusted = UntrustedToken::parse(&token).unwrap();
    let not_groups = malformed("its groups claim is neither an array of strings nor a space-separated string");

    assert_eq!(
        untrusted.groups("groups"),
        Ok(vec!["staff".to_owned(), "billing".to_owned()])
    );
    assert_eq!(
        untrusted.groups("scope"),
        Ok(vec!["read".to_owned(), "write".to_owned()])
    );
    assert_eq!(untrusted.groups("realm_access.roles"), Ok(vec!["admin".to_owned()]));
    assert_eq!(
        untrusted.groups("https://example.com/groups"),
        Ok(vec!["namespaced".to_owned()])
    );
    assert_eq!(untrusted.groups("absent"), Ok(vec![]));
    assert_eq!(untrusted.groups("bad"), Err(not_groups.clone()));
    assert_eq!(untrusted.groups("mixed"), Err(not_groups));
}
