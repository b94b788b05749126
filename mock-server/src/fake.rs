//! The embedding API: start a fake in a Rust test with one line, reach its state, faults,
//! journal, clock and mutants through typed methods, and stop it by dropping it.
//!
//! ```
//! use understudy::{Fake, VendorId};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() {
//! // Dub alone, at the root of its own ephemeral port, strict about its own responses.
//! let fake = Fake::builder().vendor(VendorId::Dub).start().await.unwrap();
//! let status = reqwest::Client::new()
//!     .post(format!("{}/partners", fake.url()))
//!     .bearer_auth("dub_understudy_test")
//!     .json(&serde_json::json!({
//!         "programId": "prog_understudy", "name": "Ada", "email": "ada@example.com",
//!         "username": "ada"
//!     }))
//!     .send()
//!     .await
//!     .unwrap()
//!     .status();
//! assert_eq!(status, 201);
//! assert_eq!(fake.journal().operation("createPartner").count(), 1);
//! # }
//! ```

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;

use crate::VendorId;
use crate::admin::{self, AdminError, StateDocument};
use crate::clock::ClockError;
use crate::config::{Config, ConfigError};
use crate::faults::{FaultError, FaultRule};
use crate::journal::{Entry, Filter};
use crate::pipeline::{App, Mount};
use crate::rate_limit::RateLimitConfig;
use crate::server::{Options, Running, StartError, start};
use crate::spec::VendorSpec;
use crate::vendors::StateStore;
use crate::worlds::{PATH_PREFIX, World, WorldError, WorldName};

/// How to start a [`Fake`]: every vendor under its prefix, the built-in default configuration,
/// strict response checking, on `127.0.0.1` at a port the system picks.
#[derive(Clone, Debug, Default)]
#[must_use = "a builder does nothing until `start` is awaited"]
pub struct FakeBuilder {
    options: Options,
}

impl FakeBuilder {
    /// Serves only `vendor`, at the root, so a client's base URL is [`FakeWorld::url`] itself.
    pub fn vendor(mut self, vendor: VendorId) -> Self {
        self.options.mount = Mount::Root(vendor);
        self
    }

    /// Uses `config` instead of the built-in default.
    pub fn config(mut self, config: Config) -> Self {
        self.options.config = config;
        self
    }

    /// Merges `yaml` over the built-in default configuration (maps key by key, lists replaced).
    ///
    /// ```
    /// let builder = understudy::Fake::builder().config_yaml("seed: 7\njournal_capacity: 10");
    /// assert!(builder.is_ok());
    /// assert!(understudy::Fake::builder().config_yaml("no_such_key: 1").is_err());
    /// ```
    pub fn config_yaml(mut self, yaml: &str) -> Result<Self, ConfigError> {
        self.options.config = Config::with_overrides(yaml)?;
        Ok(self)
    }

    /// Seeds the id generator, so the same requests get the same ids on every run.
    pub fn seed(mut self, seed: u64) -> Self {
        self.options.config.seed = Some(seed);
        self
    }

    /// Logs responses that break the spec instead of replacing them with a diagnosed 500.
    pub fn lenient(mut self) -> Self {
        self.options.strict = false;
        self
    }

    /// Listens on `addr` instead of `127.0.0.1:0`.
    pub fn bind(mut self, addr: SocketAddr) -> Self {
        self.options.addr = addr;
        self
    }

    /// Builds the fake and starts serving it in the background.
    pub async fn start(self) -> Result<Fake, StartError> {
        let mount = self.options.mount;
        let running = start(self.options).await?;
        let app = running.app.clone();
        Ok(Fake {
            default: FakeWorld {
                world: app.worlds.default_world().clone(),
                app,
                mount,
                url: running.url(),
            },
            running: Some(running),
        })
    }
}

/// A running fake, served in the background until it is dropped (or [`Fake::stop`]ped).
///
/// It derefs to its default world ([`FakeWorld`]): `fake.reset()`, `fake.set_faults(…)`,
/// `fake.journal()` act on what requests without a world selector see. [`Fake::world`] gives
/// any other world.
pub struct Fake {
    default: FakeWorld,
    running: Option<Running>,
}

impl std::fmt::Debug for Fake {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Fake")
            .field("addr", &self.addr())
            .field("mount", &self.default.mount)
            .finish()
    }
}

impl std::ops::Deref for Fake {
    type Target = FakeWorld;

    fn deref(&self) -> &FakeWorld {
        &self.default
    }
}

impl Fake {
    /// A builder, to choose vendors, configuration and address before starting.
    pub fn builder() -> FakeBuilder {
        FakeBuilder::default()
    }

    /// Every vendor on the default configuration, at an ephemeral loopback port.
    ///
    /// # Panics
    /// When the fake cannot start, which the built-in defaults never cause unless the machine
    /// has no free loopback port.
    pub async fn start() -> Fake {
        Self::builder()
            .start()
            .await
            .expect("the default fake starts")
    }

    /// The address it listens on.
    pub fn addr(&self) -> SocketAddr {
        self.running.as_ref().map_or_else(
            || SocketAddr::from(([127, 0, 0, 1], 0)),
            |running| running.addr,
        )
    }

    /// The world `name`, created from the seed if no request has reached it yet. Its
    /// [`FakeWorld::url`] carries the world's path prefix, so a client given that base URL
    /// works in that world alone.
    ///
    /// ```
    /// use understudy::{Fake, VendorId};
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let fake = Fake::start().await;
    /// let (a, b) = (fake.world("a").unwrap(), fake.world("b").unwrap());
    /// a.advance_clock(std::time::Duration::from_secs(3600)).unwrap();
    /// assert!(a.now() > b.now());
    /// assert_eq!(fake.worlds(), 2);
    /// # }
    /// ```
    pub fn world(&self, name: &str) -> Result<FakeWorld, WorldError> {
        let name: WorldName = name.parse()?;
        let world = self.default.app.worlds.enter(Some(&name))?;
        let url = if world.is_default() {
            self.default.url.clone()
        } else {
            format!("{}{PATH_PREFIX}{name}", self.default.url)
        };
        Ok(FakeWorld {
            app: self.default.app.clone(),
            world,
            mount: self.default.mount,
            url,
        })
    }

    /// How many named worlds exist.
    pub fn worlds(&self) -> usize {
        self.default.app.worlds.len()
    }

    /// `vendor`'s compiled spec, as the fake routes and validates by it; `None` for a vendor
    /// it does not serve (a fake of one vendor compiles only that vendor's spec).
    pub fn spec(&self, vendor: VendorId) -> Option<&VendorSpec> {
        self.default.app.specs.get(vendor)
    }

    /// Stops accepting, lets in-flight requests finish, and waits.
    pub async fn stop(mut self) -> Result<(), crate::server::StopError> {
        match self.running.take() {
            Some(running) => running.stop().await,
            None => Ok(()),
        }
    }
}

impl Drop for Fake {
    fn drop(&mut self) {
        if let Some(running) = self.running.take() {
            running.stop_in_background();
        }
    }
}

/// One world of a [`Fake`]: its URL, state, faults, rate limits, clock, journal and mutants.
/// Holding it keeps the world from being dropped (by the idle timeout or the cap).
pub struct FakeWorld {
    app: Arc<App>,
    world: Arc<World>,
    mount: Mount,
    url: String,
}

impl std::fmt::Debug for FakeWorld {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FakeWorld")
            .field("name", &self.world.name())
            .field("url", &self.url)
            .finish()
    }
}

impl FakeWorld {
    /// The world's name (`default` for the default world).
    pub fn name(&self) -> &str {
        self.world.name()
    }

    /// The base URL of this world, e.g. `http://127.0.0.1:41234` for the default world and
    /// `http://127.0.0.1:41234/__world/NAME` for a named one.
    pub fn url(&self) -> String {
        self.url.clone()
    }

    /// The base URL of `vendor`'s API in this world: under its prefix when every vendor is
    /// served, the world's root when only that vendor is.
    pub fn vendor_url(&self, vendor: VendorId) -> String {
        match self.mount {
            Mount::All => format!("{}{}", self.url, vendor.prefix()),
            Mount::Root(_) => self.url.clone(),
        }
    }

    /// Every vendor's state, as `GET /__understudy/state` exports it.
    pub fn state(&self) -> StateDocument {
        admin::export(&self.world)
    }

    /// One vendor's state in its own shape.
    pub fn vendor_state(&self, vendor: VendorId) -> Value {
        self.world.vendors[&vendor].state().export()
    }

    /// `vendor`'s state store: export, import, reset, resource count.
    pub fn store(&self, vendor: VendorId) -> &dyn StateStore {
        self.world.vendors[&vendor].state()
    }

    /// Imports `document`, all or nothing.
    pub fn import_state(&self, document: StateDocument) -> Result<(), AdminError> {
        admin::import(&self.world, document)
    }

    /// Every vendor back to its seed; rate-limit usage forgotten.
    pub fn reset(&self) {
        admin::reset(&self.world, None);
    }

    /// Replaces every fault rule; refused (and nothing changes) when one can never apply.
    ///
    /// ```
    /// use understudy::faults::FaultRule;
    /// use understudy::{Fake, VendorId};
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let fake = Fake::start().await;
    /// // The next Dub partner creation fails once with a 500, then Dub answers as usual.
    /// fake.set_faults(vec![FaultRule::new(VendorId::Dub).operation("createPartner").status(500).times(1)])
    ///     .unwrap();
    /// assert!(fake.set_faults(vec![FaultRule::new(VendorId::Dub).status(299)]).is_err());
    /// # }
    /// ```
    pub fn set_faults(&self, rules: Vec<FaultRule>) -> Result<(), FaultError> {
        self.world.faults.set(rules)
    }

    /// Adds one fault rule after the others.
    pub fn add_fault(&self, rule: FaultRule) -> Result<(), FaultError> {
        self.world.faults.push(rule)
    }

    /// The fault rules in force.
    pub fn faults(&self) -> Vec<FaultRule> {
        self.world.faults.rules()
    }

    /// Removes every fault rule.
    pub fn clear_faults(&self) {
        self.world.faults.clear();
    }

    /// Sets `vendor`'s rate limit (`None` removes it) and forgets its usage; refused for a
    /// vendor the fake does not serve.
    pub fn set_rate_limit(
        &self,
        vendor: VendorId,
        limit: Option<RateLimitConfig>,
    ) -> Result<(), String> {
        self.app
            .specs
            .try_vendor(vendor)
            .map_err(|e| e.to_string())?;
        if let Some(limit) = &limit {
            limit.check()?;
        }
        self.world.limiter.set(vendor, limit);
        Ok(())
    }

    /// Moves the world's clock forward: rate-limit windows and timestamps follow.
    pub fn advance_clock(&self, by: Duration) -> Result<(), ClockError> {
        self.world.ambient.clock.advance(by)
    }

    /// The world's current time.
    pub fn now(&self) -> time::OffsetDateTime {
        self.world.ambient.clock.now()
    }

    /// A query over the world's request journal (newest first).
    pub fn journal(&self) -> JournalQuery<'_> {
        JournalQuery {
            world: &self.world,
            filter: Filter::default(),
        }
    }

    /// Activates exactly the mutants named (an empty list turns them all off); refused when
    /// one is not in the catalogue.
    pub fn set_mutants<I, S>(&self, names: I) -> Result<(), crate::mutants::UnknownMutant>
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.world.ambient.mutants.activate(names)
    }
}

/// Which journal entries to read: built from [`FakeWorld::journal`], narrowed by vendor and
/// operation.
#[derive(Debug)]
#[must_use = "a query reads nothing until `entries` or `count` is called"]
pub struct JournalQuery<'a> {
    world: &'a World,
    filter: Filter,
}

impl JournalQuery<'_> {
    /// Only `vendor`'s exchanges.
    pub fn vendor(mut self, vendor: VendorId) -> Self {
        self.filter.vendor = Some(vendor);
        self
    }

    /// Only exchanges of this operation id.
    pub fn operation(mut self, operation_id: impl Into<String>) -> Self {
        self.filter.operation = Some(operation_id.into());
        self
    }

    /// The matching entries, newest first, credentials redacted.
    pub fn entries(self) -> Vec<Entry> {
        self.world.journal.list(&self.filter)
    }

    /// How many entries match.
    pub fn count(self) -> usize {
        self.entries().len()
    }
}
