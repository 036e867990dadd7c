//! The TLS fields of an upstream on the API and version forms: a CA bundle, an SNI override and
//! a client certificate with its key. The key is never put back in a page: its field is always
//! empty, and leaving it empty keeps the stored key (`model::UpstreamTls::normalized`).

use serde::Deserialize;

use crate::dashboard::form::FieldErrors;
use crate::model::{ClientCertificate, UpstreamTls};

/// The TLS fields as typed.
#[derive(Deserialize, Default, Clone)]
pub struct TlsFields {
    #[serde(default)]
    pub tls_ca_pem: String,
    #[serde(default)]
    pub tls_server_name: String,
    #[serde(default)]
    pub tls_client_certificate_pem: String,
    #[serde(default)]
    pub tls_client_key_pem: String,
    /// Whether a key is stored (shown as a hint; never the key).
    #[serde(skip)]
    pub key_stored: bool,
}

impl TlsFields {
    /// The fields of a stored TLS configuration, the key left out.
    pub fn of(tls: Option<&UpstreamTls>) -> TlsFields {
        let Some(tls) = tls else {
            return TlsFields::default();
        };
        let client = tls.client_certificate.as_ref();
        TlsFields {
            tls_ca_pem: tls.ca_pem.clone().unwrap_or_default(),
            tls_server_name: tls.server_name.clone().unwrap_or_default(),
            tls_client_certificate_pem: client.map(|client| client.certificate_pem.clone()).unwrap_or_default(),
            tls_client_key_pem: String::new(),
            key_stored: client.is_some(),
        }
    }

    /// Reads the four fields of a multipart form.
    pub fn take(mut take: impl FnMut(&str) -> String) -> TlsFields {
        TlsFields {
            tls_ca_pem: take("tls_ca_pem"),
            tls_server_name: take("tls_server_name"),
            tls_client_certificate_pem: take("tls_client_certificate_pem"),
            tls_client_key_pem: take("tls_client_key_pem"),
            key_stored: false,
        }
    }

    pub fn is_empty(&self) -> bool {
        [
            &self.tls_ca_pem,
            &self.tls_server_name,
            &self.tls_client_certificate_pem,
            &self.tls_client_key_pem,
        ]
        .iter()
        .all(|text| text.trim().is_empty())
    }

    /// The TLS configuration the fields describe; `None` when all are empty. The model checks
    /// the PEM text and keeps a stored key when the key field is left empty.
    pub fn parse(&self, errors: &mut FieldErrors) -> Option<UpstreamTls> {
        if self.is_empty() {
            return None;
        }
        let certificate = self.tls_client_certificate_pem.trim();
        if certificate.is_empty() && !self.tls_client_key_pem.trim().is_empty() {
            errors.add("tls_client_certificate_pem", "a private key needs its certificate");
        }
        let text = |text: &str| Some(text.trim().to_owned()).filter(|text| !text.is_empty());
        Some(UpstreamTls {
            ca_pem: text(&self.tls_ca_pem),
            server_name: text(&self.tls_server_name),
            client_certificate: (!certificate.is_empty()).then(|| ClientCertificate {
                certificate_pem: certificate.to_owned(),
                key_pem: self.tls_client_key_pem.trim().to_owned(),
            }),
            insecure_skip_verify: false,
        })
    }
}

/// Where the model's TLS field paths go on a form.
pub fn place(field: &str) -> Option<&'static str> {
    let rest = field.strip_prefix("upstream.tls")?;
    Some(match rest {
        ".ca_pem" => "tls_ca_pem",
        ".server_name" => "tls_server_name",
        ".client_certificate.key_pem" => "tls_client_key_pem",
        _ => "tls_client_certificate_pem",
    })
}
