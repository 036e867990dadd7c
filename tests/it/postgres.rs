//! The hub on Postgres: `gatehouse migrate` prepares a fresh database, then `gatehouse hub` serves from
//! it. The server is `GATEHOUSE_TEST_POSTGRES_URL` (default `postgres://postgres@127.0.0.1:5432/test`).

use crate::support::{ADMIN_PASSWORD, Hub, PostgresDatabase, TempDir, gatehouse, run_to_exit};

#[tokio::test]
async fn migrate_then_hub_on_a_fresh_postgres_database() {
    let database = PostgresDatabase::create();
    // Its own data directory, so nothing lands in `./data` of wherever the tests run.
    let data_dir = TempDir::new();

    // Migrating twice is fine: the second run finds nothing to do.
    for attempt in ["first", "second"] {
        let migrated = run_to_exit(gatehouse().args(["migrate", "--database-url", &database.url]));
        assert!(migrated.status.success(), "{attempt} migrate: {migrated:?}");
        assert!(
            migrated.stdout.contains("migrations applied"),
            "{attempt}: {migrated:?}"
        );
    }

    let mut command = gatehouse();
    command
        .args(["hub", "--database-url", &database.url, "--hub-listen", "127.0.0.1:0"])
        .arg("--data-dir")
        .arg(data_dir.path())
        .env("GATEHOUSE_ADMIN_PASSWORD", ADMIN_PASSWORD);
    let hub = Hub::start(command);
    let response = reqwest::get(hub.url("/readyz")).await.expect("GET /readyz");
    assert_eq!(response.status(), 200);

    let token = hub.issue_admin_token("admin", ADMIN_PASSWORD).await;
    hub.create_api(&token, "petstore").await;
    let (status, api) = hub.get_json(&token, "/api/v1/apis/petstore").await;
    assert_eq!(status, 200, "{api}");
    assert_eq!(api["name"], "petstore");
    assert_eq!(api["route"]["path_prefix"], "/petstore");

    let stopped = hub.stop();
    assert!(stopped.status.success(), "{stopped:?}");
}
