//! What a user cannot do: post a form without the CSRF token, read or change another user's
//! applications and keys, or learn that an API not granted to them exists.

use hub::domain::objects;
use hub::model::{ApiKey, Application, ListFilter};
use hub::store::scratch::ScratchStore;

use crate::support::{Portal, on_both_stores};

async fn application_count(portal: &Portal) -> usize {
    let filter = ListFilter {
        limit: 100,
        ..ListFilter::default()
    };
    objects::list::<Application>(portal.store(), &filter)
        .await
        .unwrap()
        .items
        .len()
}

async fn a_form_post_without_the_csrf_token_is_refused(scratch: ScratchStore) {
    let portal = Portal::start(scratch).await;
    let browser = portal.signed_in("sam").await;
    let missing = browser.post("/applications", &[("name", "sneaky")]).await;
    assert_eq!(missing.status(), 403);
    assert!(
        missing
            .text()
            .await
            .unwrap()
            .contains("form has expired or did not come from the portal")
    );
    let wrong = browser
        .post("/applications", &[("csrf", "forged"), ("name", "sneaky")])
        .await;
    assert_eq!(wrong.status(), 403);
    assert_eq!(application_count(&portal).await, 0, "nothing was created");
    let signed_out = portal
        .browser()
        .post("/sign-in", &[("name", "sam"), ("password", "x")])
        .await;
    assert_eq!(signed_out.status(), 403, "the sign-in form needs it too");
    let try_it = browser
        .client
        .post(format!("{}/apis/petstore/try", portal.base))
        .json(&serde_json::json!({ "version": "v1", "method": "GET", "path": "/pets" }))
        .send()
        .await
        .unwrap();
    assert_eq!(try_it.status(), 403, "try-it without the CSRF header");
}

async fn another_users_keys_cannot_be_read_or_revoked(scratch: ScratchStore) {
    let portal = Portal::start(scratch).await;
    let sam = portal.signed_in("sam").await;
    let made = sam
        .submit("/applications", "/applications", &[("name", "sams-app")])
        .await;
    assert_eq!(made.status(), 303);
    let app_path = made.headers()["location"].to_str().unwrap().to_owned();
    let issued = sam
        .submit(&app_path, &format!("{app_path}/keys"), &[("name", "laptop")])
        .await;
    assert_eq!(issued.status(), 200);
    let html = issued.text().await.unwrap();
    assert!(html.contains("Your new API key") && html.contains("ghk_"));
    let app_id = app_path.rsplit('/').next().unwrap();
    let filter = ListFilter {
        limit: 10,
        ..ListFilter::default()
    };
    let key = objects::list::<ApiKey>(portal.store(), &filter)
        .await
        .unwrap()
        .items
        .remove(0)
        .object;

    let nora = portal.signed_in("nora").await;
    let (status, page) = nora.page(&app_path).await;
    assert_eq!(status, 404);
    assert!(!page.contains("laptop"));
    let (_, own) = nora.page("/applications").await;
    assert!(!own.contains("sams-app"));
    let revoke = nora
        .submit(
            "/applications",
            &format!("/applications/{app_id}/keys/{}/revoke", key.id),
            &[],
        )
        .await;
    assert_eq!(revoke.status(), 404);
    let rotate = nora
        .submit(
            "/applications",
            &format!("/applications/{app_id}/keys/{}/rotate", key.id),
            &[],
        )
        .await;
    assert_eq!(rotate.status(), 404);
    let issue = nora
        .submit(
            "/applications",
            &format!("/applications/{app_id}/keys"),
            &[("name", "mine")],
        )
        .await;
    assert_eq!(issue.status(), 404);
    let still = objects::get::<ApiKey>(portal.store(), &key.id).await.unwrap().object;
    assert_eq!(still.revoked_at, None, "the key is untouched");

    // Its owner can revoke it; the revocation is published at once.
    let revoked = sam
        .submit(&app_path, &format!("{app_path}/keys/{}/revoke", key.id), &[])
        .await;
    assert_eq!(revoked.status(), 303);
    let (latest, snapshot) = hub::domain::publish::latest(portal.store()).await.unwrap().unwrap();
    assert!(latest.message.contains("revoked key"), "{}", latest.message);
    assert!(snapshot.consumers.iter().all(|consumer| consumer.key_id != key.id));
}

async fn an_api_not_granted_is_not_found(scratch: ScratchStore) {
    let portal = Portal::start(scratch).await;
    let sam = portal.signed_in("sam").await;
    let (granted, _) = sam.page("/apis/petstore").await;
    assert_eq!(granted, 200);
    let (hidden, hidden_page) = sam.page("/apis/weather").await;
    let (missing, missing_page) = sam.page("/apis/no-such-api").await;
    assert_eq!((hidden, missing), (404, 404));
    assert_eq!(
        hidden_page, missing_page,
        "an existing API and a missing one look the same"
    );
    let (version, _) = sam.page("/apis/petstore?version=v9").await;
    assert_eq!(version, 404);
    let try_hidden = sam.page("/apis").await.1;
    assert!(!try_hidden.contains("weather"));
}

on_both_stores!(
    a_form_post_without_the_csrf_token_is_refused,
    another_users_keys_cannot_be_read_or_revoked,
    an_api_not_granted_is_not_found,
);
