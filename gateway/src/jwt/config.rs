//! How the snapshot describes a trusted token issuer, with its defaults and the checks the hub
//! runs before publishing and the gateway runs before loading. Building the verifier from it is
//! `verifier`'s job.

use serde::{Deserialize, Serialize};

use super::jwks::parse_jwks_url;
use super::keys::KeySet;

/// A trusted JWT issuer (an identity provider), as carried in the snapshot.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IssuerConfig {
    /// The `iss` value its tokens carry, compared exactly (a trailing `/` matters).
    pub issuer: String,
    /// Audiences accepted here; a token's `aud` must name at least one.
    #[serde(default)]
    pub audiences: Vec<String>,
    /// Where the issuer publishes its JWK Set (http or https); exclusive with `jwks`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jwks_url: Option<String>,
    /// An inline JWK Set (`{"keys": [...]}`), for issuers without a JWKS endpoint.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jwks: Option<serde_json::Value>,
    /// The claim holding the caller's groups: an array of strings or a space-separated string.
    #[serde(default = "default_groups_claim")]
    pub groups_claim: String,
    /// The claim naming the caller.
    #[serde(default = "default_subject_claim")]
    pub subject_claim: String,
    /// Clock skew tolerated on `exp` and `nbf`, in seconds.
    #[serde(default = "default_leeway_seconds")]
    pub leeway_seconds: u64,
}

/// Largest clock skew an issuer may be given: beyond it, `exp` stops meaning much.
pub const MAX_LEEWAY_SECONDS: u64 = 600;

fn default_groups_claim() -> String {
    "groups".to_owned()
}

fn default_subject_claim() -> String {
    "sub".to_owned()
}

fn default_leeway_seconds() -> u64 {
    60
}

impl IssuerConfig {
    /// An issuer with a JWKS endpoint and the default claims and leeway.
    pub fn new(issuer: &str, audiences: &[&str], jwks_url: &str) -> IssuerConfig {
        IssuerConfig {
            issuer: issuer.to_owned(),
            audiences: audiences.iter().map(|aud| (*aud).to_owned()).collect(),
            jwks_url: Some(jwks_url.to_owned()),
            jwks: None,
            groups_claim: default_groups_claim(),
            subject_claim: default_subject_claim(),
            leeway_seconds: default_leeway_seconds(),
        }
    }

    /// Every problem with this issuer, in field order; empty when it can be loaded.
    pub fn problems(&self) -> Vec<IssuerConfigError> {
        let mut problems = Vec::new();
        let mut problem = |problem: IssuerProblem| {
            problems.push(IssuerConfigError {
                issuer: self.issuer.clone(),
                problem,
            })
        };
        if self.issuer.trim().is_empty() {
            problem(IssuerProblem::EmptyIssuer);
        }
        if self.audiences.is_empty() || self.audiences.iter().any(|aud| aud.is_empty()) {
            problem(IssuerProblem::NoAudience);
        }
        match (&self.jwks_url, &self.jwks) {
            (None, None) => problem(IssuerProblem::NoKeySource),
            (Some(_), Some(_)) => problem(IssuerProblem::BothKeySources),
            (Some(jwks_url), None) => {
                if let Err(reason) = parse_jwks_url(jwks_url) {
                    problem(IssuerProblem::BadJwksUrl { reason });
                }
            }
            (None, Some(jwks)) => match KeySet::from_jwks(jwks) {
                Err(reason) => problem(IssuerProblem::BadJwks { reason }),
                Ok(key_set) if key_set.is_empty() => problem(IssuerProblem::BadJwks {
                    reason: "it holds no key that can verify JWT signatures",
                }),
                Ok(_) => {}
            },
        }
        if self.groups_claim.is_empty() {
            problem(IssuerProblem::EmptyClaimName { field: "groups_claim" });
        }
        if self.subject_claim.is_empty() {
            problem(IssuerProblem::EmptyClaimName { field: "subject_claim" });
        }
        if self.leeway_seconds > MAX_LEEWAY_SECONDS {
            problem(IssuerProblem::LeewayTooLarge {
                max: MAX_LEEWAY_SECONDS,
            });
        }
        problems
    }
}

/// A problem with one issuer's configuration.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("issuer `{issuer}`: {problem}")]
pub struct IssuerConfigError {
    /// The issuer's `issuer` field, as configured.
    pub issuer: String,
    /// What is wrong with it.
    pub problem: IssuerProblem,
}

/// What can be wrong with an issuer's configuration.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IssuerProblem {
    /// `issuer` is empty.
    #[error("`issuer` must not be empty")]
    EmptyIssuer,
    /// No audience is accepted, or one is empty.
    #[error("`audiences` must list at least one non-empty audience")]
    NoAudience,
    /// Neither a JWKS URL nor an inline JWK Set.
    #[error("one of `jwks_url` and `jwks` must be set")]
    NoKeySource,
    /// Both a JWKS URL and an inline JWK Set.
    #[error("only one of `jwks_url` and `jwks` may be set")]
    BothKeySources,
    /// The JWKS URL is not an absolute http(s) URL.
    #[error("`jwks_url` cannot be used: {reason}")]
    BadJwksUrl { reason: &'static str },
    /// The inline JWK Set is not one, or holds no usable signing key.
    #[error("`jwks` cannot be used: {reason}")]
    BadJwks { reason: &'static str },
    /// A claim name is empty.
    #[error("`{field}` must not be empty")]
    EmptyClaimName { field: &'static str },
    /// The leeway exceeds [`MAX_LEEWAY_SECONDS`].
    #[error("`leeway_seconds` must be at most {max}")]
    LeewayTooLarge { max: u64 },
    /// Two issuers share an `issuer` value.
    #[error("another issuer has the same `issuer`")]
    Duplicate,
}
