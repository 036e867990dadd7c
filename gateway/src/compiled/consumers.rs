//! API keys by hash: the table authentication looks keys up in. Users and applications are
//! interned, so 100,000 keys of a few thousand users cost little memory.

use std::collections::HashMap;
use std::sync::Arc;

use super::Problems;
use crate::access::GroupId;
use crate::snapshot::ConsumerSpec;

/// Who an API key belongs to.
#[derive(Debug, Clone)]
pub struct Consumer {
    pub key_id: Arc<str>,
    pub user: Arc<str>,
    pub application: Arc<str>,
    /// The rate-limit keys of the user (`u:<user>`) and the application (`a:<application>`),
    /// made once here rather than per request.
    pub user_limit_key: Arc<str>,
    pub application_limit_key: Arc<str>,
    /// Sorted.
    pub groups: Arc<[GroupId]>,
    /// Unix seconds.
    pub expires_at: Option<i64>,
}

/// Every API key of a snapshot, by SHA-256.
#[derive(Debug, Default)]
pub struct Consumers {
    by_hash: HashMap<[u8; 32], Consumer>,
}

impl Consumers {
    pub(super) fn compile(
        specs: &[ConsumerSpec],
        intern_groups: &mut dyn FnMut(&[String]) -> Box<[GroupId]>,
        problems: &mut Problems,
    ) -> Consumers {
        let mut strings: HashMap<&str, Arc<str>> = HashMap::new();
        let mut limit_keys: HashMap<(&str, &str), Arc<str>> = HashMap::new();
        let mut group_sets: HashMap<Box<[GroupId]>, Arc<[GroupId]>> = HashMap::new();
        let mut by_hash = HashMap::with_capacity(specs.len());
        for (index, spec) in specs.iter().enumerate() {
            let field = format!("consumers[{index}]");
            let mut hash = [0u8; 32];
            if hex::decode_to_slice(&spec.key_hash, &mut hash).is_err() {
                problems.push(format!("{field}.key_hash"), "must be 64 hex digits (SHA-256)");
                continue;
            }
            let groups = intern_groups(&spec.groups);
            let groups = group_sets
                .entry(groups.clone())
                .or_insert_with(|| groups.into())
                .clone();
            let consumer = Consumer {
                key_id: spec.key_id.as_str().into(),
                user: intern(&mut strings, &spec.user),
                application: intern(&mut strings, &spec.application),
                user_limit_key: limit_keys
                    .entry(("u", spec.user.as_str()))
                    .or_insert_with(|| format!("u:{}", spec.user).into())
                    .clone(),
                application_limit_key: limit_keys
                    .entry(("a", spec.application.as_str()))
                    .or_insert_with(|| format!("a:{}", spec.application).into())
                    .clone(),
                groups,
                expires_at: spec.expires_at,
            };
            if by_hash.insert(hash, consumer).is_some() {
                problems.push(format!("{field}.key_hash"), "another consumer has the same key");
            }
        }
        Consumers { by_hash }
    }

    /// The consumer of a key, by the key's SHA-256.
    pub fn get(&self, hash: &[u8; 32]) -> Option<&Consumer> {
        self.by_hash.get(hash)
    }

    pub fn len(&self) -> usize {
        self.by_hash.len()
    }

    pub fn is_empty(&self) -> bool {
        self.by_hash.is_empty()
    }
}

/// One shared copy of each distinct string.
fn intern<'a>(strings: &mut HashMap<&'a str, Arc<str>>, text: &'a str) -> Arc<str> {
    strings.entry(text).or_insert_with(|| Arc::from(text)).clone()
}
