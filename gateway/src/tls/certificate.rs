//! Reading a certificate chain and its key from PEM: what the TLS listener serves, and what the
//! hub shows of a certificate (subject, DNS names, expiry, fingerprint). One parser for both.

use std::sync::Arc;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::sign::CertifiedKey;
use serde::Serialize;
use sha2::{Digest, Sha256};
use x509_cert::der::Decode;
use x509_cert::ext::pkix::name::GeneralName;
use x509_cert::ext::pkix::{BasicConstraints, SubjectAltName};

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

/// What a client certificate registered to an application (consumer mTLS) says about itself.
/// The PEM must hold exactly one certificate, an end entity's (not a CA), and no private key:
/// the key stays with the client, and a hub that stored one would hold a credential it never
/// needs. Errors name `field`.
pub fn inspect_client_certificate(pem: &str, field: &str) -> Result<CertificateInfo, TlsError> {
    if holds_private_key(pem) {
        return Err(TlsError::new(
            field,
            "holds a private key: send only the certificate; its key stays with the client",
        ));
    }
    let chain = read_chain(pem, field)?;
    if chain.len() != 1 {
        return Err(TlsError::new(
            field,
            format!(
                "holds {} certificates: send only the client's own (leaf) certificate",
                chain.len()
            ),
        ));
    }
    let der = &chain[0];
    let certificate = x509_cert::Certificate::from_der(der)
        .map_err(|error| TlsError::new(field, format!("is not an X.509 certificate: {error}")))?;
    let constraints: Option<(bool, BasicConstraints)> = certificate
        .tbs_certificate
        .get()
        .map_err(|error| TlsError::new(field, format!("has malformed basic constraints: {error}")))?;
    if constraints.is_some_and(|(_, constraints)| constraints.ca) {
        return Err(TlsError::new(
            field,
            "is a CA certificate: register the client's own (leaf) certificate; a CA goes in the client CAs",
        ));
    }
    describe(der).map_err(|message| TlsError::new(field, message))
}

/// What the CA certificates of a client CA bundle say about themselves, checked as the TLS
/// listener will use them (`tls.client_ca_pem`). A private key in it is refused, as above.
pub fn inspect_client_ca(pem: &str, field: &str) -> Result<Vec<CertificateInfo>, TlsError> {
    if holds_private_key(pem) {
        return Err(TlsError::new(
            field,
            "holds a private key: a CA bundle is certificates only",
        ));
    }
    let chain = read_chain(pem, field)?;
    super::acceptor::client_verifier(pem).map_err(|message| TlsError::new(field, message))?;
    chain
        .iter()
        .map(|der| describe(der).map_err(|message| TlsError::new(field, message)))
        .collect()
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

/// Whether a PEM text has a private key block of any kind (PKCS#8, PKCS#1, SEC1, encrypted),
/// by its label: the PEM parser skips labels it does not know, such as `ENCRYPTED PRIVATE KEY`.
fn holds_private_key(pem: &str) -> bool {
    pem.lines()
        .any(|line| line.trim_start().starts_with("-----BEGIN") && line.contains("PRIVATE KEY"))
}
