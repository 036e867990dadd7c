//! The embedded store survives a restart: what was written is still there, old admin tokens still
//! work, and the first admin is created (and a password generated) only once.

use crate::support::{Hub, TempDir, gatehouse};

const FIRST_ADMIN_MESSAGE: &str = "Created the first admin";

#[tokio::test]
async fn store_survives_a_restart_and_the_first_admin_is_created_once() {
    let data_dir = TempDir::new();
    let hub_command = || {
        let mut command = gatehouse();
        command
            .arg("hub")
            .arg("--data-dir")
            .arg(data_dir.path())
            .args(["--hub-listen", "127.0.0.1:0"]);
        command
    };

    // First start, with no password configured: one is generated and printed once.
    let mut first = Hub::start(hub_command());
    let line = first.wait_for_stderr_line(|line| line.contains(FIRST_ADMIN_MESSAGE));
    let generated_password = line
        .rsplit_once("password: ")
        .map(|(_, password)| password.trim().to_owned())
        .unwrap_or_else(|| panic!("the message names the password: {line:?}"));
    assert!(generated_password.len() >= 12, "{generated_password:?} is too short");
    let token = first.issue_admin_token("admin", &generated_password).await;
    first.create_api(&token, "petstore").await;

    let stopped = first.stop();
    assert!(stopped.status.success(), "SIGTERM stops the hub cleanly: {stopped:?}");

    // Second start on the same data directory. A configured password is ignored now that an admin
    // exists: it is only for creating the first one.
    let mut command = hub_command();
    command.env("GATEHOUSE_ADMIN_PASSWORD", "a-different-password-1234");
    let second = Hub::start(command);

    let (status, api) = second.get_json(&token, "/api/v1/apis/petstore").await;
    assert_eq!(status, 200, "the API and the token survive a restart: {api}");
    assert_eq!(api["name"], "petstore");

    second.issue_admin_token("admin", &generated_password).await;
    let response = second
        .client
        .get(second.url("/api/v1/apis"))
        .basic_auth("admin", Some("a-different-password-1234"))
        .send()
        .await
        .expect("GET /api/v1/apis");
    assert_eq!(response.status(), 401, "the admin's password did not change on restart");

    let stopped = second.stop();
    assert!(stopped.status.success(), "{stopped:?}");
    assert!(
        !stopped.stderr.contains(FIRST_ADMIN_MESSAGE),
        "no second first admin on restart:\n{}",
        stopped.stderr
    );
}
