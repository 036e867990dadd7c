//! The content hash: SHA-256 over the document's canonical JSON with `revision` zeroed and
//! `content_hash` emptied, so equal content gives equal hashes whoever serialises it and
//! whichever revision carries it (the hub publishes nothing when the hash is unchanged).
//! Struct fields serialise in declaration order; nothing in the contract is a map with
//! unordered keys, except inline JWK Sets, which serde_json keeps sorted.
//!
//! The JSON is streamed into the hasher from borrowed fields: a snapshot of 100,000 keys is
//! neither cloned nor written out whole to be hashed.

use serde::Serialize;
use sha2::{Digest, Sha256};

use super::{AccessRuleSpec, ApiSpec, PlanSpec, Snapshot};
use crate::jwt::IssuerConfig;

/// `Snapshot` with the two fields the hash leaves out fixed, by reference. Its fields must stay
/// in `Snapshot`'s order (a test checks the two serialise alike).
#[derive(Serialize)]
struct Canonical<'a, C> {
    format: u32,
    revision: u64,
    content_hash: &'a str,
    apis: &'a [ApiSpec],
    plans: &'a [PlanSpec],
    consumers: &'a [C],
    jwt_issuers: &'a [IssuerConfig],
    access_rules: &'a [AccessRuleSpec],
    /// Left out when absent, so that snapshots without TLS hash as they always did.
    #[serde(skip_serializing_if = "Option::is_none")]
    tls: Option<&'a crate::tls::TlsSpec>,
}

/// Hex SHA-256 of the snapshot's content.
pub fn content_hash<C: Serialize>(snapshot: &Snapshot<C>) -> String {
    let canonical = Canonical {
        format: snapshot.format,
        revision: 0,
        content_hash: "",
        apis: &snapshot.apis,
        plans: &snapshot.plans,
        consumers: &snapshot.consumers,
        jwt_issuers: &snapshot.jwt_issuers,
        access_rules: &snapshot.access_rules,
        tls: snapshot.tls.as_ref(),
    };
    let mut hasher = HashWriter(Sha256::new());
    serde_json::to_writer(&mut hasher, &canonical).expect("a snapshot always serialises");
    hex::encode(hasher.0.finalize())
}

/// Feeds written bytes to the hasher.
struct HashWriter(Sha256);

impl std::io::Write for HashWriter {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.update(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[cfg(test)]
#[test]
fn the_canonical_form_is_the_snapshot_with_two_fields_fixed() {
    let mut snapshot =
        Snapshot::parse(br#"{"format":1,"revision":7,"content_hash":"","plans":[{"name":"p"}]}"#).unwrap();
    let mut unhashed = snapshot.clone();
    unhashed.revision = 0;
    let expected = hex::encode(Sha256::digest(serde_json::to_vec(&unhashed).unwrap()));
    assert_eq!(content_hash(&snapshot), expected);
    snapshot.content_hash = "anything".into();
    assert_eq!(content_hash(&snapshot), expected, "the declared hash is not hashed");
}
