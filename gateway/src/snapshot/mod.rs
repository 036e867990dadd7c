//! The snapshot contract: the one document the hub compiles to and the gateway loads.
//!
//! A snapshot holds everything a gateway enforces: routes and upstreams, API versions and their
//! selectors, consumers (API-key hashes and client-certificate fingerprints, with their user,
//! application and groups), trusted JWT issuers, access rules and plans, under a revision number
//! and a content hash. It is JSON, versioned by [`Snapshot::format`]; unknown fields are refused
//! so a typo cannot silently drop a rule. `docs/SNAPSHOT.md` documents it field by field for
//! people; this module is the authority.
//!
//! Loading is two steps: [`Snapshot::parse`] (serde, with the failing field named; the gateway
//! uses [`Snapshot::parse_borrowed`], which leaves consumers' strings in the document) and
//! `compiled::CompiledSnapshot::compile` (validation and lookup tables). Only a snapshot that
//! passes both is ever swapped in.

mod edge;
mod hash;
mod validation;

use std::borrow::Cow;

use serde::{Deserialize, Serialize};

pub use edge::{CorsSpec, EdgeSpec, HeaderAddSpec, HeaderRenameSpec, HeaderRulesSpec, PathRewriteSpec};
pub use hash::content_hash;
pub use validation::{
    MediaTypeSpec, ParameterLocation, ParameterSpec, RequestBodySpec, SchemaDialect, ValidatedOperationSpec,
    ValidationSpec,
};

/// The snapshot format this gateway reads and the hub writes.
pub const SNAPSHOT_FORMAT: u32 = 1;

/// Why a snapshot document could not be read.
#[derive(Debug, thiserror::Error)]
pub enum SnapshotError {
    /// Not JSON, or JSON of the wrong shape; `field` is the path to the offending value.
    #[error("{field}: {message}")]
    Malformed { field: String, message: String },
    /// A format this gateway does not know.
    #[error("format: {found} is not supported; this gateway reads format {SNAPSHOT_FORMAT}")]
    UnsupportedFormat { found: u32 },
    /// The content does not match its declared hash: a corrupt or edited file.
    #[error("content_hash: the content hashes to {actual}, not the declared {declared}")]
    HashMismatch { declared: String, actual: String },
}

/// One published state of the hub, as the gateway enforces it. `C` is how consumers are held:
/// owned ([`ConsumerSpec`], everywhere by default) or borrowed from the document's bytes
/// ([`ConsumerRef`], when the gateway loads one: 100,000 keys then cost no allocation each).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Snapshot<C = ConsumerSpec> {
    /// Format version of this document ([`SNAPSHOT_FORMAT`]).
    pub format: u32,
    /// The hub's revision number; 0 for a hand-written standalone file.
    #[serde(default)]
    pub revision: u64,
    /// Hex SHA-256 of the document with this field empty ([`content_hash`]); when present it is
    /// checked on load. Empty in hand-written files.
    #[serde(default)]
    pub content_hash: String,
    /// The APIs, each with its route, upstream and versions.
    #[serde(default)]
    pub apis: Vec<ApiSpec>,
    /// Rate limits and quotas, referred to by access rules.
    #[serde(default)]
    pub plans: Vec<PlanSpec>,
    /// Credentials (API keys and client certificates) and who they belong to.
    #[serde(default = "Vec::new")]
    pub consumers: Vec<C>,
    /// Identity providers whose JWTs are accepted (the contract is `jwt::IssuerConfig`).
    #[serde(default)]
    pub jwt_issuers: Vec<crate::jwt::IssuerConfig>,
    /// Who may call what, under which plan.
    #[serde(default)]
    pub access_rules: Vec<AccessRuleSpec>,
    /// Certificates for the TLS listener and the client CA bundle (`tls`). Left out when absent,
    /// so that snapshots without TLS keep their content hash.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tls: Option<crate::tls::TlsSpec>,
}

/// An API: the requests it claims and where they go.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ApiSpec {
    /// Unique name; appears in refusals, metrics and logs.
    pub name: String,
    /// Host to match (exact, or `*.example.com`); absent matches any host.
    #[serde(default)]
    pub host: Option<String>,
    /// Path prefix; the longest matching prefix wins.
    pub path_prefix: String,
    /// Remove the prefix (and a path-selected version's segment) before forwarding.
    #[serde(default)]
    pub strip_prefix: bool,
    /// Where requests go unless their version names its own upstream.
    pub upstream: UpstreamSpec,
    /// Versions; an API without versions routes every request to `upstream`.
    #[serde(default)]
    pub versions: Vec<VersionSpec>,
    /// Which credentials the API accepts.
    #[serde(default)]
    pub authentication: AuthenticationSpec,
    /// Answer plain-HTTP requests with a 308 to the same URL over https (`tls`). Left out when
    /// false, so that snapshots without it keep their content hash.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub https_redirect: bool,
    /// CORS, IP lists, body limit, header transforms and path rewrite (`edge`); absent for none,
    /// and left out then, so snapshots without rules keep their content hash.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub edge: Option<EdgeSpec>,
}

/// Which credentials an API accepts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AuthenticationSpec {
    /// Header that carries an API key.
    pub api_key_header: String,
    /// Query parameter that may carry an API key instead; absent when not allowed (keys in URLs
    /// end up in logs, so an API opts in).
    pub api_key_query: Option<String>,
    /// Accept `Authorization: Bearer <JWT>` from the trusted issuers.
    pub jwt: bool,
    /// Accept a client certificate presented on the TLS listener (verified against
    /// `tls.client_ca_pem`) whose fingerprint is a consumer's `certificate_sha256`. A key or a
    /// token in the request is the credential when there is one (`pipeline::authenticate`).
    /// Without a client CA no certificate is ever asked for, and such callers get 401.
    /// Left out when false, so that snapshots without it keep their content hash.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub client_certificate: bool,
}

impl Default for AuthenticationSpec {
    fn default() -> Self {
        AuthenticationSpec {
            api_key_header: "x-api-key".into(),
            api_key_query: None,
            jwt: true,
            client_certificate: false,
        }
    }
}

/// A set of upstream targets and how to talk to them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UpstreamSpec {
    /// Targets chosen by weight.
    pub targets: Vec<TargetSpec>,
    /// Longest wait for a TCP connection.
    #[serde(default = "defaults::connect_timeout_ms")]
    pub connect_timeout_ms: u64,
    /// Longest wait for the response headers once the request is sent.
    #[serde(default = "defaults::read_timeout_ms")]
    pub read_timeout_ms: u64,
    /// Extra attempts on another target when connecting fails, for requests without a body
    /// and with an idempotent method.
    #[serde(default = "defaults::retries")]
    pub retries: u32,
    /// Ejecting a target after consecutive failures.
    #[serde(default)]
    pub passive_health: PassiveHealthSpec,
    /// Probing targets in the background; absent for none.
    #[serde(default)]
    pub active_health: Option<ActiveHealthSpec>,
    /// TLS to its `https://` targets; absent for the defaults (see `upstream::tls`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tls: Option<crate::upstream::tls::UpstreamTlsSpec>,
}

/// One upstream server.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TargetSpec {
    /// `http://host:port`, optionally with a base path.
    pub url: String,
    /// Share of traffic; 0 drains the target.
    #[serde(default = "defaults::weight")]
    pub weight: u32,
}

/// Passive health: failures seen on real traffic eject a target for a while.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PassiveHealthSpec {
    /// Consecutive failures (connect errors, timeouts, 5xx from a 502/503/504) that eject a target.
    pub failures: u32,
    /// How long an ejected target stays out before it gets traffic again.
    pub cooldown_ms: u64,
}

impl Default for PassiveHealthSpec {
    fn default() -> Self {
        PassiveHealthSpec {
            failures: 5,
            cooldown_ms: 10_000,
        }
    }
}

/// Active health: a probe request to each target on an interval.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ActiveHealthSpec {
    /// Path probed with `GET`; a 2xx or 3xx answer is healthy.
    pub path: String,
    #[serde(default = "defaults::probe_interval_ms")]
    pub interval_ms: u64,
    #[serde(default = "defaults::probe_timeout_ms")]
    pub timeout_ms: u64,
}

/// One version of an API.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VersionSpec {
    pub name: String,
    /// `published` and `deprecated` versions are served; `retired` ones answer 410; drafts are
    /// never in a snapshot.
    pub status: VersionStatus,
    /// How a request picks this version; absent makes it the default.
    #[serde(default)]
    pub selector: Option<SelectorSpec>,
    /// This version's own upstream, when it differs from the API's.
    #[serde(default)]
    pub upstream: Option<UpstreamSpec>,
    /// The version's operations from its OpenAPI document, for rules that name operations.
    #[serde(default)]
    pub operations: Vec<OperationSpec>,
    /// When the version was (or will be) deprecated, Unix seconds: its `Deprecation` header.
    /// Left out when absent, so older snapshots keep their content hash.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deprecated_at: Option<i64>,
    /// When the version stops being served, Unix seconds: its `Sunset` header.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sunset_at: Option<i64>,
    /// The version (of the same API) that replaces this one: its `Link: rel="successor-version"`,
    /// and named by the 410 of a retired version.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub successor: Option<String>,
    /// Request validation against the version's OpenAPI document (`validation`); absent for
    /// none, and left out then, so snapshots without it keep their content hash.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub validation: Option<ValidationSpec>,
}

/// Where a version is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum VersionStatus {
    Published,
    Deprecated,
    Retired,
}

/// How a request selects a version.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum SelectorSpec {
    /// The first path segment after the API's prefix.
    Path { segment: String },
    /// A request header with this value.
    Header { name: String, value: String },
    /// A query parameter with this value.
    Query { name: String, value: String },
}

/// An OpenAPI operation: its id, method and path template (relative to the API's prefix and
/// version segment, like `/pets/{id}`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OperationSpec {
    pub id: String,
    pub method: String,
    pub path: String,
}

/// A plan: a rate limit and an optional quota.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PlanSpec {
    pub name: String,
    /// At most `requests` per `window_seconds`; absent for no rate limit.
    #[serde(default)]
    pub rate_limit: Option<RateLimitSpec>,
    /// At most `requests` per calendar day or month (UTC); absent for no quota.
    #[serde(default)]
    pub quota: Option<QuotaSpec>,
    /// Whose calls count together.
    #[serde(default)]
    pub limit_by: LimitBy,
    /// Shadow mode: the limits are counted and evaluated, but never refuse; a would-be 429 is
    /// recorded (`shadow`). Left out when false, so that snapshots without shadow rules hash as before.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub shadow: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RateLimitSpec {
    pub requests: u64,
    pub window_seconds: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QuotaSpec {
    pub requests: u64,
    pub period: QuotaPeriodSpec,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum QuotaPeriodSpec {
    Day,
    Month,
}

/// Whose calls count together against a plan.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LimitBy {
    /// Each user (all their applications and keys together).
    #[default]
    Consumer,
    /// Each application.
    Application,
}

/// A credential and who it belongs to: an API key (`key_hash`) or a client certificate
/// (`certificate_sha256`), exactly one of the two.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConsumerSpec {
    /// Hex SHA-256 of the API key; the key itself never leaves the client.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_hash: Option<String>,
    /// Hex SHA-256 of the client certificate's DER (the leaf): its fingerprint. Left out for a
    /// key, so that snapshots without certificates keep their content hash.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub certificate_sha256: Option<String>,
    /// The credential's id (an API key's or a client certificate's), for logs, metrics and usage.
    pub key_id: String,
    /// The user the credential belongs to.
    pub user: String,
    /// The application the credential belongs to.
    pub application: String,
    /// The user's groups.
    #[serde(default)]
    pub groups: Vec<String>,
    /// Unix seconds after which the credential stops working; absent for never.
    #[serde(default)]
    pub expires_at: Option<i64>,
}

/// [`ConsumerSpec`] borrowing its strings from the document it was parsed from (a string with
/// escapes is copied). Serialises exactly as `ConsumerSpec` does, so the content hash agrees.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConsumerRef<'a> {
    #[serde(
        default,
        borrow,
        deserialize_with = "borrowed::optional",
        skip_serializing_if = "Option::is_none"
    )]
    pub key_hash: Option<Cow<'a, str>>,
    #[serde(
        default,
        borrow,
        deserialize_with = "borrowed::optional",
        skip_serializing_if = "Option::is_none"
    )]
    pub certificate_sha256: Option<Cow<'a, str>>,
    #[serde(borrow)]
    pub key_id: Cow<'a, str>,
    #[serde(borrow)]
    pub user: Cow<'a, str>,
    #[serde(borrow)]
    pub application: Cow<'a, str>,
    #[serde(default, borrow)]
    pub groups: Vec<Cow<'a, str>>,
    #[serde(default)]
    pub expires_at: Option<i64>,
}

/// What the gateway's compiler reads of a consumer, however it is held.
pub trait Consumer {
    fn key_hash(&self) -> Option<&str>;
    fn certificate_sha256(&self) -> Option<&str>;
    fn key_id(&self) -> &str;
    fn user(&self) -> &str;
    fn application(&self) -> &str;
    fn groups(&self) -> impl Iterator<Item = &str>;
    fn expires_at(&self) -> Option<i64>;
}

impl Consumer for ConsumerSpec {
    fn key_hash(&self) -> Option<&str> {
        self.key_hash.as_deref()
    }
    fn certificate_sha256(&self) -> Option<&str> {
        self.certificate_sha256.as_deref()
    }
    fn key_id(&self) -> &str {
        &self.key_id
    }
    fn user(&self) -> &str {
        &self.user
    }
    fn application(&self) -> &str {
        &self.application
    }
    fn groups(&self) -> impl Iterator<Item = &str> {
        self.groups.iter().map(String::as_str)
    }
    fn expires_at(&self) -> Option<i64> {
        self.expires_at
    }
}

impl Consumer for ConsumerRef<'_> {
    fn key_hash(&self) -> Option<&str> {
        self.key_hash.as_deref()
    }
    fn certificate_sha256(&self) -> Option<&str> {
        self.certificate_sha256.as_deref()
    }
    fn key_id(&self) -> &str {
        &self.key_id
    }
    fn user(&self) -> &str {
        &self.user
    }
    fn application(&self) -> &str {
        &self.application
    }
    fn groups(&self) -> impl Iterator<Item = &str> {
        self.groups.iter().map(|group| &**group)
    }
    fn expires_at(&self) -> Option<i64> {
        self.expires_at
    }
}

/// One grant of an access policy: groups may use an API (narrowed by versions, methods and
/// operations; an empty list allows all) under a plan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AccessRuleSpec {
    /// The access policy this rule comes from, named in refusals.
    pub policy: String,
    pub groups: Vec<String>,
    pub api: String,
    #[serde(default)]
    pub versions: Vec<String>,
    #[serde(default)]
    pub methods: Vec<String>,
    #[serde(default)]
    pub operations: Vec<String>,
    pub plan: String,
    /// Shadow mode: the rule is not enforced; the gateway evaluates, per request, the rules as if
    /// its policy were enforced (`replaces` taken out), and records what that would refuse (`shadow`).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub shadow: bool,
    /// The access policies this rule's policy replaces once enforced: the hub leaves their rules
    /// out of the snapshot then; in shadow mode the gateway leaves them out of the shadow evaluation.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub replaces: Vec<String>,
    /// CIDRs (IPv4 or IPv6) the client address must be in for this rule to grant anything; empty
    /// allows every address. Left out when empty, so snapshots without it keep their content hash.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ip_allow: Vec<String>,
    /// CIDRs for which this rule grants nothing, even inside `ip_allow`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ip_deny: Vec<String>,
}

/// serde borrows a `Cow<str>` field from the document only when it is one directly; inside an
/// `Option` it would copy every string, so optional borrowed strings go through a newtype.
mod borrowed {
    use std::borrow::Cow;

    use serde::{Deserialize, Deserializer};

    #[derive(Deserialize)]
    #[serde(transparent)]
    struct Borrowed<'a>(#[serde(borrow)] Cow<'a, str>);

    pub fn optional<'de: 'a, 'a, D: Deserializer<'de>>(deserializer: D) -> Result<Option<Cow<'a, str>>, D::Error> {
        Ok(Option::<Borrowed<'a>>::deserialize(deserializer)?.map(|borrowed| borrowed.0))
    }
}

mod defaults {
    pub fn connect_timeout_ms() -> u64 {
        2_000
    }
    pub fn read_timeout_ms() -> u64 {
        30_000
    }
    pub fn retries() -> u32 {
        1
    }
    pub fn weight() -> u32 {
        100
    }
    pub fn probe_interval_ms() -> u64 {
        5_000
    }
    pub fn probe_timeout_ms() -> u64 {
        1_000
    }
}

impl Snapshot {
    /// An empty snapshot: serves nothing, refuses everything with 404.
    pub fn empty() -> Self {
        Snapshot {
            format: SNAPSHOT_FORMAT,
            revision: 0,
            content_hash: String::new(),
            apis: Vec::new(),
            plans: Vec::new(),
            consumers: Vec::new(),
            jwt_issuers: Vec::new(),
            access_rules: Vec::new(),
            tls: None,
        }
    }

    /// Reads a snapshot document, naming the field that is wrong, and checks its format and,
    /// when declared, its content hash.
    pub fn parse(bytes: &[u8]) -> Result<Snapshot, SnapshotError> {
        // Tracking the path of every value costs as much as parsing itself (a 20 MB document:
        // ~40 % of its load time), so only a document that fails is read again to name the field.
        let snapshot: Snapshot = match serde_json::from_slice(bytes) {
            Ok(snapshot) => snapshot,
            Err(error) => return Err(Snapshot::parse_error(bytes, error)),
        };
        snapshot.check()
    }

    /// As [`Snapshot::parse`], with consumers borrowed from `bytes`: what a gateway loads.
    pub fn parse_borrowed(bytes: &[u8]) -> Result<Snapshot<ConsumerRef<'_>>, SnapshotError> {
        let snapshot: Snapshot<ConsumerRef<'_>> = match serde_json::from_slice(bytes) {
            Ok(snapshot) => snapshot,
            Err(error) => return Err(Snapshot::parse_error(bytes, error)),
        };
        snapshot.check()
    }

    /// The error of a document that does not parse, naming the field that is wrong.
    fn parse_error(bytes: &[u8], error: serde_json::Error) -> SnapshotError {
        let mut deserializer = serde_json::Deserializer::from_slice(bytes);
        let tracked: Result<Snapshot, _> = serde_path_to_error::deserialize(&mut deserializer);
        let Err(tracked) = tracked else {
            // Only what follows the document is wrong.
            return SnapshotError::Malformed {
                field: "document".to_owned(),
                message: error.to_string(),
            };
        };
        let path = tracked.path().to_string();
        // serde_path_to_error says `.` or `?` when the document itself is the problem.
        let field = if path == "." || path == "?" {
            "document".to_owned()
        } else {
            path
        };
        SnapshotError::Malformed {
            field,
            message: tracked.into_inner().to_string(),
        }
    }

    /// The document as JSON, with its content hash filled in.
    pub fn to_json_with_hash(&self) -> String {
        let mut hashed = self.clone();
        hashed.content_hash = content_hash(self);
        serde_json::to_string_pretty(&hashed).expect("a snapshot always serialises")
    }
}

impl<C: Consumer + Serialize> Snapshot<C> {
    /// Checks a parsed document's format and, when declared, its content hash.
    fn check(self) -> Result<Self, SnapshotError> {
        let snapshot = self;
        if snapshot.format != SNAPSHOT_FORMAT {
            return Err(SnapshotError::UnsupportedFormat { found: snapshot.format });
        }
        if !snapshot.content_hash.is_empty() {
            let actual = content_hash(&snapshot);
            if actual != snapshot.content_hash {
                return Err(SnapshotError::HashMismatch {
                    declared: snapshot.content_hash.clone(),
                    actual,
                });
            }
        }
        Ok(snapshot)
    }
}

#[cfg(test)]
mod tests;
