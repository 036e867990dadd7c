//! API versions: their OpenAPI documents (`openapi-invalid`), selectors that leave a version
//! unreachable (`version-unrouted`), and deprecated versions with nowhere to go
//! (`deprecated-without-successor`), or a successor that is not there (`successor-unserved`).
//!
//! Selectors are compared by the hub's own claim (`ApiVersion::unique_claims`): at most one
//! version of an API without a selector (the default), and no two with the same path segment,
//! header (name in any case) and value, or query parameter and value. The hub claims a draft's
//! selector too, so every status counts.

use super::index::{ApiEntry, Index, OpenApi, VersionEntry};
use super::{Finding, finding};
use crate::manifest::Location;
use crate::model::api_version::ApiVersionSpec;
use crate::model::{ApiVersion, Kind as _, Selector, VersionStatus};

/// Finds `openapi-invalid`.
pub(super) fn check_openapi(index: &Index<'_>, findings: &mut Vec<Finding>) {
    for api in &index.apis {
        for version in &api.versions {
            let Some(openapi) = &version.openapi else { continue };
            let Err(message) = &openapi.parsed else { continue };
            let separator = if message.starts_with('`') { ": " } else { " " };
            findings.push(finding(
                "openapi-invalid",
                openapi_location(api, version, openapi, message),
                format!(
                    "the OpenAPI document of API `{}` version `{}`{separator}{message}",
                    api.document.name, version.spec.name
                ),
            ));
        }
    }
}

/// Finds `version-unrouted`, `deprecated-without-successor` and `successor-unserved`.
pub(super) fn check(index: &Index<'_>, findings: &mut Vec<Finding>) {
    for api in &index.apis {
        let mut claims: Vec<(String, &VersionEntry<'_>)> = Vec::new();
        for version in &api.versions {
            let claim = selector_claim(&api.document.name, version);
            match claims.iter().find(|(taken, _)| *taken == claim) {
                Some((_, holder)) => findings.push(unrouted(api, holder, version)),
                None => claims.push((claim, version)),
            }
        }
        check_successors(api, findings);
        let has_published = api
            .versions
            .iter()
            .any(|version| version.spec.status == VersionStatus::Published);
        for version in &api.versions {
            if version.spec.status == VersionStatus::Deprecated && !has_published {
                findings.push(finding(
                    "deprecated-without-successor",
                    api.document.locate(&version.field("status")),
                    format!(
                        "version `{}` of API `{}` is deprecated, and the API has no published version to move to",
                        version.spec.name, api.document.name
                    ),
                ));
            }
        }
    }
}

/// `successor-unserved`: each named successor must be a served version of the same API.
fn check_successors(api: &ApiEntry<'_>, findings: &mut Vec<Finding>) {
    for version in &api.versions {
        let Some(successor) = &version.spec.successor else {
            continue;
        };
        let found = api.versions.iter().find(|other| other.spec.name == *successor);
        let problem = match found {
            None => "is not a version of the API",
            Some(other) if other.spec.status == VersionStatus::Draft => "is a draft, which no gateway serves",
            Some(_) => continue,
        };
        findings.push(finding(
            "successor-unserved",
            api.document.locate(&version.field("successor")),
            format!(
                "the successor `{successor}` of version `{}` of API `{}` {problem}",
                version.spec.name, api.document.name
            ),
        ));
    }
}

/// The value the hub claims for a version's selector, unique within its API.
fn selector_claim(api: &str, version: &VersionEntry<'_>) -> String {
    let object = ApiVersion {
        api: api.to_owned(),
        spec: ApiVersionSpec {
            name: version.spec.name.clone(),
            description: String::new(),
            status: version.spec.status,
            selector: version.spec.selector.clone(),
            openapi: None,
            upstream: None,
            deprecated_at: None,
            sunset_at: None,
            successor: None,
            validate_requests: false,
        },
    };
    object
        .unique_claims()
        .into_iter()
        .find(|claim| claim.scope == "version_selector")
        .map(|claim| claim.value)
        .unwrap_or_default()
}

fn unrouted(api: &ApiEntry<'_>, holder: &VersionEntry<'_>, version: &VersionEntry<'_>) -> Finding {
    let (location, message) = match &version.spec.selector {
        None => (
            api.document.locate(&version.field("name")),
            format!(
                "versions `{}` and `{}` of API `{}` both have no selector, and only one version can be the default: \
                 `{}` can never be selected (the hub and the gateway refuse it)",
                holder.spec.name, version.spec.name, api.document.name, version.spec.name
            ),
        ),
        Some(selector) => (
            api.document.locate(&version.field("selector")),
            format!(
                "version `{}` of API `{}` has the same selector as version `{}` ({}): a request can select only \
                 one of them (the hub and the gateway refuse the second)",
                version.spec.name,
                api.document.name,
                holder.spec.name,
                describe(selector)
            ),
        ),
    };
    finding("version-unrouted", location, message)
}

fn describe(selector: &Selector) -> String {
    match selector {
        Selector::Path { segment } => format!("path segment `{segment}`"),
        Selector::Header { name, value } => format!("header `{name}: {value}`"),
        Selector::Query { name, value } => format!("query parameter `{name}={value}`"),
    }
}

/// Where an OpenAPI document's problem is: at the parser's line in the document's own file,
/// or in an inline block (`openapi: |`) at that line of the manifest; otherwise at the field
/// that holds or names the document.
fn openapi_location(api: &ApiEntry<'_>, version: &VersionEntry<'_>, openapi: &OpenApi<'_>, message: &str) -> Location {
    let place = parser_place(message);
    match (openapi.file, place) {
        (Some(file), Some((line, column))) => Location {
            file: file.path.clone(),
            line,
            column,
        },
        (Some(_), None) => api.document.locate(&version.field("openapi_file")),
        (None, place) => {
            let value = api.document.locate(&version.field("openapi"));
            place
                .and_then(|(line, column)| inside_block(api, &value, line, column))
                .unwrap_or(value)
        }
    }
}

/// `… at line 3 column 7` in serde_json's and serde_yaml's messages.
fn parser_place(message: &str) -> Option<(usize, usize)> {
    let at = message.rfind("at line ")?;
    let mut words = message[at + "at line ".len()..].split_whitespace();
    let line = words.next()?.parse().ok()?;
    let column = match (words.next(), words.next()) {
        (Some("column"), Some(column)) => column.trim_end_matches(|c: char| !c.is_ascii_digit()).parse().ok()?,
        _ => 1,
    };
    Some((line, column))
}

/// The manifest's place of `line`/`column` of a block scalar (`openapi: |`) whose value starts
/// at `value`; `None` for a value written another way.
fn inside_block(api: &ApiEntry<'_>, value: &Location, line: usize, column: usize) -> Option<Location> {
    let text = &api.source?.text;
    let lines: Vec<&str> = text.lines().collect();
    // The block's header (`openapi: |`) is the line the value starts on, or the one before
    // it, depending on where the YAML reader puts a block scalar's start.
    let header = (value.line.saturating_sub(1)..=value.line).rev().find(|number| {
        lines.get(number.wrapping_sub(1)).is_some_and(|text| {
            let text = text.trim_end();
            text.ends_with('|') || text.ends_with("|-") || text.ends_with("|+")
        })
    })?;
    let first = lines.iter().skip(header).find(|text| !text.trim().is_empty())?;
    let indent = first.len() - first.trim_start().len();
    Some(Location {
        file: value.file.clone(),
        line: header + line,
        column: indent + column,
    })
}
