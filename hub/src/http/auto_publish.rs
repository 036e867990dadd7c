//! Auto-publish: when the hub is set to, every successful change through the admin API is
//! published at once, so a laptop setup needs no publish step. The response says what
//! happened in `x-gatehouse-publish`: the revision, `unchanged`, or why the state could not be
//! published (the change itself stands, as a draft, either way).

use axum::extract::{Request, State};
use axum::http::{HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::Response;

use super::AppState;
use crate::domain::publish;
use crate::error::HubError;
use crate::identity::Actor;
use crate::model::Role;

/// The response header that reports an automatic publish.
pub const PUBLISH_HEADER: &str = "x-gatehouse-publish";

pub async fn auto_publish(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let writes = matches!(*request.method(), Method::POST | Method::PUT | Method::DELETE);
    let path = request.uri().path();
    // An apply publishes when asked to, and a dry run must change nothing.
    let publishes_itself = path.starts_with("/api/v1/revisions")
        || path.starts_with("/api/v1/gateway/")
        || path.starts_with("/api/v1/manifests");
    // The dashboard's changes too: its forms answer a success with 303 to the changed page.
    let dashboard = path.starts_with("/dashboard/")
        && !path.starts_with("/dashboard/revisions")
        && !path.starts_with("/dashboard/sign-");
    let applies = state.auto_publish && writes && (path.starts_with("/api/v1/") || dashboard) && !publishes_itself;
    let summary = format!("{} {}", request.method(), path);
    let mut response = next.run(request).await;
    let succeeded = response.status().is_success() || (dashboard && response.status() == StatusCode::SEE_OTHER);
    if !applies || !succeeded {
        return response;
    }
    let actor = Actor {
        name: "auto-publish".into(),
        role: Role::Admin,
    };
    let outcome = match publish::publish(&state.store, &actor, &format!("auto-publish after {summary}"), None).await {
        Ok(published) => {
            state.revisions.notify(&published);
            if published.created {
                format!("revision {}", published.revision.number)
            } else {
                "unchanged".to_owned()
            }
        }
        Err(HubError::Invalid(problems)) => {
            let reasons: Vec<String> = problems
                .iter()
                .map(|problem| format!("{}: {}", problem.field, problem.message))
                .collect();
            tracing::warn!(reasons = %reasons.join("; "), "auto-publish refused; the change stays a draft");
            format!("refused: {}", reasons.join("; "))
        }
        Err(error) => {
            tracing::error!(%error, "auto-publish failed");
            "failed".to_owned()
        }
    };
    if let Ok(value) = HeaderValue::try_from(outcome.replace(['\r', '\n'], " ")) {
        response.headers_mut().insert(PUBLISH_HEADER, value);
    }
    response
}
