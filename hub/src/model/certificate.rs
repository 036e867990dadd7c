//! A certificate for the gateways' TLS listener: a PEM chain and its private key, served by SNI
//! for the DNS names in the chain's leaf. The hub derives what it shows (subject, names, expiry,
//! fingerprint) with the gateway's own parser (`gateway::tls`), so both read a certificate alike.
//! The private key is stored and compiled into the snapshot; no API, page or manifest export
//! ever shows it ([`CertificateView`] has no field for it).

use std::fmt;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::Kind;
use crate::validate::{Checker, FieldError, MAX_TEXT_LEN};

/// Largest PEM chain or key accepted (a chain of a few certificates is a few KiB).
pub const MAX_PEM_LEN: usize = 64 * 1024;

/// Certificates with fewer days than this left are flagged on the dashboard.
pub const EXPIRY_WARNING_DAYS: i64 = 30;

/// Whole days from `now` until `not_after`, negative once past: the Certificates page and the
/// fleet view count the same way.
pub fn days_until(not_after: DateTime<Utc>, now: DateTime<Utc>) -> i64 {
    (not_after - now).num_days()
}

/// The stored certificate, key included.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Certificate {
    pub name: String,
    #[serde(default)]
    pub description: String,
    pub chain_pem: String,
    pub key_pem: String,
}

/// The key stays out of logs and panics.
impl fmt::Debug for Certificate {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_struct("Certificate")
            .field("name", &self.name)
            .field("chain_pem", &self.chain_pem)
            .field("key_pem", &gateway::tls::REDACTED)
            .finish()
    }
}

/// What an admin sends: the chain and the key, PEM.
#[derive(Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CertificateInput {
    /// Unique, immutable name (a slug); the `gatehouse_certificate` label of the expiry metric.
    #[schema(example = "api-example-com")]
    pub name: String,
    #[serde(default)]
    pub description: String,
    /// The certificate chain, leaf first (`-----BEGIN CERTIFICATE-----` blocks).
    pub chain_pem: String,
    /// The private key of the leaf (PKCS#8, PKCS#1 or SEC1 PEM). Never returned. When
    /// replacing a certificate it may be left out to keep the stored key (it must still match).
    #[serde(default)]
    pub key_pem: Option<String>,
}

/// What the API shows of a certificate: never its key.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CertificateView {
    pub name: String,
    pub description: String,
    pub chain_pem: String,
    /// The leaf's subject, RFC 4514.
    #[schema(example = "CN=api.example.com")]
    pub subject: String,
    /// The DNS names (SANs) it serves.
    pub dns_names: Vec<String>,
    /// When it stops being valid.
    pub not_after: DateTime<Utc>,
    /// Hex SHA-256 of the leaf's DER.
    pub sha256_fingerprint: String,
}

impl Certificate {
    /// What the chain says about itself; a stored certificate always parses (it was checked
    /// on the way in), so a failure shows as an empty subject.
    pub fn info(&self) -> Option<gateway::tls::CertificateInfo> {
        gateway::tls::inspect(&self.chain_pem).ok()
    }

    /// Whole days until `not_after`, negative once expired.
    pub fn days_left(view: &CertificateView, now: DateTime<Utc>) -> i64 {
        days_until(view.not_after, now)
    }

    /// The snapshot's form, key included: only the compiler calls it.
    pub fn spec(&self) -> gateway::tls::CertificateSpec {
        gateway::tls::CertificateSpec {
            name: self.name.clone(),
            chain_pem: self.chain_pem.clone(),
            key_pem: self.key_pem.clone(),
        }
    }
}

impl Kind for Certificate {
    const KIND: &'static str = "certificate";
    const LABEL: &'static str = "certificate";
    type Input = CertificateInput;
    type View = CertificateView;

    fn key(&self) -> String {
        self.name.clone()
    }

    fn from_input(input: CertificateInput, previous: Option<&Certificate>) -> Result<Certificate, Vec<FieldError>> {
        let mut checker = Checker::new();
        checker.name("name", &input.name);
        checker.text("description", &input.description, MAX_TEXT_LEN);
        checker.ensure(
            input.chain_pem.len() <= MAX_PEM_LEN,
            "chain_pem",
            "must be at most 64 KiB",
        );
        let key_pem = match (input.key_pem.filter(|key| !key.trim().is_empty()), previous) {
            (Some(key), _) => key,
            (None, Some(previous)) => previous.key_pem.clone(),
            (None, None) => {
                checker.push("key_pem", "is required");
                String::new()
            }
        };
        checker.ensure(key_pem.len() <= MAX_PEM_LEN, "key_pem", "must be at most 64 KiB");
        checker.finish()?;
        if let Err(error) = gateway::tls::load_pair(&input.name, &input.chain_pem, &key_pem) {
            return Err(vec![FieldError::new(error.field, error.message)]);
        }
        Ok(Certificate {
            name: input.name,
            description: input.description,
            chain_pem: input.chain_pem,
            key_pem,
        })
    }

    fn view(&self) -> CertificateView {
        let info = self.info();
        CertificateView {
            name: self.name.clone(),
            description: self.description.clone(),
            chain_pem: self.chain_pem.clone(),
            subject: info.as_ref().map(|info| info.subject.clone()).unwrap_or_default(),
            dns_names: info.as_ref().map(|info| info.dns_names.clone()).unwrap_or_default(),
            not_after: info
                .as_ref()
                .and_then(|info| DateTime::from_timestamp(info.not_after, 0))
                .unwrap_or_default(),
            sha256_fingerprint: info.map(|info| info.sha256_hex).unwrap_or_default(),
        }
    }

    fn search_text(&self) -> String {
        let names = self.info().map(|info| info.dns_names.join(" ")).unwrap_or_default();
        format!("{}\n{names}", self.description)
    }
}
