//! Step 2, authenticate: who is calling. An API key (from the API's header, or its query
//! parameter where the API allows one) is looked up by SHA-256; a bearer JWT is verified
//! against its issuer's keys. No credential, or a bad one, is a 401 with a challenge.

use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use http::{HeaderValue, Request};
use hyper::body::Incoming;
use sha2::{Digest, Sha256};

use crate::access::GroupId;
use crate::compiled::{CompiledApi, KeyIdSpan};
use crate::refusal::Refusal;
use crate::runtime::Loaded;

/// The authenticated caller.
#[derive(Debug, Clone)]
pub struct Caller {
    pub user: Arc<str>,
    /// The application of an API key; absent for a JWT.
    pub application: Option<Arc<str>>,
    /// The API key's id, in the snapshot's table of keys ([`Consumers::key_id_at`]); absent
    /// for a JWT.
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

pub(super) async fn authenticate(
    loaded: &Loaded,
    api: &CompiledApi,
    request: &Request<Incoming>,
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
    let seconds = now.duration_since(UNIX_EPOCH).map_or(0, |since| since.as_secs() as i64);
    key.touch(seconds as u32);
    if key.expires_at().is_some_and(|expires_at| seconds >= expires_at) {
        let key_id = loaded.compiled.consumers.key_id(key).to_owned();
        return Err(Refusal::ApiKeyExpired {
            key_id,
            challenge: challenge(api),
        });
    }
    Ok(Caller {
        user: consumer.user.clone(),
        application: Some(consumer.application.clone()),
        key_id: Some(key.key_id_span()),
        user_limit_key: consumer.user_limit_key.clone(),
        application_limit_key: Some(consumer.application_limit_key.clone()),
        groups: consumer.groups.clone(),
        now,
    })
}

const REALM: &str = "gatehouse";

/// `WWW-Authenticate`: the credentials this API accepts.
fn challenge(api: &CompiledApi) -> HeaderValue {
    let mut value = api_key_challenge(api);
    if api.accepts_jwt {
        value.push_str(r#", Bearer realm="gatehouse""#);
    }
    HeaderValue::try_from(value).unwrap_or(HeaderValue::from_static("Bearer"))
}

fn api_key_challenge(api: &CompiledApi) -> String {
    format!(r#"ApiKey realm="{REALM}", header="{}""#, api.api_key_header)
}
