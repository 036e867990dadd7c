//! The command line: every flag, its `GATEHOUSE_*` environment variable, and its help text.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// Gatehouse: an API management hub, its gateway and its developer portal, in one binary.
#[derive(Debug, Parser)]
#[command(name = "gatehouse", version, about, long_about = None, after_help = EXAMPLES)]
pub struct Cli {
    /// A TOML configuration file; flags and GATEHOUSE_* variables override what it says.
    #[arg(long, global = true, env = "GATEHOUSE_CONFIG", value_name = "FILE")]
    pub config: Option<PathBuf>,

    /// Log format.
    #[arg(long, global = true, env = "GATEHOUSE_LOG_FORMAT", value_enum)]
    pub log_format: Option<LogFormat>,

    /// Log filter, in `tracing` syntax (`info`, `hub=debug,tower_http=info`) [default: info,sqlx=warn]
    #[arg(long, global = true, env = "GATEHOUSE_LOG", value_name = "FILTER")]
    pub log: Option<String>,

    /// Worker threads serving requests [default: one per core]
    #[arg(long, global = true, env = "GATEHOUSE_WORKER_THREADS", value_name = "N")]
    pub worker_threads: Option<std::num::NonZeroUsize>,

    #[command(subcommand)]
    pub command: Command,
}

const EXAMPLES: &str = "Every flag can also be set by a GATEHOUSE_* environment variable, or in the --config file; \
each subcommand's --help names them.

Examples:
  gatehouse up                                   # everything, embedded SQLite in ./data
  gatehouse hub --database-url postgres://postgres@127.0.0.1/gatehouse --hub-listen 0.0.0.0:8080
  gatehouse migrate --data-dir /var/lib/gatehouse";

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run every role in one process on embedded defaults (SQLite in the data directory).
    #[command(
        after_help = "Examples:\n  gatehouse up --demo\n  gatehouse up --data-dir ./data --hub-listen 127.0.0.1:8080"
    )]
    Up(Box<UpArgs>),
    /// Run a gateway: enforce a snapshot on every request, followed from a hub or read from a file.
    #[command(
        after_help = "Examples:\n  GATEHOUSE_GATEWAY_TOKEN=... gatehouse gateway --hub https://hub.example.com --gateway-listen 0.0.0.0:8000\n  gatehouse gateway --snapshot snapshot.json --gateway-listen 0.0.0.0:8000 --rate-limit-store redis://127.0.0.1:6379"
    )]
    Gateway(GatewayCommandArgs),
    /// Run the hub: the admin REST API and its reference page.
    #[command(
        after_help = "Example:\n  GATEHOUSE_ADMIN_PASSWORD=change-me-please gatehouse hub --database-url postgres://postgres@127.0.0.1/gatehouse"
    )]
    Hub(RoleArgs),
    /// Run the developer portal: sign-in, the catalog, API pages, try-it, applications and keys.
    #[command(
        after_help = "Example:\n  gatehouse portal --database-url postgres://postgres@127.0.0.1/gatehouse --portal-gateway-url https://api.example.com --portal-public-url https://developers.example.com"
    )]
    Portal(PortalCommandArgs),
    /// Apply database migrations, then exit.
    #[command(after_help = "Example:\n  gatehouse migrate --database-url postgres://postgres@127.0.0.1/gatehouse")]
    Migrate(StoreArgs),
    /// Write the hub's APIs, groups, plans and access policies as manifest files into DIR.
    #[command(
        after_help = "Example:\n  GATEHOUSE_TOKEN=ghat_... gatehouse export ./gatehouse --hub https://hub.example.com"
    )]
    Export(ExportArgs),
    /// Make the hub match the manifests in DIR, in one transaction, printing the plan first.
    #[command(
        after_help = "Examples:\n  GATEHOUSE_TOKEN=ghat_... gatehouse apply ./gatehouse --dry-run\n  GATEHOUSE_TOKEN=ghat_... gatehouse apply ./gatehouse --prune --publish"
    )]
    Apply(ApplyArgs),
    /// Check the manifests in DIR offline, without a hub: syntax, schema and meaning, each finding at its line.
    #[command(
        after_help = "Exit status: 0 when nothing fails, 1 when an error is found (or a warning, with --deny-warnings), 2 when DIR cannot be read.\n\nExamples:\n  gatehouse lint ./gatehouse\n  gatehouse lint ./gatehouse --format sarif > lint.sarif"
    )]
    Lint(LintArgs),
    /// Report what a change to the manifests does to access: per API, per group and per user.
    #[command(
        after_help = "Exit status: 0 with the report printed (whatever it says), 1 when the verdict reaches --fail-on, 2 when no report can be made (a manifest set that does not build, a git or hub error).\n\nExamples:\n  gatehouse impact --base ./old --head ./new\n  gatehouse impact --git-base origin/main --head ./gatehouse --format markdown\n  GATEHOUSE_TOKEN=ghat_... gatehouse impact --git-base origin/main --head ./gatehouse --hub https://hub.example.com --fail-on breaking"
    )]
    Impact(ImpactArgs),
    /// The demo's story: seed its users' keys, play their traffic, serve its upstream APIs.
    #[command(
        after_help = "Examples:\n  gatehouse demo upstream\n  GATEHOUSE_TOKEN=ghat_... gatehouse demo seed\n  gatehouse demo traffic --rate 5\n\nThe story, step by step: deploy/demo/README.md"
    )]
    Demo(crate::demo::DemoArgs),
}

/// `gatehouse impact`.
#[derive(Debug, Clone, Args)]
pub struct ImpactArgs {
    /// The manifests before the change: a directory (with --head)
    #[arg(long, value_name = "DIR", conflicts_with = "git_base")]
    pub base: Option<PathBuf>,

    /// The manifests before the change: the --head directory as it is in this git revision (`origin/main`)
    #[arg(long, value_name = "REF")]
    pub git_base: Option<String>,

    /// The manifests after the change: a directory [default: . with --git-base]
    #[arg(long, value_name = "DIR")]
    pub head: Option<PathBuf>,

    /// How to print the report
    #[arg(long, value_enum, default_value = "text")]
    pub format: ImpactFormat,

    /// Exit 1 when the change is breaking (`breaking`), or breaking or narrows access (`narrowing`)
    #[arg(long, value_enum, value_name = "VERDICT")]
    pub fail_on: Option<FailOn>,

    /// A hub to ask for its users (to name them, group by group) and for the applications that called each API version in the last 7 days
    #[arg(long, env = "GATEHOUSE_HUB_URL", value_name = "URL")]
    pub hub: Option<String>,

    /// An admin token for --hub; a viewer's is enough
    #[arg(long, env = "GATEHOUSE_TOKEN", value_name = "TOKEN", hide_env_values = true)]
    pub token: Option<String>,
}

/// How `gatehouse impact` prints its report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ImpactFormat {
    /// Lines for a terminal.
    Text,
    /// The report as JSON.
    Json,
    /// Markdown for a pull-request comment.
    Markdown,
}

/// The verdict `gatehouse impact --fail-on` refuses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FailOn {
    /// A breaking change: an API or version removed or retired, a route or selector changed.
    Breaking,
    /// A breaking change, or one that narrows access or lowers a limit.
    Narrowing,
}

/// Which hub a client command talks to, and as whom.
#[derive(Debug, Clone, Args)]
pub struct HubClientArgs {
    /// The hub's base URL
    #[arg(
        long,
        env = "GATEHOUSE_HUB_URL",
        value_name = "URL",
        default_value = "http://127.0.0.1:8080"
    )]
    pub hub: String,

    /// An admin token (`POST /api/v1/admin-tokens`); a viewer's is enough to export
    #[arg(long, env = "GATEHOUSE_TOKEN", value_name = "TOKEN", hide_env_values = true)]
    pub token: String,
}

/// `gatehouse export`.
#[derive(Debug, Clone, Args)]
pub struct ExportArgs {
    /// The directory to write into (created if missing)
    pub dir: PathBuf,

    #[command(flatten)]
    pub hub: HubClientArgs,
}

/// `gatehouse apply`.
#[derive(Debug, Clone, Args)]
pub struct ApplyArgs {
    /// The directory of manifests (every .yaml, .yml and .json file under it)
    pub dir: PathBuf,

    #[command(flatten)]
    pub hub: HubClientArgs,

    /// Also delete what the hub holds and the manifests do not
    #[arg(long)]
    pub prune: bool,

    /// Print the plan and change nothing
    #[arg(long)]
    pub dry_run: bool,

    /// Publish the result as a revision in the same step
    #[arg(long)]
    pub publish: bool,

    /// The source commit to record [default: the git HEAD of DIR's repository]
    #[arg(long, value_name = "SHA")]
    pub commit: Option<String>,

    /// The publish message [default: the subject of that commit]
    #[arg(long, value_name = "TEXT")]
    pub message: Option<String>,
}

/// `gatehouse lint`.
#[derive(Debug, Clone, Args)]
pub struct LintArgs {
    /// The directory of manifests (every .yaml, .yml and .json file under it)
    pub dir: PathBuf,

    /// How findings are printed
    #[arg(long, value_enum, default_value_t = LintFormat::Text)]
    pub format: LintFormat,

    /// Fail on warnings too
    #[arg(long)]
    pub deny_warnings: bool,
}

/// `gatehouse lint --format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LintFormat {
    /// Each finding with its line of the file and a caret under the column.
    Text,
    /// One JSON document: the findings with file, line and column, and the counts.
    Json,
    /// SARIF 2.1.0, for code scanning (GitHub and others).
    Sarif,
}

/// Where the hub keeps its state.
#[derive(Debug, Clone, Args)]
pub struct StoreArgs {
    /// Directory for the embedded database and other local state [default: data]
    #[arg(long, env = "GATEHOUSE_DATA_DIR", value_name = "DIR")]
    pub data_dir: Option<PathBuf>,

    /// Postgres URL (`postgres://user@host/db`); without it the embedded SQLite is used.
    #[arg(long, env = "GATEHOUSE_DATABASE_URL", value_name = "URL", hide_env_values = true)]
    pub database_url: Option<String>,
}

/// Settings of a serving role.
#[derive(Debug, Clone, Args)]
pub struct RoleArgs {
    #[command(flatten)]
    pub store: StoreArgs,

    /// Address of the hub's admin API [default: 127.0.0.1:8080]
    #[arg(long, env = "GATEHOUSE_HUB_LISTEN", value_name = "ADDR")]
    pub hub_listen: Option<SocketAddr>,

    /// Publish after every successful change through the admin API (on by default in `up`)
    #[arg(long, env = "GATEHOUSE_AUTO_PUBLISH")]
    pub auto_publish: bool,

    /// Largest request body the admin API accepts, in bytes [default: 4194304]
    #[arg(long, env = "GATEHOUSE_MAX_BODY_BYTES", value_name = "BYTES")]
    pub max_body_bytes: Option<usize>,

    /// Days the gateways' usage summaries are kept for analytics [default: 30]
    #[arg(long, env = "GATEHOUSE_USAGE_RETENTION_DAYS", value_name = "DAYS")]
    pub usage_retention_days: Option<u64>,

    /// Hours usage is kept by the minute before it is merged into hours [default: 48]
    #[arg(long, env = "GATEHOUSE_USAGE_ROLLUP_AFTER_HOURS", value_name = "HOURS")]
    pub usage_rollup_after_hours: Option<u64>,

    /// Grafana's root URL: each published revision is posted to its annotations API (needs
    /// --grafana-token)
    #[arg(long, env = "GATEHOUSE_GRAFANA_URL", value_name = "URL")]
    pub grafana_url: Option<String>,

    /// A Grafana service-account token that may create annotations. Set it through the
    /// environment, not the command line.
    #[arg(long, env = "GATEHOUSE_GRAFANA_TOKEN", value_name = "TOKEN", hide_env_values = true)]
    pub grafana_token: Option<String>,

    /// Password of the first admin, used only when no admin exists yet; generated and printed
    /// once when absent. Set it through the environment, not the command line.
    #[arg(
        long,
        env = "GATEHOUSE_ADMIN_PASSWORD",
        value_name = "PASSWORD",
        hide_env_values = true
    )]
    pub admin_password: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object per line.
    Json,
}

/// A clap error as one line, without the `error:` prefix: the complaint, then clap's tips and
/// possible values, without its usage lines.
pub fn one_line(error: &clap::Error) -> String {
    let rendered = error.render().to_string();
    let mut lines = rendered
        .lines()
        .map(str::trim)
        .filter(|line| !line.is_empty() && !line.starts_with("Usage:") && !line.starts_with("For more information"));
    let complaint = lines.next().unwrap_or("invalid arguments");
    let mut message = complaint.strip_prefix("error: ").unwrap_or(complaint).to_owned();
    for detail in lines {
        message.push_str("; ");
        message.push_str(detail);
    }
    message.push_str(" (see --help)");
    message
}

/// `up`: the hub's settings and the gateway's.
#[derive(Debug, Clone, Args)]
pub struct UpArgs {
    /// Load a demo: APIs served by a built-in upstream, groups, plans, policies, users and keys
    #[arg(long, env = "GATEHOUSE_DEMO")]
    pub demo: bool,
    #[command(flatten)]
    pub hub: RoleArgs,
    #[command(flatten)]
    pub gateway: GatewayArgs,
    #[command(flatten)]
    pub portal: PortalArgs,
}

/// `portal`: the hub's store it reads and writes, and the portal's settings.
#[derive(Debug, Clone, Args)]
pub struct PortalCommandArgs {
    #[command(flatten)]
    pub store: StoreArgs,
    #[command(flatten)]
    pub portal: PortalArgs,
}

/// Settings of the portal role. Identity providers are configured in the file (`[[portal.providers]]`).
#[derive(Debug, Clone, Args)]
pub struct PortalArgs {
    /// Address of the developer portal [default: 127.0.0.1:8090]
    #[arg(long, env = "GATEHOUSE_PORTAL_LISTEN", value_name = "ADDR")]
    pub portal_listen: Option<SocketAddr>,

    /// The gateway try-it calls go to, and nowhere else [default: the gateway of `up`, or http://127.0.0.1:8000]
    #[arg(long, env = "GATEHOUSE_PORTAL_GATEWAY_URL", value_name = "URL")]
    pub portal_gateway_url: Option<String>,

    /// The gateway's admin port, asked for each user's usage of their plan [default: the gateway admin of `up`]
    #[arg(long, env = "GATEHOUSE_PORTAL_GATEWAY_ADMIN_URL", value_name = "URL")]
    pub portal_gateway_admin_url: Option<String>,

    /// The portal's public base URL, for identity providers' redirects [default: http://<portal listen address>]
    #[arg(long, env = "GATEHOUSE_PORTAL_PUBLIC_URL", value_name = "URL")]
    pub portal_public_url: Option<String>,

    /// When the session cookie is marked Secure: auto (over TLS, or behind a proxy that says so), always, never [default: auto]
    #[arg(long, env = "GATEHOUSE_PORTAL_SECURE_COOKIES", value_enum)]
    pub portal_secure_cookies: Option<SecureCookiesArg>,

    /// Let anyone create a developer account (in no group) from the sign-in page
    #[arg(long, env = "GATEHOUSE_PORTAL_SELF_SIGN_UP")]
    pub portal_self_sign_up: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SecureCookiesArg {
    Auto,
    Always,
    Never,
}

/// `gateway`: where it keeps state, and the gateway's settings.
#[derive(Debug, Clone, Args)]
pub struct GatewayCommandArgs {
    /// Directory for the last good snapshot [default: data]
    #[arg(long, env = "GATEHOUSE_DATA_DIR", value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
    #[command(flatten)]
    pub gateway: GatewayArgs,
}

/// Settings of the gateway role.
#[derive(Debug, Clone, Args)]
pub struct GatewayArgs {
    /// A snapshot file to enforce; reloaded when it changes. Exclusive with --hub
    #[arg(long, env = "GATEHOUSE_SNAPSHOT", value_name = "FILE")]
    pub snapshot: Option<PathBuf>,

    /// The hub to follow (http:// or https://): its published snapshots are enforced as they come
    #[arg(long = "hub", env = "GATEHOUSE_HUB_URL", value_name = "URL")]
    pub hub_url: Option<String>,

    /// The gateway token the hub issued, needed with --hub. Set it through the environment, not the command line
    #[arg(long, env = "GATEHOUSE_GATEWAY_TOKEN", value_name = "TOKEN", hide_env_values = true)]
    pub token: Option<String>,

    /// Address of the gateway's proxy port [default: 127.0.0.1:8000]
    #[arg(long, env = "GATEHOUSE_GATEWAY_LISTEN", value_name = "ADDR")]
    pub gateway_listen: Option<SocketAddr>,

    /// Address of the gateway's admin port (/healthz, /readyz, /config, /metrics) [default: 127.0.0.1:8001]
    #[arg(long, env = "GATEHOUSE_GATEWAY_ADMIN_LISTEN", value_name = "ADDR")]
    pub gateway_admin_listen: Option<SocketAddr>,

    /// Address of the gateway's TLS listener (certificates from the hub or --tls-cert-dir); without it no TLS
    #[arg(long, env = "GATEHOUSE_TLS_LISTEN", value_name = "ADDR")]
    pub tls_listen: Option<SocketAddr>,

    /// Directory of NAME.crt/NAME.key PEM pairs for the TLS listener, reloaded when they change
    #[arg(long, env = "GATEHOUSE_TLS_CERT_DIR", value_name = "DIR")]
    pub tls_cert_dir: Option<PathBuf>,

    /// Redis URL shared by gateway replicas for rate-limit counters; without it they are kept in memory
    #[arg(long, env = "GATEHOUSE_RATE_LIMIT_STORE", value_name = "URL", hide_env_values = true)]
    pub rate_limit_store: Option<String>,

    /// When the rate-limit store does not answer: allow requests (open) or refuse them (closed) [default: open]
    #[arg(long, env = "GATEHOUSE_RATE_LIMIT_FAIL", value_enum)]
    pub rate_limit_fail: Option<FailModeArg>,

    /// Longest wait for the rate-limit store per request, in milliseconds [default: 50]
    #[arg(long, env = "GATEHOUSE_RATE_LIMIT_TIMEOUT_MS", value_name = "MS")]
    pub rate_limit_timeout_ms: Option<u64>,

    /// Seconds between usage reports to the hub: the period requests are summed over, 1 to 3600 [default: 60]
    #[arg(long, env = "GATEHOUSE_USAGE_INTERVAL_SECONDS", value_name = "SECONDS")]
    pub usage_interval_seconds: Option<u64>,

    /// Leave the consumer and application labels off request metrics (for very many consumers)
    #[arg(long, env = "GATEHOUSE_NO_CONSUMER_LABELS")]
    pub no_consumer_labels: bool,

    /// Write one JSON line per request to standard output
    #[arg(long, env = "GATEHOUSE_ACCESS_LOG")]
    pub access_log: bool,

    /// Proxy worker threads, each with its own runtime and listener [default: one per core]
    #[arg(long, env = "GATEHOUSE_GATEWAY_WORKERS", value_name = "N")]
    pub gateway_workers: Option<std::num::NonZeroUsize>,

    /// Export traces and metrics over OTLP/HTTP to this collector (`http://127.0.0.1:4318`); without it nothing is exported
    #[arg(long, env = "GATEHOUSE_OTLP_ENDPOINT", value_name = "URL")]
    pub otlp_endpoint: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FailModeArg {
    Open,
    Closed,
}
