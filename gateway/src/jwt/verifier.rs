//! Verifying a bearer JWT against the issuers a snapshot trusts, in one fixed order, and naming
//! the caller it proves. Built once per snapshot; the keys come from the shared `JwksCache`.

use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::sync::Arc;
use std::time::SystemTime;

use super::config::{IssuerConfig, IssuerConfigError, IssuerProblem};
use super::error::{JwtError, echoable};
use super::jwks::{CachedKeys, JwksCache, JwksEntry};
use super::keys::KeySet;
use super::token::UntrustedToken;

/// Who a verified token says the caller is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    /// The issuer that signed the token (its `iss`).
    pub issuer: Arc<str>,
    /// The subject claim: the caller's name at that issuer.
    pub subject: String,
    /// The caller's groups, from the issuer's groups claim; empty when the claim is absent.
    pub groups: Vec<String>,
}

/// Verifies bearer JWTs for one snapshot's trusted issuers.
pub struct JwtVerifier {
    issuers: HashMap<String, Issuer>,
}

struct Issuer {
    name: Arc<str>,
    audiences: Vec<String>,
    subject_claim: String,
    groups_claim: String,
    leeway_seconds: u64,
    keys: IssuerKeys,
}

enum IssuerKeys {
    Inline(KeySet),
    Jwks(Arc<JwksEntry>),
}

impl JwtVerifier {
    /// Builds the verifier for a snapshot's issuers, taking their key sets from `jwks_cache`
    /// (where keys already fetched for the previous snapshot are reused).
    ///
    /// Fetches nothing; fails with every problem found when any issuer cannot be used.
    pub fn new(issuer_configs: &[IssuerConfig], jwks_cache: &JwksCache) -> Result<JwtVerifier, Vec<IssuerConfigError>> {
        let mut problems = Vec::new();
        let mut issuers = HashMap::with_capacity(issuer_configs.len());
        for issuer_config in issuer_configs {
            let issuer_problems = issuer_config.problems();
            if !issuer_problems.is_empty() {
                problems.extend(issuer_problems);
                continue;
            }
            let keys = match (&issuer_config.jwks_url, &issuer_config.jwks) {
                (Some(jwks_url), _) => match jwks_cache.entry(jwks_url) {
                    Ok(entry) => IssuerKeys::Jwks(entry),
                    Err(reason) => {
                        problems.push(problem(issuer_config, IssuerProblem::BadJwksUrl { reason }));
                        continue;
                    }
                },
                (None, Some(jwks)) => match KeySet::from_jwks(jwks) {
                    Ok(key_set) => IssuerKeys::Inline(key_set),
                    Err(reason) => {
                        problems.push(problem(issuer_config, IssuerProblem::BadJwks { reason }));
                        continue;
                    }
                },
                (None, None) => unreachable!("`problems` requires a key source"),
            };
            let issuer = Issuer {
                name: Arc::from(issuer_config.issuer.as_str()),
                audiences: issuer_config.audiences.clone(),
                subject_claim: issuer_config.subject_claim.clone(),
                groups_claim: issuer_config.groups_claim.clone(),
                leeway_seconds: issuer_config.leeway_seconds,
                keys,
            };
            match issuers.entry(issuer_config.issuer.clone()) {
                Entry::Vacant(vacant) => {
                    vacant.insert(issuer);
                }
                Entry::Occupied(_) => {
                    problems.push(problem(issuer_config, IssuerProblem::Duplicate));
                }
            }
        }
        if problems.is_empty() {
            Ok(JwtVerifier { issuers })
        } else {
            Err(problems)
        }
    }

    /// Verifies `token` at time `now` and returns the caller it names.
    ///
    /// The order is fixed: read the token without trusting it (refusing `alg: none` and HMAC),
    /// find its issuer by `iss`, find the key by `kid` (refreshing the issuer's JWKS once if the
    /// `kid` is unknown), verify the signature, then check `exp`, `nbf` and `aud`, and read the
    /// subject and groups. `iss` needs no check of its own: it chose the keys the signature
    /// verified against.
    pub async fn verify(&self, token: &str, now: SystemTime) -> Result<Identity, JwtError> {
        // Read the token without trusting it.
        let token = UntrustedToken::parse(token)?;
        // Find its issuer.
        let iss = token.issuer()?;
        let issuer = self
            .issuers
            .get(iss)
            .ok_or_else(|| JwtError::UnknownIssuer { iss: echoable(iss) })?;
        // Find the key and verify the signature.
        issuer.verify_signature(&token, now).await?;
        // Check the claims.
        token.check_validity_period(now, issuer.leeway_seconds)?;
        token.check_audience(&issuer.audiences)?;
        // Name the caller.
        Ok(Identity {
            issuer: Arc::clone(&issuer.name),
            subject: token.subject(&issuer.subject_claim)?,
            groups: token.groups(&issuer.groups_claim)?,
        })
    }

    /// Fetches the key sets not cached yet, so the first requests after a snapshot loads do not
    /// wait for them. Failures are logged and retried when a token needs the keys.
    pub async fn prefetch(&self, now: SystemTime) {
        for issuer in self.issuers.values() {
            if let IssuerKeys::Jwks(entry) = &issuer.keys {
                let _ = entry.key_set(now).await;
            }
        }
    }
}

impl std::fmt::Debug for JwtVerifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JwtVerifier")
            .field("issuers", &self.issuers.keys().collect::<Vec<_>>())
            .finish()
    }
}

// === impl Issuer ===

impl Issuer {
    /// Verifies the signature with this issuer's keys, refreshing its JWKS once for an unknown
    /// `kid` (key rotation).
    async fn verify_signature(&self, token: &UntrustedToken<'_>, now: SystemTime) -> Result<(), JwtError> {
        let entry = match &self.keys {
            IssuerKeys::Inline(key_set) => return verify_with(key_set, token),
            IssuerKeys::Jwks(entry) => entry,
        };
        let cached: Arc<CachedKeys> = entry.key_set(now).await?;
        match verify_with(&cached.key_set, token) {
            Err(JwtError::UnknownKey { kid }) => {
                let refreshed = entry.key_set_after_unknown_kid(&cached, now).await;
                if Arc::ptr_eq(&refreshed, &cached) {
                    return Err(JwtError::UnknownKey { kid });
                }
                verify_with(&refreshed.key_set, token)
            }
            verified => verified,
        }
    }
}

/// Verifies the signature with the keys of `key_set` that match the token's `kid` (all keys when
/// it has none) and accept its `alg`.
fn verify_with(key_set: &KeySet, token: &UntrustedToken<'_>) -> Result<(), JwtError> {
    let mut n_candidates = 0;
    let mut n_accepting_alg = 0;
    for key in key_set.candidates(token.kid.as_deref()) {
        n_candidates += 1;
        if !key.algorithms.contains(&token.algorithm) {
            continue;
        }
        n_accepting_alg += 1;
        let verified = jsonwebtoken::crypto::verify(
            token.signature,
            token.signing_input.as_bytes(),
            &key.decoding_key,
            token.algorithm,
        );
        if let Ok(true) = verified {
            return Ok(());
        }
    }
    match (&token.kid, n_candidates, n_accepting_alg) {
        (Some(kid), 0, _) => Err(JwtError::UnknownKey { kid: echoable(kid) }),
        (_, 1.., 0) => Err(JwtError::AlgorithmNotAllowed {
            alg: format!("{:?}", token.algorithm),
        }),
        _ => Err(JwtError::BadSignature),
    }
}

fn problem(issuer_config: &IssuerConfig, problem: IssuerProblem) -> IssuerConfigError {
    IssuerConfigError {
        issuer: issuer_config.issuer.clone(),
        problem,
    }
}
