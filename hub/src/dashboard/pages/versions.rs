//! API versions: create and edit with the OpenAPI document pasted or uploaded (a broken one is
//! refused with the parser's message, line and column), the selector and the status.

use std::collections::HashMap;

use askama::Template;
use axum::extract::{Multipart, Path, State};
use axum::response::Response;

use super::apis::{parse_targets, targets_text};
use super::lifecycle_form;
use super::upstream_tls_form::{self, TlsFields};
use super::{CsrfForm, Nav, refused, see};
use crate::dashboard::error::DashboardError;
use crate::dashboard::form::{FieldErrors, Refused, head};
use crate::dashboard::session::SignedIn;
use crate::domain::objects;
use crate::http::AppState;
use crate::model::{Api, ApiVersion, Selector, VersionStatus, api_version::ApiVersionSpec};
use crate::web::render;

/// What the version form holds, as typed.
#[derive(Default)]
pub struct VersionForm {
    pub csrf: Option<String>,
    pub name: String,
    pub description: String,
    pub status: String,
    /// `none`, `path`, `header` or `query`.
    pub selector: String,
    pub selector_name: String,
    pub selector_value: String,
    pub openapi: String,
    /// Its own targets, one `URL weight` a line; empty uses the API's.
    pub targets: String,
    /// TLS to its own https targets.
    pub tls: TlsFields,
    /// RFC 3339, or `YYYY-MM-DDTHH:MM` (what a browser's date-time field sends) in UTC.
    pub deprecated_at: String,
    pub sunset_at: String,
    /// The successor version's name; empty for none.
    pub successor: String,
    /// `Some` when the box is ticked: the gateway validates requests against the document.
    pub validate_requests: Option<String>,
}

pub const STATUSES: [&str; 4] = ["draft", "published", "deprecated", "retired"];
pub const SELECTORS: [(&str, &str); 4] = [
    ("none", "Default (no selector)"),
    ("path", "Path segment"),
    ("header", "Header"),
    ("query", "Query parameter"),
];

impl VersionForm {
    fn of(version: &ApiVersion) -> VersionForm {
        let spec = &version.spec;
        let (selector, selector_name, selector_value) = match &spec.selector {
            None => ("none", String::new(), String::new()),
            Some(Selector::Path { segment }) => ("path", String::new(), segment.clone()),
            Some(Selector::Header { name, value }) => ("header", name.clone(), value.clone()),
            Some(Selector::Query { name, value }) => ("query", name.clone(), value.clone()),
        };
        VersionForm {
            csrf: None,
            name: spec.name.clone(),
            description: spec.description.clone(),
            status: spec.status.as_str().into(),
            selector: selector.into(),
            selector_name,
            selector_value,
            openapi: spec.openapi.clone().unwrap_or_default(),
            targets: spec.upstream.as_ref().map(targets_text).unwrap_or_default(),
            tls: TlsFields::of(spec.upstream.as_ref().and_then(|upstream| upstream.tls.as_ref())),
            deprecated_at: spec.deprecated_at.map(lifecycle_form::date_text).unwrap_or_default(),
            sunset_at: spec.sunset_at.map(lifecycle_form::date_text).unwrap_or_default(),
            successor: spec.successor.clone().unwrap_or_default(),
            validate_requests: spec.validate_requests.then(|| "on".into()),
        }
    }

    /// Reads the multipart form; an uploaded file replaces the pasted document.
    async fn read(mut multipart: Multipart) -> Result<(VersionForm, FieldErrors), DashboardError> {
        let mut fields: HashMap<String, String> = HashMap::new();
        let mut errors = FieldErrors::default();
        let mut upload = None;
        while let Some(field) = multipart
            .next_field()
            .await
            .map_err(|error| DashboardError::Invalid(format!("the form could not be read: {error}")))?
        {
            let name = field.name().unwrap_or_default().to_owned();
            let is_file = field.file_name().is_some();
            let bytes = field
                .bytes()
                .await
                .map_err(|error| DashboardError::Invalid(format!("the form could not be read: {error}")))?;
            match String::from_utf8(bytes.to_vec()) {
                Ok(text) if is_file => {
                    if !text.trim().is_empty() {
                        upload = Some(text);
                    }
                }
                Ok(text) => {
                    fields.insert(name, text);
                }
                Err(_) => errors.add(
                    if name == "openapi_file" { "openapi" } else { "general" },
                    "the uploaded file is not UTF-8 text",
                ),
            }
        }
        let mut take = |key: &str| fields.remove(key).unwrap_or_default();
        let form = VersionForm {
            csrf: Some(take("csrf")),
            name: take("name"),
            description: take("description"),
            status: take("status"),
            selector: take("selector"),
            selector_name: take("selector_name"),
            selector_value: take("selector_value"),
            openapi: upload.unwrap_or_else(|| take("openapi")),
            targets: take("targets"),
            tls: TlsFields::take(&mut take),
            deprecated_at: take("deprecated_at"),
            sunset_at: take("sunset_at"),
            successor: take("successor"),
            validate_requests: fields.remove("validate_requests"),
        };
        Ok((form, errors))
    }

    fn parse(&self, api: &str, mut errors: FieldErrors) -> Result<ApiVersion, FieldErrors> {
        let status = match self.status.as_str() {
            "draft" => VersionStatus::Draft,
            "published" => VersionStatus::Published,
            "deprecated" => VersionStatus::Deprecated,
            "retired" => VersionStatus::Retired,
            other => {
                errors.add(
                    "status",
                    format!("must be one of draft, published, deprecated, retired, not `{other}`"),
                );
                VersionStatus::Draft
            }
        };
        let name = self.selector_name.trim().to_owned();
        let value = self.selector_value.trim().to_owned();
        let selector = match self.selector.as_str() {
            "" | "none" => None,
            "path" => Some(Selector::Path { segment: value }),
            "header" => Some(Selector::Header { name, value }),
            "query" => Some(Selector::Query { name, value }),
            other => {
                errors.add(
                    "selector",
                    format!("must be none, path, header or query, not `{other}`"),
                );
                None
            }
        };
        let mut upstream =
            (!self.targets.trim().is_empty()).then(|| parse_targets(&mut errors, "targets", &self.targets));
        match &mut upstream {
            Some(upstream) => upstream.tls = self.tls.parse(&mut errors),
            None if !self.tls.is_empty() => errors.add("tls_ca_pem", "TLS settings need the version's own targets"),
            None => {}
        }
        let deprecated_at = lifecycle_form::parse_date(&mut errors, "deprecated_at", &self.deprecated_at);
        let sunset_at = lifecycle_form::parse_date(&mut errors, "sunset_at", &self.sunset_at);
        if !errors.is_empty() {
            return Err(errors);
        }
        Ok(ApiVersion {
            api: api.to_owned(),
            spec: ApiVersionSpec {
                name: self.name.trim().to_owned(),
                description: self.description.trim().to_owned(),
                status,
                selector,
                openapi: Some(self.openapi.clone()).filter(|document| !document.trim().is_empty()),
                upstream,
                deprecated_at,
                sunset_at,
                successor: Some(self.successor.trim().to_owned()).filter(|successor| !successor.is_empty()),
                validate_requests: self.validate_requests.is_some(),
            },
        })
    }
}

fn place(field: &str) -> Option<&'static str> {
    if let Some(place) = upstream_tls_form::place(field) {
        return Some(place);
    }
    Some(match field {
        "selector.segment" | "selector.value" => "selector_value",
        "selector.name" => "selector_name",
        field => match head(field) {
            "name" => "name",
            "description" => "description",
            "status" => "status",
            "selector" => "selector",
            "openapi" => "openapi",
            "validate_requests" => "validate_requests",
            "upstream" => "targets",
            "deprecated_at" => "deprecated_at",
            "sunset_at" => "sunset_at",
            "successor" => "successor",
            _ => return None,
        },
    })
}

#[derive(Template)]
#[template(path = "hub/version_form.html")]
struct FormPage {
    nav: Option<Nav>,
    api: String,
    editing: Option<String>,
    form: VersionForm,
    errors: FieldErrors,
    statuses: [&'static str; 4],
    selectors: [(&'static str, &'static str); 4],
    can_change: bool,
}

impl FormPage {
    fn new(
        signed_in: &SignedIn,
        api: String,
        editing: Option<String>,
        form: VersionForm,
        errors: FieldErrors,
    ) -> FormPage {
        FormPage {
            nav: Nav::of(signed_in, "apis"),
            api,
            editing,
            form,
            errors,
            statuses: STATUSES,
            selectors: SELECTORS,
            can_change: signed_in.can_change(),
        }
    }
}

pub async fn new(
    signed_in: SignedIn,
    State(state): State<AppState>,
    Path(api): Path<String>,
) -> Result<Response, DashboardError> {
    signed_in.require_admin()?;
    objects::get::<Api>(&state.store, &api).await?;
    let form = VersionForm {
        status: "published".into(),
        selector: "none".into(),
        ..VersionForm::default()
    };
    Ok(render(&FormPage::new(
        &signed_in,
        api,
        None,
        form,
        FieldErrors::default(),
    )))
}

pub async fn create(
    signed_in: SignedIn,
    State(state): State<AppState>,
    Path(api): Path<String>,
    multipart: Multipart,
) -> Result<Response, DashboardError> {
    let (form, read_errors) = VersionForm::read(multipart).await?;
    let actor = signed_in.authorize_change(form.csrf.as_deref()).await?;
    let outcome = match form.parse(&api, read_errors) {
        Ok(version) => objects::create::<ApiVersion>(&state.store, actor, version)
            .await
            .map_err(|error| Refused::from_hub(error, place)),
        Err(errors) => Err(Refused::Form(errors)),
    };
    match outcome {
        Ok(_) => Ok(see(format!("/dashboard/apis/{api}"))),
        Err(Refused::Form(errors)) => Ok(refused(&FormPage::new(&signed_in, api, None, form, errors))),
        Err(Refused::Page(error)) => Err(error),
    }
}

pub async fn edit(
    signed_in: SignedIn,
    State(state): State<AppState>,
    Path((api, version)): Path<(String, String)>,
) -> Result<Response, DashboardError> {
    let record = objects::get::<ApiVersion>(&state.store, &ApiVersion::key_of(&api, &version)).await?;
    Ok(render(&FormPage::new(
        &signed_in,
        api,
        Some(version),
        VersionForm::of(&record.object),
        FieldErrors::default(),
    )))
}

pub async fn update(
    signed_in: SignedIn,
    State(state): State<AppState>,
    Path((api, version)): Path<(String, String)>,
    multipart: Multipart,
) -> Result<Response, DashboardError> {
    let (mut form, read_errors) = VersionForm::read(multipart).await?;
    let actor = signed_in.authorize_change(form.csrf.as_deref()).await?;
    form.name = version.clone();
    let key = ApiVersion::key_of(&api, &version);
    let outcome = match form.parse(&api, read_errors) {
        Ok(parsed) => objects::replace::<ApiVersion>(&state.store, actor, &key, parsed)
            .await
            .map_err(|error| Refused::from_hub(error, place)),
        Err(errors) => Err(Refused::Form(errors)),
    };
    match outcome {
        Ok(_) => Ok(see(format!("/dashboard/apis/{api}"))),
        Err(Refused::Form(errors)) => Ok(refused(&FormPage::new(&signed_in, api, Some(version), form, errors))),
        Err(Refused::Page(error)) => Err(error),
    }
}

pub async fn delete(
    signed_in: SignedIn,
    State(state): State<AppState>,
    Path((api, version)): Path<(String, String)>,
    axum::Form(form): axum::Form<CsrfForm>,
) -> Result<Response, DashboardError> {
    let actor = signed_in.authorize_change(form.csrf.as_deref()).await?;
    objects::delete::<ApiVersion>(&state.store, actor, &ApiVersion::key_of(&api, &version), true).await?;
    Ok(see(format!("/dashboard/apis/{api}")))
}
