//! Try-it: one call of one documented operation, sent to the gateway (and only there) with the
//! user's API key, so the answer is exactly what the gateway would give that user. The URL is
//! built from the operation's path template with each parameter percent-encoded as one segment,
//! so no input can reach another host or another path: the portal is not an open proxy.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue};
use axum::response::{IntoResponse, Response};
use gateway::snapshot::{ApiSpec, SelectorSpec, VersionSpec};
use reqwest::Url;
use serde::{Deserialize, Serialize};

use crate::PortalState;
use crate::catalog;
use crate::error::PortalError;
use crate::openapi::{self, Operation};
use crate::session::SignedIn;

/// Most bytes of a response body shown; the rest is cut.
pub const MAX_SHOWN_BODY: usize = 1024 * 1024;
/// How long a try-it call may take, all told.
const TIMEOUT: Duration = Duration::from_secs(30);

/// Sends try-it requests to the gateway.
#[derive(Clone)]
pub struct Forwarder {
    client: reqwest::Client,
    base: Url,
}

impl Forwarder {
    pub fn new(gateway_url: &str) -> Result<Forwarder, PortalError> {
        let base = Url::parse(gateway_url)
            .ok()
            .filter(|url| matches!(url.scheme(), "http" | "https") && url.host().is_some())
            .ok_or_else(|| PortalError::Invalid(format!("gateway_url: `{gateway_url}` is not an http(s) URL")))?;
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(TIMEOUT)
            .build()
            .map_err(|error| PortalError::Internal(format!("try-it client: {error}")))?;
        Ok(Forwarder { client, base })
    }

    /// Sends a planned call and reads its answer (the body up to [`MAX_SHOWN_BODY`]).
    pub async fn send(&self, call: Call) -> Result<TryResult, PortalError> {
        let started = Instant::now();
        let method = reqwest::Method::from_bytes(call.method.as_bytes())
            .map_err(|_| PortalError::Invalid(format!("method: `{}` is not an HTTP method", call.method)))?;
        let mut request = self.client.request(method, call.url.clone()).headers(call.headers);
        if let Some(body) = call.body {
            request = request.body(body);
        }
        let mut response = match request.send().await {
            Ok(response) => response,
            Err(error) => {
                return Ok(TryResult::unreachable(&call.url, started.elapsed(), &error));
            }
        };
        let status = response.status().as_u16();
        let headers: Vec<(String, String)> = response
            .headers()
            .iter()
            .map(|(name, value)| (name.to_string(), String::from_utf8_lossy(value.as_bytes()).into_owned()))
            .collect();
        let mut body = Vec::new();
        let mut truncated = false;
        while let Some(chunk) = response.chunk().await.unwrap_or(None) {
            let room = MAX_SHOWN_BODY - body.len();
            if chunk.len() > room {
                body.extend_from_slice(&chunk[..room]);
                truncated = true;
                break;
            }
            body.extend_from_slice(&chunk);
        }
        let latency_ms = started.elapsed().as_secs_f64() * 1000.0;
        let text = String::from_utf8_lossy(&body).into_owned();
        let pretty = serde_json::from_slice::<serde_json::Value>(&body)
            .ok()
            .and_then(|value| serde_json::to_string_pretty(&value).ok());
        Ok(TryResult {
            url: call.url.to_string(),
            status,
            headers,
            body: pretty.unwrap_or(text),
            truncated,
            latency_ms,
            error: None,
        })
    }

    /// Plans the call of `operation` with the user's input: the URL at the gateway, the method,
    /// the headers (version selector, API key, declared header parameters) and the body.
    pub fn plan(
        &self,
        api: &ApiSpec,
        version: Option<&VersionSpec>,
        operation: &Operation,
        input: &TryInput,
    ) -> Result<Call, PortalError> {
        let mut url = self.base.clone();
        let mut headers = HeaderMap::new();
        {
            let mut segments = url
                .path_segments_mut()
                .map_err(|()| PortalError::Internal("the gateway URL cannot take a path".into()))?;
            segments.pop_if_empty();
            segments.extend(api.path_prefix.split('/').filter(|segment| !segment.is_empty()));
            if let Some(SelectorSpec::Path { segment }) = version.and_then(|version| version.selector.as_ref()) {
                segments.push(segment);
            }
            for segment in operation.path.split('/').filter(|segment| !segment.is_empty()) {
                match segment.strip_prefix('{').and_then(|rest| rest.strip_suffix('}')) {
                    Some(name) => {
                        let value = input.params.get(name).map(String::as_str).unwrap_or("");
                        if value.is_empty() {
                            return Err(PortalError::Invalid(format!("params.{name}: the path needs a value")));
                        }
                        if value == "." || value == ".." {
                            return Err(PortalError::Invalid(format!("params.{name}: `{value}` is not a value")));
                        }
                        segments.push(value);
                    }
                    None => {
                        segments.push(segment);
                    }
                }
            }
        }
        for parameter in &operation.parameters {
            let Some(value) = input.params.get(&parameter.name).filter(|value| !value.is_empty()) else {
                if parameter.required && parameter.location != "path" {
                    return Err(PortalError::Invalid(format!(
                        "params.{}: this parameter is required",
                        parameter.name
                    )));
                }
                continue;
            };
            match parameter.location.as_str() {
                "query" => {
                    url.query_pairs_mut().append_pair(&parameter.name, value);
                }
                "header" => {
                    let (name, value) = header(&parameter.name, value)?;
                    headers.insert(name, value);
                }
                _ => {}
            }
        }
        match version.and_then(|version| version.selector.as_ref()) {
            Some(SelectorSpec::Header { name, value }) => {
                let (name, value) = header(name, value)?;
                headers.insert(name, value);
            }
            Some(SelectorSpec::Query { name, value }) => {
                url.query_pairs_mut().append_pair(name, value);
            }
            _ => {}
        }
        let key = input.api_key.trim();
        if !key.is_empty() {
            let (name, value) = header(&api.authentication.api_key_header, key)?;
            headers.insert(name, value);
        }
        if let Some(host) = api.host.as_deref().filter(|host| !host.starts_with("*.")) {
            let (name, value) = header("host", host)?;
            headers.insert(name, value);
        }
        let body = input
            .body
            .clone()
            .filter(|body| !body.is_empty() && operation.request_body.is_some());
        if let (Some(_), Some(declared)) = (&body, &operation.request_body) {
            let (name, value) = header("content-type", &declared.content_type)?;
            headers.insert(name, value);
        }
        Ok(Call {
            method: operation.method.clone(),
            url,
            headers,
            body,
        })
    }
}

fn header(name: &str, value: &str) -> Result<(HeaderName, HeaderValue), PortalError> {
    let header_name = HeaderName::from_bytes(name.as_bytes())
        .map_err(|_| PortalError::Invalid(format!("params.{name}: not a header name")))?;
    let header_value =
        HeaderValue::from_str(value).map_err(|_| PortalError::Invalid(format!("params.{name}: not a header value")))?;
    Ok((header_name, header_value))
}

/// A call ready to send.
#[derive(Debug)]
pub struct Call {
    pub method: String,
    pub url: Url,
    pub headers: HeaderMap,
    pub body: Option<String>,
}

/// What the page sends.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TryInput {
    /// The version's name; absent for an API without versions.
    #[serde(default)]
    pub version: Option<String>,
    pub method: String,
    /// The operation's path template, as the document has it.
    pub path: String,
    #[serde(default)]
    pub params: BTreeMap<String, String>,
    #[serde(default)]
    pub body: Option<String>,
    /// One of the user's API keys; the portal never stores it.
    #[serde(default)]
    pub api_key: String,
}

/// What the gateway answered.
#[derive(Debug, Serialize)]
pub struct TryResult {
    pub url: String,
    pub status: u16,
    pub headers: Vec<(String, String)>,
    /// Pretty-printed when it is JSON.
    pub body: String,
    pub truncated: bool,
    pub latency_ms: f64,
    /// Set when the gateway could not be reached at all.
    pub error: Option<String>,
}

impl TryResult {
    fn unreachable(url: &Url, elapsed: Duration, error: &reqwest::Error) -> TryResult {
        TryResult {
            url: url.to_string(),
            status: 0,
            headers: Vec::new(),
            body: String::new(),
            truncated: false,
            latency_ms: elapsed.as_secs_f64() * 1000.0,
            error: Some(format!("the gateway did not answer: {error}")),
        }
    }
}

/// `POST /apis/{api}/try`: a JSON call from the page's script, with the CSRF token in a header.
pub async fn handle(
    State(state): State<PortalState>,
    signed_in: SignedIn,
    Path(api): Path<String>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    match try_call(&state, &signed_in, &api, &headers, &body).await {
        Ok(result) => Json(result).into_response(),
        Err(error) => {
            let status = error.status();
            let problem = serde_json::json!({
                "type": "about:blank",
                "title": status.canonical_reason().unwrap_or("error"),
                "status": status.as_u16(),
                "detail": error.public_message(),
            });
            (
                status,
                [("content-type", "application/problem+json")],
                problem.to_string(),
            )
                .into_response()
        }
    }
}

async fn try_call(
    state: &PortalState,
    signed_in: &SignedIn,
    api: &str,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<TryResult, PortalError> {
    let token = headers.get(crate::csrf::HEADER).and_then(|value| value.to_str().ok());
    crate::csrf::check(&signed_in.session, token).await?;
    let input: TryInput =
        serde_json::from_slice(body).map_err(|error| PortalError::Invalid(format!("request body: {error}")))?;
    let (entry, published) = catalog::api_for_user(&state.store, &state.catalog, &signed_in.user, api).await?;
    let spec = published
        .snapshot
        .apis
        .iter()
        .find(|spec| spec.name == api)
        .ok_or(PortalError::NotFound)?;
    let version = match &input.version {
        Some(name) => {
            let entry = entry
                .versions
                .iter()
                .find(|version| &version.name == name)
                .ok_or(PortalError::NotFound)?;
            Some(&spec.versions[entry.index])
        }
        None => None,
    };
    let document = match version {
        Some(version) => catalog::version_object(&state.store, api, &version.name)
            .await?
            .and_then(|version| version.spec.openapi),
        None => None,
    }
    .ok_or_else(|| PortalError::Invalid("version: it has no OpenAPI document to try".into()))?;
    let document = openapi::read(&document).map_err(PortalError::Invalid)?;
    let operation = document
        .operations
        .iter()
        .find(|operation| operation.method.eq_ignore_ascii_case(&input.method) && operation.path == input.path)
        .ok_or_else(|| {
            PortalError::Invalid(format!(
                "path: {} {} is not an operation of this version",
                input.method, input.path
            ))
        })?;
    let call = state.try_it.plan(spec, version, operation, &input)?;
    state.try_it.send(call).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use gateway::snapshot::Snapshot;

    fn petstore() -> (ApiSpec, VersionSpec, openapi::Document) {
        let snapshot = Snapshot::parse(
            br#"{"format":1,"apis":[{"name":"petstore","path_prefix":"/pets","upstream":{"targets":[{"url":"http://127.0.0.1:9"}]},
            "versions":[{"name":"v1","status":"published","selector":{"kind":"path","segment":"v1"}}]}]}"#,
        )
        .unwrap();
        let api = snapshot.apis[0].clone();
        let version = api.versions[0].clone();
        let document = openapi::read(
            r#"{"openapi":"3.0.3","info":{"title":"P","version":"1"},"paths":{"/pets/{id}":{"get":{"parameters":[
            {"name":"id","in":"path","required":true,"schema":{"type":"string"}},
            {"name":"verbose","in":"query","schema":{"type":"boolean"}},
            {"name":"x-trace","in":"header","schema":{"type":"string"}}],"responses":{"200":{"description":"ok"}}}}}}"#,
        )
        .unwrap();
        (api, version, document)
    }

    fn input(params: &[(&str, &str)]) -> TryInput {
        TryInput {
            version: Some("v1".into()),
            method: "GET".into(),
            path: "/pets/{id}".into(),
            params: params.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect(),
            body: None,
            api_key: "ghk_test".into(),
        }
    }

    #[test]
    fn calls_go_to_the_gateway_with_each_parameter_in_its_place() {
        let (api, version, document) = petstore();
        let forwarder = Forwarder::new("http://gateway.internal:8000").unwrap();
        let call = forwarder
            .plan(
                &api,
                Some(&version),
                &document.operations[0],
                &input(&[
                    ("id", "7"),
                    ("verbose", "true"),
                    ("x-trace", "abc"),
                    ("undeclared", "x"),
                ]),
            )
            .unwrap();
        assert_eq!(
            call.url.as_str(),
            "http://gateway.internal:8000/pets/v1/pets/7?verbose=true"
        );
        assert_eq!(call.headers["x-api-key"], "ghk_test");
        assert_eq!(call.headers["x-trace"], "abc");
        assert!(!call.url.as_str().contains("undeclared"));
    }

    #[test]
    fn no_parameter_can_leave_the_gateway_or_its_path() {
        let (api, version, document) = petstore();
        let forwarder = Forwarder::new("http://gateway.internal:8000").unwrap();
        let operation = &document.operations[0];
        for hostile in ["../../admin", "http://evil.example/x", "a/b?c#d", "%2e%2e"] {
            let call = forwarder
                .plan(&api, Some(&version), operation, &input(&[("id", hostile)]))
                .unwrap();
            assert_eq!(call.url.host_str(), Some("gateway.internal"), "{hostile}");
            assert!(call.url.path().starts_with("/pets/v1/pets/"), "{hostile}: {}", call.url);
            assert_eq!(
                call.url.path_segments().unwrap().count(),
                4,
                "{hostile} stays one segment: {}",
                call.url
            );
        }
        for refused in ["..", "."] {
            let error = forwarder
                .plan(&api, Some(&version), operation, &input(&[("id", refused)]))
                .unwrap_err();
            assert!(error.to_string().contains("params.id"), "{error}");
        }
        let error = forwarder
            .plan(&api, Some(&version), operation, &input(&[]))
            .unwrap_err();
        assert!(error.to_string().contains("params.id: the path needs a value"));
        let error = forwarder
            .plan(
                &api,
                Some(&version),
                operation,
                &input(&[("id", "1"), ("x-trace", "a\r\nb")]),
            )
            .unwrap_err();
        assert!(error.to_string().contains("params.x-trace"), "{error}");
    }
}
