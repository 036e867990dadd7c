//! Configuration as code against a hub: export its state as manifests, and apply a manifest set
//! so that the hub matches it, in one transaction, printing the plan first. Applying the same
//! set twice changes nothing; a set with any problem is refused whole.

use serde::Serialize;
use utoipa::ToSchema;

use super::kinds;
use super::objects::{all_in, get_in, insert_in, save_in};
use super::publish::{self, Published};
use crate::error::HubError;
use crate::identity::Actor;
use crate::manifest::Kind as DocumentKind;
use crate::manifest::export::{Objects, export as export_files};
use crate::manifest::load::{ManifestSet, Problem, SourceFile, parse};
use crate::manifest::state::{ManifestState, build};
use crate::model::{AccessPolicy, Api, ApiVersion, Group, Kind, ObjectRef, Plan, Portal, Role};
use crate::store::{Store, Tx};
use crate::validate::FieldError;

/// How to apply.
#[derive(Debug, Clone, Default)]
pub struct ApplyOptions {
    /// Delete what the hub holds and the manifests do not (APIs, versions, groups, plans, policies,
    /// portals).
    pub prune: bool,
    /// Work out the plan and change nothing.
    pub dry_run: bool,
    /// Publish the result in the same step.
    pub publish: bool,
    /// The publish message (also the reason in the plan's output).
    pub message: Option<String>,
    /// The source commit the manifests came from.
    pub commit: Option<String>,
}

/// What one step of a plan does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    Create,
    Update,
    Delete,
}

/// One step of a plan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct Step {
    pub action: Action,
    /// The manifest kind (`Api`, `Group`, …; a version is `ApiVersion`).
    pub kind: String,
    /// The object's key (`employees`, `employees/v2`).
    pub name: String,
    /// For an update, the top-level fields that change.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub fields: Vec<String>,
}

/// What an apply did (or, in a dry run, would do).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Applied {
    pub steps: Vec<Step>,
    /// False in a dry run.
    pub applied: bool,
    /// The revision published, when asked to publish (`None` when nothing changed).
    pub published: Option<Published>,
}

/// The hub's state as manifest files.
pub async fn export(store: &Store) -> Result<Vec<SourceFile>, HubError> {
    let mut tx = store.begin().await?;
    let apis = all_in::<Api>(&mut tx).await?;
    let versions = all_in::<ApiVersion>(&mut tx).await?;
    let groups = all_in::<Group>(&mut tx).await?;
    let plans = all_in::<Plan>(&mut tx).await?;
    let policies = all_in::<AccessPolicy>(&mut tx).await?;
    let portals = all_in::<Portal>(&mut tx).await?;
    tx.commit().await?;
    Ok(export_files(&Objects {
        apis: &apis,
        versions: &versions,
        groups: &groups,
        plans: &plans,
        policies: &policies,
        portals: &portals,
    }))
}

/// Problems as field errors, so a refused set reads like any refused request:
/// `groups.yaml:4:7 spec.groups[1]`, with the message and the rule.
pub fn as_field_errors(problems: &[Problem]) -> Vec<FieldError> {
    problems
        .iter()
        .map(|problem| {
            let field = if problem.field.is_empty() {
                problem.location.to_string()
            } else {
                format!("{} {}", problem.location, problem.field)
            };
            FieldError::new(field, format!("{} [{}]", problem.message, problem.rule))
        })
        .collect()
}

/// Makes the hub match `files`. Nothing is changed when any manifest has a problem, when a
/// change breaks a rule of the hub (a reference, a claimed route), or in a dry run.
pub async fn apply(
    store: &Store,
    actor: &Actor,
    files: Vec<SourceFile>,
    options: &ApplyOptions,
) -> Result<Applied, HubError> {
    actor.require(Role::Admin)?;
    let (set, mut problems) = parse(files);
    let (state, built) = build(&set);
    problems.extend(built);
    if !problems.is_empty() {
        return Err(HubError::Invalid(as_field_errors(&problems)));
    }
    let mut tx = store.begin().await?;
    let steps = plan_and_apply(&mut tx, actor, &set, &state, options.prune).await?;
    if options.dry_run {
        // Dropping the transaction rolls every step back.
        drop(tx);
        return Ok(Applied {
            steps,
            applied: false,
            published: None,
        });
    }
    tx.commit().await?;
    let published = if options.publish {
        let message = options.message.clone().unwrap_or_else(|| "apply manifests".into());
        let published = publish::publish(store, actor, &message, options.commit.as_deref()).await?;
        Some(published).filter(|published| published.created)
    } else {
        None
    };
    Ok(Applied {
        steps,
        applied: true,
        published,
    })
}

async fn plan_and_apply(
    tx: &mut Tx,
    actor: &Actor,
    set: &ManifestSet,
    state: &ManifestState,
    prune: bool,
) -> Result<Vec<Step>, HubError> {
    let mut steps = Vec::new();
    let located = |kind: DocumentKind, name: &str, error: HubError| locate_error(set, state, kind, name, error);
    // Policies first out, so what they named may go; then everything in, in reference order;
    // then the rest out.
    if prune {
        prune_kind::<AccessPolicy>(tx, actor, &state.policies, "AccessPolicy", &mut steps).await?;
    }
    for group in &state.groups {
        upsert(tx, actor, group.clone(), "Group", &mut steps)
            .await
            .map_err(|error| located(DocumentKind::Group, &group.name, error))?;
    }
    for plan in &state.plans {
        upsert(tx, actor, plan.clone(), "Plan", &mut steps)
            .await
            .map_err(|error| located(DocumentKind::Plan, &plan.name, error))?;
    }
    for api in &state.apis {
        let kind = if api.external { "ExternalApi" } else { "Api" };
        upsert(tx, actor, api.clone(), kind, &mut steps)
            .await
            .map_err(|error| located(DocumentKind::Api, &api.name, error))?;
    }
    if prune {
        prune_kind::<ApiVersion>(tx, actor, &state.versions, "ApiVersion", &mut steps).await?;
    }
    // A successor goes in before the versions that name it, since a reference must exist.
    for version in crate::model::api_version::successors_first(&state.versions) {
        upsert(tx, actor, version.clone(), "ApiVersion", &mut steps)
            .await
            .map_err(|error| located(DocumentKind::Api, &version.api, error))?;
    }
    for policy in &state.policies {
        upsert(tx, actor, policy.clone(), "AccessPolicy", &mut steps)
            .await
            .map_err(|error| located(DocumentKind::AccessPolicy, &policy.name, error))?;
    }
    for portal in &state.portals {
        upsert(tx, actor, portal.clone(), "Portal", &mut steps)
            .await
            .map_err(|error| located(DocumentKind::Portal, &portal.name, error))?;
    }
    if prune {
        prune_kind::<Api>(tx, actor, &state.apis, "Api", &mut steps).await?;
        prune_kind::<Plan>(tx, actor, &state.plans, "Plan", &mut steps).await?;
        prune_kind::<Group>(tx, actor, &state.groups, "Group", &mut steps).await?;
        prune_kind::<Portal>(tx, actor, &state.portals, "Portal", &mut steps).await?;
    }
    Ok(steps)
}

async fn upsert<K: Kind>(
    tx: &mut Tx,
    actor: &Actor,
    mut object: K,
    kind: &str,
    steps: &mut Vec<Step>,
) -> Result<(), HubError> {
    let key = object.key();
    match get_in::<K>(tx, &key).await? {
        None => {
            insert_in(tx, actor, object).await?;
            steps.push(Step {
                action: Action::Create,
                kind: kind.into(),
                name: key,
                fields: Vec::new(),
            });
        }
        Some(previous) => {
            object.keep_secrets(&previous.object);
            let fields = changed_fields(&previous.object, &object)?;
            if !fields.is_empty() {
                save_in(tx, actor, previous, object).await?;
                steps.push(Step {
                    action: Action::Update,
                    kind: kind.into(),
                    name: key,
                    fields,
                });
            }
        }
    }
    Ok(())
}

async fn prune_kind<K: Kind>(
    tx: &mut Tx,
    actor: &Actor,
    wanted: &[K],
    kind: &str,
    steps: &mut Vec<Step>,
) -> Result<(), HubError> {
    let keep: Vec<String> = wanted.iter().map(Kind::key).collect();
    for object in all_in::<K>(tx).await? {
        let key = object.key();
        if keep.contains(&key) {
            continue;
        }
        // No cascade: what still refers to it (a user in a group) is named, and nothing goes.
        kinds::delete_in(tx, actor, &ObjectRef::new(K::KIND, &key), false)
            .await
            .map_err(|error| match error {
                HubError::Conflict { detail } => HubError::Conflict {
                    detail: format!("cannot prune {kind} `{key}`: {detail}"),
                },
                other => other,
            })?;
        steps.push(Step {
            action: Action::Delete,
            kind: kind.into(),
            name: key,
            fields: Vec::new(),
        });
    }
    Ok(())
}

/// The top-level fields whose values differ.
fn changed_fields<K: Kind>(before: &K, after: &K) -> Result<Vec<String>, HubError> {
    let to_value = |object: &K| {
        serde_json::to_value(object)
            .map_err(|error| HubError::Store(crate::store::StoreError::Corrupt(error.to_string())))
    };
    let (before, after) = (to_value(before)?, to_value(after)?);
    let empty = serde_json::Map::new();
    let (before, after) = (
        before.as_object().unwrap_or(&empty),
        after.as_object().unwrap_or(&empty),
    );
    let mut fields: Vec<String> = before
        .keys()
        .chain(after.keys())
        .filter(|key| before.get(*key) != after.get(*key))
        .cloned()
        .collect();
    fields.sort();
    fields.dedup();
    Ok(fields)
}

/// A hub rule's refusal of one object, placed in the object's document: a reference to
/// something that does not exist is at the reference's line.
fn locate_error(set: &ManifestSet, state: &ManifestState, kind: DocumentKind, name: &str, error: HubError) -> HubError {
    let Some(document) = state.origin(set, kind, name) else {
        return error;
    };
    match error {
        HubError::Invalid(errors) => HubError::Invalid(
            errors
                .into_iter()
                .map(|error| {
                    let location = document.locate(&error.field);
                    FieldError::new(format!("{location} spec.{}", error.field), error.message)
                })
                .collect(),
        ),
        HubError::Conflict { detail } => HubError::Conflict {
            detail: format!("{}: {detail}", document.name_location()),
        },
        other => other,
    }
}
