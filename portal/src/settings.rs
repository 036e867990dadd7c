//! The portal's settings managed in the hub (`hub::model::Portal`, also a manifest kind): read
//! per request, so a change applies without a restart. Absent settings leave the configuration's.

use hub::domain::objects;
use hub::error::HubError;
use hub::model::Portal;

use crate::PortalState;
use crate::error::PortalError;

/// What the portal shows and allows, from its settings object and its configuration.
pub struct Effective {
    pub title: String,
    pub welcome: String,
    pub self_sign_up: bool,
}

/// The settings named by the configuration's `name`, over the configuration's own.
pub async fn effective(state: &PortalState) -> Result<Effective, PortalError> {
    let stored = match objects::get::<Portal>(&state.store, &state.config.name).await {
        Ok(record) => Some(record.object),
        Err(HubError::NotFound { .. }) => None,
        Err(error) => return Err(error.into()),
    };
    Ok(Effective {
        title: stored
            .as_ref()
            .map(|portal| portal.title.clone())
            .filter(|title| !title.is_empty())
            .unwrap_or_else(|| "Sign in".into()),
        welcome: stored.as_ref().map(|portal| portal.welcome.clone()).unwrap_or_default(),
        self_sign_up: stored
            .and_then(|portal| portal.self_sign_up)
            .unwrap_or(state.config.self_sign_up),
    })
}
