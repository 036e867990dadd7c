//! A portal on a real port over a scratch store, with a small seeded world: groups `support`
//! and `staff`, APIs `petstore` (v1, GET and DELETE documented), `orders` and `weather`, a
//! policy granting `support` petstore and orders for GET only, and users `sam` (support),
//! `nora` (no group) and `ada` (an admin).

use hub::domain::{objects, publish};
use hub::identity::Actor;
use hub::model::{AccessPolicy, Api, ApiVersion, Group, Plan, User};
use hub::store::scratch::ScratchStore;
use portal::{PortalConfig, PortalState};
use serde_json::{Value, json};

pub const PASSWORD: &str = "correct horse battery";

pub const PETSTORE_OPENAPI: &str = r#"
openapi: 3.0.3
info: { title: Pets, version: "1" }
paths:
  /pets:
    get: { operationId: listPets, summary: List pets, responses: { "200": { description: ok } } }
  /pets/{id}:
    parameters: [ { name: id, in: path, required: true, schema: { type: integer } } ]
    delete: { operationId: deletePet, summary: Remove a pet, responses: { "204": { description: gone } } }
"#;

pub struct Portal {
    pub scratch: ScratchStore,
    pub base: String,
    server: tokio::task::JoinHandle<()>,
}

impl Drop for Portal {
    fn drop(&mut self) {
        self.server.abort();
    }
}

impl Portal {
    pub async fn start(scratch: ScratchStore) -> Portal {
        Portal::start_with(scratch, PortalConfig::default()).await
    }

    pub async fn start_with(scratch: ScratchStore, config: PortalConfig) -> Portal {
        seed(&scratch.store).await;
        let state = PortalState::new(scratch.store.clone(), config, Default::default())
            .await
            .expect("portal state");
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let app = portal::app(state);
        let server = tokio::spawn(async move {
            axum::serve(listener, app).await.unwrap();
        });
        Portal { scratch, base, server }
    }

    pub fn store(&self) -> &hub::store::Store {
        &self.scratch.store
    }

    /// A browser: a cookie jar, no redirects followed (the tests look at them).
    pub fn browser(&self) -> Browser {
        let client = reqwest::Client::builder()
            .cookie_store(true)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        Browser {
            client,
            base: self.base.clone(),
        }
    }

    /// A browser signed in as `user`.
    pub async fn signed_in(&self, user: &str) -> Browser {
        let browser = self.browser();
        let response = browser.sign_in(user, PASSWORD).await;
        assert_eq!(response.status(), 303, "{user} signs in");
        browser
    }
}

pub struct Browser {
    pub client: reqwest::Client,
    pub base: String,
}

/// The CSRF token a page's forms carry.
pub fn csrf_of(html: &str) -> String {
    let marker = "name=\"csrf\" value=\"";
    let start = html.find(marker).expect("the page has a CSRF field") + marker.len();
    html[start..].split('"').next().unwrap().to_owned()
}

impl Browser {
    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client.get(format!("{}{path}", self.base)).send().await.unwrap()
    }

    pub async fn page(&self, path: &str) -> (u16, String) {
        let response = self.get(path).await;
        let status = response.status().as_u16();
        (status, response.text().await.unwrap())
    }

    pub async fn post(&self, path: &str, form: &[(&str, &str)]) -> reqwest::Response {
        self.client
            .post(format!("{}{path}", self.base))
            .form(form)
            .send()
            .await
            .unwrap()
    }

    /// Posts a form with the CSRF token of the page at `page`.
    pub async fn submit(&self, page: &str, path: &str, form: &[(&str, &str)]) -> reqwest::Response {
        let (_, html) = self.page(page).await;
        let token = csrf_of(&html);
        let mut fields = vec![("csrf", token.as_str())];
        fields.extend_from_slice(form);
        self.post(path, &fields).await
    }

    pub async fn sign_in(&self, user: &str, password: &str) -> reqwest::Response {
        self.submit("/sign-in", "/sign-in", &[("name", user), ("password", password)])
            .await
    }
}

fn from_json<T: serde::de::DeserializeOwned>(value: Value) -> T {
    serde_json::from_value(value).unwrap()
}

async fn seed(store: &hub::store::Store) {
    let actor = Actor::system();
    for group in ["support", "staff"] {
        objects::create::<Group>(store, &actor, from_json(json!({ "name": group })))
            .await
            .unwrap();
    }
    for (name, prefix) in [("petstore", "/pets"), ("orders", "/orders"), ("weather", "/weather")] {
        let api = json!({ "name": name, "description": format!("The {name} API"), "tags": ["seeded"],
            "route": { "path_prefix": prefix }, "upstream": { "targets": [{ "url": "http://127.0.0.1:9" }] } });
        objects::create::<Api>(store, &actor, from_json(api)).await.unwrap();
    }
    let v1 = json!({ "api": "petstore", "name": "v1", "status": "published",
        "selector": { "kind": "path", "segment": "v1" }, "openapi": PETSTORE_OPENAPI });
    objects::create::<ApiVersion>(store, &actor, from_json(v1))
        .await
        .unwrap();
    let plan = json!({ "name": "basic", "rate_limit": { "requests": 2000, "window_seconds": 65 }, "quota": { "requests": 100000, "period": "month" } });
    objects::create::<Plan>(store, &actor, from_json(plan)).await.unwrap();
    let policy = json!({ "name": "support-reads", "groups": ["support"], "plan": "basic",
        "apis": [{ "api": "petstore", "methods": ["GET"] }, { "api": "orders", "methods": ["GET"] }] });
    objects::create::<AccessPolicy>(store, &actor, from_json(policy))
        .await
        .unwrap();
    for (name, groups, role) in [
        ("sam", vec!["support"], "developer"),
        ("nora", vec![], "developer"),
        ("ada", vec!["staff"], "admin"),
    ] {
        let user = json!({ "name": name, "display_name": name, "groups": groups, "role": role, "password": PASSWORD });
        objects::create::<User>(store, &actor, from_json(user)).await.unwrap();
    }
    publish::publish(store, &actor, "seeded", None).await.unwrap();
}

/// Declares each listed test twice: on SQLite and on Postgres.
macro_rules! on_both_stores {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(#[tokio::test] async fn $name() { super::$name(hub::store::scratch::ScratchStore::sqlite().await).await })*
        }
        mod postgres {
            $(#[tokio::test] async fn $name() { super::$name(hub::store::scratch::ScratchStore::postgres().await).await })*
        }
    };
}
pub(crate) use on_both_stores;
