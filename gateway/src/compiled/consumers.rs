//! Credentials by hash: the tables authentication looks API keys (by the key's SHA-256) and
//! client certificates (by the certificate's SHA-256 fingerprint) up in. Users and applications
//! are interned, so 100,000 keys of a few thousand users cost little memory.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};

use foldhash::HashMap as FastMap;

use super::{GroupTable, Problems};
use crate::access::GroupId;

/// Who a credential belongs to: a user's application, with the user's groups. Keys and
/// certificates of the same application share one.
#[derive(Debug, Clone)]
pub struct Consumer {
    pub user: Arc<str>,
    pub application: Arc<str>,
    /// The rate-limit keys of the user (`u:<user>`) and the application (`a:<application>`),
    /// made once here rather than per request.
    pub user_limit_key: Arc<str>,
    pub application_limit_key: Arc<str>,
    /// Sorted.
    pub groups: Arc<[GroupId]>,
}

/// One credential (an API key or a client certificate): its id, its consumer, its expiry, when
/// it was last used. Kept small (24 bytes, the id in a shared buffer, the last use in what was
/// padding): a snapshot may hold 100,000 keys, and the key table is most of the gateway's memory.
#[derive(Debug)]
pub struct CredentialEntry {
    key_id_start: u32,
    key_id_len: u32,
    consumer: u32,
    /// Unix seconds of the last request with this credential; 0 for none since the gateway started.
    last_used: AtomicU32,
    /// Unix seconds; `i64::MAX` for a credential that does not expire.
    expires_at: i64,
}

impl CredentialEntry {
    /// Records a use at `now` (Unix seconds). Written at most once a second, so workers using
    /// the same credential rarely contend for its cache line.
    pub fn touch(&self, now: u32) {
        if self.last_used.load(Ordering::Relaxed) != now {
            self.last_used.store(now, Ordering::Relaxed);
        }
    }

    /// Unix seconds of the last use this gateway saw.
    pub fn last_used(&self) -> Option<u32> {
        Some(self.last_used.load(Ordering::Relaxed)).filter(|&seconds| seconds != 0)
    }

    /// Unix seconds after which the credential is refused, if it expires.
    pub fn expires_at(&self) -> Option<i64> {
        (self.expires_at != i64::MAX).then_some(self.expires_at)
    }

    /// Where this credential's id lies in its snapshot's buffer of ids.
    pub fn key_id_span(&self) -> KeyIdSpan {
        KeyIdSpan {
            start: self.key_id_start,
            len: self.key_id_len,
        }
    }
}

/// Where a credential's id (an API key's or a client certificate's) lies in its snapshot's
/// buffer of ids: what a request carries instead of a copy of the id. Read it back with [`Consumers::key_id_at`] on the snapshot the request
/// was authenticated against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeyIdSpan {
    start: u32,
    len: u32,
}

/// Every credential of a snapshot: API keys by the key's SHA-256, client certificates by their
/// fingerprint.
#[derive(Debug, Default)]
pub struct Consumers {
    by_hash: CredentialTable,
    by_certificate: CredentialTable,
    consumers: Vec<Consumer>,
    /// Every credential id, one after another; entries point into it.
    key_ids: String,
}

type CredentialTable = HashMap<[u8; 32], CredentialEntry, BuildHasherDefault<KeyHashHasher>>;

impl Consumers {
    pub(super) fn compile<C: crate::snapshot::Consumer>(
        specs: &[C],
        group_table: &mut GroupTable,
        problems: &mut Problems,
    ) -> Consumers {
        let mut strings: FastMap<&str, Arc<str>> = FastMap::default();
        let mut user_keys: FastMap<&str, Arc<str>> = FastMap::default();
        let mut application_keys: FastMap<&str, Arc<str>> = FastMap::default();
        let mut group_sets: FastMap<Box<[GroupId]>, Arc<[GroupId]>> = FastMap::default();
        let mut consumer_index: FastMap<(&str, &str, *const [GroupId]), u32> = FastMap::default();
        let mut consumers = Vec::new();
        let mut by_hash: CredentialTable =
            HashMap::with_capacity_and_hasher(specs.len(), BuildHasherDefault::default());
        let mut by_certificate: CredentialTable = HashMap::default();
        let mut key_ids = String::with_capacity(specs.iter().map(|spec| spec.key_id().len()).sum());
        for (index, spec) in specs.iter().enumerate() {
            // Exactly one credential per entry, so that revoking one never takes another with it.
            let (table, hex_digest, what, field) = match (spec.key_hash(), spec.certificate_sha256()) {
                (Some(hash), None) => (&mut by_hash, hash, "key", "key_hash"),
                (None, Some(fingerprint)) => (&mut by_certificate, fingerprint, "certificate", "certificate_sha256"),
                (Some(_), Some(_)) => {
                    problems.push(
                        format!("consumers[{index}]"),
                        "holds both key_hash and certificate_sha256; an entry is one credential",
                    );
                    continue;
                }
                (None, None) => {
                    problems.push(
                        format!("consumers[{index}]"),
                        "needs key_hash (an API key) or certificate_sha256 (a client certificate)",
                    );
                    continue;
                }
            };
            let mut hash = [0u8; 32];
            if hex::decode_to_slice(hex_digest, &mut hash).is_err() {
                problems.push(format!("consumers[{index}].{field}"), "must be 64 hex digits (SHA-256)");
                continue;
            }
            let groups = group_table.intern_all(spec.groups());
            let groups = group_sets
                .entry(groups.clone())
                .or_insert_with(|| groups.into())
                .clone();
            let consumer = *consumer_index
                .entry((spec.user(), spec.application(), Arc::as_ptr(&groups)))
                .or_insert_with(|| {
                    consumers.push(Consumer {
                        user: intern(&mut strings, spec.user()),
                        application: intern(&mut strings, spec.application()),
                        user_limit_key: limit_key(&mut user_keys, "u:", spec.user()),
                        application_limit_key: limit_key(&mut application_keys, "a:", spec.application()),
                        groups: groups.clone(),
                    });
                    (consumers.len() - 1) as u32
                });
            let entry = CredentialEntry {
                key_id_start: key_ids.len() as u32,
                key_id_len: spec.key_id().len() as u32,
                consumer,
                last_used: AtomicU32::new(0),
                expires_at: spec.expires_at().unwrap_or(i64::MAX),
            };
            key_ids.push_str(spec.key_id());
            if table.insert(hash, entry).is_some() {
                problems.push(
                    format!("consumers[{index}].{field}"),
                    format!("another consumer has the same {what}"),
                );
            }
        }
        Consumers {
            by_hash,
            by_certificate,
            consumers,
            key_ids,
        }
    }

    /// The key and its consumer, by the key's SHA-256.
    pub fn get(&self, hash: &[u8; 32]) -> Option<(&CredentialEntry, &Consumer)> {
        let entry = self.by_hash.get(hash)?;
        Some((entry, &self.consumers[entry.consumer as usize]))
    }

    /// The client certificate and its consumer, by the certificate's SHA-256 fingerprint.
    pub fn get_certificate(&self, fingerprint: &[u8; 32]) -> Option<(&CredentialEntry, &Consumer)> {
        let entry = self.by_certificate.get(fingerprint)?;
        Some((entry, &self.consumers[entry.consumer as usize]))
    }

    /// The id of a credential.
    pub fn key_id(&self, entry: &CredentialEntry) -> &str {
        self.key_id_at(entry.key_id_span())
    }

    /// The key id at `span`; empty for a span from another snapshot that falls outside this one.
    pub fn key_id_at(&self, span: KeyIdSpan) -> &str {
        let start = span.start as usize;
        self.key_ids.get(start..start + span.len as usize).unwrap_or_default()
    }

    /// Carries each credential's last use over from the snapshot this one replaces, so that a
    /// swap (every key change is one) does not forget it.
    pub fn carry_last_used(&self, previous: &Consumers) {
        let tables = [
            (&self.by_hash, &previous.by_hash),
            (&self.by_certificate, &previous.by_certificate),
        ];
        for (table, previous) in tables {
            for (hash, entry) in table {
                if let Some(seconds) = previous.get(hash).and_then(CredentialEntry::last_used) {
                    entry.last_used.store(seconds, Ordering::Relaxed);
                }
            }
        }
    }

    /// When each of the credentials with these ids was last used (Unix seconds), for the ones used.
    pub fn last_used<'a>(&'a self, ids: &'a [&str]) -> impl Iterator<Item = (&'a str, u32)> + 'a {
        let entries = self.by_hash.values().chain(self.by_certificate.values());
        entries.filter_map(move |entry| {
            let id = self.key_id(entry);
            let seconds = entry.last_used()?;
            ids.contains(&id).then_some((id, seconds))
        })
    }

    /// How many credentials, keys and certificates together.
    pub fn len(&self) -> usize {
        self.by_hash.len() + self.by_certificate.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Hashes a key's SHA-256 (or a certificate's) by taking its first eight bytes: they are
/// already uniform. Flooding is no concern here: the table is built from the snapshot's own
/// (trusted) hashes, and a lookup of an unknown key or certificate cannot lengthen any probe
/// sequence. The general-purpose hasher spent ~300 instructions a request and a third of a
/// 100,000-key table's build time.
#[derive(Default)]
struct KeyHashHasher(u64);

impl Hasher for KeyHashHasher {
    fn write(&mut self, bytes: &[u8]) {
        match bytes.first_chunk::<8>() {
            Some(first) => self.0 ^= u64::from_le_bytes(*first),
            None => {
                for byte in bytes {
                    self.0 = self.0.rotate_left(8) ^ u64::from(*byte);
                }
            }
        }
    }

    // The length prefix of the array says nothing: every key is 32 bytes.
    fn write_usize(&mut self, _: usize) {}

    fn finish(&self) -> u64 {
        self.0
    }
}

/// One shared `<prefix><name>` rate-limit key per name. Concatenated rather than formatted:
/// with 100,000 keys, `format!` here was a tenth of the compile time.
fn limit_key<'a>(keys: &mut FastMap<&'a str, Arc<str>>, prefix: &str, name: &'a str) -> Arc<str> {
    keys.entry(name)
        .or_insert_with(|| {
            let mut key = String::with_capacity(prefix.len() + name.len());
            key.push_str(prefix);
            key.push_str(name);
            key.into()
        })
        .clone()
}

/// One shared copy of each distinct string.
fn intern<'a>(strings: &mut FastMap<&'a str, Arc<str>>, text: &'a str) -> Arc<str> {
    strings.entry(text).or_insert_with(|| Arc::from(text)).clone()
}
