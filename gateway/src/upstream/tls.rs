//! TLS to upstreams: `https://` targets are reached through rustls (on `ring`, TLS 1.2 and 1.3),
//! their certificates verified against the upstream's CA bundle or else the webpki roots, with
//! SNI from the target's host unless overridden, and a client certificate presented to upstreams
//! that demand one (mTLS). The rustls configuration is built when the snapshot compiles; a new
//! connection only runs the handshake, and a pooled one not even that. Plain `http://` targets
//! have no `UpstreamTls` and never reach this module.

use std::fmt;
use std::sync::Arc;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use tokio_rustls::client::TlsStream;

/// What `/config`, the hub's API and its pages show in place of a private key.
pub const REDACTED: &str = "(redacted)";

/// How an upstream's `https://` targets are reached. Every field is optional: an empty (or
/// absent) spec verifies against the webpki roots, with SNI from the target's host and no
/// client certificate.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct UpstreamTlsSpec {
    /// PEM CA certificates that verify the targets' certificates, instead of the webpki roots.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ca_pem: Option<String>,
    /// The name sent in SNI and verified in the target's certificate, instead of its host.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub server_name: Option<String>,
    /// The certificate presented to upstreams that demand one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_certificate: Option<ClientCertificateSpec>,
    /// Always false: skipping verification is not offered. The field exists so that a
    /// document asking for it is refused with a reason rather than as an unknown field.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub insecure_skip_verify: bool,
}

/// A client certificate for mTLS: the chain and its private key, both PEM.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClientCertificateSpec {
    /// The certificate chain, leaf first.
    pub certificate_pem: String,
    /// The private key (PKCS#8, PKCS#1 or SEC1). Never shown: see `REDACTED`.
    pub key_pem: String,
}

/// The key stays out of logs and panics.
impl fmt::Debug for ClientCertificateSpec {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_struct("ClientCertificateSpec")
            .field("certificate_pem", &self.certificate_pem)
            .field("key_pem", &REDACTED)
            .finish()
    }
}

/// A compiled TLS configuration, shared by the targets of one upstream.
pub struct UpstreamTls {
    connector: TlsConnector,
    server_name: Option<ServerName<'static>>,
    /// SHA-256 of the spec: targets with the same authority but other TLS settings get other
    /// connection pools, so a connection is never reused under settings it was not made with.
    pub(crate) id: [u8; 32],
}

impl fmt::Debug for UpstreamTls {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_struct("UpstreamTls")
            .field("server_name", &self.server_name)
            .field("id", &hex::encode(&self.id[..4]))
            .finish_non_exhaustive()
    }
}

/// A problem with one field of a TLS spec (`ca_pem`, `client_certificate.key_pem`, …).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsProblem {
    /// The field, relative to the spec.
    pub field: &'static str,
    pub message: String,
}

impl UpstreamTls {
    /// Builds the rustls configuration, or lists every field that stops it. The hub calls this
    /// too, so its API refuses what the gateway would.
    pub fn build(spec: &UpstreamTlsSpec) -> Result<UpstreamTls, Vec<TlsProblem>> {
        let mut problems = Vec::new();
        let mut problem = |field: &'static str, message: String| problems.push(TlsProblem { field, message });
        if spec.insecure_skip_verify {
            problem(
                "insecure_skip_verify",
                "must be false: upstream certificates are always verified; give the upstream's CA in `ca_pem` instead"
                    .into(),
            );
        }
        let roots = match spec.ca_pem.as_deref() {
            None => None,
            Some(pem) => match certificates(pem) {
                Ok(certificates) => {
                    let mut roots = rustls::RootCertStore::empty();
                    let (_added, ignored) = roots.add_parsable_certificates(certificates);
                    if ignored > 0 || roots.is_empty() {
                        problem(
                            "ca_pem",
                            "holds a certificate that is not a valid CA certificate".into(),
                        );
                    }
                    Some(roots)
                }
                Err(message) => {
                    problem("ca_pem", message);
                    None
                }
            },
        };
        let server_name = match spec.server_name.as_deref() {
            None => None,
            Some(name) => match ServerName::try_from(name.to_owned()) {
                Ok(name) => Some(name),
                Err(_) => {
                    problem("server_name", "must be a DNS name or an IP address".into());
                    None
                }
            },
        };
        let client = match &spec.client_certificate {
            None => None,
            Some(client) => {
                let chain = certificates(&client.certificate_pem)
                    .map_err(|message| problem("client_certificate.certificate_pem", message))
                    .ok();
                let key = PrivateKeyDer::from_pem_slice(client.key_pem.as_bytes())
                    .map_err(|_| {
                        problem(
                            "client_certificate.key_pem",
                            "must be one PEM private key (PKCS#8, PKCS#1 or SEC1)".into(),
                        )
                    })
                    .ok();
                chain.zip(key)
            }
        };
        if !problems.is_empty() {
            return Err(problems);
        }
        let builder = rustls::ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
            .with_safe_default_protocol_versions()
            .expect("ring supports rustls's default protocol versions");
        let builder = match roots {
            Some(roots) => builder.with_root_certificates(roots),
            None => hyper_rustls::ConfigBuilderExt::with_webpki_roots(builder),
        };
        let mut config = match client {
            None => builder.with_no_client_auth(),
            Some((chain, key)) => builder.with_client_auth_cert(chain, key).map_err(|error| {
                vec![TlsProblem {
                    field: "client_certificate",
                    message: format!("the key does not fit the certificate: {error}"),
                }]
            })?,
        };
        // The pools speak HTTP/1.1 only.
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        let id = Sha256::digest(serde_json::to_vec(spec).unwrap_or_default()).into();
        Ok(UpstreamTls {
            connector: TlsConnector::from(Arc::new(config)),
            server_name,
            id,
        })
    }

    /// The name to send in SNI and verify for a target on `host`: the override, or the host.
    pub(crate) fn server_name_for(&self, host: &str) -> Result<ServerName<'static>, String> {
        if let Some(name) = &self.server_name {
            return Ok(name.clone());
        }
        // An IPv6 authority keeps its brackets in `host()`.
        let host = host.trim_start_matches('[').trim_end_matches(']');
        ServerName::try_from(host.to_owned()).map_err(|_| {
            "has a host that is neither a DNS name nor an IP address, so it needs `tls.server_name`".into()
        })
    }

    /// Runs the TLS handshake on a connected stream.
    pub(crate) async fn connect(
        &self,
        server_name: ServerName<'static>,
        stream: TcpStream,
    ) -> std::io::Result<TlsStream<TcpStream>> {
        self.connector.connect(server_name, stream).await
    }
}

/// Whether PEM text holds at least one certificate, and nothing that is not one.
pub fn check_certificates(pem: &str) -> Result<(), String> {
    certificates(pem).map(|_| ())
}

/// The certificates of a PEM bundle; at least one.
fn certificates(pem: &str) -> Result<Vec<CertificateDer<'static>>, String> {
    let certificates = CertificateDer::pem_slice_iter(pem.as_bytes())
        .collect::<Result<Vec<_>, _>>()
        .map_err(|error| format!("is not valid PEM: {error}"))?;
    if certificates.is_empty() {
        return Err("must hold at least one PEM certificate (-----BEGIN CERTIFICATE-----)".into());
    }
    Ok(certificates)
}

/// Replaces the private keys of every upstream in a snapshot document with `REDACTED`, for
/// `/config` and anything else that shows a snapshot.
pub fn redact_document(document: &mut serde_json::Value) {
    let Some(apis) = document.get_mut("apis").and_then(|apis| apis.as_array_mut()) else {
        return;
    };
    apis.iter_mut().for_each(redact_api);
}

/// Replaces the private keys of one API of a snapshot document (its upstream's and its versions')
/// with `REDACTED`.
pub fn redact_api(api: &mut serde_json::Value) {
    if let Some(upstream) = api.get_mut("upstream") {
        redact_upstream(upstream);
    }
    if let Some(versions) = api.get_mut("versions").and_then(|versions| versions.as_array_mut()) {
        for version in versions {
            if let Some(upstream) = version.get_mut("upstream") {
                redact_upstream(upstream);
            }
        }
    }
}

fn redact_upstream(upstream: &mut serde_json::Value) {
    if let Some(key) = upstream.pointer_mut("/tls/client_certificate/key_pem") {
        *key = serde_json::Value::String(REDACTED.into());
    }
}

#[cfg(test)]
mod tests;
