//! Who is signed in: the session holds the user's name; every request reads the user back from
//! the store, so a disabled or deleted user is out at once, and group changes apply at once.

use axum::extract::{FromRef, FromRequestParts};
use axum::http::request::Parts;
use hub::domain::objects;
use hub::error::HubError;
use hub::model::User;
use tower_sessions::Session;

use crate::PortalState;
use crate::error::PortalError;

const USER_KEY: &str = "user";
const BINDING_KEY: &str = "binding";

/// A signed-in, enabled user, with the session and its CSRF token.
pub struct SignedIn {
    pub user: User,
    pub session: Session,
    pub csrf: String,
}

impl<S> FromRequestParts<S> for SignedIn
where
    S: Send + Sync,
    PortalState: FromRef<S>,
{
    type Rejection = PortalError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let state = PortalState::from_ref(state);
        let session = Session::from_request_parts(parts, &state)
            .await
            .map_err(|_| PortalError::Internal("the session layer is missing".into()))?;
        let Some(name) = session.get::<String>(USER_KEY).await? else {
            return Err(PortalError::SignInRequired);
        };
        let binding = session.get::<String>(BINDING_KEY).await?;
        let user = match objects::get::<User>(&state.store, &name).await {
            // The same account as at sign-in: not re-created under the name, password not reset.
            Ok(record)
                if !record.object.disabled
                    && binding.as_deref() == Some(hub::web::binding::fingerprint(&record).as_str()) =>
            {
                record.object
            }
            Ok(_) | Err(HubError::NotFound { .. }) => {
                session.flush().await?;
                return Err(PortalError::SignInRequired);
            }
            Err(error) => return Err(error.into()),
        };
        let csrf = crate::csrf::token(&session).await?;
        Ok(SignedIn { user, session, csrf })
    }
}

/// Starts a signed-in session: a new session id (so an id planted before sign-in is worth
/// nothing), the user, and a new CSRF token.
pub async fn begin(store: &hub::Store, session: &Session, user: &User) -> Result<(), PortalError> {
    let record = objects::get::<User>(store, &user.name).await?;
    session.cycle_id().await?;
    session.insert(USER_KEY, &user.name).await?;
    session
        .insert(BINDING_KEY, hub::web::binding::fingerprint(&record))
        .await?;
    crate::csrf::renew(session).await?;
    Ok(())
}

/// Ends the session: its record is deleted and the cookie cleared.
pub async fn end(session: &Session) -> Result<(), PortalError> {
    session.flush().await?;
    Ok(())
}

/// The signed-in user's name, if any, without reading the store.
pub async fn user_name(session: &Session) -> Result<Option<String>, PortalError> {
    Ok(session.get::<String>(USER_KEY).await?)
}
