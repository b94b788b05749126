//! Backends: anything that answers a vendor's HTTP API. The fake runs in-process on an ephemeral
//! loopback port; any other base URL (a sandbox, a staging server, another mock) is reached the
//! same way, with its own credentials replacing the scenario's.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::Value;
use understudy::VendorId;
use understudy::config::Config;
use understudy::server::{Options, Running, start};

use crate::exchange::{Exchange, Request};

/// Why a backend could not answer.
#[derive(Debug, thiserror::Error)]
pub enum BackendError {
    /// The request did not get a response.
    #[error("{backend}: {source}")]
    Transport {
        /// The backend's name.
        backend: String,
        /// The HTTP client's error.
        source: reqwest::Error,
    },
    /// The in-process fake did not start.
    #[error("the fake did not start: {0}")]
    Start(String),
    /// Recording or replaying fixtures failed.
    #[error("{0}")]
    Fixtures(String),
    /// The replay server has no recorded exchange for the request; `report` is its near-miss
    /// report (the nearest recording and how the request differs).
    #[error("{backend}: no recorded exchange matches: {report}")]
    NoMatch {
        /// The backend's name.
        backend: String,
        /// The replay server's report.
        report: String,
    },
}

/// A call to the Understudy admin API (`/__understudy/...`) that a scenario makes between
/// steps, e.g. to set a rate limit or move the clock; backends without one ignore it.
#[derive(Clone, Debug)]
pub struct AdminCall {
    /// The HTTP method.
    pub method: &'static str,
    /// The path below `/__understudy`, e.g. `/clock/advance`.
    pub path: String,
    /// The JSON body.
    pub body: Value,
}

/// How a backend starts each case: the choice that decides what a case may assume.
///
/// A further kind, a fresh world per case (`X-Understudy-World`, issue 15), fits beside these:
/// it starts from the seeded state like [`CaseIsolation::Reset`] without touching other cases.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CaseIsolation {
    /// Reset to its seeded state before each case: the in-process fake, an Understudy reached
    /// with its admin URL (`--target-admin`), a replay of such a run.
    Reset,
    /// Nothing resets it (a vendor's sandbox, an Understudy without its admin URL): a case
    /// meets whatever earlier cases and other clients left, so values that must be unique get a
    /// per-run, per-case suffix and the models predict only what they can know.
    Shared,
}

/// What a backend supports, which decides the steps a run may generate.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Capabilities {
    /// How each case starts.
    pub isolation: CaseIsolation,
    /// Whether it has the Understudy admin API (scenarios that move the clock or set a rate
    /// limit need it).
    pub admin: bool,
    /// Whether it answers `Prefer: code=N` with status N, as Understudy's fault injection does.
    pub forced_faults: bool,
    /// Whether it may be sent bodies beyond 1 MiB (a recording keeps its fixtures small).
    pub large_bodies: bool,
    /// Whether it knows the scenarios' other identities (read-only tokens, other tenants'
    /// keys): not when its own credentials replace the scenario's primary one.
    pub identities: bool,
}

impl Capabilities {
    /// A URL no one resets, which may be anything (a vendor's own sandbox).
    pub const SHARED: Capabilities = Capabilities {
        isolation: CaseIsolation::Shared,
        admin: false,
        forced_faults: false,
        large_bodies: true,
        identities: true,
    };

    /// An Understudy the harness drives through its admin API.
    pub const UNDERSTUDY: Capabilities = Capabilities {
        isolation: CaseIsolation::Reset,
        admin: true,
        forced_faults: true,
        large_bodies: true,
        identities: true,
    };

    /// What every one of `all` supports.
    pub fn common(all: &[Capabilities]) -> Capabilities {
        let shared = all.iter().any(|c| c.isolation == CaseIsolation::Shared);
        Capabilities {
            isolation: if shared {
                CaseIsolation::Shared
            } else {
                CaseIsolation::Reset
            },
            admin: all.iter().all(|c| c.admin),
            forced_faults: all.iter().all(|c| c.forced_faults),
            large_bodies: all.iter().all(|c| c.large_bodies),
            identities: all.iter().all(|c| c.identities),
        }
    }
}

/// Something that answers one vendor's API.
pub trait Backend {
    /// A short name for reports (`fake`, `mutant:dub.x`, a URL).
    fn name(&self) -> &str;
    /// Sends `request` (references already resolved) and reads the answer.
    fn send(&self, request: &Request) -> Result<Exchange, BackendError>;
    /// Marks the start of a case: puts the backend back in its initial state where it can
    /// ([`CaseIsolation::Reset`]); a no-op where it cannot.
    fn reset(&self) -> Result<(), BackendError>;
    /// What the backend supports; by default, what a URL no one resets supports.
    fn capabilities(&self) -> Capabilities {
        Capabilities::SHARED
    }
    /// Makes an admin call; a no-op on backends without the admin API (a real vendor, a
    /// replay, whose recorded answers already reflect the call).
    fn admin(&self, _call: &AdminCall) -> Result<(), BackendError> {
        Ok(())
    }
    /// Reads an admin resource (`GET /__understudy{path}`); `None` on backends without the admin
    /// API.
    fn admin_read(&self, _path: &str) -> Result<Option<Value>, BackendError> {
        Ok(None)
    }
    /// The backend as a plain HTTP client of a base URL, when it is one (so a recording proxy
    /// can be put in front of it).
    fn http(&self) -> Option<&HttpBackend> {
        None
    }
    /// Whether the backend can answer sequences other than the run's own cases, in any
    /// order, so proptest may shrink a failure on it (a recording or a replay cannot).
    fn can_shrink(&self) -> bool {
        true
    }
    /// Ends a run that passed: an error when the backend saw something other than the run it
    /// expected (a replay whose recorded cases were not all replayed).
    fn finish(&self) -> Result<(), BackendError> {
        Ok(())
    }
}

/// A backend at a base URL.
#[derive(Clone)]
pub struct HttpBackend {
    name: String,
    base_url: String,
    credentials: Vec<(String, String)>,
    admin_url: Option<String>,
    reset_only: Option<VendorId>,
    worlds: Option<Arc<CaseWorlds>>,
    client: reqwest::blocking::Client,
}

/// A world per case on an Understudy: each [`Backend::reset`] moves the backend to a new world
/// (`PREFIX-N`, created by its first request from the seed) and drops the one before, so cases
/// run side by side on one fake without a reset touching another case.
struct CaseWorlds {
    prefix: String,
    next: AtomicU64,
    current: Mutex<Option<String>>,
    /// The mutants each new world commits (a fake's mutants are per world).
    mutants: Vec<String>,
}

/// The header that selects a world on an Understudy.
const WORLD_HEADER: &str = "x-understudy-world";

impl HttpBackend {
    /// A backend at `base_url` (the vendor's root, e.g. `http://127.0.0.1:4141/dub`).
    pub fn new(name: impl Into<String>, base_url: impl Into<String>) -> Self {
        HttpBackend {
            name: name.into(),
            base_url: base_url.into().trim_end_matches('/').to_string(),
            credentials: Vec::new(),
            admin_url: None,
            reset_only: None,
            worlds: None,
            client: reqwest::blocking::Client::builder()
                .timeout(Duration::from_secs(30))
                .build()
                .unwrap_or_default(),
        }
    }

    /// Headers that replace the scenario's headers of the same name (the real credentials). A
    /// request without such a header gets none, and one whose credentials were chosen on
    /// purpose ([`Request::fixed_credentials`]) keeps them.
    pub fn with_credentials(mut self, credentials: Vec<(String, String)>) -> Self {
        self.credentials = credentials;
        self
    }

    /// The Understudy admin root (`http://host:port`), so each case starts from a reset.
    pub fn with_admin(mut self, admin_url: impl Into<String>) -> Self {
        self.admin_url = Some(admin_url.into().trim_end_matches('/').to_string());
        self
    }

    /// Resets only `vendor` before each case (`POST /__understudy/vendors/{vendor}/reset`),
    /// leaving the other vendors of a shared Understudy as they are.
    pub fn resetting_only(mut self, vendor: VendorId) -> Self {
        self.reset_only = Some(vendor);
        self
    }

    /// Runs each case in a world of its own (`PREFIX-1`, `PREFIX-2`, …) committing `mutants`,
    /// instead of resetting the target between cases; needs the admin root
    /// ([`HttpBackend::with_admin`]). Backends with distinct prefixes share one Understudy
    /// without seeing each other's cases, which is how `--jobs` runs cases concurrently.
    pub fn world_per_case(mut self, prefix: impl Into<String>, mutants: &[&str]) -> Self {
        self.worlds = Some(Arc::new(CaseWorlds {
            prefix: prefix.into(),
            next: AtomicU64::new(0),
            current: Mutex::new(None),
            mutants: mutants.iter().map(|m| m.to_string()).collect(),
        }));
        self
    }

    fn current_world(&self) -> Option<String> {
        self.worlds
            .as_ref()
            .and_then(|w| w.current.lock().unwrap_or_else(|p| p.into_inner()).clone())
    }

    /// `/__understudy{path}`, in the current world when cases have worlds.
    fn admin_path(&self, admin: &str, path: &str) -> String {
        match self.current_world() {
            Some(world) => format!("{admin}/__understudy/worlds/{world}{path}"),
            None => format!("{admin}/__understudy{path}"),
        }
    }

    /// Whether it has an Understudy's admin root (so cases may have worlds of their own).
    pub fn has_admin(&self) -> bool {
        self.admin_url.is_some()
    }

    /// The base URL requests go to.
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// The same backend (name, credentials, client) at another base URL, without the admin
    /// root: a recording proxy in front of it is reached this way.
    pub fn at(&self, base_url: impl Into<String>) -> HttpBackend {
        HttpBackend {
            base_url: base_url.into().trim_end_matches('/').to_string(),
            admin_url: None,
            ..self.clone()
        }
    }

    /// The same backend under another name in reports.
    pub fn renamed(mut self, name: impl Into<String>) -> Self {
        self.name = name.into();
        self
    }

    fn transport(&self, source: reqwest::Error) -> BackendError {
        BackendError::Transport {
            backend: self.name.clone(),
            source,
        }
    }
}

impl Backend for HttpBackend {
    fn name(&self) -> &str {
        &self.name
    }

    fn send(&self, request: &Request) -> Result<Exchange, BackendError> {
        let method =
            reqwest::Method::from_bytes(request.method.as_bytes()).unwrap_or(reqwest::Method::GET);
        let mut builder = self
            .client
            .request(method, format!("{}{}", self.base_url, request.path))
            .query(&request.query);
        if let Some(world) = self.current_world() {
            builder = builder.header(WORLD_HEADER, world);
        }
        for (name, value) in &request.headers {
            let own = self
                .credentials
                .iter()
                .find(|(c, _)| c.eq_ignore_ascii_case(name))
                .filter(|_| !request.fixed_credentials);
            builder = match own {
                Some((name, value)) => builder.header(name, value),
                None => builder.header(name, value),
            };
        }
        if let Some(raw) = &request.raw_body {
            builder = builder
                .header(reqwest::header::CONTENT_TYPE, raw.content_type)
                .body(raw.text.clone());
        } else if let Some(body) = &request.body {
            builder = builder.json(body);
        }
        let response = builder.send().map_err(|e| self.transport(e))?;
        let status = response.status().as_u16();
        let headers: BTreeMap<String, String> = response
            .headers()
            .iter()
            .map(|(n, v)| {
                (
                    n.as_str().to_ascii_lowercase(),
                    v.to_str().unwrap_or_default().to_string(),
                )
            })
            .collect();
        let bytes = response.bytes().map_err(|e| self.transport(e))?;
        let body = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        Ok(Exchange {
            status,
            headers,
            body,
        })
    }

    fn reset(&self) -> Result<(), BackendError> {
        if let (Some(worlds), Some(admin)) = (&self.worlds, &self.admin_url) {
            let n = worlds.next.fetch_add(1, Ordering::Relaxed) + 1;
            let world = format!("{}-{n}", worlds.prefix);
            let previous = worlds
                .current
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .replace(world.clone());
            if let Some(previous) = previous {
                // A world no case uses again is dropped at once rather than left to the cap.
                self.client
                    .delete(format!("{admin}/__understudy/worlds/{previous}"))
                    .send()
                    .map_err(|e| self.transport(e))?;
            }
            if !worlds.mutants.is_empty() {
                self.client
                    .put(format!("{admin}/__understudy/worlds/{world}/mutants"))
                    .json(&serde_json::json!({"active": worlds.mutants}))
                    .send()
                    .and_then(|r| r.error_for_status())
                    .map_err(|e| self.transport(e))?;
            }
            return Ok(());
        }
        if let Some(admin) = &self.admin_url {
            let path = match self.reset_only {
                Some(vendor) => format!("/vendors/{}/reset", vendor.name()),
                None => "/reset".to_string(),
            };
            self.client
                .post(format!("{admin}/__understudy{path}"))
                .send()
                .and_then(|r| r.error_for_status())
                .map_err(|e| self.transport(e))?;
        }
        Ok(())
    }

    fn admin(&self, call: &AdminCall) -> Result<(), BackendError> {
        if let Some(admin) = &self.admin_url {
            let method = reqwest::Method::from_bytes(call.method.as_bytes())
                .unwrap_or(reqwest::Method::POST);
            self.client
                .request(method, self.admin_path(admin, &call.path))
                .json(&call.body)
                .send()
                .and_then(|r| r.error_for_status())
                .map_err(|e| self.transport(e))?;
        }
        Ok(())
    }

    fn admin_read(&self, path: &str) -> Result<Option<Value>, BackendError> {
        let Some(admin) = &self.admin_url else {
            return Ok(None);
        };
        let response = self
            .client
            .get(self.admin_path(admin, path))
            .send()
            .and_then(|r| r.error_for_status())
            .map_err(|e| self.transport(e))?;
        response.json().map(Some).map_err(|e| self.transport(e))
    }

    fn http(&self) -> Option<&HttpBackend> {
        Some(self)
    }

    fn capabilities(&self) -> Capabilities {
        let capabilities = match self.admin_url {
            Some(_) => Capabilities::UNDERSTUDY,
            None => Capabilities::SHARED,
        };
        Capabilities {
            identities: self.credentials.is_empty(),
            ..capabilities
        }
    }
}

/// The fake's configuration for contract runs: seeded ids, and Dub's rate limit off so long
/// runs measure behaviour, not the limiter.
const HARNESS_CONFIG: &str = "seed: 7\nrate_limits: {dub: null}\n";

/// The Understudy fake, in-process on `127.0.0.1:0`, optionally committing mutants.
pub struct FakeBackend {
    http: HttpBackend,
    running: Option<Running>,
    runtime: tokio::runtime::Runtime,
}

impl FakeBackend {
    /// Starts a fresh, strict fake for `vendor` with the `mutants` active.
    pub fn start(vendor: VendorId, mutants: &[&str]) -> Result<Self, BackendError> {
        Self::start_with(vendor, mutants, true)
    }

    /// Starts a fresh fake; `strict: false` lets responses that break the spec through, as a
    /// real vendor would send them, so the harness's own spec check has to catch them.
    pub fn start_with(
        vendor: VendorId,
        mutants: &[&str],
        strict: bool,
    ) -> Result<Self, BackendError> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            // Enough workers for `--jobs` cases at once on the two cores CI has.
            .worker_threads(
                std::thread::available_parallelism()
                    .map_or(1, |n| n.get())
                    .min(4),
            )
            .enable_all()
            .build()
            .map_err(|e| BackendError::Start(e.to_string()))?;
        let config = Config::with_overrides(HARNESS_CONFIG)
            .map_err(|e| BackendError::Start(e.to_string()))?;
        let options = Options {
            addr: "127.0.0.1:0".parse().expect("a literal loopback address"),
            config,
            strict,
            ..Options::default()
        };
        let running = runtime
            .block_on(start(options))
            .map_err(|e| BackendError::Start(e.to_string()))?;
        // A misspelt mutant is refused here rather than silently never firing.
        running
            .app
            .world()
            .ambient
            .mutants
            .activate(mutants.iter().copied())
            .map_err(|e| BackendError::Start(e.to_string()))?;
        let name = match mutants {
            [] => "fake".to_string(),
            names => format!("mutant:{}", names.join("+")),
        };
        let http = HttpBackend::new(name, format!("{}/{}", running.url(), vendor.name()))
            .with_admin(running.url());
        Ok(FakeBackend {
            http,
            running: Some(running),
            runtime,
        })
    }
}

impl FakeBackend {
    /// The same fake under another name in reports (two fakes in one run need two names).
    pub fn named(mut self, name: impl Into<String>) -> Self {
        self.http.name = name.into();
        self
    }
}

impl Backend for FakeBackend {
    fn name(&self) -> &str {
        self.http.name()
    }

    fn send(&self, request: &Request) -> Result<Exchange, BackendError> {
        self.http.send(request)
    }

    fn reset(&self) -> Result<(), BackendError> {
        self.http.reset()
    }

    fn admin(&self, call: &AdminCall) -> Result<(), BackendError> {
        self.http.admin(call)
    }

    fn admin_read(&self, path: &str) -> Result<Option<Value>, BackendError> {
        self.http.admin_read(path)
    }

    fn http(&self) -> Option<&HttpBackend> {
        Some(&self.http)
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities::UNDERSTUDY
    }
}

impl Drop for FakeBackend {
    fn drop(&mut self) {
        if let Some(running) = self.running.take() {
            let _ = self.runtime.block_on(running.stop());
        }
    }
}
