//! Documents to the hub's model objects, each checked by the model's own rules
//! (`Kind::from_input`), so a manifest is refused for exactly what the REST API refuses; every
//! problem is placed at its line. Duplicate names and unreadable `openapi_file`s too.

use std::collections::HashMap;

use super::document::{AccessPolicySpec, ApiSpec, GroupSpec, Kind, PlanSpec, PortalSpec};
use super::load::{LocatedDocument, ManifestSet, Problem, normalize};
use crate::compiler::HubState;
use crate::model::api_version::ApiVersionSpec;
use crate::model::{self, AccessPolicy, Api, ApiVersion, Group, Plan, Portal};
use crate::validate::FieldError;

/// What a manifest set describes, as the hub's objects, and where each came from.
#[derive(Debug, Clone, Default)]
pub struct ManifestState {
    pub apis: Vec<Api>,
    pub versions: Vec<ApiVersion>,
    pub groups: Vec<Group>,
    pub plans: Vec<Plan>,
    pub policies: Vec<AccessPolicy>,
    pub portals: Vec<Portal>,
    /// (kind, name) → index of its document in the set.
    pub origins: HashMap<(Kind, String), usize>,
}

impl ManifestState {
    /// The compiler's input: the objects, without users or keys (those are not in manifests).
    pub fn hub_state(&self) -> HubState {
        HubState {
            apis: self.apis.clone(),
            versions: self.versions.clone(),
            plans: self.plans.clone(),
            policies: self.policies.clone(),
            ..HubState::default()
        }
    }

    /// The document an object came from (APIs are found under either API kind).
    pub fn origin<'s>(&self, set: &'s ManifestSet, kind: Kind, name: &str) -> Option<&'s LocatedDocument> {
        let index = self.origins.get(&(kind, name.to_owned())).or_else(|| match kind {
            Kind::Api => self.origins.get(&(Kind::ExternalApi, name.to_owned())),
            Kind::ExternalApi => self.origins.get(&(Kind::Api, name.to_owned())),
            _ => None,
        })?;
        set.documents.get(*index)
    }
}

/// Builds the objects of a set; every problem is returned, with the objects that were valid.
pub fn build(set: &ManifestSet) -> (ManifestState, Vec<Problem>) {
    let mut state = ManifestState::default();
    let mut problems = Vec::new();
    for (index, document) in set.documents.iter().enumerate() {
        // An API and an external API share one name space, as in the hub.
        let family = if document.kind == Kind::ExternalApi {
            Kind::Api
        } else {
            document.kind
        };
        let taken = state.origins.keys().any(|(kind, name)| {
            name == &document.name && (if *kind == Kind::ExternalApi { Kind::Api } else { *kind }) == family
        });
        if taken {
            problems.push(Problem {
                rule: "duplicate-name",
                location: document.name_location(),
                field: "name".into(),
                message: format!(
                    "another {} document is named `{}`",
                    document.kind.as_str(),
                    document.name
                ),
            });
            continue;
        }
        state.origins.insert((document.kind, document.name.clone()), index);
        match document.kind {
            Kind::Api | Kind::ExternalApi => build_api(set, document, &mut state, &mut problems),
            Kind::Group => {
                if let Some(spec) = typed::<GroupSpec>(document, &mut problems) {
                    let group = Group {
                        name: document.name.clone(),
                        display_name: spec.display_name,
                        description: spec.description,
                    };
                    if let Some(group) = checked(document, "", group, &mut problems) {
                        state.groups.push(group);
                    }
                }
            }
            Kind::Plan => {
                if let Some(spec) = typed::<PlanSpec>(document, &mut problems) {
                    let plan = Plan {
                        name: document.name.clone(),
                        description: spec.description,
                        rate_limit: spec.rate_limit,
                        quota: spec.quota,
                        mode: spec.mode,
                    };
                    if let Some(plan) = checked(document, "", plan, &mut problems) {
                        state.plans.push(plan);
                    }
                }
            }
            Kind::Portal => {
                if let Some(spec) = typed::<PortalSpec>(document, &mut problems) {
                    let portal = Portal {
                        name: document.name.clone(),
                        title: spec.title,
                        welcome: spec.welcome,
                        self_sign_up: spec.self_sign_up,
                    };
                    if let Some(portal) = checked(document, "", portal, &mut problems) {
                        state.portals.push(portal);
                    }
                }
            }
            Kind::AccessPolicy => {
                if let Some(spec) = typed::<AccessPolicySpec>(document, &mut problems) {
                    let policy = AccessPolicy {
                        name: document.name.clone(),
                        description: spec.description,
                        groups: spec.groups,
                        apis: spec.apis,
                        plan: spec.plan,
                        mode: spec.mode,
                        replaces: spec.replaces,
                        ip_allow: spec.ip_allow,
                        ip_deny: spec.ip_deny,
                    };
                    if let Some(policy) = checked(document, "", policy, &mut problems) {
                        state.policies.push(policy);
                    }
                }
            }
        }
    }
    (state, problems)
}

fn build_api(set: &ManifestSet, document: &LocatedDocument, state: &mut ManifestState, problems: &mut Vec<Problem>) {
    let Some(spec) = typed::<ApiSpec>(document, problems) else {
        return;
    };
    let api = Api {
        name: document.name.clone(),
        description: spec.description,
        tags: spec.tags,
        owner: spec.owner,
        route: spec.route,
        upstream: spec.upstream,
        external: document.kind == Kind::ExternalApi,
        edge: spec.edge,
        https_redirect: spec.https_redirect,
        authentication: spec.authentication,
    };
    if let Some(api) = checked(document, "", api, problems) {
        state.apis.push(api);
    }
    let mut seen: Vec<&str> = Vec::new();
    for (index, version) in spec.versions.iter().enumerate() {
        let prefix = format!("versions[{index}]");
        if seen.contains(&version.name.as_str()) {
            problems.push(Problem {
                rule: "duplicate-name",
                location: document.locate(&format!("{prefix}.name")),
                field: format!("spec.{prefix}.name"),
                message: format!("version `{}` is listed twice", version.name),
            });
            continue;
        }
        seen.push(&version.name);
        let openapi = match (&version.openapi, &version.openapi_file) {
            (Some(_), Some(_)) => {
                problems.push(Problem {
                    rule: "schema",
                    location: document.locate(&format!("{prefix}.openapi_file")),
                    field: format!("spec.{prefix}.openapi_file"),
                    message: "give the OpenAPI document inline (`openapi`) or by path (`openapi_file`), not both"
                        .into(),
                });
                continue;
            }
            (Some(text), None) => Some(text.clone()),
            (None, Some(path)) => {
                let directory = document.file.rsplit_once('/').map_or("", |(directory, _)| directory);
                let joined = if directory.is_empty() {
                    path.clone()
                } else {
                    format!("{directory}/{path}")
                };
                match normalize(&joined).and_then(|resolved| set.file(&resolved)) {
                    Some(file) => Some(file.text.clone()),
                    None => {
                        problems.push(Problem {
                            rule: "missing-file",
                            location: document.locate(&format!("{prefix}.openapi_file")),
                            field: format!("spec.{prefix}.openapi_file"),
                            message: format!(
                                "`{path}` is not a file of this manifest set (paths are relative to this file)"
                            ),
                        });
                        continue;
                    }
                }
            }
            (None, None) => None,
        };
        let object = ApiVersion {
            api: document.name.clone(),
            spec: ApiVersionSpec {
                name: version.name.clone(),
                description: version.description.clone(),
                status: version.status,
                selector: version.selector.clone(),
                openapi,
                upstream: version.upstream.clone(),
                deprecated_at: version.deprecated_at,
                sunset_at: version.sunset_at,
                successor: version.successor.clone(),
                validate_requests: version.validate_requests,
            },
        };
        if let Some(object) = checked(document, &prefix, object, problems) {
            state.versions.push(object);
        }
    }
}

fn typed<T: serde::de::DeserializeOwned>(document: &LocatedDocument, problems: &mut Vec<Problem>) -> Option<T> {
    document.spec::<T>().map_err(|problem| problems.push(problem)).ok()
}

/// Runs the model's own checks; each error is placed at its field under `prefix` of the spec.
fn checked<K: model::Kind<Input = K>>(
    document: &LocatedDocument,
    prefix: &str,
    object: K,
    problems: &mut Vec<Problem>,
) -> Option<K> {
    match K::from_input(object, None) {
        Ok(object) => Some(object),
        Err(errors) => {
            for FieldError { field, message } in errors {
                let field = spec_field(prefix, &field);
                let (location, field) = if field == "name" {
                    (document.name_location(), "name".to_owned())
                } else {
                    (document.locate(&field), format!("spec.{field}"))
                };
                let rule = if field.ends_with("openapi") {
                    "openapi-invalid"
                } else {
                    "invalid-value"
                };
                problems.push(Problem {
                    rule,
                    location,
                    field,
                    message,
                });
            }
            None
        }
    }
}

/// A model field path as the spec's: an API version's fields sit under `versions[i]`, and a
/// version's own `name` is inside its entry, not the document's.
fn spec_field(prefix: &str, field: &str) -> String {
    if prefix.is_empty() {
        field.to_owned()
    } else {
        format!("{prefix}.{field}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::manifest::load::{SourceFile, parse};

    fn set(files: &[(&str, &str)]) -> ManifestSet {
        let (set, problems) = parse(
            files
                .iter()
                .map(|(path, text)| SourceFile {
                    path: (*path).into(),
                    text: (*text).into(),
                })
                .collect(),
        );
        assert!(problems.is_empty(), "{problems:?}");
        set
    }

    #[test]
    fn builds_objects_and_reads_openapi_files_beside_the_manifest() {
        let set = set(&[
            (
                "apis/pets.yaml",
                "kind: Api\nname: pets\nspec:\n  route: { path_prefix: /pets }\n  upstream: { targets: [ { url: 'http://127.0.0.1:9' } ] }\n  versions:\n    - name: v1\n      status: published\n      openapi_file: pets/v1.yaml\n",
            ),
            (
                "apis/pets/v1.yaml",
                "openapi: 3.0.3\ninfo: { title: Pets, version: '1' }\npaths: {}\n",
            ),
        ]);
        let (state, problems) = build(&set);
        assert!(problems.is_empty(), "{problems:?}");
        assert_eq!(state.apis[0].name, "pets");
        assert!(
            state.versions[0]
                .spec
                .openapi
                .as_deref()
                .unwrap()
                .contains("title: Pets")
        );
    }

    #[test]
    fn the_models_rules_refuse_at_the_line() {
        let set = set(&[(
            "p.yaml",
            "kind: Api\nname: pets\nspec:\n  route:\n    path_prefix: no-slash\n  upstream: { targets: [ { url: 'http://127.0.0.1:9' } ] }\n  versions:\n    - name: v1\n      openapi_file: missing.yaml\n---\nkind: Group\nname: pets\nspec: {}\n---\nkind: ExternalApi\nname: pets\nspec:\n  route: { path_prefix: /other }\n  upstream: { targets: [ { url: 'http://127.0.0.1:9' } ] }\n",
        )]);
        let (_, problems) = build(&set);
        let found: Vec<(&str, usize)> = problems
            .iter()
            .map(|problem| (problem.rule, problem.location.line))
            .collect();
        assert!(found.contains(&("invalid-value", 5)), "{problems:?}");
        assert!(found.contains(&("missing-file", 9)), "{problems:?}");
        assert!(
            found.contains(&("duplicate-name", 16)),
            "a group may share an API's name, an external API may not: {problems:?}"
        );
        assert_eq!(found.len(), 3, "{problems:?}");
    }
}
