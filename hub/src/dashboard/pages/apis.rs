//! APIs: list and search, create, edit (route, upstream targets and their weights: a canary is
//! a weight change), delete; each API's page lists its versions.

use askama::Template;
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use serde::Deserialize;

use super::edge_form::{self, EdgeFields};
use super::upstream_tls_form::{self, TlsFields};
use super::{CsrfForm, Nav, refused, see};
use crate::dashboard::error::DashboardError;
use crate::dashboard::form::{FieldErrors, Refused, head, words};
use crate::dashboard::session::SignedIn;
use crate::domain::objects;
use crate::http::AppState;
use crate::model::{Api, ApiVersion, Kind, ListFilter, ObjectRef, Record, Route, Target, Upstream};
use crate::web::render;

#[derive(Template)]
#[template(path = "hub/apis.html")]
struct ListPage {
    nav: Option<Nav>,
    query: String,
    apis: Vec<Record<Api>>,
}

#[derive(Deserialize, Default)]
pub struct Search {
    #[serde(default)]
    q: String,
}

pub async fn list(
    signed_in: SignedIn,
    State(state): State<AppState>,
    Query(search): Query<Search>,
) -> Result<Response, DashboardError> {
    let filter = ListFilter {
        query: Some(search.q.trim().to_owned()).filter(|query| !query.is_empty()),
        limit: crate::model::MAX_PAGE_SIZE,
        ..ListFilter::default()
    };
    let apis = objects::list::<Api>(&state.store, &filter).await?.items;
    Ok(render(&ListPage {
        nav: Nav::of(&signed_in, "apis"),
        query: search.q,
        apis,
    }))
}

/// What the API form holds, as typed.
#[derive(Deserialize, Default)]
pub struct ApiForm {
    #[serde(default)]
    pub csrf: Option<String>,
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub owner: String,
    #[serde(default)]
    pub tags: String,
    #[serde(default)]
    pub host: String,
    #[serde(default)]
    pub path_prefix: String,
    #[serde(default)]
    pub strip_prefix: Option<String>,
    #[serde(default)]
    pub external: Option<String>,
    /// One target a line: `URL [weight]`.
    #[serde(default)]
    pub targets: String,
    /// TLS to its https targets.
    #[serde(flatten)]
    pub tls: TlsFields,
    /// CORS, IP lists, body limit, header transforms, path rewrite.
    #[serde(flatten)]
    pub edge: EdgeFields,
    /// Plain-HTTP requests get a 308 to https.
    #[serde(default)]
    pub https_redirect: Option<String>,
    /// Applications' client certificates authenticate (mTLS).
    #[serde(default)]
    pub client_certificate: Option<String>,
}

impl ApiForm {
    fn of(api: &Api) -> ApiForm {
        ApiForm {
            csrf: None,
            name: api.name.clone(),
            description: api.description.clone(),
            owner: api.owner.clone(),
            tags: api.tags.join(", "),
            host: api.route.host.clone().unwrap_or_default(),
            path_prefix: api.route.path_prefix.clone(),
            strip_prefix: api.route.strip_prefix.then(|| "on".into()),
            external: api.external.then(|| "on".into()),
            targets: targets_text(&api.upstream),
            tls: TlsFields::of(api.upstream.tls.as_ref()),
            edge: EdgeFields::of(api.edge.as_ref()),
            https_redirect: api.https_redirect.then(|| "on".into()),
            client_certificate: api.authentication.client_certificate.then(|| "on".into()),
        }
    }

    /// The API the form describes, or the problems with what was typed.
    fn parse(&self) -> Result<Api, FieldErrors> {
        let mut errors = FieldErrors::default();
        let mut upstream = parse_targets(&mut errors, "targets", &self.targets);
        upstream.tls = self.tls.parse(&mut errors);
        let edge = self.edge.parse(&mut errors);
        if !errors.is_empty() {
            return Err(errors);
        }
        Ok(Api {
            name: self.name.trim().to_owned(),
            description: self.description.trim().to_owned(),
            tags: words(&self.tags),
            owner: self.owner.trim().to_owned(),
            route: Route {
                host: Some(self.host.trim().to_owned()).filter(|host| !host.is_empty()),
                path_prefix: self.path_prefix.trim().to_owned(),
                strip_prefix: self.strip_prefix.is_some(),
            },
            upstream,
            external: self.external.is_some(),
            edge,
            https_redirect: self.https_redirect.is_some(),
            authentication: crate::model::Authentication {
                client_certificate: self.client_certificate.is_some(),
            },
        })
    }
}

/// Targets as the form shows them: one `URL weight` a line.
pub fn targets_text(upstream: &Upstream) -> String {
    upstream
        .targets
        .iter()
        .map(|target| format!("{} {}", target.url, target.weight))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Parses one `URL [weight]` a line; the URL itself is checked by the model.
pub fn parse_targets(errors: &mut FieldErrors, field: &str, text: &str) -> Upstream {
    let mut targets = Vec::new();
    for (index, line) in text.lines().enumerate() {
        let mut words = line.split_whitespace();
        let Some(url) = words.next() else { continue };
        let weight = match words.next() {
            None => 100,
            Some(word) => match word.parse::<u32>() {
                Ok(weight) => weight,
                Err(_) => {
                    errors.add(
                        field,
                        format!("line {}: the weight must be a whole number, not `{word}`", index + 1),
                    );
                    continue;
                }
            },
        };
        if words.next().is_some() {
            errors.add(field, format!("line {}: write `URL weight`, nothing more", index + 1));
        }
        targets.push(Target {
            url: url.to_owned(),
            weight,
        });
    }
    Upstream { targets, tls: None }
}

/// Where the model's field paths go on the form.
fn place(field: &str) -> Option<&'static str> {
    if let Some(place) = upstream_tls_form::place(field) {
        return Some(place);
    }
    if let Some(place) = edge_form::place(field) {
        return Some(place);
    }
    Some(match field {
        "route.host" => "host",
        "route.path_prefix" | "route" => "path_prefix",
        field => match head(field) {
            "name" => "name",
            "description" => "description",
            "owner" => "owner",
            "tags" => "tags",
            "upstream" => "targets",
            _ => return None,
        },
    })
}

#[derive(Template)]
#[template(path = "hub/api_form.html")]
struct FormPage {
    nav: Option<Nav>,
    /// `None` when creating.
    editing: Option<String>,
    form: ApiForm,
    errors: FieldErrors,
}

pub async fn new(signed_in: SignedIn) -> Result<Response, DashboardError> {
    signed_in.require_admin()?;
    let form = ApiForm {
        targets: "http://127.0.0.1:9000 100".into(),
        ..ApiForm::default()
    };
    Ok(render(&FormPage {
        nav: Nav::of(&signed_in, "apis"),
        editing: None,
        form,
        errors: FieldErrors::default(),
    }))
}

pub async fn create(
    signed_in: SignedIn,
    State(state): State<AppState>,
    Form(form): Form<ApiForm>,
) -> Result<Response, DashboardError> {
    let actor = signed_in.authorize_change(form.csrf.as_deref()).await?;
    let outcome = match form.parse() {
        Ok(api) => objects::create::<Api>(&state.store, actor, api)
            .await
            .map_err(|error| Refused::from_hub(error, place)),
        Err(errors) => Err(Refused::Form(errors)),
    };
    match outcome {
        Ok(record) => Ok(see(format!("/dashboard/apis/{}", record.object.name))),
        Err(Refused::Form(errors)) => Ok(refused(&FormPage {
            nav: Nav::of(&signed_in, "apis"),
            editing: None,
            form,
            errors,
        })),
        Err(Refused::Page(error)) => Err(error),
    }
}

pub async fn edit(
    signed_in: SignedIn,
    State(state): State<AppState>,
    Path(name): Path<String>,
) -> Result<Response, DashboardError> {
    signed_in.require_admin()?;
    let api = objects::get::<Api>(&state.store, &name).await?.object;
    Ok(render(&FormPage {
        nav: Nav::of(&signed_in, "apis"),
        editing: Some(name),
        form: ApiForm::of(&api),
        errors: FieldErrors::default(),
    }))
}

pub async fn update(
    signed_in: SignedIn,
    State(state): State<AppState>,
    Path(name): Path<String>,
    Form(mut form): Form<ApiForm>,
) -> Result<Response, DashboardError> {
    let actor = signed_in.authorize_change(form.csrf.as_deref()).await?;
    form.name = name.clone();
    let outcome = match form.parse() {
        Ok(api) => objects::replace::<Api>(&state.store, actor, &name, api)
            .await
            .map_err(|error| Refused::from_hub(error, place)),
        Err(errors) => Err(Refused::Form(errors)),
    };
    match outcome {
        Ok(_) => Ok(see(format!("/dashboard/apis/{name}"))),
        Err(Refused::Form(errors)) => Ok(refused(&FormPage {
            nav: Nav::of(&signed_in, "apis"),
            editing: Some(name),
            form,
            errors,
        })),
        Err(Refused::Page(error)) => Err(error),
    }
}

pub async fn delete(
    signed_in: SignedIn,
    State(state): State<AppState>,
    Path(name): Path<String>,
    Form(form): Form<CsrfForm>,
) -> Result<Response, DashboardError> {
    let actor = signed_in.authorize_change(form.csrf.as_deref()).await?;
    // Its versions go with it; policies let go of it.
    objects::delete::<Api>(&state.store, actor, &name, true).await?;
    Ok(see("/dashboard/apis"))
}

#[derive(Template)]
#[template(path = "hub/api.html")]
struct ShowPage {
    nav: Option<Nav>,
    api: Record<Api>,
    versions: Vec<ApiVersion>,
}

pub async fn show(
    signed_in: SignedIn,
    State(state): State<AppState>,
    Path(name): Path<String>,
) -> Result<Response, DashboardError> {
    let api = objects::get::<Api>(&state.store, &name).await?;
    let filter = ListFilter {
        refers_to: Some(ObjectRef::new(Api::KIND, &name)),
        limit: crate::model::MAX_PAGE_SIZE,
        ..ListFilter::default()
    };
    let versions = objects::list::<ApiVersion>(&state.store, &filter)
        .await?
        .items
        .into_iter()
        .map(|record| record.object)
        .collect();
    Ok(render(&ShowPage {
        nav: Nav::of(&signed_in, "apis"),
        api,
        versions,
    }))
}

/// How a version is selected, in words.
pub fn selector_text(version: &ApiVersion) -> String {
    use crate::model::Selector;
    match &version.spec.selector {
        None => "default".into(),
        Some(Selector::Path { segment }) => format!("path segment /{segment}"),
        Some(Selector::Header { name, value }) => format!("header {name}: {value}"),
        Some(Selector::Query { name, value }) => format!("query {name}={value}"),
    }
}
