//! The set's documents by kind, each with its typed spec and its versions' OpenAPI documents,
//! read once for every rule. A document whose spec does not parse is still known by its name
//! (a `schema` finding says what is wrong), so one mistake does not turn into many.

use crate::manifest::document::{AccessPolicySpec, ApiSpec, PlanSpec, VersionSpec};
use crate::manifest::load::normalize;
use crate::manifest::{Kind, LocatedDocument, ManifestSet, SourceFile};
use crate::model::api_version::check_openapi_document;

/// The documents of a set; of two documents with one name, the first (a `duplicate-name`
/// finding is the second's).
pub(super) struct Index<'s> {
    pub apis: Vec<ApiEntry<'s>>,
    pub groups: Vec<&'s LocatedDocument>,
    pub plans: Vec<Entry<'s, PlanSpec>>,
    pub policies: Vec<Entry<'s, AccessPolicySpec>>,
}

/// A document and its spec, `None` when the spec does not parse.
pub(super) struct Entry<'s, S> {
    pub document: &'s LocatedDocument,
    pub spec: Option<S>,
}

/// An API or external API, with its versions.
pub(super) struct ApiEntry<'s> {
    pub document: &'s LocatedDocument,
    /// The file the document is in.
    pub source: Option<&'s SourceFile>,
    pub spec: Option<ApiSpec>,
    /// Its versions, without a second one of the same name.
    pub versions: Vec<VersionEntry<'s>>,
}

/// One version of an API, as written.
pub(super) struct VersionEntry<'s> {
    /// Its place in the API's `versions`, to locate its fields (`versions[2].selector`).
    pub position: usize,
    pub spec: VersionSpec,
    /// Its OpenAPI document, when it has one that could be read.
    pub openapi: Option<OpenApi<'s>>,
}

/// An OpenAPI document and what the model's check made of it.
pub(super) struct OpenApi<'s> {
    /// The file it was read from, `None` when it is inline.
    pub file: Option<&'s SourceFile>,
    pub text: String,
    pub parsed: Result<serde_json::Value, String>,
}

impl<'s> Index<'s> {
    pub fn new(set: &'s ManifestSet) -> Index<'s> {
        let mut index = Index {
            apis: Vec::new(),
            groups: Vec::new(),
            plans: Vec::new(),
            policies: Vec::new(),
        };
        for document in &set.documents {
            match document.kind {
                Kind::Api | Kind::ExternalApi if index.api(&document.name).is_none() => {
                    index.apis.push(api_entry(set, document));
                }
                Kind::Group if !index.groups.iter().any(|group| group.name == document.name) => {
                    index.groups.push(document);
                }
                Kind::Plan if index.plan(&document.name).is_none() => index.plans.push(Entry {
                    document,
                    spec: document.spec().ok(),
                }),
                Kind::AccessPolicy
                    if !index
                        .policies
                        .iter()
                        .any(|policy| policy.document.name == document.name) =>
                {
                    index.policies.push(Entry {
                        document,
                        spec: document.spec().ok(),
                    });
                }
                _ => {}
            }
        }
        index
    }

    /// The API (or external API) of this name.
    pub fn api(&self, name: &str) -> Option<&ApiEntry<'s>> {
        self.apis.iter().find(|api| api.document.name == name)
    }

    /// The plan of this name.
    pub fn plan(&self, name: &str) -> Option<&Entry<'s, PlanSpec>> {
        self.plans.iter().find(|plan| plan.document.name == name)
    }
}

impl VersionEntry<'_> {
    /// The spec field of this version's `field`, for `LocatedDocument::locate`.
    pub fn field(&self, field: &str) -> String {
        if field.is_empty() {
            format!("versions[{}]", self.position)
        } else {
            format!("versions[{}].{field}", self.position)
        }
    }
}

fn api_entry<'s>(set: &'s ManifestSet, document: &'s LocatedDocument) -> ApiEntry<'s> {
    let spec: Option<ApiSpec> = document.spec().ok();
    let mut versions: Vec<VersionEntry<'s>> = Vec::new();
    for (position, version) in spec.iter().flat_map(|spec| spec.versions.iter()).enumerate() {
        if versions.iter().any(|known| known.spec.name == version.name) {
            continue;
        }
        let openapi = match (&version.openapi, &version.openapi_file) {
            (Some(text), None) => Some((None, text.clone())),
            (None, Some(path)) => openapi_file(set, document, path).map(|file| (Some(file), file.text.clone())),
            // Both, or neither: a `schema` finding, or nothing to check.
            _ => None,
        };
        versions.push(VersionEntry {
            position,
            spec: version.clone(),
            openapi: openapi.map(|(file, text)| OpenApi {
                file,
                parsed: check_openapi_document(&text),
                text,
            }),
        });
    }
    ApiEntry {
        document,
        source: set.file(&document.file),
        spec,
        versions,
    }
}

/// The file an `openapi_file` names: relative to the manifest's own directory, as
/// `manifest::state` reads it (a missing one is its `missing-file` problem).
fn openapi_file<'s>(set: &'s ManifestSet, document: &LocatedDocument, path: &str) -> Option<&'s SourceFile> {
    let directory = document.file.rsplit_once('/').map_or("", |(directory, _)| directory);
    let joined = if directory.is_empty() {
        path.to_owned()
    } else {
        format!("{directory}/{path}")
    };
    set.file(&normalize(&joined)?)
}
