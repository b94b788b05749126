//! The `understudy` command line: a thin edge over the library.

use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;

use anyhow::Context as _;
use clap::{Parser, Subcommand};
use understudy::VendorId;
use understudy::config::{Config, DEFAULT_CONFIG};
use understudy::persistence::StateFile;
use understudy::pipeline::Mount;
use understudy::server::{DEFAULT_PORT, Options, shutdown_signal, start};
use understudy::spec::SpecSet;

/// A stateful fake of five vendors' partner-onboarding APIs.
#[derive(Parser)]
#[command(name = "understudy", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the fake (all five vendors under their prefixes, or one at the root).
    Serve {
        /// Port to listen on.
        #[arg(long, default_value_t = DEFAULT_PORT, env = "UNDERSTUDY_PORT")]
        port: u16,
        /// Address to bind; loopback unless told otherwise.
        #[arg(long, default_value = "127.0.0.1", env = "UNDERSTUDY_BIND")]
        bind: IpAddr,
        /// Serve only this vendor, at the root path.
        #[arg(long)]
        vendor: Option<VendorId>,
        /// Serve the specs in this directory instead of the embedded ones.
        #[arg(long)]
        specs: Option<PathBuf>,
        /// Configuration file merged over the built-in default.
        #[arg(long)]
        config: Option<PathBuf>,
        /// Log spec violations in responses instead of replacing them with a 500.
        #[arg(long)]
        lenient: bool,
        /// Load the state from this file at start (if it exists) and write it back on
        /// shutdown (SIGINT/SIGTERM), atomically.
        #[arg(long)]
        state_file: Option<PathBuf>,
        /// With --state-file, also write the state every this many milliseconds.
        #[arg(long, requires = "state_file")]
        state_interval_ms: Option<u64>,
        /// Seed the state from this file (an export of GET /__understudy/state) at start; it is
        /// never written back.
        #[arg(long, conflicts_with = "state_file")]
        seed_state: Option<PathBuf>,
    },
    /// Print the built-in default configuration.
    DefaultConfig,
    /// Load and compile the specs, then list every operation.
    Specs {
        /// Check the specs in this directory instead of the embedded ones.
        #[arg(long)]
        specs: Option<PathBuf>,
    },
}

/// Writes the state every `ms` milliseconds, on a blocking thread so the server never waits on
/// the disk.
fn spawn_writer(file: StateFile, app: std::sync::Arc<understudy::pipeline::App>, ms: u64) {
    tokio::spawn(async move {
        let mut every = tokio::time::interval(std::time::Duration::from_millis(ms.max(1)));
        every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
        loop {
            every.tick().await;
            let (file, app) = (file.clone(), app.clone());
            match tokio::task::spawn_blocking(move || file.save(&app)).await {
                Ok(Ok(())) => {}
                Ok(Err(error)) => tracing::error!(%error, "writing the state file"),
                Err(error) => tracing::error!(%error, "state writer stopped"),
            }
        }
    });
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .init();
    match Cli::parse().command {
        Command::Serve {
            port,
            bind,
            vendor,
            specs,
            config,
            lenient,
            state_file,
            state_interval_ms,
            seed_state,
        } => {
            let config = match &config {
                Some(path) => {
                    Config::load(path).with_context(|| format!("loading {}", path.display()))?
                }
                None => Config::default(),
            };
            let options = Options {
                addr: SocketAddr::new(bind, port),
                mount: vendor.map_or(Mount::All, Mount::Root),
                specs_dir: specs,
                config,
                strict: !lenient,
            };
            // Handlers first: a SIGTERM during start-up must still save the state.
            let shutdown = shutdown_signal();
            let running = start(options).await?;
            if let Some(seed) = &seed_state {
                StateFile::new(seed).load(&running.app)?;
                tracing::info!(file = %seed.display(), "state seeded");
            }
            let state_file = state_file.map(StateFile::new);
            if let Some(file) = &state_file {
                let loaded = file.load(&running.app)?;
                tracing::info!(file = %file.path().display(), loaded, "state file");
                if let Some(ms) = state_interval_ms {
                    spawn_writer(file.clone(), running.app.clone(), ms);
                }
            }
            match vendor {
                Some(v) => {
                    tracing::info!(url = %running.url(), vendor = %v, "understudy is serving one vendor at the root")
                }
                None => {
                    tracing::info!(url = %running.url(), "understudy is serving /confluent /enhance /cloudcockpit /dub /archera")
                }
            }
            let running_app = running.app.clone();
            shutdown.await;
            tracing::info!("shutting down");
            running.stop().await?;
            if let Some(file) = &state_file {
                file.save(&running_app)?;
                tracing::info!(file = %file.path().display(), "state written");
            }
        }
        Command::DefaultConfig => print!("{DEFAULT_CONFIG}"),
        Command::Specs { specs } => {
            let set = match specs {
                Some(dir) => SpecSet::from_dir(&dir)?,
                None => SpecSet::embedded()?,
            };
            for spec in set.iter() {
                for op in &spec.operations {
                    println!(
                        "{:<13} {:<6} {:<60} {}",
                        spec.vendor, op.method, op.path, op.operation_id
                    );
                }
            }
        }
    }
    Ok(())
}
