//! The dashboard through the production router: sign-in, every page, the viewer's read-only
//! view (buttons absent, crafted posts refused), CSRF, and forms that refuse bad input next to
//! the field while keeping what was typed. The browser test (tests/browser/dashboard.test.mjs)
//! drives the same pages in Chromium against a real gateway.

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use hub::domain::objects;
use hub::identity::Actor;
use hub::model::user::UserInput;
use hub::model::{Api, Plan, Role, User};
use tower::ServiceExt;

use crate::support::{TestApp, on_both_stores};

on_both_stores!(
    pages_need_a_signed_in_viewer_or_admin,
    an_admin_sees_every_page,
    a_session_ends_when_the_password_is_reset_or_the_user_is_created_again,
    a_viewer_sees_every_page_without_buttons_and_cannot_change_anything,
    a_post_without_the_csrf_token_is_refused,
    forms_refuse_bad_input_next_to_the_field_and_keep_it,
    an_admin_builds_a_policy_publishes_and_the_views_show_it,
    analytics_charts_add_up_to_the_usage_the_gateways_reported,
    version_form_sets_the_lifecycle_and_refuses_a_bad_date
);

const PASSWORD: &str = "correct horse battery";

/// A cookie-keeping client of the router (also used by `edge_rules`).
pub(crate) struct Browser<'a> {
    app: &'a TestApp,
    cookie: Option<String>,
    csrf: String,
}

pub(crate) struct Page {
    pub(crate) status: StatusCode,
    location: Option<String>,
    pub(crate) text: String,
}

impl<'a> Browser<'a> {
    pub(crate) async fn signed_in(app: &'a TestApp, name: &str, role: Role) -> Browser<'a> {
        user(app, name, role, &[]).await;
        let mut browser = Browser {
            app,
            cookie: None,
            csrf: String::new(),
        };
        let page = browser.get("/dashboard/sign-in").await;
        assert_eq!(page.status, StatusCode::OK, "{}", page.text);
        let csrf = browser.csrf.clone();
        let signed = browser
            .post(
                "/dashboard/sign-in",
                &[("csrf", &csrf), ("name", name), ("password", PASSWORD)],
            )
            .await;
        assert_eq!(signed.status, StatusCode::SEE_OTHER, "{}", signed.text);
        browser.get("/dashboard").await;
        browser
    }

    async fn send(&mut self, request: Request<Body>) -> Page {
        let response = self.app.router.clone().oneshot(request).await.unwrap();
        if let Some(cookie) = response.headers().get(header::SET_COOKIE) {
            let pair = cookie.to_str().unwrap().split(';').next().unwrap().to_owned();
            self.cookie = Some(pair);
        }
        let status = response.status();
        let location = response
            .headers()
            .get(header::LOCATION)
            .map(|value| value.to_str().unwrap().to_owned());
        let bytes = axum::body::to_bytes(response.into_body(), usize::MAX).await.unwrap();
        let text = String::from_utf8_lossy(&bytes).into_owned();
        if let Some(token) = csrf_in(&text) {
            self.csrf = token;
        }
        Page { status, location, text }
    }

    pub(crate) async fn get(&mut self, path: &str) -> Page {
        let mut request = Request::get(path);
        if let Some(cookie) = &self.cookie {
            request = request.header(header::COOKIE, cookie);
        }
        self.send(request.body(Body::empty()).unwrap()).await
    }

    async fn post(&mut self, path: &str, fields: &[(&str, &str)]) -> Page {
        let body = form_urlencoded::Serializer::new(String::new())
            .extend_pairs(fields)
            .finish();
        let mut request = Request::post(path).header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
        if let Some(cookie) = &self.cookie {
            request = request.header(header::COOKIE, cookie);
        }
        self.send(request.body(Body::from(body)).unwrap()).await
    }

    /// Posts with the session's CSRF token first.
    pub(crate) async fn submit(&mut self, path: &str, fields: &[(&str, &str)]) -> Page {
        let csrf = self.csrf.clone();
        let mut all = vec![("csrf", csrf.as_str())];
        all.extend_from_slice(fields);
        self.post(path, &all).await
    }
}

fn csrf_in(html: &str) -> Option<String> {
    let start = html.find(r#"name="csrf" value=""#)? + r#"name="csrf" value=""#.len();
    let end = html[start..].find('"')?;
    Some(html[start..start + end].to_owned()).filter(|token| !token.is_empty())
}

async fn user(app: &TestApp, name: &str, role: Role, groups: &[&str]) {
    objects::create::<User>(
        &app.store,
        &Actor::system(),
        UserInput {
            name: name.into(),
            email: None,
            display_name: String::new(),
            role,
            groups: groups.iter().map(|group| group.to_string()).collect(),
            disabled: false,
            password: Some(PASSWORD.into()),
        },
    )
    .await
    .unwrap();
}

const PAGES: [&str; 12] = [
    "/dashboard",
    "/dashboard/apis",
    "/dashboard/groups",
    "/dashboard/users",
    "/dashboard/policies",
    "/dashboard/access",
    "/dashboard/plans",
    "/dashboard/keys",
    "/dashboard/gateways",
    "/dashboard/revisions",
    "/dashboard/audit",
    "/dashboard/analytics",
];

async fn pages_need_a_signed_in_viewer_or_admin(app: TestApp) {
    let mut anonymous = Browser {
        app: &app,
        cookie: None,
        csrf: String::new(),
    };
    for path in PAGES {
        let page = anonymous.get(path).await;
        assert_eq!(page.status, StatusCode::SEE_OTHER, "{path}");
        assert_eq!(page.location.as_deref(), Some("/dashboard/sign-in"), "{path}");
    }
    // A developer's right password still does not open the dashboard.
    user(&app, "dev", Role::Developer, &[]).await;
    anonymous.get("/dashboard/sign-in").await;
    let csrf = anonymous.csrf.clone();
    let refused = anonymous
        .post(
            "/dashboard/sign-in",
            &[("csrf", &csrf), ("name", "dev"), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    assert!(refused.text.contains("developer role"), "{}", refused.text);
    assert_eq!(anonymous.get("/dashboard").await.status, StatusCode::SEE_OTHER);
    let wrong = anonymous
        .post(
            "/dashboard/sign-in",
            &[("csrf", &csrf), ("name", "dev"), ("password", "not it at all")],
        )
        .await;
    assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
    assert!(wrong.text.contains(r#"value="dev""#), "the name typed is kept");
}

async fn an_admin_sees_every_page(app: TestApp) {
    let mut admin = Browser::signed_in(&app, "root", Role::Admin).await;
    for path in PAGES {
        let page = admin.get(path).await;
        assert_eq!(page.status, StatusCode::OK, "{path}: {}", page.text);
        assert!(page.text.contains("Sign out"), "{path}");
    }
    assert!(admin.get("/dashboard/apis").await.text.contains("New API"));
    assert!(admin.get("/dashboard/apis/new").await.text.contains("Create API"));
    let signed_out = admin.submit("/dashboard/sign-out", &[]).await;
    assert_eq!(signed_out.status, StatusCode::SEE_OTHER);
    assert_eq!(admin.get("/dashboard").await.status, StatusCode::SEE_OTHER);
}

async fn a_viewer_sees_every_page_without_buttons_and_cannot_change_anything(app: TestApp) {
    seed(&app).await;
    let mut viewer = Browser::signed_in(&app, "watcher", Role::Viewer).await;
    for path in PAGES.iter().copied().chain([
        "/dashboard/apis/pets",
        "/dashboard/plans/gold",
        "/dashboard/users/watcher",
    ]) {
        let page = viewer.get(path).await;
        assert_eq!(page.status, StatusCode::OK, "{path}: {}", page.text);
        for button in [
            "New API",
            "New plan",
            "New group",
            "New user",
            "New policy",
            "Delete",
            "Revoke",
            ">Publish<",
            ">Save<",
        ] {
            assert!(!page.text.contains(button), "{path} shows `{button}` to a viewer");
        }
    }
    assert_eq!(viewer.get("/dashboard/apis/new").await.status, StatusCode::FORBIDDEN);
    let before = app.audit_count().await;
    for (path, fields) in [
        (
            "/dashboard/apis",
            vec![
                ("name", "sneaky"),
                ("path_prefix", "/sneaky"),
                ("targets", "http://127.0.0.1:9 1"),
            ],
        ),
        (
            "/dashboard/plans",
            vec![("name", "free"), ("rate_requests", "1"), ("window_seconds", "1")],
        ),
        ("/dashboard/plans/gold/delete", vec![]),
        ("/dashboard/apis/pets/delete", vec![]),
        ("/dashboard/revisions/publish", vec![("message", "by a viewer")]),
        ("/dashboard/users/watcher/disabled", vec![("disabled", "true")]),
    ] {
        let page = viewer.submit(path, &fields).await;
        assert_eq!(page.status, StatusCode::FORBIDDEN, "{path}: {}", page.text);
        assert!(page.text.contains("admin"), "the refusal says which role it needs");
    }
    assert_eq!(app.audit_count().await, before, "nothing changed");
    assert!(objects::get::<Api>(&app.store, "pets").await.is_ok());
}

async fn a_post_without_the_csrf_token_is_refused(app: TestApp) {
    let mut admin = Browser::signed_in(&app, "root", Role::Admin).await;
    let before = app.audit_count().await;
    let fields = [
        ("name", "pets"),
        ("path_prefix", "/pets"),
        ("targets", "http://127.0.0.1:9 1"),
    ];
    let missing = admin.post("/dashboard/apis", &fields).await;
    assert_eq!(missing.status, StatusCode::FORBIDDEN);
    let mut wrong = vec![("csrf", "forged")];
    wrong.extend_from_slice(&fields);
    assert_eq!(
        admin.post("/dashboard/apis", &wrong).await.status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(app.audit_count().await, before);
    assert_eq!(
        admin.submit("/dashboard/apis", &fields).await.status,
        StatusCode::SEE_OTHER
    );
}

async fn forms_refuse_bad_input_next_to_the_field_and_keep_it(app: TestApp) {
    let mut admin = Browser::signed_in(&app, "root", Role::Admin).await;
    let before = app.audit_count().await;

    let page = admin
        .submit(
            "/dashboard/apis",
            &[
                ("name", "Bad Name"),
                ("description", "kept as typed"),
                ("path_prefix", "no-slash"),
                ("targets", "ftp://example.com 5\nhttp://127.0.0.1:9 heavy"),
            ],
        )
        .await;
    assert_eq!(page.status, StatusCode::BAD_REQUEST);
    assert!(page.text.contains(r#"value="kept as typed""#), "{}", page.text);
    assert!(field_error(&page.text, "targets").contains("line 2: the weight must be a whole number, not `heavy`"));
    let page = admin
        .submit(
            "/dashboard/apis",
            &[
                ("name", "Bad Name"),
                ("path_prefix", "no-slash"),
                ("targets", "ftp://example.com 5"),
            ],
        )
        .await;
    assert_eq!(page.status, StatusCode::BAD_REQUEST);
    assert!(!field_error(&page.text, "name").is_empty());
    assert!(!field_error(&page.text, "path_prefix").is_empty());
    assert!(field_error(&page.text, "targets").contains("http"), "{}", page.text);

    let page = admin
        .submit(
            "/dashboard/plans",
            &[("name", "gold"), ("rate_requests", "lots"), ("window_seconds", "60")],
        )
        .await;
    assert_eq!(page.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        field_error(&page.text, "rate_requests"),
        "must be a whole number, not `lots`"
    );
    assert!(page.text.contains(r#"value="lots""#));
    let page = admin
        .submit(
            "/dashboard/plans",
            &[("name", "gold"), ("rate_requests", "0"), ("window_seconds", "60")],
        )
        .await;
    assert!(
        field_error(&page.text, "rate_requests").contains("must be 1 to"),
        "{}",
        page.text
    );

    let page = admin
        .submit(
            "/dashboard/policies",
            &[("name", "p"), ("plan", ""), ("grants", "pets\npets methods=FETCH")],
        )
        .await;
    assert_eq!(page.status, StatusCode::BAD_REQUEST);
    assert!(field_error(&page.text, "grants").contains("line 2: `FETCH` is not a method"));
    assert!(!field_error(&page.text, "plan").is_empty());
    assert!(
        page.text.contains("pets methods=FETCH</textarea>"),
        "the grants typed are kept"
    );

    let page = admin.submit("/dashboard/groups", &[("name", "-")]).await;
    assert_eq!(page.status, StatusCode::BAD_REQUEST);
    assert!(!field_error(&page.text, "name").is_empty());

    let page = admin
        .submit("/dashboard/users", &[("name", "ann"), ("role", "boss"), ("email", "x")])
        .await;
    assert_eq!(page.status, StatusCode::BAD_REQUEST);
    assert!(field_error(&page.text, "role").contains("`boss`"));

    assert_eq!(app.audit_count().await, before, "nothing was saved");

    // A broken OpenAPI document, uploaded as a file, is refused with the parser's line.
    admin
        .submit(
            "/dashboard/apis",
            &[
                ("name", "pets"),
                ("path_prefix", "/pets"),
                ("targets", "http://127.0.0.1:9 1"),
            ],
        )
        .await;
    let csrf = admin.csrf.clone();
    let broken = "openapi: 3.0.3\ninfo:\n  title: Pets\n  version: '1'\npaths:\n  /pets: [unclosed\n";
    let page = multipart(
        &mut admin,
        "/dashboard/apis/pets/versions",
        &[
            ("csrf", &csrf),
            ("name", "v1"),
            ("status", "published"),
            ("selector", "path"),
            ("selector_value", "v1"),
        ],
        broken,
    )
    .await;
    assert_eq!(page.status, StatusCode::BAD_REQUEST, "{}", page.text);
    let message = field_error(&page.text, "openapi");
    assert!(message.contains("YAML") && message.contains("line"), "{message}");
    assert!(page.text.contains("[unclosed"), "the document is kept for fixing");
    let fixed = broken.replace("[unclosed", "{}");
    let page = multipart(
        &mut admin,
        "/dashboard/apis/pets/versions",
        &[
            ("csrf", &csrf),
            ("name", "v1"),
            ("status", "published"),
            ("selector", "path"),
            ("selector_value", "v1"),
        ],
        &fixed,
    )
    .await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.text);
}

async fn an_admin_builds_a_policy_publishes_and_the_views_show_it(app: TestApp) {
    let mut admin = Browser::signed_in(&app, "root", Role::Admin).await;
    for (path, fields) in [
        (
            "/dashboard/apis",
            vec![
                ("name", "pets"),
                ("path_prefix", "/pets"),
                ("targets", "http://127.0.0.1:9 1"),
            ],
        ),
        (
            "/dashboard/apis",
            vec![
                ("name", "stock"),
                ("path_prefix", "/stock"),
                ("targets", "http://127.0.0.1:9 1"),
            ],
        ),
        ("/dashboard/groups", vec![("name", "support")]),
        (
            "/dashboard/plans",
            vec![("name", "gold"), ("rate_requests", "2,000"), ("window_seconds", "65")],
        ),
        (
            "/dashboard/users",
            vec![("name", "sam"), ("role", "developer"), ("groups", "support")],
        ),
        (
            "/dashboard/policies",
            vec![
                ("name", "support-reads"),
                ("groups", "support"),
                ("plan", "gold"),
                ("grants", "pets methods=GET,HEAD"),
            ],
        ),
    ] {
        let page = admin.submit(path, &fields).await;
        assert_eq!(page.status, StatusCode::SEE_OTHER, "{path}: {}", page.text);
    }
    let plan = objects::get::<Plan>(&app.store, "gold").await.unwrap().object;
    assert_eq!(plan.rate_limit.requests, 2000);
    let pending = admin.get("/dashboard/revisions").await;
    assert!(pending.text.contains("access_rule"), "{}", pending.text);
    let published = admin
        .submit("/dashboard/revisions/publish", &[("message", "support reads pets")])
        .await;
    assert_eq!(published.status, StatusCode::SEE_OTHER, "{}", published.text);
    let history = admin.get("/dashboard/revisions").await;
    assert!(history.text.contains("support reads pets"));
    assert!(history.text.contains("Nothing to publish"));

    let by_user = admin.get("/dashboard/access/users/sam").await.text;
    let row = by_user
        .split(r#"data-api="pets""#)
        .nth(1)
        .unwrap()
        .split("</tr>")
        .next()
        .unwrap();
    for (method, allowed) in [("GET", true), ("HEAD", true), ("POST", false), ("DELETE", false)] {
        let cell = row
            .split(&format!(r#"data-method="{method}" data-allowed=""#))
            .nth(1)
            .unwrap();
        assert!(
            cell.starts_with(if allowed { "true" } else { "false" }),
            "{method}: {row}"
        );
    }
    let stock = by_user
        .split(r#"data-api="stock""#)
        .nth(1)
        .unwrap()
        .split("</tr>")
        .next()
        .unwrap();
    assert!(!stock.contains(r#"data-allowed="true""#), "{stock}");

    let by_api = admin.get("/dashboard/access/apis/pets").await.text;
    assert!(
        by_api.contains(r#"data-holder="support""#) && by_api.contains(r#"data-holder="sam""#),
        "{by_api}"
    );
    assert!(!by_api.contains(r#"data-holder="root""#), "root is in no group");
    assert!(
        admin
            .get("/dashboard/plans")
            .await
            .text
            .contains("2,000 requests per 65 s")
    );
    let diff = admin.get("/dashboard/revisions/diff?from=1&to=1").await;
    assert_eq!(diff.status, StatusCode::OK);
}

/// The message shown under a form field, or "".
pub(crate) fn field_error(html: &str, field: &str) -> String {
    let marker = format!(r#"id="{field}-error">"#);
    html.split(&marker)
        .nth(1)
        .and_then(|rest| rest.split("</p>").next())
        .map(|message| {
            message
                .replace("&#x60;", "`")
                .replace("&#96;", "`")
                .replace("&quot;", "\"")
                .replace("&#39;", "'")
        })
        .unwrap_or_default()
}

async fn multipart(browser: &mut Browser<'_>, path: &str, fields: &[(&str, &str)], file: &str) -> Page {
    let boundary = "gatehouse-test-boundary";
    let mut body = String::new();
    for (name, value) in fields {
        body.push_str(&format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n"
        ));
    }
    body.push_str(&format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"openapi_file\"; filename=\"pets.yaml\"\r\nContent-Type: application/yaml\r\n\r\n{file}\r\n--{boundary}--\r\n"
    ));
    let mut request = Request::post(path).header(
        header::CONTENT_TYPE,
        format!("multipart/form-data; boundary={boundary}"),
    );
    if let Some(cookie) = &browser.cookie {
        request = request.header(header::COOKIE, cookie);
    }
    browser.send(request.body(Body::from(body)).unwrap()).await
}

/// An API and a plan, made through the domain.
async fn seed(app: &TestApp) {
    app.create(
        "/api/v1/apis",
        serde_json::json!({"name": "pets", "route": {"path_prefix": "/pets"}, "upstream": {"targets": [{"url": "http://127.0.0.1:9"}]}}),
    )
    .await;
    app.create(
        "/api/v1/plans",
        serde_json::json!({"name": "gold", "rate_limit": {"requests": 10, "window_seconds": 60}}),
    )
    .await;
}

async fn analytics_charts_add_up_to_the_usage_the_gateways_reported(app: TestApp) {
    use hub::domain::usage::{UsageReport, UsageSummary, ingest};
    seed(&app).await;
    let now = chrono::Utc::now();
    let minute = chrono::DurationRound::duration_trunc(now, chrono::Duration::minutes(1)).unwrap();
    let summary = |minutes_ago: i64, user: &str, status_class: &str, requests: u64| UsageSummary {
        minute: minute - chrono::Duration::minutes(minutes_ago),
        api: "pets".into(),
        version: None,
        user: Some(user.into()),
        application: Some(format!("{user}/tool")),
        key: Some(format!("key_{user}")),
        status_class: status_class.into(),
        requests,
        latency_ms_buckets: {
            let mut buckets = vec![0; 14];
            buckets[3] = requests;
            buckets
        },
    };
    let report = UsageReport {
        instance: "edge-1".into(),
        shadow_refusals: Vec::new(),
        summaries: vec![
            summary(0, "sam", "2xx", 30),
            summary(5, "sam", "4xx", 7),
            summary(5, "ann", "5xx", 2),
            // Outside the last hour: in the 24-hour view only.
            summary(90, "sam", "2xx", 100),
        ],
    };
    ingest(&app.store, "edge", report, now).await.unwrap();
    let mut admin = Browser::signed_in(&app, "root", Role::Admin).await;
    let totals = |html: &str| {
        let chart = html
            .split(r#"id="requests-chart""#)
            .nth(1)
            .unwrap()
            .split("</svg>")
            .next()
            .unwrap();
        let sum = |attribute: &str| -> u64 {
            chart
                .split(&format!(r#"{attribute}=""#))
                .skip(1)
                .map(|rest| rest.split('"').next().unwrap().parse::<u64>().unwrap())
                .sum()
        };
        (sum("data-requests"), sum("data-errors"))
    };
    for (query, expected) in [
        ("api=pets", (39, 9)),
        ("user=sam", (37, 7)),
        ("user=ann", (2, 2)),
        ("application=sam/tool", (37, 7)),
        ("api=pets&range=24h", (139, 9)),
        ("api=other", (0, 0)),
    ] {
        let page = admin.get(&format!("/dashboard/analytics?{query}")).await;
        assert_eq!(page.status, StatusCode::OK, "{query}");
        assert_eq!(totals(&page.text), expected, "{query}");
    }
    let overview = admin.get("/dashboard").await.text;
    assert!(
        overview.contains("<strong>39</strong> requests"),
        "the overview's last hour"
    );
}

async fn a_session_ends_when_the_password_is_reset_or_the_user_is_created_again(app: TestApp) {
    let input = |password: &str| UserInput {
        name: "root".into(),
        email: None,
        display_name: String::new(),
        role: Role::Admin,
        groups: Vec::new(),
        disabled: false,
        password: Some(password.into()),
    };
    // Another admin, so root may be deleted.
    user(&app, "ops", Role::Admin, &[]).await;
    let mut admin = Browser::signed_in(&app, "root", Role::Admin).await;
    assert_eq!(admin.get("/dashboard").await.status, StatusCode::OK);
    // Editing the account without touching the password keeps the session.
    let mut kept = input(PASSWORD);
    kept.password = None;
    kept.display_name = "Root".into();
    objects::replace::<User>(&app.store, &Actor::system(), "root", kept)
        .await
        .unwrap();
    assert_eq!(admin.get("/dashboard").await.status, StatusCode::OK);
    objects::replace::<User>(&app.store, &Actor::system(), "root", input("a brand new password"))
        .await
        .unwrap();
    assert_eq!(
        admin.get("/dashboard").await.status,
        StatusCode::SEE_OTHER,
        "a password reset ends the session"
    );

    let mut again = Browser {
        app: &app,
        cookie: None,
        csrf: String::new(),
    };
    again.get("/dashboard/sign-in").await;
    let csrf = again.csrf.clone();
    let signed = again
        .post(
            "/dashboard/sign-in",
            &[("csrf", &csrf), ("name", "root"), ("password", "a brand new password")],
        )
        .await;
    assert_eq!(signed.status, StatusCode::SEE_OTHER);
    assert_eq!(again.get("/dashboard").await.status, StatusCode::OK);
    objects::delete::<User>(&app.store, &Actor::system(), "root", true)
        .await
        .unwrap();
    objects::create::<User>(&app.store, &Actor::system(), input("a brand new password"))
        .await
        .unwrap();
    assert_eq!(
        again.get("/dashboard").await.status,
        StatusCode::SEE_OTHER,
        "a new account under the name is not signed in"
    );
}

/// The version form's deprecation, sunset and successor: a bad date is refused next to its
/// field and kept; good ones are stored, and the form shows them back.
async fn version_form_sets_the_lifecycle_and_refuses_a_bad_date(app: TestApp) {
    seed(&app).await;
    let mut admin = Browser::signed_in(&app, "root", Role::Admin).await;
    let csrf = admin.csrf.clone();
    let form = |deprecated_at: &'static str| {
        [
            ("name", "v1"),
            ("status", "deprecated"),
            ("selector", "path"),
            ("selector_value", "v1"),
            ("deprecated_at", deprecated_at),
            ("sunset_at", "2026-07-01T00:00"),
            ("successor", "v2"),
        ]
    };
    let with_csrf = |fields: [(&'static str, &'static str); 7]| {
        let mut all = vec![("csrf", csrf.clone())];
        all.extend(fields.iter().map(|(name, value)| (*name, (*value).to_owned())));
        all
    };
    let bad = with_csrf(form("soon"));
    let bad: Vec<(&str, &str)> = bad.iter().map(|(name, value)| (*name, value.as_str())).collect();
    let page = multipart(&mut admin, "/dashboard/apis/pets/versions", &bad, "").await;
    assert_eq!(page.status, StatusCode::BAD_REQUEST, "{}", page.text);
    assert!(
        field_error(&page.text, "deprecated_at").contains("not a date"),
        "{}",
        page.text
    );
    assert!(page.text.contains(r#"value="soon""#), "what was typed is kept");
    let unknown = with_csrf(form("2026-01-01T00:00:00Z"));
    let unknown: Vec<(&str, &str)> = unknown.iter().map(|(name, value)| (*name, value.as_str())).collect();
    let page = multipart(&mut admin, "/dashboard/apis/pets/versions", &unknown, "").await;
    assert_eq!(page.status, StatusCode::BAD_REQUEST, "{}", page.text);
    assert!(field_error(&page.text, "successor").contains("v2"), "{}", page.text);
    let v2 = [
        ("csrf", csrf.as_str()),
        ("name", "v2"),
        ("status", "published"),
        ("selector", "path"),
        ("selector_value", "v2"),
    ];
    let page = multipart(&mut admin, "/dashboard/apis/pets/versions", &v2, "").await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.text);
    let page = multipart(&mut admin, "/dashboard/apis/pets/versions", &unknown, "").await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.text);
    let stored = app.viewer("GET", "/api/v1/apis/pets/versions/v1", None).await.json;
    assert_eq!(
        (&stored["deprecated_at"], &stored["sunset_at"], &stored["successor"]),
        (
            &serde_json::json!("2026-01-01T00:00:00Z"),
            &serde_json::json!("2026-07-01T00:00:00Z"),
            &serde_json::json!("v2")
        )
    );
    let form = admin.get("/dashboard/apis/pets/versions/v1").await;
    assert!(form.text.contains(r#"value="2026-07-01T00:00:00Z""#), "{}", form.text);
}
