//! Applications and keys: every key and client certificate with its owner and last use (from the
//! gateways' usage summaries), revoke, which takes effect at once (credentials are published on
//! their own), and a form to register a client certificate for an application.

use std::collections::HashMap;

use askama::Template;
use axum::extract::{Path, State};
use axum::response::Response;
use chrono::{DateTime, Utc};
use serde::Deserialize;

use super::{CsrfForm, Nav, refused, see};
use crate::dashboard::error::DashboardError;
use crate::dashboard::form::{FieldErrors, Refused, head};
use crate::dashboard::session::SignedIn;
use crate::domain::usage::{self, UsageDimension};
use crate::domain::{api_keys, client_certificates, objects, publish};
use crate::http::AppState;
use crate::identity::Actor;
use crate::model::{ApiKey, Application, ApplicationCertificate, ApplicationCertificateInput};
use crate::web::render;

/// One application with its keys and client certificates, each with its last use.
pub struct Row {
    pub application: Application,
    pub last_used: Option<DateTime<Utc>>,
    pub keys: Vec<(ApiKey, Option<DateTime<Utc>>)>,
    pub certificates: Vec<(ApplicationCertificate, Option<DateTime<Utc>>)>,
}

/// The certificate form, as typed.
#[derive(Deserialize, Default)]
pub struct CertificateForm {
    #[serde(default)]
    csrf: Option<String>,
    /// The application's id.
    #[serde(default)]
    application: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    certificate_pem: String,
}

#[derive(Template)]
#[template(path = "hub/keys.html")]
struct KeysPage {
    nav: Option<Nav>,
    rows: Vec<Row>,
    now: DateTime<Utc>,
    can_change: bool,
    csrf: String,
    /// What was typed in a refused certificate form, and why it was refused.
    form: CertificateForm,
    errors: FieldErrors,
}

async fn page(
    signed_in: &SignedIn,
    state: &AppState,
    form: CertificateForm,
    errors: FieldErrors,
) -> Result<KeysPage, DashboardError> {
    let mut keys: HashMap<String, Vec<ApiKey>> = HashMap::new();
    for key in objects::all::<ApiKey>(&state.store).await? {
        keys.entry(key.application.clone()).or_default().push(key);
    }
    let mut certificates: HashMap<String, Vec<ApplicationCertificate>> = HashMap::new();
    for certificate in objects::all::<ApplicationCertificate>(&state.store).await? {
        certificates
            .entry(certificate.application.clone())
            .or_default()
            .push(certificate);
    }
    let by_application = usage::last_used(&state.store, UsageDimension::Application).await?;
    // Usage names a certificate by its id, in the summaries' `key`, as it does a key.
    let by_key = usage::last_used(&state.store, UsageDimension::Key).await?;
    let rows = objects::all::<Application>(&state.store)
        .await?
        .into_iter()
        .map(|application| Row {
            // Usage names an application by `owner/name`, as the snapshot does.
            last_used: by_application
                .get(&format!("{}/{}", application.owner, application.name))
                .copied(),
            keys: keys
                .remove(&application.id)
                .unwrap_or_default()
                .into_iter()
                .map(|key| {
                    let used = by_key.get(&key.id).copied();
                    (key, used)
                })
                .collect(),
            certificates: certificates
                .remove(&application.id)
                .unwrap_or_default()
                .into_iter()
                .map(|certificate| {
                    let used = by_key.get(&certificate.id).copied();
                    (certificate, used)
                })
                .collect(),
            application,
        })
        .collect();
    Ok(KeysPage {
        nav: Nav::of(signed_in, "keys"),
        rows,
        now: Utc::now(),
        can_change: signed_in.can_change(),
        csrf: signed_in.csrf.clone(),
        form,
        errors,
    })
}

pub async fn list(signed_in: SignedIn, State(state): State<AppState>) -> Result<Response, DashboardError> {
    Ok(render(
        &page(&signed_in, &state, CertificateForm::default(), FieldErrors::default()).await?,
    ))
}

pub async fn revoke(
    signed_in: SignedIn,
    State(state): State<AppState>,
    Path((application, key)): Path<(String, String)>,
    axum::Form(form): axum::Form<CsrfForm>,
) -> Result<Response, DashboardError> {
    let actor = signed_in.authorize_change(form.csrf.as_deref()).await?;
    api_keys::revoke(&state.store, actor, &application, &key).await?;
    publish_credentials(&state, actor, &format!("key {key} revoked in the dashboard")).await?;
    Ok(see("/dashboard/keys"))
}

/// Registers a client certificate for an application, and publishes it at once.
pub async fn register_certificate(
    signed_in: SignedIn,
    State(state): State<AppState>,
    axum::Form(form): axum::Form<CertificateForm>,
) -> Result<Response, DashboardError> {
    let actor = signed_in.authorize_change(form.csrf.as_deref()).await?;
    let input = ApplicationCertificateInput {
        application: form.application.clone(),
        name: form.name.clone(),
        certificate_pem: form.certificate_pem.clone(),
    };
    match client_certificates::register(&state.store, actor, input).await {
        Ok(record) => {
            let message = format!("client certificate {} registered in the dashboard", record.object.id);
            publish_credentials(&state, actor, &message).await?;
            Ok(see("/dashboard/keys"))
        }
        Err(error) => match Refused::from_hub(error, place) {
            Refused::Form(errors) => Ok(refused(&page(&signed_in, &state, form, errors).await?)),
            Refused::Page(error) => Err(error),
        },
    }
}

pub async fn revoke_certificate(
    signed_in: SignedIn,
    State(state): State<AppState>,
    Path((application, id)): Path<(String, String)>,
    axum::Form(form): axum::Form<CsrfForm>,
) -> Result<Response, DashboardError> {
    let actor = signed_in.authorize_change(form.csrf.as_deref()).await?;
    client_certificates::revoke(&state.store, actor, &application, &id).await?;
    let message = format!("client certificate {id} revoked in the dashboard");
    publish_credentials(&state, actor, &message).await?;
    Ok(see("/dashboard/keys"))
}

/// Publishes the credentials alone, leaving drafts of anything else unpublished.
async fn publish_credentials(state: &AppState, actor: &Actor, message: &str) -> Result<(), DashboardError> {
    if let Some(published) = publish::publish_consumers(&state.store, actor, message).await? {
        state.revisions.notify(&published);
    }
    Ok(())
}

fn place(field: &str) -> Option<&'static str> {
    match head(field) {
        "application" => Some("application"),
        "name" => Some("name"),
        "certificate_pem" => Some("certificate_pem"),
        _ => None,
    }
}

/// Whether a key's time is up.
pub fn expired(key: &ApiKey, now: &DateTime<Utc>) -> bool {
    key.expires_at.is_some_and(|expires| expires <= *now)
}
