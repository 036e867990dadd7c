//! Reports made inside a hub: who it knows (every enabled user with their groups, and the
//! applications that called each API version in the last [`CALLER_DAYS`], from the usage
//! summaries), and the impact of publishing now, which the dashboard shows above its publish
//! button. `gatehouse impact --hub` asks the same of the admin API.

use chrono::{DateTime, Duration, Utc};
use gateway::snapshot::Snapshot;

use super::{CALLER_DAYS, People, Report, impact};
use crate::domain::{objects, publish, usage};
use crate::error::HubError;
use crate::model::User;
use crate::store::Store;

/// The hub's users and recent callers, as of `now`.
pub async fn people(store: &Store, now: DateTime<Utc>) -> Result<People, HubError> {
    let mut people = People::default();
    people.know_users();
    // A disabled user's calls are refused whatever the change: no change affects them.
    for user in objects::all::<User>(store)
        .await?
        .into_iter()
        .filter(|user| !user.disabled)
    {
        people.add_user(user.name, user.groups);
    }
    people.know_callers();
    let since = now - Duration::days(i64::from(CALLER_DAYS));
    // Up to the end of the current minute, whose row starts before `now`.
    let until = now + Duration::seconds(usage::MINUTE_SECONDS);
    for ((api, version), applications) in usage::callers(store, None, since, until).await? {
        people.add_callers(api, version, applications);
    }
    people.know_shadow_refusals();
    for ((rule_kind, rule), users) in crate::domain::shadow::recent(store, now).await? {
        people.add_shadow_refusals(rule_kind, rule, users);
    }
    Ok(people)
}

/// What publishing now would do, from the latest revision (nothing, before the first) to
/// `publish::preview`; `None` when the current state cannot be published.
pub async fn pending(store: &Store, now: DateTime<Utc>) -> Result<Option<Report>, HubError> {
    let before = publish::latest(store)
        .await?
        .map_or_else(Snapshot::empty, |(_, snapshot)| snapshot);
    let after = match publish::preview(store).await {
        Ok(after) => after,
        Err(HubError::Invalid(_)) => return Ok(None),
        Err(error) => return Err(error),
    };
    let people = people(store, now).await?;
    impact(&before, &after, &people)
        .map(Some)
        .map_err(|error| HubError::Conflict {
            detail: error.to_string(),
        })
}
