//! The test app: the production router over a real store (a fresh SQLite file, or a fresh
//! Postgres database), driven with `oneshot` requests.

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use hub::domain::admin_tokens;
use hub::identity::Actor;
use hub::model::Role;
use hub::store::scratch::ScratchStore;
use hub::{AppState, Store, app};
use serde_json::Value;
use tower::ServiceExt;

/// The body limit the test app runs with, small enough to test cheaply.
pub const TEST_BODY_LIMIT: usize = 64 * 1024;

/// The production router over a fresh store, with an admin and a viewer token. Dropping it
/// removes the store: the SQLite directory, or the Postgres database.
pub struct TestApp {
    pub router: Router,
    pub store: Store,
    pub admin: String,
    pub viewer: String,
    scratch: ScratchStore,
}

impl TestApp {
    /// A fresh embedded SQLite store in its own file.
    pub async fn sqlite() -> TestApp {
        TestApp::on(ScratchStore::sqlite().await).await
    }

    /// A fresh Postgres database on the test server.
    pub async fn postgres() -> TestApp {
        TestApp::on(ScratchStore::postgres().await).await
    }

    async fn on(scratch: ScratchStore) -> TestApp {
        let store = scratch.store.clone();
        let system = Actor::system();
        let admin = admin_tokens::issue(&store, &system, "test-admin".into(), Role::Admin, None)
            .await
            .unwrap();
        let viewer = admin_tokens::issue(&store, &system, "test-viewer".into(), Role::Viewer, None)
            .await
            .unwrap();
        let router = app(AppState {
            store: store.clone(),
            max_body_bytes: TEST_BODY_LIMIT,
            revisions: hub::distribution::RevisionFeed::default(),
            auto_publish: false,
        });
        TestApp {
            router,
            store,
            admin: admin.secret,
            viewer: viewer.secret,
            scratch,
        }
    }

    /// The same app, publishing after every successful change.
    pub fn auto_publishing(mut self) -> TestApp {
        self.router = app(AppState {
            store: self.store.clone(),
            max_body_bytes: TEST_BODY_LIMIT,
            revisions: hub::distribution::RevisionFeed::default(),
            auto_publish: true,
        });
        self
    }

    /// Sends a request with the given `Authorization` header value and body.
    pub async fn send(
        &self,
        method: &str,
        path: &str,
        authorization: Option<&str>,
        body: Option<Body>,
        content_type: Option<&str>,
    ) -> Response {
        let mut request = Request::builder().method(method).uri(path);
        if let Some(authorization) = authorization {
            request = request.header(header::AUTHORIZATION, authorization);
        }
        if let Some(content_type) = content_type {
            request = request.header(header::CONTENT_TYPE, content_type);
        }
        let request = request.body(body.unwrap_or_else(Body::empty)).expect("request");
        let response = self.router.clone().oneshot(request).await.expect("infallible");
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
            .await
            .expect("body");
        let json = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        Response {
            status,
            headers,
            json,
            text: String::from_utf8_lossy(&bytes).into_owned(),
        }
    }

    /// As the admin token, with an optional JSON body.
    pub async fn admin(&self, method: &str, path: &str, body: Option<Value>) -> Response {
        self.as_token(&self.admin.clone(), method, path, body).await
    }

    /// As the viewer token, with an optional JSON body.
    pub async fn viewer(&self, method: &str, path: &str, body: Option<Value>) -> Response {
        self.as_token(&self.viewer.clone(), method, path, body).await
    }

    pub async fn as_token(&self, token: &str, method: &str, path: &str, body: Option<Value>) -> Response {
        let authorization = format!("Bearer {token}");
        let body = body.map(|body| Body::from(body.to_string()));
        let content_type = body.as_ref().map(|_| "application/json");
        self.send(method, path, Some(&authorization), body, content_type).await
    }

    /// Creates an object and asserts it worked.
    pub async fn create(&self, path: &str, body: Value) -> Value {
        let response = self.admin("POST", path, Some(body)).await;
        assert_eq!(response.status, StatusCode::CREATED, "POST {path}: {}", response.text);
        response.json
    }

    /// The number of audit entries, to show a refused write changed nothing.
    pub async fn audit_count(&self) -> usize {
        let mut count = 0;
        let mut cursor = String::new();
        loop {
            let response = self
                .admin("GET", &format!("/api/v1/audit?limit=500{cursor}"), None)
                .await;
            assert_eq!(response.status, StatusCode::OK, "{}", response.text);
            count += response.json["items"].as_array().unwrap().len();
            match response.json["next_cursor"].as_str() {
                Some(next) => cursor = format!("&cursor={next}"),
                None => return count,
            }
        }
    }
}

#[derive(Debug)]
pub struct Response {
    pub status: StatusCode,
    pub headers: axum::http::HeaderMap,
    pub json: Value,
    pub text: String,
}

impl Response {
    /// Asserts a problem+json response with this status, and returns the fields it names.
    pub fn assert_problem(&self, status: StatusCode) -> Vec<String> {
        assert_eq!(self.status, status, "{}", self.text);
        let content_type = self
            .headers
            .get(header::CONTENT_TYPE)
            .and_then(|value| value.to_str().ok());
        assert_eq!(content_type, Some("application/problem+json"), "{}", self.text);
        assert_eq!(self.json["status"], status.as_u16(), "{}", self.text);
        assert!(
            self.json["detail"].as_str().is_some_and(|detail| !detail.is_empty()),
            "{}",
            self.text
        );
        let errors = self.json["errors"].as_array().cloned().unwrap_or_default();
        errors
            .iter()
            .map(|error| error["field"].as_str().unwrap_or_default().to_owned())
            .collect()
    }
}

/// Declares each listed test twice: on SQLite and on Postgres.
macro_rules! on_both_stores {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(#[tokio::test] async fn $name() { super::$name($crate::support::TestApp::sqlite().await).await })*
        }
        mod postgres {
            $(#[tokio::test] async fn $name() { super::$name($crate::support::TestApp::postgres().await).await })*
        }
    };
}
pub(crate) use on_both_stores;

/// A valid API body.
pub fn api(name: &str, prefix: &str) -> Value {
    serde_json::json!({
        "name": name,
        "description": format!("The {name} API"),
        "tags": ["demo"],
        "owner": "platform-team",
        "route": { "path_prefix": prefix },
        "upstream": { "targets": [{ "url": "http://127.0.0.1:9000", "weight": 100 }] }
    })
}

#[tokio::test]
async fn test_app_removes_its_store_on_drop() {
    let app = TestApp::sqlite().await;
    let dir = app
        .scratch
        .sqlite_dir()
        .expect("a SQLite app has a directory")
        .to_owned();
    assert!(dir.join("gatehouse.db").is_file());
    drop(app);
    assert!(!dir.exists(), "{} is removed", dir.display());

    let app = TestApp::postgres().await;
    let name = app.scratch.url.rsplit('/').next().unwrap().to_owned();
    drop(app);
    use sqlx::Connection;
    let mut connection = sqlx::PgConnection::connect(&hub::store::scratch::postgres_base_url())
        .await
        .expect("connect");
    let left: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM pg_database WHERE datname = $1")
        .bind(&name)
        .fetch_one(&mut connection)
        .await
        .expect("count databases");
    assert_eq!(left, 0, "database {name} is dropped");
}
