//! The gateway's HTTP client for its hub: opening the snapshot stream, posting status and usage,
//! with the gateway token, over http or https (rustls on `ring` with the `webpki-roots`, as the JWKS
//! client does). Reading the stream and deciding what to do about failures is `hub`'s job.

use std::time::Duration;

use http::header::{ACCEPT, AUTHORIZATION, CACHE_CONTROL, CONTENT_TYPE, HeaderValue, USER_AGENT};
use http::{Request, StatusCode, Uri};
use http_body_util::{BodyExt as _, Full, Limited};
use hyper::body::{Bytes, Incoming};
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::{TokioExecutor, TokioTimer};

use super::HubSettingsError;
use super::status::StatusReport;
use super::usage::{Undelivered, UsageReport, UsageSink};
use crate::source::sse::EventTooLarge;

/// The stream's path under the hub's URL.
pub const STREAM_PATH: &str = "/api/v1/gateway/stream";
/// The status endpoint's path under the hub's URL.
pub const STATUS_PATH: &str = "/api/v1/gateway/status";
/// The usage endpoint's path under the hub's URL.
pub const USAGE_PATH: &str = "/api/v1/gateway/usage";

/// What went wrong talking to the hub; logged, and decides how long to wait before retrying.
#[derive(Debug, thiserror::Error)]
pub enum HubError {
    /// The token is unknown or revoked (401) or not allowed (403).
    #[error("the hub refused the gateway token (HTTP {status}){detail}")]
    Unauthorized { status: StatusCode, detail: String },
    #[error("the hub answered HTTP {0}")]
    Status(StatusCode),
    /// Any other 4xx: the request itself was refused (an invalid or too large body).
    #[error("the hub refused the request (HTTP {status}){detail}")]
    Rejected { status: StatusCode, detail: String },
    #[error("the hub answered `{0}`, not text/event-stream")]
    NotEventStream(String),
    #[error("the hub did not answer within {0:?}")]
    Timeout(Duration),
    #[error("nothing from the hub for {0:?}, not even a keepalive")]
    Idle(Duration),
    #[error("{0}")]
    Transport(String),
    #[error(transparent)]
    TooLarge(#[from] EventTooLarge),
}

/// A client for one hub and one gateway token.
#[derive(Clone)]
pub struct HubClient {
    client: Client<HttpsConnector<HttpConnector>, Full<Bytes>>,
    endpoints: Endpoints,
    /// `Bearer <token>`, marked sensitive so it never prints.
    authorization: HeaderValue,
    timeout: Duration,
}

impl HubClient {
    /// A client for the hub at `url`; `timeout` bounds connecting plus waiting for response
    /// headers (the stream's body has no deadline, only `hub`'s idle timeout).
    pub fn new(url: &str, token: &str, timeout: Duration) -> Result<HubClient, HubSettingsError> {
        let endpoints = endpoints(url)?;
        let mut authorization = authorization(token)?;
        authorization.set_sensitive(true);
        let mut http = HttpConnector::new();
        http.enforce_http(false);
        http.set_nodelay(true);
        http.set_connect_timeout(Some(timeout));
        let https = hyper_rustls::HttpsConnectorBuilder::new()
            .with_provider_and_webpki_roots(rustls::crypto::ring::default_provider())
            .expect("ring supports rustls's default protocol versions")
            .https_or_http()
            .enable_http1()
            .wrap_connector(http);
        let client = Client::builder(TokioExecutor::new())
            .pool_timer(TokioTimer::new())
            .pool_idle_timeout(Duration::from_secs(30))
            .build(https);
        Ok(HubClient {
            client,
            endpoints,
            authorization,
            timeout,
        })
    }

    /// The stream URL, for logs.
    pub fn stream_uri(&self) -> &Uri {
        &self.endpoints.stream
    }

    /// Opens the snapshot stream; `last_event_id` is the revision in force, so the hub sends
    /// nothing until it has a newer one. Returns the event-stream body.
    pub async fn open_stream(&self, last_event_id: Option<u64>) -> Result<Incoming, HubError> {
        let mut request = Request::get(self.endpoints.stream.clone())
            .header(AUTHORIZATION, self.authorization.clone())
            .header(ACCEPT, "text/event-stream")
            .header(CACHE_CONTROL, "no-cache")
            .header(USER_AGENT, user_agent());
        if let Some(revision) = last_event_id {
            request = request.header("last-event-id", revision);
        }
        let request = request
            .body(Full::default())
            .map_err(|error| HubError::Transport(error.to_string()))?;
        let response = self.send(request).await?;
        let status = response.status();
        if status != StatusCode::OK {
            return Err(refusal(status, response.into_body()).await);
        }
        let content_type = response
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|value| value.to_str().ok())
            .unwrap_or("")
            .to_owned();
        if !content_type.to_ascii_lowercase().starts_with("text/event-stream") {
            return Err(HubError::NotEventStream(content_type));
        }
        Ok(response.into_body())
    }

    /// Posts a status report; the hub answers 204.
    pub async fn post_status(&self, report: &StatusReport) -> Result<(), HubError> {
        let body = serde_json::to_vec(report).expect("a status report always serialises");
        self.post_json(&self.endpoints.status, body).await
    }

    /// Posts a usage report; the hub answers 204.
    pub async fn post_usage(&self, report: &UsageReport) -> Result<(), HubError> {
        let body = serde_json::to_vec(report).expect("a usage report always serialises");
        self.post_json(&self.endpoints.usage, body).await
    }

    async fn post_json(&self, uri: &Uri, body: Vec<u8>) -> Result<(), HubError> {
        let request = Request::post(uri.clone())
            .header(AUTHORIZATION, self.authorization.clone())
            .header(CONTENT_TYPE, "application/json")
            .header(USER_AGENT, user_agent())
            .body(Full::new(Bytes::from(body)))
            .map_err(|error| HubError::Transport(error.to_string()))?;
        let response = self.send(request).await?;
        let status = response.status();
        if !status.is_success() {
            return Err(refusal(status, response.into_body()).await);
        }
        // Read the (empty) body to the end so the connection goes back to the pool.
        let _ = tokio::time::timeout(self.timeout, response.into_body().collect()).await;
        Ok(())
    }

    async fn send(&self, request: Request<Full<Bytes>>) -> Result<http::Response<Incoming>, HubError> {
        tokio::time::timeout(self.timeout, self.client.request(request))
            .await
            .map_err(|_| HubError::Timeout(self.timeout))?
            .map_err(|error| HubError::Transport(error_chain(&error)))
    }
}

/// The endpoints under the hub's base URL.
#[derive(Debug, Clone)]
pub struct Endpoints {
    pub stream: Uri,
    pub status: Uri,
    pub usage: Uri,
}

/// The stream, status and usage URLs under the hub's base URL.
pub fn endpoints(url: &str) -> Result<Endpoints, HubSettingsError> {
    let base: Uri = url
        .parse()
        .map_err(|error: http::uri::InvalidUri| HubSettingsError::Url(error.to_string()))?;
    match base.scheme_str() {
        Some("http" | "https") => {}
        _ => return Err(HubSettingsError::Url("it must start with http:// or https://".into())),
    }
    if base.host().is_none_or(str::is_empty) {
        return Err(HubSettingsError::Url("it names no host".into()));
    }
    if base
        .authority()
        .is_some_and(|authority| authority.as_str().contains('@'))
    {
        return Err(HubSettingsError::Url(
            "it may not hold credentials: the token is the gateway's only one".into(),
        ));
    }
    if base.query().is_some() {
        return Err(HubSettingsError::Url("it may not have a query".into()));
    }
    let base = url.trim_end_matches('/');
    let join = |path: &str| {
        format!("{base}{path}")
            .parse::<Uri>()
            .map_err(|error| HubSettingsError::Url(error.to_string()))
    };
    Ok(Endpoints {
        stream: join(STREAM_PATH)?,
        status: join(STATUS_PATH)?,
        usage: join(USAGE_PATH)?,
    })
}

impl UsageSink for HubClient {
    /// A refused token, a timeout, 408, 429 and 5xx are worth another try; any other 4xx (an
    /// invalid report, one too large: [`HubError::Rejected`]) is not.
    async fn deliver(&self, report: &UsageReport) -> Result<(), Undelivered> {
        self.post_usage(report).await.map_err(|error| match error {
            HubError::Rejected { .. } => Undelivered::Refused(error.to_string()),
            error => Undelivered::Later(error.to_string()),
        })
    }
}

/// `Bearer <token>`, for a token of visible ASCII characters.
pub fn authorization(token: &str) -> Result<HeaderValue, HubSettingsError> {
    if token.is_empty() {
        return Err(HubSettingsError::Token("it is empty"));
    }
    if token.bytes().any(|byte| !byte.is_ascii_graphic()) {
        return Err(HubSettingsError::Token("it may hold only visible ASCII characters"));
    }
    HeaderValue::try_from(format!("Bearer {token}"))
        .map_err(|_| HubSettingsError::Token("it may hold only visible ASCII characters"))
}

fn user_agent() -> &'static str {
    concat!("gatehouse-gateway/", env!("CARGO_PKG_VERSION"))
}

/// A non-success answer as an error, with the problem's `detail` (or `title`) for a refused
/// token or request. 408 and 429 say "later", as 5xx do.
async fn refusal(status: StatusCode, body: Incoming) -> HubError {
    let later = [StatusCode::REQUEST_TIMEOUT, StatusCode::TOO_MANY_REQUESTS];
    if !status.is_client_error() || later.contains(&status) {
        return HubError::Status(status);
    }
    let body = tokio::time::timeout(Duration::from_secs(1), Limited::new(body, 4096).collect()).await;
    let problem = match body {
        Ok(Ok(collected)) => serde_json::from_slice::<serde_json::Value>(&collected.to_bytes()).ok(),
        _ => None,
    };
    let detail = problem
        .as_ref()
        .and_then(|problem| problem.get("detail").or_else(|| problem.get("title")))
        .and_then(|text| text.as_str())
        .map(|text| format!(": {text}"))
        .unwrap_or_default();
    if status == StatusCode::UNAUTHORIZED || status == StatusCode::FORBIDDEN {
        HubError::Unauthorized { status, detail }
    } else {
        HubError::Rejected { status, detail }
    }
}

/// An error and its causes on one line: hyper's own message ("client error (Connect)") says
/// little without the cause beneath it.
fn error_chain(error: &(dyn std::error::Error + 'static)) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}
