//! A user's applications and their API keys, always scoped to their owner: another user's
//! application or key is not found, whatever its id. Key changes are published at once (only
//! the keys: `publish::publish_consumers`), so a new key works at the gateway within a second.

use hub::domain::{api_keys, objects, publish};
use hub::identity::Actor;
use hub::model::application::ApplicationInput;
use hub::model::{ApiKey, Application, Kind, ListFilter, ObjectRef, Record, Role, User};
use hub::store::Store;

use crate::PortalState;
use crate::error::PortalError;

/// The actor a user's own changes are recorded under.
pub fn actor(user: &User) -> Actor {
    Actor {
        name: user.name.clone(),
        role: Role::Developer,
    }
}

/// Most applications (and keys per application) a page lists.
const PAGE: u32 = hub::model::MAX_PAGE_SIZE;

/// The user's applications, by name.
pub async fn list(store: &Store, user: &User) -> Result<Vec<Application>, PortalError> {
    let filter = ListFilter {
        refers_to: Some(ObjectRef::new(User::KIND, &user.name)),
        limit: PAGE,
        ..ListFilter::default()
    };
    let mut applications: Vec<Application> = objects::list::<Application>(store, &filter)
        .await?
        .items
        .into_iter()
        .map(|record| record.object)
        .collect();
    applications.sort_by(|left, right| left.name.cmp(&right.name));
    Ok(applications)
}

/// Creates an application owned by the user.
pub async fn create(store: &Store, user: &User, name: &str, description: &str) -> Result<Application, PortalError> {
    let input = ApplicationInput {
        name: name.trim().to_owned(),
        owner: user.name.clone(),
        description: description.trim().to_owned(),
    };
    Ok(objects::create::<Application>(store, &actor(user), input).await?.object)
}

/// One of the user's applications; someone else's is not found.
pub async fn owned(store: &Store, user: &User, id: &str) -> Result<Application, PortalError> {
    let application = objects::get::<Application>(store, id).await?.object;
    if application.owner == user.name {
        Ok(application)
    } else {
        Err(PortalError::NotFound)
    }
}

/// The application's keys, newest first, with when each was created.
pub async fn keys(store: &Store, application: &Application) -> Result<Vec<Record<ApiKey>>, PortalError> {
    let filter = ListFilter {
        refers_to: Some(ObjectRef::new(Application::KIND, &application.id)),
        limit: PAGE,
        ..ListFilter::default()
    };
    let mut keys = objects::list::<ApiKey>(store, &filter).await?.items;
    keys.sort_by_key(|key| std::cmp::Reverse(key.meta.created_at));
    Ok(keys)
}

/// Issues a key for one of the user's applications and publishes it; returns the secret, which
/// is shown this once.
pub async fn issue_key(state: &PortalState, user: &User, application: &str, name: &str) -> Result<String, PortalError> {
    let application = owned(&state.store, user, application).await?;
    let issued = api_keys::issue(
        &state.store,
        &actor(user),
        &application.id,
        name.trim().to_owned(),
        None,
    )
    .await?;
    publish_keys(
        state,
        user,
        &format!("{} issued key {}", user.name, issued.record.object.prefix),
    )
    .await;
    Ok(issued.secret)
}

/// Revokes a key of one of the user's applications and publishes the change.
pub async fn revoke_key(state: &PortalState, user: &User, application: &str, key: &str) -> Result<ApiKey, PortalError> {
    let application = owned(&state.store, user, application).await?;
    let revoked = api_keys::revoke(&state.store, &actor(user), &application.id, key)
        .await?
        .object;
    publish_keys(state, user, &format!("{} revoked key {}", user.name, revoked.prefix)).await;
    Ok(revoked)
}

/// Replaces a key: a new one with the same name, and the old one revoked. Returns the new secret.
pub async fn rotate_key(state: &PortalState, user: &User, application: &str, key: &str) -> Result<String, PortalError> {
    let application = owned(&state.store, user, application).await?;
    let old = api_keys::get(&state.store, &application.id, key).await?.object;
    if old.revoked_at.is_some() {
        return Err(PortalError::Invalid(
            "key: a revoked key cannot be rotated; issue a new one".into(),
        ));
    }
    let issued = api_keys::issue(&state.store, &actor(user), &application.id, old.name.clone(), None).await?;
    api_keys::revoke(&state.store, &actor(user), &application.id, key).await?;
    let message = format!(
        "{} rotated key {} to {}",
        user.name, old.prefix, issued.record.object.prefix
    );
    publish_keys(state, user, &message).await;
    Ok(issued.secret)
}

/// Publishes the keys; a failure is logged, not shown: the change stands and the next publish
/// carries it.
async fn publish_keys(state: &PortalState, user: &User, message: &str) {
    match publish::publish_consumers(&state.store, &actor(user), message).await {
        Ok(Some(published)) => state.revisions.notify(&published),
        Ok(None) => tracing::info!("nothing published yet: the key works after the first publish"),
        Err(error) => tracing::error!(%error, "could not publish a key change"),
    }
}
