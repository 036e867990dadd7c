//! The `gatehouse` binary: parse arguments, resolve configuration, start the roles asked for.
//! Everything else lives in the library crates.

mod cli;

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

mod config;
mod demo;
mod impact;
mod lint;
mod manifests;

use std::process::ExitCode;

use clap::Parser;
use clap::error::ErrorKind;
use cli::{Cli, Command, LogFormat};
use hub::domain::bootstrap::Bootstrap;

/// Exit code for a usage or configuration error (BSD `EX_USAGE`).
const EX_USAGE: u8 = 64;

/// The log filter when none is configured: sqlx's info lines (Postgres notices such as "relation
/// already exists, skipping") say nothing an operator can act on.
const DEFAULT_LOG_FILTER: &str = "info,sqlx=warn";

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(error) => return argument_error(error),
    };
    let file = match config::read_file(cli.config.as_deref()) {
        Ok(file) => file,
        Err(message) => return usage_error(&message),
    };
    let log_format = cli.log_format.or(file.log_format).unwrap_or(LogFormat::Text);
    let log_filter = cli
        .log
        .clone()
        .or_else(|| file.log.clone())
        .unwrap_or_else(|| DEFAULT_LOG_FILTER.into());
    if let Err(message) = init_logging(log_format, &log_filter) {
        return usage_error(&message);
    }
    let mut builder = tokio::runtime::Builder::new_multi_thread();
    if let Some(threads) = cli.worker_threads {
        builder.worker_threads(threads.get());
    }
    let runtime = builder.enable_all().build().expect("tokio runtime starts");
    let result = match &cli.command {
        Command::Hub(args) => match config::hub_config(args, &file, false) {
            Ok(hub_config) => runtime.block_on(run_roles(Some(hub_config), None, None, false)),
            Err(message) => return usage_error(&message),
        },
        Command::Portal(args) => match (
            config::migrate_config(&args.store, &file),
            config::portal_config(&args.portal, &file, None),
        ) {
            (Ok(store_config), Ok(portal_config)) => {
                let portal = PortalRole {
                    config: portal_config,
                    store: Some(store_config),
                };
                runtime.block_on(run_roles(None, None, Some(portal), false))
            }
            (Err(message), _) | (_, Err(message)) => return usage_error(&message),
        },
        Command::Up(args) => {
            let data_dir = args.hub.store.data_dir.as_deref();
            let configs = config::hub_config(&args.hub, &file, true).and_then(|hub_config| {
                let gateway_config = config::gateway_config(&args.gateway, data_dir, &file)?;
                let portal_config = config::portal_config(
                    &args.portal,
                    &file,
                    Some((gateway_config.listen, gateway_config.admin_listen)),
                )?;
                Ok((hub_config, gateway_config, portal_config))
            });
            match configs {
                Ok((hub_config, gateway_config, portal_config)) => {
                    let portal = PortalRole {
                        config: portal_config,
                        store: None,
                    };
                    runtime.block_on(run_roles(
                        Some(hub_config),
                        Some(gateway_config),
                        Some(portal),
                        args.demo,
                    ))
                }
                Err(message) => return usage_error(&message),
            }
        }
        Command::Gateway(args) => match config::gateway_config(&args.gateway, args.data_dir.as_deref(), &file) {
            Ok(gateway_config) => runtime.block_on(run_roles(None, Some(gateway_config), None, false)),
            Err(message) => return usage_error(&message),
        },
        Command::Migrate(args) => match config::migrate_config(args, &file) {
            Ok(hub_config) => runtime.block_on(migrate(hub_config)),
            Err(message) => return usage_error(&message),
        },
        Command::Export(args) => runtime.block_on(manifests::export(args)),
        Command::Apply(args) => runtime.block_on(manifests::apply(args)),
        Command::Lint(args) => return lint::run(args),
        Command::Impact(args) => return runtime.block_on(impact::run(args)),
        Command::Demo(args) => return runtime.block_on(demo::run(args)),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            tracing::error!("{error:#}");
            eprintln!("gatehouse: {error:#}");
            ExitCode::FAILURE
        }
    }
}

fn usage_error(message: &str) -> ExitCode {
    eprintln!("gatehouse: {message}");
    ExitCode::from(EX_USAGE)
}

/// `--help` and `--version` print and succeed; a missing subcommand prints the help; any other
/// argument error is one line. Both of those are usage errors (64), not clap's 2.
fn argument_error(error: clap::Error) -> ExitCode {
    match error.kind() {
        ErrorKind::DisplayHelp | ErrorKind::DisplayVersion => {
            let _ = error.print();
            ExitCode::SUCCESS
        }
        ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand => {
            let _ = error.print();
            ExitCode::from(EX_USAGE)
        }
        _ => usage_error(&cli::one_line(&error)),
    }
}

fn init_logging(format: LogFormat, filter: &str) -> Result<(), String> {
    let filter =
        tracing_subscriber::EnvFilter::try_new(filter).map_err(|error| format!("log filter `{filter}`: {error}"))?;
    // Colours only for a person at a terminal, never in a file or a log collector.
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_writer(std::io::stderr);
    match format {
        LogFormat::Text => builder.init(),
        LogFormat::Json => builder.json().init(),
    }
    Ok(())
}

/// The portal role: its settings, and where its store is when no hub runs in this process.
struct PortalRole {
    config: portal::PortalConfig,
    store: Option<hub::HubConfig>,
}

/// Starts the roles asked for, prints where each listens, and serves until Ctrl-C or SIGTERM.
async fn run_roles(
    hub_config: Option<hub::HubConfig>,
    gateway_config: Option<gateway::config::GatewayConfig>,
    portal_role: Option<PortalRole>,
    demo: bool,
) -> anyhow::Result<()> {
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let shutdown = move || {
        let mut stopped = stopped.clone();
        async move {
            let _ = stopped.wait_for(|stop| *stop).await;
        }
    };
    let mut servers = tokio::task::JoinSet::new();
    let revisions = hub::distribution::RevisionFeed::default();
    let mut local_store = None;
    let mut demo_keys = None;
    let mut portal_store = None;
    let mut gateway_address = None;
    let mut portal_address = None;
    if let Some(config) = hub_config {
        tracing::info!(?config, "starting the hub");
        let (store, bootstrap) = hub::server::prepare(&config).await?;
        if let Bootstrap::CreatedAdmin {
            generated_password: Some(password),
        } = &bootstrap
        {
            // Printed once, on purpose: the first admin's password is needed to get in at all.
            eprintln!(
                "\n  Created the first admin. Sign in as `admin` with password: {password}\n  It is not shown again.\n"
            );
        }
        let listener = hub::server::bind(&config).await?;
        let address = listener.local_addr()?;
        println!("hub admin API   http://{address}/api/v1");
        println!("API reference   http://{address}/api/v1/reference");
        println!("dashboard       http://{address}/dashboard");
        println!("data directory  {}", config.data_dir.display());
        if demo {
            let (listener, upstream) = hub::demo::upstream::bind().await?;
            tokio::spawn(hub::demo::upstream::serve(listener));
            let loaded = hub::demo::load(&store, &format!("http://{upstream}")).await?;
            demo_keys = Some(loaded);
        }
        local_store = Some(store.clone());
        portal_store = Some(store.clone());
        let (shutdown, revisions) = (shutdown(), revisions.clone());
        servers.spawn(async move {
            hub::server::serve(listener, store, &config, revisions, shutdown)
                .await
                .map_err(anyhow::Error::from)
        });
    }
    if let Some(mut config) = gateway_config {
        // `up`: the gateway in the hub's process counts usage for the hub's analytics.
        config.telemetry.usage_summaries |= local_store.is_some();
        tracing::info!(?config, "starting the gateway");
        let mut started = gateway::start::start(config).await?;
        if let Some(store) = local_store.take() {
            // `up`: the gateway follows the hub in this process, no stream or token needed.
            started.report_usage_to(hub::distribution::local::UsageToStore::new(store.clone()));
            let runtime = started.runtime.clone();
            tokio::spawn(hub::distribution::local::follow(store, revisions.clone(), runtime));
        }
        println!("gateway         http://{}", started.proxy_address);
        gateway_address = Some(started.proxy_address);
        if let Some(tls_address) = started.tls_address {
            println!("gateway TLS     https://{tls_address}");
        }
        println!(
            "gateway admin   http://{}  (/healthz /readyz /config /metrics)",
            started.admin_address
        );
        let shutdown = shutdown();
        servers.spawn(async move {
            started.serve(shutdown).await;
            Ok(())
        });
    }
    if let Some(role) = portal_role {
        tracing::info!(config = ?role.config, "starting the portal");
        let store = match (portal_store.take(), &role.store) {
            (Some(store), _) => store,
            (None, Some(store_config)) => hub::server::open_store(store_config).await?,
            (None, None) => anyhow::bail!("the portal needs the hub's store"),
        };
        let listener = portal::bind(&role.config)
            .await
            .map_err(|error| anyhow::anyhow!("cannot listen on {}: {error}", role.config.listen))?;
        println!("portal          http://{}", listener.local_addr()?);
        portal_address = Some(listener.local_addr()?);
        let state = portal::PortalState::new(store, role.config, revisions.clone()).await?;
        let shutdown = shutdown();
        servers.spawn(async move {
            portal::serve(listener, state, shutdown)
                .await
                .map_err(anyhow::Error::from)
        });
    }
    if let Some((demo, gateway)) = demo_keys.take().zip(gateway_address) {
        print_demo(&demo, gateway, portal_address);
    }
    tokio::select! {
        () = shutdown_signal() => {}
        // A server that stops on its own is a failure: stop the others and say why.
        Some(ended) = servers.join_next() => {
            let _ = stop.send(true);
            ended??;
            anyhow::bail!("a server stopped unexpectedly");
        }
    }
    let _ = stop.send(true);
    while let Some(ended) = servers.join_next().await {
        ended??;
    }
    tracing::info!("stopped");
    Ok(())
}

/// How to call the demo, printed once: the keys are not shown again.
fn print_demo(demo: &hub::demo::Demo, gateway: std::net::SocketAddr, portal: Option<std::net::SocketAddr>) {
    let pets = format!("http://{gateway}/pets/v1/pets");
    println!();
    println!("demo loaded: the petstore and weather APIs, behind the gateway. Try:");
    println!("  alice (group staff, plan gold) may do anything:");
    println!("    curl -H 'x-api-key: {}' {pets}", demo.alice_key);
    println!(
        "    curl -H 'x-api-key: {}' 'http://{gateway}/weather/forecast?city=Porto'",
        demo.alice_key
    );
    println!("  bob (group partners, plan free: 10 requests a minute) may only read pets:");
    println!("    curl -H 'x-api-key: {}' {pets}", demo.bob_key);
    println!(
        "    curl -X DELETE -H 'x-api-key: {}' {pets}/1        # 403, and it says why",
        demo.bob_key
    );
    if let Some(portal) = portal {
        println!(
            "  the developer portal: http://{portal}  (sign in as alice or bob, password {})",
            demo.password
        );
    }
    println!();
}

async fn migrate(config: hub::HubConfig) -> anyhow::Result<()> {
    hub::server::open_store(&config).await?;
    println!(
        "migrations applied to {}",
        hub::store::redact_url(&config.effective_database_url())
    );
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        if let Ok(mut signal) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            signal.recv().await;
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {}
        () = terminate => {}
    }
}
