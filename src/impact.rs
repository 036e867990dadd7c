//! `gatehouse impact`: what a change to a manifest directory does to access. Reads the two sets
//! (two directories, or a git revision's tree and a directory), compiles each the way the hub
//! would publish it, asks a hub for its users and recent callers when given one, and prints
//! `hub::impact`'s report as text, JSON or Markdown.

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

use anyhow::{Context, bail};
use hub::impact::{self, People, Verdict};
use hub::manifest::load;
use serde_json::Value;

use crate::cli::{FailOn, ImpactArgs, ImpactFormat};

/// Users asked for per page (the admin API's most).
const USERS_PER_PAGE: u32 = 500;

/// The verdict reached `--fail-on`.
const EXIT_REFUSED: u8 = 1;
/// No report: a manifest set does not build, git or the hub failed.
const EXIT_NO_REPORT: u8 = 2;

/// Prints the report and exits 0, or 1 when the verdict reaches `--fail-on`; 2 when no report
/// could be made, saying why.
pub async fn run(args: &ImpactArgs) -> ExitCode {
    match report(args).await {
        Ok(code) => code,
        Err(error) => {
            eprintln!("gatehouse: {error:#}");
            ExitCode::from(EXIT_NO_REPORT)
        }
    }
}

async fn report(args: &ImpactArgs) -> anyhow::Result<ExitCode> {
    let (before, after) = match (&args.base, &args.git_base) {
        (Some(base), None) => {
            let head = args
                .head
                .as_deref()
                .context("--base needs --head (the manifests after the change)")?;
            (
                snapshot_of_dir(base, &base.display().to_string())?,
                snapshot_of_dir(head, &head.display().to_string())?,
            )
        }
        (None, Some(reference)) => {
            let head = args.head.clone().unwrap_or_else(|| PathBuf::from("."));
            let checkout = GitCheckout::of(&head, reference)?;
            (
                snapshot_of_dir(&checkout.dir, &format!("{reference} ({})", head.display()))?,
                snapshot_of_dir(&head, &head.display().to_string())?,
            )
        }
        _ => bail!("give --base DIR and --head DIR, or --git-base REF (and --head DIR, default .)"),
    };
    // An empty variable (a CI secret a fork's pull request does not get) counts as unset.
    let (hub, token) = (
        args.hub.as_deref().filter(|hub| !hub.is_empty()),
        args.token.as_deref().filter(|token| !token.is_empty()),
    );
    let people = match hub {
        Some(hub) => {
            let token = token.context("--hub needs --token (or GATEHOUSE_TOKEN): a viewer's admin token is enough")?;
            people_of_hub(hub.trim_end_matches('/'), token).await?
        }
        None => People::default(),
    };
    let report = impact::impact(&before, &after, &people)?;
    let rendered = match args.format {
        ImpactFormat::Text => impact::render_text(&report),
        ImpactFormat::Json => impact::render_json(&report),
        ImpactFormat::Markdown => impact::render_markdown(&report),
    };
    println!("{}", rendered.trim_end());
    let threshold = args.fail_on.map(|fail_on| match fail_on {
        FailOn::Breaking => Verdict::Breaking,
        FailOn::Narrowing => Verdict::NarrowsAccess,
    });
    if threshold.is_some_and(|threshold| report.fails(threshold)) {
        eprintln!(
            "gatehouse: the change is `{}`, which --fail-on refuses",
            report.verdict.as_str()
        );
        return Ok(ExitCode::from(EXIT_REFUSED));
    }
    Ok(ExitCode::SUCCESS)
}

/// The snapshot a directory of manifests would publish; each problem is named at its file:line.
fn snapshot_of_dir(dir: &Path, shown: &str) -> anyhow::Result<gateway::snapshot::Snapshot> {
    let files = load::read_dir(dir).with_context(|| format!("cannot read the manifests in {shown}"))?;
    impact::manifests::snapshot_of(files).map_err(|problems| {
        anyhow::anyhow!(
            "the manifests in {shown} do not build ({} problems):\n{problems}",
            problems.0.len()
        )
    })
}

/// A git revision's copy of a directory, written to a scratch directory removed on drop.
struct GitCheckout {
    dir: PathBuf,
}

impl GitCheckout {
    /// `head`'s directory as it is in `reference`, in the repository `head` is in. A directory
    /// the revision does not have is empty: everything in `head` is then new.
    fn of(head: &Path, reference: &str) -> anyhow::Result<GitCheckout> {
        let git = |args: &[&str]| -> anyhow::Result<Vec<u8>> {
            let output = Command::new("git")
                .arg("-C")
                .arg(head)
                .args(args)
                .output()
                .context("cannot run git")?;
            if !output.status.success() {
                bail!(
                    "git {}: {}",
                    args.join(" "),
                    String::from_utf8_lossy(&output.stderr).trim()
                );
            }
            Ok(output.stdout)
        };
        git(&["rev-parse", "--verify", "--quiet", &format!("{reference}^{{commit}}")]).with_context(|| {
            format!(
                "`{reference}` is not a commit of the repository {} is in",
                head.display()
            )
        })?;
        let prefix = String::from_utf8_lossy(&git(&["rev-parse", "--show-prefix"])?)
            .trim()
            .to_owned();
        let dir = std::env::temp_dir().join(format!(
            "gatehouse-impact-{}-{}",
            std::process::id(),
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |elapsed| elapsed.as_nanos())
        ));
        std::fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
        let checkout = GitCheckout { dir };
        let listed = git(&[
            "ls-tree",
            "-r",
            "-z",
            "--full-name",
            "--name-only",
            reference,
            "--",
            ".",
        ])?;
        for path in listed.split(|byte| *byte == 0).filter(|path| !path.is_empty()) {
            let path = String::from_utf8_lossy(path).into_owned();
            let relative = path.strip_prefix(&prefix).unwrap_or(&path);
            let text = git(&["show", &format!("{reference}:{path}")])?;
            let target = checkout.dir.join(relative);
            if let Some(parent) = target.parent() {
                std::fs::create_dir_all(parent).with_context(|| format!("cannot create {}", parent.display()))?;
            }
            std::fs::write(&target, text).with_context(|| format!("cannot write {}", target.display()))?;
        }
        Ok(checkout)
    }
}

impl Drop for GitCheckout {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// The hub's enabled users with their groups (every page of `GET /api/v1/users`), and the
/// applications that called each API version lately (`GET /api/v1/usage/applications`).
async fn people_of_hub(hub: &str, token: &str) -> anyhow::Result<People> {
    let client = reqwest::Client::builder()
        .timeout(std::time::Duration::from_secs(60))
        .build()
        .context("cannot build the HTTP client")?;
    let get = |url: String| {
        let client = client.clone();
        async move {
            let response = client
                .get(&url)
                .bearer_auth(token)
                .send()
                .await
                .with_context(|| format!("cannot reach the hub at {hub}"))?;
            let status = response.status();
            let body: Value = response.json().await.unwrap_or(Value::Null);
            if !status.is_success() {
                bail!(
                    "the hub refused GET {} ({status}): {}",
                    url.strip_prefix(hub).unwrap_or(&url),
                    body["detail"].as_str().unwrap_or("no detail")
                );
            }
            Ok(body)
        }
    };
    let mut people = People::default();
    people.know_users();
    let mut cursor: Option<String> = None;
    loop {
        let mut url = format!("{hub}/api/v1/users?limit={USERS_PER_PAGE}");
        if let Some(cursor) = &cursor {
            url.push_str("&cursor=");
            url.push_str(&form_encoded(cursor));
        }
        let page = get(url).await?;
        for user in page["items"].as_array().map(Vec::as_slice).unwrap_or_default() {
            let (Some(name), false) = (user["name"].as_str(), user["disabled"].as_bool().unwrap_or(false)) else {
                continue;
            };
            let groups = user["groups"]
                .as_array()
                .map(|groups| groups.iter().filter_map(Value::as_str).map(str::to_owned).collect())
                .unwrap_or_else(Vec::new);
            people.add_user(name, groups);
        }
        match page["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => break,
        }
    }
    let callers = get(format!("{hub}/api/v1/usage/applications?days={}", impact::CALLER_DAYS)).await?;
    people.know_callers();
    for entry in callers["callers"].as_array().map(Vec::as_slice).unwrap_or_default() {
        let Some(api) = entry["api"].as_str() else {
            continue;
        };
        let applications: Vec<String> = entry["applications"]
            .as_array()
            .map(|all| all.iter().filter_map(Value::as_str).map(str::to_owned).collect())
            .unwrap_or_default();
        people.add_callers(api, entry["version"].as_str().map(str::to_owned), applications);
    }
    // Who shadowed rules would have refused lately: the report of a change that enforces one names them.
    let shadow = get(format!("{hub}/api/v1/usage/shadow-refusals")).await?;
    people.know_shadow_refusals();
    for rule in shadow["rules"].as_array().map(Vec::as_slice).unwrap_or_default() {
        let (Some(rule_kind), Some(name)) = (rule["rule_kind"].as_str(), rule["rule"].as_str()) else {
            continue;
        };
        let users = rule["users"]
            .as_array()
            .map(Vec::as_slice)
            .unwrap_or_default()
            .iter()
            .map(|user| hub::domain::shadow::RefusedUser {
                user: user["user"].as_str().map(str::to_owned),
                requests: user["requests"].as_u64().unwrap_or(0),
            });
        people.add_shadow_refusals(rule_kind, name, users);
    }
    Ok(people)
}

/// A query value with the characters a cursor may hold escaped.
fn form_encoded(value: &str) -> String {
    value
        .bytes()
        .map(|byte| match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => (byte as char).to_string(),
            other => format!("%{other:02X}"),
        })
        .collect()
}
