//! `gatehouse demo seed`: the demo's users (`super::CAST`), each with an application and a fresh API
//! key, made through the hub's admin API (so as the token's user, audited), then published so the
//! gateways know the keys. Running it again keeps the users and applications and issues new keys.

use anyhow::{Context, anyhow};
use serde_json::{Value, json};

use super::args::SeedArgs;
use super::{CAST, DemoError, keys};

/// Makes the cast, writes their keys to `--keys` and prints where.
pub async fn run(args: &SeedArgs) -> Result<(), DemoError> {
    let hub = Hub {
        client: reqwest::Client::builder()
            .timeout(std::time::Duration::from_secs(30))
            .build()
            .context("cannot build the HTTP client")?,
        origin: args.hub.hub.trim_end_matches('/').to_owned(),
        token: args.hub.token.clone(),
    };
    let mut issued = Vec::new();
    for member in CAST {
        let (status, body) = hub
            .send(
                reqwest::Method::POST,
                "/users",
                Some(json!({
                    "name": member.name,
                    "email": format!("{}@example.com", member.name),
                    "display_name": member.display_name,
                    "groups": [member.group],
                })),
            )
            .await?;
        match status {
            201 => println!("created user {} (group {})", member.name, member.group),
            409 => println!("user {} exists", member.name),
            _ => {
                return Err(anyhow!(
                    "creating user {} in group {}: {} (apply deploy/demo/manifests first: it defines the groups)",
                    member.name,
                    member.group,
                    refusal(status, &body)
                )
                .into());
            }
        }
        let application = hub.application_of(member.name).await?;
        let (status, body) = hub
            .send(
                reqwest::Method::POST,
                &format!("/applications/{application}/keys"),
                Some(json!({ "name": "demo-traffic" })),
            )
            .await?;
        let secret = match (status, body["secret"].as_str()) {
            (201, Some(secret)) => secret.to_owned(),
            _ => return Err(anyhow!("issuing {}'s key: {}", member.name, refusal(status, &body)).into()),
        };
        issued.push((member.name.to_owned(), secret));
    }
    keys::write(&args.keys, &issued).with_context(|| format!("cannot write {}", args.keys.display()))?;
    println!("wrote {} API keys to {}", issued.len(), args.keys.display());
    if !args.no_publish {
        let (status, body) = hub
            .send(
                reqwest::Method::POST,
                "/revisions",
                Some(json!({ "message": "demo seed: the demo users' API keys" })),
            )
            .await?;
        match (status, body["revision"]["number"].as_i64()) {
            (201, Some(number)) => println!("published revision {number}"),
            (200, _) => println!("nothing new to publish"),
            _ => return Err(anyhow!("publishing the keys: {}", refusal(status, &body)).into()),
        }
    }
    Ok(())
}

/// A hub's admin API, as the token's user.
struct Hub {
    client: reqwest::Client,
    origin: String,
    token: String,
}

impl Hub {
    async fn send(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> anyhow::Result<(u16, Value)> {
        let url = format!("{}/api/v1{path}", self.origin);
        let mut request = self.client.request(method.clone(), &url).bearer_auth(&self.token);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request
            .send()
            .await
            .with_context(|| format!("cannot reach the hub at {}", self.origin))?;
        let status = response.status().as_u16();
        Ok((status, response.json().await.unwrap_or(Value::Null)))
    }

    /// The id of `user`'s demo application, made if missing.
    async fn application_of(&self, user: &str) -> anyhow::Result<String> {
        let name = format!("{user}-demo");
        let (status, body) = self
            .send(reqwest::Method::GET, &format!("/applications?owner={user}"), None)
            .await?;
        if status != 200 {
            anyhow::bail!("listing {user}'s applications: {}", refusal(status, &body));
        }
        let existing = body["items"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|application| application["name"] == name.as_str());
        if let Some(id) = existing.and_then(|application| application["id"].as_str()) {
            return Ok(id.to_owned());
        }
        let (status, body) = self
            .send(
                reqwest::Method::POST,
                "/applications",
                Some(json!({ "name": name, "owner": user, "description": "Made by gatehouse demo seed" })),
            )
            .await?;
        match (status, body["id"].as_str()) {
            (201, Some(id)) => Ok(id.to_owned()),
            _ => anyhow::bail!("creating {user}'s application: {}", refusal(status, &body)),
        }
    }
}

/// `403 Forbidden: <detail>`, from a problem+json answer.
fn refusal(status: u16, body: &Value) -> String {
    let detail = body["detail"]
        .as_str()
        .or(body["title"].as_str())
        .unwrap_or("no detail");
    let errors: Vec<String> = body["errors"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|error| {
            format!(
                "{}: {}",
                error["field"].as_str().unwrap_or(""),
                error["message"].as_str().unwrap_or("")
            )
        })
        .collect();
    if errors.is_empty() {
        format!("the hub answered {status}: {detail}")
    } else {
        format!("the hub answered {status}: {detail} ({})", errors.join("; "))
    }
}
