//! The audit log: every change with who, when and what, filtered by actor, kind, key and action.

use askama::Template;
use axum::extract::{Query, State};
use axum::response::Response;
use serde::Deserialize;

use super::Nav;
use crate::dashboard::error::DashboardError;
use crate::dashboard::form::FieldErrors;
use crate::dashboard::session::SignedIn;
use crate::domain::audit;
use crate::http::AppState;
use crate::model::{AuditAction, AuditEntry};
use crate::store::AuditFilter;
use crate::web::render;

#[derive(Deserialize, Default)]
pub struct AuditQuery {
    #[serde(default)]
    actor: String,
    #[serde(default)]
    kind: String,
    #[serde(default)]
    key: String,
    #[serde(default)]
    action: String,
    #[serde(default)]
    before: Option<String>,
}

/// An entry with its two sides as pretty JSON.
pub struct ShownEntry {
    pub entry: AuditEntry,
    pub before: String,
    pub after: String,
}

#[derive(Template)]
#[template(path = "hub/audit.html")]
struct AuditPage {
    nav: Option<Nav>,
    query: AuditQuery,
    errors: FieldErrors,
    entries: Vec<ShownEntry>,
    next: Option<String>,
    /// The filters, ready to append to a link.
    link: String,
}

pub async fn list(
    signed_in: SignedIn,
    State(state): State<AppState>,
    Query(query): Query<AuditQuery>,
) -> Result<Response, DashboardError> {
    let mut errors = FieldErrors::default();
    let action = match query.action.as_str() {
        "" => None,
        other => {
            let action = AuditAction::parse(other);
            if action.is_none() {
                errors.add("action", format!("must be create, update or delete, not `{other}`"));
            }
            action
        }
    };
    let before_id = match query.before.as_deref() {
        None | Some("") => None,
        Some(text) => match text.parse::<i64>() {
            Ok(id) => Some(id),
            Err(_) => {
                errors.add("before", format!("must be an entry id, not `{text}`"));
                None
            }
        },
    };
    let text = |value: &str| Some(value.trim().to_owned()).filter(|value| !value.is_empty());
    let (entries, next) = if errors.is_empty() {
        let page = audit::list(
            &state.store,
            &AuditFilter {
                actor: text(&query.actor),
                kind: text(&query.kind),
                key: text(&query.key),
                action,
                before_id,
                limit: 50,
            },
        )
        .await?;
        (page.items, page.next_cursor)
    } else {
        (Vec::new(), None)
    };
    let pretty = |value: &Option<serde_json::Value>| {
        value
            .as_ref()
            .map(|value| serde_json::to_string_pretty(value).unwrap_or_default())
            .unwrap_or_default()
    };
    let entries = entries
        .into_iter()
        .map(|entry| ShownEntry {
            before: pretty(&entry.before),
            after: pretty(&entry.after),
            entry,
        })
        .collect();
    let link = form_urlencoded::Serializer::new(String::new())
        .append_pair("actor", &query.actor)
        .append_pair("kind", &query.kind)
        .append_pair("key", &query.key)
        .append_pair("action", &query.action)
        .finish();
    Ok(render(&AuditPage {
        nav: Nav::of(&signed_in, "audit"),
        query,
        errors,
        entries,
        next,
        link,
    }))
}
