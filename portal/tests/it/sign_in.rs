//! Built-in sign-in: session cookies and their rotation, sign-out, the backoff, password
//! links and self sign-up.

use hub::domain::sign_in::{self, LinkPurpose};
use hub::identity::Actor;
use hub::store::scratch::ScratchStore;
use portal::PortalConfig;

use crate::support::{PASSWORD, Portal, csrf_of, on_both_stores};

fn session_cookie(response: &reqwest::Response) -> Option<String> {
    response
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|value| value.to_str().ok())
        .find(|value| value.starts_with(portal::SESSION_COOKIE))
        .map(str::to_owned)
}

fn cookie_id(set_cookie: &str) -> String {
    set_cookie
        .split(';')
        .next()
        .unwrap()
        .split_once('=')
        .unwrap()
        .1
        .to_owned()
}

async fn signing_in_rotates_the_session_and_marks_the_cookie(scratch: ScratchStore) {
    let portal = Portal::start(scratch).await;
    let browser = portal.browser();
    let first = browser.get("/sign-in").await;
    let before = session_cookie(&first).expect("a session for the form's CSRF token");
    let html = first.text().await.unwrap();
    let token = csrf_of(&html);

    let wrong = browser
        .post(
            "/sign-in",
            &[("csrf", &token), ("name", "sam"), ("password", "not the password")],
        )
        .await;
    assert_eq!(wrong.status(), 401);
    assert!(wrong.text().await.unwrap().contains("user name or password is wrong"));

    let signed = browser
        .post("/sign-in", &[("csrf", &token), ("name", "sam"), ("password", PASSWORD)])
        .await;
    assert_eq!(signed.status(), 303);
    assert_eq!(signed.headers()["location"], "/apis");
    let after = session_cookie(&signed).expect("a new session cookie");
    assert_ne!(
        cookie_id(&before),
        cookie_id(&after),
        "the session id changes at sign-in"
    );
    let flags = after.to_ascii_lowercase();
    assert!(flags.contains("httponly"), "{after}");
    assert!(flags.contains("samesite=lax"), "{after}");
    assert!(!flags.contains("secure"), "plain HTTP on loopback: no Secure ({after})");

    // The CSRF token seen before sign-in is worth nothing after it.
    let (_, catalog) = browser.page("/apis").await;
    assert_ne!(csrf_of(&catalog), token);
    assert!(catalog.contains("petstore"));
}

async fn the_cookie_is_secure_behind_a_tls_proxy(scratch: ScratchStore) {
    let portal = Portal::start(scratch).await;
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let response = client
        .get(format!("{}/sign-in", portal.base))
        .header("x-forwarded-proto", "https")
        .send()
        .await
        .unwrap();
    let cookie = session_cookie(&response).unwrap();
    assert!(cookie.contains("; Secure"), "{cookie}");
    assert!(cookie.to_ascii_lowercase().contains("httponly"));

    let always = PortalConfig {
        public_url: Some("https://developers.example.com".into()),
        ..PortalConfig::default()
    };
    drop(portal);
    let portal = Portal::start_with(ScratchStore::sqlite().await, always).await;
    let response = client.get(format!("{}/sign-in", portal.base)).send().await.unwrap();
    assert!(
        session_cookie(&response).unwrap().contains("; Secure"),
        "an https public URL makes it Secure"
    );
}

async fn signing_out_ends_the_session(scratch: ScratchStore) {
    let portal = Portal::start(scratch).await;
    let browser = portal.signed_in("sam").await;
    let (status, _) = browser.page("/apis").await;
    assert_eq!(status, 200);
    let out = browser.submit("/apis", "/sign-out", &[]).await;
    assert_eq!(out.status(), 303);
    let after = browser.get("/apis").await;
    assert_eq!(after.status(), 303);
    assert_eq!(after.headers()["location"], "/sign-in");
    let mut tx = portal.store().begin().await.unwrap();
    let left = tx.sign_in_failures("sam").await.unwrap();
    tx.commit().await.unwrap();
    assert_eq!(left, None, "a success leaves no failure count");
}

async fn repeated_failures_lock_the_account(scratch: ScratchStore) {
    let portal = Portal::start(scratch).await;
    let browser = portal.browser();
    for attempt in 0..sign_in::FREE_FAILURES {
        let response = browser.sign_in("sam", "wrong password!").await;
        assert_eq!(response.status(), 401, "attempt {attempt}");
    }
    let locked = browser.sign_in("sam", PASSWORD).await;
    assert_eq!(locked.status(), 429, "even the right password waits out the lock");
    let body = locked.text().await.unwrap();
    assert!(body.contains("too many failed sign-ins"), "{body}");
    // Another account is not affected, and an unknown one is counted the same way.
    assert_eq!(portal.browser().sign_in("ada", PASSWORD).await.status(), 303);

    // Guesses sent all at once cannot each pass the lock check before any is counted.
    let mut guesses = tokio::task::JoinSet::new();
    for _ in 0..12 {
        let store = portal.store().clone();
        guesses.spawn(async move { sign_in::with_password(&store, "nora", "a parallel guess").await });
    }
    let outcomes = guesses.join_all().await;
    let checked = outcomes
        .iter()
        .filter(|outcome| matches!(outcome, Err(sign_in::SignInError::Wrong)))
        .count();
    let locked = outcomes
        .iter()
        .filter(|outcome| matches!(outcome, Err(sign_in::SignInError::Locked { .. })))
        .count();
    assert!(
        checked <= sign_in::FREE_FAILURES as usize,
        "{checked} guesses were checked"
    );
    assert_eq!(checked + locked, 12);
}

async fn a_password_link_works_once(scratch: ScratchStore) {
    let portal = Portal::start(scratch).await;
    let admin = Actor::system();
    let link = sign_in::issue_password_link(portal.store(), &admin, "nora", LinkPurpose::Reset)
        .await
        .unwrap();
    let browser = portal.browser();
    let path = format!("/password/{}", link.token);
    let (status, html) = browser.page(&path).await;
    assert_eq!(status, 200);
    assert!(html.contains("nora"));
    let short = browser.submit(&path, &path, &[("password", "short")]).await;
    assert_eq!(short.status(), 400);
    assert!(
        short
            .text()
            .await
            .unwrap()
            .contains("password: must be 12 to 256 characters")
    );
    let set = browser
        .submit(&path, &path, &[("password", "a brand new password")])
        .await;
    assert_eq!(set.status(), 200);
    assert_eq!(browser.page(&path).await.0, 404, "used up");
    assert_eq!(
        portal.browser().sign_in("nora", PASSWORD).await.status(),
        401,
        "the old password is gone"
    );
    assert_eq!(
        portal.browser().sign_in("nora", "a brand new password").await.status(),
        303
    );
    assert_eq!(portal.browser().page("/password/ghpl_guessed").await.0, 404);
}

async fn self_sign_up_only_when_allowed(scratch: ScratchStore) {
    let portal = Portal::start(scratch).await;
    assert_eq!(portal.browser().page("/sign-up").await.0, 404);
    drop(portal);
    let config = PortalConfig {
        self_sign_up: true,
        ..PortalConfig::default()
    };
    let portal = Portal::start_with(ScratchStore::sqlite().await, config).await;
    let browser = portal.browser();
    let bad = browser
        .submit(
            "/sign-up",
            "/sign-up",
            &[("name", "Not A Slug"), ("password", "long enough password")],
        )
        .await;
    assert_eq!(bad.status(), 400);
    assert!(bad.text().await.unwrap().contains("name:"));
    let made = browser
        .submit(
            "/sign-up",
            "/sign-up",
            &[("name", "newbie"), ("password", "long enough password")],
        )
        .await;
    assert_eq!(made.status(), 303);
    let (_, catalog) = browser.page("/apis").await;
    assert!(catalog.contains("You are in no group yet"), "{catalog}");
}

on_both_stores!(
    signing_in_rotates_the_session_and_marks_the_cookie,
    the_cookie_is_secure_behind_a_tls_proxy,
    signing_out_ends_the_session,
    a_password_reset_ends_the_users_sessions,
    repeated_failures_lock_the_account,
    a_password_link_works_once,
    self_sign_up_only_when_allowed,
    the_portals_settings_in_the_hub_apply_at_once,
);

async fn a_password_reset_ends_the_users_sessions(scratch: ScratchStore) {
    let portal = Portal::start(scratch).await;
    let browser = portal.signed_in("sam").await;
    assert_eq!(browser.get("/apis").await.status(), 200);
    let record = hub::domain::objects::get::<hub::model::User>(portal.store(), "sam")
        .await
        .unwrap();
    let mut input = hub::model::user::UserInput {
        name: "sam".into(),
        email: record.object.email.clone(),
        display_name: record.object.display_name.clone(),
        role: record.object.role,
        groups: record.object.groups.clone(),
        disabled: false,
        password: None,
    };
    hub::domain::objects::replace::<hub::model::User>(portal.store(), &Actor::system(), "sam", input.clone())
        .await
        .unwrap();
    assert_eq!(
        browser.get("/apis").await.status(),
        200,
        "an edit that keeps the password keeps the session"
    );
    input.password = Some("someone reset this one".into());
    hub::domain::objects::replace::<hub::model::User>(portal.store(), &Actor::system(), "sam", input)
        .await
        .unwrap();
    let after = browser.get("/apis").await;
    assert_eq!(after.status(), 303, "the old session is out");
    assert_eq!(after.headers()["location"], "/sign-in");
}

async fn the_portals_settings_in_the_hub_apply_at_once(scratch: ScratchStore) {
    use hub::model::Portal as Settings;
    let portal = Portal::start(scratch).await;
    let (_, page) = portal.browser().page("/sign-in").await;
    assert!(
        page.contains("<h1>Sign in</h1>") && !page.contains("/sign-up"),
        "the defaults"
    );
    let settings = Settings {
        name: "default".into(),
        title: "Acme developers".into(),
        welcome: "Sign in to call the Acme APIs.".into(),
        self_sign_up: Some(true),
    };
    hub::domain::objects::create::<Settings>(portal.store(), &Actor::system(), settings.clone())
        .await
        .unwrap();
    let (_, page) = portal.browser().page("/sign-in").await;
    assert!(page.contains("<h1>Acme developers</h1>"), "{page}");
    assert!(page.contains("Sign in to call the Acme APIs."));
    assert!(
        page.contains(r#"href="/sign-up""#),
        "sign-up is offered without a restart"
    );
    assert_eq!(portal.browser().page("/sign-up").await.0, 200);
    let closed = Settings {
        self_sign_up: Some(false),
        ..settings
    };
    hub::domain::objects::replace::<Settings>(portal.store(), &Actor::system(), "default", closed)
        .await
        .unwrap();
    assert_eq!(portal.browser().page("/sign-up").await.0, 404);
}
