//! Who is signed in to the dashboard: the session holds the user's name under its own key (so
//! a portal session id cannot sign anyone in here); every request reads the user back, so a
//! disabled user, or one whose role drops to `developer`, is out at once.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use tower_sessions::Session;

use super::error::DashboardError;
use crate::domain::objects;
use crate::error::HubError;
use crate::http::AppState;
use crate::identity::Actor;
use crate::model::{Role, User};
use crate::web::csrf;

const ADMIN_KEY: &str = "dashboard_user";
const BINDING_KEY: &str = "dashboard_binding";

/// A signed-in user with the `viewer` role or above, their session and its CSRF token.
pub struct SignedIn {
    pub user: User,
    pub actor: Actor,
    pub session: Session,
    pub csrf: String,
}

impl SignedIn {
    /// Whether this user may change things: the pages show buttons and forms only then.
    pub fn can_change(&self) -> bool {
        self.actor.role >= Role::Admin
    }

    /// Refuses unless the user is an admin: the pages that only hold a form for a change.
    pub fn require_admin(&self) -> Result<(), DashboardError> {
        self.actor
            .require(Role::Admin)
            .map_err(|error| DashboardError::Forbidden(error.to_string()))
    }

    /// Refuses a change unless the user is an admin and the form carries the session's token.
    /// The role is checked first, so a viewer's crafted post is told why, whatever its token.
    pub async fn authorize_change(&self, submitted: Option<&str>) -> Result<&Actor, DashboardError> {
        self.require_admin()?;
        if !csrf::check(&self.session, submitted).await? {
            return Err(DashboardError::Csrf);
        }
        Ok(&self.actor)
    }
}

impl FromRequestParts<AppState> for SignedIn {
    type Rejection = DashboardError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let session = Session::from_request_parts(parts, state)
            .await
            .map_err(|_| DashboardError::Internal("the session layer is missing".into()))?;
        let Some(name) = session.get::<String>(ADMIN_KEY).await? else {
            return Err(DashboardError::SignInRequired);
        };
        let binding = session.get::<String>(BINDING_KEY).await?;
        let user = match objects::get::<User>(&state.store, &name).await {
            // The same account as at sign-in: not re-created under the name, password not reset.
            Ok(record)
                if !record.object.disabled
                    && record.object.role >= Role::Viewer
                    && binding.as_deref() == Some(crate::web::binding::fingerprint(&record).as_str()) =>
            {
                record.object
            }
            Ok(_) | Err(HubError::NotFound { .. }) => {
                session.flush().await?;
                return Err(DashboardError::SignInRequired);
            }
            Err(error) => return Err(error.into()),
        };
        let csrf = csrf::token(&session).await?;
        let actor = Actor {
            name: user.name.clone(),
            role: user.role,
        };
        Ok(SignedIn {
            user,
            actor,
            session,
            csrf,
        })
    }
}

/// Starts a signed-in session with a new id and a new CSRF token.
pub async fn begin(store: &crate::store::Store, session: &Session, user: &User) -> Result<(), DashboardError> {
    let record = objects::get::<User>(store, &user.name).await?;
    session.cycle_id().await?;
    session.insert(ADMIN_KEY, &user.name).await?;
    session
        .insert(BINDING_KEY, crate::web::binding::fingerprint(&record))
        .await?;
    csrf::renew(session).await?;
    Ok(())
}

/// Whether a session is signed in, without reading the store.
pub async fn is_signed_in(session: &Session) -> Result<bool, DashboardError> {
    Ok(session.get::<String>(ADMIN_KEY).await?.is_some())
}
