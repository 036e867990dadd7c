//! The manifest format. Every document is `kind`, `name` and `spec`; a file holds one or many
//! documents (`---` between them), in any directory layout. The specs are the hub's model types
//! without their name, so the format cannot drift from what the REST API takes.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::model::RuleMode;
use crate::model::{ApiGrant, Quota, RateLimit, Route, Selector, Upstream, VersionStatus};

/// What a document describes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, ToSchema)]
pub enum Kind {
    /// An API with its versions.
    Api,
    /// An API whose upstream is outside the platform; otherwise the same as `Api`.
    ExternalApi,
    Group,
    Plan,
    AccessPolicy,
    /// A developer portal's settings.
    Portal,
}

impl Kind {
    pub const ALL: [Kind; 6] = [
        Kind::Api,
        Kind::ExternalApi,
        Kind::Group,
        Kind::Plan,
        Kind::AccessPolicy,
        Kind::Portal,
    ];

    /// The word written in `kind:`.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Api => "Api",
            Kind::ExternalApi => "ExternalApi",
            Kind::Group => "Group",
            Kind::Plan => "Plan",
            Kind::AccessPolicy => "AccessPolicy",
            Kind::Portal => "Portal",
        }
    }

    pub fn parse(word: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|kind| kind.as_str() == word)
    }
}

/// One document, as written. `spec` is one of the `*Spec` types below, by `kind`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Document<S = serde_json::Value> {
    pub kind: Kind,
    /// Unique within its kind; lower case letters, digits and `-`.
    pub name: String,
    pub spec: S,
}

/// `kind: Api` and `kind: ExternalApi`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ApiSpec {
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub description: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<String>,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub owner: String,
    pub route: Route,
    pub upstream: Upstream,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub versions: Vec<VersionSpec>,
    /// CORS, IP lists, body limit, header transforms and path rewrite.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub edge: Option<crate::model::EdgeRules>,
    /// Answer plain-HTTP requests with a 308 to https.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub https_redirect: bool,
    /// The credentials it takes beyond API keys: `client_certificate: true` for applications'
    /// client certificates (mTLS).
    #[serde(default, skip_serializing_if = "crate::model::Authentication::is_default")]
    pub authentication: crate::model::Authentication,
}

/// One version of an API, inside its API's document.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VersionSpec {
    pub name: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub description: String,
    #[serde(default)]
    pub status: VersionStatus,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub selector: Option<Selector>,
    /// The OpenAPI document, inline (YAML or JSON text).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub openapi: Option<String>,
    /// The OpenAPI document's file, relative to this document's file.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub openapi_file: Option<String>,
    /// Its own upstream, when it differs from the API's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub upstream: Option<Upstream>,
    /// When it was (or will be) deprecated, RFC 3339: the gateway's `Deprecation` header.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deprecated_at: Option<chrono::DateTime<chrono::Utc>>,
    /// When it stops being served, RFC 3339: the gateway's `Sunset` header.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sunset_at: Option<chrono::DateTime<chrono::Utc>>,
    /// The version of this API that replaces it: the gateway's successor `Link`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub successor: Option<String>,
    /// Have the gateway check requests against the OpenAPI document.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub validate_requests: bool,
}

/// `kind: Group`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct GroupSpec {
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub display_name: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub description: String,
}

/// `kind: Plan`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PlanSpec {
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub description: String,
    pub rate_limit: RateLimit,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quota: Option<Quota>,
    /// `enforce` (the default) or `shadow`: counted, never refusing, would-be 429s recorded.
    #[serde(default, skip_serializing_if = "RuleMode::is_enforce")]
    pub mode: RuleMode,
}

/// `kind: AccessPolicy`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AccessPolicySpec {
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub description: String,
    pub groups: Vec<String>,
    pub apis: Vec<ApiGrant>,
    pub plan: String,
    /// `enforce` (the default) or `shadow`: evaluated as if enforced, refusing nothing, would-be
    /// refusals recorded.
    #[serde(default, skip_serializing_if = "RuleMode::is_enforce")]
    pub mode: RuleMode,
    /// Access policies this one replaces (their grants leave the snapshot once it is enforced).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub replaces: Vec<String>,
    /// CIDRs (IPv4 or IPv6) a caller's address must be in for the grants to apply; empty allows
    /// every address.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ip_allow: Vec<String>,
    /// CIDRs the grants never apply to, even inside `ip_allow`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ip_deny: Vec<String>,
}

/// `kind: Portal`: the settings of the portal process started with this `name`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PortalSpec {
    /// Shown in the portal's header and page titles.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub title: String,
    /// Shown on the sign-in page.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub welcome: String,
    /// Whether anyone may create an account; absent leaves it to the portal's configuration.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub self_sign_up: Option<bool>,
}

/// The JSON Schema of a manifest document, generated from the types above, for editors.
pub fn json_schema() -> serde_json::Value {
    use utoipa::openapi::{ComponentsBuilder, RefOr};
    use utoipa::{PartialSchema, ToSchema as _};
    let mut components = ComponentsBuilder::new();
    let mut schemas = Vec::new();
    ApiSpec::schemas(&mut schemas);
    VersionSpec::schemas(&mut schemas);
    PlanSpec::schemas(&mut schemas);
    AccessPolicySpec::schemas(&mut schemas);
    for (name, schema) in schemas {
        components = components.schema(name, schema);
    }
    let named: [(&str, RefOr<utoipa::openapi::schema::Schema>); 6] = [
        ("ApiSpec", ApiSpec::schema()),
        ("VersionSpec", VersionSpec::schema()),
        ("GroupSpec", GroupSpec::schema()),
        ("PlanSpec", PlanSpec::schema()),
        ("AccessPolicySpec", AccessPolicySpec::schema()),
        ("PortalSpec", PortalSpec::schema()),
    ];
    for (name, schema) in named {
        components = components.schema(name, schema);
    }
    let components = serde_json::to_value(components.build()).unwrap_or_default();
    let text = serde_json::to_string(&components["schemas"])
        .unwrap_or_default()
        .replace("#/components/schemas/", "#/$defs/");
    let defs: serde_json::Value = serde_json::from_str(&text).unwrap_or_default();
    let spec_of = |kind: &str, spec: &str| {
        serde_json::json!({
            "if": { "properties": { "kind": { "const": kind } } },
            "then": { "properties": { "spec": { "$ref": format!("#/$defs/{spec}") } } }
        })
    };
    serde_json::json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "Gatehouse manifest document",
        "type": "object",
        "required": ["kind", "name", "spec"],
        "additionalProperties": false,
        "properties": {
            "kind": { "enum": Kind::ALL.map(Kind::as_str) },
            "name": { "type": "string", "pattern": "^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$" },
            "spec": { "type": "object" }
        },
        "allOf": [
            spec_of("Api", "ApiSpec"),
            spec_of("ExternalApi", "ApiSpec"),
            spec_of("Group", "GroupSpec"),
            spec_of("Plan", "PlanSpec"),
            spec_of("AccessPolicy", "AccessPolicySpec"),
            spec_of("Portal", "PortalSpec"),
        ],
        "$defs": defs
    })
}

#[cfg(test)]
mod tests {
    /// The schema editors use is committed at `docs/manifest.schema.json`; it must be what the
    /// types generate. `GATEHOUSE_WRITE_SCHEMA=1 cargo test -p hub --lib schema` rewrites it.
    #[test]
    fn the_committed_json_schema_is_the_generated_one() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/manifest.schema.json");
        let generated = serde_json::to_string_pretty(&super::json_schema()).unwrap() + "\n";
        if std::env::var_os("GATEHOUSE_WRITE_SCHEMA").is_some() {
            std::fs::write(path, &generated).unwrap();
        }
        let committed = std::fs::read_to_string(path).unwrap_or_default();
        assert!(
            committed == generated,
            "docs/manifest.schema.json is stale: rerun with GATEHOUSE_WRITE_SCHEMA=1"
        );
        let schema = super::json_schema();
        for spec in [
            "ApiSpec",
            "VersionSpec",
            "GroupSpec",
            "PlanSpec",
            "AccessPolicySpec",
            "PortalSpec",
        ] {
            assert!(schema["$defs"][spec].is_object(), "{spec} is defined");
        }
        assert!(!generated.contains("#/components/"), "references point into $defs");
    }
}
