//! The catalog and the API pages.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use gateway::access::{Decision, Denial};
use gateway::snapshot::VersionStatus;
use serde::Deserialize;

use super::{Nav, render};
use crate::PortalState;
use crate::catalog::{self, EmptyBecause};
use crate::error::PortalError;
use crate::openapi;
use crate::session::SignedIn;

/// One API card.
pub struct Card {
    pub name: String,
    pub description: String,
    pub tags: Vec<String>,
    pub versions: Vec<(String, &'static str)>,
    pub plan: Option<String>,
    pub granted: bool,
}

#[derive(Template)]
#[template(path = "portal/catalog.html")]
struct CatalogPage {
    nav: Option<Nav>,
    search: String,
    cards: Vec<Card>,
    empty: Option<String>,
    sees_everything: bool,
}

#[derive(Deserialize)]
pub struct CatalogParams {
    #[serde(default)]
    q: String,
}

fn status_word(status: VersionStatus) -> &'static str {
    match status {
        VersionStatus::Published => "published",
        VersionStatus::Deprecated => "deprecated",
        VersionStatus::Retired => "retired",
    }
}

pub async fn page(
    State(state): State<PortalState>,
    signed_in: SignedIn,
    Query(params): Query<CatalogParams>,
) -> Result<Response, PortalError> {
    let catalog = catalog::for_user(&state.store, &state.catalog, &signed_in.user, &params.q).await?;
    let cards = catalog
        .entries
        .into_iter()
        .map(|entry| Card {
            name: entry.api.name,
            description: entry.api.description,
            tags: entry.api.tags,
            versions: entry
                .versions
                .iter()
                .map(|version| (version.name.clone(), status_word(version.status)))
                .collect(),
            plan: entry.plan.as_ref().map(catalog::describe_plan),
            granted: entry.granted,
        })
        .collect();
    let empty = catalog.empty_because.map(|because| match because {
        EmptyBecause::NothingPublished => "No API has been published yet.".to_owned(),
        EmptyBecause::NoGroups => {
            "You are in no group yet, and APIs are granted to groups: ask an administrator to add you to one."
                .to_owned()
        }
        EmptyBecause::NoGrants { groups } => format!(
            "No access policy grants an API to your groups ({}) yet: ask an administrator for access.",
            groups.join(", ")
        ),
        EmptyBecause::NoMatch => format!("No API you may use matches “{}”.", params.q.trim()),
    });
    Ok(render(&CatalogPage {
        nav: Nav::of(&signed_in, "apis"),
        search: params.q,
        cards,
        empty,
        sees_everything: catalog.sees_everything,
    }))
}

/// An operation as the API page shows it.
pub struct OperationView {
    pub anchor: String,
    pub operation: openapi::Operation,
    pub allowed: bool,
    /// Why not, in the gateway's words.
    pub denied_because: String,
}

#[derive(Template)]
#[template(path = "portal/api.html")]
struct ApiPage {
    nav: Option<Nav>,
    name: String,
    description: String,
    tags: Vec<String>,
    plan: Option<String>,
    /// (whose, "n of m left…") pairs; empty when the gateway is not asked.
    usage: Vec<(String, String)>,
    usage_error: Option<String>,
    /// "1,204 calls in the last 24 hours, 3 refused or failed", from the hub's usage summaries.
    calls: Option<String>,
    granted: bool,
    versions: Vec<(String, &'static str, bool)>,
    version: Option<String>,
    version_status: &'static str,
    /// The chosen version's deprecation and sunset, in a sentence; `None` when it has neither.
    lifecycle: Option<String>,
    /// The chosen version's successor, linked beside that sentence.
    successor: Option<String>,
    document: Option<openapi::Document>,
    document_error: Option<String>,
    operations: Vec<OperationView>,
    csrf: String,
}

#[derive(Deserialize)]
pub struct ApiParams {
    #[serde(default)]
    version: Option<String>,
}

pub async fn api_page(
    State(state): State<PortalState>,
    signed_in: SignedIn,
    Path(name): Path<String>,
    Query(params): Query<ApiParams>,
) -> Result<Response, PortalError> {
    let user = &signed_in.user;
    let (entry, published) = catalog::api_for_user(&state.store, &state.catalog, user, &name).await?;
    // The chosen version, else the newest published one, else the first listed.
    let chosen = match &params.version {
        Some(wanted) => Some(
            entry
                .versions
                .iter()
                .find(|version| &version.name == wanted)
                .ok_or(PortalError::NotFound)?,
        ),
        None => entry
            .versions
            .iter()
            .rev()
            .find(|version| version.status == VersionStatus::Published)
            .or_else(|| entry.versions.first()),
    };
    let mut document = None;
    let mut document_error = None;
    if let Some(version) = chosen {
        let text = catalog::version_object(&state.store, &name, &version.name)
            .await?
            .and_then(|version| version.spec.openapi);
        match text.as_deref().map(openapi::read) {
            Some(Ok(read)) => document = Some(read),
            Some(Err(error)) => {
                document_error = Some(format!("The OpenAPI document of this version cannot be read: {error}"))
            }
            None => document_error = Some("This version has no OpenAPI document.".into()),
        }
    }
    let operations = document
        .as_ref()
        .map(|document| {
            document
                .operations
                .iter()
                .enumerate()
                .map(|(index, operation)| {
                    let decision = catalog::operation_allowed(
                        &published,
                        &name,
                        user,
                        chosen.map(|version| version.index),
                        &operation.method,
                        operation.id.as_deref(),
                    );
                    let denied_because = match decision {
                        Decision::Allowed { .. } => String::new(),
                        Decision::Denied(denial) => explain(denial).to_owned(),
                    };
                    OperationView {
                        anchor: format!("op-{index}"),
                        operation: operation.clone(),
                        allowed: matches!(decision, Decision::Allowed { .. }),
                        denied_because,
                    }
                })
                .collect()
        })
        .unwrap_or_default();
    let mut usage = Vec::new();
    let mut usage_error = None;
    if let Some(plan) = &entry.plan {
        let applications: Vec<String> = crate::applications::list(&state.store, user)
            .await?
            .into_iter()
            .map(|application| format!("{}/{}", application.owner, application.name))
            .collect();
        match state.usage.read(plan, &user.name, &applications).await {
            Ok(read) => usage = read.into_iter().map(|(whose, read)| (whose, read.describe())).collect(),
            Err(error) => {
                tracing::warn!(%error, "could not read usage from the gateway");
                usage_error = Some("Your current usage cannot be read from the gateway right now.".to_owned());
            }
        }
    }
    let calls = recent_calls(&state.store, &entry.api.name, &user.name).await?;
    Ok(render(&ApiPage {
        nav: Nav::of(&signed_in, "apis"),
        usage,
        usage_error,
        calls,
        name: entry.api.name.clone(),
        description: entry.api.description.clone(),
        tags: entry.api.tags.clone(),
        plan: entry.plan.as_ref().map(catalog::describe_plan),
        granted: entry.granted,
        versions: entry
            .versions
            .iter()
            .map(|version| {
                let current = chosen.is_some_and(|chosen| chosen.index == version.index);
                (version.name.clone(), status_word(version.status), current)
            })
            .collect(),
        version: chosen.map(|version| version.name.clone()),
        version_status: chosen.map_or("", |version| status_word(version.status)),
        lifecycle: chosen.and_then(|version| super::lifecycle::sentence(version, chrono::Utc::now())),
        successor: chosen.and_then(|version| version.successor.clone()),
        document,
        document_error,
        operations,
        csrf: signed_in.csrf.clone(),
    }))
}

fn explain(denial: Denial) -> &'static str {
    match denial {
        Denial::NoGrant => "none of your groups is granted this API",
        Denial::VersionNotGranted => "your groups are not granted this version",
        Denial::MethodNotGranted => "your groups may not use this method here",
        Denial::OperationNotGranted => "your groups are not granted this operation",
        Denial::AddressRefused { .. } => "your groups may call this only from some addresses",
    }
}

/// The user's calls of the API over the last 24 hours, from the usage summaries the gateways
/// send the hub (what the dashboard's analytics read too); `None` when there were none.
async fn recent_calls(store: &hub::Store, api: &str, user: &str) -> Result<Option<String>, PortalError> {
    use hub::domain::usage::{self, UsageQuery};
    let until = chrono::Utc::now();
    let query = UsageQuery {
        api: Some(api.to_owned()),
        user: Some(user.to_owned()),
        application: None,
        since: until - chrono::Duration::hours(24),
        until,
        step_seconds: 86_400,
    };
    let points = usage::series(store, &query).await?;
    let requests: u64 = points.iter().map(|point| point.requests).sum();
    let errors: u64 = points.iter().map(|point| point.errors).sum();
    Ok((requests > 0).then(|| {
        format!(
            "{} call{} in the last 24 hours, {} refused or failed",
            catalog::thousands(requests),
            if requests == 1 { "" } else { "s" },
            catalog::thousands(errors)
        )
    }))
}
