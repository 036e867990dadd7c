//! Access policies against the rest of the set: every group, plan, API and API version they
//! name must be defined (`unknown-reference`); a granted version must be served
//! (`grant-unserved-version`); granted operations and methods must be in the granted versions'
//! OpenAPI documents (`grant-unknown-operation`, `grant-unknown-method`); and every API should be
//! granted by some policy (`api-not-granted`).
//!
//! Operations are checked as the compiler checks them (`compiler::compile` refuses an operation
//! no granted version's document defines, even when no granted version has a document). Methods
//! are only checked when every granted version has a document, since an undocumented version
//! may serve any method; `HEAD` counts as documented with `GET`, and `OPTIONS` (CORS preflight,
//! seldom documented) is not checked.

use super::index::{ApiEntry, Index, VersionEntry};
use super::{Finding, finding};
use crate::compiler::openapi::operations;
use crate::manifest::LocatedDocument;
use crate::model::{ApiGrant, HttpMethod, VersionStatus};

/// Finds every reference problem of every access policy, and the APIs none grants.
pub(super) fn check(index: &Index<'_>, findings: &mut Vec<Finding>) {
    for policy in &index.policies {
        let Some(spec) = &policy.spec else { continue };
        let document = policy.document;
        let group_names: Vec<&str> = index.groups.iter().map(|group| group.name.as_str()).collect();
        for (position, group) in spec.groups.iter().enumerate() {
            if !group_names.contains(&group.as_str()) {
                findings.push(unknown(
                    document,
                    &format!("groups[{position}]"),
                    "group",
                    group,
                    &group_names,
                ));
            }
        }
        if index.plan(&spec.plan).is_none() {
            let plan_names: Vec<&str> = index.plans.iter().map(|plan| plan.document.name.as_str()).collect();
            findings.push(unknown(document, "plan", "plan", &spec.plan, &plan_names));
        }
        for (position, grant) in spec.apis.iter().enumerate() {
            let Some(api) = index.api(&grant.api) else {
                let api_names: Vec<&str> = index.apis.iter().map(|api| api.document.name.as_str()).collect();
                findings.push(unknown(
                    document,
                    &format!("apis[{position}].api"),
                    "API",
                    &grant.api,
                    &api_names,
                ));
                continue;
            };
            // Without its spec the API's versions are unknown; its `schema` finding comes first.
            if api.spec.is_some() {
                check_grant(document, position, grant, api, findings);
            }
        }
    }
    // A policy that could not be read may grant any API.
    if index.policies.iter().any(|policy| policy.spec.is_none()) {
        return;
    }
    for api in &index.apis {
        let granted = index
            .policies
            .iter()
            .filter_map(|policy| policy.spec.as_ref())
            .any(|spec| spec.apis.iter().any(|grant| grant.api == api.document.name));
        if !granted {
            findings.push(finding(
                "api-not-granted",
                api.document.name_location(),
                format!(
                    "no access policy grants API `{}`, so no API key can call it",
                    api.document.name
                ),
            ));
        }
    }
}

/// The versions, operations and methods of one grant, against the API's versions.
fn check_grant(
    document: &LocatedDocument,
    position: usize,
    grant: &ApiGrant,
    api: &ApiEntry<'_>,
    findings: &mut Vec<Finding>,
) {
    let version_names: Vec<&str> = api.versions.iter().map(|version| version.spec.name.as_str()).collect();
    for (version_position, name) in grant.versions.iter().enumerate() {
        let field = format!("apis[{position}].versions[{version_position}]");
        match api.versions.iter().find(|version| version.spec.name == *name) {
            None => {
                let mut unknown = unknown(document, &field, "version", name, &version_names);
                unknown.message = format!(
                    "access policy `{}` names version `{name}` of API `{}`, which the API's manifest does not define",
                    document.name, grant.api
                );
                findings.push(unknown);
            }
            Some(version) if matches!(version.spec.status, VersionStatus::Draft | VersionStatus::Retired) => {
                findings.push(finding(
                    "grant-unserved-version",
                    document.locate(&field),
                    format!(
                        "access policy `{}` grants version `{name}` of API `{}`, which is {}: publishing refuses it",
                        document.name,
                        grant.api,
                        version.spec.status.as_str()
                    ),
                ));
            }
            Some(_) => {}
        }
    }
    let granted: Vec<&VersionEntry<'_>> = api
        .versions
        .iter()
        .filter(|version| grant.versions.is_empty() || grant.versions.contains(&version.spec.name))
        .collect();
    // A document that does not parse has its own finding; judging grants by the others would
    // only add wrong ones.
    if granted
        .iter()
        .any(|version| version.openapi.as_ref().is_some_and(|openapi| openapi.parsed.is_err()))
    {
        return;
    }
    let documented: Vec<&VersionEntry<'_>> = granted
        .iter()
        .copied()
        .filter(|version| version.openapi.as_ref().is_some_and(|openapi| openapi.parsed.is_ok()))
        .collect();
    let described = describe_versions(&documented);
    let operation_ids: Vec<String> = documented
        .iter()
        .filter_map(|version| operations(&version.openapi.as_ref()?.text).ok())
        .flatten()
        .map(|operation| operation.id)
        .collect();
    for (operation_position, operation) in grant.operations.iter().enumerate() {
        if operation_ids.contains(operation) {
            continue;
        }
        let message = if documented.is_empty() {
            format!(
                "access policy `{}` grants operation `{operation}` of API `{}`, but no granted version has an \
                 OpenAPI document that could define it: publishing refuses it",
                document.name, grant.api
            )
        } else {
            format!(
                "access policy `{}` grants operation `{operation}` of API `{}`, which {described} does not define",
                document.name, grant.api
            )
        };
        let mut found = finding(
            "grant-unknown-operation",
            document.locate(&format!("apis[{position}].operations[{operation_position}]")),
            message,
        );
        let ids: Vec<&str> = operation_ids.iter().map(String::as_str).collect();
        if let Some(near) = closest(operation, &ids) {
            found.hint = format!("did you mean `{near}`? {}", found.hint);
        }
        findings.push(found);
    }
    if granted.is_empty() || documented.len() < granted.len() {
        return;
    }
    for (method_position, method) in grant.methods.iter().enumerate() {
        let documented_method = |wanted: &str| {
            documented.iter().any(|version| {
                let parsed = version
                    .openapi
                    .as_ref()
                    .and_then(|openapi| openapi.parsed.as_ref().ok());
                parsed
                    .and_then(|value| value.get("paths"))
                    .and_then(|paths| paths.as_object())
                    .is_some_and(|paths| paths.values().any(|item| item.get(wanted).is_some()))
            })
        };
        let known = match method {
            HttpMethod::Options => true,
            HttpMethod::Head => documented_method("head") || documented_method("get"),
            other => documented_method(&method_word(*other).to_ascii_lowercase()),
        };
        if !known {
            findings.push(finding(
                "grant-unknown-method",
                document.locate(&format!("apis[{position}].methods[{method_position}]")),
                format!(
                    "access policy `{}` grants `{}` on API `{}`, but no path of {described} has a `{}` operation",
                    document.name,
                    method_word(*method),
                    grant.api,
                    method_word(*method).to_ascii_lowercase()
                ),
            ));
        }
    }
}

/// `unknown-reference` at `field`, with the nearest defined name as a hint.
fn unknown(document: &LocatedDocument, field: &str, what: &str, name: &str, defined: &[&str]) -> Finding {
    let mut found = finding(
        "unknown-reference",
        document.locate(field),
        format!(
            "access policy `{}` names {what} `{name}`, which no manifest defines",
            document.name
        ),
    );
    found.hint = match closest(name, defined) {
        Some(near) => format!("did you mean `{near}`? Otherwise define the {what} in a manifest"),
        None if defined.is_empty() => format!("define the {what} in a manifest, or remove it from the policy"),
        None => format!(
            "define the {what} in a manifest, or name one that exists: {}",
            defined
                .iter()
                .take(8)
                .map(|name| format!("`{name}`"))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    };
    found
}

/// "the OpenAPI document of version `v1`" or "the OpenAPI documents of versions `v1`, `v2`".
fn describe_versions(versions: &[&VersionEntry<'_>]) -> String {
    let names: Vec<String> = versions
        .iter()
        .map(|version| format!("`{}`", version.spec.name))
        .collect();
    match names.as_slice() {
        [one] => format!("the OpenAPI document of version {one}"),
        many => format!("the OpenAPI documents of versions {}", many.join(", ")),
    }
}

fn method_word(method: HttpMethod) -> &'static str {
    match method {
        HttpMethod::Get => "GET",
        HttpMethod::Head => "HEAD",
        HttpMethod::Post => "POST",
        HttpMethod::Put => "PUT",
        HttpMethod::Patch => "PATCH",
        HttpMethod::Delete => "DELETE",
        HttpMethod::Options => "OPTIONS",
    }
}

/// The defined name nearest to a misspelt one: at most a third of its letters apart.
fn closest<'a>(name: &str, defined: &[&'a str]) -> Option<&'a str> {
    let limit = (name.chars().count() / 3).max(1);
    defined
        .iter()
        .map(|candidate| (edit_distance(name, candidate), *candidate))
        .filter(|(distance, _)| *distance <= limit)
        .min()
        .map(|(_, candidate)| candidate)
}

/// Levenshtein distance, by characters.
fn edit_distance(left: &str, right: &str) -> usize {
    let right: Vec<char> = right.chars().collect();
    let mut previous: Vec<usize> = (0..=right.len()).collect();
    for (row, left_char) in left.chars().enumerate() {
        let mut current = vec![row + 1];
        for (column, right_char) in right.iter().enumerate() {
            let substitution = previous[column] + usize::from(left_char != *right_char);
            current.push(substitution.min(previous[column + 1] + 1).min(current[column] + 1));
        }
        previous = current;
    }
    previous[right.len()]
}
