//! Serving: binds the listener, runs the router, and shuts down gracefully on SIGINT/SIGTERM.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use tokio::net::TcpListener;

use crate::admin;
use crate::config::{Config, ConfigError};
use crate::connections::{self, ConnectionLimits, LimitError};
use crate::faults::Faults;
use crate::journal::Journal;
use crate::pipeline::{App, ConformingBodies, Mount, router};
use crate::rate_limit::RateLimiter;
use crate::spec::{SpecError, SpecSet};
use crate::vendors::{World, build};

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
    #[error("configuration: fault rule {index}: {reason}")]
    Fault {
        /// The rule's position in `faults`, from 0.
        index: usize,
        /// What is wrong with it.
        reason: String,
    },
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
}

impl Default for Options {
    fn default() -> Self {
        Options {
            addr: SocketAddr::from(([127, 0, 0, 1], DEFAULT_PORT)),
            mount: Mount::All,
            specs_dir: None,
            config: Config::default(),
            strict: true,
        }
    }
}

/// Builds the shared application state: specs compiled, vendors built.
pub fn app(options: &Options) -> Result<Arc<App>, StartError> {
    let specs = match &options.specs_dir {
        Some(dir) => SpecSet::from_dir(dir)?,
        None => SpecSet::embedded()?,
    };
    for (index, rule) in options.config.faults.iter().enumerate() {
        rule.check(&specs)
            .map_err(|reason| StartError::Fault { index, reason })?;
    }
    let world = World::new(options.config.seed);
    let vendors = build(&options.config, &world);
    let limiter = Arc::new(
        RateLimiter::new(options.config.active_rate_limits()).with_mutants(world.mutants.clone()),
    );
    Ok(Arc::new(App {
        specs: Arc::new(specs),
        vendors,
        world,
        strict: options.strict,
        limiter,
        faults: Arc::new(Faults::new(options.config.faults.clone())),
        journal: Arc::new(Journal::new(options.config.journal_capacity)),
        max_resources: options.config.max_resources,
        conforming: ConformingBodies::new(CONFORMING_BODIES),
    }))
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
    /// [`crate::connections`]). On a listener that is not loopback, each request's peer address
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
}

/// A fake that is listening.
pub struct Running {
    /// The bound address (the real port when 0 was asked for).
    pub addr: SocketAddr,
    /// The shared state, for tests that look inside.
    pub app: Arc<App>,
    server: Background,
}

impl Running {
    /// The base URL of the fake, e.g. `http://127.0.0.1:4141`.
    pub fn url(&self) -> String {
        self.server.url()
    }

    /// Stops accepting, lets in-flight requests finish, and waits.
    pub async fn stop(self) -> std::io::Result<()> {
        self.server.stop().await
    }
}

/// Binds and serves in the background until [`Running::stop`].
pub async fn start(options: Options) -> Result<Running, StartError> {
    options.config.connections.check()?;
    let app = app(&options)?;
    let listener = TcpListener::bind(options.addr)
        .await
        .map_err(|source| StartError::Bind {
            addr: options.addr,
            source,
        })?;
    let routes = router(app.clone(), options.mount)
        .merge(admin::router(app.clone(), options.config.admin_remote));
    let server = Background::serve_with(listener, routes, &options.config.connections).map_err(
        |source| StartError::Bind {
            addr: options.addr,
            source,
        },
    )?;
    Ok(Running {
        addr: server.addr,
        app,
        server,
    })
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
