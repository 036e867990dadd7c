//! The portal's errors, rendered once: as an HTML page for a person, or as problem+json for
//! try-it's script.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use hub::error::HubError;

use crate::pages;

/// What went wrong while serving a portal page.
#[derive(Debug, thiserror::Error)]
pub enum PortalError {
    /// Not signed in: pages send the person to the sign-in page.
    #[error("sign in first")]
    SignInRequired,
    /// A form post without the session's CSRF token.
    #[error("this form has expired or did not come from the portal: reload the page and try again")]
    Csrf,
    /// Not there, or not for this user: the same answer either way, so nothing leaks.
    #[error("there is nothing here")]
    NotFound,
    /// The input is wrong; the message names the field.
    #[error("{0}")]
    Invalid(String),
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    TooManyAttempts(String),
    /// A sign-in with an identity provider was refused; the message says which check failed.
    #[error("{0}")]
    SignInRefused(String),
    #[error("{0}")]
    Internal(String),
}

impl From<HubError> for PortalError {
    fn from(error: HubError) -> Self {
        match error {
            HubError::NotFound { .. } => PortalError::NotFound,
            HubError::Invalid(problems) => PortalError::Invalid(
                problems
                    .iter()
                    .map(|problem| format!("{}: {}", problem.field, problem.message))
                    .collect::<Vec<_>>()
                    .join("; "),
            ),
            HubError::Conflict { detail } => PortalError::Invalid(detail),
            HubError::Unauthenticated { .. } => PortalError::SignInRequired,
            HubError::Forbidden { detail } => PortalError::Forbidden(detail),
            HubError::Store(error) => PortalError::Internal(error.to_string()),
        }
    }
}

impl From<tower_sessions::session::Error> for PortalError {
    fn from(error: tower_sessions::session::Error) -> Self {
        PortalError::Internal(format!("session: {error}"))
    }
}

impl PortalError {
    pub fn status(&self) -> StatusCode {
        match self {
            PortalError::SignInRequired => StatusCode::UNAUTHORIZED,
            PortalError::Csrf | PortalError::Forbidden(_) => StatusCode::FORBIDDEN,
            PortalError::NotFound => StatusCode::NOT_FOUND,
            PortalError::Invalid(_) => StatusCode::BAD_REQUEST,
            PortalError::TooManyAttempts(_) => StatusCode::TOO_MANY_REQUESTS,
            PortalError::SignInRefused(_) => StatusCode::UNAUTHORIZED,
            PortalError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

impl PortalError {
    /// What a person may be told: an internal error's details go to the log, not to them.
    pub fn public_message(&self) -> String {
        match self {
            PortalError::Internal(detail) => {
                tracing::error!(%detail, "portal request failed");
                "something went wrong on our side; it has been logged".to_owned()
            }
            other => other.to_string(),
        }
    }
}

impl IntoResponse for PortalError {
    fn into_response(self) -> Response {
        if matches!(self, PortalError::SignInRequired) {
            return Redirect::to("/sign-in").into_response();
        }
        let status = self.status();
        let message = self.public_message();
        (status, pages::error_page(status, &message)).into_response()
    }
}

pub async fn not_found() -> PortalError {
    PortalError::NotFound
}
