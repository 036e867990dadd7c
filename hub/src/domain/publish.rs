//! Publishing: compile the hub's state into a snapshot and record it as a revision; roll back
//! by publishing an earlier revision's content again; compare two revisions. Publishing an
//! unchanged state records nothing.

use chrono::Utc;
use gateway::snapshot::{Snapshot, content_hash};
use serde::Serialize;
use utoipa::ToSchema;

use super::objects::all_in;
use crate::compiler::{self, HubState};
use crate::error::HubError;
use crate::identity::Actor;
use crate::model::{
    AccessPolicy, Api, ApiKey, ApiVersion, Application, ApplicationCertificate, Plan, Revision, RevisionKind, User,
};
use crate::store::{Store, StoreError, Tx};

/// What a publish did.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Published {
    pub revision: Revision,
    /// False when the state was unchanged and the latest revision already holds it.
    pub created: bool,
}

/// Longest publish message.
pub const MAX_MESSAGE_LEN: usize = 1000;

/// Compiles the current state and records it as a new revision, unless the latest revision
/// already holds exactly this content.
pub async fn publish(
    store: &Store,
    actor: &Actor,
    message: &str,
    source_commit: Option<&str>,
) -> Result<Published, HubError> {
    check_message(message, source_commit)?;
    let mut tx = store.begin().await?;
    let state = load_state(&mut tx).await?;
    let snapshot = compiler::compile_stored(&state, Utc::now()).map_err(HubError::Invalid)?;
    let published = record(&mut tx, actor, snapshot, message, source_commit, None).await?;
    tx.commit().await?;
    Ok(published)
}

/// Publishes the current consumers (API keys and client certificates, and who holds them) on
/// top of the latest revision, leaving everything else as it was published: what a key or
/// certificate change in the portal or the dashboard needs, without publishing an admin's unfinished drafts of APIs, plans or policies with it.
/// Before the first publish there is nothing to add keys to: `None`.
pub async fn publish_consumers(store: &Store, actor: &Actor, message: &str) -> Result<Option<Published>, HubError> {
    check_message(message, None)?;
    let mut tx = store.begin().await?;
    let Some(latest) = tx.list_revisions(None, 1).await?.into_iter().next() else {
        return Ok(None);
    };
    let mut snapshot = snapshot_in(&mut tx, latest.number).await?;
    let identities = HubState {
        users: all_in::<User>(&mut tx).await?,
        applications: all_in::<Application>(&mut tx).await?,
        keys: all_in::<ApiKey>(&mut tx).await?,
        client_certificates: all_in::<ApplicationCertificate>(&mut tx).await?,
        ..HubState::default()
    };
    snapshot.consumers = compiler::consumers(&identities, Utc::now());
    // Built on revision N: refuse if another publish recorded N+1 meanwhile, rather than undo it.
    let latest_now = tx
        .list_revisions(None, 1)
        .await?
        .into_iter()
        .next()
        .map(|revision| revision.number);
    if latest_now != Some(latest.number) {
        return Err(HubError::Conflict {
            detail: "another revision was published meanwhile; publish the keys again".into(),
        });
    }
    let published = record(&mut tx, actor, snapshot, message, None, None).await?;
    tx.commit().await?;
    Ok(Some(published))
}

/// Publishes the content of revision `number` again, as a new revision of kind
/// [`RevisionKind::Rollback`] that names `number`.
pub async fn rollback(store: &Store, actor: &Actor, number: i64, message: &str) -> Result<Published, HubError> {
    check_message(message, None)?;
    let mut tx = store.begin().await?;
    let snapshot = snapshot_in(&mut tx, number).await?;
    let message = if message.is_empty() {
        format!("roll back to revision {number}")
    } else {
        message.to_owned()
    };
    let published = record(&mut tx, actor, snapshot, &message, None, Some(number)).await?;
    tx.commit().await?;
    Ok(published)
}

/// The snapshot a revision holds.
pub async fn snapshot(store: &Store, number: i64) -> Result<Snapshot, HubError> {
    let mut tx = store.begin().await?;
    let snapshot = snapshot_in(&mut tx, number).await?;
    tx.commit().await?;
    Ok(snapshot)
}

/// The latest revision and its snapshot, if anything was ever published.
pub async fn latest(store: &Store) -> Result<Option<(Revision, Snapshot)>, HubError> {
    let mut tx = store.begin().await?;
    let Some(latest) = tx.list_revisions(None, 1).await?.into_iter().next() else {
        return Ok(None);
    };
    let snapshot = snapshot_in(&mut tx, latest.number).await?;
    tx.commit().await?;
    Ok(Some((latest, snapshot)))
}

/// What publishing now would produce, without recording it: for previews and impact reports.
pub async fn preview(store: &Store) -> Result<Snapshot, HubError> {
    let mut tx = store.begin().await?;
    let state = load_state(&mut tx).await?;
    tx.commit().await?;
    compiler::compile_stored(&state, Utc::now()).map_err(HubError::Invalid)
}

/// The whole state the compiler reads, in one transaction so it is consistent.
pub async fn load_state(tx: &mut Tx) -> Result<HubState, HubError> {
    Ok(HubState {
        apis: all_in::<Api>(tx).await?,
        versions: all_in::<ApiVersion>(tx).await?,
        plans: all_in::<Plan>(tx).await?,
        policies: all_in::<AccessPolicy>(tx).await?,
        users: all_in::<User>(tx).await?,
        applications: all_in::<Application>(tx).await?,
        keys: all_in::<ApiKey>(tx).await?,
        certificates: all_in::<crate::model::Certificate>(tx).await?,
        client_certificates: all_in::<ApplicationCertificate>(tx).await?,
        client_cas: all_in::<crate::model::ClientCa>(tx).await?,
    })
}

/// Records `snapshot` as the next revision; `rolled_back_to` names the revision a rollback
/// published again.
async fn record(
    tx: &mut Tx,
    actor: &Actor,
    mut snapshot: Snapshot,
    message: &str,
    source_commit: Option<&str>,
    rolled_back_to: Option<i64>,
) -> Result<Published, HubError> {
    let hash = content_hash(&snapshot);
    let latest = tx.list_revisions(None, 1).await?.into_iter().next();
    if let Some(latest) = latest.as_ref().filter(|latest| latest.content_hash == hash) {
        return Ok(Published {
            revision: latest.clone(),
            created: false,
        });
    }
    let number = latest.map_or(1, |latest| latest.number + 1);
    snapshot.revision = number as u64;
    snapshot.content_hash = hash.clone();
    let revision = Revision {
        number,
        content_hash: hash,
        author: actor.name.clone(),
        created_at: chrono::DateTime::from_timestamp_millis(Utc::now().timestamp_millis()).unwrap_or_else(Utc::now),
        message: message.to_owned(),
        source_commit: source_commit.map(str::to_owned),
        kind: if rolled_back_to.is_some() {
            RevisionKind::Rollback
        } else {
            RevisionKind::Publish
        },
        rolled_back_to,
    };
    let document = serde_json::to_string(&snapshot).map_err(|error| StoreError::Corrupt(error.to_string()))?;
    tx.insert_revision(&revision, &document)
        .await
        .map_err(|error| match error {
            StoreError::UniqueViolation => HubError::Conflict {
                detail: "another publish recorded this revision number first; publish again".into(),
            },
            other => HubError::Store(other),
        })?;
    Ok(Published {
        revision,
        created: true,
    })
}

async fn snapshot_in(tx: &mut Tx, number: i64) -> Result<Snapshot, HubError> {
    let (_, document) = tx.get_revision(number).await?.ok_or_else(|| HubError::NotFound {
        kind: "revision",
        key: number.to_string(),
    })?;
    Snapshot::parse(document.as_bytes())
        .map_err(|error| HubError::Store(StoreError::Corrupt(format!("revision {number}: {error}"))))
}

fn check_message(message: &str, source_commit: Option<&str>) -> Result<(), HubError> {
    let mut checker = crate::validate::Checker::new();
    checker.text("message", message, MAX_MESSAGE_LEN);
    if let Some(commit) = source_commit {
        checker.ensure(
            (4..=64).contains(&commit.len()) && commit.bytes().all(|b| b.is_ascii_hexdigit()),
            "source_commit",
            "must be a commit id: 4 to 64 hex digits",
        );
    }
    checker.finish().map_err(HubError::Invalid)
}

/// What changed from revision `from` to revision `to`.
pub async fn diff(store: &Store, from: i64, to: i64) -> Result<Vec<crate::compiler::diff::Change>, HubError> {
    let mut tx = store.begin().await?;
    let before = snapshot_in(&mut tx, from).await?;
    let after = snapshot_in(&mut tx, to).await?;
    tx.commit().await?;
    Ok(crate::compiler::diff::diff(&before, &after))
}

/// The latest revision's number and snapshot document, as stored (one line of JSON).
pub async fn latest_document(store: &Store) -> Result<Option<(i64, String)>, HubError> {
    let mut tx = store.begin().await?;
    let Some(latest) = tx.list_revisions(None, 1).await?.into_iter().next() else {
        return Ok(None);
    };
    let document = tx.get_revision(latest.number).await?.map(|(_, document)| document);
    tx.commit().await?;
    Ok(document.map(|document| (latest.number, document)))
}

/// What publishing now would change, against the latest revision.
#[derive(Debug, Clone)]
pub struct Pending {
    pub latest: Option<Revision>,
    /// The changes, or why the current state cannot be published (each problem with its field).
    pub changes: Result<Vec<crate::compiler::diff::Change>, Vec<crate::validate::FieldError>>,
}

/// The unpublished changes: the diff from the latest revision to what a publish would produce
/// (everything, before the first publish).
pub async fn pending(store: &Store) -> Result<Pending, HubError> {
    let latest = latest(store).await?;
    let (revision, before) = match latest {
        Some((revision, snapshot)) => (Some(revision), snapshot),
        None => (
            None,
            Snapshot {
                format: gateway::snapshot::SNAPSHOT_FORMAT,
                revision: 0,
                content_hash: String::new(),
                apis: Vec::new(),
                plans: Vec::new(),
                consumers: Vec::new(),
                jwt_issuers: Vec::new(),
                access_rules: Vec::new(),
                tls: None,
            },
        ),
    };
    let changes = match preview(store).await {
        Ok(after) => Ok(crate::compiler::diff::diff(&before, &after)),
        Err(HubError::Invalid(problems)) => Err(problems),
        Err(error) => return Err(error),
    };
    Ok(Pending {
        latest: revision,
        changes,
    })
}
