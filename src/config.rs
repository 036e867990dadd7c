//! Resolving the configuration: flags and environment (through clap) over the TOML file over
//! defaults, into each role's typed config. All of it is checked before any port is bound.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use hub::model::user::{MAX_PASSWORD_LEN, MIN_PASSWORD_LEN};
use serde::Deserialize;

use crate::cli::{FailModeArg, GatewayArgs, LogFormat, PortalArgs, RoleArgs, SecureCookiesArg, StoreArgs};

/// The TOML file's shape; every field is optional.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileConfig {
    pub data_dir: Option<PathBuf>,
    pub database_url: Option<String>,
    pub log_format: Option<LogFormat>,
    pub log: Option<String>,
    #[serde(default)]
    pub hub: HubSection,
    #[serde(default)]
    pub gateway: GatewaySection,
    #[serde(default)]
    pub portal: PortalSection,
}

/// The `[portal]` table; `[[portal.providers]]` lists the OpenID Connect providers.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PortalSection {
    /// Which of the hub's portal settings (`kind: Portal`) this portal reads.
    pub name: Option<String>,
    pub listen: Option<SocketAddr>,
    pub gateway_url: Option<String>,
    pub gateway_admin_url: Option<String>,
    pub public_url: Option<String>,
    pub secure_cookies: Option<SecureCookiesArg>,
    pub self_sign_up: Option<bool>,
    #[serde(default)]
    pub providers: Vec<portal::config::ProviderConfig>,
}

/// The portal's configuration from flags, environment and file; `gateway` is the gateway of `up`
/// (its proxy and admin addresses).
pub fn portal_config(
    args: &PortalArgs,
    file: &FileConfig,
    gateway: Option<(SocketAddr, SocketAddr)>,
) -> Result<portal::PortalConfig, String> {
    let defaults = portal::PortalConfig::default();
    let section = &file.portal;
    let gateway_url = args
        .portal_gateway_url
        .clone()
        .or_else(|| section.gateway_url.clone())
        .or_else(|| gateway.map(|(proxy, _)| format!("http://{proxy}")))
        .unwrap_or(defaults.gateway_url.clone());
    let gateway_admin_url = args
        .portal_gateway_admin_url
        .clone()
        .or_else(|| section.gateway_admin_url.clone())
        .or_else(|| gateway.map(|(_, admin)| format!("http://{admin}")));
    let public_url = args.portal_public_url.clone().or_else(|| section.public_url.clone());
    for (field, url) in [
        ("portal gateway_url", Some(&gateway_url)),
        ("portal public_url", public_url.as_ref()),
    ] {
        if let Some(url) = url
            && !url.starts_with("http://")
            && !url.starts_with("https://")
        {
            return Err(format!("{field} must start with http:// or https://"));
        }
    }
    let mut names = std::collections::HashSet::new();
    for (index, provider) in section.providers.iter().enumerate() {
        let slug = !provider.name.is_empty()
            && provider
                .name
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
        if !slug {
            return Err(format!("portal.providers[{index}].name must be a slug (a-z, 0-9, -)"));
        }
        if !names.insert(provider.name.as_str()) {
            return Err(format!(
                "portal.providers[{index}].name `{}` is listed twice",
                provider.name
            ));
        }
        if !provider.issuer.starts_with("http://") && !provider.issuer.starts_with("https://") {
            return Err(format!("portal.providers[{index}].issuer must be an http(s) URL"));
        }
    }
    let secure = args
        .portal_secure_cookies
        .or(section.secure_cookies)
        .unwrap_or(SecureCookiesArg::Auto);
    Ok(portal::PortalConfig {
        name: section.name.clone().unwrap_or(defaults.name),
        listen: args.portal_listen.or(section.listen).unwrap_or(defaults.listen),
        gateway_url,
        gateway_admin_url,
        public_url,
        secure_cookies: match secure {
            SecureCookiesArg::Auto => portal::config::SecureCookies::Auto,
            SecureCookiesArg::Always => portal::config::SecureCookies::Always,
            SecureCookiesArg::Never => portal::config::SecureCookies::Never,
        },
        self_sign_up: args.portal_self_sign_up || section.self_sign_up.unwrap_or(false),
        providers: section.providers.clone(),
        ..defaults
    })
}

/// The `[gateway]` table.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GatewaySection {
    pub snapshot: Option<PathBuf>,
    pub hub_url: Option<String>,
    pub hub_token: Option<String>,
    pub listen: Option<SocketAddr>,
    pub admin_listen: Option<SocketAddr>,
    pub rate_limit_store: Option<String>,
    pub rate_limit_fail: Option<FailModeArg>,
    pub rate_limit_timeout_ms: Option<u64>,
    pub usage_interval_seconds: Option<u64>,
    pub consumer_labels: Option<bool>,
    pub access_log: Option<bool>,
    pub otlp_endpoint: Option<String>,
    pub workers: Option<std::num::NonZeroUsize>,
    pub tls_listen: Option<SocketAddr>,
    pub tls_cert_dir: Option<PathBuf>,
}

/// The gateway's configuration from flags, environment and file.
pub fn gateway_config(
    args: &GatewayArgs,
    data_dir: Option<&Path>,
    file: &FileConfig,
) -> Result<gateway::config::GatewayConfig, String> {
    let defaults = gateway::config::GatewayConfig::default();
    let section = &file.gateway;
    let rate_limit_store = args
        .rate_limit_store
        .clone()
        .or_else(|| section.rate_limit_store.clone())
        .filter(|url| !url.is_empty());
    if let Some(url) = &rate_limit_store
        && !url.starts_with("redis://")
        && !url.starts_with("rediss://")
    {
        return Err("rate_limit_store must start with redis://".into());
    }
    let otlp = args
        .otlp_endpoint
        .as_deref()
        .or(section.otlp_endpoint.as_deref())
        .filter(|url| !url.is_empty())
        .map(gateway::telemetry::OtlpSettings::new)
        .transpose()
        .map_err(|error| error.to_string())?;
    let snapshot = args.snapshot.clone().or_else(|| section.snapshot.clone());
    let hub_url = args
        .hub_url
        .clone()
        .or_else(|| section.hub_url.clone())
        .filter(|url| !url.is_empty());
    let hub_token = args
        .token
        .clone()
        .or_else(|| section.hub_token.clone())
        .filter(|token| !token.is_empty());
    if let Some(url) = &hub_url {
        if snapshot.is_some() {
            return Err(
                "--hub and --snapshot are exclusive: a gateway follows the hub or a snapshot file, not both".into(),
            );
        }
        let Some(token) = &hub_token else {
            return Err("--hub needs --token (GATEHOUSE_GATEWAY_TOKEN): the gateway token the hub issued".into());
        };
        gateway::source::hub::check_settings(url, token).map_err(|error| error.to_string())?;
    }
    let usage_interval = match args.usage_interval_seconds.or(section.usage_interval_seconds) {
        None => defaults.usage_interval,
        Some(seconds @ 1..=3600) => std::time::Duration::from_secs(seconds),
        Some(seconds) => return Err(format!("usage_interval_seconds must be 1 to 3600, not {seconds}")),
    };
    let fail = args
        .rate_limit_fail
        .or(section.rate_limit_fail)
        .unwrap_or(FailModeArg::Open);
    Ok(gateway::config::GatewayConfig {
        listen: args.gateway_listen.or(section.listen).unwrap_or(defaults.listen),
        admin_listen: args
            .gateway_admin_listen
            .or(section.admin_listen)
            .unwrap_or(defaults.admin_listen),
        data_dir: data_dir
            .map(Path::to_path_buf)
            .or_else(|| file.data_dir.clone())
            .unwrap_or(defaults.data_dir.clone()),
        snapshot,
        hub_url,
        hub_token,
        rate_limit_store,
        rate_limit_fail: match fail {
            FailModeArg::Open => gateway::limit::FailMode::Open,
            FailModeArg::Closed => gateway::limit::FailMode::Closed,
        },
        rate_limit_timeout: args
            .rate_limit_timeout_ms
            .or(section.rate_limit_timeout_ms)
            .map_or(defaults.rate_limit_timeout, std::time::Duration::from_millis),
        usage_interval,
        telemetry: gateway::telemetry::TelemetrySettings {
            consumer_labels: !args.no_consumer_labels && section.consumer_labels.unwrap_or(true),
            access_log: args.access_log || section.access_log.unwrap_or(false),
            otlp,
            // On with a hub (`gateway::start`), and in `up` (`main`).
            usage_summaries: false,
        },
        workers: args
            .gateway_workers
            .or(section.workers)
            .map_or(defaults.workers, std::num::NonZeroUsize::get),
        tls_listen: args.tls_listen.or(section.tls_listen),
        tls_cert_dir: args.tls_cert_dir.clone().or_else(|| section.tls_cert_dir.clone()),
        ..defaults
    })
}

/// The `[hub]` table.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HubSection {
    pub listen: Option<SocketAddr>,
    pub max_body_bytes: Option<usize>,
    pub admin_password: Option<String>,
    pub auto_publish: Option<bool>,
    pub usage_retention_days: Option<u64>,
    pub usage_rollup_after_hours: Option<u64>,
    pub grafana_url: Option<String>,
    pub grafana_token: Option<String>,
}

/// Reads the configuration file, if one is named.
pub fn read_file(path: Option<&Path>) -> Result<FileConfig, String> {
    let Some(path) = path else {
        return Ok(FileConfig::default());
    };
    let text = std::fs::read_to_string(path).map_err(|error| format!("cannot read {}: {error}", path.display()))?;
    toml::from_str(&text).map_err(|error| {
        // toml's own rendering spans several lines (a caret diagram); an error is one line.
        let (line, column) = error.span().map_or((1, 1), |span| line_and_column(&text, span.start));
        let message = error.message().trim().replace('\n', " ");
        format!("{}:{line}:{column}: {message}", path.display())
    })
}

/// The 1-based line and column (in characters) of a byte offset.
fn line_and_column(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..text.floor_char_boundary(offset.min(text.len()))];
    let line_start = before.rfind('\n').map_or(0, |newline| newline + 1);
    (
        before.matches('\n').count() + 1,
        before[line_start..].chars().count() + 1,
    )
}

/// The hub's configuration from flags, environment and file.
pub fn hub_config(args: &RoleArgs, file: &FileConfig, up: bool) -> Result<hub::HubConfig, String> {
    let defaults = hub::HubConfig::default();
    let store = store_settings(&args.store, file);
    let max_body_bytes = args
        .max_body_bytes
        .or(file.hub.max_body_bytes)
        .unwrap_or(defaults.max_body_bytes);
    if max_body_bytes < 1024 {
        return Err(format!("max_body_bytes must be at least 1024, not {max_body_bytes}"));
    }
    let admin_password = args.admin_password.clone().or_else(|| file.hub.admin_password.clone());
    if let Some(password) = &admin_password {
        // Checked here, not when the first admin is created: a bad password would otherwise pass
        // unnoticed on every start but the first, and fail that one after the store is opened.
        let length = password.chars().count();
        if !(MIN_PASSWORD_LEN..=MAX_PASSWORD_LEN).contains(&length) {
            return Err(format!(
                "the first admin's password (GATEHOUSE_ADMIN_PASSWORD, --admin-password or [hub] admin_password) \
                 must be {MIN_PASSWORD_LEN} to {MAX_PASSWORD_LEN} characters, not {length}"
            ));
        }
    }
    let hours = |name: &str, value: Option<u64>, per: u64, max: u64, default: std::time::Duration| match value {
        None => Ok(default),
        Some(value) if (1..=max).contains(&value) => Ok(std::time::Duration::from_secs(value * per * 3600)),
        Some(value) => Err(format!("{name} must be 1 to {max}, not {value}")),
    };
    let usage_retention = hours(
        "usage_retention_days",
        args.usage_retention_days.or(file.hub.usage_retention_days),
        24,
        36_500,
        defaults.usage_retention,
    )?;
    let usage_rollup_after = hours(
        "usage_rollup_after_hours",
        args.usage_rollup_after_hours.or(file.hub.usage_rollup_after_hours),
        1,
        876_000,
        defaults.usage_rollup_after,
    )?;
    // An empty value (`GATEHOUSE_GRAFANA_URL=`) turns annotations off, as if unset.
    let grafana_url = args
        .grafana_url
        .clone()
        .or_else(|| file.hub.grafana_url.clone())
        .filter(|url| !url.is_empty());
    let grafana_token = args
        .grafana_token
        .clone()
        .or_else(|| file.hub.grafana_token.clone())
        .filter(|token| !token.is_empty());
    match (&grafana_url, &grafana_token) {
        (Some(url), _) if !(url.starts_with("http://") || url.starts_with("https://")) => {
            return Err(format!(
                "grafana_url must start with http:// or https://, not `{}`",
                hub::store::redact_url(url)
            ));
        }
        (Some(_), None) => return Err("--grafana-url needs --grafana-token (or GATEHOUSE_GRAFANA_TOKEN)".into()),
        (None, Some(_)) => return Err("--grafana-token needs --grafana-url".into()),
        _ => {}
    }
    Ok(hub::HubConfig {
        listen: args.hub_listen.or(file.hub.listen).unwrap_or(defaults.listen),
        grafana_url,
        grafana_token,
        admin_password,
        max_body_bytes,
        auto_publish: args.auto_publish || file.hub.auto_publish.unwrap_or(up),
        usage_retention,
        usage_rollup_after,
        ..store_config(store, defaults)?
    })
}

/// The configuration `migrate` needs: only where the store is.
pub fn migrate_config(args: &StoreArgs, file: &FileConfig) -> Result<hub::HubConfig, String> {
    store_config(store_settings(args, file), hub::HubConfig::default())
}

fn store_settings(args: &StoreArgs, file: &FileConfig) -> (Option<PathBuf>, Option<String>) {
    (
        args.data_dir.clone().or_else(|| file.data_dir.clone()),
        args.database_url.clone().or_else(|| file.database_url.clone()),
    )
}

fn store_config(
    (data_dir, database_url): (Option<PathBuf>, Option<String>),
    defaults: hub::HubConfig,
) -> Result<hub::HubConfig, String> {
    let database_url = database_url.filter(|url| !url.is_empty());
    if let Some(url) = &database_url {
        let supported = ["postgres://", "postgresql://", "sqlite:"]
            .iter()
            .any(|scheme| url.starts_with(scheme));
        if !supported {
            return Err(format!(
                "database_url must start with postgres:// or sqlite:, not `{}`",
                hub::store::redact_url(url)
            ));
        }
    }
    Ok(hub::HubConfig {
        data_dir: data_dir.unwrap_or(defaults.data_dir.clone()),
        database_url,
        ..defaults
    })
}

// Inline: the binary has no module directory for a sibling `tests.rs`.
#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::{FileConfig, gateway_config, hub_config};
    use crate::cli::{Cli, Command};

    /// Resolves `gatehouse gateway <flags>` over the TOML `file`.
    fn check(flags: &[&str], file: &str) -> Result<gateway::config::GatewayConfig, String> {
        let cli = Cli::try_parse_from(["gatehouse", "gateway"].iter().chain(flags)).expect("the flags parse");
        let Command::Gateway(args) = cli.command else {
            unreachable!()
        };
        let file: FileConfig = toml::from_str(file).expect("the file parses");
        gateway_config(&args.gateway, None, &file)
    }

    #[test]
    fn hub_and_token_come_from_flags_or_the_file() {
        let config = check(&["--hub", "https://hub.example.com", "--token", "ghg_1"], "").unwrap();
        assert_eq!(config.hub_url.as_deref(), Some("https://hub.example.com"));
        assert_eq!(config.hub_token.as_deref(), Some("ghg_1"));
        let file = "[gateway]\nhub_url = \"http://127.0.0.1:8080\"\nhub_token = \"ghg_2\"\n";
        let config = check(&[], file).unwrap();
        assert_eq!(config.hub_url.as_deref(), Some("http://127.0.0.1:8080"));
        assert_eq!(config.hub_token.as_deref(), Some("ghg_2"));
    }

    #[test]
    fn the_usage_interval_comes_from_flags_or_the_file_and_is_bounded() {
        let interval = |flags: &[&str], file: &str| check(flags, file).map(|config| config.usage_interval.as_secs());
        assert_eq!(interval(&[], ""), Ok(60));
        assert_eq!(interval(&["--usage-interval-seconds", "5"], ""), Ok(5));
        assert_eq!(interval(&[], "[gateway]\nusage_interval_seconds = 120\n"), Ok(120));
        for seconds in ["0", "3601"] {
            let error = interval(&["--usage-interval-seconds", seconds], "").expect_err("refused");
            assert_eq!(
                error,
                format!("usage_interval_seconds must be 1 to 3600, not {seconds}")
            );
        }
    }

    #[test]
    fn usage_retention_and_rollup_come_from_flags_or_the_file_and_are_bounded() {
        let check = |flags: &[&str], file: &str| {
            let cli = Cli::try_parse_from(["gatehouse", "hub"].iter().chain(flags)).expect("the flags parse");
            let Command::Hub(args) = cli.command else {
                unreachable!()
            };
            let file: FileConfig = toml::from_str(file).expect("the file parses");
            hub_config(&args, &file, false).map(|config| {
                (
                    config.usage_retention.as_secs() / 3600,
                    config.usage_rollup_after.as_secs() / 3600,
                )
            })
        };
        assert_eq!(check(&[], ""), Ok((30 * 24, 48)));
        assert_eq!(
            check(&["--usage-retention-days", "7", "--usage-rollup-after-hours", "6"], ""),
            Ok((7 * 24, 6))
        );
        let file = "[hub]\nusage_retention_days = 90\nusage_rollup_after_hours = 24\n";
        assert_eq!(check(&[], file), Ok((90 * 24, 24)));
        assert_eq!(
            check(&["--usage-retention-days", "2"], file),
            Ok((2 * 24, 24)),
            "a flag wins"
        );
        assert_eq!(
            check(&["--usage-retention-days", "0"], ""),
            Err("usage_retention_days must be 1 to 36500, not 0".into())
        );
    }

    #[test]
    fn grafana_comes_from_flags_or_the_file_and_needs_both_url_and_token() {
        let check = |flags: &[&str], file: &str| {
            let cli = Cli::try_parse_from(["gatehouse", "hub"].iter().chain(flags)).expect("the flags parse");
            let Command::Hub(args) = cli.command else {
                unreachable!()
            };
            let file: FileConfig = toml::from_str(file).expect("the file parses");
            hub_config(&args, &file, false).map(|config| (config.grafana_url, config.grafana_token))
        };
        assert_eq!(check(&[], ""), Ok((None, None)));
        let file = "[hub]\ngrafana_url = \"http://127.0.0.1:3000\"\ngrafana_token = \"glsa_file\"\n";
        assert_eq!(
            check(&[], file),
            Ok((Some("http://127.0.0.1:3000".into()), Some("glsa_file".into())))
        );
        assert_eq!(
            check(&["--grafana-token", "glsa_flag"], file),
            Ok((Some("http://127.0.0.1:3000".into()), Some("glsa_flag".into()))),
            "a flag wins"
        );
        for (flags, expected) in [
            (
                &["--grafana-url", "https://grafana.example.com"][..],
                "--grafana-url needs --grafana-token",
            ),
            (&["--grafana-token", "glsa_1"], "--grafana-token needs --grafana-url"),
            (
                &["--grafana-url", "grafana.example.com", "--grafana-token", "glsa_1"],
                "grafana_url must start with http:// or https://",
            ),
        ] {
            let error = check(flags, "").expect_err("refused");
            assert!(error.starts_with(expected), "{flags:?}: {error}");
        }
    }

    #[test]
    fn hub_settings_that_cannot_work_are_refused() {
        for (flags, file, expected) in [
            (
                &[
                    "--hub",
                    "https://hub.example.com",
                    "--token",
                    "t",
                    "--snapshot",
                    "s.json",
                ][..],
                "",
                "--hub and --snapshot are exclusive",
            ),
            (
                &["--token", "t"],
                "[gateway]\nhub_url = \"https://hub.example.com\"\nsnapshot = \"s.json\"\n",
                "--hub and --snapshot are exclusive",
            ),
            (&["--hub", "https://hub.example.com"], "", "--hub needs --token"),
            (
                &["--hub", "hub.example.com", "--token", "t"],
                "",
                "hub_url: it must start with http:// or https://",
            ),
        ] {
            let error = check(flags, file).expect_err("refused");
            assert!(error.starts_with(expected), "{flags:?}: {error}");
        }
    }
}
