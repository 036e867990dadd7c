//! The fleet: every registered gateway with its version, applied revision, last heartbeat, last
//! refused snapshot, and the certificates its TLS listener holds (flagged when expiring).

use askama::Template;
use axum::extract::State;
use axum::response::Response;
use chrono::Utc;

use super::{Nav, Shown};
use crate::dashboard::error::DashboardError;
use crate::dashboard::session::SignedIn;
use crate::domain::fleet::{self, GatewayStatus};
use crate::http::AppState;
use crate::model::certificate::EXPIRY_WARNING_DAYS;
use crate::web::render;

#[derive(Template)]
#[template(path = "hub/gateways.html")]
struct FleetPage {
    nav: Option<Nav>,
    gateways: Vec<GatewayStatus>,
    /// Certificates under the warning threshold, over every gateway.
    expiring: usize,
    warning_days: i64,
}

pub async fn list(signed_in: SignedIn, State(state): State<AppState>) -> Result<Response, DashboardError> {
    let gateways = fleet::fleet(&state.store, Utc::now()).await?;
    Ok(render(&FleetPage {
        nav: Nav::of(&signed_in, "gateways"),
        expiring: gateways.iter().map(|gateway| gateway.expiring().count()).sum(),
        gateways,
        warning_days: EXPIRY_WARNING_DAYS,
    }))
}
