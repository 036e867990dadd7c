//! Step 2, authenticate: who is calling. An API key (from the API's header, or its query
//! parameter where the API allows one) is looked up by SHA-256; a bearer JWT is verified
//! against its issuer's keys; on an API that takes them, the client certificate of the
//! connection (verified in the TLS handshake) is looked up by its SHA-256 fingerprint. No
//! credential, or a bad one, is a 401 with a challenge.
//!
//! A credential in the request wins over the connection's certificate: a key or a token names
//! the caller of this one request, while a certificate belongs to the connection, which one
//! client process (or an HTTP/2 connection carrying several clients' requests) may share. A
//! wrong key is refused as such, never passed over for the certificate.

use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use http::{HeaderValue, Request};
use hyper::body::Incoming;
use sha2::{Digest, Sha256};

use super::Peer;
use crate::access::GroupId;
use crate::compiled::{CompiledApi, Consumer, CredentialEntry, KeyIdSpan};
use crate::refusal::{NoCertificate, Refusal};
use crate::runtime::Loaded;

/// The authenticated caller.
#[derive(Debug, Clone)]
pub struct Caller {
    pub user: Arc<str>,
    /// How the caller authenticated.
    pub credential: Credential,
    /// The application of an API key or a client certificate; absent for a JWT.
    pub application: Option<Arc<str>>,
    /// The id of the API key or client certificate, in the snapshot's table of credentials
    /// ([`Consumers::key_id_at`]); absent for a JWT.
    ///
    /// [`Consumers::key_id_at`]: crate::compiled::Consumers::key_id_at
    pub key_id: Option<KeyIdSpan>,
    /// Rate-limit keys: the user's, and the application's when there is one.
    pub user_limit_key: Arc<str>,
    pub application_limit_key: Option<Arc<str>>,
    /// Sorted.
    pub groups: Arc<[GroupId]>,
    /// When the request was authenticated: the one clock reading the later steps use too.
    pub now: SystemTime,
}

/// The kind of credential a caller authenticated with: the access log's `credential`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Credential {
    ApiKey,
    Jwt,
    ClientCertificate,
}

impl Credential {
    pub fn as_str(self) -> &'static str {
        match self {
            Credential::ApiKey => "api_key",
            Credential::Jwt => "jwt",
            Credential::ClientCertificate => "client_certificate",
        }
    }
}

/// Who is calling: an API key in the request, else a bearer token (where the API takes JWTs),
/// else the connection's client certificate (where the API takes them).
pub(super) async fn authenticate(
    loaded: &Loaded,
    api: &CompiledApi,
    request: &Request<Incoming>,
    peer: &Peer,
) -> Result<Caller, Refusal> {
    let now = SystemTime::now();
    if let Some(key) = api_key(api, request) {
        return by_api_key(loaded, api, key, now);
    }
    let bearer = request
        .headers()
        .get(http::header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok());
    match bearer {
        Some(authorization)
            if api.accepts_jwt && authorization.len() > 7 && authorization[..7].eq_ignore_ascii_case("bearer ") =>
        {
            let token = authorization[7..].trim();
            match loaded.jwt.verify(token, now).await {
                Ok(identity) => Ok(Caller {
                    user_limit_key: format!("u:{}", identity.subject).into(),
                    application_limit_key: None,
                    user: identity.subject.into(),
                    credential: Credential::Jwt,
                    application: None,
                    key_id: None,
                    groups: loaded
                        .compiled
                        .group_ids(identity.groups.iter().map(String::as_str))
                        .into(),
                    now,
                }),
                Err(error) if !error.is_client_error() => Err(Refusal::JwksUnavailable),
                Err(error) => {
                    let challenge = format!("{}, {}", api_key_challenge(api), error.www_authenticate(REALM));
                    let challenge = HeaderValue::try_from(challenge).unwrap_or(HeaderValue::from_static("Bearer"));
                    Err(Refusal::JwtRejected {
                        rule: error.rule(),
                        reason: error.to_string(),
                        challenge,
                    })
                }
            }
        }
        _ if api.accepts_client_certificate => by_client_certificate(loaded, api, peer, now),
        _ => Err(Refusal::CredentialsMissing {
            api: api.name.to_string(),
            challenge: challenge(api),
        }),
    }
}

fn api_key<'r>(api: &CompiledApi, request: &'r Request<Incoming>) -> Option<&'r str> {
    if let Some(value) = request.headers().get(&api.api_key_header) {
        return value.to_str().ok().map(str::trim);
    }
    let name = api.api_key_query.as_deref()?;
    request.uri().query()?.split('&').find_map(|pair| {
        let (key, value) = pair.split_once('=')?;
        (key == name).then_some(value)
    })
}

fn by_api_key(loaded: &Loaded, api: &CompiledApi, key: &str, now: SystemTime) -> Result<Caller, Refusal> {
    let hash: [u8; 32] = Sha256::digest(key.as_bytes()).into();
    let Some((key, consumer)) = loaded.compiled.consumers.get(&hash) else {
        return Err(Refusal::ApiKeyUnknown {
            challenge: challenge(api),
        });
    };
    if used_and_expired(key, now) {
        let key_id = loaded.compiled.consumers.key_id(key).to_owned();
        return Err(Refusal::ApiKeyExpired {
            key_id,
            challenge: challenge(api),
        });
    }
    Ok(caller(key, consumer, Credential::ApiKey, now))
}

/// The consumer of the connection's client certificate, by its SHA-256 fingerprint. The
/// handshake has verified it against the snapshot's client CA; this says whose it is.
fn by_client_certificate(loaded: &Loaded, api: &CompiledApi, peer: &Peer, now: SystemTime) -> Result<Caller, Refusal> {
    let Some(certificate) = &peer.client_certificate else {
        let why = match peer.transport {
            crate::tls::Transport::Plain { .. } => NoCertificate::PlainHttp,
            crate::tls::Transport::Tls if loaded.compiled.tls.client_verifier.is_none() => NoCertificate::NotRequested,
            crate::tls::Transport::Tls => NoCertificate::NotPresented,
        };
        return Err(Refusal::ClientCertificateMissing {
            api: api.name.to_string(),
            why,
            accepts_jwt: api.accepts_jwt,
            challenge: challenge(api),
        });
    };
    let Some((entry, consumer)) = loaded.compiled.consumers.get_certificate(&certificate.sha256) else {
        return Err(Refusal::ClientCertificateUnknown {
            fingerprint: certificate.sha256_hex.clone(),
            subject: certificate.subject.clone(),
            challenge: challenge(api),
        });
    };
    if used_and_expired(entry, now) {
        return Err(Refusal::ClientCertificateExpired {
            key_id: loaded.compiled.consumers.key_id(entry).to_owned(),
            challenge: challenge(api),
        });
    }
    Ok(caller(entry, consumer, Credential::ClientCertificate, now))
}

/// Records the credential's use at `now`, and says whether it has expired by then.
fn used_and_expired(entry: &CredentialEntry, now: SystemTime) -> bool {
    let seconds = now.duration_since(UNIX_EPOCH).map_or(0, |since| since.as_secs() as i64);
    entry.touch(seconds as u32);
    entry.expires_at().is_some_and(|expires_at| seconds >= expires_at)
}

fn caller(entry: &CredentialEntry, consumer: &Consumer, credential: Credential, now: SystemTime) -> Caller {
    Caller {
        user: consumer.user.clone(),
        credential,
        application: Some(consumer.application.clone()),
        key_id: Some(entry.key_id_span()),
        user_limit_key: consumer.user_limit_key.clone(),
        application_limit_key: Some(consumer.application_limit_key.clone()),
        groups: consumer.groups.clone(),
        now,
    }
}

const REALM: &str = "gatehouse";

/// `WWW-Authenticate`: the credentials this API accepts. A client certificate has no HTTP
/// authentication scheme; `ClientCertificate` names it for people and clients reading the list.
fn challenge(api: &CompiledApi) -> HeaderValue {
    let mut value = api_key_challenge(api);
    if api.accepts_jwt {
        value.push_str(r#", Bearer realm="gatehouse""#);
    }
    if api.accepts_client_certificate {
        value.push_str(r#", ClientCertificate realm="gatehouse""#);
    }
    HeaderValue::try_from(value).unwrap_or(HeaderValue::from_static("Bearer"))
}

fn api_key_challenge(api: &CompiledApi) -> String {
    format!(r#"ApiKey realm="{REALM}", header="{}""#, api.api_key_header)
}
