//! The user's applications and keys.

use askama::Template;
use axum::Form;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use hub::model::{ApiKey, Application, Record};
use serde::Deserialize;

use super::{Nav, render};
use crate::error::PortalError;
use crate::session::SignedIn;
use crate::{PortalState, applications, csrf};

#[derive(Template)]
#[template(path = "portal/applications.html")]
struct ApplicationsPage {
    nav: Option<Nav>,
    csrf: String,
    applications: Vec<Application>,
    error: Option<String>,
    name: String,
}

pub async fn list(State(state): State<PortalState>, signed_in: SignedIn) -> Result<Response, PortalError> {
    let applications = applications::list(&state.store, &signed_in.user).await?;
    Ok(render(&ApplicationsPage {
        nav: Nav::of(&signed_in, "applications"),
        csrf: signed_in.csrf.clone(),
        applications,
        error: None,
        name: String::new(),
    }))
}

#[derive(Deserialize)]
pub struct CreateForm {
    #[serde(default)]
    csrf: Option<String>,
    name: String,
    #[serde(default)]
    description: String,
}

pub async fn create(
    State(state): State<PortalState>,
    signed_in: SignedIn,
    Form(form): Form<CreateForm>,
) -> Result<Response, PortalError> {
    csrf::check(&signed_in.session, form.csrf.as_deref()).await?;
    match applications::create(&state.store, &signed_in.user, &form.name, &form.description).await {
        Ok(application) => Ok(Redirect::to(&format!("/applications/{}", application.id)).into_response()),
        Err(PortalError::Invalid(message)) => {
            let page = ApplicationsPage {
                nav: Nav::of(&signed_in, "applications"),
                csrf: signed_in.csrf.clone(),
                applications: applications::list(&state.store, &signed_in.user).await?,
                error: Some(message),
                name: form.name,
            };
            Ok((axum::http::StatusCode::BAD_REQUEST, render(&page)).into_response())
        }
        Err(error) => Err(error),
    }
}

/// A key as the page lists it.
pub struct KeyRow {
    pub id: String,
    pub name: String,
    pub prefix: String,
    pub created: String,
    /// When the gateway last saw it used, or `None`.
    pub last_used: Option<String>,
    pub revoked: Option<String>,
}

impl KeyRow {
    fn of(record: &Record<ApiKey>, last_used: &std::collections::HashMap<String, i64>) -> KeyRow {
        let when = |time: chrono::DateTime<chrono::Utc>| time.format("%Y-%m-%d %H:%M UTC").to_string();
        KeyRow {
            id: record.object.id.clone(),
            name: record.object.name.clone(),
            prefix: record.object.prefix.clone(),
            created: when(record.meta.created_at),
            last_used: last_used
                .get(&record.object.id)
                .and_then(|seconds| chrono::DateTime::from_timestamp(*seconds, 0))
                .map(when),
            revoked: record.object.revoked_at.map(when),
        }
    }
}

#[derive(Template)]
#[template(path = "portal/application.html")]
struct ApplicationPage {
    nav: Option<Nav>,
    csrf: String,
    application: Application,
    keys: Vec<KeyRow>,
    /// A key just issued: shown this once.
    new_secret: Option<String>,
    error: Option<String>,
}

async fn application_page(
    state: &PortalState,
    signed_in: &SignedIn,
    id: &str,
    new_secret: Option<String>,
    error: Option<String>,
) -> Result<Response, PortalError> {
    let application = applications::owned(&state.store, &signed_in.user, id).await?;
    let records = applications::keys(&state.store, &application).await?;
    let ids: Vec<&str> = records.iter().map(|record| record.object.id.as_str()).collect();
    let last_used = state.usage.last_used(&ids).await;
    let keys = records.iter().map(|record| KeyRow::of(record, &last_used)).collect();
    let status = if error.is_some() {
        axum::http::StatusCode::BAD_REQUEST
    } else {
        axum::http::StatusCode::OK
    };
    let page = ApplicationPage {
        nav: Nav::of(signed_in, "applications"),
        csrf: signed_in.csrf.clone(),
        application,
        keys,
        new_secret,
        error,
    };
    Ok((status, render(&page)).into_response())
}

pub async fn show(
    State(state): State<PortalState>,
    signed_in: SignedIn,
    Path(id): Path<String>,
) -> Result<Response, PortalError> {
    application_page(&state, &signed_in, &id, None, None).await
}

#[derive(Deserialize)]
pub struct IssueForm {
    #[serde(default)]
    csrf: Option<String>,
    name: String,
}

pub async fn issue_key(
    State(state): State<PortalState>,
    signed_in: SignedIn,
    Path(id): Path<String>,
    Form(form): Form<IssueForm>,
) -> Result<Response, PortalError> {
    csrf::check(&signed_in.session, form.csrf.as_deref()).await?;
    match applications::issue_key(&state, &signed_in.user, &id, &form.name).await {
        Ok(secret) => application_page(&state, &signed_in, &id, Some(secret), None).await,
        Err(PortalError::Invalid(message)) => application_page(&state, &signed_in, &id, None, Some(message)).await,
        Err(error) => Err(error),
    }
}

#[derive(Deserialize)]
pub struct KeyForm {
    #[serde(default)]
    csrf: Option<String>,
}

pub async fn revoke_key(
    State(state): State<PortalState>,
    signed_in: SignedIn,
    Path((id, key)): Path<(String, String)>,
    Form(form): Form<KeyForm>,
) -> Result<Response, PortalError> {
    csrf::check(&signed_in.session, form.csrf.as_deref()).await?;
    applications::revoke_key(&state, &signed_in.user, &id, &key).await?;
    Ok(Redirect::to(&format!("/applications/{id}")).into_response())
}

pub async fn rotate_key(
    State(state): State<PortalState>,
    signed_in: SignedIn,
    Path((id, key)): Path<(String, String)>,
    Form(form): Form<KeyForm>,
) -> Result<Response, PortalError> {
    csrf::check(&signed_in.session, form.csrf.as_deref()).await?;
    match applications::rotate_key(&state, &signed_in.user, &id, &key).await {
        Ok(secret) => application_page(&state, &signed_in, &id, Some(secret), None).await,
        Err(PortalError::Invalid(message)) => application_page(&state, &signed_in, &id, None, Some(message)).await,
        Err(error) => Err(error),
    }
}
