//! Revisions: the list, the unpublished changes and their impact with a publish form, a diff
//! between any two revisions, and rollback (which publishes an earlier revision's content again).

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use serde::Deserialize;

use super::{Nav, Shown, refused, see};
use crate::compiler::diff::Change;
use crate::dashboard::error::DashboardError;
use crate::dashboard::form::{FieldErrors, Form};
use crate::dashboard::session::SignedIn;
use crate::domain::{publish, revisions};
use crate::error::HubError;
use crate::http::AppState;
use crate::impact::{self, Severity};
use crate::model::Revision;
use crate::validate::FieldError;
use crate::web::render;

#[derive(Template)]
#[template(path = "hub/revisions.html")]
struct ListPage {
    nav: Option<Nav>,
    revisions: Vec<Revision>,
    changes: Vec<Change>,
    unpublishable: Vec<FieldError>,
    /// What publishing would do to access (`impact::from_store::pending`), worst first.
    impact: Option<ShownImpact>,
    message: String,
    errors: FieldErrors,
    can_change: bool,
    csrf: String,
}

async fn list_page(
    signed_in: &SignedIn,
    state: &AppState,
    message: String,
    errors: FieldErrors,
) -> Result<ListPage, DashboardError> {
    let revisions = revisions::list(&state.store, None, 200).await?.items;
    let pending = publish::pending(&state.store).await?;
    let (changes, unpublishable) = match pending.changes {
        Ok(changes) => (changes, Vec::new()),
        Err(problems) => (Vec::new(), problems),
    };
    let impact = if changes.is_empty() {
        None
    } else {
        impact::from_store::pending(&state.store, chrono::Utc::now())
            .await?
            .map(ShownImpact::of)
    };
    Ok(ListPage {
        nav: Nav::of(signed_in, "revisions"),
        revisions,
        changes,
        unpublishable,
        impact,
        message,
        errors,
        can_change: signed_in.can_change(),
        csrf: signed_in.csrf.clone(),
    })
}

/// An impact report as the page shows it.
struct ShownImpact {
    verdict: &'static str,
    items: Vec<ShownItem>,
}

/// One item: its severity, the colour of its badge, and its message cut into plain text and
/// the names it quotes (`code`).
struct ShownItem {
    severity: &'static str,
    tone: &'static str,
    parts: Vec<(bool, String)>,
}

impl ShownImpact {
    fn of(report: impact::Report) -> ShownImpact {
        let items = report
            .items
            .into_iter()
            .map(|item| ShownItem {
                severity: item.severity.as_str(),
                tone: match item.severity {
                    Severity::BreakingRemoval | Severity::Narrowing | Severity::LimitLowered => "removed",
                    Severity::Widening | Severity::LimitRaised => "added",
                    Severity::Info => "changed",
                },
                // Names are written between backticks; every other part is text.
                parts: item
                    .message
                    .split('`')
                    .enumerate()
                    .filter(|(_, part)| !part.is_empty())
                    .map(|(index, part)| (index % 2 == 1, part.to_owned()))
                    .collect(),
            })
            .collect();
        ShownImpact {
            verdict: report.verdict.as_str(),
            items,
        }
    }
}

pub async fn list(signed_in: SignedIn, State(state): State<AppState>) -> Result<Response, DashboardError> {
    Ok(render(
        &list_page(&signed_in, &state, String::new(), FieldErrors::default()).await?,
    ))
}

#[derive(Deserialize)]
pub struct PublishForm {
    #[serde(default)]
    csrf: Option<String>,
    #[serde(default)]
    message: String,
}

pub async fn publish(
    signed_in: SignedIn,
    State(state): State<AppState>,
    Form(form): Form<PublishForm>,
) -> Result<Response, DashboardError> {
    let actor = signed_in.authorize_change(form.csrf.as_deref()).await?;
    let mut errors = FieldErrors::default();
    if form.message.trim().is_empty() {
        errors.add("message", "say why: the message is how the fleet's history reads");
    } else {
        match publish::publish(&state.store, actor, form.message.trim(), None).await {
            Ok(published) => {
                state.revisions.notify(&published);
                return Ok(see("/dashboard/revisions"));
            }
            Err(HubError::Invalid(problems)) => {
                for problem in problems {
                    match problem.field.as_str() {
                        "message" => errors.add("message", problem.message),
                        field => errors.general.push(format!("{field}: {}", problem.message)),
                    }
                }
            }
            Err(error) => return Err(error.into()),
        }
    }
    Ok(refused(&list_page(&signed_in, &state, form.message, errors).await?))
}

pub async fn rollback(
    signed_in: SignedIn,
    State(state): State<AppState>,
    Path(number): Path<i64>,
    Form(form): Form<PublishForm>,
) -> Result<Response, DashboardError> {
    let actor = signed_in.authorize_change(form.csrf.as_deref()).await?;
    let published = publish::rollback(&state.store, actor, number, form.message.trim()).await?;
    state.revisions.notify(&published);
    Ok(see("/dashboard/revisions"))
}

#[derive(Deserialize)]
pub struct DiffQuery {
    from: Option<i64>,
    to: Option<i64>,
}

/// A change with its two sides as pretty JSON.
pub struct ShownChange {
    pub change: Change,
    pub before: String,
    pub after: String,
}

#[derive(Template)]
#[template(path = "hub/revision_diff.html")]
struct DiffPage {
    nav: Option<Nav>,
    revisions: Vec<Revision>,
    from: i64,
    to: i64,
    changes: Vec<ShownChange>,
}

pub async fn diff(
    signed_in: SignedIn,
    State(state): State<AppState>,
    Query(query): Query<DiffQuery>,
) -> Result<Response, DashboardError> {
    let revisions = revisions::list(&state.store, None, 200).await?.items;
    let latest = revisions.first().map_or(0, |revision| revision.number);
    let to = query.to.unwrap_or(latest);
    let from = query.from.unwrap_or(to - 1).max(1);
    let pretty = |value: &Option<serde_json::Value>| {
        value
            .as_ref()
            .map(|value| serde_json::to_string_pretty(value).unwrap_or_default())
            .unwrap_or_default()
    };
    let changes = if latest == 0 {
        Vec::new()
    } else {
        publish::diff(&state.store, from, to)
            .await?
            .into_iter()
            .map(|change| ShownChange {
                before: pretty(&change.before),
                after: pretty(&change.after),
                change,
            })
            .collect()
    };
    Ok(render(&DiffPage {
        nav: Nav::of(&signed_in, "revisions"),
        revisions,
        from,
        to,
        changes,
    }))
}
