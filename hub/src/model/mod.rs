//! The domain model: DESIGN.md's vocabulary as Rust types, each with its own validation and the
//! references it holds to other objects. Nothing here knows about HTTP or SQL.
//!
//! Every managed object implements [`Kind`], which lets one generic store and one set of
//! domain operations (`domain::objects`) create, read, update, list and delete all of them with
//! the same rules: references checked, uniqueness claimed, every write audited.

pub mod access_policy;
pub mod admin_token;
pub mod api;
pub mod api_key;
pub mod api_version;
pub mod application;
pub mod application_certificate;
pub mod audit;
pub mod certificate;
pub mod client_ca;
pub mod edge;
pub mod gateway;
pub mod gateway_token;
pub mod group;
pub mod plan;
pub mod portal;
pub mod revision;
pub mod shadow;
pub mod upstream_tls;
pub mod user;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize, de::DeserializeOwned};
use utoipa::ToSchema;

use crate::validate::FieldError;

pub use access_policy::{AccessPolicy, ApiGrant, HttpMethod};
pub use admin_token::AdminToken;
pub use api::{Api, Authentication, Route, Target, Upstream};
pub use api_key::ApiKey;
pub use api_version::{ApiVersion, Selector, VersionStatus};
pub use application::Application;
pub use application_certificate::{ApplicationCertificate, ApplicationCertificateInput};
pub use audit::{AuditAction, AuditEntry};
pub use certificate::{Certificate, CertificateInput, CertificateView};
pub use client_ca::{ClientCa, ClientCaView};
pub use edge::EdgeRules;
pub use gateway::Gateway;
pub use gateway_token::GatewayToken;
pub use group::Group;
pub use plan::{Plan, Quota, QuotaPeriod, RateLimit};
pub use portal::Portal;
pub use revision::{Revision, RevisionKind};
pub use shadow::RuleMode;
pub use upstream_tls::{ClientCertificate, UpstreamTls};
pub use user::{ExternalIdentity, Role, User};

/// A kind of object the hub manages.
pub trait Kind: Serialize + DeserializeOwned + Clone + Send + Sync + Unpin + 'static {
    /// The word stored in tables and audit entries (`api`, `access_policy`).
    const KIND: &'static str;
    /// The word shown to people (`API`, `access policy`).
    const LABEL: &'static str;
    /// What an admin sends to create or replace one.
    type Input: Send;
    /// What the API shows of one: the stored object without its secrets.
    type View: Serialize + Send;

    /// The object's key, unique within its kind, and immutable.
    fn key(&self) -> String;

    /// Builds and validates the stored form from an admin's input. `previous` is the stored
    /// object when replacing one, so secrets and generated keys can be kept.
    fn from_input(input: Self::Input, previous: Option<&Self>) -> Result<Self, Vec<FieldError>>;

    /// The public form of the object.
    fn view(&self) -> Self::View;

    /// Takes back from the stored object the secrets this one shows redacted (an upstream's TLS
    /// key), for a manifest's object about to replace it; `from_input` does the same with `previous`.
    fn keep_secrets(&mut self, _previous: &Self) {}

    /// Objects this one refers to; each must exist, and blocks deleting its target.
    fn references(&self) -> Vec<Reference> {
        Vec::new()
    }

    /// Values that no other object may hold in the same scope (a route, a key hash).
    fn unique_claims(&self) -> Vec<UniqueClaim> {
        Vec::new()
    }

    /// Labels that list filters match exactly (`tag:payments`, `role:admin`).
    fn labels(&self) -> Vec<String> {
        Vec::new()
    }

    /// Text that the `q` list filter searches, besides the key.
    fn search_text(&self) -> String {
        String::new()
    }

    /// A rule that at least one object of this kind must keep carrying some labels; `None` for
    /// most kinds. A change or delete that would take the last such object away is refused.
    const KEEP_ONE: Option<KeepOne> = None;

    /// Removes every reference to `target`, for a cascading delete. Returns `false` when the
    /// object cannot live without it (a policy without its plan), which blocks the delete.
    fn detach(&mut self, target: &ObjectRef) -> bool {
        let _ = target;
        false
    }
}

/// At least one object of a kind must carry every one of `labels` (as [`Kind::labels`] writes
/// them), once one does: users keep an enabled admin this way.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeepOne {
    pub labels: &'static [&'static str],
    /// What such an object is, for the refusal (`enabled admin`).
    pub what: &'static str,
    /// What to do instead, for the refusal.
    pub remedy: &'static str,
}

/// Names one object: its kind and its key.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ObjectRef {
    pub kind: &'static str,
    pub key: String,
}

impl ObjectRef {
    pub fn new(kind: &'static str, key: impl Into<String>) -> Self {
        ObjectRef { kind, key: key.into() }
    }
}

/// One reference held by an object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reference {
    /// The field that holds it, for error messages (`groups[1]`).
    pub field: String,
    pub target: ObjectRef,
    /// The target owns this object: deleting the target with `cascade` deletes this object too,
    /// instead of detaching it.
    pub owned_by_target: bool,
}

impl Reference {
    pub fn to(field: impl Into<String>, kind: &'static str, key: impl Into<String>) -> Self {
        Reference {
            field: field.into(),
            target: ObjectRef::new(kind, key),
            owned_by_target: false,
        }
    }

    pub fn owner(field: impl Into<String>, kind: &'static str, key: impl Into<String>) -> Self {
        Reference {
            owned_by_target: true,
            ..Reference::to(field, kind, key)
        }
    }
}

/// A value an object claims for itself within a scope; two objects cannot hold the same one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UniqueClaim {
    /// What the claim is about (`route`, `application_name`); also names it in conflicts.
    pub scope: &'static str,
    pub value: String,
    /// The field the claim comes from, for error messages.
    pub field: &'static str,
}

/// When and by whom an object was created and last changed.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Meta {
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// Who created it (a user name or `token:<name>`).
    pub created_by: String,
    /// Who changed it last.
    pub updated_by: String,
}

/// A stored object with its metadata.
#[derive(Debug, Clone)]
pub struct Record<K> {
    pub object: K,
    pub meta: Meta,
}

/// The API's view of a stored object: its public fields and its metadata side by side.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Stored<V> {
    #[serde(flatten)]
    pub object: V,
    #[serde(flatten)]
    pub meta: Meta,
}

impl<K: Kind> Record<K> {
    /// The public form, with metadata.
    pub fn view(&self) -> Stored<K::View> {
        Stored {
            object: self.object.view(),
            meta: self.meta.clone(),
        }
    }
}

/// One page of a list, and where the next begins.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Page<T> {
    pub items: Vec<T>,
    /// Pass as `cursor` to get the next page; absent on the last page.
    pub next_cursor: Option<String>,
}

/// Which objects a list returns.
#[derive(Debug, Clone, Default)]
pub struct ListFilter {
    /// Case-insensitive substring of the key or the search text.
    pub query: Option<String>,
    /// Labels the object must all carry (see [`Kind::labels`]).
    pub labels: Vec<String>,
    /// An object the listed objects must refer to.
    pub refers_to: Option<ObjectRef>,
    /// Return keys strictly after this one.
    pub cursor: Option<String>,
    /// At most this many items.
    pub limit: u32,
}

/// Largest page a list returns.
pub const MAX_PAGE_SIZE: u32 = 500;
/// Page size when none is asked for.
pub const DEFAULT_PAGE_SIZE: u32 = 50;
