//! Reading a bearer token before it is trusted: the compact JWS parts, its header and claims, and
//! the checks that need no key (`alg` acceptable at all, `exp`, `nbf`, `aud`). Pure: no I/O, no
//! clock reads. Choosing the key and verifying the signature is `verifier`'s job.

use std::time::{SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, AlgorithmFamily};
use serde_json::{Map, Value};

use super::error::{JwtError, echoable};

/// Longest bearer token read, in bytes; larger ones are refused before any decoding.
pub const MAX_TOKEN_BYTES: usize = 16 * 1024;

/// Takes the token out of an `Authorization` header value (`Bearer <token>`, RFC 6750 §2.1).
///
/// Another scheme (say `Basic`) means there is no bearer token: [`JwtError::MissingToken`].
pub fn bearer_token(authorization: &str) -> Result<&str, JwtError> {
    let (scheme, rest) = authorization
        .trim_start()
        .split_once(' ')
        .ok_or(JwtError::MissingToken)?;
    if !scheme.eq_ignore_ascii_case("bearer") {
        return Err(JwtError::MissingToken);
    }
    let token = rest.trim_matches(' ');
    if token.is_empty() {
        return Err(malformed("the Authorization header holds no token after `Bearer`"));
    }
    Ok(token)
}

/// A compact JWS split and decoded, none of it trusted yet.
pub(crate) struct UntrustedToken<'t> {
    /// The header's `alg`: already known to be an asymmetric signature algorithm.
    pub algorithm: Algorithm,
    /// The header's `kid`, if any.
    pub kid: Option<String>,
    /// `base64url(header) "." base64url(claims)`: the bytes the signature covers.
    pub signing_input: &'t str,
    /// The signature, still base64url-encoded.
    pub signature: &'t str,
    /// The claims object.
    pub claims: Map<String, Value>,
}

impl<'t> UntrustedToken<'t> {
    /// Splits and decodes a token, refusing `alg: none`, HMAC and unknown algorithms outright.
    pub fn parse(token: &'t str) -> Result<UntrustedToken<'t>, JwtError> {
        if token.len() > MAX_TOKEN_BYTES {
            return Err(malformed("it is longer than 16 KiB"));
        }
        let (signing_input, signature) = token
            .rsplit_once('.')
            .ok_or(malformed("it does not have three dot-separated parts"))?;
        let (header_b64, claims_b64) = signing_input
            .split_once('.')
            .ok_or(malformed("it does not have three dot-separated parts"))?;
        if claims_b64.contains('.') {
            // Five parts would be a JWE; the gateway only reads signed tokens.
            return Err(malformed("it does not have three dot-separated parts"));
        }

        let header = decode_json_object(header_b64, "its header is not base64url-encoded JSON")?;
        // RFC 7515 §4.1.11: an extension we do not understand must not be ignored.
        if header.contains_key("crit") {
            return Err(malformed("its header lists critical extensions (`crit`)"));
        }
        let algorithm = match header.get("alg") {
            Some(Value::String(alg)) => signature_algorithm(alg)?,
            Some(_) => return Err(malformed("its header's `alg` is not a string")),
            None => return Err(malformed("its header has no `alg`")),
        };
        let kid = match header.get("kid") {
            Some(Value::String(kid)) => Some(kid.clone()),
            Some(_) => return Err(malformed("its header's `kid` is not a string")),
            None => None,
        };
        let claims = decode_json_object(claims_b64, "its claims are not base64url-encoded JSON")?;
        Ok(UntrustedToken {
            algorithm,
            kid,
            signing_input,
            signature,
            claims,
        })
    }

    /// The `iss` claim.
    pub fn issuer(&self) -> Result<&str, JwtError> {
        match self.claims.get("iss") {
            Some(Value::String(iss)) => Ok(iss),
            Some(_) => Err(malformed("its `iss` claim is not a string")),
            None => Err(missing_claim("iss")),
        }
    }

    /// Checks `exp` (required) and `nbf` (when present) against `now`, allowing `leeway_seconds`
    /// of clock skew either way.
    pub fn check_validity_period(&self, now: SystemTime, leeway_seconds: u64) -> Result<(), JwtError> {
        let now = now
            .duration_since(UNIX_EPOCH)
            .map_or(0.0, |since_epoch| since_epoch.as_secs_f64());
        let leeway = leeway_seconds as f64;
        // A claim of the wrong type is refused, not skipped: skipping is how CVE-2026-25537 let
        // a string `nbf` through.
        let exp = match self.claims.get("exp") {
            Some(value) => numeric_date(value, "its `exp` claim is not a number")?,
            None => return Err(missing_claim("exp")),
        };
        if now >= exp + leeway {
            return Err(JwtError::Expired);
        }
        if let Some(value) = self.claims.get("nbf") {
            let nbf = numeric_date(value, "its `nbf` claim is not a number")?;
            if nbf > now + leeway {
                return Err(JwtError::NotYetValid);
            }
        }
        Ok(())
    }

    /// Checks that `aud` (a string or an array of strings) names one of `accepted`.
    pub fn check_audience(&self, accepted: &[String]) -> Result<(), JwtError> {
        let is_accepted = |aud: &str| accepted.iter().any(|accepted| accepted == aud);
        match self.claims.get("aud") {
            Some(Value::String(aud)) if is_accepted(aud) => Ok(()),
            Some(Value::String(_)) => Err(JwtError::WrongAudience),
            Some(Value::Array(auds)) => {
                let mut found = false;
                for aud in auds {
                    let aud = aud
                        .as_str()
                        .ok_or(malformed("its `aud` claim holds a value that is not a string"))?;
                    found |= is_accepted(aud);
                }
                if found { Ok(()) } else { Err(JwtError::WrongAudience) }
            }
            Some(_) => Err(malformed("its `aud` claim is neither a string nor an array")),
            None => Err(missing_claim("aud")),
        }
    }

    /// The subject: the string in claim `subject_claim` (a name, or a dotted path into objects).
    pub fn subject(&self, subject_claim: &str) -> Result<String, JwtError> {
        match claim(&self.claims, subject_claim) {
            Some(Value::String(subject)) if !subject.is_empty() => Ok(subject.clone()),
            Some(Value::String(_)) | None => Err(missing_claim(subject_claim)),
            Some(_) => Err(malformed("its subject claim is not a string")),
        }
    }

    /// The groups in claim `groups_claim`: an array of strings or one space-separated string.
    /// An absent claim means no groups.
    pub fn groups(&self, groups_claim: &str) -> Result<Vec<String>, JwtError> {
        const NOT_GROUPS: &str = "its groups claim is neither an array of strings nor a space-separated string";
        match claim(&self.claims, groups_claim) {
            None | Some(Value::Null) => Ok(Vec::new()),
            Some(Value::String(groups)) => Ok(groups.split_whitespace().map(str::to_owned).collect()),
            Some(Value::Array(groups)) => groups
                .iter()
                .map(|group| group.as_str().map(str::to_owned).ok_or(malformed(NOT_GROUPS)))
                .collect(),
            Some(_) => Err(malformed(NOT_GROUPS)),
        }
    }
}

/// Maps a header's `alg` to an algorithm the gateway will verify with, if any.
fn signature_algorithm(alg: &str) -> Result<Algorithm, JwtError> {
    let not_allowed = || JwtError::AlgorithmNotAllowed { alg: echoable(alg) };
    // `none` and unknown names fail to parse; HMAC parses but is refused by family: an issuer's
    // keys are public, so an HMAC "secret" could be any of them (the key-confusion attack).
    let algorithm: Algorithm = alg.parse().map_err(|_| not_allowed())?;
    if algorithm.family() == AlgorithmFamily::Hmac {
        return Err(not_allowed());
    }
    Ok(algorithm)
}

/// Finds a claim by its exact name, or else by a dotted path through nested objects (as
/// Keycloak's `realm_access.roles`); exact first, since names such as URLs contain dots.
fn claim<'c>(claims: &'c Map<String, Value>, name: &str) -> Option<&'c Value> {
    if let Some(value) = claims.get(name) {
        return Some(value);
    }
    let mut segments = name.split('.');
    let mut value = claims.get(segments.next()?)?;
    for segment in segments {
        value = value.as_object()?.get(segment)?;
    }
    Some(value)
}

fn decode_json_object(part: &str, reason: &'static str) -> Result<Map<String, Value>, JwtError> {
    let bytes = URL_SAFE_NO_PAD.decode(part).map_err(|_| malformed(reason))?;
    serde_json::from_slice(&bytes).map_err(|_| malformed(reason))
}

fn numeric_date(value: &Value, reason: &'static str) -> Result<f64, JwtError> {
    value.as_f64().ok_or(malformed(reason))
}

fn malformed(reason: &'static str) -> JwtError {
    JwtError::Malformed { reason }
}

fn missing_claim(claim: &str) -> JwtError {
    JwtError::MissingClaim { claim: echoable(claim) }
}

#[cfg(test)]
mod tests;
