//! CSRF protection by a synchronizer token: a random token kept in the session, rendered into
//! every form and sent by try-it in a header; a state-changing request without it is refused.
//! Written here (20 lines) because the crates for axum 0.8 are double-submit cookies not bound to
//! the session, or unmaintained.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::RngCore;
use sha2::{Digest, Sha256};
use tower_sessions::Session;
use tower_sessions::session::Error as SessionError;

const KEY: &str = "csrf";

/// The form field (and try-it's header) that carries the token.
pub const FIELD: &str = "csrf";
pub const HEADER: &str = "x-csrf-token";

/// The session's token, made on first use.
pub async fn token(session: &Session) -> Result<String, SessionError> {
    if let Some(token) = session.get::<String>(KEY).await? {
        return Ok(token);
    }
    renew(session).await
}

/// A fresh token: at sign-in, so a token seen before it is worth nothing after.
pub async fn renew(session: &Session) -> Result<String, SessionError> {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    let token = URL_SAFE_NO_PAD.encode(bytes);
    session.insert(KEY, &token).await?;
    Ok(token)
}

/// Whether `submitted` is the session's token (compared by digest, in constant time
/// with respect to the token's content).
pub async fn check(session: &Session, submitted: Option<&str>) -> Result<bool, SessionError> {
    let expected = session.get::<String>(KEY).await?;
    let matches = match (expected, submitted) {
        (Some(expected), Some(submitted)) => {
            Sha256::digest(expected.as_bytes()) == Sha256::digest(submitted.as_bytes())
        }
        _ => false,
    };
    Ok(matches)
}
