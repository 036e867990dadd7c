//! Extractors that turn every unreadable request into the same problem+json as any other
//! error: a JSON body (with the failing field named), query parameters and path parameters.
//! Parameters holding a control character are refused here, before any reaches the store
//! (Postgres refuses NUL in text, and no name, key or search needs one).

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{StatusCode, header};
use serde::de::DeserializeOwned;

use super::problem::ApiError;

/// A JSON request body. Refuses a missing or wrong content type (415), a body over the limit
/// (413), malformed JSON (400) and JSON of the wrong shape (422, naming the field).
pub struct JsonBody<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for JsonBody<T> {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, ApiError> {
        let content_type = request
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|value| value.to_str().ok());
        let is_json = content_type.is_some_and(|content_type| {
            let essence = content_type.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
            essence == "application/json" || (essence.starts_with("application/") && essence.ends_with("+json"))
        });
        if !is_json {
            return Err(ApiError::rejected(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                None,
                "the request body must be JSON, sent with `Content-Type: application/json`",
            ));
        }
        let bytes = Bytes::from_request(request, state).await.map_err(|rejection| {
            let status = rejection.status();
            let detail = if status == StatusCode::PAYLOAD_TOO_LARGE {
                "the request body is larger than the configured limit".to_owned()
            } else {
                rejection.body_text()
            };
            ApiError::rejected(status, None, detail)
        })?;
        parse_json(&bytes).map(JsonBody)
    }
}

/// Parses JSON, naming the field where it went wrong.
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    let mut deserializer = serde_json::Deserializer::from_slice(bytes);
    let value = serde_path_to_error::deserialize(&mut deserializer).map_err(|error| {
        let path = error.path().to_string();
        let inner = error.into_inner();
        let field = if path == "." { None } else { Some(path) };
        if inner.is_syntax() || inner.is_eof() {
            ApiError::rejected(
                StatusCode::BAD_REQUEST,
                None,
                format!("the request body is not valid JSON: {inner}"),
            )
        } else {
            ApiError::rejected(StatusCode::UNPROCESSABLE_ENTITY, field, inner.to_string())
        }
    })?;
    deserializer.end().map_err(|error| {
        ApiError::rejected(
            StatusCode::BAD_REQUEST,
            None,
            format!("the request body is not valid JSON: {error}"),
        )
    })?;
    Ok(value)
}

/// Query parameters; a bad one, or one with a control character, gets a 400 problem.
pub struct QueryParams<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for QueryParams<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        let pairs = parts.uri.query().unwrap_or_default().split('&');
        for pair in pairs.filter(|pair| !pair.is_empty()) {
            let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
            let name = percent_decode(name);
            if name.iter().chain(&percent_decode(value)).copied().any(is_control) {
                return Err(control_character(&String::from_utf8_lossy(&name), "query"));
            }
        }
        axum::extract::Query::<T>::from_request_parts(parts, state)
            .await
            .map(|axum::extract::Query(value)| QueryParams(value))
            .map_err(|rejection| ApiError::rejected(StatusCode::BAD_REQUEST, None, rejection.body_text()))
    }
}

/// Path parameters; a bad one, or one with a control character, gets a 400 problem.
pub struct PathParams<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned + Send> FromRequestParts<S> for PathParams<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        let raw = axum::extract::RawPathParams::from_request_parts(parts, state)
            .await
            .map_err(|rejection| ApiError::rejected(StatusCode::BAD_REQUEST, None, rejection.body_text()))?;
        if let Some((name, _)) = raw.iter().find(|(_, value)| value.bytes().any(is_control)) {
            return Err(control_character(name, "path"));
        }
        axum::extract::Path::<T>::from_request_parts(parts, state)
            .await
            .map(|axum::extract::Path(value)| PathParams(value))
            .map_err(|rejection| ApiError::rejected(StatusCode::BAD_REQUEST, None, rejection.body_text()))
    }
}

/// A C0 control character or DEL.
fn is_control(byte: u8) -> bool {
    byte < 0x20 || byte == 0x7f
}

fn control_character(name: &str, place: &str) -> ApiError {
    let name: String = name.escape_debug().collect();
    ApiError::rejected(
        StatusCode::BAD_REQUEST,
        Some(name.clone()),
        format!("the {place} parameter `{name}` must not contain control characters"),
    )
}

/// Decodes `%XX` escapes (and `+`, a space in a query); a malformed escape stays as written.
fn percent_decode(text: &str) -> Vec<u8> {
    let bytes = text.as_bytes();
    let mut decoded = Vec::with_capacity(bytes.len());
    let mut index = 0;
    while index < bytes.len() {
        let escaped = match bytes.get(index..index + 3) {
            Some([b'%', high, low]) => hex_value(*high).zip(hex_value(*low)).map(|(high, low)| high << 4 | low),
            _ => None,
        };
        match (escaped, bytes[index]) {
            (Some(byte), _) => {
                decoded.push(byte);
                index += 3;
            }
            (None, b'+') => {
                decoded.push(b' ');
                index += 1;
            }
            (None, byte) => {
                decoded.push(byte);
                index += 1;
            }
        }
    }
    decoded
}

fn hex_value(digit: u8) -> Option<u8> {
    (digit as char).to_digit(16).map(|value| value as u8)
}

#[cfg(test)]
mod tests;
