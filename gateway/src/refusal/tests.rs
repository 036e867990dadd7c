use super::*;

fn check(refusal: Refusal, status: StatusCode, rule: &str) {
    assert_eq!((refusal.status(), refusal.rule()), (status, rule));
    let response = refusal.into_response(Some("req-1"));
    assert_eq!(response.status(), status);
    assert_eq!(response.headers()[CONTENT_TYPE], "application/problem+json");
}

#[test]
fn each_refusal_has_its_status_and_rule() {
    let challenge = HeaderValue::from_static("Bearer");
    check(Refusal::PathMalformed, StatusCode::BAD_REQUEST, "path_malformed");
    check(Refusal::RouteNotFound, StatusCode::NOT_FOUND, "route_not_found");
    check(
        Refusal::VersionRetired {
            api: "a".into(),
            version: "v1".into(),
            lifecycle: None,
        },
        StatusCode::GONE,
        "version_retired",
    );
    check(
        Refusal::ApiKeyUnknown {
            challenge: challenge.clone(),
        },
        StatusCode::UNAUTHORIZED,
        "api_key_unknown",
    );
    check(
        Refusal::ClientCertificateMissing {
            api: "a".into(),
            why: NoCertificate::PlainHttp,
            accepts_jwt: true,
            challenge: challenge.clone(),
        },
        StatusCode::UNAUTHORIZED,
        "client_certificate_missing",
    );
    check(
        Refusal::ClientCertificateUnknown {
            fingerprint: "ab".into(),
            subject: "CN=x".into(),
            challenge: challenge.clone(),
        },
        StatusCode::UNAUTHORIZED,
        "client_certificate_unknown",
    );
    check(
        Refusal::ClientCertificateExpired {
            key_id: "cert_1".into(),
            challenge: challenge.clone(),
        },
        StatusCode::UNAUTHORIZED,
        "client_certificate_expired",
    );
    check(
        Refusal::AccessDenied { detail: "no".into() },
        StatusCode::FORBIDDEN,
        "access_denied",
    );
    check(
        Refusal::PolicyIpDenied { detail: "no".into() },
        StatusCode::FORBIDDEN,
        "policy_ip_denied",
    );
    check(
        Refusal::RateLimited {
            plan: "p".into(),
            headers: HeaderMap::new(),
        },
        StatusCode::TOO_MANY_REQUESTS,
        "rate_limited",
    );
    check(
        Refusal::LimiterUnavailable,
        StatusCode::SERVICE_UNAVAILABLE,
        "rate_limit_store_unavailable",
    );
    check(
        Refusal::UpstreamUnavailable { api: "a".into() },
        StatusCode::BAD_GATEWAY,
        "upstream_unavailable",
    );
    check(
        Refusal::UpstreamTimeout { api: "a".into() },
        StatusCode::GATEWAY_TIMEOUT,
        "upstream_timeout",
    );
}

#[test]
fn a_401_carries_its_challenge_and_a_429_its_limit_headers() {
    let challenge = HeaderValue::from_static(r#"Bearer realm="gatehouse""#);
    let response = Refusal::ApiKeyUnknown {
        challenge: challenge.clone(),
    }
    .into_response(None);
    assert_eq!(response.headers()[WWW_AUTHENTICATE], challenge);
    let mut limit_headers = HeaderMap::new();
    limit_headers.insert("retry-after", HeaderValue::from_static("3"));
    let response = Refusal::RateLimited {
        plan: "gold".into(),
        headers: limit_headers,
    }
    .into_response(None);
    assert_eq!(response.headers()["retry-after"], "3");
}

#[test]
fn a_missing_certificate_says_how_to_present_one() {
    let missing = |why| {
        Refusal::ClientCertificateMissing {
            api: "pets".into(),
            why,
            accepts_jwt: false,
            challenge: HeaderValue::from_static("ApiKey"),
        }
        .detail()
    };
    assert_eq!(
        missing(NoCertificate::PlainHttp),
        "API `pets` takes a client certificate, which a plain-HTTP request cannot present; call the gateway's \
         TLS listener (https) with it, or send an API key"
    );
    let not_presented = missing(NoCertificate::NotPresented);
    assert!(
        not_presented.contains("none was presented in the TLS handshake"),
        "{not_presented}"
    );
    let not_requested = missing(NoCertificate::NotRequested);
    assert!(
        not_requested.contains("no client CA (tls.client_ca_pem)"),
        "{not_requested}"
    );
}
