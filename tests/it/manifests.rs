//! `gatehouse apply` and `gatehouse export` as a platform team runs them: against a running hub,
//! from a git repository (the commit and its subject recorded on the revision), printing the
//! plan, refusing a bad set with each problem at its line.

use crate::support::{ADMIN_PASSWORD, Hub, TempDir, gatehouse, git, hub_on_sqlite, run_to_exit};

const MANIFESTS: &str = "kind: Group\nname: support\nspec: {}\n---\nkind: Plan\nname: gold\nspec:\n  rate_limit: { requests: 2000, window_seconds: 65 }\n---\nkind: Api\nname: pets\nspec:\n  route: { path_prefix: /pets }\n  upstream: { targets: [ { url: 'http://127.0.0.1:9000' } ] }\n---\nkind: AccessPolicy\nname: support-reads\nspec:\n  groups: [support]\n  plan: gold\n  apis:\n    - api: pets\n      methods: [GET]\n";

fn client(hub: &Hub, token: &str, args: &[&str]) -> crate::support::Exited {
    let mut command = gatehouse();
    command
        .args(args)
        .env("GATEHOUSE_HUB_URL", hub.url(""))
        .env("GATEHOUSE_TOKEN", token);
    run_to_exit(&mut command)
}

#[tokio::test]
async fn apply_from_a_repository_then_export_round_trips() {
    let data_dir = TempDir::new();
    let hub = Hub::start(hub_on_sqlite(data_dir.path()));
    let token = hub.issue_admin_token("admin", ADMIN_PASSWORD).await;
    let repo = TempDir::new();
    std::fs::create_dir_all(repo.path().join("gatehouse")).unwrap();
    std::fs::write(repo.path().join("gatehouse/all.yaml"), MANIFESTS).unwrap();
    git(repo.path(), &["init", "-q"]);
    git(repo.path(), &["add", "."]);
    git(repo.path(), &["commit", "-q", "-m", "support reads pets"]);
    let head = git(repo.path(), &["rev-parse", "HEAD"]);
    let dir = repo.path().join("gatehouse");
    let dir = dir.to_str().unwrap();

    let dry = client(&hub, &token, &["apply", dir, "--dry-run"]);
    assert!(dry.status.success(), "{}", dry.stderr);
    assert_eq!(
        dry.stdout,
        "+ create Group support\n+ create Plan gold\n+ create Api pets\n+ create AccessPolicy support-reads\ndry run: nothing was changed\n"
    );
    let (_, apis) = hub.get_json(&token, "/api/v1/apis").await;
    assert_eq!(apis["items"], serde_json::json!([]), "the dry run changed nothing");

    let applied = client(&hub, &token, &["apply", dir, "--publish"]);
    assert!(applied.status.success(), "{}", applied.stderr);
    assert!(
        applied.stdout.ends_with("applied 4 changes\npublished revision 1\n"),
        "{}",
        applied.stdout
    );
    let (_, revision) = hub.get_json(&token, "/api/v1/revisions/1").await;
    assert_eq!(revision["source_commit"], head.as_str());
    assert_eq!(revision["message"], "support reads pets");

    let again = client(&hub, &token, &["apply", dir]);
    assert_eq!(again.stdout, "no changes: the hub already matches the manifests\n");

    let exported = TempDir::new();
    let export = client(&hub, &token, &["export", exported.path().to_str().unwrap()]);
    assert!(export.status.success(), "{}", export.stderr);
    let reapplied = client(&hub, &token, &["apply", exported.path().to_str().unwrap()]);
    assert_eq!(
        reapplied.stdout, "no changes: the hub already matches the manifests\n",
        "{}",
        reapplied.stderr
    );
}

#[tokio::test]
async fn a_bad_set_exits_1_naming_each_problem_at_its_line() {
    let data_dir = TempDir::new();
    let hub = Hub::start(hub_on_sqlite(data_dir.path()));
    let token = hub.issue_admin_token("admin", ADMIN_PASSWORD).await;
    let dir = TempDir::new();
    std::fs::write(
        dir.path().join("plans.yaml"),
        "kind: Plan\nname: gold\nspec:\n  rate_limit:\n    requests: lots\n    window_seconds: 60\n",
    )
    .unwrap();
    let refused = client(&hub, &token, &["apply", dir.path().to_str().unwrap()]);
    assert_eq!(refused.status.code(), Some(1), "{}", refused.stdout);
    assert!(
        refused
            .stderr
            .contains("plans.yaml:5:15 spec.rate_limit.requests: invalid type"),
        "{}",
        refused.stderr
    );
    let unreachable = client(&hub, "ghat_wrong", &["apply", dir.path().to_str().unwrap()]);
    assert_eq!(unreachable.status.code(), Some(1));
}
