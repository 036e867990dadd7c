//! The JWKS HTTP client: one GET with a deadline and a size cap, over http or https (rustls on
//! `ring`, trusting the Mozilla roots compiled in from `webpki-roots`, so no system store is
//! needed), and the lifetime the response's `Cache-Control` gives. Caching is `jwks`'s job.

use std::error::Error as StdError;
use std::time::Duration;

use http_body_util::{BodyExt as _, Empty, LengthLimitError, Limited};
use hyper::body::Bytes;
use hyper::header::{ACCEPT, CACHE_CONTROL, HeaderMap, USER_AGENT};
use hyper::{Request, StatusCode, Uri};
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;

/// Fetches JWK Sets; one per [`super::JwksCache`], shared by all its URLs.
pub(crate) struct JwksClient {
    client: Client<HttpsConnector<HttpConnector>, Empty<Bytes>>,
    timeout: Duration,
    max_body_bytes: usize,
}

/// A JWKS response: its body, and for how long the server says it may be cached.
pub(crate) struct JwksResponse {
    pub body: Bytes,
    pub max_age: Option<Duration>,
}

/// Why a fetch failed; logged, never shown to clients.
#[derive(Debug, thiserror::Error)]
pub(crate) enum FetchError {
    #[error("no answer within {0:?}")]
    Timeout(Duration),
    #[error("answered HTTP {0}")]
    Status(StatusCode),
    #[error("request failed: {0}")]
    Transport(String),
    #[error("the body is larger than {0} bytes")]
    TooLarge(usize),
    #[error("the body could not be read: {0}")]
    Body(String),
}

impl JwksClient {
    /// A client whose requests, connection included, end after `timeout`.
    pub fn new(timeout: Duration, max_body_bytes: usize) -> JwksClient {
        let mut http = HttpConnector::new();
        http.enforce_http(false);
        http.set_connect_timeout(Some(timeout));
        let https = hyper_rustls::HttpsConnectorBuilder::new()
            .with_provider_and_webpki_roots(rustls::crypto::ring::default_provider())
            .expect("ring supports rustls's default protocol versions")
            .https_or_http()
            .enable_http1()
            .wrap_connector(http);
        // Key sets are fetched minutes apart: an idle connection would only go stale in the pool.
        let client = Client::builder(TokioExecutor::new())
            .pool_max_idle_per_host(0)
            .build(https);
        JwksClient {
            client,
            timeout,
            max_body_bytes,
        }
    }

    /// GETs `uri`, following no redirects, and reads at most `max_body_bytes` of a 2xx body.
    pub async fn get(&self, uri: &Uri) -> Result<JwksResponse, FetchError> {
        tokio::time::timeout(self.timeout, self.get_within_deadline(uri))
            .await
            .map_err(|_| FetchError::Timeout(self.timeout))?
    }

    async fn get_within_deadline(&self, uri: &Uri) -> Result<JwksResponse, FetchError> {
        let request = Request::get(uri.clone())
            .header(ACCEPT, "application/jwk-set+json, application/json")
            .header(USER_AGENT, "gatehouse-gateway")
            .body(Empty::new())
            .map_err(|error| FetchError::Transport(error.to_string()))?;
        let response = self
            .client
            .request(request)
            .await
            .map_err(|error| FetchError::Transport(error_chain(&error)))?;
        if !response.status().is_success() {
            return Err(FetchError::Status(response.status()));
        }
        let max_age = cache_control_max_age(response.headers());
        let body = Limited::new(response.into_body(), self.max_body_bytes)
            .collect()
            .await
            .map_err(|error| {
                if error.downcast_ref::<LengthLimitError>().is_some() {
                    FetchError::TooLarge(self.max_body_bytes)
                } else {
                    FetchError::Body(error_chain(&*error))
                }
            })?
            .to_bytes();
        Ok(JwksResponse { body, max_age })
    }
}

/// The `max-age` of a `Cache-Control` header, if it has one; `no-store` and `no-cache` read as
/// zero (the cache then applies its own floor, so the identity provider is not asked every time).
pub(crate) fn cache_control_max_age(headers: &HeaderMap) -> Option<Duration> {
    let mut max_age = None;
    for value in headers.get_all(CACHE_CONTROL) {
        let Ok(value) = value.to_str() else { continue };
        for directive in value.split(',') {
            let directive = directive.trim();
            let (name, argument) = directive.split_once('=').unwrap_or((directive, ""));
            let name = name.trim();
            if name.eq_ignore_ascii_case("no-store") || name.eq_ignore_ascii_case("no-cache") {
                return Some(Duration::ZERO);
            }
            if name.eq_ignore_ascii_case("max-age")
                && let Ok(seconds) = argument.trim().trim_matches('"').parse::<u64>()
            {
                max_age = Some(Duration::from_secs(seconds));
            }
        }
    }
    max_age
}

/// An error and its causes on one line: hyper's own message ("client error (Connect)") says
/// little without the cause beneath it.
fn error_chain(error: &(dyn StdError + 'static)) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

#[cfg(test)]
mod tests;
