//! `gatehouse export` and `gatehouse apply`: clients of the hub's `/api/v1/manifests` routes,
//! so that an apply runs in the hub, in one transaction, as the token's user.

use std::path::Path;

use anyhow::{Context, bail};
use hub::manifest::{SourceFile, load};
use serde_json::{Value, json};

use crate::cli::{ApplyArgs, ExportArgs, HubClientArgs};

fn client(args: &HubClientArgs) -> anyhow::Result<(reqwest::Client, String)> {
    let client = reqwest::Client::builder()
        .timeout(std::time::Duration::from_secs(120))
        .build()
        .context("cannot build the HTTP client")?;
    Ok((client, args.hub.trim_end_matches('/').to_owned()))
}

/// The response's JSON, or the hub's refusal with each problem on its own line.
async fn answer(response: reqwest::Response) -> anyhow::Result<Value> {
    let status = response.status();
    let body: Value = response.json().await.unwrap_or(Value::Null);
    if status.is_success() {
        return Ok(body);
    }
    let detail = body["detail"].as_str().unwrap_or("no detail").to_owned();
    if let Some(errors) = body["errors"].as_array() {
        for error in errors {
            eprintln!(
                "{}: {}",
                error["field"].as_str().unwrap_or(""),
                error["message"].as_str().unwrap_or("")
            );
        }
    }
    bail!("the hub refused ({status}): {detail}")
}

/// Writes the hub's state into `dir` as manifest files.
pub async fn export(args: &ExportArgs) -> anyhow::Result<()> {
    let (client, hub) = client(&args.hub)?;
    let response = client
        .get(format!("{hub}/api/v1/manifests"))
        .bearer_auth(&args.hub.token)
        .send()
        .await
        .with_context(|| format!("cannot reach the hub at {hub}"))?;
    let body = answer(response).await?;
    let files: Vec<SourceFile> =
        serde_json::from_value(body["files"].clone()).context("the hub's answer has no files")?;
    for file in &files {
        let relative = load::normalize(&file.path).filter(|path| !path.is_empty());
        let Some(relative) = relative else {
            bail!("the hub sent a file outside the directory: {}", file.path);
        };
        let path = args.dir.join(&relative);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).with_context(|| format!("cannot create {}", parent.display()))?;
        }
        std::fs::write(&path, &file.text).with_context(|| format!("cannot write {}", path.display()))?;
    }
    println!("wrote {} files to {}", files.len(), args.dir.display());
    Ok(())
}

/// The commit and its subject of the git repository `dir` is in, if it is in one.
fn git_source(dir: &Path) -> (Option<String>, Option<String>) {
    let git = |args: &[&str]| {
        std::process::Command::new("git")
            .arg("-C")
            .arg(dir)
            .args(args)
            .output()
            .ok()
            .filter(|output| output.status.success())
            .map(|output| String::from_utf8_lossy(&output.stdout).trim().to_owned())
            .filter(|text| !text.is_empty())
    };
    (git(&["rev-parse", "HEAD"]), git(&["log", "-1", "--format=%s"]))
}

fn print_plan(steps: &[Value]) {
    if steps.is_empty() {
        println!("no changes: the hub already matches the manifests");
        return;
    }
    for step in steps {
        let sign = match step["action"].as_str() {
            Some("create") => "+ create",
            Some("update") => "~ update",
            _ => "- delete",
        };
        let fields: Vec<&str> = step["fields"]
            .as_array()
            .map(|fields| fields.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        let fields = if fields.is_empty() {
            String::new()
        } else {
            format!(" ({})", fields.join(", "))
        };
        println!(
            "{sign} {} {}{fields}",
            step["kind"].as_str().unwrap_or(""),
            step["name"].as_str().unwrap_or("")
        );
    }
}

/// Prints the plan, then makes the hub match the manifests in `dir` (unless `--dry-run`).
pub async fn apply(args: &ApplyArgs) -> anyhow::Result<()> {
    let files = load::read_dir(&args.dir).with_context(|| format!("cannot read {}", args.dir.display()))?;
    let (git_commit, git_message) = git_source(&args.dir);
    let commit = args.commit.clone().or(git_commit);
    let message = args.message.clone().or(git_message);
    let (client, hub) = client(&args.hub)?;
    let send = |dry_run: bool| {
        client
            .post(format!("{hub}/api/v1/manifests/apply"))
            .bearer_auth(&args.hub.token)
            .json(&json!({
                "files": files,
                "prune": args.prune,
                "dry_run": dry_run,
                "publish": args.publish,
                "message": message,
                "commit": commit,
            }))
            .send()
    };
    let planned = answer(
        send(true)
            .await
            .with_context(|| format!("cannot reach the hub at {hub}"))?,
    )
    .await?;
    let steps = planned["steps"].as_array().cloned().unwrap_or_default();
    print_plan(&steps);
    if args.dry_run {
        println!("dry run: nothing was changed");
        return Ok(());
    }
    if steps.is_empty() && !args.publish {
        return Ok(());
    }
    let applied = answer(
        send(false)
            .await
            .with_context(|| format!("cannot reach the hub at {hub}"))?,
    )
    .await?;
    let done = applied["steps"].as_array().map_or(0, Vec::len);
    if done != steps.len() {
        println!("the hub changed meanwhile; what was applied:");
        print_plan(applied["steps"].as_array().map(Vec::as_slice).unwrap_or(&[]));
    }
    println!("applied {done} change{}", if done == 1 { "" } else { "s" });
    match applied["published"]["revision"]["number"].as_i64() {
        Some(number) => println!("published revision {number}"),
        None if args.publish => println!("nothing new to publish"),
        None => {}
    }
    Ok(())
}
