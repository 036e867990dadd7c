//! The dashboard's errors, rendered as a page; a missing session sends the admin to sign in.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};

use crate::error::HubError;

/// What went wrong while serving a dashboard page.
#[derive(Debug, thiserror::Error)]
pub enum DashboardError {
    #[error("sign in first")]
    SignInRequired,
    /// A form post without the session's CSRF token.
    #[error("this form has expired or did not come from the dashboard: reload the page and try again")]
    Csrf,
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Invalid(String),
    /// The role does not allow it (a viewer posting a change).
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    Internal(String),
}

impl From<HubError> for DashboardError {
    fn from(error: HubError) -> Self {
        match error {
            HubError::NotFound { .. } => DashboardError::NotFound(error.to_string()),
            HubError::Invalid(problems) => DashboardError::Invalid(
                problems
                    .iter()
                    .map(|problem| format!("{}: {}", problem.field, problem.message))
                    .collect::<Vec<_>>()
                    .join("; "),
            ),
            HubError::Conflict { detail } => DashboardError::Invalid(detail),
            HubError::Unauthenticated { .. } => DashboardError::SignInRequired,
            HubError::Forbidden { detail } => DashboardError::Forbidden(detail),
            HubError::Store(error) => DashboardError::Internal(error.to_string()),
        }
    }
}

impl From<tower_sessions::session::Error> for DashboardError {
    fn from(error: tower_sessions::session::Error) -> Self {
        DashboardError::Internal(format!("session: {error}"))
    }
}

impl DashboardError {
    pub fn status(&self) -> StatusCode {
        match self {
            DashboardError::SignInRequired => StatusCode::UNAUTHORIZED,
            DashboardError::Csrf | DashboardError::Forbidden(_) => StatusCode::FORBIDDEN,
            DashboardError::NotFound(_) => StatusCode::NOT_FOUND,
            DashboardError::Invalid(_) => StatusCode::BAD_REQUEST,
            DashboardError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

impl IntoResponse for DashboardError {
    fn into_response(self) -> Response {
        if matches!(self, DashboardError::SignInRequired) {
            return Redirect::to(&format!("{}/sign-in", super::BASE)).into_response();
        }
        let status = self.status();
        let message = match &self {
            DashboardError::Internal(detail) => {
                tracing::error!(%detail, "dashboard request failed");
                "something went wrong on our side; it has been logged".to_owned()
            }
            other => other.to_string(),
        };
        (status, super::pages::error_page(status, &message)).into_response()
    }
}
