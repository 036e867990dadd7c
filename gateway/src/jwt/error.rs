//! Why a bearer token was refused: one typed value per rule, with the sentence a client reads and
//! the `WWW-Authenticate` challenge. Turning it into a response is the gateway edge's job.

use std::fmt::Write as _;

/// A refused bearer token. Every variant becomes a 401; the `Display` text is the problem+json
/// `detail` and never contains the token.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum JwtError {
    /// The request carries no bearer token at all.
    #[error("The request carries no bearer token.")]
    MissingToken,
    /// The token is not a JWS in compact form with JSON header and claims.
    #[error("The bearer token is not a well-formed JWT: {reason}.")]
    Malformed { reason: &'static str },
    /// The header's `alg` is `none`, HMAC, unknown, or not one the issuer's keys sign with.
    #[error(
        "The token's signing algorithm `{alg}` is not accepted: tokens must be signed with one of \
         their issuer's public keys, using that key's algorithm."
    )]
    AlgorithmNotAllowed { alg: String },
    /// No configured issuer matches the token's `iss`.
    #[error("The token's issuer `{iss}` is not trusted here.")]
    UnknownIssuer { iss: String },
    /// The issuer publishes no key with the token's `kid`, even after refreshing its key set.
    #[error("The token names signing key `{kid}`, which its issuer does not publish.")]
    UnknownKey { kid: String },
    /// The signature does not verify against the issuer's key.
    #[error("The token's signature does not verify against its issuer's keys.")]
    BadSignature,
    /// `exp` has passed (allowing for the configured leeway).
    #[error("The token has expired.")]
    Expired,
    /// `nbf` is still in the future (allowing for the configured leeway).
    #[error("The token is not valid yet: its `nbf` time is in the future.")]
    NotYetValid,
    /// None of the token's `aud` values is an accepted audience.
    #[error("The token is not meant for this gateway: none of its audiences is accepted here.")]
    WrongAudience,
    /// A claim the gateway needs (`exp`, `iss`, `aud`, or the subject claim) is absent.
    #[error("The token lacks the required `{claim}` claim.")]
    MissingClaim { claim: String },
    /// The issuer's JWKS could not be fetched and no keys are cached.
    // The URL stays out of the message: it may name an internal host, and the client cannot act on it.
    #[error("The token's issuer keys cannot be fetched right now; try again shortly.")]
    JwksUnavailable { url: String },
}

impl JwtError {
    /// A short machine name for the rule that refused, for problem+json and metric labels.
    pub fn rule(&self) -> &'static str {
        match self {
            JwtError::MissingToken => "jwt_missing",
            JwtError::Malformed { .. } => "jwt_malformed",
            JwtError::AlgorithmNotAllowed { .. } => "jwt_algorithm_not_allowed",
            JwtError::UnknownIssuer { .. } => "jwt_unknown_issuer",
            JwtError::UnknownKey { .. } => "jwt_unknown_key",
            JwtError::BadSignature => "jwt_bad_signature",
            JwtError::Expired => "jwt_expired",
            JwtError::NotYetValid => "jwt_not_yet_valid",
            JwtError::WrongAudience => "jwt_wrong_audience",
            JwtError::MissingClaim { .. } => "jwt_missing_claim",
            JwtError::JwksUnavailable { .. } => "jwt_jwks_unavailable",
        }
    }

    /// Whether the client's token is at fault; `false` only when the issuer's keys could not be
    /// had, which the edge may log as our (or the identity provider's) failure.
    pub fn is_client_error(&self) -> bool {
        !matches!(self, JwtError::JwksUnavailable { .. })
    }

    /// The `WWW-Authenticate` value for the 401 (RFC 6750 §3).
    ///
    /// A request with no token gets a bare challenge, as §3.1 asks; a refused token gets
    /// `error="invalid_token"` and this error's sentence as `error_description`.
    pub fn www_authenticate(&self, realm: &str) -> String {
        let mut challenge = String::with_capacity(160);
        challenge.push_str("Bearer realm=\"");
        push_quoted_safe(&mut challenge, realm);
        challenge.push('"');
        if matches!(self, JwtError::MissingToken | JwtError::JwksUnavailable { .. }) {
            return challenge;
        }
        challenge.push_str(", error=\"invalid_token\", error_description=\"");
        let mut description = String::with_capacity(120);
        let _ = write!(description, "{self}");
        push_quoted_safe(&mut challenge, &description);
        challenge.push('"');
        challenge
    }
}

/// Longest piece of a client's token (an `alg`, `kid` or `iss`) repeated back in a message.
const MAX_ECHOED_CHARS: usize = 64;

/// Makes a value from an untrusted token fit to repeat in a message and a header: at most
/// [`MAX_ECHOED_CHARS`] characters, printable ASCII only, no quotes or backslashes.
pub(crate) fn echoable(untrusted: &str) -> String {
    let mut echoed: String = untrusted
        .chars()
        .take(MAX_ECHOED_CHARS)
        .map(|c| match c {
            '"' | '\\' | '`' => '\'',
            ' '..='~' => c,
            _ => '?',
        })
        .collect();
    if untrusted.chars().nth(MAX_ECHOED_CHARS).is_some() {
        echoed.push_str("...");
    }
    echoed
}

/// Appends `text` to a quoted-string, dropping what a quoted-string cannot hold.
// RFC 6750 limits error_description to printable ASCII without `"` and `\`.
fn push_quoted_safe(out: &mut String, text: &str) {
    out.extend(
        text.chars()
            .filter(|c| matches!(c, ' '..='~') && *c != '"' && *c != '\\'),
    );
}
