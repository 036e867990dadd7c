//! Admin API tokens and admin authentication: who an admin request runs as.

use chrono::{DateTime, Utc};

use super::objects::{get_in, insert_in};
use crate::error::HubError;
use crate::identity::{Actor, secret};
use crate::model::{AdminToken, Kind, Record, Role};
use crate::store::Store;

/// The secret's marker: `ghat_…` is a Gatehouse admin token.
pub const TOKEN_MARKER: &str = "ghat";

/// A newly issued token: the stored record and the secret, shown this once.
#[derive(Debug)]
pub struct IssuedToken {
    pub record: Record<AdminToken>,
    pub secret: String,
}

/// Issues an admin token. Nobody can mint a token above their own role.
pub async fn issue(
    store: &Store,
    actor: &Actor,
    name: String,
    role: Role,
    expires_at: Option<DateTime<Utc>>,
) -> Result<IssuedToken, HubError> {
    if role > actor.role {
        return Err(HubError::Forbidden {
            detail: format!("{} cannot issue a token above its own role", actor.name),
        });
    }
    if expires_at.is_some_and(|expires_at| expires_at <= Utc::now()) {
        return Err(HubError::invalid("expires_at", "must be in the future"));
    }
    let generated = secret::generate(TOKEN_MARKER);
    let token = AdminToken {
        id: secret::new_id("tok"),
        name,
        role,
        prefix: generated.prefix,
        hash: generated.hash,
        expires_at,
    };
    let token = AdminToken::from_input(token, None).map_err(HubError::Invalid)?;
    let mut tx = store.begin().await?;
    let record = insert_in(&mut tx, actor, token).await?;
    tx.commit().await?;
    Ok(IssuedToken {
        record,
        secret: generated.value,
    })
}

/// The actor behind a bearer token.
pub async fn authenticate_token(store: &Store, token: &str) -> Result<Actor, HubError> {
    let refused = || HubError::Unauthenticated {
        detail: "the bearer token is unknown, revoked or expired".into(),
    };
    let hash = secret::hash(token);
    let mut tx = store.begin().await?;
    let holder = tx.claim_holder("admin_token_hash", &hash).await?.ok_or_else(refused)?;
    let record = get_in::<AdminToken>(&mut tx, &holder.key).await?.ok_or_else(refused)?;
    tx.commit().await?;
    let token = record.object;
    if token.expires_at.is_some_and(|expires_at| expires_at <= Utc::now()) {
        return Err(refused());
    }
    Ok(Actor {
        name: format!("token:{}", token.name),
        role: token.role,
    })
}

/// The actor behind a user name and password. Developers authenticate but hold no admin role,
/// so the role check refuses them; disabled users do not authenticate. Failures count towards
/// the same lock-out as the portal's and the dashboard's sign-in, so HTTP Basic is no way around it.
pub async fn authenticate_password(store: &Store, name: &str, given: &str) -> Result<Actor, HubError> {
    use super::sign_in::{SignInError, with_password};
    match with_password(store, name, given).await {
        Ok(user) => Ok(Actor {
            name: user.name,
            role: user.role,
        }),
        Err(SignInError::Hub(error)) => Err(error),
        Err(error) => Err(HubError::Unauthenticated {
            detail: error.to_string(),
        }),
    }
}
