//! Issuing and revoking API keys. The secret exists only in the value returned by [`issue`].

use chrono::{DateTime, Utc};

use super::objects::{get_in, insert_in, not_found, save_in};
use crate::error::HubError;
use crate::identity::{Actor, secret};
use crate::model::{ApiKey, Application, Kind, Record};
use crate::store::Store;

/// The secret's marker: `ghk_…` tells a reader (and a secret scanner) what it is.
pub const KEY_MARKER: &str = "ghk";

/// A newly issued key: the stored record and the secret, shown this once.
#[derive(Debug)]
pub struct IssuedKey {
    pub record: Record<ApiKey>,
    pub secret: String,
}

/// Issues a key for an application.
pub async fn issue(
    store: &Store,
    actor: &Actor,
    application: &str,
    name: String,
    expires_at: Option<DateTime<Utc>>,
) -> Result<IssuedKey, HubError> {
    if expires_at.is_some_and(|expires_at| expires_at <= Utc::now()) {
        return Err(HubError::invalid("expires_at", "must be in the future"));
    }
    let generated = secret::generate(KEY_MARKER);
    let key = ApiKey {
        id: secret::new_id("key"),
        application: application.to_owned(),
        name,
        prefix: generated.prefix,
        hash: generated.hash,
        expires_at,
        revoked_at: None,
    };
    let key = ApiKey::from_input(key, None).map_err(HubError::Invalid)?;
    let mut tx = store.begin().await?;
    if get_in::<Application>(&mut tx, application).await?.is_none() {
        return Err(not_found::<Application>(application));
    }
    let record = insert_in(&mut tx, actor, key).await?;
    tx.commit().await?;
    Ok(IssuedKey {
        record,
        secret: generated.value,
    })
}

/// Revokes a key of an application; revoking twice keeps the first time.
pub async fn revoke(store: &Store, actor: &Actor, application: &str, id: &str) -> Result<Record<ApiKey>, HubError> {
    let mut tx = store.begin().await?;
    let previous = get_in::<ApiKey>(&mut tx, id)
        .await?
        .filter(|record| record.object.application == application)
        .ok_or_else(|| not_found::<ApiKey>(id))?;
    let mut key = previous.object.clone();
    key.revoked_at = key.revoked_at.or(Some(Utc::now()));
    let record = save_in(&mut tx, actor, previous, key).await?;
    tx.commit().await?;
    Ok(record)
}

/// Reads a key of an application; a key of another application is not found.
pub async fn get(store: &Store, application: &str, id: &str) -> Result<Record<ApiKey>, HubError> {
    let mut tx = store.begin().await?;
    let record = get_in::<ApiKey>(&mut tx, id).await?;
    tx.commit().await?;
    record
        .filter(|record| record.object.application == application)
        .ok_or_else(|| not_found::<ApiKey>(id))
}

/// Deletes a key of an application.
pub async fn delete(store: &Store, actor: &Actor, application: &str, id: &str) -> Result<(), HubError> {
    let mut tx = store.begin().await?;
    let exists = get_in::<ApiKey>(&mut tx, id)
        .await?
        .is_some_and(|record| record.object.application == application);
    if !exists {
        return Err(not_found::<ApiKey>(id));
    }
    super::kinds::delete_in(&mut tx, actor, &crate::model::ObjectRef::new(ApiKey::KIND, id), false).await?;
    tx.commit().await?;
    Ok(())
}
