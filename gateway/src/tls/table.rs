//! Certificates by host name, for SNI: exact names, `*.` wildcards one level deep, and a default
//! for clients that send no name (or one no certificate covers). Built when certificates load;
//! a handshake costs a lower-casing and at most two hash probes.

use std::collections::HashMap;
use std::sync::Arc;

use rustls::sign::CertifiedKey;

use super::LoadedCertificate;

/// Certificates indexed by the DNS names they are valid for.
#[derive(Debug, Default)]
pub struct CertificateTable {
    exact: HashMap<String, Arc<CertifiedKey>>,
    /// `*.example.com` is kept under `example.com`.
    wildcard: HashMap<String, Arc<CertifiedKey>>,
    default: Option<Arc<CertifiedKey>>,
    /// Every certificate, in load order, for the expiry metric and `/config`.
    certificates: Vec<LoadedCertificate>,
}

impl CertificateTable {
    /// Indexes `certificates`; for a name two of them cover, the first wins. The one named
    /// `default` answers clients without SNI, else the first.
    pub fn new(certificates: Vec<LoadedCertificate>) -> CertificateTable {
        let mut table = CertificateTable::default();
        for certificate in &certificates {
            for name in &certificate.info.dns_names {
                let (map, key) = match name.strip_prefix("*.") {
                    Some(parent) => (&mut table.wildcard, parent),
                    None => (&mut table.exact, name.as_str()),
                };
                map.entry(key.to_owned()).or_insert_with(|| certificate.key.clone());
            }
        }
        table.default = certificates
            .iter()
            .find(|certificate| certificate.name == "default")
            .or_else(|| certificates.first())
            .map(|certificate| certificate.key.clone());
        table.certificates = certificates;
        table
    }

    pub fn is_empty(&self) -> bool {
        self.certificates.is_empty()
    }

    pub fn certificates(&self) -> &[LoadedCertificate] {
        &self.certificates
    }

    /// The certificate for `server_name`: exact, then wildcard, else `None`.
    pub fn find(&self, server_name: &str) -> Option<&Arc<CertifiedKey>> {
        let name = server_name.trim_end_matches('.').to_ascii_lowercase();
        if let Some(key) = self.exact.get(&name) {
            return Some(key);
        }
        let (_, parent) = name.split_once('.')?;
        self.wildcard.get(parent)
    }

    /// The certificate for clients without SNI, or with a name nothing covers.
    pub fn default_certificate(&self) -> Option<&Arc<CertifiedKey>> {
        self.default.as_ref()
    }
}
