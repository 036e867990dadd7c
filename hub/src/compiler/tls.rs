//! The snapshot's `tls` section: the certificates of the gateways' TLS listener, with their keys
//! (the one place a key leaves the store), and the client CAs that verify applications' client
//! certificates. Absent when there is nothing to put in it, so a hub without certificates
//! publishes the same snapshots, and hashes, as before.

use super::HubState;
use crate::validate::FieldError;

pub(super) fn tls_spec(state: &HubState) -> Option<gateway::tls::TlsSpec> {
    if state.certificates.is_empty() && state.client_cas.is_empty() {
        return None;
    }
    Some(gateway::tls::TlsSpec {
        certificates: state.certificates.iter().map(crate::model::Certificate::spec).collect(),
        client_ca_pem: client_ca_pem(state),
    })
}

/// Every client CA's certificates, one bundle, in name order.
fn client_ca_pem(state: &HubState) -> Option<String> {
    if state.client_cas.is_empty() {
        return None;
    }
    let mut bundle = String::new();
    for client_ca in &state.client_cas {
        bundle.push_str(client_ca.ca_pem.trim_end());
        bundle.push('\n');
    }
    Some(bundle)
}

/// An API that takes client certificates needs a client CA: without one the TLS listener asks no
/// client for a certificate, and the API's certificate callers could never authenticate.
pub(super) fn check_client_certificates(state: &HubState, problems: &mut Vec<FieldError>) {
    if !state.client_cas.is_empty() {
        return;
    }
    for api in state.apis.iter().filter(|api| api.authentication.client_certificate) {
        problems.push(FieldError::new(
            format!("apis/{}/authentication.client_certificate", api.name),
            "takes client certificates, and there is no client CA to verify them: add one first (/api/v1/client-cas, the dashboard's Certificates page)",
        ));
    }
}
