//! Serving: binds the listener, runs the router, and shuts down gracefully on SIGINT/SIGTERM.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use tokio::net::TcpListener;

use crate::VendorId;
use crate::admin;
use crate::config::{Config, ConfigError};
use crate::connections::{self, ConnectionLimits, LimitError};
use crate::durable::{self, DurableLog};
use crate::persistence::{PersistError, StateFile};
use crate::pipeline::{App, ConformingBodies, Mount, router};
use crate::spec::{SpecError, SpecSet};
use crate::worlds::Worlds;

/// The port `understudy serve` listens on unless told otherwise.
pub const DEFAULT_PORT: u16 = 4141;

/// How many conforming response bodies the response check remembers.
const CONFORMING_BODIES: usize = 256;

/// Why the fake could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// A spec did not load.
    #[error(transparent)]
    Spec(#[from] SpecError),
    /// The configuration did not load.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// A fault rule in the configuration can never apply (see [`crate::faults::FaultRule::check`]).
    #[error("configuration: {0}")]
    Fault(#[from] crate::faults::FaultError),
    /// A rate limit in the configuration cannot be enforced (see
    /// `RateLimitConfig::check`).
    #[error("configuration: rate limit of {vendor}: {reason}")]
    RateLimit {
        /// The vendor it limits.
        vendor: crate::VendorId,
        /// What is wrong with it.
        reason: String,
    },
    /// A spec operation has no handler, or a handler no spec operation.
    #[error(transparent)]
    Operations(#[from] crate::vendors::OperationMismatch),
    /// The embedded admin document did not compile.
    #[error(transparent)]
    AdminContract(#[from] &'static admin::ContractError),
    /// The state could not be loaded or recovered.
    #[error(transparent)]
    Persist(#[from] PersistError),
    /// The world limits in the configuration cannot work.
    #[error("configuration: {0}")]
    Worlds(String),
    /// A connection timeout or limit in the configuration cannot work.
    #[error("configuration: {0}")]
    Connections(#[from] LimitError),
    /// The listener could not bind.
    #[error("binding {addr}: {source}")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// The I/O error.
        source: std::io::Error,
    },
}

/// How to start the fake.
#[derive(Clone, Debug)]
pub struct Options {
    /// Where to listen; port 0 picks a free port.
    pub addr: SocketAddr,
    /// Which vendors, where.
    pub mount: Mount,
    /// Serve specs from this directory instead of the embedded ones.
    pub specs_dir: Option<PathBuf>,
    /// The configuration.
    pub config: Config,
    /// Replace responses that break the spec with a diagnosed 500.
    pub strict: bool,
    /// What state to load before the listener is bound, and where to keep it.
    pub persistence: Persistence,
}

/// Where the state comes from and goes to. Whatever is loaded is in before the listener is
/// bound, so no request is answered from (or overwritten by) a state still loading.
#[derive(Clone, Debug, Default)]
pub enum Persistence {
    /// Nothing is loaded or kept.
    #[default]
    None,
    /// The state is seeded from this state document, which is never written.
    Seed(PathBuf),
    /// The state lives in this file: loaded at start if it exists, written on stop.
    StateFile {
        /// The file.
        path: PathBuf,
        /// Also write it this often (in durable mode: fold the log into it this often).
        interval: Option<Duration>,
        /// Log every state change before it is acknowledged (a write-ahead log beside the state file).
        durable: bool,
    },
}

/// Why the fake did not stop cleanly.
#[derive(Debug, thiserror::Error)]
pub enum StopError {
    /// The server failed.
    #[error(transparent)]
    Io(#[from] std::io::Error),
    /// The state could not be written.
    #[error(transparent)]
    Persist(#[from] PersistError),
}

/// Loopback at a port the system picks: an embedder (a test) never collides with a running
/// `understudy serve`, which asks for [`DEFAULT_PORT`] itself.
impl Default for Options {
    fn default() -> Self {
        Options {
            addr: SocketAddr::from(([127, 0, 0, 1], 0)),
            mount: Mount::All,
            specs_dir: None,
            config: Config::default(),
            strict: true,
            persistence: Persistence::None,
        }
    }
}

/// Builds the shared application state: specs compiled, vendors built.
///
/// Only the mounted vendors' specs are compiled (one vendor's at the root: that one alone), and
/// everything that takes a vendor from outside (admin routes, fault rules, rate limits, the
/// journal's filter, the durable log) treats the others as unknown. The configuration's rate
/// limits and fault rules for vendors not served are left out: they could never apply, and one
/// configuration file can serve several one-vendor fakes.
pub fn app(options: &Options) -> Result<Arc<App>, StartError> {
    app_decorated(options, None)
}

/// [`app`], with every world's vendors passed through `decorate` as they are built (a test's
/// deliberately broken vendor, a vendor that counts its calls …).
pub(crate) fn app_decorated(
    options: &Options,
    decorate: Option<crate::worlds::VendorDecorator>,
) -> Result<Arc<App>, StartError> {
    let served = served(options.mount);
    let specs = match &options.specs_dir {
        Some(dir) => SpecSet::from_dir_only(dir, served.iter().copied())?,
        None => SpecSet::embedded_only(served.iter().copied())?,
    };
    // Compiled now, so a broken admin document stops the start instead of failing requests.
    admin::AdminContract::embedded()?;
    let mut limits = options.config.active_rate_limits();
    for (vendor, limit) in &limits {
        limit.check().map_err(|reason| StartError::RateLimit {
            vendor: *vendor,
            reason,
        })?;
    }
    limits.retain(|vendor, _| served.contains(vendor));
    options.config.worlds.check().map_err(StartError::Worlds)?;
    let specs = Arc::new(specs);
    let rules: Vec<_> = options
        .config
        .faults
        .iter()
        .filter(|rule| served.contains(&rule.vendor))
        .cloned()
        .collect();
    crate::faults::check_all(&rules, &specs)?;
    let worlds = Worlds::new(
        options.config.clone(),
        specs.clone(),
        limits,
        rules,
        decorate,
    );
    // The spec and the handlers cannot disagree: checked, for every vendor served, before
    // anything is.
    for (id, vendor) in &worlds.default_world().vendors {
        if let Some(spec) = specs.get(*id) {
            crate::vendors::check_operations(spec, vendor.operations())?;
        }
    }
    Ok(Arc::new(App {
        specs,
        worlds,
        strict: options.strict,
        max_resources: options.config.max_resources,
        conforming: ConformingBodies::new(CONFORMING_BODIES),
        durable: std::sync::OnceLock::new(),
    }))
}

/// The vendors `mount` serves.
fn served(mount: Mount) -> Vec<VendorId> {
    match mount {
        Mount::All => VendorId::ALL.to_vec(),
        Mount::Root(vendor) => vec![vendor],
    }
}

/// A router served in the background until [`Background::stop`]: the one way the fake, the
/// recording proxy and the replay server run, so all three shut down the same way.
pub struct Background {
    /// The bound address (the real port when 0 was asked for).
    pub addr: SocketAddr,
    shutdown: tokio::sync::oneshot::Sender<()>,
    task: tokio::task::JoinHandle<std::io::Result<()>>,
}

impl Background {
    /// Serves `router` on `listener` with the default connection limits.
    pub fn serve(listener: TcpListener, router: axum::Router) -> std::io::Result<Self> {
        Self::serve_with(listener, router, &ConnectionLimits::default())
    }

    /// Serves `router` on `listener` with `limits` (timeouts and the connection limit, see
    /// the connections module). On a listener that is not loopback, each request's peer address
    /// is available as `ConnectInfo` (the admin API's loopback check reads it); on a loopback
    /// listener every peer is local, and attaching the address to every request cost about
    /// 3 % of a read's CPU in the benchmark.
    pub fn serve_with(
        listener: TcpListener,
        router: axum::Router,
        limits: &ConnectionLimits,
    ) -> std::io::Result<Self> {
        let addr = listener.local_addr()?;
        let (shutdown, stopped) = tokio::sync::oneshot::channel::<()>();
        let stopped = async move {
            let _ = stopped.await;
        };
        let limits = limits.clone();
        let connect_info = !addr.ip().is_loopback();
        let task = tokio::spawn(async move {
            connections::serve(listener, router, &limits, connect_info, stopped).await
        });
        Ok(Background {
            addr,
            shutdown,
            task,
        })
    }

    /// The base URL, e.g. `http://127.0.0.1:4141`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Stops accepting, lets in-flight requests finish, and waits.
    pub async fn stop(self) -> std::io::Result<()> {
        let _ = self.shutdown.send(());
        self.task.await.unwrap_or(Ok(()))
    }

    /// Tells the server to stop without waiting for it (for `Drop`, which cannot wait).
    pub fn stop_in_background(self) {
        let _ = self.shutdown.send(());
    }
}

/// A fake that is listening.
pub struct Running {
    /// The bound address (the real port when 0 was asked for).
    pub addr: SocketAddr,
    /// The shared state, for tests that look inside.
    pub app: Arc<App>,
    server: Background,
    state_file: Option<StateFile>,
    writer: Option<tokio::task::JoinHandle<()>>,
}

impl Running {
    /// The base URL of the fake, e.g. `http://127.0.0.1:4141`.
    pub fn url(&self) -> String {
        self.server.url()
    }

    /// Tells the server to stop without waiting for it (nor writing a state file: an embedded
    /// fake that persists is stopped with [`Running::stop`]).
    pub fn stop_in_background(self) {
        if let Some(writer) = &self.writer {
            writer.abort();
        }
        self.server.stop_in_background();
    }

    /// Stops accepting, lets in-flight requests finish, waits, and writes the state file (in
    /// durable mode: folds the log into it).
    pub async fn stop(self) -> Result<(), StopError> {
        if let Some(writer) = &self.writer {
            writer.abort();
        }
        self.server.stop().await?;
        let Some(file) = self.state_file else {
            return Ok(());
        };
        let app = self.app.clone();
        tokio::task::spawn_blocking(move || match app.durable.get() {
            Some(log) => log.close(&app),
            None => file.save(&app),
        })
        .await
        .map_err(std::io::Error::other)??;
        Ok(())
    }
}

/// Loads what `persistence` says into `app`, before anything is served.
fn load(app: &Arc<App>, persistence: &Persistence) -> Result<Option<StateFile>, PersistError> {
    match persistence {
        Persistence::None => Ok(None),
        Persistence::Seed(path) => {
            StateFile::new(path).load(app)?;
            tracing::info!(file = %path.display(), "state seeded");
            Ok(None)
        }
        Persistence::StateFile { path, durable, .. } => {
            let file = StateFile::new(path);
            let (segment, logged) = durable::recover(app, &file)?;
            if *durable {
                let log = DurableLog::open(file.clone(), segment);
                // The log must start from the state file: a vendor seeded at random (an
                // unseeded run) would otherwise replay onto a different seed.
                log.snapshot(app)?;
                let _ = app.durable.set(log);
            } else if logged {
                // A durable run left a log: its changes are in the state now; fold them into
                // the file so the log can go.
                DurableLog::open(file.clone(), segment).close(app)?;
            }
            tracing::info!(file = %path.display(), durable, "state file");
            Ok(Some(file))
        }
    }
}

/// Writes the state file every `every` (in durable mode: folds the log into it when it has
/// grown, or every `every` when anything was logged), on a blocking thread so no request
/// waits on the disk.
fn spawn_writer(
    app: Arc<App>,
    file: StateFile,
    every: Option<Duration>,
) -> Option<tokio::task::JoinHandle<()>> {
    let durable = app.durable.get().cloned();
    let explicit = every.is_some();
    let tick = match (&durable, every) {
        (_, Some(every)) => every.max(Duration::from_millis(1)),
        (Some(_), None) => Duration::from_secs(1),
        (None, None) => return None,
    };
    Some(tokio::spawn(async move {
        let mut every = tokio::time::interval(tick);
        every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
        every.tick().await;
        loop {
            every.tick().await;
            let (file, app, durable) = (file.clone(), app.clone(), durable.clone());
            let written = tokio::task::spawn_blocking(move || match &durable {
                Some(log) if log.wants_snapshot() || (explicit && log.logged_since_snapshot()) => {
                    log.snapshot(&app)
                }
                Some(_) => Ok(()),
                None => file.save(&app),
            })
            .await;
            match written {
                Ok(Ok(())) => {}
                Ok(Err(error)) => tracing::error!(%error, "writing the state file"),
                Err(error) => tracing::error!(%error, "state writer stopped"),
            }
        }
    }))
}

/// Builds the fake, loads its state (see [`Persistence`]), then binds and serves in the
/// background until [`Running::stop`].
pub async fn start(options: Options) -> Result<Running, StartError> {
    options.config.connections.check()?;
    let app = app(&options)?;
    let loading = (app.clone(), options.persistence.clone());
    let state_file = tokio::task::spawn_blocking(move || load(&loading.0, &loading.1))
        .await
        .map_err(|e| PersistError::Io {
            path: PathBuf::new(),
            source: std::io::Error::other(e),
        })??;
    let listener = TcpListener::bind(options.addr)
        .await
        .map_err(|source| StartError::Bind {
            addr: options.addr,
            source,
        })?;
    let routes = crate::worlds::selecting(router(app.clone(), options.mount).merge(admin::router(
        app.clone(),
        admin::AdminAccess {
            remote: options.config.admin_remote,
            token: options.config.admin_token.clone(),
        },
    )));
    let server = Background::serve_with(listener, routes, &options.config.connections).map_err(
        |source| StartError::Bind {
            addr: options.addr,
            source,
        },
    )?;
    let writer = state_file.as_ref().and_then(|file| {
        let every = match &options.persistence {
            Persistence::StateFile { interval, .. } => *interval,
            _ => None,
        };
        spawn_writer(app.clone(), file.clone(), every)
    });
    Ok(Running {
        addr: server.addr,
        app,
        server,
        state_file,
        writer,
    })
}

/// Why a health probe failed.
#[derive(Debug, thiserror::Error)]
pub enum HealthError {
    /// The fake could not be reached.
    #[error("{addr}: {source}")]
    Unreachable {
        /// Where it was looked for.
        addr: SocketAddr,
        /// The I/O error.
        source: std::io::Error,
    },
    /// It answered, but not `200`.
    #[error("{addr}: the health endpoint answered {status:?}")]
    Unhealthy {
        /// Where it was asked.
        addr: SocketAddr,
        /// The status line it sent.
        status: String,
    },
}

/// Asks the fake at `addr` for `GET /__understudy/health` over plain TCP (no HTTP client, so
/// the probe works in an image that holds nothing but the binary), with a 2 s timeout.
pub fn probe_health(addr: SocketAddr) -> Result<(), HealthError> {
    use std::io::{Read, Write};
    let unreachable = |source| HealthError::Unreachable { addr, source };
    let timeout = std::time::Duration::from_secs(2);
    let mut stream = std::net::TcpStream::connect_timeout(&addr, timeout).map_err(unreachable)?;
    stream
        .set_read_timeout(Some(timeout))
        .map_err(unreachable)?;
    write!(
        stream,
        "GET {}/health HTTP/1.1\r\nhost: {addr}\r\nconnection: close\r\n\r\n",
        admin::PREFIX
    )
    .map_err(unreachable)?;
    let mut head = [0u8; 32];
    let read = stream.read(&mut head).map_err(unreachable)?;
    let line = String::from_utf8_lossy(&head[..read]);
    let status = line.lines().next().unwrap_or_default().to_string();
    if status.starts_with("HTTP/1.1 200") {
        Ok(())
    } else {
        Err(HealthError::Unhealthy { addr, status })
    }
}

/// A future that resolves on SIGINT or SIGTERM. The handlers are installed when this function
/// is called, not when the future is first polled, so a signal that arrives while the server is
/// still starting is not lost to the default action (which would kill the process unsaved).
pub fn shutdown_signal() -> impl std::future::Future<Output = ()> {
    #[cfg(unix)]
    let mut terminate =
        tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
    #[cfg(unix)]
    let mut interrupt =
        tokio::signal::unix::signal(tokio::signal::unix::SignalKind::interrupt()).ok();
    async move {
        #[cfg(unix)]
        {
            let term = async {
                match terminate.as_mut() {
                    Some(signal) => {
                        signal.recv().await;
                    }
                    None => std::future::pending::<()>().await,
                }
            };
            let int = async {
                match interrupt.as_mut() {
                    Some(signal) => {
                        signal.recv().await;
                    }
                    None => std::future::pending::<()>().await,
                }
            };
            tokio::select! {
                _ = term => {},
                _ = int => {},
            }
        }
        #[cfg(not(unix))]
        {
            let _ = tokio::signal::ctrl_c().await;
        }
    }
}
