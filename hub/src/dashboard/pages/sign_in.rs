//! Sign-in and sign-out, with the same password check and lock-out as the portal.

use askama::Template;
use axum::Form;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use tower_sessions::Session;

use super::{CsrfForm, Nav};
use crate::dashboard::error::DashboardError;
use crate::dashboard::{BASE, session};
use crate::domain::sign_in::{self, SignInError};
use crate::http::AppState;
use crate::model::Role;
use crate::web::{csrf, render};

#[derive(Template)]
#[template(path = "hub/sign_in.html")]
struct SignInPage {
    nav: Option<Nav>,
    csrf: String,
    name: String,
    error: Option<String>,
}

pub async fn page(session: Session) -> Result<Response, DashboardError> {
    if session::is_signed_in(&session).await? {
        return Ok(Redirect::to(BASE).into_response());
    }
    Ok(render(&SignInPage {
        nav: None,
        csrf: csrf::token(&session).await?,
        name: String::new(),
        error: None,
    }))
}

#[derive(Deserialize)]
pub struct SignInForm {
    #[serde(default)]
    csrf: Option<String>,
    #[serde(default)]
    name: String,
    #[serde(default)]
    password: String,
}

pub async fn submit(
    State(state): State<AppState>,
    session: Session,
    Form(form): Form<SignInForm>,
) -> Result<Response, DashboardError> {
    if !csrf::check(&session, form.csrf.as_deref()).await? {
        return Err(DashboardError::Csrf);
    }
    let refusal = match sign_in::with_password(&state.store, &form.name, &form.password).await {
        Ok(user) if user.role >= Role::Viewer => {
            session::begin(&state.store, &session, &user).await?;
            tracing::info!(user = %user.name, "signed in to the dashboard");
            return Ok(Redirect::to(BASE).into_response());
        }
        Ok(_) => (
            StatusCode::FORBIDDEN,
            "this account has the developer role: the dashboard needs viewer or admin; developers use the portal"
                .to_owned(),
        ),
        Err(SignInError::Hub(error)) => return Err(error.into()),
        Err(error @ SignInError::Locked { .. }) => (StatusCode::TOO_MANY_REQUESTS, error.to_string()),
        Err(error) => (StatusCode::UNAUTHORIZED, error.to_string()),
    };
    let page = SignInPage {
        nav: None,
        csrf: csrf::token(&session).await?,
        name: form.name,
        error: Some(refusal.1),
    };
    Ok((refusal.0, render(&page)).into_response())
}

pub async fn sign_out(session: Session, Form(form): Form<CsrfForm>) -> Result<Redirect, DashboardError> {
    if !csrf::check(&session, form.csrf.as_deref()).await? {
        return Err(DashboardError::Csrf);
    }
    session.flush().await?;
    Ok(Redirect::to(&format!("{BASE}/sign-in")))
}
