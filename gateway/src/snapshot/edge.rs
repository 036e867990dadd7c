//! An API's edge rules in the snapshot: CORS, IP allow and deny lists, a request body limit,
//! header transforms and a path rewrite. Compiled by `edge::CompiledEdge::compile`, which also
//! checks them for the hub (one implementation of the rules).

use serde::{Deserialize, Serialize};

/// The edge rules of one API; every part is optional and an API without any has none at all.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EdgeSpec {
    /// Cross-origin requests from browsers; absent for no CORS headers at all.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cors: Option<CorsSpec>,
    /// CIDRs the client address must be in (IPv4 or IPv6); empty allows every address.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ip_allow: Vec<String>,
    /// CIDRs refused, even inside `ip_allow`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ip_deny: Vec<String>,
    /// Proxies in front of the gateway whose `X-Forwarded-For` is believed; empty believes none.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub trusted_proxies: Vec<String>,
    /// Largest request body, in bytes; absent for no limit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_body_bytes: Option<u64>,
    /// Changes to the request's headers on the way to the upstream.
    #[serde(default, skip_serializing_if = "HeaderRulesSpec::is_empty")]
    pub request_headers: HeaderRulesSpec,
    /// Changes to the upstream's response headers on the way back.
    #[serde(default, skip_serializing_if = "HeaderRulesSpec::is_empty")]
    pub response_headers: HeaderRulesSpec,
    /// A new path for the upstream; absent forwards the path as routing leaves it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path_rewrite: Option<PathRewriteSpec>,
}

/// What browsers on other origins may do.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CorsSpec {
    /// Origins allowed, exact (`https://app.example.com`), or `*` for any.
    pub allow_origins: Vec<String>,
    /// Methods a preflight allows; empty allows `GET`, `HEAD` and `POST`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub allow_methods: Vec<String>,
    /// Request headers a preflight allows (the API key header must be listed for a browser to send it).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub allow_headers: Vec<String>,
    /// Response headers a page may read beyond the CORS-safelisted ones.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub expose_headers: Vec<String>,
    /// Whether pages may send cookies and read the answer (`Access-Control-Allow-Credentials`).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub allow_credentials: bool,
    /// How long a browser may cache a preflight's answer; absent leaves it to the browser.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_age_seconds: Option<u32>,
}

/// Header changes, applied in this order: remove, rename, add.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HeaderRulesSpec {
    /// Headers removed.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub remove: Vec<String>,
    /// Headers renamed, keeping their values.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub rename: Vec<HeaderRenameSpec>,
    /// Headers set, replacing any value they had.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub add: Vec<HeaderAddSpec>,
}

impl HeaderRulesSpec {
    pub fn is_empty(&self) -> bool {
        self.remove.is_empty() && self.rename.is_empty() && self.add.is_empty()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HeaderRenameSpec {
    pub from: String,
    pub to: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HeaderAddSpec {
    pub name: String,
    pub value: String,
}

/// How the upstream's path is made from the request's.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum PathRewriteSpec {
    /// The forwarded path's leading `from` (on a segment boundary) becomes `to`.
    Prefix { from: String, to: String },
    /// The path is the template with `{rest}` replaced by what follows the API's prefix and
    /// version segment (`/v2/{rest}`).
    Template { template: String },
}
