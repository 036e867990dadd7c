//! Applications and keys: every key with its owner and last use (from the gateways' usage
//! summaries), and revoke, which takes effect at once (the keys are published on their own).

use std::collections::HashMap;

use askama::Template;
use axum::extract::{Path, State};
use axum::response::Response;
use chrono::{DateTime, Utc};

use super::{CsrfForm, Nav, see};
use crate::dashboard::error::DashboardError;
use crate::dashboard::session::SignedIn;
use crate::domain::usage::{self, UsageDimension};
use crate::domain::{api_keys, objects, publish};
use crate::http::AppState;
use crate::model::{ApiKey, Application};
use crate::web::render;

/// One application with its keys.
pub struct Row {
    pub application: Application,
    pub last_used: Option<DateTime<Utc>>,
    pub keys: Vec<(ApiKey, Option<DateTime<Utc>>)>,
}

#[derive(Template)]
#[template(path = "hub/keys.html")]
struct KeysPage {
    nav: Option<Nav>,
    rows: Vec<Row>,
    now: DateTime<Utc>,
    can_change: bool,
    csrf: String,
}

pub async fn list(signed_in: SignedIn, State(state): State<AppState>) -> Result<Response, DashboardError> {
    let mut keys: HashMap<String, Vec<ApiKey>> = HashMap::new();
    for key in objects::all::<ApiKey>(&state.store).await? {
        keys.entry(key.application.clone()).or_default().push(key);
    }
    let by_application = usage::last_used(&state.store, UsageDimension::Application).await?;
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
            application,
        })
        .collect();
    Ok(render(&KeysPage {
        nav: Nav::of(&signed_in, "keys"),
        rows,
        now: Utc::now(),
        can_change: signed_in.can_change(),
        csrf: signed_in.csrf.clone(),
    }))
}

pub async fn revoke(
    signed_in: SignedIn,
    State(state): State<AppState>,
    Path((application, key)): Path<(String, String)>,
    axum::Form(form): axum::Form<CsrfForm>,
) -> Result<Response, DashboardError> {
    let actor = signed_in.authorize_change(form.csrf.as_deref()).await?;
    api_keys::revoke(&state.store, actor, &application, &key).await?;
    let message = format!("key {key} revoked in the dashboard");
    if let Some(published) = publish::publish_consumers(&state.store, actor, &message).await? {
        state.revisions.notify(&published);
    }
    Ok(see("/dashboard/keys"))
}

/// Whether a key's time is up.
pub fn expired(key: &ApiKey, now: &DateTime<Utc>) -> bool {
    key.expires_at.is_some_and(|expires| expires <= *now)
}
