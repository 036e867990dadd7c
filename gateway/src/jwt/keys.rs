//! An issuer's signing keys, read from a JWK Set: each public key with the algorithms it may
//! verify. Those algorithms come from the key (`kty`, `crv`, `alg`), never from a token's header,
//! so a token cannot pick an algorithm its issuer does not sign with. Fetching the set is
//! `jwks`'s job.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::jwk::{AlgorithmParameters, EllipticCurve, Jwk, KeyAlgorithm, KeyOperations, PublicKeyUse};
use jsonwebtoken::{Algorithm, DecodingKey};

/// One public key of an issuer, ready to verify signatures.
pub(crate) struct VerifyingKey {
    /// The key's `kid`, if the JWK Set gives one.
    pub kid: Option<String>,
    /// The signature algorithms this key verifies; never HMAC, never `none`.
    pub algorithms: &'static [Algorithm],
    /// The key in `jsonwebtoken`'s form.
    pub decoding_key: DecodingKey,
}

/// The usable signing keys of one JWK Set; keys that cannot verify JWT signatures are left out.
#[derive(Default)]
pub(crate) struct KeySet {
    keys: Vec<VerifyingKey>,
}

/// Smallest RSA modulus accepted, in bytes (2048 bits, as RFC 7518 §3.3 requires).
const MIN_RSA_MODULUS_BYTES: usize = 256;

const RSA_ALGORITHMS: &[Algorithm] = &[
    Algorithm::RS256,
    Algorithm::RS384,
    Algorithm::RS512,
    Algorithm::PS256,
    Algorithm::PS384,
    Algorithm::PS512,
];

impl KeySet {
    /// Reads a JWK Set document (`{"keys": [...]}`).
    ///
    /// Fails only when the document is not a JWK Set at all. Single keys that cannot verify
    /// JWTs (symmetric, encryption-only, unsupported curve, too small) are skipped with a warning,
    /// since identity providers often publish such keys beside their signing keys.
    pub fn from_jwks(jwks: &serde_json::Value) -> Result<KeySet, &'static str> {
        let Some(jwk_values) = jwks.get("keys").and_then(serde_json::Value::as_array) else {
            return Err("it is not a JSON object with a `keys` array");
        };
        let mut keys = Vec::with_capacity(jwk_values.len());
        for jwk_value in jwk_values {
            match verifying_key(jwk_value) {
                Ok(key) => keys.push(key),
                Err(reason) => {
                    let kid = jwk_value.get("kid").and_then(serde_json::Value::as_str);
                    tracing::warn!(kid, reason, "skipping a JWK that cannot verify JWT signatures");
                }
            }
        }
        Ok(KeySet { keys })
    }

    /// Reads a JWK Set from the bytes of a JWKS response.
    pub fn from_jwks_bytes(body: &[u8]) -> Result<KeySet, &'static str> {
        let jwks: serde_json::Value = serde_json::from_slice(body).map_err(|_| "it is not valid JSON")?;
        KeySet::from_jwks(&jwks)
    }

    /// The keys a token may have been signed with: those with its `kid`, or all keys when the
    /// token names none.
    pub fn candidates<'a>(&'a self, kid: Option<&'a str>) -> impl Iterator<Item = &'a VerifyingKey> + 'a {
        self.keys
            .iter()
            .filter(move |key| kid.is_none() || key.kid.as_deref() == kid)
    }

    /// How many usable keys the set holds.
    pub fn len(&self) -> usize {
        self.keys.len()
    }

    /// Whether the set holds no usable key.
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }
}

/// Turns one JWK into a verifying key, or says why it cannot be one.
fn verifying_key(jwk_value: &serde_json::Value) -> Result<VerifyingKey, &'static str> {
    let jwk: Jwk = serde_json::from_value(jwk_value.clone()).map_err(|_| "it is not a well-formed JWK")?;
    if let Some(public_key_use) = &jwk.common.public_key_use
        && *public_key_use != PublicKeyUse::Signature
    {
        return Err("its `use` is not `sig`");
    }
    if let Some(key_operations) = &jwk.common.key_operations
        && !key_operations.contains(&KeyOperations::Verify)
    {
        return Err("its `key_ops` do not include `verify`");
    }
    let algorithms = key_type_algorithms(&jwk.algorithm)?;
    let algorithms = match jwk.common.key_algorithm {
        None => algorithms,
        Some(key_algorithm) => narrow_to_declared(algorithms, key_algorithm)?,
    };
    let decoding_key = DecodingKey::from_jwk(&jwk).map_err(|_| "its key material is invalid")?;
    // Build a verifier once now, so a key with a bad point or encoding is dropped here instead
    // of failing every token that names it.
    (jsonwebtoken::crypto::rust_crypto::DEFAULT_PROVIDER.verifier_factory)(&algorithms[0], &decoding_key)
        .map_err(|_| "its key material is invalid")?;
    Ok(VerifyingKey {
        kid: jwk.common.key_id,
        algorithms,
        decoding_key,
    })
}

/// The algorithms a key of this type and curve can verify.
fn key_type_algorithms(parameters: &AlgorithmParameters) -> Result<&'static [Algorithm], &'static str> {
    match parameters {
        AlgorithmParameters::RSA(rsa) => {
            let modulus = URL_SAFE_NO_PAD
                .decode(rsa.n.trim_end_matches('='))
                .map_err(|_| "its RSA modulus is not base64url")?;
            let significant = modulus.iter().skip_while(|byte| **byte == 0).count();
            if significant < MIN_RSA_MODULUS_BYTES {
                return Err("its RSA modulus is shorter than 2048 bits");
            }
            Ok(RSA_ALGORITHMS)
        }
        AlgorithmParameters::EllipticCurve(ec) => match ec.curve {
            EllipticCurve::P256 => Ok(&[Algorithm::ES256]),
            EllipticCurve::P384 => Ok(&[Algorithm::ES384]),
            _ => Err("its elliptic curve is not supported (P-256 and P-384 are)"),
        },
        AlgorithmParameters::OctetKeyPair(okp) => match okp.curve {
            EllipticCurve::Ed25519 => Ok(&[Algorithm::EdDSA]),
            _ => Err("its OKP curve is not supported (Ed25519 is)"),
        },
        // Symmetric keys would let anyone holding them mint tokens; issuers sign with key pairs.
        AlgorithmParameters::OctetKey(_) => Err("it is a symmetric (`oct`) key"),
        _ => Err("its key type is not supported"),
    }
}

/// Keeps only the algorithm the JWK declares, if its key type can verify it.
fn narrow_to_declared(
    algorithms: &'static [Algorithm],
    key_algorithm: KeyAlgorithm,
) -> Result<&'static [Algorithm], &'static str> {
    let declared = Algorithm::try_from(key_algorithm).map_err(|_| "its `alg` is not a signature algorithm")?;
    let position = algorithms
        .iter()
        .position(|algorithm| *algorithm == declared)
        .ok_or("its `alg` does not match its key type")?;
    Ok(&algorithms[position..=position])
}
