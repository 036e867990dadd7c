//! Sign-in with external OpenID Connect providers: the authorization code flow with PKCE, the
//! state and nonce checked, discovery from the issuer URL, and a configured claim mapped to
//! Gatehouse groups. Users are provisioned at their first sign-in (`hub::domain::sign_in`).

use std::collections::BTreeMap;
use std::time::Duration;

use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use hub::domain::sign_in::{self, ProviderClaims};
use openidconnect::core::{
    CoreAuthDisplay, CoreAuthPrompt, CoreAuthenticationFlow, CoreErrorResponseType, CoreGenderClaim, CoreJsonWebKey,
    CoreJweContentEncryptionAlgorithm, CoreJwsSigningAlgorithm, CoreProviderMetadata, CoreRevocableToken,
    CoreRevocationErrorResponse, CoreTokenIntrospectionResponse, CoreTokenType,
};
use openidconnect::{
    AdditionalClaims, AuthorizationCode, Client, ClientId, ClientSecret, CsrfToken, EmptyExtraTokenFields,
    EndpointMaybeSet, EndpointNotSet, EndpointSet, IdTokenFields, IssuerUrl, Nonce, PkceCodeChallenge,
    PkceCodeVerifier, RedirectUrl, Scope, StandardErrorResponse, StandardTokenResponse, TokenResponse,
};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use tokio::sync::RwLock;
use tower_sessions::Session;

use crate::PortalState;
use crate::config::{PortalConfig, ProviderConfig};
use crate::error::PortalError;

/// Every claim of the ID token beyond the standard ones, so the configured groups claim can be
/// any name.
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
pub struct ExtraClaims(BTreeMap<String, serde_json::Value>);
impl AdditionalClaims for ExtraClaims {}

type TokenResponseWithClaims = StandardTokenResponse<
    IdTokenFields<
        ExtraClaims,
        EmptyExtraTokenFields,
        CoreGenderClaim,
        CoreJweContentEncryptionAlgorithm,
        CoreJwsSigningAlgorithm,
    >,
    CoreTokenType,
>;

/// A client as discovery makes it: authorization endpoint set, token and userinfo maybe.
type OidcClient = Client<
    ExtraClaims,
    CoreAuthDisplay,
    CoreGenderClaim,
    CoreJweContentEncryptionAlgorithm,
    CoreJsonWebKey,
    CoreAuthPrompt,
    StandardErrorResponse<CoreErrorResponseType>,
    TokenResponseWithClaims,
    CoreTokenIntrospectionResponse,
    CoreRevocableToken,
    CoreRevocationErrorResponse,
    EndpointSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointMaybeSet,
    EndpointMaybeSet,
>;

/// The configured providers, each with its client once discovery has succeeded.
pub struct Providers {
    http: reqwest::Client,
    public_url: String,
    providers: Vec<(ProviderConfig, RwLock<Option<OidcClient>>)>,
}

/// What the session holds between the redirect to the provider and the callback.
#[derive(Serialize, Deserialize)]
struct Pending {
    provider: String,
    state: CsrfToken,
    nonce: Nonce,
    pkce: PkceCodeVerifier,
}

const PENDING_KEY: &str = "oidc_pending";

impl Providers {
    /// Discovers every configured provider; one that fails is logged and tried again at its
    /// next sign-in.
    pub async fn discover(config: &PortalConfig) -> Providers {
        // Redirects are never followed: discovery and token requests go where configured.
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(Duration::from_secs(10))
            .build()
            .expect("an HTTP client builds");
        let mut providers = Providers {
            http,
            public_url: config.effective_public_url(),
            providers: Vec::new(),
        };
        for provider in &config.providers {
            let client = match providers.client_for(provider).await {
                Ok(client) => Some(client),
                Err(error) => {
                    tracing::warn!(provider = %provider.name, %error, "OpenID Connect discovery failed; retried at the next sign-in");
                    None
                }
            };
            providers.providers.push((provider.clone(), RwLock::new(client)));
        }
        providers
    }

    /// The providers to offer: (name, button label).
    pub fn offered(&self) -> Vec<(String, String)> {
        self.providers
            .iter()
            .map(|(provider, _)| {
                let label = provider
                    .label
                    .clone()
                    .unwrap_or_else(|| format!("Sign in with {}", provider.name));
                (provider.name.clone(), label)
            })
            .collect()
    }

    fn redirect_url(&self, provider: &str) -> String {
        format!("{}/sign-in/oidc/{provider}/callback", self.public_url)
    }

    async fn client_for(&self, provider: &ProviderConfig) -> Result<OidcClient, String> {
        let issuer = IssuerUrl::new(provider.issuer.clone()).map_err(|error| format!("issuer: {error}"))?;
        let metadata = CoreProviderMetadata::discover_async(issuer, &self.http)
            .await
            .map_err(|error| format!("discovery: {error}"))?;
        let redirect =
            RedirectUrl::new(self.redirect_url(&provider.name)).map_err(|error| format!("redirect URL: {error}"))?;
        Ok(OidcClient::from_provider_metadata(
            metadata,
            ClientId::new(provider.client_id.clone()),
            Some(ClientSecret::new(provider.client_secret.clone())),
        )
        .set_redirect_uri(redirect))
    }

    /// The provider and its client, discovering it again when `refresh` (its keys may have
    /// rotated) or when it never answered.
    async fn get(&self, name: &str, refresh: bool) -> Result<(&ProviderConfig, OidcClient), PortalError> {
        let (config, slot) = self
            .providers
            .iter()
            .find(|(provider, _)| provider.name == name)
            .ok_or(PortalError::NotFound)?;
        if !refresh && let Some(client) = slot.read().await.clone() {
            return Ok((config, client));
        }
        let client = self.client_for(config).await.map_err(|error| {
            tracing::warn!(provider = %name, %error, "OpenID Connect discovery failed");
            PortalError::SignInRefused(format!(
                "the identity provider `{name}` cannot be reached; try again later"
            ))
        })?;
        *slot.write().await = Some(client.clone());
        Ok((config, client))
    }
}

/// `GET /sign-in/oidc/{provider}`: remembers a fresh state, nonce and PKCE verifier in the
/// session, then sends the browser to the provider.
pub async fn start(
    State(state): State<PortalState>,
    session: Session,
    Path(provider): Path<String>,
) -> Result<Response, PortalError> {
    let (config, client) = state.providers.get(&provider, false).await?;
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let mut request = client.authorize_url(
        CoreAuthenticationFlow::AuthorizationCode,
        CsrfToken::new_random,
        Nonce::new_random,
    );
    for scope in &config.scopes {
        request = request.add_scope(Scope::new(scope.clone()));
    }
    let (url, csrf_state, nonce) = request.set_pkce_challenge(challenge).url();
    let pending = Pending {
        provider,
        state: csrf_state,
        nonce,
        pkce: verifier,
    };
    session.insert(PENDING_KEY, &pending).await?;
    Ok(Redirect::to(url.as_str()).into_response())
}

/// What the provider sends back.
#[derive(Debug, Deserialize)]
pub struct CallbackParams {
    code: Option<String>,
    state: Option<String>,
    error: Option<String>,
    error_description: Option<String>,
}

/// `GET /sign-in/oidc/{provider}/callback`: checks the state against the session, exchanges the
/// code (with the PKCE verifier), verifies the ID token (signature, issuer, audience, expiry,
/// nonce), maps the groups claim, and signs the user in.
pub async fn callback(
    State(state): State<PortalState>,
    session: Session,
    Path(provider): Path<String>,
    Query(params): Query<CallbackParams>,
) -> Result<Response, PortalError> {
    // The pending sign-in is taken out first: whatever happens next, it cannot be used twice.
    let pending: Option<Pending> = session.remove(PENDING_KEY).await?;
    if let Some(error) = &params.error {
        let detail = params.error_description.as_deref().unwrap_or("");
        return Err(PortalError::SignInRefused(format!(
            "the identity provider refused the sign-in: {error} {detail}"
        )));
    }
    let pending = pending.filter(|pending| pending.provider == provider).ok_or_else(|| {
        PortalError::SignInRefused("no sign-in with this provider was started in this browser".into())
    })?;
    let given_state = params.state.as_deref().unwrap_or("");
    if Sha256::digest(pending.state.secret().as_bytes()) != Sha256::digest(given_state.as_bytes()) {
        return Err(PortalError::SignInRefused(
            "the sign-in's state does not match the one this browser started (a forged or stale callback)".into(),
        ));
    }
    let code = params
        .code
        .ok_or_else(|| PortalError::SignInRefused("the identity provider sent no code".into()))?;
    let (config, client) = state.providers.get(&provider, false).await?;
    let exchange = client
        .exchange_code(AuthorizationCode::new(code))
        .map_err(|error| PortalError::SignInRefused(format!("the provider has no token endpoint: {error}")))?
        .set_pkce_verifier(pending.pkce);
    let tokens = exchange.request_async(&state.providers.http).await.map_err(|error| {
        tracing::info!(%provider, %error, "code exchange refused");
        PortalError::SignInRefused(format!(
            "the identity provider refused the code (used already, or expired): {error}"
        ))
    })?;
    let id_token = tokens
        .id_token()
        .ok_or_else(|| PortalError::SignInRefused("the identity provider sent no ID token".into()))?;
    let claims = match id_token.claims(&client.id_token_verifier(), &pending.nonce) {
        Ok(claims) => claims.clone(),
        // An unknown signing key may mean the provider rotated its keys: discover again once.
        Err(openidconnect::ClaimsVerificationError::SignatureVerification(_)) => {
            let (_, client) = state.providers.get(&provider, true).await?;
            id_token
                .claims(&client.id_token_verifier(), &pending.nonce)
                .map_err(|error| PortalError::SignInRefused(format!("the ID token is not valid: {error}")))?
                .clone()
        }
        Err(error) => {
            return Err(PortalError::SignInRefused(format!(
                "the ID token is not valid: {error}"
            )));
        }
    };
    let groups = match claims.additional_claims().0.get(&config.groups_claim) {
        Some(serde_json::Value::Array(values)) => values
            .iter()
            .filter_map(|value| value.as_str().map(str::to_owned))
            .collect(),
        Some(serde_json::Value::String(value)) => value
            .split([',', ' '])
            .filter(|group| !group.is_empty())
            .map(str::to_owned)
            .collect(),
        _ => Vec::new(),
    };
    let user = sign_in::with_provider(
        &state.store,
        ProviderClaims {
            provider: provider.clone(),
            subject: claims.subject().as_str().to_owned(),
            preferred_name: claims.preferred_username().map(|name| name.as_str().to_owned()),
            email: claims.email().map(|email| email.as_str().to_owned()),
            display_name: claims
                .name()
                .and_then(|name| name.get(None))
                .map(|name| name.as_str().to_owned()),
            groups,
        },
    )
    .await?;
    crate::session::begin(&state.store, &session, &user).await?;
    tracing::info!(user = %user.name, %provider, "signed in to the portal through OpenID Connect");
    Ok(Redirect::to("/apis").into_response())
}
