//! The demo behind `gatehouse up --demo`: APIs served by a built-in upstream, two groups, two
//! plans, two policies, two users with an application and an API key each, published, so a
//! new user can call an API through the gateway within a minute of cloning.

pub mod upstream;

use serde_json::json;

use crate::domain::{api_keys, objects, publish};
use crate::error::HubError;
use crate::identity::Actor;
use crate::model::application::ApplicationInput;
use crate::model::user::UserInput;
use crate::model::{AccessPolicy, Api, ApiVersion, Application, Group, ListFilter, ObjectRef, Plan, User};
use crate::store::Store;

/// The demo's pet store OpenAPI document.
const PETSTORE_OPENAPI: &str = include_str!("petstore.yaml");

/// What loading the demo printed for the user: who may call what, with which key.
#[derive(Debug)]
pub struct Demo {
    pub alice_key: String,
    pub bob_key: String,
    /// The demo users' portal password, new at each load.
    pub password: String,
}

/// Loads (or refreshes) the demo, pointing its APIs at `upstream` (`http://127.0.0.1:PORT`),
/// issues a fresh key for each demo user, and publishes.
pub async fn load(store: &Store, upstream: &str) -> Result<Demo, HubError> {
    let actor = Actor {
        name: "demo".into(),
        role: crate::model::Role::Admin,
    };
    let petstore: Api = from_json(json!({
        "name": "petstore", "description": "A pet store: list, read, add and remove pets.", "tags": ["demo"], "owner": "demo team",
        "route": { "path_prefix": "/pets", "strip_prefix": true },
        "upstream": { "targets": [{ "url": upstream }] }
    }));
    let weather: Api = from_json(json!({
        "name": "weather", "description": "Forecasts by city.", "tags": ["demo"], "owner": "demo team",
        "route": { "path_prefix": "/weather", "strip_prefix": false },
        "upstream": { "targets": [{ "url": upstream }] }
    }));
    upsert::<Api>(store, &actor, &petstore.name.clone(), petstore).await?;
    upsert::<Api>(store, &actor, &weather.name.clone(), weather).await?;
    let v1: ApiVersion = from_json(json!({
        "api": "petstore", "name": "v1", "status": "published", "selector": { "kind": "path", "segment": "v1" }, "openapi": PETSTORE_OPENAPI
    }));
    upsert::<ApiVersion>(store, &actor, "petstore/v1", v1).await?;
    for (name, description) in [("staff", "Our own developers"), ("partners", "Partner companies")] {
        let group: Group = from_json(json!({ "name": name, "description": description }));
        upsert::<Group>(store, &actor, name, group).await?;
    }
    let free: Plan = from_json(
        json!({ "name": "free", "rate_limit": { "requests": 10, "window_seconds": 60 }, "quota": { "requests": 1000, "period": "day" } }),
    );
    let gold: Plan = from_json(json!({ "name": "gold", "rate_limit": { "requests": 600, "window_seconds": 60 } }));
    upsert::<Plan>(store, &actor, "free", free).await?;
    upsert::<Plan>(store, &actor, "gold", gold).await?;
    let staff: AccessPolicy = from_json(json!({
        "name": "staff-everything", "groups": ["staff"], "plan": "gold", "apis": [{ "api": "petstore" }, { "api": "weather" }]
    }));
    let partners: AccessPolicy = from_json(json!({
        "name": "partners-read-pets", "groups": ["partners"], "plan": "free",
        "apis": [{ "api": "petstore", "versions": ["v1"], "methods": ["GET"] }]
    }));
    upsert::<AccessPolicy>(store, &actor, "staff-everything", staff).await?;
    upsert::<AccessPolicy>(store, &actor, "partners-read-pets", partners).await?;
    let password = crate::identity::secret::generate("demo").value;
    let alice_key = user_with_key(store, &actor, "alice", "staff", "alice-app", &password).await?;
    let bob_key = user_with_key(store, &actor, "bob", "partners", "bob-app", &password).await?;
    publish::publish(store, &actor, "demo loaded", None).await?;
    Ok(Demo {
        alice_key,
        bob_key,
        password,
    })
}

async fn user_with_key(
    store: &Store,
    actor: &Actor,
    name: &str,
    group: &str,
    application: &str,
    password: &str,
) -> Result<String, HubError> {
    let user = UserInput {
        name: name.into(),
        email: Some(format!("{name}@example.com")),
        display_name: name.into(),
        role: Default::default(),
        groups: vec![group.into()],
        disabled: false,
        password: Some(password.to_owned()),
    };
    upsert::<User>(store, actor, name, user).await?;
    let filter = ListFilter {
        refers_to: Some(ObjectRef::new("user", name)),
        limit: 10,
        ..Default::default()
    };
    let existing = objects::list::<Application>(store, &filter)
        .await?
        .items
        .into_iter()
        .find(|app| app.object.name == application);
    let application_id = match existing {
        Some(record) => record.object.id,
        None => {
            let input = ApplicationInput {
                name: application.into(),
                owner: name.into(),
                description: "Made by the demo".into(),
            };
            objects::create::<Application>(store, actor, input).await?.object.id
        }
    };
    Ok(api_keys::issue(store, actor, &application_id, "demo".into(), None)
        .await?
        .secret)
}

async fn upsert<K>(store: &Store, actor: &Actor, key: &str, input: K::Input) -> Result<(), HubError>
where
    K: crate::model::Kind,
    K::Input: Clone,
{
    match objects::get::<K>(store, key).await {
        Ok(_) => objects::replace::<K>(store, actor, key, input).await.map(|_| ()),
        Err(HubError::NotFound { .. }) => objects::create::<K>(store, actor, input).await.map(|_| ()),
        Err(error) => Err(error),
    }
}

fn from_json<T: serde::de::DeserializeOwned>(value: serde_json::Value) -> T {
    serde_json::from_value(value).expect("the demo's own data is valid")
}
