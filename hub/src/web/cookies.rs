//! The session cookie's `Secure` flag, decided per request: tower-sessions sets it statically,
//! but a portal reached over plain HTTP on a laptop must still work while one behind a TLS
//! proxy must never send its cookie in clear.

use axum::extract::Request;
use axum::http::header::SET_COOKIE;
use axum::http::{HeaderMap, HeaderValue};
use axum::middleware::Next;
use axum::response::Response;

/// When the session cookie is marked `Secure`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SecureCookies {
    /// When the request came over TLS: the public URL is `https://`, or a proxy in front said
    /// `X-Forwarded-Proto: https`.
    Auto,
    Always,
    Never,
}

/// Whether the client reached us over TLS: a proxy in front says so in `X-Forwarded-Proto` (or
/// `Forwarded: proto=https`). Believing a client that lies only withholds its own cookie from
/// plain HTTP, so the header needs no trust configuration for this purpose.
pub fn came_over_https(headers: &HeaderMap) -> bool {
    let forwarded_proto = headers
        .get("x-forwarded-proto")
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.split(',').next())
        .is_some_and(|proto| proto.trim().eq_ignore_ascii_case("https"));
    let forwarded = headers
        .get("forwarded")
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| value.to_ascii_lowercase().contains("proto=https"));
    forwarded_proto || forwarded
}

/// Marks the response's cookies `Secure` when `mode` says the request deserves it.
pub async fn secure_when_https(mode: SecureCookies, https_public_url: bool, request: Request, next: Next) -> Response {
    let secure = match mode {
        SecureCookies::Always => true,
        SecureCookies::Never => false,
        SecureCookies::Auto => https_public_url || came_over_https(request.headers()),
    };
    let mut response = next.run(request).await;
    if secure {
        add_secure(response.headers_mut());
    }
    response
}

fn add_secure(headers: &mut HeaderMap) {
    let cookies: Vec<HeaderValue> = headers.get_all(SET_COOKIE).iter().cloned().collect();
    if cookies.is_empty() {
        return;
    }
    headers.remove(SET_COOKIE);
    for cookie in cookies {
        let marked = cookie.to_str().ok().and_then(|text| {
            let has_secure = text
                .split(';')
                .skip(1)
                .any(|part| part.trim().eq_ignore_ascii_case("secure"));
            (!has_secure)
                .then(|| HeaderValue::from_str(&format!("{text}; Secure")).ok())
                .flatten()
        });
        headers.append(SET_COOKIE, marked.unwrap_or(cookie));
    }
}
