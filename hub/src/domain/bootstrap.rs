//! The first start: create an admin account so the hub can be reached at all.

use crate::error::HubError;
use crate::identity::Actor;
use crate::model::user::UserInput;
use crate::model::{ListFilter, Role, User};
use crate::store::Store;

use super::objects::{create, list};

/// What bootstrapping did.
#[derive(Debug, PartialEq, Eq)]
pub enum Bootstrap {
    /// An admin already existed; nothing changed.
    AlreadyDone,
    /// Created the `admin` user with the given password.
    CreatedAdmin { generated_password: Option<String> },
}

/// Creates the user `admin` when no admin exists. The password is `password` when given (from
/// configuration), otherwise generated and returned, to be printed once.
pub async fn ensure_admin(store: &Store, password: Option<&str>) -> Result<Bootstrap, HubError> {
    let admins = ListFilter {
        labels: vec![format!("role:{}", Role::Admin.as_str())],
        limit: 1,
        ..Default::default()
    };
    if !list::<User>(store, &admins).await?.items.is_empty() {
        return Ok(Bootstrap::AlreadyDone);
    }
    let generated = password
        .is_none()
        .then(|| crate::identity::secret::generate("pw").value[3..27].to_owned());
    let input = UserInput {
        name: "admin".into(),
        email: None,
        display_name: "Administrator".into(),
        role: Role::Admin,
        groups: Vec::new(),
        disabled: false,
        password: Some(
            password
                .map(str::to_owned)
                .or_else(|| generated.clone())
                .unwrap_or_default(),
        ),
    };
    create::<User>(store, &Actor::system(), input).await?;
    Ok(Bootstrap::CreatedAdmin {
        generated_password: generated,
    })
}
