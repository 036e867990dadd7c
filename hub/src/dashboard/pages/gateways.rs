//! The fleet: every registered gateway with its version, applied revision, last heartbeat and
//! last refused snapshot.

use askama::Template;
use axum::extract::State;
use axum::response::Response;
use chrono::Utc;

use super::{Nav, Shown};
use crate::dashboard::error::DashboardError;
use crate::dashboard::session::SignedIn;
use crate::domain::fleet::{self, GatewayStatus};
use crate::http::AppState;
use crate::web::render;

#[derive(Template)]
#[template(path = "hub/gateways.html")]
struct FleetPage {
    nav: Option<Nav>,
    gateways: Vec<GatewayStatus>,
}

pub async fn list(signed_in: SignedIn, State(state): State<AppState>) -> Result<Response, DashboardError> {
    Ok(render(&FleetPage {
        nav: Nav::of(&signed_in, "gateways"),
        gateways: fleet::fleet(&state.store, Utc::now()).await?,
    }))
}
