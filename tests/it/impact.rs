//! `gatehouse impact` as a pull request's CI job runs it: the base from a git revision, the head
//! from the working tree, users and recent callers from a running hub, each format, and the exit
//! status `--fail-on` asks for; a set that does not build exits 2 naming its line.

use serde_json::{Value, json};

use crate::support::{ADMIN_PASSWORD, Exited, Hub, TempDir, gatehouse, git, hub_on_sqlite, run_to_exit};

const BASE: &str = "kind: Group\nname: support\nspec: {}\n---\nkind: Plan\nname: gold\nspec:\n  rate_limit: { requests: 2000, window_seconds: 65 }\n---\nkind: Api\nname: legacy\nspec:\n  route: { path_prefix: /legacy }\n  upstream: { targets: [ { url: 'http://127.0.0.1:9000' } ] }\n  versions:\n    - name: v1\n      status: published\n---\nkind: AccessPolicy\nname: support\nspec:\n  groups: [support]\n  plan: gold\n  apis:\n    - api: legacy\n";

fn impact(args: &[&str], env: &[(&str, &str)]) -> Exited {
    let mut command = gatehouse();
    command.arg("impact").args(args);
    for (name, value) in env {
        command.env(name, value);
    }
    run_to_exit(&mut command)
}

/// A repository whose commit holds `BASE` in `gatehouse/`, and whose working tree retires
/// `legacy` v1 and lowers `gold`.
fn repository() -> TempDir {
    let repo = TempDir::new();
    let dir = repo.path().join("gatehouse");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("all.yaml"), BASE).unwrap();
    std::fs::write(repo.path().join("README.md"), "not a manifest\n").unwrap();
    git(repo.path(), &["init", "-q"]);
    git(repo.path(), &["add", "."]);
    git(repo.path(), &["commit", "-q", "-m", "base"]);
    let head = BASE
        .replace("status: published", "status: retired")
        .replace("requests: 2000", "requests: 20");
    std::fs::write(dir.join("all.yaml"), head).unwrap();
    repo
}

#[tokio::test]
async fn from_a_git_revision_with_a_hub_it_names_users_and_callers() {
    let data_dir = TempDir::new();
    let hub = Hub::start(hub_on_sqlite(data_dir.path()));
    let token = hub.issue_admin_token("admin", ADMIN_PASSWORD).await;
    let repo = repository();
    let dir = repo.path().join("gatehouse");
    let dir = dir.to_str().unwrap();
    // The hub holds the base, and two users of `support`.
    let base = TempDir::new();
    std::fs::write(base.path().join("all.yaml"), BASE).unwrap();
    let mut apply = gatehouse();
    apply
        .args(["apply", base.path().to_str().unwrap()])
        .env("GATEHOUSE_HUB_URL", hub.url(""))
        .env("GATEHOUSE_TOKEN", &token);
    assert!(run_to_exit(&mut apply).status.success());
    for name in ["alice", "bob"] {
        let response = hub
            .client
            .post(hub.url("/api/v1/users"))
            .bearer_auth(&token)
            .json(&json!({ "name": name, "groups": ["support"] }))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 201);
    }
    let env = [("GATEHOUSE_HUB_URL", hub.url("")), ("GATEHOUSE_TOKEN", token.clone())];
    let env: Vec<(&str, &str)> = env.iter().map(|(name, value)| (*name, value.as_str())).collect();

    let text = impact(&["--git-base", "HEAD", "--head", dir], &env);
    assert!(text.status.success(), "{}", text.stderr);
    assert_eq!(
        text.stdout,
        "Change impact: breaking (2 changes)\n\
         APIs:   legacy\n\
         Groups: support\n\
         Users:  alice, bob\n\
         \n\
         breaking-removal  API `legacy` v1 retired — no application called it in the last 7 days; affects group `support`; 2 users\n\
         \x20                   users: alice, bob\n\
         info              plan `gold`: rate limit 2,000/65 s → 20/65 s (100× lower) — governs no one\n"
    );

    let json_report = impact(&["--git-base", "HEAD", "--head", dir, "--format", "json"], &env);
    let report: Value = serde_json::from_str(&json_report.stdout).expect("JSON");
    assert_eq!(report["verdict"], "breaking");
    assert_eq!(report["users"], json!(["alice", "bob"]));
    assert_eq!(report["items"][0]["applications"], json!([]));

    let refused = impact(&["--git-base", "HEAD", "--head", dir, "--fail-on", "breaking"], &[]);
    assert_eq!(refused.status.code(), Some(1), "{}", refused.stderr);
    assert!(
        refused.stdout.starts_with("Change impact: breaking"),
        "the report is printed too"
    );
    let wrong_token = impact(
        &["--git-base", "HEAD", "--head", dir, "--hub", &hub.url("")],
        &[("GATEHOUSE_TOKEN", "ghat_wrong")],
    );
    assert_eq!(wrong_token.status.code(), Some(2), "{}", wrong_token.stderr);
    assert!(wrong_token.stderr.contains("401"), "{}", wrong_token.stderr);
}

#[test]
fn two_directories_by_group_in_markdown_with_fail_on_narrowing() {
    let (old, new) = (TempDir::new(), TempDir::new());
    std::fs::write(old.path().join("all.yaml"), BASE).unwrap();
    std::fs::write(
        new.path().join("all.yaml"),
        BASE.replace("    - api: legacy\n", "    - api: legacy\n      methods: [GET]\n"),
    )
    .unwrap();
    let (old, new) = (old.path().to_str().unwrap(), new.path().to_str().unwrap());
    let markdown = impact(&["--base", old, "--head", new, "--format", "markdown"], &[]);
    assert!(markdown.status.success(), "{}", markdown.stderr);
    assert!(
        markdown
            .stdout
            .starts_with("<!-- gatehouse-impact -->\n### Gatehouse change impact: `narrows-access`")
    );
    assert!(
        markdown.stdout.contains(
            "| 1 | **narrowing** | group `support` loses HEAD, POST, PUT, PATCH, DELETE, OPTIONS on `legacy` v1 |"
        ),
        "{}",
        markdown.stdout
    );
    let narrowing = impact(&["--base", old, "--head", new, "--fail-on", "narrowing"], &[]);
    assert_eq!(narrowing.status.code(), Some(1));
    let breaking = impact(&["--base", old, "--head", new, "--fail-on", "breaking"], &[]);
    assert_eq!(breaking.status.code(), Some(0), "narrowing is not breaking");
    let unchanged = impact(&["--base", old, "--head", old, "--fail-on", "narrowing"], &[]);
    assert_eq!(
        unchanged.stdout,
        "Change impact: safe (0 changes)\nNo API, version, route, plan or grant changes.\n"
    );
}

#[test]
fn a_set_that_does_not_build_exits_2_naming_its_line() {
    let (old, new) = (TempDir::new(), TempDir::new());
    std::fs::write(old.path().join("all.yaml"), BASE).unwrap();
    std::fs::write(
        new.path().join("plans.yaml"),
        "kind: Plan\nname: gold\nspec:\n  rate_limit:\n    requests: lots\n    window_seconds: 60\n",
    )
    .unwrap();
    let (old, new) = (old.path().to_str().unwrap(), new.path().to_str().unwrap());
    let refused = impact(&["--base", old, "--head", new], &[]);
    assert_eq!(refused.status.code(), Some(2), "{}", refused.stdout);
    assert!(
        refused.stderr.contains("plans.yaml:5:15: spec.rate_limit.requests"),
        "{}",
        refused.stderr
    );
    let no_head = impact(&["--base", old], &[]);
    assert_eq!(no_head.status.code(), Some(2), "{}", no_head.stderr);
    let not_a_repository = impact(&["--git-base", "HEAD", "--head", new], &[]);
    assert_eq!(not_a_repository.status.code(), Some(2));
    assert!(
        not_a_repository.stderr.contains("is not a commit"),
        "{}",
        not_a_repository.stderr
    );
}
