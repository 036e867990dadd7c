//! The command line as an operator meets it: `--help`, argument and configuration errors (one
//! line, exit 64, before the store opens or a port is bound), a TOML config file, and the logs.

use serde_json::Value;

use crate::support::{ADMIN_PASSWORD, Hub, TempDir, gatehouse, hub_on_sqlite, run_to_exit};

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
    assert!(
        help.stdout
            .contains("Every flag can also be set by a GATEHOUSE_* environment variable"),
        "`gatehouse --help` says every flag has a variable:\n{}",
        help.stdout
    );

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
fn malformed_arguments_exit_64_with_one_line() {
    let cases: [(&[&str], &str); 4] = [
        (&["hub", "--hub-listen", "nonsense"], "--hub-listen"),
        (&["up", "--max-body-bytes", "lots"], "--max-body-bytes"),
        (&["--log-format", "xml", "hub"], "text, json"),
        (&["hub", "--data-dri", "x"], "--data-dir"),
    ];
    for (arguments, mentions) in cases {
        let exited = run_to_exit(gatehouse().args(arguments));
        assert_eq!(exited.status.code(), Some(EX_USAGE), "{arguments:?}: {exited:?}");
        assert_usage_error(&exited.stderr, mentions);
        assert_eq!(exited.stdout, "", "{arguments:?}: nothing started");
    }

    // Asking for help or the version is not an error.
    for arguments in [&["--version"][..], &["hub", "--help"], &["-h"]] {
        let exited = run_to_exit(gatehouse().args(arguments));
        assert_eq!(exited.status.code(), Some(0), "{arguments:?}: {exited:?}");
        assert!(
            exited.stdout.starts_with("gatehouse ") || exited.stdout.contains("Usage:"),
            "{exited:?}"
        );
    }
    let bare = run_to_exit(&mut gatehouse());
    assert_eq!(bare.status.code(), Some(EX_USAGE), "no subcommand: {bare:?}");
    assert!(
        bare.stderr.contains("Usage:"),
        "no subcommand prints the help: {bare:?}"
    );
}

#[test]
fn admin_password_out_of_bounds_exits_64_before_the_store_opens() {
    let data_dir = TempDir::new();
    let store = data_dir.path().join("store");
    let long = "x".repeat(257);
    for (command, password) in [("hub", "short"), ("up", "elevenchars"), ("hub", long.as_str())] {
        let exited = run_to_exit(
            gatehouse()
                .args([command, "--hub-listen", "127.0.0.1:0"])
                .arg("--data-dir")
                .arg(&store)
                .env("GATEHOUSE_ADMIN_PASSWORD", password),
        );
        assert_eq!(exited.status.code(), Some(EX_USAGE), "{command}: {exited:?}");
        assert_usage_error(&exited.stderr, "admin_password");
        assert!(exited.stderr.contains("12 to 256 characters"), "{}", exited.stderr);
        assert!(!exited.stderr.contains(password), "the password is not printed");
        assert_eq!(exited.stdout, "", "{command}: nothing started");
        assert!(!store.exists(), "{command}: the store was not opened");
    }
    let flag = run_to_exit(
        gatehouse()
            .args(["hub", "--admin-password", "short"])
            .arg("--data-dir")
            .arg(&store),
    );
    assert_eq!(flag.status.code(), Some(EX_USAGE), "{flag:?}");
    assert_usage_error(&flag.stderr, "admin_password");
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
fn config_file_errors_exit_64_with_one_line_naming_file_line_and_column() {
    let data_dir = TempDir::new();
    let files = [
        (
            "top level",
            "colour = \"blue\"\n",
            "gatehouse.toml:1:1: unknown field `colour`",
        ),
        (
            "[hub] table",
            "[hub]\nlisten = \"127.0.0.1:0\"\nbogus = 1\n",
            "gatehouse.toml:3:1: unknown field `bogus`",
        ),
        ("syntax", "log = \"info\"\ndata_dir = \n", "gatehouse.toml:2:12: "),
        ("bad value", "[hub]\nlisten = \"nowhere\"\n", "gatehouse.toml:2:10: "),
    ];
    for (where_, contents, expected) in files {
        let config = data_dir.path().join("gatehouse.toml");
        std::fs::write(&config, contents).expect("write config file");
        let exited = run_to_exit(gatehouse().arg("--config").arg(&config).arg("hub"));
        assert_eq!(exited.status.code(), Some(EX_USAGE), "{where_}: {exited:?}");
        assert_usage_error(&exited.stderr, expected);
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

#[tokio::test]
async fn text_logs_carry_no_colour_codes_when_stderr_is_not_a_terminal() {
    let data_dir = TempDir::new();
    let hub = Hub::start(hub_on_sqlite(data_dir.path()));
    let response = reqwest::get(hub.url("/api/v1/nothing-here")).await.expect("GET");
    assert_eq!(response.status(), 404);
    let stopped = hub.stop();
    assert!(stopped.status.success(), "{stopped:?}");
    assert!(stopped.stderr.contains("starting"), "{}", stopped.stderr);
    assert!(
        !stopped.stderr.contains('\u{1b}'),
        "no ANSI escapes in a pipe:\n{}",
        stopped.stderr
    );
}

#[test]
fn lint_exits_0_when_clean_1_on_errors_or_denied_warnings_and_2_when_the_directory_cannot_be_read() {
    let dir = TempDir::new();
    let write = |path: &str, text: &str| {
        let path = dir.path().join(path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    };
    write(
        "apis/pets.yaml",
        "kind: Api\nname: pets\nspec:\n  route: { path_prefix: /pets }\n  upstream: { targets: [ { url: 'http://127.0.0.1:9000' } ] }\n",
    );
    write(
        "access.yaml",
        "kind: Group\nname: staff\nspec: {}\n---\nkind: Plan\nname: gold\nspec:\n  rate_limit: { requests: 10, window_seconds: 60 }\n---\nkind: AccessPolicy\nname: staff-pets\nspec:\n  groups: [staff]\n  apis: [ { api: pets } ]\n  plan: gold\n",
    );
    let lint = |extra: &[&str]| run_to_exit(gatehouse().arg("lint").arg(dir.path()).args(extra));

    let clean = lint(&[]);
    assert_eq!(clean.status.code(), Some(0), "{clean:?}");
    assert!(clean.stdout.contains("no problems found"), "{clean:?}");

    // A warning passes, unless warnings are denied.
    write(
        "apis/orders.yaml",
        "kind: Api\nname: orders\nspec:\n  route: { path_prefix: /orders }\n  upstream: { targets: [ { url: 'http://127.0.0.1:9001' } ] }\n",
    );
    let warned = lint(&[]);
    assert_eq!(warned.status.code(), Some(0), "{warned:?}");
    assert!(warned.stdout.contains("warning[api-not-granted]"), "{warned:?}");
    let denied = lint(&["--deny-warnings"]);
    assert_eq!(denied.status.code(), Some(1), "{denied:?}");

    write("apis/broken.yaml", "kind: Group\nname: [oops\n");
    let failed = lint(&["--format", "sarif"]);
    assert_eq!(failed.status.code(), Some(1), "{failed:?}");
    let sarif: Value = serde_json::from_str(&failed.stdout).expect("SARIF on stdout");
    assert_eq!(sarif["version"], "2.1.0");
    let results = sarif["runs"][0]["results"].as_array().unwrap();
    assert!(
        results.iter().any(|result| result["ruleId"] == "yaml-syntax"
            && result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
                .as_str()
                .is_some_and(|uri| uri.ends_with("/apis/broken.yaml"))),
        "{results:?}"
    );
    let json = lint(&["--format", "json"]);
    assert_eq!(json.status.code(), Some(1), "{json:?}");
    let json: Value = serde_json::from_str(&json.stdout).expect("JSON on stdout");
    assert_eq!(json["errors"], 1);

    let missing = run_to_exit(gatehouse().arg("lint").arg(dir.path().join("nowhere")));
    assert_eq!(missing.status.code(), Some(2), "{missing:?}");
    assert!(missing.stderr.contains("cannot read"), "{missing:?}");
    assert_eq!(missing.stdout, "");
}

fn assert_usage_error(stderr: &str, mentions: &str) {
    let lines: Vec<&str> = stderr.lines().filter(|line| !line.trim().is_empty()).collect();
    assert_eq!(lines.len(), 1, "one line on stderr:\n{stderr}");
    assert!(lines[0].starts_with("gatehouse: "), "{stderr}");
    assert!(lines[0].contains(mentions), "{stderr}");
}
