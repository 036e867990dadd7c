//! A client CA: CA certificates that sign the client certificates applications register
//! (`ApplicationCertificate`). Every client CA goes into the snapshot's `tls.client_ca_pem`, and the
//! gateways' TLS listener then asks clients for a certificate and verifies it against them. More
//! than one lets a CA be rolled over: add the new one, move the clients, delete the old one.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::Kind;
use crate::validate::{Checker, FieldError, MAX_TEXT_LEN};

/// Largest PEM bundle accepted.
pub const MAX_CA_PEM_LEN: usize = 64 * 1024;

/// A client CA as stored, and as an admin writes it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ClientCa {
    /// Unique, immutable name (a slug).
    #[schema(example = "partners-ca")]
    pub name: String,
    #[serde(default)]
    pub description: String,
    /// One or more CA certificates, PEM (`-----BEGIN CERTIFICATE-----` blocks); no key.
    pub ca_pem: String,
}

/// What the API shows of a client CA: the bundle and what each certificate in it says.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ClientCaView {
    pub name: String,
    pub description: String,
    pub ca_pem: String,
    pub certificates: Vec<CaCertificateView>,
}

/// One CA certificate of a bundle.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CaCertificateView {
    /// RFC 4514 (`CN=Partners CA`).
    pub subject: String,
    pub not_after: DateTime<Utc>,
    /// Hex SHA-256 of its DER.
    pub sha256_fingerprint: String,
}

impl Kind for ClientCa {
    const KIND: &'static str = "client_ca";
    const LABEL: &'static str = "client CA";
    type Input = ClientCa;
    type View = ClientCaView;

    fn key(&self) -> String {
        self.name.clone()
    }

    fn from_input(input: ClientCa, _previous: Option<&Self>) -> Result<Self, Vec<FieldError>> {
        let mut checker = Checker::new();
        checker.name("name", &input.name);
        checker.text("description", &input.description, MAX_TEXT_LEN);
        checker.ensure(input.ca_pem.len() <= MAX_CA_PEM_LEN, "ca_pem", "must be at most 64 KiB");
        checker.finish()?;
        gateway::tls::inspect_client_ca(&input.ca_pem, "ca_pem")
            .map_err(|error| vec![FieldError::new(error.field, error.message)])?;
        Ok(input)
    }

    fn view(&self) -> ClientCaView {
        // A stored bundle always parses (it was checked on the way in).
        let certificates = gateway::tls::inspect_client_ca(&self.ca_pem, "ca_pem").unwrap_or_default();
        ClientCaView {
            name: self.name.clone(),
            description: self.description.clone(),
            ca_pem: self.ca_pem.clone(),
            certificates: certificates
                .into_iter()
                .map(|info| CaCertificateView {
                    subject: info.subject,
                    not_after: DateTime::from_timestamp(info.not_after, 0).unwrap_or_default(),
                    sha256_fingerprint: info.sha256_hex,
                })
                .collect(),
        }
    }

    fn search_text(&self) -> String {
        self.description.clone()
    }
}
