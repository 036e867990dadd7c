//! The overview: what exists, which gateways are up and on which revision, what is waiting to
//! be published, and the last hour's traffic.

use askama::Template;
use axum::extract::State;
use axum::response::Response;
use chrono::Utc;

use super::analytics::{Traffic, last_hour};
use super::{Nav, Shown};
use crate::compiler::diff::Change;
use crate::dashboard::error::DashboardError;
use crate::dashboard::session::SignedIn;
use crate::domain::fleet::{self, GatewayStatus, Liveness};
use crate::domain::{objects, publish};
use crate::http::AppState;
use crate::model::{AccessPolicy, Api, Group, Plan, Revision, User};
use crate::validate::FieldError;
use crate::web::render;

#[derive(Template)]
#[template(path = "hub/overview.html")]
struct OverviewPage {
    nav: Option<Nav>,
    counts: Vec<(&'static str, &'static str, usize)>,
    gateways: Vec<GatewayStatus>,
    online: usize,
    stale: usize,
    offline: usize,
    drifting: usize,
    latest: Option<Revision>,
    changes: Vec<Change>,
    unpublishable: Vec<FieldError>,
    traffic: Traffic,
}

pub async fn page(signed_in: SignedIn, State(state): State<AppState>) -> Result<Response, DashboardError> {
    let store = &state.store;
    let counts = vec![
        ("APIs", "/dashboard/apis", objects::all::<Api>(store).await?.len()),
        ("Groups", "/dashboard/groups", objects::all::<Group>(store).await?.len()),
        ("Users", "/dashboard/users", objects::all::<User>(store).await?.len()),
        (
            "Access policies",
            "/dashboard/policies",
            objects::all::<AccessPolicy>(store).await?.len(),
        ),
        ("Plans", "/dashboard/plans", objects::all::<Plan>(store).await?.len()),
    ];
    let gateways = fleet::fleet(store, Utc::now()).await?;
    let count = |liveness: Liveness| gateways.iter().filter(|gateway| gateway.liveness == liveness).count();
    let pending = publish::pending(store).await?;
    let (changes, unpublishable) = match pending.changes {
        Ok(changes) => (changes, Vec::new()),
        Err(problems) => (Vec::new(), problems),
    };
    Ok(render(&OverviewPage {
        nav: Nav::of(&signed_in, "overview"),
        counts,
        online: count(Liveness::Online),
        stale: count(Liveness::Stale),
        offline: count(Liveness::Offline) + count(Liveness::NeverSeen),
        drifting: gateways.iter().filter(|gateway| gateway.drift).count(),
        gateways,
        latest: pending.latest,
        changes,
        unpublishable,
        traffic: last_hour(store, None).await?,
    }))
}
