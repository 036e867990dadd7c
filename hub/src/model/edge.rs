//! An API's edge rules as the hub stores and validates them: CORS, IP allow and deny lists with
//! trusted proxies, a request body limit, header transforms and a path rewrite. The shape is the
//! snapshot's (`gateway::snapshot::EdgeSpec`), and validation is the gateway's own compiler
//! (`gateway::edge::check`), so the hub accepts exactly what a gateway will load.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::validate::Checker;

/// What the gateway checks and changes at the edge, before and after the upstream.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EdgeRules {
    /// Cross-origin requests from browsers; absent sends no CORS headers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cors: Option<Cors>,
    /// CIDRs (IPv4 or IPv6) the client address must be in; empty allows every address.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schema(example = json!(["10.0.0.0/8", "2001:db8::/32"]))]
    pub ip_allow: Vec<String>,
    /// CIDRs refused, even inside `ip_allow`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ip_deny: Vec<String>,
    /// Proxies in front of the gateway whose `X-Forwarded-For` is believed; empty believes none.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub trusted_proxies: Vec<String>,
    /// Largest request body in bytes (413 `body_too_large` past it); absent for no limit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(maximum = 1099511627776_u64)]
    pub max_body_bytes: Option<u64>,
    /// Changes to the request's headers on the way to the upstream.
    #[serde(default, skip_serializing_if = "HeaderRules::is_empty")]
    pub request_headers: HeaderRules,
    /// Changes to the upstream's response headers on the way back.
    #[serde(default, skip_serializing_if = "HeaderRules::is_empty")]
    pub response_headers: HeaderRules,
    /// A new path for the upstream; absent forwards the path as routing leaves it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path_rewrite: Option<PathRewrite>,
}

/// What browsers on other origins may do.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Cors {
    /// Origins allowed, exact (`https://app.example.com`), or `*` for any.
    #[schema(example = json!(["https://app.example.com"]))]
    pub allow_origins: Vec<String>,
    /// Methods a preflight allows; empty allows `GET`, `HEAD` and `POST`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub allow_methods: Vec<String>,
    /// Request headers a preflight allows (list the API key header for browsers to send it).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub allow_headers: Vec<String>,
    /// Response headers a page may read beyond the CORS-safelisted ones.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub expose_headers: Vec<String>,
    /// Whether pages may send cookies and read the answer; not with `*`.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub allow_credentials: bool,
    /// How long a browser may cache a preflight's answer, at most 86400.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_age_seconds: Option<u32>,
}

/// Header changes, in this order: remove, rename, add. Hop-by-hop headers and the gateway's own
/// (`Host`, `Content-Length`, `X-Forwarded-*`, `X-Request-Id`, `X-Gatehouse-*`, rate-limit and
/// CORS headers) cannot be named.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct HeaderRules {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub remove: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub rename: Vec<HeaderRename>,
    /// Set, replacing any value the header had.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub add: Vec<HeaderAdd>,
}

impl HeaderRules {
    pub fn is_empty(&self) -> bool {
        self.remove.is_empty() && self.rename.is_empty() && self.add.is_empty()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct HeaderRename {
    pub from: String,
    pub to: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct HeaderAdd {
    pub name: String,
    pub value: String,
}

/// How the upstream's path is made from the request's.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum PathRewrite {
    /// The forwarded path's leading `from` (on a segment boundary) becomes `to`.
    Prefix { from: String, to: String },
    /// `{rest}` stands for what follows the API's prefix and version segment (`/v2/{rest}`).
    Template { template: String },
}

/// Most entries in any one list of edge rules (origins, CIDRs, headers).
const MAX_ENTRIES: usize = 1000;

impl EdgeRules {
    pub fn is_empty(&self) -> bool {
        *self == EdgeRules::default()
    }

    /// The snapshot's form.
    pub fn to_spec(&self) -> gateway::snapshot::EdgeSpec {
        use gateway::snapshot as s;
        let headers = |rules: &HeaderRules| s::HeaderRulesSpec {
            remove: rules.remove.clone(),
            rename: rules
                .rename
                .iter()
                .map(|rename| s::HeaderRenameSpec {
                    from: rename.from.clone(),
                    to: rename.to.clone(),
                })
                .collect(),
            add: rules
                .add
                .iter()
                .map(|add| s::HeaderAddSpec {
                    name: add.name.clone(),
                    value: add.value.clone(),
                })
                .collect(),
        };
        s::EdgeSpec {
            cors: self.cors.as_ref().map(|cors| s::CorsSpec {
                allow_origins: cors.allow_origins.clone(),
                allow_methods: cors.allow_methods.clone(),
                allow_headers: cors.allow_headers.clone(),
                expose_headers: cors.expose_headers.clone(),
                allow_credentials: cors.allow_credentials,
                max_age_seconds: cors.max_age_seconds,
            }),
            ip_allow: self.ip_allow.clone(),
            ip_deny: self.ip_deny.clone(),
            trusted_proxies: self.trusted_proxies.clone(),
            max_body_bytes: self.max_body_bytes,
            request_headers: headers(&self.request_headers),
            response_headers: headers(&self.response_headers),
            path_rewrite: self.path_rewrite.as_ref().map(|rewrite| match rewrite {
                PathRewrite::Prefix { from, to } => s::PathRewriteSpec::Prefix {
                    from: from.clone(),
                    to: to.clone(),
                },
                PathRewrite::Template { template } => s::PathRewriteSpec::Template {
                    template: template.clone(),
                },
            }),
        }
    }

    /// Every problem, each under `edge.…`, by the gateway's own rules.
    pub(crate) fn check(&self, checker: &mut Checker) {
        let lists = [
            ("edge.ip_allow", self.ip_allow.len()),
            ("edge.ip_deny", self.ip_deny.len()),
            ("edge.trusted_proxies", self.trusted_proxies.len()),
        ];
        for (field, len) in lists {
            checker.ensure(
                len <= MAX_ENTRIES,
                field,
                format!("must list at most {MAX_ENTRIES} entries"),
            );
        }
        for problem in gateway::edge::check(&self.to_spec()) {
            checker.push(problem.field, problem.message);
        }
    }
}
