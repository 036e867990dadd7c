//! The compiler: the hub's state into the snapshot the gateways enforce
//! (`gateway::snapshot::Snapshot`). Pure and deterministic: the same state gives the same
//! document and so the same content hash, whatever order things were written in.
//!
//! It refuses states a gateway could not enforce, naming the objects: a policy on a draft or
//! retired version, an operation the version's document does not have, and whatever the
//! gateway's own compiler (`gateway::compiled`, the one implementation of its rules) refuses.

pub mod diff;
mod lifecycle;
pub mod openapi;
mod tls;
pub mod validation;

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use gateway::snapshot::{
    AccessRuleSpec, ApiSpec, AuthenticationSpec, ConsumerSpec, PassiveHealthSpec, PlanSpec, QuotaPeriodSpec, QuotaSpec,
    RateLimitSpec, SNAPSHOT_FORMAT, SelectorSpec, Snapshot, TargetSpec, UpstreamSpec, VersionSpec,
};

use crate::model::{
    AccessPolicy, Api, ApiKey, ApiVersion, Application, ApplicationCertificate, ClientCa, Kind, Plan, QuotaPeriod,
    Selector, Upstream, User, VersionStatus,
};
use crate::validate::FieldError;

/// Everything the compiler reads, each list in key order.
#[derive(Debug, Clone, Default)]
pub struct HubState {
    pub apis: Vec<Api>,
    pub versions: Vec<ApiVersion>,
    pub plans: Vec<Plan>,
    pub policies: Vec<AccessPolicy>,
    pub users: Vec<User>,
    pub applications: Vec<Application>,
    pub keys: Vec<ApiKey>,
    /// The gateways' TLS listener certificates (`tls`).
    pub certificates: Vec<crate::model::Certificate>,
    /// Applications' client certificates, consumers beside their keys.
    pub client_certificates: Vec<ApplicationCertificate>,
    /// The CAs that sign them (`tls.client_ca_pem`).
    pub client_cas: Vec<ClientCa>,
}

/// Compiles the state at `now` (keys expired by then are left out). The revision number and
/// hash are the publisher's to set.
pub fn compile(state: &HubState, now: DateTime<Utc>) -> Result<Snapshot, Vec<FieldError>> {
    let mut problems = Vec::new();
    let mut versions_by_api: HashMap<&str, Vec<&ApiVersion>> = HashMap::new();
    for version in &state.versions {
        versions_by_api.entry(version.api.as_str()).or_default().push(version);
    }
    let apis: Vec<ApiSpec> = state
        .apis
        .iter()
        .map(|api| {
            api_spec(
                api,
                versions_by_api.get(api.name.as_str()).map(Vec::as_slice).unwrap_or(&[]),
                &mut problems,
            )
        })
        .collect();
    let access_rules = access_rules(state, &versions_by_api, &mut problems);
    let snapshot = Snapshot {
        format: SNAPSHOT_FORMAT,
        revision: 0,
        content_hash: String::new(),
        apis,
        plans: state.plans.iter().map(plan_spec).collect(),
        consumers: consumers(state, now),
        jwt_issuers: Vec::new(),
        access_rules,
        tls: tls::tls_spec(state),
    };
    if !problems.is_empty() {
        return Err(problems);
    }
    // The gateway's own compiler has the last word on what it can enforce.
    if let Err(errors) = gateway::compiled::CompiledSnapshot::compile(&snapshot, None) {
        problems.extend(
            errors
                .0
                .into_iter()
                .map(|error| FieldError::new(error.field, error.message)),
        );
    }
    if problems.is_empty() {
        Ok(snapshot)
    } else {
        Err(problems)
    }
}

/// Compiles the hub's stored state: [`compile`], and the checks that need what only the store
/// holds (client CAs: a manifest set, which holds none, is compiled without them).
pub fn compile_stored(state: &HubState, now: DateTime<Utc>) -> Result<Snapshot, Vec<FieldError>> {
    let mut problems = Vec::new();
    tls::check_client_certificates(state, &mut problems);
    match compile(state, now) {
        Ok(snapshot) if problems.is_empty() => Ok(snapshot),
        Ok(_) => Err(problems),
        Err(more) => {
            problems.extend(more);
            Err(problems)
        }
    }
}

fn api_spec(api: &Api, versions: &[&ApiVersion], problems: &mut Vec<FieldError>) -> ApiSpec {
    let versions = versions
        .iter()
        .filter(|version| version.spec.status != VersionStatus::Draft)
        .map(|version| VersionSpec {
            name: version.spec.name.clone(),
            status: match version.spec.status {
                VersionStatus::Deprecated => gateway::snapshot::VersionStatus::Deprecated,
                VersionStatus::Retired => gateway::snapshot::VersionStatus::Retired,
                _ => gateway::snapshot::VersionStatus::Published,
            },
            selector: version.spec.selector.as_ref().map(|selector| match selector {
                Selector::Path { segment } => SelectorSpec::Path {
                    segment: segment.clone(),
                },
                Selector::Header { name, value } => SelectorSpec::Header {
                    name: name.clone(),
                    value: value.clone(),
                },
                Selector::Query { name, value } => SelectorSpec::Query {
                    name: name.clone(),
                    value: value.clone(),
                },
            }),
            upstream: version.spec.upstream.as_ref().map(upstream_spec),
            operations: match &version.spec.openapi {
                Some(document) => openapi::operations(document).unwrap_or_else(|message| {
                    problems.push(FieldError::new(format!("api_versions/{}", version.key()), message));
                    Vec::new()
                }),
                None => Vec::new(),
            },
            deprecated_at: version.spec.deprecated_at.map(|at| at.timestamp()),
            sunset_at: version.spec.sunset_at.map(|at| at.timestamp()),
            successor: lifecycle::successor(version, versions, problems),
            validation: match &version.spec.openapi {
                Some(document) if version.spec.validate_requests => validation::validation(document)
                    .map_err(|message| {
                        problems.push(FieldError::new(format!("api_versions/{}", version.key()), message))
                    })
                    .ok(),
                _ => None,
            },
        })
        .collect();
    ApiSpec {
        name: api.name.clone(),
        host: api.route.host.clone(),
        path_prefix: api.route.path_prefix.clone(),
        strip_prefix: api.route.strip_prefix,
        upstream: upstream_spec(&api.upstream),
        versions,
        authentication: AuthenticationSpec {
            client_certificate: api.authentication.client_certificate,
            ..AuthenticationSpec::default()
        },
        edge: api.edge.as_ref().map(crate::model::EdgeRules::to_spec),
        https_redirect: api.https_redirect,
    }
}

fn upstream_spec(upstream: &Upstream) -> UpstreamSpec {
    UpstreamSpec {
        targets: upstream
            .targets
            .iter()
            .map(|target| TargetSpec {
                url: target.url.clone(),
                weight: target.weight,
            })
            .collect(),
        connect_timeout_ms: 2_000,
        read_timeout_ms: 30_000,
        retries: 1,
        passive_health: PassiveHealthSpec::default(),
        active_health: None,
        tls: upstream.tls.as_ref().map(crate::model::UpstreamTls::spec),
    }
}

fn plan_spec(plan: &Plan) -> PlanSpec {
    PlanSpec {
        name: plan.name.clone(),
        rate_limit: Some(RateLimitSpec {
            requests: plan.rate_limit.requests,
            window_seconds: plan.rate_limit.window_seconds,
        }),
        quota: plan.quota.map(|quota| QuotaSpec {
            requests: quota.requests,
            period: match quota.period {
                QuotaPeriod::Day => QuotaPeriodSpec::Day,
                QuotaPeriod::Month => QuotaPeriodSpec::Month,
            },
        }),
        limit_by: Default::default(),
        shadow: plan.mode.is_shadow(),
    }
}

/// Credentials that work: keys and client certificates not revoked, not expired, of an
/// application whose owner is enabled.
pub fn consumers(state: &HubState, now: DateTime<Utc>) -> Vec<ConsumerSpec> {
    let users: HashMap<&str, &User> = state.users.iter().map(|user| (user.name.as_str(), user)).collect();
    let applications: HashMap<&str, &Application> =
        state.applications.iter().map(|app| (app.id.as_str(), app)).collect();
    // The consumer of a credential of `application`, without the credential.
    let holder = |application: &str, key_id: &str, expires_at: Option<i64>| {
        let application = applications.get(application)?;
        let user = users.get(application.owner.as_str()).filter(|user| !user.disabled)?;
        Some(ConsumerSpec {
            key_hash: None,
            certificate_sha256: None,
            key_id: key_id.to_owned(),
            user: user.name.clone(),
            application: format!("{}/{}", application.owner, application.name),
            groups: user.groups.clone(),
            expires_at,
        })
    };
    let keys = state
        .keys
        .iter()
        .filter(|key| key.revoked_at.is_none() && key.expires_at.is_none_or(|expires_at| expires_at > now))
        .filter_map(|key| {
            let expires_at = key.expires_at.map(|expires_at| expires_at.timestamp());
            let consumer = holder(&key.application, &key.id, expires_at)?;
            Some(ConsumerSpec {
                key_hash: Some(key.hash.clone()),
                ..consumer
            })
        });
    // A certificate's expiry goes with it, so that a connection opened before then stops working.
    let certificates = state
        .client_certificates
        .iter()
        .filter(|certificate| certificate.is_active(now))
        .filter_map(|certificate| {
            let expires_at = Some(certificate.not_after.timestamp());
            let consumer = holder(&certificate.application, &certificate.id, expires_at)?;
            Some(ConsumerSpec {
                certificate_sha256: Some(certificate.sha256_fingerprint.clone()),
                ..consumer
            })
        });
    let mut consumers: Vec<ConsumerSpec> = keys.chain(certificates).collect();
    consumers.sort_by(|left, right| left.key_id.cmp(&right.key_id));
    consumers
}

fn access_rules(
    state: &HubState,
    versions: &HashMap<&str, Vec<&ApiVersion>>,
    problems: &mut Vec<FieldError>,
) -> Vec<AccessRuleSpec> {
    let mut rules = Vec::new();
    // An enforced policy that replaces others takes their place: their grants are left out.
    let replaced: std::collections::HashSet<&str> = state
        .policies
        .iter()
        .filter(|policy| !policy.mode.is_shadow())
        .flat_map(|policy| policy.replaces.iter().map(String::as_str))
        .collect();
    for policy in state
        .policies
        .iter()
        .filter(|policy| !replaced.contains(policy.name.as_str()))
    {
        for (index, grant) in policy.apis.iter().enumerate() {
            let field = format!("access_policies/{}/apis[{index}]", policy.name);
            let known = versions.get(grant.api.as_str()).map(Vec::as_slice).unwrap_or(&[]);
            for name in &grant.versions {
                match known
                    .iter()
                    .find(|version| version.spec.name == *name)
                    .map(|version| version.spec.status)
                {
                    Some(VersionStatus::Draft) => problems.push(FieldError::new(
                        &field,
                        format!(
                            "grants version `{name}` of API `{}`, which is a draft: publish the version first",
                            grant.api
                        ),
                    )),
                    Some(VersionStatus::Retired) => problems.push(FieldError::new(
                        &field,
                        format!(
                            "grants version `{name}` of API `{}`, which is retired: remove it from the policy",
                            grant.api
                        ),
                    )),
                    _ => {}
                }
            }
            check_operations(grant, known, &field, problems);
            rules.push(AccessRuleSpec {
                policy: policy.name.clone(),
                groups: policy.groups.clone(),
                api: grant.api.clone(),
                versions: grant.versions.clone(),
                methods: grant
                    .methods
                    .iter()
                    .map(|method| method_name(*method).to_owned())
                    .collect(),
                operations: grant.operations.clone(),
                plan: policy.plan.clone(),
                shadow: policy.mode.is_shadow(),
                replaces: if policy.mode.is_shadow() {
                    policy.replaces.clone()
                } else {
                    Vec::new()
                },
                ip_allow: policy.ip_allow.clone(),
                ip_deny: policy.ip_deny.clone(),
            });
        }
    }
    rules
}

/// A policy may only name operations that the granted versions' documents define.
fn check_operations(
    grant: &crate::model::ApiGrant,
    versions: &[&ApiVersion],
    field: &str,
    problems: &mut Vec<FieldError>,
) {
    if grant.operations.is_empty() {
        return;
    }
    let granted: Vec<&&ApiVersion> = versions
        .iter()
        .filter(|version| grant.versions.is_empty() || grant.versions.contains(&version.spec.name))
        .collect();
    let defined: Vec<String> = granted
        .iter()
        .filter_map(|version| version.spec.openapi.as_deref())
        .filter_map(|document| openapi::operations(document).ok())
        .flatten()
        .map(|operation| operation.id)
        .collect();
    for operation in &grant.operations {
        if !defined.contains(operation) {
            problems.push(FieldError::new(
                field,
                format!(
                    "grants operation `{operation}`, which no granted version of API `{}` defines",
                    grant.api
                ),
            ));
        }
    }
}

fn method_name(method: crate::model::HttpMethod) -> &'static str {
    use crate::model::HttpMethod::*;
    match method {
        Get => "GET",
        Head => "HEAD",
        Post => "POST",
        Put => "PUT",
        Patch => "PATCH",
        Delete => "DELETE",
        Options => "OPTIONS",
    }
}

#[cfg(test)]
mod tests;
