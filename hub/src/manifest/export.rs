//! The hub's objects as manifest files, the same every time for the same objects: one file per
//! API (`apis/<name>.yaml`, its versions inside, each OpenAPI document beside it in
//! `apis/<name>/<version>.openapi.yaml` or `.json`), and `groups.yaml`, `plans.yaml`,
//! `access-policies.yaml` holding one document each.

use serde::Serialize;

use super::document::{AccessPolicySpec, ApiSpec, Document, GroupSpec, Kind, PlanSpec, PortalSpec, VersionSpec};
use super::load::SourceFile;
use crate::model::{AccessPolicy, Api, ApiVersion, Group, Plan, Portal, Upstream};

/// The objects a set is written from.
pub struct Objects<'a> {
    pub apis: &'a [Api],
    pub versions: &'a [ApiVersion],
    pub groups: &'a [Group],
    pub plans: &'a [Plan],
    pub policies: &'a [AccessPolicy],
    pub portals: &'a [Portal],
}

/// The files, sorted by path.
pub fn export(objects: &Objects<'_>) -> Vec<SourceFile> {
    let mut files = Vec::new();
    let mut apis: Vec<&Api> = objects.apis.iter().collect();
    apis.sort_by(|left, right| left.name.cmp(&right.name));
    for api in apis {
        let mut versions: Vec<&ApiVersion> = objects
            .versions
            .iter()
            .filter(|version| version.api == api.name)
            .collect();
        versions.sort_by(|left, right| left.spec.name.cmp(&right.spec.name));
        let mut specs = Vec::new();
        for version in versions {
            let openapi_file = version.spec.openapi.as_ref().map(|document| {
                let extension = if document.trim_start().starts_with('{') {
                    "json"
                } else {
                    "yaml"
                };
                let path = format!("{}/{}.openapi.{extension}", api.name, version.spec.name);
                files.push(SourceFile {
                    path: format!("apis/{path}"),
                    text: document.clone(),
                });
                path
            });
            specs.push(VersionSpec {
                name: version.spec.name.clone(),
                description: version.spec.description.clone(),
                status: version.spec.status,
                selector: version.spec.selector.clone(),
                openapi: None,
                openapi_file,
                upstream: version.spec.upstream.as_ref().map(Upstream::redacted),
                deprecated_at: version.spec.deprecated_at,
                sunset_at: version.spec.sunset_at,
                successor: version.spec.successor.clone(),
                validate_requests: version.spec.validate_requests,
            });
        }
        let spec = ApiSpec {
            description: api.description.clone(),
            tags: api.tags.clone(),
            owner: api.owner.clone(),
            route: api.route.clone(),
            upstream: api.upstream.redacted(),
            versions: specs,
            edge: api.edge.clone(),
            https_redirect: api.https_redirect,
            authentication: api.authentication.clone(),
        };
        let kind = if api.external { Kind::ExternalApi } else { Kind::Api };
        files.push(SourceFile {
            path: format!("apis/{}.yaml", api.name),
            text: documents(&[document(kind, &api.name, spec)]),
        });
    }
    let mut many = |path: &str, docs: Vec<String>| {
        if !docs.is_empty() {
            files.push(SourceFile {
                path: path.into(),
                text: docs.join("---\n"),
            });
        }
    };
    let mut groups: Vec<&Group> = objects.groups.iter().collect();
    groups.sort_by(|left, right| left.name.cmp(&right.name));
    many(
        "groups.yaml",
        groups
            .into_iter()
            .map(|group| {
                document(
                    Kind::Group,
                    &group.name,
                    GroupSpec {
                        display_name: group.display_name.clone(),
                        description: group.description.clone(),
                    },
                )
            })
            .collect(),
    );
    let mut plans: Vec<&Plan> = objects.plans.iter().collect();
    plans.sort_by(|left, right| left.name.cmp(&right.name));
    many(
        "plans.yaml",
        plans
            .into_iter()
            .map(|plan| {
                document(
                    Kind::Plan,
                    &plan.name,
                    PlanSpec {
                        description: plan.description.clone(),
                        rate_limit: plan.rate_limit,
                        quota: plan.quota,
                        mode: plan.mode,
                    },
                )
            })
            .collect(),
    );
    let mut policies: Vec<&AccessPolicy> = objects.policies.iter().collect();
    policies.sort_by(|left, right| left.name.cmp(&right.name));
    many(
        "access-policies.yaml",
        policies
            .into_iter()
            .map(|policy| {
                document(
                    Kind::AccessPolicy,
                    &policy.name,
                    AccessPolicySpec {
                        description: policy.description.clone(),
                        groups: policy.groups.clone(),
                        apis: policy.apis.clone(),
                        plan: policy.plan.clone(),
                        mode: policy.mode,
                        replaces: policy.replaces.clone(),
                        ip_allow: policy.ip_allow.clone(),
                        ip_deny: policy.ip_deny.clone(),
                    },
                )
            })
            .collect(),
    );
    let mut portals: Vec<&Portal> = objects.portals.iter().collect();
    portals.sort_by(|left, right| left.name.cmp(&right.name));
    many(
        "portals.yaml",
        portals
            .into_iter()
            .map(|portal| {
                document(
                    Kind::Portal,
                    &portal.name,
                    PortalSpec {
                        title: portal.title.clone(),
                        welcome: portal.welcome.clone(),
                        self_sign_up: portal.self_sign_up,
                    },
                )
            })
            .collect(),
    );
    files.sort_by(|left, right| left.path.cmp(&right.path));
    files
}

fn document<S: Serialize>(kind: Kind, name: &str, spec: S) -> String {
    let mut spec = serde_json::to_value(spec).expect("manifest specs serialize");
    tidy(&mut spec);
    let document = Document {
        kind,
        name: name.to_owned(),
        spec,
    };
    serde_yaml_ng::to_string(&document).expect("manifest documents serialize")
}

/// Leaves out what reads back as its default anyway (nulls and empty lists), so an exported
/// file holds only what was set.
fn tidy(value: &mut serde_json::Value) {
    match value {
        serde_json::Value::Object(map) => {
            map.retain(|_, value| !value.is_null() && !value.as_array().is_some_and(Vec::is_empty));
            map.values_mut().for_each(tidy);
        }
        serde_json::Value::Array(items) => items.iter_mut().for_each(tidy),
        _ => {}
    }
}

fn documents(documents: &[String]) -> String {
    documents.join("---\n")
}
