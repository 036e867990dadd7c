//! The snapshot's `tls` section: the certificates of the gateways' TLS listener, with their keys
//! (the one place a key leaves the store). Absent when there is nothing to put in it, so a hub
//! without certificates publishes the same snapshots, and hashes, as before.

use super::HubState;

pub(super) fn tls_spec(state: &HubState) -> Option<gateway::tls::TlsSpec> {
    if state.certificates.is_empty() {
        return None;
    }
    Some(gateway::tls::TlsSpec {
        certificates: state.certificates.iter().map(crate::model::Certificate::spec).collect(),
        client_ca_pem: None,
    })
}
