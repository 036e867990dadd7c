//! The portal's configuration: one typed struct, filled by the binary from flags, `GATEHOUSE_*`
//! environment variables and the configuration file.

use std::net::SocketAddr;

/// Everything the portal role needs to start.
#[derive(Clone, Debug)]
pub struct PortalConfig {
    /// Which settings object of the hub (`kind: Portal`) this portal reads.
    pub name: String,
    /// Where the portal listens.
    pub listen: SocketAddr,
    /// The gateway's base URL: try-it sends requests there and nowhere else.
    pub gateway_url: String,
    /// The gateway's admin port, asked for each user's current usage of their plan; without it
    /// the API page shows the plan but not the usage.
    pub gateway_admin_url: Option<String>,
    /// The portal's own public base URL (for OpenID Connect redirects); defaults to
    /// `http://<listen>`.
    pub public_url: Option<String>,
    /// When session cookies carry `Secure`.
    pub secure_cookies: SecureCookies,
    /// Whether anyone may create an account (a developer in no group) from the sign-in page,
    /// unless the portal's settings in the hub say otherwise.
    pub self_sign_up: bool,
    /// External OpenID Connect providers offered on the sign-in page.
    pub providers: Vec<ProviderConfig>,
    /// Largest form or try-it body accepted, in bytes.
    pub max_body_bytes: usize,
}

/// Default portal address.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:8090";

impl Default for PortalConfig {
    fn default() -> Self {
        PortalConfig {
            name: "default".into(),
            listen: DEFAULT_LISTEN.parse().expect("valid default address"),
            gateway_url: "http://127.0.0.1:8000".into(),
            gateway_admin_url: None,
            public_url: None,
            secure_cookies: SecureCookies::Auto,
            self_sign_up: false,
            providers: Vec::new(),
            max_body_bytes: 1024 * 1024,
        }
    }
}

impl PortalConfig {
    /// The base URL users reach the portal at, without a trailing slash.
    pub fn effective_public_url(&self) -> String {
        let url = self
            .public_url
            .clone()
            .unwrap_or_else(|| format!("http://{}", self.listen));
        url.trim_end_matches('/').to_owned()
    }
}

pub use hub::web::cookies::SecureCookies;

/// An OpenID Connect provider.
#[derive(Clone, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProviderConfig {
    /// A slug naming the provider in URLs and in linked identities (`okta`, `entra`).
    pub name: String,
    /// What the sign-in button says ("Sign in with Okta").
    #[serde(default)]
    pub label: Option<String>,
    /// The issuer URL; its `/.well-known/openid-configuration` is read at start.
    pub issuer: String,
    pub client_id: String,
    pub client_secret: String,
    /// The ID token claim whose values are Gatehouse group names.
    #[serde(default = "default_groups_claim")]
    pub groups_claim: String,
    /// Scopes asked for besides `openid`.
    #[serde(default = "default_scopes")]
    pub scopes: Vec<String>,
}

fn default_groups_claim() -> String {
    "groups".into()
}

fn default_scopes() -> Vec<String> {
    vec!["email".into(), "profile".into(), "groups".into()]
}

// Written by hand so that the client secret never reaches a log line.
impl std::fmt::Debug for ProviderConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ProviderConfig")
            .field("name", &self.name)
            .field("issuer", &self.issuer)
            .field("client_id", &self.client_id)
            .field("client_secret", &"***")
            .field("groups_claim", &self.groups_claim)
            .field("scopes", &self.scopes)
            .finish()
    }
}
