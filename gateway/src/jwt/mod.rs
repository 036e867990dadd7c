//! JWT authentication: bearer tokens verified against the issuers a snapshot trusts, with their
//! keys fetched from each issuer's JWKS and cached across snapshots. It says who the caller is
//! ([`Identity`]) or why the token was refused ([`JwtError`]); what the caller may then do is
//! the access rules' job, and turning a refusal into a 401 is the gateway edge's.
//!
//! - `config`: an issuer as the snapshot describes it, and its checks.
//! - `token`: reading a token before trusting it; the claim checks that need no key.
//! - `keys`: an issuer's public keys, each with the algorithms it verifies.
//! - `jwks`: the cache of key sets by URL: when to fetch, rate limits, stale keys.
//! - `fetch`: the JWKS HTTP client.
//! - `verifier`: the verification order, from token to [`Identity`].
//! - `error`: the refusals, their sentences and their `WWW-Authenticate` challenges.

mod config;
mod error;
mod fetch;
mod jwks;
mod keys;
mod token;
mod verifier;

pub use config::{IssuerConfig, IssuerConfigError, IssuerProblem, MAX_LEEWAY_SECONDS};
pub use error::JwtError;
pub use jwks::{JwksCache, JwksCacheSettings};
pub use token::{MAX_TOKEN_BYTES, bearer_token};
pub use verifier::{Identity, JwtVerifier};

#[cfg(test)]
mod tests;
