//! The content hash: SHA-256 over the document's canonical JSON with `revision` zeroed and
//! `content_hash` emptied, so equal content gives equal hashes whoever serialises it and
//! whichever revision carries it (the hub publishes nothing when the hash is unchanged) (struct fields serialise in
//! declaration order; nothing in the contract is a map with unordered keys, except inline
//! JWK Sets, which serde_json keeps sorted).

use sha2::{Digest, Sha256};

use super::Snapshot;

/// Hex SHA-256 of the snapshot's content.
pub fn content_hash(snapshot: &Snapshot) -> String {
    let mut unhashed = snapshot.clone();
    unhashed.content_hash.clear();
    unhashed.revision = 0;
    let canonical = serde_json::to_vec(&unhashed).expect("a snapshot always serialises");
    hex::encode(Sha256::digest(&canonical))
}
