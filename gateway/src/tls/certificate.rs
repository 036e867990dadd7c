//! Reading a certificate chain and its key from PEM: what the TLS listener serves, and what the
//! hub shows of a certificate (subject, DNS names, expiry, fingerprint). One parser for both.

use std::sync::Arc;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::sign::CertifiedKey;
use serde::Serialize;
use sha2::{Digest, Sha256};
use x509_cert::der::Decode;
use x509_cert::ext::pkix::SubjectAltName;
use x509_cert::ext::pkix::name::GeneralName;

use super::TlsError;

/// What a certificate says about itself, read from the leaf of its chain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CertificateInfo {
    /// The subject's distinguished name, RFC 4514 (`CN=api.example.com`).
    pub subject: String,
    /// The DNS names (subject alternative names) it is valid for, lower case; these are the
    /// hosts SNI picks it for.
    pub dns_names: Vec<String>,
    /// When it stops being valid, Unix seconds.
    pub not_after: i64,
    /// Hex SHA-256 of the leaf's DER: its fingerprint.
    pub sha256_hex: String,
}

/// A certificate ready to serve: its name, what it says, and rustls's signing form.
#[derive(Debug, Clone)]
pub struct LoadedCertificate {
    pub name: String,
    pub info: CertificateInfo,
    pub key: Arc<CertifiedKey>,
}

/// Reads the certificates of a PEM chain, leaf first; `field` names it in errors.
pub(crate) fn read_chain(pem: &str, field: &str) -> Result<Vec<CertificateDer<'static>>, TlsError> {
    let chain = CertificateDer::pem_slice_iter(pem.as_bytes())
        .collect::<Result<Vec<_>, _>>()
        .map_err(|error| TlsError::new(field, format!("is not PEM certificates: {error}")))?;
    if chain.is_empty() {
        return Err(TlsError::new(field, "holds no `BEGIN CERTIFICATE` block"));
    }
    Ok(chain)
}

/// What the leaf of a PEM chain says (the hub derives a certificate's view with it).
pub fn inspect(chain_pem: &str) -> Result<CertificateInfo, TlsError> {
    let chain = read_chain(chain_pem, "chain_pem")?;
    describe(&chain[0]).map_err(|message| TlsError::new("chain_pem", message))
}

/// Reads the subject, DNS names, expiry and fingerprint of a DER certificate.
pub(crate) fn describe(der: &[u8]) -> Result<CertificateInfo, String> {
    let certificate =
        x509_cert::Certificate::from_der(der).map_err(|error| format!("is not an X.509 certificate: {error}"))?;
    let tbs = &certificate.tbs_certificate;
    let mut dns_names = Vec::new();
    let names: Option<(bool, SubjectAltName)> = tbs
        .get()
        .map_err(|error| format!("has a malformed subject alternative name: {error}"))?;
    for name in names.map(|(_, names)| names.0).unwrap_or_default() {
        if let GeneralName::DnsName(dns) = name {
            dns_names.push(dns.to_string().to_ascii_lowercase());
        }
    }
    let not_after = i64::try_from(tbs.validity.not_after.to_unix_duration().as_secs()).unwrap_or(i64::MAX);
    Ok(CertificateInfo {
        subject: tbs.subject.to_string(),
        dns_names,
        not_after,
        sha256_hex: hex::encode(Sha256::digest(der)),
    })
}

/// Reads a chain and its private key, checks that they belong together, and prepares them for
/// the TLS listener. Errors name `chain_pem` or `key_pem`.
pub fn load_pair(name: &str, chain_pem: &str, key_pem: &str) -> Result<LoadedCertificate, TlsError> {
    let chain = read_chain(chain_pem, "chain_pem")?;
    let info = describe(&chain[0]).map_err(|message| TlsError::new("chain_pem", message))?;
    let key = PrivateKeyDer::from_pem_slice(key_pem.as_bytes())
        .map_err(|error| TlsError::new("key_pem", format!("is not a PEM private key: {error}")))?;
    let provider = rustls::crypto::ring::default_provider();
    let key = CertifiedKey::from_der(chain, key, &provider).map_err(|error| match error {
        rustls::Error::InconsistentKeys(_) => {
            TlsError::new("key_pem", "is not the key of the certificate in chain_pem")
        }
        error => TlsError::new("key_pem", format!("cannot be used: {error}")),
    })?;
    Ok(LoadedCertificate {
        name: name.to_owned(),
        info,
        key: Arc::new(key),
    })
}
