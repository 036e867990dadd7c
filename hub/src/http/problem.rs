//! Errors as RFC 9457 `application/problem+json`: the one place a [`HubError`] or a rejected
//! request becomes a response. Internal causes are logged here and never sent.

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::ToSchema;

use crate::error::HubError;
use crate::validate::FieldError;

/// A problem report (RFC 9457).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Problem {
    /// A URI naming the kind of problem.
    #[serde(rename = "type")]
    #[schema(example = "urn:gatehouse:problem:invalid")]
    pub type_: String,
    /// A short summary of the kind of problem.
    pub title: String,
    /// The HTTP status code.
    pub status: u16,
    /// What happened in this case.
    pub detail: String,
    /// Each invalid field, when the request body or parameters broke rules.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
}

/// Anything an admin API handler can fail with.
#[derive(Debug)]
pub enum ApiError {
    Hub(HubError),
    /// The request could not be read: bad JSON, a wrong content type, a body too large, a bad
    /// parameter. Nothing was changed.
    Rejected {
        status: StatusCode,
        detail: String,
        errors: Vec<FieldError>,
    },
}

impl From<HubError> for ApiError {
    fn from(error: HubError) -> Self {
        ApiError::Hub(error)
    }
}

impl ApiError {
    /// A rejected request about one field.
    pub fn rejected(status: StatusCode, field: Option<String>, detail: impl Into<String>) -> Self {
        let detail = detail.into();
        let errors = field
            .map(|field| vec![FieldError::new(field, detail.clone())])
            .unwrap_or_default();
        ApiError::Rejected { status, detail, errors }
    }

    /// The status and problem this error is shown as.
    pub fn problem(&self) -> Problem {
        let (status, slug, detail, errors) = match self {
            ApiError::Hub(error) => {
                let (status, slug) = status_of(error);
                let detail = match error {
                    HubError::Store(_) => "the hub could not complete the request; it has been logged".to_owned(),
                    HubError::Invalid(errors) => summarize(errors),
                    other => other.to_string(),
                };
                let errors = match error {
                    HubError::Invalid(errors) => errors.clone(),
                    _ => Vec::new(),
                };
                (status, slug, detail, errors)
            }
            ApiError::Rejected { status, detail, errors } => {
                (*status, slug_of_status(*status), detail.clone(), errors.clone())
            }
        };
        Problem {
            type_: format!("urn:gatehouse:problem:{slug}"),
            title: status.canonical_reason().unwrap_or("Error").to_owned(),
            status: status.as_u16(),
            detail,
            errors,
        }
    }
}

/// The status of each hub error: the table the API promises.
pub fn status_of(error: &HubError) -> (StatusCode, &'static str) {
    match error {
        HubError::Invalid(_) => (StatusCode::UNPROCESSABLE_ENTITY, "invalid"),
        HubError::NotFound { .. } => (StatusCode::NOT_FOUND, "not-found"),
        HubError::Conflict { .. } => (StatusCode::CONFLICT, "conflict"),
        HubError::Unauthenticated { .. } => (StatusCode::UNAUTHORIZED, "unauthenticated"),
        HubError::Forbidden { .. } => (StatusCode::FORBIDDEN, "forbidden"),
        HubError::Store(_) => (StatusCode::INTERNAL_SERVER_ERROR, "internal"),
    }
}

fn slug_of_status(status: StatusCode) -> &'static str {
    match status {
        StatusCode::PAYLOAD_TOO_LARGE => "body-too-large",
        StatusCode::UNSUPPORTED_MEDIA_TYPE => "unsupported-media-type",
        StatusCode::NOT_FOUND => "not-found",
        StatusCode::METHOD_NOT_ALLOWED => "method-not-allowed",
        StatusCode::UNPROCESSABLE_ENTITY => "invalid",
        StatusCode::SERVICE_UNAVAILABLE => "unavailable",
        _ => "bad-request",
    }
}

fn summarize(errors: &[FieldError]) -> String {
    let parts: Vec<String> = errors
        .iter()
        .map(|error| format!("{}: {}", error.field, error.message))
        .collect();
    parts.join("; ")
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        if let ApiError::Hub(HubError::Store(error)) = &self {
            tracing::error!(error = %error, "store failure");
        }
        let problem = self.problem();
        let status = StatusCode::from_u16(problem.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let mut response = (status, Json(problem)).into_response();
        let headers = response.headers_mut();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        );
        if status == StatusCode::UNAUTHORIZED {
            headers.insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static(r#"Bearer realm="gatehouse", Basic realm="gatehouse""#),
            );
        }
        response
    }
}

#[cfg(test)]
mod tests;
