//! TLS to an upstream's `https://` targets, as the hub stores it: a CA bundle, an SNI override
//! and a client certificate for upstreams that demand one. The gateway's
//! `gateway::upstream::tls` builds it (and the hub checks with that same code). The private key
//! is a secret: every read (the API, the dashboard, exports, audit entries, revision snapshots)
//! shows `(redacted)` in its place, and writing `(redacted)` (or nothing) back keeps the stored key,
//! so an exported manifest applies unchanged.

use std::fmt;

use gateway::upstream::tls::{ClientCertificateSpec, REDACTED, UpstreamTlsSpec};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::validate::Checker;

/// How the gateway reaches an upstream's `https://` targets. Without it: verified against the
/// webpki roots, SNI from the target's host, no client certificate.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields, default)]
pub struct UpstreamTls {
    /// PEM CA certificates that verify the targets' certificates, instead of the webpki roots.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ca_pem: Option<String>,
    /// Name sent in SNI and verified in the target's certificate, instead of the target's host.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(example = "internal.example.com")]
    pub server_name: Option<String>,
    /// Presented to upstreams that demand a client certificate (mTLS).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_certificate: Option<ClientCertificate>,
    /// Must be false: upstream certificates are always verified.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub insecure_skip_verify: bool,
}

/// A client certificate and its private key, both PEM.
#[derive(Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ClientCertificate {
    /// The certificate chain, leaf first.
    pub certificate_pem: String,
    /// The private key (PKCS#8, PKCS#1 or SEC1). Shown as `(redacted)`; send `(redacted)` or
    /// leave it empty to keep the stored key.
    #[serde(default)]
    pub key_pem: String,
}

impl fmt::Debug for ClientCertificate {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_struct("ClientCertificate")
            .field("certificate_pem", &self.certificate_pem)
            .field("key_pem", &REDACTED)
            .finish()
    }
}

impl UpstreamTls {
    /// The form every read shows: the private key replaced.
    pub fn redacted(&self) -> UpstreamTls {
        let mut shown = self.clone();
        if let Some(client) = &mut shown.client_certificate {
            client.key_pem = REDACTED.into();
        }
        shown
    }

    /// Empty text counts as absent, and a key sent back as `(redacted)` or empty is the
    /// stored one.
    pub fn normalized(mut self, previous: Option<&UpstreamTls>) -> UpstreamTls {
        let blank = |text: Option<String>| text.filter(|text| !text.trim().is_empty());
        self.ca_pem = blank(self.ca_pem);
        self.server_name = blank(self.server_name).map(|name| name.trim().to_owned());
        if let Some(client) = &mut self.client_certificate
            && (client.key_pem.trim().is_empty() || client.key_pem == REDACTED)
            && let Some(kept) = previous.and_then(|previous| previous.client_certificate.as_ref())
        {
            client.key_pem = kept.key_pem.clone();
        }
        self
    }

    /// The snapshot's form.
    pub fn spec(&self) -> UpstreamTlsSpec {
        UpstreamTlsSpec {
            ca_pem: self.ca_pem.clone(),
            server_name: self.server_name.clone(),
            client_certificate: self.client_certificate.as_ref().map(|client| ClientCertificateSpec {
                certificate_pem: client.certificate_pem.clone(),
                key_pem: client.key_pem.clone(),
            }),
            insecure_skip_verify: self.insecure_skip_verify,
        }
    }

    /// Checks it with the gateway's own builder, so the hub refuses what a gateway would,
    /// naming the field (`upstream.tls.ca_pem`).
    pub fn check(&self, checker: &mut Checker, field: &str) {
        let chain = self
            .client_certificate
            .as_ref()
            .map(|client| client.certificate_pem.as_str());
        if [self.ca_pem.as_deref(), chain]
            .into_iter()
            .flatten()
            .any(|text| text.len() > MAX_PEM_LEN)
        {
            checker.push(
                format!("{field}.tls"),
                format!("PEM text must be at most {MAX_PEM_LEN} bytes"),
            );
            return;
        }
        let mut spec = self.spec();
        if let Some(client) = &mut spec.client_certificate {
            if client.key_pem.trim().is_empty() {
                checker.push(
                    format!("{field}.tls.client_certificate.key_pem"),
                    "is required with a new client certificate",
                );
                return;
            }
            // `(redacted)` stands for the stored key (an exported manifest applied back): what
            // can be checked without it is, and a publish refuses it if no key was stored.
            if client.key_pem == REDACTED {
                if let Err(message) = gateway::upstream::tls::check_certificates(&client.certificate_pem) {
                    checker.push(format!("{field}.tls.client_certificate.certificate_pem"), message);
                }
                spec.client_certificate = None;
            }
        }
        if let Err(problems) = gateway::upstream::tls::UpstreamTls::build(&spec) {
            for problem in problems {
                checker.push(format!("{field}.tls.{}", problem.field), problem.message);
            }
        }
    }
}

/// Longest CA bundle or certificate chain: a generous bundle of a few dozen certificates.
pub const MAX_PEM_LEN: usize = 256 * 1024;

impl super::Upstream {
    /// The upstream as every read shows it: its TLS private key replaced.
    pub fn redacted(&self) -> super::Upstream {
        let mut shown = self.clone();
        shown.tls = shown.tls.as_ref().map(UpstreamTls::redacted);
        shown
    }

    /// Before validation: blank TLS text dropped, and a key sent back redacted is the stored one.
    pub(crate) fn keep_secrets(&mut self, previous: Option<&super::Upstream>) {
        let previous = previous.and_then(|previous| previous.tls.as_ref());
        self.tls = self.tls.take().map(|tls| tls.normalized(previous));
    }
}
