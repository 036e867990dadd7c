//! The actor: who an admin request runs as, and what their role lets them do.

use crate::error::HubError;
use crate::model::Role;

/// An authenticated caller of the admin API.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    /// How the audit log names them: a user name, or `token:<name>`.
    pub name: String,
    pub role: Role,
}

impl Actor {
    /// The hub itself, for changes it makes on its own (the first admin account).
    pub fn system() -> Self {
        Actor {
            name: "system".into(),
            role: Role::Admin,
        }
    }

    /// Refuses unless the actor's role is at least `role`.
    pub fn require(&self, role: Role) -> Result<(), HubError> {
        if self.role >= role {
            Ok(())
        } else {
            Err(HubError::Forbidden {
                detail: format!(
                    "this needs the `{}` role; {} has `{}`",
                    role.as_str(),
                    self.name,
                    self.role.as_str()
                ),
            })
        }
    }
}
