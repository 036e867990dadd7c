//! Usage summaries: requests counted per API, version, user, application, API key and status
//! class, each with a histogram of the time spent in the gateway in fixed millisecond buckets,
//! until the hub reporter drains them (`source::hub::usage`, once a period). This is what the hub
//! stores and charts; Prometheus is `metrics`' job, and its `consumer_labels` switch does not
//! apply here. A request no API was found for is not usage of any API, and is not counted.
//!
//! Data structure: a fixed array of shards, each a `Mutex` over a `hashbrown::HashTable` of
//! entries. A thread keeps to one shard (dealt round robin on its first request), so a proxy
//! worker takes a lock no other worker takes, and only the drain, once a period, meets it there.
//! The lookup hashes the API's and version's precomputed label hashes with the caller's strings
//! and compares the request's borrowed values with an entry's fields, so a key seen before costs
//! one uncontended lock, one hash, one probe and one addition, and allocates nothing. A key new
//! since the last drain costs its entry and a copy of the key id (the other strings are the
//! snapshot's, shared). The drain takes every count, and drops the entries that had none since
//! the drain before.

use std::cell::Cell;
use std::hash::BuildHasher;
use std::num::NonZero;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use hashbrown::HashTable;

use super::metrics::{Label, RouteMetrics};
use super::{Outcome, STATUS_CLASSES, status_class};

/// Upper bounds (inclusive) of the latency buckets, in milliseconds; one more bucket takes
/// everything slower. Part of the usage body's contract: the hub reads its histograms with them.
pub const LATENCY_BUCKETS_MS: [u64; 13] = [1, 2, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000];
/// Latency buckets per summary, the open-ended last one included.
pub const N_LATENCY_BUCKETS: usize = LATENCY_BUCKETS_MS.len() + 1;

/// A shard takes no new key past this many; requests of keys turned away are counted, and said
/// at the next drain. Reached only by a flood of distinct callers within one period.
const MAX_KEYS_PER_SHARD: usize = 1 << 16;
/// Shards per core: every proxy worker (one per core by default) gets one of its own.
const SHARDS_PER_CORE: usize = 2;

/// Requests counted since the last drain, by key; see the module's documentation.
pub struct UsageAggregator {
    shards: Box<[Mutex<HashTable<Entry>>]>,
    shard_mask: usize,
    /// Requests not counted because their shard was full.
    turned_away: AtomicU64,
}

/// One key's counts since the last drain, as [`UsageAggregator::drain`] hands them out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UsageCounts {
    pub api: Arc<str>,
    /// `None` for an API without versions.
    pub version: Option<Arc<str>>,
    /// `None` for a request refused before it was authenticated.
    pub user: Option<Arc<str>>,
    /// The API key's application (`owner/name`); `None` for a JWT or no credentials.
    pub application: Option<Arc<str>>,
    /// The API key's id; `None` for a JWT or no credentials.
    pub key: Option<Arc<str>>,
    /// `1xx` to `5xx`.
    pub status_class: &'static str,
    /// Requests per latency bucket ([`LATENCY_BUCKETS_MS`]); they add up to the requests.
    pub latency_ms_buckets: [u64; N_LATENCY_BUCKETS],
}

impl UsageCounts {
    /// The requests counted: the sum of the buckets.
    pub fn requests(&self) -> u64 {
        self.latency_ms_buckets.iter().sum()
    }
}

impl Default for UsageAggregator {
    fn default() -> Self {
        let n_cores = std::thread::available_parallelism().map_or(1, NonZero::get);
        UsageAggregator::with_shards(n_cores * SHARDS_PER_CORE)
    }
}

impl UsageAggregator {
    /// An empty aggregator with two shards per core.
    pub fn new() -> UsageAggregator {
        UsageAggregator::default()
    }

    /// An empty aggregator with `n_shards` shards, rounded up to a power of two.
    pub fn with_shards(n_shards: usize) -> UsageAggregator {
        let n_shards = n_shards.max(1).next_power_of_two();
        UsageAggregator {
            shards: (0..n_shards).map(|_| Mutex::new(HashTable::new())).collect(),
            shard_mask: n_shards - 1,
            turned_away: AtomicU64::new(0),
        }
    }

    /// Counts a finished request of `route` that took `total`.
    pub(super) fn record(&self, outcome: &Outcome<'_>, route: &RouteMetrics, total: Duration) {
        let context = outcome.context;
        let caller = context.caller.as_ref();
        let key = KeyRef {
            api: route.api(),
            version: context
                .routed
                .and_then(|routed| routed.version)
                .map(|_| route.version()),
            user: caller.map(|caller| &caller.user),
            application: caller.and_then(|caller| caller.application.as_ref()),
            key: caller
                .and_then(|caller| caller.key_id)
                .map(|span| outcome.loaded.compiled.consumers.key_id_at(span)),
            class: status_class(outcome.status) as u8,
        };
        self.add(&key, latency_bucket(total));
    }

    /// Adds one request to `key`'s count in latency bucket `bucket`.
    fn add(&self, key: &KeyRef<'_>, bucket: usize) {
        let hash = key.hash();
        let shard = &self.shards[thread_shard() & self.shard_mask];
        let mut entries = shard.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(entry) = entries.find_mut(hash, |entry| key.matches(entry)) {
            entry.buckets[bucket] += 1;
            return;
        }
        if entries.len() >= MAX_KEYS_PER_SHARD {
            self.turned_away.fetch_add(1, Ordering::Relaxed);
            return;
        }
        let mut entry = key.to_entry(hash);
        entry.buckets[bucket] = 1;
        entries.insert_unique(hash, entry, |entry| entry.hash);
    }

    /// Takes every count since the last drain, one [`UsageCounts`] per key that had requests,
    /// and forgets the keys that had none. Locks one shard at a time, each for a pass over its
    /// entries.
    pub fn drain(&self) -> Vec<UsageCounts> {
        let mut merged: HashTable<(u64, UsageCounts)> = HashTable::new();
        for shard in &self.shards {
            let mut entries = shard.lock().unwrap_or_else(PoisonError::into_inner);
            entries.retain(|entry| {
                if entry.buckets.iter().all(|&count| count == 0) {
                    return false;
                }
                let counts = entry.take();
                // Threads that share a shard share entries; other shards may hold the same key.
                match merged.entry(
                    entry.hash,
                    |(hash, seen)| *hash == entry.hash && same_key(seen, &counts),
                    |(hash, _)| *hash,
                ) {
                    hashbrown::hash_table::Entry::Occupied(mut occupied) => {
                        let seen = &mut occupied.get_mut().1;
                        for (sum, count) in seen.latency_ms_buckets.iter_mut().zip(counts.latency_ms_buckets) {
                            *sum += count;
                        }
                    }
                    hashbrown::hash_table::Entry::Vacant(vacant) => {
                        vacant.insert((entry.hash, counts));
                    }
                }
                true
            });
            // After a burst of distinct keys, give the memory back.
            if entries.capacity() > 64 && entries.len() < entries.capacity() / 4 {
                entries.shrink_to_fit(|entry| entry.hash);
            }
        }
        let turned_away = self.turned_away.swap(0, Ordering::Relaxed);
        if turned_away > 0 {
            tracing::warn!(
                turned_away,
                max_keys_per_shard = MAX_KEYS_PER_SHARD,
                "requests left out of usage summaries: too many distinct callers in one period"
            );
        }
        merged.into_iter().map(|(_, counts)| counts).collect()
    }
}

/// The latency bucket of a request that took `total`.
fn latency_bucket(total: Duration) -> usize {
    let micros = u64::try_from(total.as_micros()).unwrap_or(u64::MAX);
    LATENCY_BUCKETS_US
        .iter()
        .position(|&bound| micros <= bound)
        .unwrap_or(LATENCY_BUCKETS_MS.len())
}

const LATENCY_BUCKETS_US: [u64; LATENCY_BUCKETS_MS.len()] = {
    let mut micros = [0; LATENCY_BUCKETS_MS.len()];
    let mut index = 0;
    while index < micros.len() {
        micros[index] = LATENCY_BUCKETS_MS[index] * 1000;
        index += 1;
    }
    micros
};

thread_local! {
    /// The shard this thread counts in; `usize::MAX` until its first request.
    static THREAD_SHARD: Cell<usize> = const { Cell::new(usize::MAX) };
}

/// Hands out shards to threads in turn.
static NEXT_SHARD: AtomicUsize = AtomicUsize::new(0);

fn thread_shard() -> usize {
    THREAD_SHARD.with(|shard| {
        if shard.get() == usize::MAX {
            shard.set(NEXT_SHARD.fetch_add(1, Ordering::Relaxed) & (usize::MAX >> 1));
        }
        shard.get()
    })
}

/// Hashes the caller's strings; the API's and version's come with their labels. Fixed seed:
/// equal keys hash alike whichever snapshot their strings came from.
const TEXT_HASHER: foldhash::fast::FixedState = foldhash::fast::FixedState::with_seed(0x7573_6167_6573_756d);

struct Entry {
    hash: u64,
    api: Label,
    version: Option<Label>,
    user: Option<Arc<str>>,
    application: Option<Arc<str>>,
    key: Option<Arc<str>>,
    class: u8,
    buckets: [u64; N_LATENCY_BUCKETS],
}

impl Entry {
    /// The entry's counts, leaving them zero.
    fn take(&mut self) -> UsageCounts {
        UsageCounts {
            api: self.api.value().clone(),
            version: self.version.as_ref().map(|version| version.value().clone()),
            user: self.user.clone(),
            application: self.application.clone(),
            key: self.key.clone(),
            status_class: STATUS_CLASSES[self.class as usize],
            latency_ms_buckets: std::mem::take(&mut self.buckets),
        }
    }
}

/// A request's key, borrowed from its outcome and the snapshot.
struct KeyRef<'a> {
    api: &'a Label,
    version: Option<&'a Label>,
    user: Option<&'a Arc<str>>,
    application: Option<&'a Arc<str>>,
    key: Option<&'a str>,
    /// Index into [`STATUS_CLASSES`].
    class: u8,
}

impl KeyRef<'_> {
    fn hash(&self) -> u64 {
        let text = |value: Option<&str>| value.map_or(0, |value| TEXT_HASHER.hash_one(value));
        [
            self.version.map_or(0, Label::hash),
            text(self.user.map(|user| &**user)),
            text(self.application.map(|application| &**application)),
            text(self.key),
        ]
        .into_iter()
        .fold(self.api.hash() ^ u64::from(self.class), |mixed, hash| {
            (mixed.rotate_left(17) ^ hash).wrapping_mul(0x9e37_79b9_7f4a_7c15)
        })
    }

    fn matches(&self, entry: &Entry) -> bool {
        entry.class == self.class
            && entry.api == *self.api
            && entry.version.as_ref() == self.version
            && same_text(entry.user.as_ref(), self.user.map(|user| &**user))
            && same_text(
                entry.application.as_ref(),
                self.application.map(|application| &**application),
            )
            && entry.key.as_deref() == self.key
    }

    fn to_entry(&self, hash: u64) -> Entry {
        Entry {
            hash,
            api: self.api.clone(),
            version: self.version.cloned(),
            user: self.user.cloned(),
            application: self.application.cloned(),
            key: self.key.map(Arc::from),
            class: self.class,
            buckets: [0; N_LATENCY_BUCKETS],
        }
    }
}

fn same_text(stored: Option<&Arc<str>>, seen: Option<&str>) -> bool {
    match (stored, seen) {
        (None, None) => true,
        (Some(stored), Some(seen)) => std::ptr::eq(&**stored, seen) || **stored == *seen,
        _ => false,
    }
}

fn same_key(left: &UsageCounts, right: &UsageCounts) -> bool {
    left.status_class == right.status_class
        && left.api == right.api
        && left.version == right.version
        && left.user == right.user
        && left.application == right.application
        && left.key == right.key
}

#[cfg(test)]
mod tests;
