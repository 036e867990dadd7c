//! The API page shows a version's lifecycle as published: when it was deprecated, when it is
//! retired (the gateway's `Deprecation` and `Sunset`), and a link to its successor.

use hub::domain::{objects, publish};
use hub::identity::Actor;
use hub::model::ApiVersion;
use hub::store::scratch::ScratchStore;
use serde_json::json;

use crate::support::{PETSTORE_OPENAPI, Portal, on_both_stores};

on_both_stores!(the_api_page_shows_deprecation_sunset_and_successor);

async fn the_api_page_shows_deprecation_sunset_and_successor(scratch: ScratchStore) {
    let portal = Portal::start(scratch).await;
    let (store, actor) = (portal.store(), Actor::system());
    let v2 = json!({ "api": "petstore", "name": "v2", "status": "published",
        "selector": { "kind": "path", "segment": "v2" }, "openapi": PETSTORE_OPENAPI });
    objects::create::<ApiVersion>(store, &actor, serde_json::from_value(v2).unwrap())
        .await
        .unwrap();
    let v1 = json!({ "api": "petstore", "name": "v1", "status": "deprecated",
        "selector": { "kind": "path", "segment": "v1" }, "openapi": PETSTORE_OPENAPI,
        "deprecated_at": "2026-01-01T00:00:00Z", "sunset_at": "2099-07-01T12:00:00Z", "successor": "v2" });
    objects::replace::<ApiVersion>(store, &actor, "petstore/v1", serde_json::from_value(v1).unwrap())
        .await
        .unwrap();
    publish::publish(store, &actor, "deprecate v1", None).await.unwrap();
    let (status, html) = portal.signed_in("sam").await.page("/apis/petstore?version=v1").await;
    assert_eq!(status, 200);
    assert!(
        html.contains(
            "Version v1 is deprecated since 1 January 2026 at 00:00 UTC and is retired on 1 July 2099 at 12:00 UTC."
        ),
        "{html}"
    );
    assert!(
        html.contains(r#"Its successor is <a href="/apis/petstore?version=v2">v2</a>."#),
        "{html}"
    );
    let (_, current) = portal.signed_in("sam").await.page("/apis/petstore?version=v2").await;
    assert!(!current.contains(r#"id="lifecycle""#), "v2 has no lifecycle notice");
}
