//! The one place that maps a kind's stored name to its Rust type, for the operations that meet
//! objects of any kind: a cascading delete and the words in error messages.

use std::future::Future;
use std::pin::Pin;

use super::objects::{detach_in, remove_in};
use crate::error::HubError;
use crate::identity::Actor;
use crate::model::{
    AccessPolicy, AdminToken, Api, ApiKey, ApiVersion, Application, Gateway, GatewayToken, Group, Kind, ObjectRef,
    Plan, Portal, User,
};
use crate::store::Tx;

/// Runs `$body` with `$K` bound to the Rust type of the kind named `$kind`.
macro_rules! with_kind {
    ($kind:expr, $K:ident => $body:expr, else $fallback:expr) => {
        match $kind {
            Api::KIND => {
                type $K = Api;
                $body
            }
            ApiVersion::KIND => {
                type $K = ApiVersion;
                $body
            }
            User::KIND => {
                type $K = User;
                $body
            }
            Group::KIND => {
                type $K = Group;
                $body
            }
            Plan::KIND => {
                type $K = Plan;
                $body
            }
            AccessPolicy::KIND => {
                type $K = AccessPolicy;
                $body
            }
            Application::KIND => {
                type $K = Application;
                $body
            }
            ApiKey::KIND => {
                type $K = ApiKey;
                $body
            }
            Gateway::KIND => {
                type $K = Gateway;
                $body
            }
            AdminToken::KIND => {
                type $K = AdminToken;
                $body
            }
            GatewayToken::KIND => {
                type $K = GatewayToken;
                $body
            }
            Portal::KIND => {
                type $K = Portal;
                $body
            }
            crate::model::Certificate::KIND => {
                type $K = crate::model::Certificate;
                $body
            }
            crate::model::ApplicationCertificate::KIND => {
                type $K = crate::model::ApplicationCertificate;
                $body
            }
            crate::model::ClientCa::KIND => {
                type $K = crate::model::ClientCa;
                $body
            }
            _ => $fallback,
        }
    };
}

/// How people call a kind, from its stored name.
pub fn label_of(kind: &str) -> &'static str {
    with_kind!(kind, K => K::LABEL, else "object")
}

/// Deletes `target`, handling what refers to it: without `cascade` any referrer refuses the
/// delete, named in the error; with it, owned objects are deleted first (recursively) and other
/// referrers detach from it.
pub(super) fn delete_in<'a>(
    tx: &'a mut Tx,
    actor: &'a Actor,
    target: &'a ObjectRef,
    cascade: bool,
) -> Pin<Box<dyn Future<Output = Result<(), HubError>> + Send + 'a>> {
    Box::pin(async move {
        let referrers = tx.referrers(target.kind, &target.key).await?;
        let what = format!("{} `{}`", label_of(target.kind), target.key);
        if !referrers.is_empty() && !cascade {
            let users: Vec<String> = referrers
                .iter()
                .map(|referrer| format!("{} `{}` ({})", label_of(&referrer.kind), referrer.key, referrer.field))
                .collect();
            return Err(HubError::Conflict {
                detail: format!(
                    "{what} is still used by {}; remove those references first, or delete with cascade=true",
                    users.join(", ")
                ),
            });
        }
        let mut handled: Vec<(String, String)> = Vec::new();
        for referrer in referrers {
            let id = (referrer.kind.clone(), referrer.key.clone());
            if handled.contains(&id) {
                continue;
            }
            handled.push(id);
            let Some(kind) = static_kind(&referrer.kind) else {
                continue;
            };
            let object = ObjectRef::new(kind, referrer.key.clone());
            if referrer.owned_by_target {
                delete_in(tx, actor, &object, true).await?;
            } else if !detach_dyn(tx, actor, &object, target).await? {
                return Err(HubError::Conflict {
                    detail: format!(
                        "{what} cannot be deleted: {} `{}` cannot do without it ({})",
                        label_of(kind),
                        referrer.key,
                        referrer.field
                    ),
                });
            }
        }
        remove_dyn(tx, actor, target).await
    })
}

fn static_kind(kind: &str) -> Option<&'static str> {
    with_kind!(kind, K => Some(K::KIND), else None)
}

async fn remove_dyn(tx: &mut Tx, actor: &Actor, object: &ObjectRef) -> Result<(), HubError> {
    with_kind!(object.kind, K => remove_in::<K>(tx, actor, &object.key).await, else Ok(()))
}

async fn detach_dyn(tx: &mut Tx, actor: &Actor, object: &ObjectRef, target: &ObjectRef) -> Result<bool, HubError> {
    with_kind!(object.kind, K => detach_in::<K>(tx, actor, &object.key, target).await, else Ok(false))
}
