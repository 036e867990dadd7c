//! Refusals: every way the gateway says no, as a typed value that names its rule. It becomes a
//! response in one place ([`Refusal::into_response`]): RFC 9457 problem+json with the rule, a
//! `WWW-Authenticate` challenge on 401, rate-limit headers on 429.

use bytes::Bytes;
use http::header::{CONTENT_TYPE, HeaderValue, WWW_AUTHENTICATE};
use http::{HeaderMap, Response, StatusCode};
use http_body_util::{Either, Full};
use serde::Serialize;

/// A response body: streamed from the upstream, or written by the gateway.
pub type ResponseBody = Either<crate::upstream::PooledBody, Full<Bytes>>;

/// Where a failure came from; it decides the status family and the metric label.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// The request broke a rule: 4xx.
    Client,
    /// The upstream failed or was too slow: 502/504.
    Upstream,
    /// The gateway itself could not decide: 503.
    Internal,
}

/// Why the gateway refused a request.
#[derive(Debug)]
pub enum Refusal {
    /// The path has dot segments or is not a path.
    PathMalformed,
    /// No API claims this host and path.
    RouteNotFound,
    /// The API has versions and the request selected none.
    VersionNotFound { api: String, hint: String },
    /// The selected version is retired; its lifecycle signals name its successor, if any.
    VersionRetired {
        api: String,
        version: String,
        lifecycle: Option<Box<crate::lifecycle::Lifecycle>>,
    },
    /// No credentials the API accepts.
    CredentialsMissing { api: String, challenge: HeaderValue },
    /// An API key that matches no consumer.
    ApiKeyUnknown { challenge: HeaderValue },
    /// An API key past its expiry.
    ApiKeyExpired { key_id: String, challenge: HeaderValue },
    /// An API that takes client certificates, and no credential in the request nor a certificate
    /// on the connection; `why` says why there is none.
    ClientCertificateMissing {
        api: String,
        why: NoCertificate,
        accepts_jwt: bool,
        challenge: HeaderValue,
    },
    /// A client certificate that verified against the client CA but is registered to no
    /// consumer (revoked, or never registered).
    ClientCertificateUnknown {
        fingerprint: String,
        subject: String,
        challenge: HeaderValue,
    },
    /// A registered client certificate past its expiry (on a connection opened before it).
    ClientCertificateExpired { key_id: String, challenge: HeaderValue },
    /// A JWT that failed verification; `rule` and `reason` say which check.
    JwtRejected {
        rule: &'static str,
        reason: String,
        challenge: HeaderValue,
    },
    /// The issuer's keys cannot be fetched, so no token of it can be checked.
    JwksUnavailable,
    /// No access rule allows the request; `detail` names the groups, API, version and method.
    AccessDenied { detail: String },
    /// Access rules would allow the request, but their access policy's IP lists refuse the
    /// client address; `detail` names the policy, the API, the list and the address.
    PolicyIpDenied { detail: String },
    /// The plan's rate limit is spent.
    RateLimited { plan: String, headers: HeaderMap },
    /// The plan's quota is spent.
    QuotaExceeded { plan: String, headers: HeaderMap },
    /// The shared rate-limit store is away and the gateway fails closed.
    LimiterUnavailable,
    /// No target could be reached, or the upstream answered with a broken response.
    UpstreamUnavailable { api: String },
    /// The upstream did not answer in time.
    UpstreamTimeout { api: String },
    /// A plain-HTTP request to an API that is served over https only: 308 to `location`.
    HttpsRequired { api: String, location: HeaderValue },
    /// A CORS preflight from an origin the API does not allow.
    CorsOriginDenied { api: String, origin: String },
    /// The client's address is outside an allow list or inside a deny list; `list` names it
    /// (`ip_allow of API `pets``).
    IpDenied { address: String, list: String },
    /// The request body is, or grew while streaming, larger than the API's `max_body_bytes`.
    BodyTooLarge { api: String, limit: u64 },
    /// The request breaks its version's OpenAPI document (`validation`): each violation with
    /// its JSON pointer; `unlisted` more were found than a refusal lists.
    RequestInvalid {
        target: String,
        operation: std::sync::Arc<str>,
        violations: Vec<crate::validation::Violation>,
        unlisted: usize,
    },
    /// The version validates requests and this one is none of its document's operations; `allow`
    /// lists the methods its path has (a 405), absent when the path is unknown (a 404).
    OperationUnknown {
        target: String,
        method: String,
        path: String,
        allow: Option<HeaderValue>,
    },
}

/// Why a connection has no client certificate, for the refusal's detail.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NoCertificate {
    /// Plain HTTP cannot carry one.
    PlainHttp,
    /// The TLS listener asked for one and the client presented none.
    NotPresented,
    /// The snapshot has no client CA (`tls.client_ca_pem`), so the listener asks for none.
    NotRequested,
}

#[derive(Serialize)]
struct Problem<'a> {
    #[serde(rename = "type")]
    type_: String,
    title: &'a str,
    status: u16,
    detail: String,
    /// The rule that refused, as in the metrics' `gatehouse_refusal` label.
    rule: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    request_id: Option<&'a str>,
    /// A retired version's successor, by name, for clients that move on by themselves.
    #[serde(skip_serializing_if = "Option::is_none")]
    successor: Option<&'a str>,
    /// What an invalid request breaks, each with its JSON pointer (RFC 9457's own example).
    #[serde(skip_serializing_if = "Option::is_none")]
    errors: Option<&'a [crate::validation::Violation]>,
}

impl Refusal {
    /// The rule's stable name: the problem's `rule`, and the metric's `reason` label.
    pub fn rule(&self) -> &'static str {
        match self {
            Refusal::PathMalformed => "path_malformed",
            Refusal::RouteNotFound => "route_not_found",
            Refusal::VersionNotFound { .. } => "version_not_found",
            Refusal::VersionRetired { .. } => "version_retired",
            Refusal::CredentialsMissing { .. } => "credentials_missing",
            Refusal::ApiKeyUnknown { .. } => "api_key_unknown",
            Refusal::ApiKeyExpired { .. } => "api_key_expired",
            Refusal::ClientCertificateMissing { .. } => "client_certificate_missing",
            Refusal::ClientCertificateUnknown { .. } => "client_certificate_unknown",
            Refusal::ClientCertificateExpired { .. } => "client_certificate_expired",
            Refusal::JwtRejected { rule, .. } => rule,
            Refusal::JwksUnavailable => "jwt_jwks_unavailable",
            Refusal::AccessDenied { .. } => "access_denied",
            Refusal::PolicyIpDenied { .. } => "policy_ip_denied",
            Refusal::RateLimited { .. } => "rate_limited",
            Refusal::QuotaExceeded { .. } => "quota_exceeded",
            Refusal::LimiterUnavailable => "rate_limit_store_unavailable",
            Refusal::UpstreamUnavailable { .. } => "upstream_unavailable",
            Refusal::UpstreamTimeout { .. } => "upstream_timeout",
            Refusal::HttpsRequired { .. } => "https_required",
            Refusal::CorsOriginDenied { .. } => "cors_origin_denied",
            Refusal::IpDenied { .. } => "ip_denied",
            Refusal::BodyTooLarge { .. } => "body_too_large",
            Refusal::RequestInvalid { .. } => "request_invalid",
            Refusal::OperationUnknown { .. } => "operation_unknown",
        }
    }

    pub fn status(&self) -> StatusCode {
        match self {
            Refusal::PathMalformed => StatusCode::BAD_REQUEST,
            Refusal::RouteNotFound | Refusal::VersionNotFound { .. } => StatusCode::NOT_FOUND,
            Refusal::VersionRetired { .. } => StatusCode::GONE,
            Refusal::CredentialsMissing { .. }
            | Refusal::ApiKeyUnknown { .. }
            | Refusal::ApiKeyExpired { .. }
            | Refusal::ClientCertificateMissing { .. }
            | Refusal::ClientCertificateUnknown { .. }
            | Refusal::ClientCertificateExpired { .. }
            | Refusal::JwtRejected { .. } => StatusCode::UNAUTHORIZED,
            Refusal::AccessDenied { .. } | Refusal::PolicyIpDenied { .. } => StatusCode::FORBIDDEN,
            Refusal::RateLimited { .. } | Refusal::QuotaExceeded { .. } => StatusCode::TOO_MANY_REQUESTS,
            Refusal::LimiterUnavailable | Refusal::JwksUnavailable => StatusCode::SERVICE_UNAVAILABLE,
            Refusal::UpstreamUnavailable { .. } => StatusCode::BAD_GATEWAY,
            Refusal::UpstreamTimeout { .. } => StatusCode::GATEWAY_TIMEOUT,
            Refusal::HttpsRequired { .. } => StatusCode::PERMANENT_REDIRECT,
            Refusal::CorsOriginDenied { .. } | Refusal::IpDenied { .. } => StatusCode::FORBIDDEN,
            Refusal::BodyTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            Refusal::RequestInvalid { .. } => StatusCode::BAD_REQUEST,
            Refusal::OperationUnknown { allow: Some(_), .. } => StatusCode::METHOD_NOT_ALLOWED,
            Refusal::OperationUnknown { allow: None, .. } => StatusCode::NOT_FOUND,
        }
    }

    pub fn source(&self) -> Source {
        match self {
            Refusal::UpstreamUnavailable { .. } | Refusal::UpstreamTimeout { .. } => Source::Upstream,
            Refusal::LimiterUnavailable | Refusal::JwksUnavailable => Source::Internal,
            _ => Source::Client,
        }
    }

    /// What happened, in a sentence for the caller.
    pub fn detail(&self) -> String {
        match self {
            Refusal::PathMalformed => "the request path is malformed or has `.` or `..` segments".into(),
            Refusal::RouteNotFound => "no API is served at this host and path".into(),
            Refusal::VersionNotFound { api, hint } => {
                format!("API `{api}` has no version for this request; select one with {hint}")
            }
            Refusal::VersionRetired {
                api,
                version,
                lifecycle,
            } => match lifecycle.as_ref().and_then(|lifecycle| lifecycle.successor()) {
                Some(successor) => format!(
                    "version `{version}` of API `{api}` is retired; its successor is `{}`, at {}",
                    successor.name, successor.url
                ),
                None => format!("version `{version}` of API `{api}` is retired"),
            },
            Refusal::CredentialsMissing { api, .. } => format!("API `{api}` needs an API key or a bearer token"),
            Refusal::ApiKeyUnknown { .. } => "the API key is not known (revoked, or never issued)".into(),
            Refusal::ApiKeyExpired { key_id, .. } => format!("the API key `{key_id}` has expired"),
            Refusal::ClientCertificateMissing {
                api, why, accepts_jwt, ..
            } => {
                let otherwise = if *accepts_jwt {
                    "an API key or a bearer token"
                } else {
                    "an API key"
                };
                match why {
                    NoCertificate::PlainHttp => format!(
                        "API `{api}` takes a client certificate, which a plain-HTTP request cannot present; \
                         call the gateway's TLS listener (https) with it, or send {otherwise}"
                    ),
                    NoCertificate::NotPresented => format!(
                        "API `{api}` takes a client certificate, and none was presented in the TLS handshake; \
                         present one signed by the client CA, or send {otherwise}"
                    ),
                    NoCertificate::NotRequested => format!(
                        "API `{api}` takes a client certificate, but this gateway has no client CA \
                         (tls.client_ca_pem), so it asks for none; send {otherwise}"
                    ),
                }
            }
            Refusal::ClientCertificateUnknown {
                fingerprint, subject, ..
            } => format!(
                "the client certificate `{subject}` (SHA-256 {fingerprint}) is not registered to any application \
                 (revoked, or never registered)"
            ),
            Refusal::ClientCertificateExpired { key_id, .. } => {
                format!("the client certificate `{key_id}` has expired")
            }
            Refusal::JwtRejected { reason, .. } => format!("the bearer token was refused: {reason}"),
            Refusal::JwksUnavailable => "the token issuer's keys cannot be fetched right now; try again shortly".into(),
            Refusal::AccessDenied { detail } | Refusal::PolicyIpDenied { detail } => detail.clone(),
            Refusal::RateLimited { plan, .. } => {
                format!("the rate limit of plan `{plan}` is spent; retry after the Retry-After delay")
            }
            Refusal::QuotaExceeded { plan, .. } => format!("the quota of plan `{plan}` is spent for this period"),
            Refusal::LimiterUnavailable => "the rate-limit store is unavailable and this gateway fails closed".into(),
            Refusal::UpstreamUnavailable { api } => format!("the upstream of API `{api}` could not be reached"),
            Refusal::UpstreamTimeout { api } => format!("the upstream of API `{api}` did not answer in time"),
            Refusal::HttpsRequired { api, .. } => format!("API `{api}` is served over https only; use the Location"),
            Refusal::CorsOriginDenied { api, origin } => {
                format!("API `{api}` does not allow cross-origin requests from `{origin}`")
            }
            Refusal::IpDenied { address, list } => format!("the client address {address} is refused by the {list}"),
            Refusal::BodyTooLarge { api, limit } => {
                format!("API `{api}` takes request bodies of at most {limit} bytes (max_body_bytes)")
            }
            Refusal::RequestInvalid {
                target,
                operation,
                violations,
                unlisted,
            } => {
                let count = violations.len() + unlisted;
                let listed = if *unlisted > 0 {
                    format!("; the first {} are listed", violations.len())
                } else {
                    String::new()
                };
                let noun = if count == 1 { "violation" } else { "violations" };
                format!(
                    "the request does not match operation `{operation}` of {target}'s OpenAPI document: {count} {noun}{listed}"
                )
            }
            Refusal::OperationUnknown {
                target,
                method,
                path,
                allow,
            } => match allow.as_ref().and_then(|allow| allow.to_str().ok()) {
                Some(allow) => {
                    format!("{target}'s OpenAPI document has no {method} operation at `{path}`; it has {allow}")
                }
                None => format!("{target}'s OpenAPI document has no operation at `{path}`"),
            },
        }
    }

    /// The problem+json response, with the headers the refusal carries.
    pub fn into_response(self, request_id: Option<&str>) -> Response<ResponseBody> {
        let status = self.status();
        let problem = Problem {
            type_: format!("urn:gatehouse:gateway:{}", self.rule()),
            title: status.canonical_reason().unwrap_or("Error"),
            status: status.as_u16(),
            detail: self.detail(),
            rule: self.rule(),
            request_id,
            successor: match &self {
                Refusal::VersionRetired {
                    lifecycle: Some(lifecycle),
                    ..
                } => lifecycle.successor().map(|successor| &*successor.name),
                _ => None,
            },
            errors: match &self {
                Refusal::RequestInvalid { violations, .. } => Some(violations),
                _ => None,
            },
        };
        let body = serde_json::to_vec(&problem).expect("a problem always serialises");
        let mut response = Response::new(Either::Right(Full::new(Bytes::from(body))));
        *response.status_mut() = status;
        let headers = response.headers_mut();
        headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/problem+json"));
        match self {
            Refusal::CredentialsMissing { challenge, .. }
            | Refusal::ApiKeyUnknown { challenge }
            | Refusal::ApiKeyExpired { challenge, .. }
            | Refusal::ClientCertificateMissing { challenge, .. }
            | Refusal::ClientCertificateUnknown { challenge, .. }
            | Refusal::ClientCertificateExpired { challenge, .. }
            | Refusal::JwtRejected { challenge, .. } => {
                headers.insert(WWW_AUTHENTICATE, challenge);
            }
            Refusal::VersionRetired {
                lifecycle: Some(lifecycle),
                ..
            } => lifecycle.apply(headers),
            Refusal::RateLimited {
                headers: limit_headers, ..
            }
            | Refusal::QuotaExceeded {
                headers: limit_headers, ..
            } => {
                headers.extend(limit_headers);
            }
            Refusal::HttpsRequired { location, .. } => {
                headers.insert(http::header::LOCATION, location);
            }
            Refusal::OperationUnknown { allow: Some(allow), .. } => {
                headers.insert(http::header::ALLOW, allow);
            }
            _ => {}
        }
        response
    }
}

#[cfg(test)]
mod tests;
