//! The command line as an operator meets it: `--help`, configuration errors (exit 64, before any
//! port is bound), a TOML config file, and JSON logs.

use serde_json::Value;

use crate::support::{ADMIN_PASSWORD, Hub, TempDir, gatehouse, run_to_exit};

/// BSD `EX_USAGE`: the exit code for a usage or configuration error.
const EX_USAGE: i32 = 64;

#[test]
fn help_lists_the_roles_and_their_environment_variables() {
    let help = run_to_exit(gatehouse().arg("--help"));
    assert!(help.status.success(), "{help:?}");
    for command in ["up", "hub", "gateway", "migrate"] {
        assert!(
            help.stdout
                .lines()
                .any(|line| line.trim_start().starts_with(&format!("{command} "))),
            "`gatehouse --help` lists `{command}`:\n{}",
            help.stdout
        );
    }
    assert!(help.stdout.contains("GATEHOUSE_CONFIG"), "{}", help.stdout);

    // Every role's flags name their environment variable.
    for command in ["up", "hub", "migrate"] {
        let help = run_to_exit(gatehouse().args([command, "--help"]));
        assert!(help.status.success(), "{help:?}");
        for variable in ["GATEHOUSE_DATA_DIR", "GATEHOUSE_DATABASE_URL"] {
            assert!(
                help.stdout.contains(variable),
                "`gatehouse {command} --help` mentions {variable}:\n{}",
                help.stdout
            );
        }
    }
}

#[test]
fn unsupported_database_url_exits_64() {
    let data_dir = TempDir::new();
    for command in ["hub", "migrate"] {
        let exited = run_to_exit(
            gatehouse()
                .args([command, "--database-url", "mysql://root@127.0.0.1/gatehouse"])
                .arg("--data-dir")
                .arg(data_dir.path()),
        );
        assert_eq!(exited.status.code(), Some(EX_USAGE), "{command}: {exited:?}");
        assert_usage_error(&exited.stderr, "database_url");
        assert_eq!(exited.stdout, "", "{command}: nothing started");
    }
}

#[test]
fn config_file_with_an_unknown_key_exits_64() {
    let data_dir = TempDir::new();
    let files = [
        ("top level", "colour = \"blue\"\n", "unknown field `colour`"),
        (
            "[hub] table",
            "[hub]\nlisten = \"127.0.0.1:0\"\nbogus = 1\n",
            "unknown field `bogus`",
        ),
    ];
    for (where_, contents, expected) in files {
        let config = data_dir.path().join("gatehouse.toml");
        std::fs::write(&config, contents).expect("write config file");
        let exited = run_to_exit(gatehouse().arg("--config").arg(&config).arg("hub"));
        assert_eq!(exited.status.code(), Some(EX_USAGE), "{where_}: {exited:?}");
        // The TOML parser's message spans several lines (a caret diagram), so only the first is checked.
        let first_line = exited.stderr.lines().next().unwrap_or_default();
        assert!(
            first_line.starts_with("gatehouse: ") && first_line.contains("gatehouse.toml"),
            "{where_}: the error names the file:\n{}",
            exited.stderr
        );
        assert!(exited.stderr.contains(expected), "{where_}:\n{}", exited.stderr);
        assert_eq!(exited.stdout, "", "{where_}: nothing started");
    }
}

#[tokio::test]
async fn config_file_configures_the_hub() {
    let data_dir = TempDir::new();
    let config = data_dir.path().join("gatehouse.toml");
    let contents = format!(
        "data_dir = {data_dir:?}\nlog_format = \"json\"\nlog = \"info\"\n\n[hub]\nlisten = \"127.0.0.1:0\"\n\
         max_body_bytes = 1048576\nadmin_password = \"{ADMIN_PASSWORD}\"\n",
        data_dir = data_dir.path().join("store").display().to_string()
    );
    std::fs::write(&config, contents).expect("write config file");
    let mut command = gatehouse();
    command.arg("--config").arg(&config).arg("hub");
    let hub = Hub::start(command);

    hub.issue_admin_token("admin", ADMIN_PASSWORD).await;
    assert!(
        data_dir.path().join("store/gatehouse.db").is_file(),
        "data_dir from the file is used"
    );
    let stopped = hub.stop();
    assert!(stopped.status.success(), "{stopped:?}");
    let first_line = stopped.stderr.lines().next().unwrap_or_default();
    assert!(
        serde_json::from_str::<Value>(first_line).is_ok(),
        "log_format from the file is used: {first_line}"
    );
}

#[tokio::test]
async fn json_log_format_writes_one_json_object_per_line() {
    let data_dir = TempDir::new();
    let mut command = gatehouse();
    command
        .args(["--log-format", "json", "hub", "--hub-listen", "127.0.0.1:0"])
        .arg("--data-dir")
        .arg(data_dir.path())
        .env("GATEHOUSE_ADMIN_PASSWORD", ADMIN_PASSWORD);
    let hub = Hub::start(command);
    let response = reqwest::get(hub.url("/healthz")).await.expect("GET /healthz");
    assert_eq!(response.status(), 200);
    let stopped = hub.stop();
    assert!(stopped.status.success(), "{stopped:?}");

    let mut events = Vec::new();
    for line in stopped.stderr.lines().filter(|line| !line.trim().is_empty()) {
        let event: Value = serde_json::from_str(line).unwrap_or_else(|error| panic!("not JSON ({error}): {line}"));
        assert!(event["timestamp"].is_string(), "{line}");
        assert!(event["level"].is_string(), "{line}");
        events.push(event);
    }
    let messages: Vec<&str> = events
        .iter()
        .filter_map(|event| event["fields"]["message"].as_str())
        .collect();
    assert!(messages.contains(&"starting the hub"), "{messages:?}");
    assert!(messages.contains(&"stopped"), "{messages:?}");
    assert!(
        !stopped.stderr.contains(ADMIN_PASSWORD),
        "the admin password never reaches the log:\n{}",
        stopped.stderr
    );
}

fn assert_usage_error(stderr: &str, mentions: &str) {
    let lines: Vec<&str> = stderr.lines().filter(|line| !line.trim().is_empty()).collect();
    assert_eq!(lines.len(), 1, "one line on stderr:\n{stderr}");
    assert!(lines[0].starts_with("gatehouse: "), "{stderr}");
    assert!(lines[0].contains(mentions), "{stderr}");
}
