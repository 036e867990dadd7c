//! The JWKS cache: issuers' key sets by URL, shared by every snapshot's verifier so that a
//! snapshot swap fetches nothing. It decides when to fetch (first use, expiry, an unknown `kid`),
//! at most one fetch per URL at a time and per `min_refresh_interval`, and keeps serving the
//! last good keys when a fetch fails. The HTTP request itself is `fetch`'s job.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, Weak};
use std::time::{Duration, SystemTime};

use arc_swap::ArcSwapOption;
use hyper::Uri;

use super::error::JwtError;
use super::fetch::JwksClient;
use super::keys::KeySet;

/// How the JWKS cache fetches and keeps key sets.
#[derive(Debug, Clone)]
pub struct JwksCacheSettings {
    /// How long fetched keys are used before a refetch, when the response has no `max-age`.
    pub default_ttl: Duration,
    /// The longest `Cache-Control: max-age` honoured.
    pub max_ttl: Duration,
    /// At most one fetch per URL within this interval, whatever asks for it (expiry, unknown
    /// `kid`s, failures), so a flood of bogus `kid`s cannot hammer the identity provider.
    /// Also the shortest lifetime given to fetched keys.
    pub min_refresh_interval: Duration,
    /// Deadline for one fetch, connection included.
    pub fetch_timeout: Duration,
    /// Largest JWKS response read.
    pub max_jwks_bytes: usize,
}

impl Default for JwksCacheSettings {
    fn default() -> Self {
        JwksCacheSettings {
            default_ttl: Duration::from_secs(5 * 60),
            max_ttl: Duration::from_secs(24 * 60 * 60),
            min_refresh_interval: Duration::from_secs(10),
            fetch_timeout: Duration::from_secs(5),
            max_jwks_bytes: 1024 * 1024,
        }
    }
}

/// Issuers' key sets, keyed by JWKS URL. Cheap to clone; create one per gateway process and hand
/// it to each snapshot's [`super::JwtVerifier`].
#[derive(Clone)]
pub struct JwksCache {
    shared: Arc<CacheShared>,
}

struct CacheShared {
    client: JwksClient,
    settings: JwksCacheSettings,
    // Weak, so a URL that no loaded snapshot names any more is forgotten with its last verifier.
    entries: Mutex<HashMap<String, Weak<JwksEntry>>>,
}

/// One JWKS URL: its last good keys and its fetch bookkeeping.
pub(crate) struct JwksEntry {
    url: String,
    uri: Uri,
    shared: Arc<CacheShared>,
    // Read on every request without a lock; replaced only by a successful fetch.
    current: ArcSwapOption<CachedKeys>,
    fetch_state: Mutex<FetchState>,
    // Held for the length of a fetch: concurrent askers wait and take its result.
    fetch_gate: tokio::sync::Mutex<()>,
}

/// A fetched key set and when it should be refetched.
pub(crate) struct CachedKeys {
    pub key_set: KeySet,
    pub expires_at: SystemTime,
}

#[derive(Default)]
struct FetchState {
    last_attempt: Option<SystemTime>,
    background_refresh_running: bool,
}

impl JwksCache {
    /// An empty cache.
    pub fn new(settings: JwksCacheSettings) -> JwksCache {
        let client = JwksClient::new(settings.fetch_timeout, settings.max_jwks_bytes);
        JwksCache {
            shared: Arc::new(CacheShared {
                client,
                settings,
                entries: Mutex::new(HashMap::new()),
            }),
        }
    }

    /// The entry for `url`, shared with any verifier that already uses it.
    pub(crate) fn entry(&self, url: &str) -> Result<Arc<JwksEntry>, &'static str> {
        let mut entries = lock(&self.shared.entries);
        if let Some(entry) = entries.get(url).and_then(Weak::upgrade) {
            return Ok(entry);
        }
        let uri = parse_jwks_url(url)?;
        entries.retain(|_, entry| entry.strong_count() > 0);
        let entry = Arc::new(JwksEntry {
            url: url.to_owned(),
            uri,
            shared: Arc::clone(&self.shared),
            current: ArcSwapOption::empty(),
            fetch_state: Mutex::new(FetchState::default()),
            fetch_gate: tokio::sync::Mutex::new(()),
        });
        entries.insert(url.to_owned(), Arc::downgrade(&entry));
        Ok(entry)
    }
}

impl Default for JwksCache {
    fn default() -> Self {
        JwksCache::new(JwksCacheSettings::default())
    }
}

impl std::fmt::Debug for JwksCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JwksCache")
            .field("settings", &self.shared.settings)
            .finish_non_exhaustive()
    }
}

// === impl JwksEntry ===

impl JwksEntry {
    /// The keys to verify with now. Cached keys are returned at once, even expired ones, whose
    /// refresh then runs in the background; only when nothing is cached does the caller wait
    /// for a fetch, and get [`JwtError::JwksUnavailable`] if it fails.
    pub async fn key_set(self: &Arc<Self>, now: SystemTime) -> Result<Arc<CachedKeys>, JwtError> {
        if let Some(cached) = self.current.load_full() {
            if now >= cached.expires_at {
                self.spawn_refresh(&cached, now);
            }
            return Ok(cached);
        }
        self.refresh(None, now)
            .await
            .ok_or_else(|| JwtError::JwksUnavailable { url: self.url.clone() })
    }

    /// The keys after a token named a `kid` missing from `seen`: refetched once, unless the set
    /// changed meanwhile or the URL was fetched within `min_refresh_interval`.
    pub async fn key_set_after_unknown_kid(&self, seen: &Arc<CachedKeys>, now: SystemTime) -> Arc<CachedKeys> {
        self.refresh(Some(seen), now).await.unwrap_or_else(|| Arc::clone(seen))
    }

    /// Fetches unless another fetch already replaced `seen` or the rate limit forbids it, and
    /// returns the current keys either way.
    async fn refresh(&self, seen: Option<&Arc<CachedKeys>>, now: SystemTime) -> Option<Arc<CachedKeys>> {
        let _gate = self.fetch_gate.lock().await;
        let current = self.current.load_full();
        let replaced = match (&current, seen) {
            (Some(current), Some(seen)) => !Arc::ptr_eq(current, seen),
            (current, None) => current.is_some(),
            (None, Some(_)) => false,
        };
        if replaced || !self.may_fetch(now) {
            return current;
        }
        self.fetch(now).await;
        self.current.load_full()
    }

    /// Starts a background refresh of expired keys, unless one is running or rate-limited.
    fn spawn_refresh(self: &Arc<Self>, seen: &Arc<CachedKeys>, now: SystemTime) {
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return;
        };
        {
            let mut fetch_state = lock(&self.fetch_state);
            if fetch_state.background_refresh_running || !self.may_fetch_locked(&fetch_state, now) {
                return;
            }
            fetch_state.background_refresh_running = true;
        }
        let entry = Arc::clone(self);
        let seen = Arc::clone(seen);
        runtime.spawn(async move {
            // Cleared on drop, so a panicking fetch cannot block refreshes for good.
            let _running = BackgroundRefresh(&entry);
            entry.refresh(Some(&seen), now).await;
        });
    }

    fn may_fetch(&self, now: SystemTime) -> bool {
        self.may_fetch_locked(&lock(&self.fetch_state), now)
    }

    fn may_fetch_locked(&self, fetch_state: &FetchState, now: SystemTime) -> bool {
        match fetch_state.last_attempt {
            None => true,
            Some(last_attempt) => match now.duration_since(last_attempt) {
                Ok(elapsed) => elapsed >= self.shared.settings.min_refresh_interval,
                // A little behind is a request that began before the last fetch; a clock stepped
                // back further allows a fetch rather than freezing the keys until it catches up.
                Err(behind) => behind.duration() >= self.shared.settings.min_refresh_interval,
            },
        }
    }

    /// One fetch; on success the new keys replace the old, on failure the old stay.
    async fn fetch(&self, now: SystemTime) {
        let url = self.url.as_str();
        let settings = &self.shared.settings;
        let outcome = self.shared.client.get(&self.uri).await;
        lock(&self.fetch_state).last_attempt = Some(now);
        let response = match outcome {
            Ok(response) => response,
            Err(error) => {
                tracing::warn!(url, %error, "JWKS fetch failed; keeping the cached keys, if any");
                return;
            }
        };
        let key_set = match KeySet::from_jwks_bytes(&response.body) {
            Ok(key_set) => key_set,
            Err(reason) => {
                tracing::warn!(url, reason, "JWKS response is not a JWK Set; keeping the cached keys");
                return;
            }
        };
        let ttl = response
            .max_age
            .unwrap_or(settings.default_ttl)
            .min(settings.max_ttl)
            .max(settings.min_refresh_interval);
        tracing::info!(url, n_keys = key_set.len(), ttl_seconds = ttl.as_secs(), "JWKS fetched");
        self.current.store(Some(Arc::new(CachedKeys {
            key_set,
            expires_at: now + ttl,
        })));
    }
}

/// Marks an entry's background refresh finished when dropped.
struct BackgroundRefresh<'e>(&'e JwksEntry);

impl Drop for BackgroundRefresh<'_> {
    fn drop(&mut self) {
        lock(&self.0.fetch_state).background_refresh_running = false;
    }
}

/// Checks a JWKS URL: absolute, http or https, with a host.
pub(crate) fn parse_jwks_url(url: &str) -> Result<Uri, &'static str> {
    let uri: Uri = url.parse().map_err(|_| "it is not a valid URL")?;
    if !matches!(uri.scheme_str(), Some("http" | "https")) {
        return Err("it must start with http:// or https://");
    }
    if uri.host().is_none_or(str::is_empty) {
        return Err("it has no host");
    }
    Ok(uri)
}

// The data behind these mutexes stays consistent at every await-free step, so a panic elsewhere
// leaves nothing half-written: recover instead of spreading the poison.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

#[cfg(test)]
mod tests;
