//! Certificates: the gateways' TLS listener certificates, each with its subject, DNS names and
//! days left (flagged under `EXPIRY_WARNING_DAYS`), an upload form (a new name creates, a known
//! one replaces), and delete. The private key is sent up and never shown again. Below them, the
//! client CAs that sign applications' client certificates, with the same upload and delete.

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
use crate::model::{Certificate, CertificateInput, CertificateView, ClientCa, ClientCaView, Kind};
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

/// What the client CA form holds, as typed; its inputs are prefixed so that they do not share
/// ids with the certificate form's.
#[derive(Deserialize, Default)]
pub struct ClientCaForm {
    #[serde(default)]
    csrf: Option<String>,
    #[serde(default)]
    ca_name: String,
    #[serde(default)]
    ca_description: String,
    #[serde(default)]
    ca_pem: String,
}

#[derive(Template)]
#[template(path = "hub/certificates.html")]
struct ListPage {
    nav: Option<Nav>,
    rows: Vec<Row>,
    form: UploadForm,
    errors: FieldErrors,
    warning_days: i64,
    client_cas: Vec<ClientCaView>,
    ca_form: ClientCaForm,
    ca_errors: FieldErrors,
}

/// Both forms as typed and their errors; empty for a plain view of the page.
#[derive(Default)]
struct Forms {
    certificate: UploadForm,
    errors: FieldErrors,
    client_ca: ClientCaForm,
    ca_errors: FieldErrors,
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

fn place_client_ca(field: &str) -> Option<&'static str> {
    match head(field) {
        "name" => Some("ca_name"),
        "description" => Some("ca_description"),
        "ca_pem" => Some("ca_pem"),
        _ => None,
    }
}

async fn page(signed_in: &SignedIn, state: &AppState, forms: Forms) -> Result<ListPage, DashboardError> {
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
    let client_cas = objects::all::<ClientCa>(&state.store)
        .await?
        .iter()
        .map(ClientCa::view)
        .collect();
    Ok(ListPage {
        nav: Nav::of(signed_in, "certificates"),
        rows,
        form: forms.certificate,
        errors: forms.errors,
        warning_days: EXPIRY_WARNING_DAYS,
        client_cas,
        ca_form: forms.client_ca,
        ca_errors: forms.ca_errors,
    })
}

pub async fn list(signed_in: SignedIn, State(state): State<AppState>) -> Result<Response, DashboardError> {
    Ok(render(&page(&signed_in, &state, Forms::default()).await?))
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
            Refused::Form(errors) => {
                let forms = Forms {
                    certificate: form,
                    errors,
                    ..Forms::default()
                };
                Ok(refused(&page(&signed_in, &state, forms).await?))
            }
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

/// Creates the client CA, or replaces the one of that name.
pub async fn upload_client_ca(
    signed_in: SignedIn,
    State(state): State<AppState>,
    Form(form): Form<ClientCaForm>,
) -> Result<Response, DashboardError> {
    let actor = signed_in.authorize_change(form.csrf.as_deref()).await?;
    let name = form.ca_name.trim().to_owned();
    let input = ClientCa {
        name: name.clone(),
        description: form.ca_description.trim().to_owned(),
        ca_pem: form.ca_pem.clone(),
    };
    let exists = match objects::get::<ClientCa>(&state.store, &name).await {
        Ok(_) => true,
        Err(HubError::NotFound { .. }) => false,
        Err(error) => return Err(error.into()),
    };
    let saved = if exists {
        objects::replace::<ClientCa>(&state.store, actor, &name, input).await
    } else {
        objects::create::<ClientCa>(&state.store, actor, input).await
    };
    match saved {
        Ok(_) => Ok(see("/dashboard/certificates")),
        Err(error) => match Refused::from_hub(error, place_client_ca) {
            Refused::Form(ca_errors) => {
                let forms = Forms {
                    client_ca: form,
                    ca_errors,
                    ..Forms::default()
                };
                Ok(refused(&page(&signed_in, &state, forms).await?))
            }
            Refused::Page(error) => Err(error),
        },
    }
}

pub async fn delete_client_ca(
    signed_in: SignedIn,
    State(state): State<AppState>,
    Path(name): Path<String>,
    Form(form): Form<CsrfForm>,
) -> Result<Response, DashboardError> {
    let actor = signed_in.authorize_change(form.csrf.as_deref()).await?;
    objects::delete::<ClientCa>(&state.store, actor, &name, false).await?;
    Ok(see("/dashboard/certificates"))
}
