//! Create, read, list, replace and delete for every [`Kind`], with the same rules for all:
//! input validated, references checked, unique claims taken, every write audited, each
//! operation one transaction.

use chrono::Utc;

use super::kinds;
use crate::error::HubError;
use crate::identity::Actor;
use crate::model::{AuditAction, Kind, ListFilter, Meta, ObjectRef, Page, Record};
use crate::store::{NewAuditEntry, ObjectRow, Store, StoreError, Tx, from_millis, to_millis};
use crate::validate::FieldError;

/// Creates an object from an admin's input.
pub async fn create<K: Kind>(store: &Store, actor: &Actor, input: K::Input) -> Result<Record<K>, HubError> {
    let object = K::from_input(input, None).map_err(HubError::Invalid)?;
    let mut tx = store.begin().await?;
    let record = insert_in(&mut tx, actor, object).await?;
    tx.commit().await?;
    Ok(record)
}

/// Reads one object.
pub async fn get<K: Kind>(store: &Store, key: &str) -> Result<Record<K>, HubError> {
    let mut tx = store.begin().await?;
    let record = get_in::<K>(&mut tx, key).await?;
    tx.commit().await?;
    record.ok_or_else(|| not_found::<K>(key))
}

/// Lists one page of objects.
pub async fn list<K: Kind>(store: &Store, filter: &ListFilter) -> Result<Page<Record<K>>, HubError> {
    let mut tx = store.begin().await?;
    let page = list_in::<K>(&mut tx, filter).await?;
    tx.commit().await?;
    Ok(page)
}

/// Replaces an object with an admin's input; its key cannot change.
pub async fn replace<K: Kind>(store: &Store, actor: &Actor, key: &str, input: K::Input) -> Result<Record<K>, HubError> {
    let mut tx = store.begin().await?;
    let previous = get_in::<K>(&mut tx, key).await?.ok_or_else(|| not_found::<K>(key))?;
    let object = K::from_input(input, Some(&previous.object)).map_err(HubError::Invalid)?;
    if object.key() != key {
        return Err(HubError::invalid(
            "name",
            format!("must be `{key}`, as in the URL: names cannot change"),
        ));
    }
    let record = save_in(&mut tx, actor, previous, object).await?;
    tx.commit().await?;
    Ok(record)
}

/// Deletes an object. When others refer to it, the delete is refused naming them, unless
/// `cascade` is set: then objects it owns are deleted and the others let go of it.
pub async fn delete<K: Kind>(store: &Store, actor: &Actor, key: &str, cascade: bool) -> Result<(), HubError> {
    let mut tx = store.begin().await?;
    if !tx.object_exists(K::KIND, key).await? {
        return Err(not_found::<K>(key));
    }
    kinds::delete_in(&mut tx, actor, &ObjectRef::new(K::KIND, key), cascade).await?;
    tx.commit().await?;
    Ok(())
}

// === Building blocks, each inside a caller's transaction ===

/// Reads one object, or `None`.
pub async fn get_in<K: Kind>(tx: &mut Tx, key: &str) -> Result<Option<Record<K>>, HubError> {
    match tx.get_object(K::KIND, key).await? {
        Some(row) => Ok(Some(record_from_row(&row)?)),
        None => Ok(None),
    }
}

/// One page of objects; asks for one more than the page to know whether another follows.
pub async fn list_in<K: Kind>(tx: &mut Tx, filter: &ListFilter) -> Result<Page<Record<K>>, HubError> {
    let mut probe = filter.clone();
    probe.limit = filter.limit + 1;
    let rows = tx.list_objects(K::KIND, &probe).await?;
    let has_more = rows.len() > filter.limit as usize;
    let items = rows
        .iter()
        .take(filter.limit as usize)
        .map(record_from_row::<K>)
        .collect::<Result<Vec<_>, _>>()?;
    let next_cursor = if has_more {
        items.last().map(|record| record.object.key())
    } else {
        None
    };
    Ok(Page { items, next_cursor })
}

/// Inserts a validated object: its key must be free, its references must exist, its claims
/// must be free.
pub async fn insert_in<K: Kind>(tx: &mut Tx, actor: &Actor, object: K) -> Result<Record<K>, HubError> {
    let key = object.key();
    if tx.object_exists(K::KIND, &key).await? {
        return Err(HubError::Conflict {
            detail: format!("{} `{key}` already exists", K::LABEL),
        });
    }
    check_references(tx, &object).await?;
    check_claims(tx, &object).await?;
    let now = stored_now();
    let meta = Meta {
        created_at: now,
        updated_at: now,
        created_by: actor.name.clone(),
        updated_by: actor.name.clone(),
    };
    let row = object_row(&object, &meta)?;
    tx.insert_object(&row).await.map_err(conflict_as::<K>(&key))?;
    index(tx, &object, false).await?;
    audit(
        tx,
        actor,
        AuditAction::Create,
        K::KIND,
        &key,
        None,
        Some(&object.view()),
    )
    .await?;
    Ok(Record { object, meta })
}

/// Replaces a stored object with a validated one of the same key. Saving an unchanged object
/// writes nothing and records no audit entry.
pub async fn save_in<K: Kind>(
    tx: &mut Tx,
    actor: &Actor,
    previous: Record<K>,
    object: K,
) -> Result<Record<K>, HubError> {
    let key = object.key();
    if to_json(&previous.object)? == to_json(&object)? {
        return Ok(previous);
    }
    keep_one(tx, &previous.object, Some(&object)).await?;
    check_references(tx, &object).await?;
    check_claims(tx, &object).await?;
    let meta = Meta {
        updated_at: stored_now(),
        updated_by: actor.name.clone(),
        ..previous.meta.clone()
    };
    let row = object_row(&object, &meta)?;
    tx.update_object(&row).await.map_err(conflict_as::<K>(&key))?;
    index(tx, &object, true).await?;
    let before = previous.object.view();
    audit(
        tx,
        actor,
        AuditAction::Update,
        K::KIND,
        &key,
        Some(&before),
        Some(&object.view()),
    )
    .await?;
    Ok(Record { object, meta })
}

/// Deletes one object of a known kind, with its audit entry. Referrers must be gone already.
pub(super) async fn remove_in<K: Kind>(tx: &mut Tx, actor: &Actor, key: &str) -> Result<(), HubError> {
    let Some(previous) = get_in::<K>(tx, key).await? else {
        return Ok(());
    };
    keep_one(tx, &previous.object, None).await?;
    tx.delete_object(K::KIND, key).await.map_err(conflict_as::<K>(key))?;
    audit(
        tx,
        actor,
        AuditAction::Delete,
        K::KIND,
        key,
        Some(&previous.object.view()),
        None::<&K::View>,
    )
    .await
}

/// Removes `target` from the object `key`, for a cascading delete; `false` if it cannot live
/// without it.
pub(super) async fn detach_in<K: Kind>(
    tx: &mut Tx,
    actor: &Actor,
    key: &str,
    target: &ObjectRef,
) -> Result<bool, HubError> {
    let Some(previous) = get_in::<K>(tx, key).await? else {
        return Ok(true);
    };
    let mut object = previous.object.clone();
    if !object.detach(target) {
        return Ok(false);
    }
    save_in(tx, actor, previous, object).await?;
    Ok(true)
}

/// Now, at the precision the store keeps (milliseconds), so a response shows what a read will.
fn stored_now() -> chrono::DateTime<Utc> {
    chrono::DateTime::from_timestamp_millis(Utc::now().timestamp_millis()).unwrap_or_else(Utc::now)
}

pub(crate) fn not_found<K: Kind>(key: &str) -> HubError {
    HubError::NotFound {
        kind: K::LABEL,
        key: key.to_owned(),
    }
}

async fn check_references<K: Kind>(tx: &mut Tx, object: &K) -> Result<(), HubError> {
    let mut errors = Vec::new();
    for reference in object.references() {
        if !tx.object_exists(reference.target.kind, &reference.target.key).await? {
            let label = kinds::label_of(reference.target.kind);
            errors.push(FieldError::new(
                reference.field,
                format!("unknown {label} `{}`", reference.target.key),
            ));
        }
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(HubError::Invalid(errors))
    }
}

/// Enforces [`Kind::KEEP_ONE`]: refuses to change (`after`) or delete (`None`) the object
/// `before` when it carries the rule's labels, will not, and no other object does.
async fn keep_one<K: Kind>(tx: &mut Tx, before: &K, after: Option<&K>) -> Result<(), HubError> {
    let Some(rule) = K::KEEP_ONE else {
        return Ok(());
    };
    let carries = |object: &K| {
        let labels = object.labels();
        rule.labels
            .iter()
            .all(|wanted| labels.iter().any(|label| label == wanted))
    };
    if !carries(before) || after.is_some_and(carries) {
        return Ok(());
    }
    // Lock first, then look: a concurrent change to another holder has committed by then.
    tx.lock_labelled(K::KIND, rule.labels).await?;
    let holders = ListFilter {
        labels: rule.labels.iter().map(|label| (*label).to_owned()).collect(),
        limit: 2,
        ..Default::default()
    };
    let key = before.key();
    let others = tx.list_objects(K::KIND, &holders).await?;
    if others.iter().any(|holder| holder.key != key) {
        return Ok(());
    }
    Err(HubError::Conflict {
        detail: format!("{} `{key}` is the last {}: {}", K::LABEL, rule.what, rule.remedy),
    })
}

async fn check_claims<K: Kind>(tx: &mut Tx, object: &K) -> Result<(), HubError> {
    let key = object.key();
    for claim in object.unique_claims() {
        if let Some(holder) = tx.claim_holder(claim.scope, &claim.value).await?
            && (holder.kind != K::KIND || holder.key != key)
        {
            let label = kinds::label_of(&holder.kind);
            let what = match claim.scope {
                "route" => format!("route `{}`", claim.value),
                _ => format!(
                    "{} `{}`",
                    claim.field,
                    claim.value.rsplit(['/', ' ']).next().unwrap_or(&claim.value)
                ),
            };
            return Err(HubError::Conflict {
                detail: format!("{what} is already taken by {label} `{}`", holder.key),
            });
        }
    }
    Ok(())
}

/// Rewrites what the store indexes about an object: references, labels, claims.
async fn index<K: Kind>(tx: &mut Tx, object: &K, replacing: bool) -> Result<(), HubError> {
    let key = object.key();
    let references: Vec<_> = object
        .references()
        .into_iter()
        .map(|reference| {
            (
                reference.field,
                reference.target.kind.to_owned(),
                reference.target.key,
                reference.owned_by_target,
            )
        })
        .collect();
    tx.set_references(K::KIND, &key, &references)
        .await
        .map_err(conflict_as::<K>(&key))?;
    tx.set_labels(K::KIND, &key, &object.labels()).await?;
    if replacing {
        tx.release_claims(K::KIND, &key).await?;
    }
    for claim in object.unique_claims() {
        tx.claim(claim.scope, &claim.value, K::KIND, &key)
            .await
            .map_err(conflict_as::<K>(&key))?;
    }
    Ok(())
}

pub(crate) async fn audit<V: serde::Serialize>(
    tx: &mut Tx,
    actor: &Actor,
    action: AuditAction,
    kind: &str,
    key: &str,
    before: Option<&V>,
    after: Option<&V>,
) -> Result<(), HubError> {
    let entry = NewAuditEntry {
        at: to_millis(Utc::now()),
        actor: actor.name.clone(),
        action,
        kind: kind.to_owned(),
        key: key.to_owned(),
        before: before.map(to_json).transpose()?,
        after: after.map(to_json).transpose()?,
    };
    tx.append_audit(&entry).await?;
    Ok(())
}

/// A constraint that fired despite the checks above means a concurrent change won the race.
fn conflict_as<K: Kind>(key: &str) -> impl FnOnce(StoreError) -> HubError + '_ {
    move |error| match error {
        StoreError::UniqueViolation | StoreError::ForeignKeyViolation => HubError::Conflict {
            detail: format!("{} `{key}` conflicts with a concurrent change; retry", K::LABEL),
        },
        other => HubError::Store(other),
    }
}

fn object_row<K: Kind>(object: &K, meta: &Meta) -> Result<ObjectRow, HubError> {
    let key = object.key();
    Ok(ObjectRow {
        kind: K::KIND.to_owned(),
        search: format!("{key}\n{}", object.search_text()).to_lowercase(),
        key,
        spec: to_json(object)?,
        created_at: to_millis(meta.created_at),
        updated_at: to_millis(meta.updated_at),
        created_by: meta.created_by.clone(),
        updated_by: meta.updated_by.clone(),
    })
}

fn record_from_row<K: Kind>(row: &ObjectRow) -> Result<Record<K>, HubError> {
    let object = serde_json::from_str(&row.spec)
        .map_err(|error| StoreError::Corrupt(format!("{} `{}`: {error}", row.kind, row.key)))?;
    let meta = Meta {
        created_at: from_millis(row.created_at)?,
        updated_at: from_millis(row.updated_at)?,
        created_by: row.created_by.clone(),
        updated_by: row.updated_by.clone(),
    };
    Ok(Record { object, meta })
}

fn to_json<T: serde::Serialize>(value: &T) -> Result<String, HubError> {
    serde_json::to_string(value).map_err(|error| HubError::Store(StoreError::Corrupt(error.to_string())))
}

/// Every object of a kind, in key order, in one transaction of its own.
pub async fn all<K: Kind>(store: &Store) -> Result<Vec<K>, HubError> {
    let mut tx = store.begin().await?;
    let objects = all_in::<K>(&mut tx).await?;
    tx.commit().await?;
    Ok(objects)
}

/// Every object of a kind, in key order (for the compiler, which needs the whole state).
pub async fn all_in<K: Kind>(tx: &mut Tx) -> Result<Vec<K>, HubError> {
    let mut filter = ListFilter {
        limit: 10_000,
        ..ListFilter::default()
    };
    let mut objects = Vec::new();
    loop {
        let page = list_in::<K>(tx, &filter).await?;
        objects.extend(page.items.into_iter().map(|record| record.object));
        match page.next_cursor {
            Some(cursor) => filter.cursor = Some(cursor),
            None => return Ok(objects),
        }
    }
}
