//! The flags of `gatehouse demo seed`, `demo traffic` and `demo upstream`, and the parsers that make a
//! bad value a usage error naming its flag.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Subcommand};

use crate::cli::HubClientArgs;

/// Where `seed` writes the keys and `traffic` reads them, unless told otherwise.
pub const DEFAULT_KEYS_FILE: &str = "demo-keys.txt";

/// `gatehouse demo`.
#[derive(Debug, Clone, Args)]
pub struct DemoArgs {
    #[command(subcommand)]
    pub command: DemoCommand,
}

#[derive(Debug, Clone, Subcommand)]
pub enum DemoCommand {
    /// Give the demo's users an application and an API key each, and write the keys for `demo traffic`.
    ///
    /// The users are sam and priya (group support) and hana (group hr), made through the hub's
    /// admin API; apply deploy/demo/manifests first, since it defines their groups. Run again, it
    /// keeps the users and applications and issues new keys.
    #[command(
        after_help = "Example:\n  GATEHOUSE_TOKEN=ghat_... gatehouse demo seed --hub http://127.0.0.1:8080 --keys demo-keys.txt"
    )]
    Seed(SeedArgs),
    /// Play the demo's users calling the demo APIs through a gateway at a steady rate.
    ///
    /// Mostly reads, some writes, and calls their policies refuse (support writing: 403). Prints a
    /// summary line per interval: sent, and the answers by status class.
    #[command(
        after_help = "Examples:\n  gatehouse demo traffic --keys demo-keys.txt --rate 5\n  gatehouse demo traffic --gateway http://127.0.0.1:8000 --key sam=ghk_... --rate 2 --duration 10m"
    )]
    Traffic(TrafficArgs),
    /// Serve the demo's upstream APIs (employees and payroll), in memory, until Ctrl-C.
    #[command(after_help = "Example:\n  gatehouse demo upstream --listen 127.0.0.1:9400")]
    Upstream(UpstreamArgs),
}

/// `gatehouse demo seed`.
#[derive(Debug, Clone, Args)]
pub struct SeedArgs {
    #[command(flatten)]
    pub hub: HubClientArgs,

    /// Where to write the keys, one `user=key` line each (owner-readable only)
    #[arg(long, value_name = "FILE", default_value = DEFAULT_KEYS_FILE)]
    pub keys: PathBuf,

    /// Leave the new keys unpublished (they work once the next revision is published)
    #[arg(long)]
    pub no_publish: bool,
}

/// `gatehouse demo traffic`.
#[derive(Debug, Clone, Args)]
pub struct TrafficArgs {
    /// The gateway's proxy URL
    #[arg(
        long,
        env = "GATEHOUSE_DEMO_GATEWAY_URL",
        value_name = "URL",
        default_value = "http://127.0.0.1:8000",
        value_parser = parse_http_url
    )]
    pub gateway: String,

    /// Requests per second, all users together (0.1 to 1000)
    #[arg(long, value_name = "RPS", default_value = "5", value_parser = parse_rate)]
    pub rate: f64,

    /// How long to play (`90s`, `10m`, `1h`, or seconds) [default: until Ctrl-C]
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    pub duration: Option<Duration>,

    /// A user and their API key, `user=ghk_...`; repeat for several users
    #[arg(long = "key", value_name = "USER=KEY", value_parser = parse_user_key)]
    pub keys: Vec<(String, String)>,

    /// A file of `user=key` lines (what `demo seed` writes; `USER_KEY=key` lines of an env file work too)
    /// [default: demo-keys.txt, when no --key is given]
    #[arg(long = "keys", value_name = "FILE")]
    pub keys_file: Option<PathBuf>,

    /// Seconds between summary lines (`5s`, or seconds)
    #[arg(long, value_name = "DURATION", default_value = "5", value_parser = parse_duration)]
    pub interval: Duration,
}

/// `gatehouse demo upstream`.
#[derive(Debug, Clone, Args)]
pub struct UpstreamArgs {
    /// Where to serve the demo APIs; deploy/demo/manifests point at 127.0.0.1:9400
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:9400")]
    pub listen: SocketAddr,
}

/// An `http://` or `https://` URL with a host, without a trailing slash.
fn parse_http_url(text: &str) -> Result<String, String> {
    let url = reqwest::Url::parse(text).map_err(|error| format!("not a URL ({error})"))?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
        return Err("expected an http:// or https:// URL with a host".into());
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err("expected a base URL, without ?query or #fragment".into());
    }
    Ok(text.trim_end_matches('/').to_owned())
}

/// Requests per second: a finite number from 0.1 to 1000.
fn parse_rate(text: &str) -> Result<f64, String> {
    let rate: f64 = text
        .parse()
        .map_err(|_| "expected requests per second, e.g. 5 or 0.5".to_owned())?;
    if !(0.1..=1000.0).contains(&rate) {
        return Err("expected 0.1 to 1000 requests per second".into());
    }
    Ok(rate)
}

/// `90`, `90s`, `10m`, `1h`: a positive whole number of seconds, minutes or hours.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let (number, unit) = match text.find(|character: char| !character.is_ascii_digit()) {
        Some(index) => text.split_at(index),
        None => (text, "s"),
    };
    let seconds_per_unit = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        _ => return Err("expected a duration such as 90s, 10m or 1h".into()),
    };
    let number: u64 = number
        .parse()
        .map_err(|_| "expected a duration such as 90s, 10m or 1h".to_owned())?;
    if number == 0 {
        return Err("expected a duration above zero".into());
    }
    Ok(Duration::from_secs(number.saturating_mul(seconds_per_unit)))
}

/// `user=KEY`, both parts non-empty.
fn parse_user_key(text: &str) -> Result<(String, String), String> {
    match text.split_once('=') {
        Some((user, key)) if !user.trim().is_empty() && !key.trim().is_empty() => {
            Ok((user.trim().to_owned(), key.trim().to_owned()))
        }
        _ => Err("expected user=KEY, e.g. sam=ghk_...".into()),
    }
}

#[cfg(test)]
mod tests;
