//! Generated identifiers and secrets. A secret (an API key, an admin token) is random enough
//! that a plain SHA-256 of it is a safe thing to store and to look up by; a slow password hash
//! would only slow every request down.

use rand::Rng;
use rand::distributions::Alphanumeric;
use sha2::{Digest, Sha256};

/// A new secret: the value to show once, its visible prefix, and the hash to store.
#[derive(Clone)]
pub struct NewSecret {
    pub value: String,
    pub prefix: String,
    pub hash: String,
}

impl std::fmt::Debug for NewSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NewSecret")
            .field("prefix", &self.prefix)
            .finish_non_exhaustive()
    }
}

/// Characters of a secret shown as its prefix (after the kind marker).
const VISIBLE: usize = 6;

/// Generates a secret `<marker>_<40 alphanumerics>` (about 238 bits).
pub fn generate(marker: &str) -> NewSecret {
    let random: String = rand::thread_rng()
        .sample_iter(&Alphanumeric)
        .take(40)
        .map(char::from)
        .collect();
    let value = format!("{marker}_{random}");
    let prefix = value[..marker.len() + 1 + VISIBLE].to_owned();
    let hash = hash(&value);
    NewSecret { value, prefix, hash }
}

/// Hex SHA-256 of a secret.
pub fn hash(value: &str) -> String {
    hex::encode(Sha256::digest(value.as_bytes()))
}

/// A new identifier `<marker>_<12 lower-case alphanumerics>`.
pub fn new_id(marker: &str) -> String {
    let random: String = rand::thread_rng()
        .sample_iter(&Alphanumeric)
        .map(|byte| char::from(byte).to_ascii_lowercase())
        .take(12)
        .collect();
    format!("{marker}_{random}")
}
