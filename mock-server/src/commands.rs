//! The subcommands' arguments and what each does, over the library's functions.

use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context as _;
use clap::Subcommand;
use understudy::ConnectionLimits;
use understudy::Mount;
use understudy::VendorId;
use understudy::config::Config;
use understudy::fixtures::drift::drift;
use understudy::fixtures::har::Har;
use understudy::fixtures::import::import;
use understudy::fixtures::record::{RecordOptions, record};
use understudy::fixtures::redact::RedactionRules;
use understudy::fixtures::replay::{load, replay_with};
use understudy::fixtures::scan::scan_tree;
use understudy::server::{DEFAULT_PORT, Options, Persistence, shutdown_signal, start};
use understudy::spec::SpecSet;

/// `serve`: the fake (all five vendors under their prefixes, or one at the root).
#[derive(clap::Args)]
pub(crate) struct Serve {
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
    /// With --state-file, also write the state every this many milliseconds (with
    /// --durable: fold the log into it this often when anything was logged).
    #[arg(long, requires = "state_file")]
    state_interval_ms: Option<u64>,
    /// With --state-file, log every state change (synced, in batches) before it is
    /// acknowledged, so every acknowledged write survives a kill -9; the log is folded
    /// into the state file as it grows and on shutdown.
    #[arg(long, requires = "state_file")]
    durable: bool,
    /// Seed the state from this file (an export of GET /__understudy/state) at start; it is
    /// never written back.
    #[arg(long, conflicts_with = "state_file")]
    seed_state: Option<PathBuf>,
    /// Answer from the HAR fixtures in this directory instead of the fake (same as
    /// `understudy replay DIR`).
    #[arg(long, conflicts_with_all = ["vendor", "state_file", "seed_state"])]
    replay: Option<PathBuf>,
    /// Admit admin API calls from clients that are not on loopback when they send this
    /// token as `Authorization: Bearer TOKEN` (a container's mapped port never sees one).
    #[arg(long, env = "UNDERSTUDY_ADMIN_TOKEN", hide_env_values = true)]
    admin_token: Option<String>,
    #[command(flatten)]
    connections: ConnectionFlags,
}

/// `health`: exit 0 when a running fake answers its health endpoint.
#[derive(clap::Args)]
pub(crate) struct Health {
    /// The fake's port on 127.0.0.1.
    #[arg(long, default_value_t = DEFAULT_PORT, env = "UNDERSTUDY_PORT")]
    port: u16,
}

/// `record`: a loopback proxy that writes each exchange to a HAR fixture.
#[derive(clap::Args)]
pub(crate) struct Record {
    /// The vendor the upstream serves.
    #[arg(long)]
    vendor: VendorId,
    /// The vendor's base URL (the real API, or e.g. http://127.0.0.1:4141/dub); http or https.
    #[arg(long)]
    upstream: String,
    /// PEM file of extra certificate authorities to trust for an https upstream (a private
    /// CA, or the upstream's own self-signed certificate).
    #[arg(long)]
    upstream_ca: Option<PathBuf>,
    /// The fixture to write, e.g. fixtures/dub/onboarding.har.
    #[arg(long)]
    out: PathBuf,
    /// Port for the proxy on 127.0.0.1 (0 picks one).
    #[arg(long, default_value_t = 0)]
    port: u16,
    /// YAML redaction rules: `tenant`, `emails`, `headers`, `pointers`.
    #[arg(long)]
    redact: Option<PathBuf>,
}

/// `replay`: answer from HAR fixtures.
#[derive(clap::Args)]
pub(crate) struct Replay {
    /// A directory of .har files, or one file.
    dir: PathBuf,
    /// Port on 127.0.0.1.
    #[arg(long, default_value_t = DEFAULT_PORT)]
    port: u16,
    /// Exit with an error on shutdown if any recorded exchange was never used.
    #[arg(long)]
    strict: bool,
    #[command(flatten)]
    connections: ConnectionFlags,
}

/// `drift`: compare the spec, the recordings and the fake.
#[derive(clap::Args)]
pub(crate) struct Drift {
    /// The vendor.
    #[arg(long)]
    vendor: VendorId,
    /// A directory of .har files, or one file.
    dir: PathBuf,
    /// YAML map of placeholder to value for secrets the fake needs beyond its own
    /// credentials (e.g. a linking token); `<redacted:KIND>` maps every number of a kind.
    #[arg(long)]
    secrets: Option<PathBuf>,
    /// Start the fresh fake from this configuration (merged over the default, as for
    /// `serve`); placeholders then become the credentials it configures.
    #[arg(long)]
    config: Option<PathBuf>,
    /// Also write the report as JSON here.
    #[arg(long)]
    json: Option<PathBuf>,
    /// Exit 1 when anything drifted.
    #[arg(long)]
    fail_on_drift: bool,
}

/// `specs`: load and compile the specs, then list every operation.
#[derive(clap::Args)]
pub(crate) struct Specs {
    /// Check the specs in this directory instead of the embedded ones.
    #[arg(long)]
    specs: Option<PathBuf>,
}

/// Connection timeouts and limit; each overrides the configuration's `connections:` setting.
#[derive(clap::Args, Clone, Debug, Default)]
pub(crate) struct ConnectionFlags {
    /// A request's head must be complete this many milliseconds after its first byte.
    #[arg(long)]
    header_timeout_ms: Option<u64>,
    /// A request's body must be complete this many milliseconds after the server starts
    /// reading it.
    #[arg(long)]
    body_timeout_ms: Option<u64>,
    /// A kept-alive connection with nothing received is closed after this many milliseconds.
    #[arg(long)]
    idle_timeout_ms: Option<u64>,
    /// Connections served at once (default: the open-file limit minus headroom).
    #[arg(long)]
    max_connections: Option<usize>,
}

impl ConnectionFlags {
    /// `limits` with the flags that were given applied over them.
    fn apply(&self, limits: &mut ConnectionLimits) {
        if let Some(ms) = self.header_timeout_ms {
            limits.header_read_timeout_ms = ms;
        }
        if let Some(ms) = self.body_timeout_ms {
            limits.body_read_timeout_ms = ms;
        }
        if let Some(ms) = self.idle_timeout_ms {
            limits.idle_timeout_ms = ms;
        }
        if let Some(max) = self.max_connections {
            limits.max_connections = Some(max);
        }
    }
}

#[derive(Subcommand)]
pub(crate) enum FixturesCommand {
    /// Scan files for anything that looks like a live secret; exits 1 when something does.
    Lint {
        /// Files or directories (default: fixtures).
        paths: Vec<PathBuf>,
    },
    /// Import a HAR from a browser, mitmproxy or Schemathesis, redacted like a recording.
    Import {
        /// The HAR file.
        file: PathBuf,
        /// The vendor the traffic went to.
        #[arg(long)]
        vendor: VendorId,
        /// Where to write (default: fixtures/VENDOR/FILE-NAME).
        #[arg(long)]
        out: Option<PathBuf>,
        /// YAML redaction rules: `tenant`, `emails`, `headers`, `pointers`.
        #[arg(long)]
        redact: Option<PathBuf>,
    },
}

fn redaction_rules(path: Option<&PathBuf>) -> anyhow::Result<RedactionRules> {
    let Some(path) = path else {
        return Ok(RedactionRules::default());
    };
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    serde_norway::from_str(&text).with_context(|| format!("parsing {}", path.display()))
}

/// The configuration file merged over the default, or the default.
fn load_config(path: Option<&PathBuf>) -> anyhow::Result<Config> {
    match path {
        Some(path) => Config::load(path).with_context(|| format!("loading {}", path.display())),
        None => Ok(Config::default()),
    }
}

fn loopback(port: u16) -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], port))
}

impl Serve {
    pub(crate) async fn run(self) -> anyhow::Result<()> {
        let Serve {
            port,
            bind,
            vendor,
            specs,
            config,
            lenient,
            state_file,
            state_interval_ms,
            durable,
            seed_state,
            replay,
            admin_token,
            connections,
        } = self;
        if let Some(dir) = replay {
            let mut limits = load_config(config.as_ref())?.connections;
            connections.apply(&mut limits);
            limits.check()?;
            let replaying = replay_with(load(&dir)?, SocketAddr::new(bind, port), &limits).await?;
            tracing::info!(url = %replaying.url(), dir = %dir.display(), "replaying");
            shutdown_signal().await;
            replaying.stop().await?;
            return Ok(());
        }
        let mut config = load_config(config.as_ref())?;
        connections.apply(&mut config.connections);
        if admin_token.is_some() {
            config.admin_token = admin_token;
        }
        let persistence = match (state_file, seed_state) {
            (Some(path), _) => Persistence::StateFile {
                path,
                interval: state_interval_ms.map(std::time::Duration::from_millis),
                durable,
            },
            (None, Some(seed)) => Persistence::Seed(seed),
            (None, None) => Persistence::None,
        };
        let options = Options {
            addr: SocketAddr::new(bind, port),
            mount: vendor.map_or(Mount::All, Mount::Root),
            specs_dir: specs,
            config,
            strict: !lenient,
            persistence,
        };
        // Handlers first: a SIGTERM during start-up must still save the state.
        let shutdown = shutdown_signal();
        // The state is loaded (and a durable log replayed) before the listener is bound.
        let running = start(options).await?;
        match vendor {
            Some(v) => {
                tracing::info!(url = %running.url(), vendor = %v, "understudy is serving one vendor at the root")
            }
            None => {
                let prefixes: Vec<String> = VendorId::ALL.iter().map(|v| v.prefix()).collect();
                tracing::info!(url = %running.url(), "understudy is serving {}", prefixes.join(" "))
            }
        }
        shutdown.await;
        tracing::info!("shutting down");
        running.stop().await?;
        tracing::info!("stopped");
        Ok(())
    }
}

impl Health {
    pub(crate) fn run(self) -> anyhow::Result<()> {
        Ok(understudy::server::probe_health(loopback(self.port))?)
    }
}

impl Record {
    pub(crate) async fn run(self) -> anyhow::Result<()> {
        let Record {
            vendor,
            upstream,
            out,
            port,
            redact,
            upstream_ca,
        } = self;
        let options = RecordOptions {
            vendor,
            upstream: upstream.clone(),
            out: out.clone(),
            addr: loopback(port),
            rules: redaction_rules(redact.as_ref())?,
            upstream_ca,
        };
        let recording = record(options, Arc::new(SpecSet::embedded()?)).await?;
        tracing::info!(proxy = %recording.url(), %upstream, out = %out.display(), "recording; point the client at the proxy");
        shutdown_signal().await;
        let har = recording.stop().await?;
        tracing::info!(entries = har.log.entries.len(), out = %out.display(), "recording written");
        Ok(())
    }
}

impl Replay {
    pub(crate) async fn run(self) -> anyhow::Result<()> {
        let Replay {
            dir,
            port,
            strict,
            connections,
        } = self;
        let mut limits = ConnectionLimits::default();
        connections.apply(&mut limits);
        limits.check()?;
        let recorded = load(&dir)?;
        let replaying = replay_with(recorded, loopback(port), &limits).await?;
        tracing::info!(url = %replaying.url(), dir = %dir.display(), "replaying");
        shutdown_signal().await;
        let unused = replaying.unused();
        replaying.stop().await?;
        if strict && !unused.is_empty() {
            for label in &unused {
                eprintln!("never replayed: {label}");
            }
            anyhow::bail!(
                "strict replay: {} recorded exchange(s) never used",
                unused.len()
            );
        }
        Ok(())
    }
}

impl Drift {
    pub(crate) async fn run(self) -> anyhow::Result<()> {
        let Drift {
            vendor,
            dir,
            secrets,
            config,
            json,
            fail_on_drift,
        } = self;
        let secrets: std::collections::BTreeMap<String, String> = match &secrets {
            Some(path) => serde_norway::from_str(&std::fs::read_to_string(path)?)
                .with_context(|| format!("parsing {}", path.display()))?,
            None => Default::default(),
        };
        let options = Options {
            config: load_config(config.as_ref())?,
            ..Options::default()
        };
        let report = drift(vendor, &load(&dir)?, options, &secrets).await?;
        print!("{}", report.table());
        if let Some(path) = &json {
            std::fs::write(path, serde_json::to_string_pretty(&report)? + "\n")?;
        }
        if fail_on_drift && !report.is_clean() {
            anyhow::bail!("drift found");
        }
        Ok(())
    }
}

impl Specs {
    pub(crate) fn run(self) -> anyhow::Result<()> {
        let specs = self.specs;
        let set = match specs {
            Some(dir) => SpecSet::from_dir(&dir)?,
            None => SpecSet::embedded()?,
        };
        for spec in set.iter() {
            // The embedded specs' schemas compile on first use; this command compiles them all.
            spec.compile_all()?;
            for op in &spec.operations {
                println!(
                    "{:<13} {:<6} {:<60} {}",
                    spec.vendor, op.method, op.path, op.operation_id
                );
            }
        }
        Ok(())
    }
}

impl FixturesCommand {
    pub(crate) fn run(self) -> anyhow::Result<()> {
        let command = self;
        match command {
            FixturesCommand::Lint { paths } => {
                let paths = if paths.is_empty() {
                    vec![PathBuf::from("fixtures")]
                } else {
                    paths
                };
                let mut findings = Vec::new();
                for path in &paths {
                    findings.extend(
                        scan_tree(path).with_context(|| format!("scanning {}", path.display()))?,
                    );
                }
                for finding in &findings {
                    println!("{finding}");
                }
                if !findings.is_empty() {
                    anyhow::bail!("{} live-looking secret(s) in fixtures", findings.len());
                }
                println!("no live-looking secrets in {} path(s)", paths.len());
            }
            FixturesCommand::Import {
                file,
                vendor,
                out,
                redact,
            } => {
                let har = Har::read(&file)?;
                let imported = import(
                    har,
                    vendor,
                    &SpecSet::embedded()?,
                    redaction_rules(redact.as_ref())?,
                );
                let out = out.unwrap_or_else(|| {
                    PathBuf::from("fixtures")
                        .join(vendor.name())
                        .join(file.file_name().unwrap_or_default())
                });
                imported.write(&out)?;
                println!(
                    "{} entries written to {}",
                    imported.log.entries.len(),
                    out.display()
                );
            }
        }
        Ok(())
    }
}
