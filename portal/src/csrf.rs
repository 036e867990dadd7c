//! The portal's side of the shared CSRF check (`hub::web::csrf`): a missing or wrong token is
//! the portal's `Csrf` error.

use tower_sessions::Session;

pub use hub::web::csrf::{FIELD, HEADER, renew, token};

use crate::error::PortalError;

/// Refuses unless `submitted` is the session's token.
pub async fn check(session: &Session, submitted: Option<&str>) -> Result<(), PortalError> {
    if hub::web::csrf::check(session, submitted).await? {
        Ok(())
    } else {
        Err(PortalError::Csrf)
    }
}
