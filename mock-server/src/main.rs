//! The `understudy` command line: a thin dispatch over the library ([`commands`] holds each
//! subcommand's arguments and its call into the library).

mod commands;

use clap::{Parser, Subcommand};
use understudy::config::default_yaml;

/// mimalloc rather than glibc's allocator: a stateful create allocates a few hundred small
/// objects, and in the benchmark's profile glibc's malloc and free were a quarter of the
/// server's time.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

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
    Serve(commands::Serve),
    /// Exit 0 when a running fake answers its health endpoint (for a container's HEALTHCHECK,
    /// where no curl exists).
    Health(commands::Health),
    /// Record: a loopback proxy that forwards to the upstream and writes each exchange,
    /// redacted and checked against the spec, to a HAR fixture.
    Record(commands::Record),
    /// Replay: answer from the HAR fixtures in a directory, each vendor under its prefix.
    Replay(commands::Replay),
    /// Drift: compare the spec, the recordings and the fake, per operation.
    Drift(commands::Drift),
    /// Work with fixture files.
    Fixtures {
        #[command(subcommand)]
        command: commands::FixturesCommand,
    },
    /// Print the built-in default configuration.
    DefaultConfig,
    /// Load and compile the specs, then list every operation.
    Specs(commands::Specs),
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
        Command::Serve(serve) => serve.run().await,
        Command::Health(health) => health.run(),
        Command::Record(record) => record.run().await,
        Command::Replay(replay) => replay.run().await,
        Command::Drift(drift) => drift.run().await,
        Command::Fixtures { command } => command.run(),
        Command::DefaultConfig => {
            print!("{}", default_yaml());
            Ok(())
        }
        Command::Specs(specs) => specs.run(),
    }
}
