//! Registering and revoking applications' client certificates. Like API keys, a change reaches
//! the gateways with the next publish (`publish::publish_consumers` publishes credentials alone).

use chrono::Utc;

use super::objects::{get_in, insert_in, not_found, save_in};
use crate::error::HubError;
use crate::identity::Actor;
use crate::model::{ApplicationCertificate, ApplicationCertificateInput, Kind, ObjectRef, Record};
use crate::store::Store;

/// Registers a certificate for an application. Refused, naming the field, when the PEM is not one
/// leaf certificate without a key, has expired, or is registered already; or when the
/// application does not exist (`application`).
pub async fn register(
    store: &Store,
    actor: &Actor,
    input: ApplicationCertificateInput,
) -> Result<Record<ApplicationCertificate>, HubError> {
    let certificate = ApplicationCertificate::from_input(input, None).map_err(HubError::Invalid)?;
    if certificate.not_after <= Utc::now() {
        return Err(HubError::invalid(
            "certificate_pem",
            format!(
                "has expired (not after {}): register a certificate that is still valid",
                certificate.not_after.format("%Y-%m-%d %H:%M UTC")
            ),
        ));
    }
    let mut tx = store.begin().await?;
    // The application is checked as a reference: unknown, it is refused naming `application`.
    let record = insert_in(&mut tx, actor, certificate).await?;
    tx.commit().await?;
    Ok(record)
}

/// Revokes a certificate of an application; revoking twice keeps the first time.
pub async fn revoke(
    store: &Store,
    actor: &Actor,
    application: &str,
    id: &str,
) -> Result<Record<ApplicationCertificate>, HubError> {
    let mut tx = store.begin().await?;
    let previous = of_application(get_in(&mut tx, id).await?, application, id)?;
    let mut certificate = previous.object.clone();
    certificate.revoked_at = certificate.revoked_at.or(Some(Utc::now()));
    let record = save_in(&mut tx, actor, previous, certificate).await?;
    tx.commit().await?;
    Ok(record)
}

/// Reads a certificate of an application; one of another application is not found.
pub async fn get(store: &Store, application: &str, id: &str) -> Result<Record<ApplicationCertificate>, HubError> {
    let mut tx = store.begin().await?;
    let record = get_in(&mut tx, id).await?;
    tx.commit().await?;
    of_application(record, application, id)
}

/// Deletes a certificate of an application.
pub async fn delete(store: &Store, actor: &Actor, application: &str, id: &str) -> Result<(), HubError> {
    let mut tx = store.begin().await?;
    of_application(get_in::<ApplicationCertificate>(&mut tx, id).await?, application, id)?;
    let target = ObjectRef::new(ApplicationCertificate::KIND, id);
    super::kinds::delete_in(&mut tx, actor, &target, false).await?;
    tx.commit().await?;
    Ok(())
}

fn of_application(
    record: Option<Record<ApplicationCertificate>>,
    application: &str,
    id: &str,
) -> Result<Record<ApplicationCertificate>, HubError> {
    record
        .filter(|record| record.object.application == application)
        .ok_or_else(|| not_found::<ApplicationCertificate>(id))
}
