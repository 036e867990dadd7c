//! TLS at the edge: the proxy's TLS listener terminates TLS 1.2 and 1.3 with rustls (on `ring`),
//! offers ALPN `h2` and `http/1.1`, and picks each connection's certificate by SNI (exact name,
//! then `*.` wildcard, then the default certificate for clients that send no name).
//!
//! Certificates come from two places: the snapshot's `tls` section (pushed by the hub) and, for a
//! standalone gateway, a directory of `NAME.crt`/`NAME.key` PEM pairs (`--tls-cert-dir`). Both are
//! parsed and indexed when they load ([`CertificateTable`]), never per handshake; the resolver
//! reads them through `arc-swap`, so a new certificate serves the next handshake while open
//! connections keep the one they negotiated. The snapshot's certificates win over the
//! directory's for the same host name.
//!
//! When the snapshot holds a client CA bundle (`tls.client_ca_pem`, for consumers that
//! authenticate with a client certificate), the listener asks for (never demands) a client
//! certificate, verified against it; the one presented reaches the request path as
//! `pipeline::Peer::client_certificate`.

mod acceptor;
mod certificate;
mod files;
mod redirect;
mod table;

use std::fmt;

use serde::{Deserialize, Serialize};

pub use acceptor::{EdgeTls, TlsConnection};
pub use certificate::{
    CertificateInfo, LoadedCertificate, inspect, inspect_client_ca, inspect_client_certificate, load_pair,
};
pub use files::{load_dir, watch_dir};
pub use redirect::{Transport, require_https};
pub use table::CertificateTable;

/// What `/config`, the hub's API and its pages show in place of a private key.
pub const REDACTED: &str = "(redacted)";

/// The snapshot's `tls` section: certificates for the TLS listener, and the CA bundle that
/// verifies client certificates.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TlsSpec {
    /// Certificates served by SNI; a certificate named `default` (else the first) also answers
    /// clients that send no server name.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub certificates: Vec<CertificateSpec>,
    /// PEM CA certificates that verify the client certificates consumers may present; when set,
    /// the TLS listener requests (does not require) a client certificate.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_ca_pem: Option<String>,
}

/// One certificate for the TLS listener: its chain and private key, both PEM.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CertificateSpec {
    /// The hub's name for it: the `gatehouse_certificate` label of the expiry metric.
    pub name: String,
    /// The certificate chain, leaf first. Its DNS names (SANs) are the hosts it serves.
    pub chain_pem: String,
    /// The private key (PKCS#8, PKCS#1 or SEC1). Never shown: see [`REDACTED`].
    pub key_pem: String,
}

/// The key stays out of logs and panics.
impl fmt::Debug for CertificateSpec {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_struct("CertificateSpec")
            .field("name", &self.name)
            .field("chain_pem", &self.chain_pem)
            .field("key_pem", &REDACTED)
            .finish()
    }
}

/// A certificate a client presented on its connection, for the request path (consumer mTLS).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientCertificate {
    /// The leaf certificate, DER.
    pub der: Box<[u8]>,
    /// SHA-256 of `der`: the certificate's fingerprint, what consumers are found by.
    pub sha256: [u8; 32],
    /// The same, in hex, for refusals and logs.
    pub sha256_hex: String,
    /// The subject's distinguished name, RFC 4514 (`CN=alice,O=Example`).
    pub subject: String,
}

/// Why a certificate, key or CA bundle could not be used; `field` names the part.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct TlsError {
    pub field: String,
    pub message: String,
}

impl TlsError {
    pub(crate) fn new(field: impl Into<String>, message: impl Into<String>) -> TlsError {
        TlsError {
            field: field.into(),
            message: message.into(),
        }
    }
}

/// The snapshot's `tls` section, compiled: the certificates indexed by host name and the client
/// certificate verifier, built once when the snapshot loads.
#[derive(Debug, Default)]
pub struct CompiledTls {
    pub table: std::sync::Arc<CertificateTable>,
    /// Verifies client certificates; `None` when the snapshot has no client CA bundle.
    pub client_verifier: Option<std::sync::Arc<dyn rustls::server::danger::ClientCertVerifier>>,
}

impl CompiledTls {
    /// Parses every certificate and the CA bundle, naming the field of each problem
    /// (`tls.certificates[1].key_pem`).
    pub fn compile(spec: Option<&TlsSpec>) -> Result<CompiledTls, Vec<TlsError>> {
        let Some(spec) = spec else {
            return Ok(CompiledTls::default());
        };
        let mut problems = Vec::new();
        let mut loaded = Vec::with_capacity(spec.certificates.len());
        for (index, certificate) in spec.certificates.iter().enumerate() {
            let field = format!("tls.certificates[{index}]");
            if loaded
                .iter()
                .any(|known: &LoadedCertificate| known.name == certificate.name)
            {
                problems.push(TlsError::new(
                    format!("{field}.name"),
                    format!("certificate `{}` is listed twice", certificate.name),
                ));
                continue;
            }
            match load_pair(&certificate.name, &certificate.chain_pem, &certificate.key_pem) {
                Ok(certificate) => loaded.push(certificate),
                Err(error) => problems.push(TlsError::new(format!("{field}.{}", error.field), error.message)),
            }
        }
        let client_verifier = match spec.client_ca_pem.as_deref() {
            None => None,
            Some(pem) => match acceptor::client_verifier(pem) {
                Ok(verifier) => Some(verifier),
                Err(message) => {
                    problems.push(TlsError::new("tls.client_ca_pem", message));
                    None
                }
            },
        };
        if !problems.is_empty() {
            return Err(problems);
        }
        Ok(CompiledTls {
            table: std::sync::Arc::new(CertificateTable::new(loaded)),
            client_verifier,
        })
    }
}

/// Replaces every private key in a snapshot document's `tls` section by [`REDACTED`], for
/// `/config`.
pub fn redact_keys(document: &mut serde_json::Value) {
    let Some(certificates) = document
        .pointer_mut("/tls/certificates")
        .and_then(|value| value.as_array_mut())
    else {
        return;
    };
    for certificate in certificates {
        if let Some(key) = certificate.get_mut("key_pem") {
            *key = serde_json::Value::String(REDACTED.into());
        }
    }
}

#[cfg(test)]
mod tests;
