//! A version's successor as the snapshot carries it. The dates need no compiling (the model
//! checked them); the successor must be served, since the gateway links to it.

use super::FieldError;
use crate::model::{ApiVersion, Kind, VersionStatus};

/// The successor's name, or a problem when it is a draft (which no gateway serves, so its link
/// would lead nowhere). The model has made sure it is another version of the same API.
pub(super) fn successor(
    version: &ApiVersion,
    versions: &[&ApiVersion],
    problems: &mut Vec<FieldError>,
) -> Option<String> {
    let name = version.spec.successor.as_ref()?;
    let draft = versions
        .iter()
        .any(|candidate| candidate.spec.name == *name && candidate.spec.status == VersionStatus::Draft);
    if draft {
        problems.push(FieldError::new(
            format!("api_versions/{}", version.key()),
            format!("successor: version `{name}` is a draft; publish it (or choose another successor) first"),
        ));
        return None;
    }
    Some(name.clone())
}
