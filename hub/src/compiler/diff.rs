//! What changed between two snapshots, object by object: APIs, plans, API keys (consumers) and
//! access rules, each added, removed or changed. Key hashes and upstream private keys never appear.

use std::collections::BTreeMap;

use gateway::snapshot::Snapshot;
use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;

/// One object that differs.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Change {
    /// `api`, `plan`, `consumer` or `access_rule`.
    pub kind: &'static str,
    /// The object's name (an access rule is `<policy>/<api>`; a consumer is its key id).
    pub key: String,
    pub change: ChangeKind,
    #[schema(value_type = Option<Object>)]
    pub before: Option<Value>,
    #[schema(value_type = Option<Object>)]
    pub after: Option<Value>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ChangeKind {
    Added,
    Removed,
    Changed,
}

/// The changes from `before` to `after`, by kind then key.
pub fn diff(before: &Snapshot, after: &Snapshot) -> Vec<Change> {
    let mut changes = Vec::new();
    compare(
        "api",
        keyed(&before.apis, |api| api.name.clone()),
        keyed(&after.apis, |api| api.name.clone()),
        &mut changes,
    );
    compare(
        "plan",
        keyed(&before.plans, |plan| plan.name.clone()),
        keyed(&after.plans, |plan| plan.name.clone()),
        &mut changes,
    );
    compare(
        "consumer",
        keyed(&before.consumers, |consumer| consumer.key_id.clone()),
        keyed(&after.consumers, |consumer| consumer.key_id.clone()),
        &mut changes,
    );
    let rule_key = |rule: &gateway::snapshot::AccessRuleSpec| format!("{}/{}", rule.policy, rule.api);
    compare(
        "access_rule",
        keyed(&before.access_rules, rule_key),
        keyed(&after.access_rules, rule_key),
        &mut changes,
    );
    changes
}

fn keyed<T: Serialize>(items: &[T], key: impl Fn(&T) -> String) -> BTreeMap<String, Value> {
    items
        .iter()
        .map(|item| {
            let mut value = serde_json::to_value(item).unwrap_or(Value::Null);
            if let Some(object) = value.as_object_mut() {
                object.remove("key_hash");
            }
            // An API's upstream TLS private key never shows, whatever changed.
            gateway::upstream::tls::redact_api(&mut value);
            (key(item), value)
        })
        .collect()
}

fn compare(
    kind: &'static str,
    before: BTreeMap<String, Value>,
    mut after: BTreeMap<String, Value>,
    changes: &mut Vec<Change>,
) {
    for (key, old) in before {
        match after.remove(&key) {
            None => changes.push(Change {
                kind,
                key,
                change: ChangeKind::Removed,
                before: Some(old),
                after: None,
            }),
            Some(new) if new != old => changes.push(Change {
                kind,
                key,
                change: ChangeKind::Changed,
                before: Some(old),
                after: Some(new),
            }),
            Some(_) => {}
        }
    }
    for (key, new) in after {
        changes.push(Change {
            kind,
            key,
            change: ChangeKind::Added,
            before: None,
            after: Some(new),
        });
    }
}
