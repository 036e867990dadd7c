//! An API version: one version of an API, its OpenAPI document, how requests select it, its
//! own upstream if it differs, and where it is in its life (draft to retired).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::api::{Upstream, check_upstream};
use super::{Api, Kind, ObjectRef, Reference, UniqueClaim};
use crate::validate::{Checker, FieldError, MAX_TEXT_LEN};

/// One version of an API, as stored and shown.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ApiVersion {
    /// The API this version belongs to.
    pub api: String,
    #[serde(flatten)]
    pub spec: ApiVersionSpec,
}

/// What an admin writes to create or replace an API version.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ApiVersionSpec {
    /// Unique within the API, immutable (`v1`, `2024-06`).
    #[schema(example = "v1")]
    pub name: String,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub status: VersionStatus,
    /// How a request picks this version; absent makes it the API's default version.
    #[serde(default)]
    pub selector: Option<Selector>,
    /// The OpenAPI 3 document, as JSON or YAML text.
    #[serde(default)]
    pub openapi: Option<String>,
    /// This version's own upstream, when it differs from the API's.
    #[serde(default)]
    pub upstream: Option<Upstream>,
    /// When this version was (or will be) deprecated: the gateway's `Deprecation` header
    /// (RFC 9745). A deprecated version without it says "deprecated since an unknown date".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deprecated_at: Option<DateTime<Utc>>,
    /// When this version stops being served: the gateway's `Sunset` header (RFC 8594). Not
    /// before `deprecated_at`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sunset_at: Option<DateTime<Utc>>,
    /// The version of the same API that replaces this one: the gateway's
    /// `Link: <…>; rel="successor-version"`, and named by a retired version's 410.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(example = "v2")]
    pub successor: Option<String>,
    /// Have the gateway check every request against the OpenAPI document (parameters and JSON
    /// bodies) before it reaches the upstream; a request that breaks it gets a 400 listing why.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub validate_requests: bool,
}

/// Where a version is in its life.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum VersionStatus {
    /// Not served yet.
    #[default]
    Draft,
    Published,
    /// Served, with deprecation signals.
    Deprecated,
    /// No longer served.
    Retired,
}

impl VersionStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            VersionStatus::Draft => "draft",
            VersionStatus::Published => "published",
            VersionStatus::Deprecated => "deprecated",
            VersionStatus::Retired => "retired",
        }
    }
}

/// How a request selects a version.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Selector {
    /// The first path segment after the API's prefix (`/pets/v2/...`).
    Path { segment: String },
    /// A request header with this value.
    Header { name: String, value: String },
    /// A query parameter with this value.
    Query { name: String, value: String },
}

impl ApiVersion {
    /// The key of a version: its API and its name.
    pub fn key_of(api: &str, name: &str) -> String {
        format!("{api}/{name}")
    }
}

impl Kind for ApiVersion {
    const KIND: &'static str = "api_version";
    const LABEL: &'static str = "API version";
    type Input = ApiVersion;
    type View = ApiVersion;

    fn key(&self) -> String {
        ApiVersion::key_of(&self.api, &self.spec.name)
    }

    fn from_input(mut version: ApiVersion, previous: Option<&Self>) -> Result<Self, Vec<FieldError>> {
        if let Some(upstream) = &mut version.spec.upstream {
            upstream.keep_secrets(previous.and_then(|previous| previous.spec.upstream.as_ref()));
        }
        let spec = &version.spec;
        let mut checker = Checker::new();
        checker.name("name", &spec.name);
        checker.text("description", &spec.description, MAX_TEXT_LEN);
        match &spec.selector {
            None => {}
            Some(Selector::Path { segment }) => checker.name("selector.segment", segment),
            Some(Selector::Header { name, value }) | Some(Selector::Query { name, value }) => {
                checker.ensure(
                    !name.is_empty() && name.len() <= 64 && name.bytes().all(is_token_byte),
                    "selector.name",
                    "must be 1 to 64 letters, digits or `-_.`",
                );
                checker.ensure(
                    !value.is_empty() && value.len() <= 128 && value.bytes().all(|b| b.is_ascii_graphic()),
                    "selector.value",
                    "must be 1 to 128 printable ASCII characters",
                );
            }
        }
        match (&spec.openapi, spec.validate_requests) {
            (Some(document), validate) => match check_openapi_document(document) {
                Err(message) => checker.push("openapi", message),
                // The gateway's own compiler says whether the document's schemas can be used.
                Ok(_) if validate => {
                    if let Err(message) = crate::compiler::validation::check(document) {
                        checker.push("openapi", message);
                    }
                }
                Ok(_) => {}
            },
            (None, true) => checker.push(
                "validate_requests",
                "needs an `openapi` document to validate requests against",
            ),
            (None, false) => {}
        }
        if let Some(upstream) = &spec.upstream {
            check_upstream(&mut checker, "upstream", upstream);
        }
        check_lifecycle(&mut checker, spec);
        checker.finish().map(|()| version)
    }

    fn view(&self) -> ApiVersion {
        let mut version = self.clone();
        version.spec.upstream = version.spec.upstream.as_ref().map(Upstream::redacted);
        version
    }

    fn keep_secrets(&mut self, previous: &ApiVersion) {
        if let Some(upstream) = &mut self.spec.upstream {
            upstream.keep_secrets(previous.spec.upstream.as_ref());
        }
    }

    fn references(&self) -> Vec<Reference> {
        let mut references = vec![Reference::owner("api", Api::KIND, &self.api)];
        // The successor must exist; so `successor: unknown API version` names the field.
        if let Some(successor) = &self.spec.successor {
            references.push(Reference::to(
                "successor",
                ApiVersion::KIND,
                ApiVersion::key_of(&self.api, successor),
            ));
        }
        references
    }

    /// Deleting the successor leaves this version without one.
    fn detach(&mut self, target: &ObjectRef) -> bool {
        let successor = self
            .spec
            .successor
            .as_deref()
            .map(|name| ApiVersion::key_of(&self.api, name));
        let detached = target.kind == ApiVersion::KIND && successor.as_deref() == Some(target.key.as_str());
        if detached {
            self.spec.successor = None;
        }
        detached
    }

    fn unique_claims(&self) -> Vec<UniqueClaim> {
        let selector = match &self.spec.selector {
            None => "default".to_owned(),
            Some(Selector::Path { segment }) => format!("path:{segment}"),
            Some(Selector::Header { name, value }) => format!("header:{}={value}", name.to_ascii_lowercase()),
            Some(Selector::Query { name, value }) => format!("query:{name}={value}"),
        };
        vec![UniqueClaim {
            scope: "version_selector",
            value: format!("{} {selector}", self.api),
            field: "selector",
        }]
    }

    fn labels(&self) -> Vec<String> {
        vec![format!("status:{}", self.spec.status.as_str())]
    }

    fn search_text(&self) -> String {
        self.spec.description.clone()
    }
}

/// `versions` ordered so that each version's successor (when among them) comes before it, for
/// writing them one by one; otherwise in their order. A cycle is written in its order (and
/// refused by the reference check, as it should be).
pub fn successors_first(versions: &[ApiVersion]) -> Vec<&ApiVersion> {
    let mut ordered: Vec<&ApiVersion> = Vec::with_capacity(versions.len());
    let mut placed = vec![false; versions.len()];
    let index_of = |api: &str, name: &str| {
        versions
            .iter()
            .position(|version| version.api == api && version.spec.name == name)
    };
    for start in 0..versions.len() {
        // Walk the chain from `start` to its first placed (or missing) successor, then place
        // it from the far end back.
        let mut chain = Vec::new();
        let mut at = Some(start);
        while let Some(index) = at.filter(|index| !placed[*index] && !chain.contains(index)) {
            chain.push(index);
            let version = &versions[index];
            at = version
                .spec
                .successor
                .as_deref()
                .and_then(|name| index_of(&version.api, name));
        }
        for index in chain.into_iter().rev() {
            placed[index] = true;
            ordered.push(&versions[index]);
        }
    }
    ordered
}

/// The lifecycle fields: a successor that is another version's name, and a sunset not before
/// the deprecation.
fn check_lifecycle(checker: &mut Checker, spec: &ApiVersionSpec) {
    if let Some(successor) = &spec.successor {
        checker.name("successor", successor);
        checker.ensure(
            *successor != spec.name,
            "successor",
            "must name another version of the API, not this one",
        );
    }
    if let (Some(deprecated_at), Some(sunset_at)) = (spec.deprecated_at, spec.sunset_at) {
        checker.ensure(sunset_at > deprecated_at, "sunset_at", "must be after `deprecated_at`");
    }
    for (field, at) in [("deprecated_at", spec.deprecated_at), ("sunset_at", spec.sunset_at)] {
        checker.ensure(
            at.is_none_or(|at| at.timestamp() >= 0),
            field,
            "must be after 1970-01-01T00:00:00Z",
        );
    }
}

fn is_token_byte(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_' | b'.')
}

/// Checks that a text is an OpenAPI 3 document (JSON or YAML) with `openapi`, `info` and
/// `paths`; the error carries the parser's line and column.
pub fn check_openapi_document(document: &str) -> Result<serde_json::Value, String> {
    let value: serde_json::Value = if document.trim_start().starts_with('{') {
        serde_json::from_str(document).map_err(|error| format!("is not valid JSON: {error}"))?
    } else {
        serde_yaml_ng::from_str(document).map_err(|error| format!("is not valid YAML: {error}"))?
    };
    let version = value.get("openapi").and_then(|version| version.as_str());
    if !version.is_some_and(|version| version.starts_with("3.")) {
        return Err("must be an OpenAPI 3 document: the `openapi` field must be a string `3.x`".into());
    }
    let info = value.get("info");
    if !info
        .and_then(|info| info.get("title"))
        .is_some_and(|title| title.is_string())
    {
        return Err("`info.title` must be a string".into());
    }
    if !value.get("paths").is_some_and(|paths| paths.is_object()) {
        return Err("`paths` must be an object".into());
    }
    Ok(value)
}
