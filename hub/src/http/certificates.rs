//! `/api/v1/certificates`: the gateways' TLS listener certificates. Created and replaced with
//! their PEM chain and key; read back with what the hub derives from the chain (subject, DNS
//! names, not-after, fingerprint), never the key.

use super::objects::object_routes;
use super::resources::TextListParams;
use crate::model::{Certificate, CertificateInput, CertificateView};

object_routes! {
    mod certificates;
    singular: certificate,
    kind: Certificate, input: CertificateInput, view: CertificateView, params: TextListParams,
    collection: "/certificates", item: "/certificates/{name}", key: "name", tag: "Certificates",
}

pub use certificates::router;
