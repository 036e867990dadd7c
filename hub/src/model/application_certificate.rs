//! A client certificate registered to an application: a credential like an API key, presented in
//! the TLS handshake to the gateways' TLS listener instead of a key in each request. The hub keeps
//! the leaf certificate (public) and its SHA-256 fingerprint, which the snapshot maps to the
//! application's consumer; the private key stays with the client, and a PEM holding one is
//! refused. The certificate must also be signed by one of the client CAs (`ClientCa`), or the
//! handshake refuses it. Read with the gateway's own parser (`gateway::tls`).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::{Application, Kind, Reference, UniqueClaim};
use crate::identity::secret;
use crate::validate::{Checker, FieldError, MAX_SHORT_TEXT_LEN};

/// Largest PEM accepted (one certificate is 1 to 3 KiB).
pub const MAX_CERTIFICATE_PEM_LEN: usize = 16 * 1024;

/// A client certificate of an application, as stored and shown (nothing in it is secret).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ApplicationCertificate {
    /// Generated, immutable identifier; the usage summaries' `key` for calls made with it.
    #[schema(example = "cert_7h2k9d4m1x0q")]
    pub id: String,
    /// The application it authenticates.
    pub application: String,
    /// A label to recognise it by (`billing-prod`).
    pub name: String,
    /// The leaf certificate, PEM.
    pub certificate_pem: String,
    /// Hex SHA-256 of the certificate's DER: what the gateway finds it by.
    pub sha256_fingerprint: String,
    /// The certificate's subject, RFC 4514.
    #[schema(example = "CN=billing-sync,O=Example")]
    pub subject: String,
    /// When the certificate stops being valid; the gateway refuses it from then on.
    pub not_after: DateTime<Utc>,
    /// When it was revoked; a revoked certificate stays listed and works nowhere.
    pub revoked_at: Option<DateTime<Utc>>,
}

/// What registering a certificate takes: the application (from the URL), a label, the PEM.
#[derive(Debug, Clone)]
pub struct ApplicationCertificateInput {
    pub application: String,
    pub name: String,
    pub certificate_pem: String,
}

impl ApplicationCertificate {
    /// Whether the certificate authenticates at `now`: not revoked, not expired.
    pub fn is_active(&self, now: DateTime<Utc>) -> bool {
        self.revoked_at.is_none() && self.not_after > now
    }
}

impl Kind for ApplicationCertificate {
    const KIND: &'static str = "application_certificate";
    const LABEL: &'static str = "client certificate";
    type Input = ApplicationCertificateInput;
    type View = ApplicationCertificate;

    fn key(&self) -> String {
        self.id.clone()
    }

    fn from_input(input: ApplicationCertificateInput, previous: Option<&Self>) -> Result<Self, Vec<FieldError>> {
        let mut checker = Checker::new();
        checker.ensure(!input.name.trim().is_empty(), "name", "must not be empty");
        checker.text("name", &input.name, MAX_SHORT_TEXT_LEN);
        checker.ensure(
            input.certificate_pem.len() <= MAX_CERTIFICATE_PEM_LEN,
            "certificate_pem",
            "must be at most 16 KiB",
        );
        checker.finish()?;
        let info = gateway::tls::inspect_client_certificate(&input.certificate_pem, "certificate_pem")
            .map_err(|error| vec![FieldError::new(error.field, error.message)])?;
        let not_after = DateTime::from_timestamp(info.not_after, 0).unwrap_or(DateTime::<Utc>::MAX_UTC);
        Ok(ApplicationCertificate {
            id: previous.map_or_else(|| secret::new_id("cert"), |previous| previous.id.clone()),
            application: input.application,
            name: input.name.trim().to_owned(),
            certificate_pem: input.certificate_pem,
            sha256_fingerprint: info.sha256_hex,
            subject: info.subject,
            not_after,
            revoked_at: previous.and_then(|previous| previous.revoked_at),
        })
    }

    fn view(&self) -> ApplicationCertificate {
        self.clone()
    }

    fn references(&self) -> Vec<Reference> {
        vec![Reference::owner("application", Application::KIND, &self.application)]
    }

    /// One certificate names one application: the gateway could not tell two holders apart.
    fn unique_claims(&self) -> Vec<UniqueClaim> {
        vec![UniqueClaim {
            scope: "client_certificate_sha256",
            value: self.sha256_fingerprint.clone(),
            field: "certificate_pem",
        }]
    }

    fn labels(&self) -> Vec<String> {
        vec![format!("revoked:{}", self.revoked_at.is_some())]
    }

    fn search_text(&self) -> String {
        format!("{}\n{}\n{}", self.name, self.subject, self.sha256_fingerprint)
    }
}
