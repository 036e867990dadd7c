//! Certificates: the gateways' TLS listener certificates, each with its subject, DNS names and
//! days left (flagged under `EXPIRY_WARNING_DAYS`), an upload form (a new name creates, a known
//! one replaces), and delete. The private key is sent up and never shown again.

use askama::Template;
use axum::Form;
use axum::extract::{Path, State};
use axum::response::Response;
use chrono::Utc;
use serde::Deserialize;

use super::{CsrfForm, Nav, refused, see};
use crate::dashboard::error::DashboardError;
use crate::dashboard::form::{FieldErrors, Refused, head};
use crate::dashboard::session::SignedIn;
use crate::domain::objects;
use crate::error::HubError;
use crate::http::AppState;
use crate::model::certificate::EXPIRY_WARNING_DAYS;
use crate::model::{Certificate, CertificateInput, CertificateView, Kind};
use crate::web::render;

/// One row of the list.
pub struct Row {
    pub view: CertificateView,
    pub days_left: i64,
    /// Under the warning threshold (or expired).
    pub expiring: bool,
}

/// What the upload form holds, as typed; the key is never filled back in.
#[derive(Deserialize, Default)]
pub struct UploadForm {
    #[serde(default)]
    csrf: Option<String>,
    #[serde(default)]
    name: String,
    #[serde(default)]
    description: String,
    #[serde(default)]
    chain_pem: String,
    #[serde(default)]
    key_pem: String,
}

#[derive(Template)]
#[template(path = "hub/certificates.html")]
struct ListPage {
    nav: Option<Nav>,
    rows: Vec<Row>,
    form: UploadForm,
    errors: FieldErrors,
    warning_days: i64,
}

fn place(field: &str) -> Option<&'static str> {
    match head(field) {
        "name" => Some("name"),
        "description" => Some("description"),
        "chain_pem" => Some("chain_pem"),
        "key_pem" => Some("key_pem"),
        _ => None,
    }
}

async fn page(
    signed_in: &SignedIn,
    state: &AppState,
    form: UploadForm,
    errors: FieldErrors,
) -> Result<ListPage, DashboardError> {
    let now = Utc::now();
    let rows = objects::all::<Certificate>(&state.store)
        .await?
        .iter()
        .map(|certificate| {
            let view = certificate.view();
            let days_left = Certificate::days_left(&view, now);
            Row {
                view,
                days_left,
                expiring: days_left < EXPIRY_WARNING_DAYS,
            }
        })
        .collect();
    Ok(ListPage {
        nav: Nav::of(signed_in, "certificates"),
        rows,
        form,
        errors,
        warning_days: EXPIRY_WARNING_DAYS,
    })
}

pub async fn list(signed_in: SignedIn, State(state): State<AppState>) -> Result<Response, DashboardError> {
    Ok(render(
        &page(&signed_in, &state, UploadForm::default(), FieldErrors::default()).await?,
    ))
}

/// Creates the certificate, or replaces the one of that name.
pub async fn upload(
    signed_in: SignedIn,
    State(state): State<AppState>,
    Form(mut form): Form<UploadForm>,
) -> Result<Response, DashboardError> {
    let actor = signed_in.authorize_change(form.csrf.as_deref()).await?;
    let name = form.name.trim().to_owned();
    let input = CertificateInput {
        name: name.clone(),
        description: form.description.trim().to_owned(),
        chain_pem: form.chain_pem.clone(),
        key_pem: Some(std::mem::take(&mut form.key_pem)),
    };
    let exists = match objects::get::<Certificate>(&state.store, &name).await {
        Ok(_) => true,
        Err(HubError::NotFound { .. }) => false,
        Err(error) => return Err(error.into()),
    };
    let saved = if exists {
        objects::replace::<Certificate>(&state.store, actor, &name, input).await
    } else {
        objects::create::<Certificate>(&state.store, actor, input).await
    };
    match saved {
        Ok(_) => Ok(see("/dashboard/certificates")),
        Err(error) => match Refused::from_hub(error, place) {
            Refused::Form(errors) => Ok(refused(&page(&signed_in, &state, form, errors).await?)),
            Refused::Page(error) => Err(error),
        },
    }
}

pub async fn delete(
    signed_in: SignedIn,
    State(state): State<AppState>,
    Path(name): Path<String>,
    Form(form): Form<CsrfForm>,
) -> Result<Response, DashboardError> {
    let actor = signed_in.authorize_change(form.csrf.as_deref()).await?;
    objects::delete::<Certificate>(&state.store, actor, &name, false).await?;
    Ok(see("/dashboard/certificates"))
}
