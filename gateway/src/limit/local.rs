//! The in-memory store: each (plan, key)'s state in this process, for a single gateway (the
//! default) and for tests. The rule is `decide`'s; this module only keeps state.
//!
//! Data structure: a fixed array of shards, each a `Mutex` over a `hashbrown::HashTable` of entries
//! found by a foldhash of (plan, key). A check locks one shard for a lookup and a few additions;
//! there is no global lock, and with 4 shards per core two requests rarely meet. `HashTable` lets the
//! lookup compare the borrowed `(plan, key)` with an entry's fields, so a known key costs no
//! allocation; a new key costs one (its text) plus the table's growth. Idle entries (burst whole
//! again, no quota counted in a current period) are swept from a shard when it reaches twice its
//! size after the last sweep, so memory follows the number of active keys and the sweep's cost is
//! spread over the insertions that made it necessary.

use std::fmt;
use std::hash::BuildHasher;
use std::num::NonZero;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::SystemTime;

use hashbrown::HashTable;

use super::decide::{KeyState, decide};
use super::decision::Decision;
use super::plan::PlanLimits;
use super::unix_micros;
use super::usage::{Usage, usage};

/// A shard is never swept below this many entries: sweeping a small table gains nothing.
const MIN_SWEEP_LEN: usize = 64;
/// Shards per core: enough that two requests rarely meet on a lock.
const SHARDS_PER_CORE: usize = 4;

/// Counts kept in this process's memory; each gateway replica counts on its own.
pub struct LocalLimiter {
    shards: Box<[Mutex<Shard>]>,
    shard_mask: usize,
    hasher: foldhash::fast::RandomState,
}

struct Shard {
    entries: HashTable<Entry>,
    /// Sweep idle entries before an insertion when the shard holds this many.
    sweep_at_len: usize,
}

struct Entry {
    hash: u64,
    plan: Arc<str>,
    key: Box<str>,
    state: KeyState,
}

impl Default for LocalLimiter {
    fn default() -> Self {
        let n_cores = std::thread::available_parallelism().map_or(1, NonZero::get);
        LocalLimiter::with_shards(n_cores * SHARDS_PER_CORE)
    }
}

impl LocalLimiter {
    /// An empty limiter with 4 shards per core.
    pub fn new() -> Self {
        LocalLimiter::default()
    }

    /// An empty limiter with `n_shards` shards, rounded up to a power of two.
    pub fn with_shards(n_shards: usize) -> Self {
        let n_shards = n_shards.max(1).next_power_of_two();
        let shards = (0..n_shards)
            .map(|_| {
                Mutex::new(Shard {
                    entries: HashTable::new(),
                    sweep_at_len: MIN_SWEEP_LEN,
                })
            })
            .collect();
        LocalLimiter {
            shards,
            shard_mask: n_shards - 1,
            hasher: foldhash::fast::RandomState::default(),
        }
    }

    /// Decides a request by `key` under `limits` at `now`, and counts it if allowed. Never waits on
    /// anything but one shard's lock, held for the lookup.
    pub fn check(&self, key: &str, limits: &PlanLimits, now: SystemTime) -> Decision {
        if limits.is_unlimited() {
            return Decision::unlimited();
        }
        let now_us = unix_micros(now);
        let plan = limits.plan();
        let hash = self.hasher.hash_one((plan, key));
        // The table picks buckets with the hash's low bits; the shard takes higher ones.
        let shard = &self.shards[(hash >> 32) as usize & self.shard_mask];
        let mut shard = shard.lock().unwrap_or_else(PoisonError::into_inner);
        let found = shard
            .entries
            .find_mut(hash, |entry| *entry.key == *key && *entry.plan == *plan);
        if let Some(entry) = found {
            let outcome = decide(limits, &entry.state, now_us);
            if let Some(next) = outcome.next {
                entry.state = next;
            }
            return outcome.decision;
        }
        let outcome = decide(limits, &KeyState::default(), now_us);
        if let Some(state) = outcome.next {
            shard.sweep_if_due(now_us);
            let entry = Entry {
                hash,
                plan: Arc::clone(limits.plan_arc()),
                key: key.into(),
                state,
            };
            shard.entries.insert_unique(hash, entry, |entry| entry.hash);
        }
        outcome.decision
    }

    /// The key's usage under `limits` at `now`, counting nothing.
    pub fn usage(&self, key: &str, limits: &PlanLimits, now: SystemTime) -> Usage {
        let plan = limits.plan();
        let hash = self.hasher.hash_one((plan, key));
        let shard = &self.shards[(hash >> 32) as usize & self.shard_mask];
        let shard = shard.lock().unwrap_or_else(PoisonError::into_inner);
        let state = shard
            .entries
            .find(hash, |entry| *entry.key == *key && *entry.plan == *plan)
            .map_or_else(KeyState::default, |entry| entry.state);
        usage(limits, &state, unix_micros(now))
    }

    /// How many (plan, key) states are held, idle ones not yet swept included.
    pub fn tracked_keys(&self) -> usize {
        self.shards
            .iter()
            .map(|shard| shard.lock().unwrap_or_else(PoisonError::into_inner).entries.len())
            .sum()
    }
}

impl fmt::Debug for LocalLimiter {
    // By hand: the entries are the keys of every consumer, not something to print.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LocalLimiter")
            .field("n_shards", &self.shards.len())
            .finish_non_exhaustive()
    }
}

impl Shard {
    /// Drops idle entries once the shard has doubled since the last sweep, and gives back the room.
    fn sweep_if_due(&mut self, now_us: u64) {
        if self.entries.len() < self.sweep_at_len {
            return;
        }
        self.entries.retain(|entry| entry.state.idle_from_us() > now_us);
        self.sweep_at_len = (self.entries.len() * 2).max(MIN_SWEEP_LEN);
        self.entries.shrink_to(self.sweep_at_len, |entry| entry.hash);
    }
}

#[cfg(test)]
mod tests;
