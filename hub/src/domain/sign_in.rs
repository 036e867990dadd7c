//! Signing in to the portal: with a password (backing off after repeated failures), or as the
//! user an identity provider vouches for (provisioned at the first sign-in); and self sign-up.

use chrono::Utc;

use super::objects::{get_in, insert_in, save_in};
use crate::error::HubError;
use crate::identity::{Actor, password, secret};
use crate::model::user::{MAX_PASSWORD_LEN, MIN_PASSWORD_LEN, UserInput};
use crate::model::{AuditAction, ExternalIdentity, Group, Kind, Record, Role, User};
use crate::store::Store;

/// Failed attempts allowed before the account is locked.
pub const FREE_FAILURES: i64 = 5;
/// The first lock; each further failure doubles it, up to [`MAX_LOCK_SECONDS`].
pub const FIRST_LOCK_SECONDS: i64 = 30;
pub const MAX_LOCK_SECONDS: i64 = 15 * 60;

/// Why a password sign-in failed.
#[derive(Debug, thiserror::Error)]
pub enum SignInError {
    /// Deliberately vague: it does not say whether the user exists.
    #[error("the user name or password is wrong")]
    Wrong,
    #[error("too many failed sign-ins for this account: try again in {retry_after} s")]
    Locked { retry_after: i64 },
    #[error(transparent)]
    Hub(#[from] HubError),
}

impl From<crate::store::StoreError> for SignInError {
    fn from(error: crate::store::StoreError) -> Self {
        SignInError::Hub(error.into())
    }
}

/// Checks a user name and password. The account's failures count whether or not the user
/// exists, so the lock does not reveal who does. An attempt is counted before its password is
/// checked (the count is cleared on success), so guesses sent in parallel cannot all pass the
/// lock check before any of them is counted: at most [`FREE_FAILURES`] are checked, then one per
/// lock.
pub async fn with_password(store: &Store, name: &str, given: &str) -> Result<User, SignInError> {
    let account = name.trim().to_ascii_lowercase();
    let now = Utc::now().timestamp_millis();
    let lock_after = |failures: i64| {
        let doublings = (failures - FREE_FAILURES).clamp(0, 16) as u32;
        (FIRST_LOCK_SECONDS << doublings).min(MAX_LOCK_SECONDS)
    };
    let mut tx = store.begin().await?;
    let failures = tx.sign_in_failures(&account).await?;
    if let Some((_, locked_until)) = failures.filter(|(_, locked_until)| *locked_until > now) {
        tx.commit().await?;
        return Err(SignInError::Locked {
            retry_after: (locked_until - now + 999) / 1000,
        });
    }
    let counted_before = failures.map_or(0, |(failures, _)| failures);
    let attempt = tx.count_sign_in_failure(&account).await?;
    // Past the free attempts, only the first attempt after a lock ran out is checked; one that
    // another attempt in flight overtook waits out the lock unchecked.
    if attempt > FREE_FAILURES && attempt != counted_before + 1 {
        let lock = lock_after(attempt - 1);
        tx.set_sign_in_lock(&account, now + lock * 1000).await?;
        tx.commit().await?;
        return Err(SignInError::Locked { retry_after: lock });
    }
    if attempt >= FREE_FAILURES {
        // Locked before the check, not after it: attempts arriving while this one is checked
        // find the lock. A right password lifts it.
        tx.set_sign_in_lock(&account, now + lock_after(attempt) * 1000).await?;
    }
    tx.commit().await?;
    match verify_password(store, &account, given).await? {
        Some(user) => {
            let mut tx = store.begin().await?;
            tx.clear_sign_in_failures(&account).await?;
            tx.commit().await?;
            Ok(user)
        }
        None => Err(SignInError::Wrong),
    }
}

/// The enabled user with this name and password, if any. Argon2 runs on the blocking pool;
/// a missing user is checked against a dummy hash, so timing does not reveal who exists.
pub async fn verify_password(store: &Store, name: &str, given: &str) -> Result<Option<User>, HubError> {
    let mut tx = store.begin().await?;
    let user = get_in::<User>(&mut tx, name).await?.map(|record| record.object);
    tx.commit().await?;
    let hash = user
        .as_ref()
        .and_then(|user| user.password_hash.clone())
        .unwrap_or_else(|| DUMMY_HASH.clone());
    let given = given.to_owned();
    let matches = tokio::task::spawn_blocking(move || password::verify(&given, &hash))
        .await
        .unwrap_or(false);
    Ok(user.filter(|user| matches && !user.disabled))
}

/// A hash of a random password, verified against when the user does not exist.
static DUMMY_HASH: std::sync::LazyLock<String> =
    std::sync::LazyLock::new(|| password::hash(&secret::generate("dummy").value));

/// What someone signing themselves up gives.
#[derive(Debug, Clone)]
pub struct SignUp {
    pub name: String,
    pub email: Option<String>,
    pub display_name: String,
    pub password: String,
}

/// Creates a developer account in no group: it sees nothing until an admin grants it.
pub async fn sign_up(store: &Store, sign_up: SignUp) -> Result<Record<User>, HubError> {
    let input = UserInput {
        name: sign_up.name.clone(),
        email: sign_up.email.filter(|email| !email.trim().is_empty()),
        display_name: sign_up.display_name,
        role: Role::Developer,
        groups: Vec::new(),
        disabled: false,
        password: Some(sign_up.password),
    };
    let actor = Actor {
        name: format!("sign-up:{}", sign_up.name),
        role: Role::Developer,
    };
    super::objects::create::<User>(store, &actor, input).await
}

/// What an identity provider said about who signed in.
#[derive(Debug, Clone)]
pub struct ProviderClaims {
    /// The provider's name in the portal's configuration.
    pub provider: String,
    pub subject: String,
    /// A name to derive the user name from (preferred_username, or the email's local part).
    pub preferred_name: Option<String>,
    pub email: Option<String>,
    pub display_name: Option<String>,
    /// Group names from the configured claim; ones the hub does not know are ignored.
    pub groups: Vec<String>,
}

/// The user an identity provider's account signs in as: found by (provider, subject), or
/// created at the first sign-in. Its groups follow the provider's claim at every sign-in.
pub async fn with_provider(store: &Store, claims: ProviderClaims) -> Result<User, HubError> {
    let identity = ExternalIdentity {
        provider: claims.provider.clone(),
        subject: claims.subject.clone(),
    };
    let actor = Actor {
        name: format!("oidc:{}", claims.provider),
        role: Role::Admin,
    };
    let mut tx = store.begin().await?;
    let mut groups = Vec::new();
    for group in &claims.groups {
        if !groups.contains(group) && get_in::<Group>(&mut tx, group).await?.is_some() {
            groups.push(group.clone());
        }
    }
    let claim = format!("{}\n{}", identity.provider, identity.subject);
    let linked = tx.claim_holder("external_identity", &claim).await?;
    let user = match linked {
        Some(holder) => {
            let previous = get_in::<User>(&mut tx, &holder.key)
                .await?
                .ok_or_else(|| HubError::Conflict {
                    detail: "the linked user is gone".into(),
                })?;
            let mut user = previous.object.clone();
            user.groups = groups;
            if user.email.is_none() {
                user.email = claims.email.clone();
            }
            save_in(&mut tx, &actor, previous, user).await?.object
        }
        None => {
            let name = free_user_name(&mut tx, &claims).await?;
            let user = User {
                name,
                email: claims.email.clone().filter(|email| email.contains('@')),
                display_name: claims.display_name.clone().unwrap_or_default(),
                role: Role::Developer,
                groups,
                disabled: false,
                password_hash: None,
                identities: vec![identity],
            };
            insert_in(&mut tx, &actor, user).await?.object
        }
    };
    tx.commit().await?;
    if user.disabled {
        return Err(HubError::Forbidden {
            detail: format!("the user `{}` is disabled", user.name),
        });
    }
    Ok(user)
}

/// A user name from the provider's claims, as a slug, made unique with a suffix when taken.
async fn free_user_name(tx: &mut crate::store::Tx, claims: &ProviderClaims) -> Result<String, HubError> {
    let source = claims
        .preferred_name
        .clone()
        .or_else(|| {
            claims
                .email
                .as_deref()
                .and_then(|email| email.split('@').next())
                .map(str::to_owned)
        })
        .unwrap_or_else(|| claims.subject.clone());
    let mut base: String = source
        .to_ascii_lowercase()
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect();
    base = base.trim_matches('-').chars().take(40).collect();
    if base.is_empty() || !base.starts_with(|c: char| c.is_ascii_lowercase()) {
        base = format!("user-{base}").trim_end_matches('-').to_owned();
    }
    if !tx.object_exists(User::KIND, &base).await? {
        return Ok(base);
    }
    for _ in 0..5 {
        let candidate = format!("{base}-{}", &secret::new_id("x")[2..8]);
        if !tx.object_exists(User::KIND, &candidate).await? {
            return Ok(candidate);
        }
    }
    Err(HubError::Conflict {
        detail: format!("no free user name for `{base}`"),
    })
}

/// What a password link is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum LinkPurpose {
    /// A new user sets their first password (valid 7 days).
    Invitation,
    /// A user whose password an admin reset sets a new one (valid 1 day).
    Reset,
}

impl LinkPurpose {
    pub fn as_str(self) -> &'static str {
        match self {
            LinkPurpose::Invitation => "invitation",
            LinkPurpose::Reset => "reset",
        }
    }

    fn lifetime(self) -> chrono::Duration {
        match self {
            LinkPurpose::Invitation => chrono::Duration::days(7),
            LinkPurpose::Reset => chrono::Duration::days(1),
        }
    }
}

/// The secret's marker: `ghpl_…` is a Gatehouse password link.
pub const LINK_MARKER: &str = "ghpl";

/// A new password link's token (shown once) and when it expires.
#[derive(Debug)]
pub struct IssuedLink {
    pub token: String,
    pub user: String,
    pub purpose: LinkPurpose,
    pub expires_at: chrono::DateTime<Utc>,
}

/// Issues a one-time link that sets `user`'s password; older unused links of the user stop working.
pub async fn issue_password_link(
    store: &Store,
    actor: &Actor,
    user: &str,
    purpose: LinkPurpose,
) -> Result<IssuedLink, HubError> {
    actor.require(Role::Admin)?;
    let now = Utc::now();
    let expires_at = now + purpose.lifetime();
    let generated = secret::generate(LINK_MARKER);
    let mut tx = store.begin().await?;
    if get_in::<User>(&mut tx, user).await?.is_none() {
        return Err(super::objects::not_found::<User>(user));
    }
    tx.expire_password_links(user, now.timestamp_millis()).await?;
    tx.insert_password_link(&crate::store::PasswordLinkRow {
        token_hash: generated.hash,
        user_name: user.to_owned(),
        purpose: purpose.as_str().to_owned(),
        created_by: actor.name.clone(),
        created_at: now.timestamp_millis(),
        expires_at: expires_at.timestamp_millis(),
        used_at: None,
    })
    .await?;
    let issued = serde_json::json!({ "user": user, "purpose": purpose, "expires_at": expires_at });
    let audit = super::objects::audit(
        &mut tx,
        actor,
        AuditAction::Create,
        "password_link",
        user,
        None,
        Some(&issued),
    );
    audit.await?;
    tx.commit().await?;
    Ok(IssuedLink {
        token: generated.value,
        user: user.to_owned(),
        purpose,
        expires_at,
    })
}

fn link_refused() -> HubError {
    HubError::NotFound {
        kind: "password link",
        key: "this link".into(),
    }
}

/// The user a password link is for, while it is unused and unexpired.
pub async fn password_link_user(store: &Store, token: &str) -> Result<User, HubError> {
    let now = Utc::now().timestamp_millis();
    let mut tx = store.begin().await?;
    let link = tx.password_link(&secret::hash(token)).await?;
    let link = link
        .filter(|link| link.used_at.is_none() && link.expires_at > now)
        .ok_or_else(link_refused)?;
    let user = get_in::<User>(&mut tx, &link.user_name)
        .await?
        .ok_or_else(link_refused)?;
    tx.commit().await?;
    Ok(user.object)
}

/// Sets the password of a link's user and uses the link up; also lifts a sign-in lock.
pub async fn set_password_with_link(store: &Store, token: &str, new_password: &str) -> Result<User, HubError> {
    let length = new_password.chars().count();
    if !(MIN_PASSWORD_LEN..=MAX_PASSWORD_LEN).contains(&length) {
        return Err(HubError::invalid(
            "password",
            format!("must be {MIN_PASSWORD_LEN} to {MAX_PASSWORD_LEN} characters"),
        ));
    }
    let hash = {
        let given = new_password.to_owned();
        tokio::task::spawn_blocking(move || password::hash(&given))
            .await
            .map_err(|_| HubError::invalid("password", "could not be hashed"))?
    };
    let now = Utc::now().timestamp_millis();
    let token_hash = secret::hash(token);
    let mut tx = store.begin().await?;
    let link = tx.password_link(&token_hash).await?;
    let link = link
        .filter(|link| link.used_at.is_none() && link.expires_at > now)
        .ok_or_else(link_refused)?;
    if !tx.use_password_link(&token_hash, now).await? {
        return Err(link_refused());
    }
    let previous = get_in::<User>(&mut tx, &link.user_name)
        .await?
        .ok_or_else(link_refused)?;
    let mut user = previous.object.clone();
    user.password_hash = Some(hash);
    let actor = Actor {
        name: format!("password-link:{}", link.user_name),
        role: Role::Developer,
    };
    let user = save_in(&mut tx, &actor, previous, user).await?.object;
    tx.clear_sign_in_failures(&user.name).await?;
    tx.commit().await?;
    Ok(user)
}
