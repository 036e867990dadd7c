//! What a signed-in session is bound to besides the user's name: the account's creation time and
//! its password hash. A user deleted and created again under the same name, or whose password
//! is reset, is not still signed in on an old session.

use sha2::{Digest, Sha256};

use crate::model::{Record, User};

/// A digest of what must not change under a session; kept in the session at sign-in and
/// compared at every request.
pub fn fingerprint(record: &Record<User>) -> String {
    let mut digest = Sha256::new();
    digest.update(record.object.name.as_bytes());
    digest.update([0]);
    digest.update(record.meta.created_at.timestamp_micros().to_be_bytes());
    digest.update([0]);
    digest.update(record.object.password_hash.as_deref().unwrap_or("").as_bytes());
    hex::encode(digest.finalize())
}
