//! A manifest set to the snapshot publishing it would produce, compiled by the hub's own
//! compiler, or every problem that stops it, each at its file and line (the compiler's problems
//! are placed at the document, and the grant or field, they come from).

use chrono::DateTime;
use gateway::snapshot::Snapshot;

use crate::compiler::{self, HubState};
use crate::manifest::document::ApiSpec;
use crate::manifest::load::{self, LocatedDocument, Location, ManifestSet, Problem, SourceFile};
use crate::manifest::{Kind, ManifestState, state};
use crate::model::Kind as _;
use crate::validate::FieldError;

/// Why a manifest set gives no snapshot: every problem, at its place.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}", .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("\n"))]
pub struct ManifestProblems(pub Vec<Problem>);

/// The snapshot the files would publish (without users or keys: manifests hold none).
pub fn snapshot_of(files: Vec<SourceFile>) -> Result<Snapshot, ManifestProblems> {
    let (set, mut problems) = load::parse(files);
    let (built, more) = state::build(&set);
    problems.extend(more);
    if !problems.is_empty() {
        return Err(ManifestProblems(problems));
    }
    let hub_state = in_key_order(built.hub_state());
    // Nothing here expires (manifests hold no keys), so any instant compiles alike.
    compiler::compile(&hub_state, DateTime::UNIX_EPOCH).map_err(|errors| {
        ManifestProblems(
            errors
                .into_iter()
                .map(|error| placed(&set, &built, &hub_state, error))
                .collect(),
        )
    })
}

/// The lists as the hub's store hands them to the compiler: in key order, which decides the
/// order of access rules and so which rule's plan a call counts against.
fn in_key_order(mut hub_state: HubState) -> HubState {
    hub_state.apis.sort_by_key(|api| api.name.clone());
    hub_state.versions.sort_by_key(|version| version.key());
    hub_state.plans.sort_by_key(|plan| plan.name.clone());
    hub_state.policies.sort_by_key(|policy| policy.name.clone());
    hub_state
}

/// A compiler problem at the document it comes from. Its field is either the hub's
/// (`access_policies/<name>/apis[1]`, `api_versions/<api>/<version>`) or the snapshot's
/// (`apis[0].path_prefix`, `access_rules[3].versions[0]`, `plans[2].rate_limit.requests`).
fn placed(set: &ManifestSet, built: &ManifestState, hub_state: &HubState, error: FieldError) -> Problem {
    let FieldError { field, message } = error;
    let found = place(set, built, hub_state, &field);
    let (location, spec_field) = match found {
        Some((document, spec_field)) => (document.locate(&spec_field), format!("spec.{spec_field}")),
        None => (
            Location {
                file: set
                    .documents
                    .first()
                    .map(|document| document.file.clone())
                    .unwrap_or_default(),
                line: 1,
                column: 1,
            },
            field.clone(),
        ),
    };
    Problem {
        rule: "compile",
        location,
        field: spec_field,
        message,
    }
}

fn place<'s>(
    set: &'s ManifestSet,
    built: &ManifestState,
    hub_state: &HubState,
    field: &str,
) -> Option<(&'s LocatedDocument, String)> {
    if let Some(rest) = field.strip_prefix("access_policies/") {
        let (policy, grant) = rest.split_once('/')?;
        return Some((built.origin(set, Kind::AccessPolicy, policy)?, grant.to_owned()));
    }
    if let Some(rest) = field.strip_prefix("api_versions/") {
        let (api, version) = rest.split_once('/')?;
        let document = built.origin(set, Kind::Api, api)?;
        let index = document
            .spec::<ApiSpec>()
            .ok()?
            .versions
            .iter()
            .position(|spec| spec.name == version)?;
        return Some((document, format!("versions[{index}]")));
    }
    if let Some((index, rest)) = indexed(field, "apis") {
        let api = hub_state.apis.get(index)?;
        let spec_field = match rest {
            ".path_prefix" => "route.path_prefix",
            ".host" => "route.host",
            _ if rest.starts_with(".upstream") => "upstream",
            _ if rest.starts_with(".versions") => "versions",
            _ => "",
        };
        return Some((built.origin(set, Kind::Api, &api.name)?, spec_field.to_owned()));
    }
    if let Some((index, _)) = indexed(field, "plans") {
        let plan = hub_state.plans.get(index)?;
        return Some((built.origin(set, Kind::Plan, &plan.name)?, "rate_limit".to_owned()));
    }
    if let Some((index, rest)) = indexed(field, "access_rules") {
        // The compiler writes one rule per grant, policy by policy.
        let (policy, grant) = hub_state
            .policies
            .iter()
            .flat_map(|policy| (0..policy.apis.len()).map(move |grant| (policy, grant)))
            .nth(index)?;
        // A rule's plan and groups are its policy's; the rest is the grant's.
        let spec_field = match rest {
            ".plan" => "plan".to_owned(),
            _ if rest.starts_with(".groups") => "groups".to_owned(),
            _ => format!("apis[{grant}]{rest}"),
        };
        return Some((built.origin(set, Kind::AccessPolicy, &policy.name)?, spec_field));
    }
    None
}

/// `apis[3].path_prefix` with `apis` → `(3, ".path_prefix")`.
fn indexed<'f>(field: &'f str, list: &str) -> Option<(usize, &'f str)> {
    let rest = field.strip_prefix(list)?.strip_prefix('[')?;
    let (index, rest) = rest.split_once(']')?;
    Some((index.parse().ok()?, rest))
}
