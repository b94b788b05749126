//! Worlds: isolated state for every test on one server.
//!
//! A world is everything a test can observe or change: every vendor's state, the clock, the id
//! generator, rate-limit usage, fault rules, mutants and the journal. The specs and their
//! compiled validators are shared by all worlds. A request picks its world with the
//! [`WORLD_HEADER`] or the [`PATH_PREFIX`] (for SDKs that only let a user change the base URL);
//! without either it goes to the default world, which is the one the fake has always had.
//!
//! A world is created by its first request, from the configured seed, and its ids are seeded
//! from the configured seed and its name: the same test gets the same ids whatever runs beside
//! it. Worlds are bounded ([`WorldLimits`]): one idle longer than the idle timeout is dropped,
//! and at the cap the least recently used world without a request in flight makes room. A
//! world with a request in flight is never dropped.
//!
//! ```
//! use understudy::Fake;
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() {
//! let fake = Fake::start().await;
//! let world = fake.world("test-42").unwrap();
//! // What an SDK takes as its base URL: the world's prefix before the vendor's.
//! assert!(world.vendor_url(understudy::VendorId::Dub).ends_with("/__world/test-42/dub"));
//! assert!(fake.world("not a name").is_err());
//! # }
//! ```

use std::collections::{BTreeMap, HashMap};
use std::str::FromStr;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use axum::Json;
use axum::extract::Request;
use axum::http::{HeaderValue, StatusCode, Uri};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use serde_json::json;
use time::OffsetDateTime;

use crate::VendorId;
use crate::config::Config;
use crate::faults::{FaultRule, Faults};
use crate::journal::Journal;
use crate::rate_limit::{RateLimitConfig, RateLimiter};
use crate::spec::SpecSet;
use crate::vendors::{Ambient, Vendor, build};

/// The header that selects a world: `X-Understudy-World: NAME`.
pub const WORLD_HEADER: &str = "x-understudy-world";

/// The path prefix that selects a world: `/__world/NAME/` before the vendor's prefix (or before
/// the root, for a fake of one vendor).
pub const PATH_PREFIX: &str = "/__world/";

/// The admin API's prefix for one world's routes: `/__understudy/worlds/NAME/…`.
const ADMIN_PREFIX: &str = "/__understudy/worlds/";

/// The name that selects the default world explicitly.
pub const DEFAULT_WORLD: &str = "default";

/// The longest world name.
pub const MAX_NAME_CHARS: usize = 64;

/// A world's name: 1–64 characters of `[A-Za-z0-9._-]`, so it is safe in a path, a header, a
/// log line and a file name alike.
///
/// ```
/// use understudy::WorldName;
///
/// assert!("test-42".parse::<WorldName>().is_ok());
/// assert!("a/b".parse::<WorldName>().is_err());
/// assert!("".parse::<WorldName>().is_err());
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct WorldName(Box<str>);

impl WorldName {
    /// The name as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether this is the default world's name.
    pub fn is_default(&self) -> bool {
        &*self.0 == DEFAULT_WORLD
    }
}

impl std::fmt::Display for WorldName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl FromStr for WorldName {
    type Err = WorldError;

    fn from_str(name: &str) -> Result<Self, WorldError> {
        let valid = (1..=MAX_NAME_CHARS).contains(&name.len())
            && name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'));
        if valid {
            Ok(WorldName(name.into()))
        } else {
            Err(WorldError::BadName(name.chars().take(80).collect()))
        }
    }
}

impl<'de> Deserialize<'de> for WorldName {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let name = String::deserialize(deserializer)?;
        name.parse().map_err(serde::de::Error::custom)
    }
}

/// Why a world could not be selected, entered or dropped. Answered in the admin API's shape,
/// `{"error": {"code", "message"}}`, on vendor routes too: no vendor documents worlds.
#[derive(Debug, thiserror::Error)]
pub enum WorldError {
    /// The name does not fit [`WorldName`].
    #[error(
        "invalid world name {0:?}: a world name is 1-64 characters of A-Z, a-z, 0-9, '.', '_' and '-'"
    )]
    BadName(String),
    /// The header and the path name different worlds.
    #[error("the {WORLD_HEADER} header names world {header:?} but the path names {path:?}")]
    Conflict {
        /// The header's world.
        header: String,
        /// The path's world.
        path: String,
    },
    /// The cap on worlds is reached and every world has a request in flight.
    #[error(
        "{0} worlds exist (the cap, worlds.max_worlds) and every one has a request in flight; retry, or delete a world"
    )]
    Full(usize),
    /// No world has this name.
    #[error("no world {0:?}")]
    Unknown(String),
    /// The default world is never dropped.
    #[error("the default world cannot be deleted (POST /__understudy/reset resets it)")]
    DefaultWorld,
}

impl WorldError {
    fn status_and_code(&self) -> (StatusCode, &'static str) {
        match self {
            WorldError::BadName(_) => (StatusCode::BAD_REQUEST, "bad_world"),
            WorldError::Conflict { .. } => (StatusCode::BAD_REQUEST, "world_conflict"),
            WorldError::Full(_) => (StatusCode::SERVICE_UNAVAILABLE, "worlds_full"),
            WorldError::Unknown(_) => (StatusCode::NOT_FOUND, "unknown_world"),
            WorldError::DefaultWorld => (StatusCode::BAD_REQUEST, "default_world"),
        }
    }
}

impl IntoResponse for WorldError {
    fn into_response(self) -> Response {
        let (status, code) = self.status_and_code();
        let body = json!({"error": {"code": code, "message": self.to_string()}});
        (status, Json(body)).into_response()
    }
}

/// How many worlds may exist and how long an idle one is kept.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct WorldLimits {
    /// The most named worlds at once (the default world is not counted). At the cap, a new
    /// world takes the place of the least recently used one that has no request in flight.
    pub max_worlds: usize,
    /// A named world unused for this long is dropped (checked whenever a world is created or
    /// the worlds are listed).
    pub idle_seconds: u64,
    /// The most resources stored across every world and vendor; creates beyond it get the
    /// vendor's "limit reached" error, as the per-world, per-vendor `max_resources` does.
    pub max_total_resources: usize,
}

/// The most worlds a configuration may allow.
pub const MAX_WORLDS: usize = 100_000;

impl Default for WorldLimits {
    fn default() -> Self {
        WorldLimits {
            max_worlds: 1_000,
            idle_seconds: 900,
            max_total_resources: 200_000,
        }
    }
}

impl WorldLimits {
    /// Refuses limits that cannot work: no room for a world, or more than `MAX_WORLDS`.
    pub fn check(&self) -> Result<(), String> {
        if !(1..=MAX_WORLDS).contains(&self.max_worlds) {
            return Err(format!(
                "worlds.max_worlds must be 1-{MAX_WORLDS}, not {}",
                self.max_worlds
            ));
        }
        if self.idle_seconds == 0 {
            return Err("worlds.idle_seconds must be at least 1".into());
        }
        Ok(())
    }
}

/// One world: every vendor's state and everything else a test can observe or change.
pub struct World {
    name: Option<WorldName>,
    /// The vendors by id, each with its own state.
    pub vendors: BTreeMap<VendorId, Arc<dyn Vendor>>,
    /// The clock, ids and mutants the vendors share.
    pub ambient: Ambient,
    /// Rate limits and their usage.
    pub limiter: RateLimiter,
    /// Fault and latency injection rules.
    pub faults: Faults,
    /// The last exchanges.
    pub journal: Journal,
    created: OffsetDateTime,
    /// Unix milliseconds of the last request (real time, not the world's clock).
    last_used: AtomicI64,
    /// When it was last entered, in the order of [`Worlds`]' entries: ties in milliseconds
    /// must not decide which world is least recently used.
    last_entered: AtomicU64,
}

impl std::fmt::Debug for World {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("World").field("name", &self.name()).finish()
    }
}

impl World {
    /// The world's name ([`DEFAULT_WORLD`] for the default world).
    pub fn name(&self) -> &str {
        self.name.as_ref().map_or(DEFAULT_WORLD, WorldName::as_str)
    }

    /// Whether this is the default world (the one persistence keeps).
    pub fn is_default(&self) -> bool {
        self.name.is_none()
    }

    /// Every stored resource, across vendors.
    pub fn resources(&self) -> usize {
        self.vendors.values().map(|v| v.state().resources()).sum()
    }

    fn touch(&self, entry: u64) {
        self.last_used.store(unix_ms(), Ordering::Relaxed);
        self.last_entered.store(entry, Ordering::Relaxed);
    }

    /// What `GET /__understudy/worlds` says of this world.
    pub fn summary(&self) -> WorldSummary {
        WorldSummary {
            name: self.name().to_string(),
            created: crate::clock::rfc3339(self.created),
            last_used: crate::clock::rfc3339(
                OffsetDateTime::from_unix_timestamp_nanos(
                    i128::from(self.last_used.load(Ordering::Relaxed)) * 1_000_000,
                )
                .unwrap_or(self.created),
            ),
            resources: self
                .vendors
                .iter()
                .map(|(id, v)| (*id, v.state().resources()))
                .collect(),
            journal: self.journal.len(),
            clock_offset_ms: self.ambient.clock.offset_ms(),
        }
    }
}

/// One world as the admin API lists it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct WorldSummary {
    /// Its name.
    pub name: String,
    /// When its first request arrived (real time).
    pub created: String,
    /// When its last request arrived (real time).
    pub last_used: String,
    /// Resources stored, per vendor.
    pub resources: BTreeMap<VendorId, usize>,
    /// Exchanges in its journal.
    pub journal: usize,
    /// How far its clock was moved ahead.
    pub clock_offset_ms: i64,
}

fn unix_ms() -> i64 {
    (OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000) as i64
}

/// Wraps each vendor of every world as it is built: how a test puts a vendor that misbehaves
/// on purpose behind the real pipeline (see [`crate::server::app_decorated`]).
pub type VendorDecorator = Arc<dyn Fn(Arc<dyn Vendor>) -> Arc<dyn Vendor> + Send + Sync>;

/// What a new world is made of: the configuration, checked once at start.
///
/// The vendors are built once more at start, seeded from the configured seed alone; every
/// named world forks them ([`Vendor::fork`]), sharing their configuration and seed, so a new world
/// costs its own clock, ids, limiter, faults and journal and no copy of any vendor's state
/// until a request changes it.
struct Recipe {
    journal_capacity: usize,
    id_seed: Option<u64>,
    specs: Arc<SpecSet>,
    limits: BTreeMap<VendorId, RateLimitConfig>,
    faults: Vec<FaultRule>,
    decorate: Option<VendorDecorator>,
    /// Vendors seeded from the configuration, undecorated: what named worlds fork.
    prototypes: BTreeMap<VendorId, Arc<dyn Vendor>>,
}

impl Recipe {
    /// A named world, forked from the prototypes.
    fn world(&self, name: WorldName) -> World {
        let ambient = Ambient::new(Some(world_seed(self.id_seed, &name)));
        let vendors = self
            .prototypes
            .iter()
            .map(|(id, vendor)| (*id, vendor.fork(ambient.clone())))
            .collect();
        self.assemble(Some(name), ambient, vendors)
    }

    fn assemble(
        &self,
        name: Option<WorldName>,
        ambient: Ambient,
        mut vendors: BTreeMap<VendorId, Arc<dyn Vendor>>,
    ) -> World {
        if let Some(decorate) = &self.decorate {
            for vendor in vendors.values_mut() {
                *vendor = decorate(vendor.clone());
            }
        }
        let now = OffsetDateTime::now_utc();
        World {
            name,
            vendors,
            limiter: RateLimiter::new(self.limits.clone()).with_mutants(ambient.mutants.clone()),
            faults: Faults::checked(self.specs.clone(), self.faults.clone()),
            journal: Journal::new(self.journal_capacity),
            ambient,
            created: now,
            last_used: AtomicI64::new(unix_ms()),
            last_entered: AtomicU64::new(0),
        }
    }
}

/// A named world's id seed: the configured seed (0 when ids are random) mixed with the name, so
/// a world's ids depend on nothing but its own requests.
fn world_seed(seed: Option<u64>, name: &WorldName) -> u64 {
    seed_of(seed, name.as_str())
}

/// What the vendors named worlds fork are seeded with, mixed like a name (a name cannot be
/// empty, so no world shares it).
const PROTOTYPE_SEED_NAME: &str = "";

fn seed_of(seed: Option<u64>, name: &str) -> u64 {
    let mut input = seed.unwrap_or(0).to_le_bytes().to_vec();
    input.extend_from_slice(name.as_bytes());
    let digest = ring::digest::digest(&ring::digest::SHA256, &input);
    let mut first = [0u8; 8];
    first.copy_from_slice(&digest.as_ref()[..8]);
    u64::from_le_bytes(first)
}

/// Every world of one fake: the default one, and the named ones clients created.
pub struct Worlds {
    recipe: Recipe,
    limits: WorldLimits,
    default: Arc<World>,
    named: RwLock<HashMap<WorldName, Arc<World>>>,
    entries: AtomicU64,
    total: Mutex<Total>,
}

/// How long a count of every world's resources stands in for a recount.
const RECOUNT_EVERY: Duration = Duration::from_millis(50);

/// The resources across every world as last counted, and the creates admitted since.
#[derive(Default)]
struct Total {
    counted: usize,
    admitted: usize,
    at: Option<Instant>,
}

impl Worlds {
    /// The default world, built now; named worlds are built by their first request.
    pub(crate) fn new(
        config: Config,
        specs: Arc<SpecSet>,
        limits: BTreeMap<VendorId, RateLimitConfig>,
        faults: Vec<FaultRule>,
        decorate: Option<VendorDecorator>,
    ) -> Self {
        let ambient = Ambient::new(config.seed);
        let default_vendors = build(&config, &ambient);
        // Named worlds fork vendors seeded from the configured seed alone (0 when unseeded),
        // never the default world's: its ids are random in an unseeded run, and a named world's
        // seeded state must be the same in every process (one instance or several behind a
        // balancer) for the same test to see the same ids.
        let prototypes = build(
            &config,
            &Ambient::new(Some(seed_of(config.seed, PROTOTYPE_SEED_NAME))),
        );
        let recipe = Recipe {
            journal_capacity: config.journal_capacity,
            id_seed: config.seed,
            specs,
            limits,
            faults,
            decorate,
            prototypes,
        };
        let world_limits = config.worlds;
        Worlds {
            default: Arc::new(recipe.assemble(None, ambient, default_vendors)),
            recipe,
            limits: world_limits,
            named: RwLock::new(HashMap::new()),
            entries: AtomicU64::new(0),
            total: Mutex::default(),
        }
    }

    /// The default world.
    pub fn default_world(&self) -> &Arc<World> {
        &self.default
    }

    /// The world `name` selects (the default world for `None` or [`DEFAULT_WORLD`]), created
    /// from the seed when it does not exist yet. The returned handle keeps the world from being
    /// dropped while it is held.
    pub fn enter(&self, name: Option<&WorldName>) -> Result<Arc<World>, WorldError> {
        let Some(name) = name.filter(|n| !n.is_default()) else {
            return Ok(self.default.clone());
        };
        let entry = self.entries.fetch_add(1, Ordering::Relaxed) + 1;
        if let Some(world) = self.read().get(name) {
            world.touch(entry);
            return Ok(world.clone());
        }
        let mut named = self.write();
        if let Some(world) = named.get(name) {
            world.touch(entry);
            return Ok(world.clone());
        }
        self.sweep(&mut named);
        if named.len() >= self.limits.max_worlds {
            // At the cap: the least recently used world with no request in flight (only the
            // map holds it) makes room. Refused only when every world is busy.
            let lru = named
                .iter()
                .filter(|(_, world)| Arc::strong_count(world) == 1)
                .min_by_key(|(_, world)| world.last_entered.load(Ordering::Relaxed))
                .map(|(name, _)| name.clone());
            match lru {
                Some(evicted) => {
                    tracing::info!(world = %evicted, cap = self.limits.max_worlds, "world evicted to make room");
                    named.remove(&evicted);
                }
                None => return Err(WorldError::Full(named.len())),
            }
        }
        let world = Arc::new(self.recipe.world(name.clone()));
        world.touch(entry);
        named.insert(name.clone(), world.clone());
        tracing::debug!(world = %name, "world created");
        Ok(world)
    }

    /// The world `name` if it exists, without creating it.
    pub fn get(&self, name: &WorldName) -> Option<Arc<World>> {
        if name.is_default() {
            return Some(self.default.clone());
        }
        self.read().get(name).cloned()
    }

    /// Drops the world `name` (requests in flight finish in it; the next one starts afresh).
    pub fn remove(&self, name: &WorldName) -> Result<(), WorldError> {
        if name.is_default() {
            return Err(WorldError::DefaultWorld);
        }
        self.write()
            .remove(name)
            .map(drop)
            .ok_or_else(|| WorldError::Unknown(name.to_string()))
    }

    /// Every world, the default first, then by name; idle ones past the timeout are dropped
    /// first.
    pub fn list(&self) -> Vec<WorldSummary> {
        let mut named: Vec<Arc<World>> = {
            let mut map = self.write();
            self.sweep(&mut map);
            map.values().cloned().collect()
        };
        named.sort_by(|a, b| a.name().cmp(b.name()));
        std::iter::once(self.default.summary())
            .chain(named.iter().map(|w| w.summary()))
            .collect()
    }

    /// How many named worlds exist.
    pub fn len(&self) -> usize {
        self.read().len()
    }

    /// Whether no named world exists.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Whether a create may store one more resource under the global cap. Counted across every
    /// world only when named worlds exist; the default world alone is bounded by
    /// `max_resources` per vendor.
    ///
    /// Counting walks every world, so the count is kept for [`RECOUNT_EVERY`] and every create
    /// admitted since is added to it: an upper bound (a refused create still counts), so the cap
    /// is never passed, and near the cap the count is taken afresh on every create.
    pub(crate) fn room_for_one_more(&self) -> bool {
        let named = self.read();
        if named.is_empty() {
            return true;
        }
        let recount =
            || self.default.resources() + named.values().map(|w| w.resources()).sum::<usize>();
        let mut total = self.total.lock().unwrap_or_else(|p| p.into_inner());
        if total.at.is_none_or(|at| at.elapsed() >= RECOUNT_EVERY) {
            *total = Total {
                counted: recount(),
                admitted: 0,
                at: Some(Instant::now()),
            };
        }
        if total.counted + total.admitted >= self.limits.max_total_resources && total.admitted > 0 {
            total.counted = recount();
            total.admitted = 0;
        }
        let room = total.counted + total.admitted < self.limits.max_total_resources;
        if room {
            total.admitted += 1;
        }
        room
    }

    /// Drops named worlds idle past the timeout that have no request in flight.
    fn sweep(&self, named: &mut HashMap<WorldName, Arc<World>>) {
        let cutoff = unix_ms().saturating_sub(
            i64::try_from(Duration::from_secs(self.limits.idle_seconds).as_millis())
                .unwrap_or(i64::MAX),
        );
        named.retain(|name, world| {
            let keep =
                Arc::strong_count(world) > 1 || world.last_used.load(Ordering::Relaxed) >= cutoff;
            if !keep {
                tracing::info!(world = %name, "idle world dropped");
            }
            keep
        });
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, HashMap<WorldName, Arc<World>>> {
        self.named.read().unwrap_or_else(|p| p.into_inner())
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, HashMap<WorldName, Arc<World>>> {
        self.named.write().unwrap_or_else(|p| p.into_inner())
    }
}

/// The world a request selected, put in its extensions by [`select`]. `None` is the default
/// world.
#[derive(Clone, Debug, Default)]
pub struct Selected(pub Option<WorldName>);

/// `routes` behind [`select`]: the world is chosen before routing, so the rewritten path is the
/// one routed.
pub fn selecting(routes: axum::Router) -> axum::Router {
    axum::Router::new()
        .fallback_service(routes)
        .layer(axum::middleware::from_fn(select))
}

/// The outer layer, before routing: reads the world from the header or the path prefix, takes
/// both off the request (the selector never reaches vendor logic, the journal or a recording),
/// and leaves the choice in the request's extensions. Paths under
/// `/__understudy/worlds/NAME/…` become the same admin routes for world `NAME`.
pub async fn select(mut request: Request, next: Next) -> Response {
    match selection(&mut request) {
        Ok(selected) => {
            request.extensions_mut().insert(selected);
            next.run(request).await
        }
        Err(error) => error.into_response(),
    }
}

/// Takes the world selector off `request`: the header, and a path prefix that is rewritten away.
pub fn selection(request: &mut Request) -> Result<Selected, WorldError> {
    let header = match request.headers_mut().remove(WORLD_HEADER) {
        Some(value) => Some(header_name(&value)?),
        None => None,
    };
    let from_path = strip_prefix(request)?;
    match (header, from_path) {
        (Some(header), Some(path)) if header != path => Err(WorldError::Conflict {
            header: header.to_string(),
            path: path.to_string(),
        }),
        (header, path) => Ok(Selected(path.or(header))),
    }
}

fn header_name(value: &HeaderValue) -> Result<WorldName, WorldError> {
    value
        .to_str()
        .map_err(|_| WorldError::BadName(String::from_utf8_lossy(value.as_bytes()).into()))?
        .trim()
        .parse()
}

/// Rewrites `/__world/NAME/rest` to `/rest` and `/__understudy/worlds/NAME/rest` to
/// `/__understudy/rest`, returning `NAME`. `/__understudy/worlds/NAME` itself is the admin
/// route for the world and is left alone.
fn strip_prefix(request: &mut Request) -> Result<Option<WorldName>, WorldError> {
    let path = request.uri().path();
    // Everything that selects a world starts with "/__": the common path is one comparison.
    if !path.starts_with("/__") {
        return Ok(None);
    }
    let (name, rest, keep) = if let Some(after) = path.strip_prefix(PATH_PREFIX) {
        let (name, rest) = after.split_once('/').unwrap_or((after, ""));
        (name, rest, "/")
    } else if let Some(after) = path.strip_prefix(ADMIN_PREFIX) {
        match after.split_once('/') {
            Some((name, rest)) => (name, rest, "/__understudy/"),
            None => return Ok(None),
        }
    } else if path == PATH_PREFIX.trim_end_matches('/') {
        return Err(WorldError::BadName(String::new()));
    } else {
        return Ok(None);
    };
    let name: WorldName = name.parse()?;
    let mut rewritten = String::with_capacity(keep.len() + rest.len() + 1);
    rewritten.push_str(keep);
    rewritten.push_str(rest);
    // `/__understudy/` + "" is the admin prefix itself, which axum serves without the slash.
    if rewritten.len() > 1 && rest.is_empty() {
        rewritten.pop();
    }
    if let Some(query) = request.uri().query() {
        rewritten.push('?');
        rewritten.push_str(query);
    }
    let mut parts = request.uri().clone().into_parts();
    parts.path_and_query = Some(
        rewritten
            .parse()
            .map_err(|_| WorldError::BadName(name.to_string()))?,
    );
    *request.uri_mut() =
        Uri::from_parts(parts).map_err(|_| WorldError::BadName(name.to_string()))?;
    Ok(Some(name))
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::body::Body;

    fn selected(uri: &str, header: Option<&str>) -> (Result<Selected, WorldError>, String) {
        let mut builder = Request::builder().uri(uri);
        if let Some(header) = header {
            builder = builder.header(WORLD_HEADER, header);
        }
        let mut request = builder.body(Body::empty()).unwrap();
        let result = selection(&mut request);
        assert!(request.headers().get(WORLD_HEADER).is_none());
        (result, request.uri().to_string())
    }

    fn name(result: Result<Selected, WorldError>) -> Option<String> {
        result.unwrap().0.map(|n| n.to_string())
    }

    #[test]
    fn names_are_bounded_to_a_safe_alphabet() {
        for good in ["a", "test-42", "A.b_c-9", &"x".repeat(64)] {
            assert!(good.parse::<WorldName>().is_ok(), "{good}");
        }
        for bad in ["", "a b", "a/b", "é", &"x".repeat(65), "a%2Fb", "..\u{0}"] {
            assert!(bad.parse::<WorldName>().is_err(), "{bad:?}");
        }
    }

    #[test]
    fn the_path_prefix_is_taken_off_before_routing() {
        let (result, uri) = selected("/__world/t-1/dub/partners?x=1", None);
        assert_eq!(name(result).as_deref(), Some("t-1"));
        assert_eq!(uri, "/dub/partners?x=1");
        let (result, uri) = selected("/__world/t-1", None);
        assert_eq!(name(result).as_deref(), Some("t-1"));
        assert_eq!(uri, "/");
        let (result, uri) = selected("/__understudy/worlds/t-1/faults", None);
        assert_eq!(name(result).as_deref(), Some("t-1"));
        assert_eq!(uri, "/__understudy/faults");
        // The world's own admin route is not a prefix.
        let (result, uri) = selected("/__understudy/worlds/t-1", None);
        assert_eq!(name(result), None);
        assert_eq!(uri, "/__understudy/worlds/t-1");
    }

    #[test]
    fn the_header_selects_and_must_agree_with_the_path() {
        let (result, uri) = selected("/dub/partners", Some("t-2"));
        assert_eq!(name(result).as_deref(), Some("t-2"));
        assert_eq!(uri, "/dub/partners");
        let (result, _) = selected("/__world/t-2/dub/partners", Some("t-2"));
        assert_eq!(name(result).as_deref(), Some("t-2"));
        let (result, _) = selected("/__world/t-2/dub/partners", Some("t-3"));
        assert!(matches!(result, Err(WorldError::Conflict { .. })));
        let (result, _) = selected("/dub/partners", Some("no good"));
        assert!(matches!(result, Err(WorldError::BadName(_))));
        let (result, _) = selected("/__world/no%20good/dub", None);
        assert!(matches!(result, Err(WorldError::BadName(_))));
    }

    fn worlds(limits: WorldLimits) -> Worlds {
        let config = Config {
            worlds: limits,
            seed: Some(3),
            ..Config::default()
        };
        let specs = Arc::new(SpecSet::embedded().unwrap());
        Worlds::new(config, specs, BTreeMap::new(), Vec::new(), None)
    }

    #[test]
    fn a_world_is_created_once_and_seeded_by_its_name() {
        let all = worlds(WorldLimits::default());
        let a: WorldName = "a".parse().unwrap();
        let first = all.enter(Some(&a)).unwrap();
        let again = all.enter(Some(&a)).unwrap();
        assert!(Arc::ptr_eq(&first, &again));
        assert_eq!(all.len(), 1);
        let twin = worlds(WorldLimits::default()).enter(Some(&a)).unwrap();
        assert_eq!(first.ambient.ids.uuid(), twin.ambient.ids.uuid());
        let b = all.enter(Some(&"b".parse().unwrap())).unwrap();
        assert_ne!(twin.ambient.ids.uuid(), b.ambient.ids.uuid());
        let default = all.enter(Some(&DEFAULT_WORLD.parse().unwrap())).unwrap();
        assert!(Arc::ptr_eq(&default, all.default_world()));
    }

    #[test]
    fn a_named_worlds_seeded_state_is_the_same_in_every_process_even_unseeded() {
        let unseeded = || {
            let config = Config {
                seed: None,
                ..Config::default()
            };
            let specs = Arc::new(SpecSet::embedded().unwrap());
            Worlds::new(config, specs, BTreeMap::new(), Vec::new(), None)
        };
        let (one, two) = (unseeded(), unseeded());
        let a: WorldName = "a".parse().unwrap();
        let state = |worlds: &Worlds| crate::admin::export(&worlds.enter(Some(&a)).unwrap());
        assert_eq!(
            state(&one),
            state(&two),
            "Archera's seeded ids come from the seed"
        );
        assert_ne!(
            crate::admin::export(one.default_world()),
            crate::admin::export(two.default_world()),
            "an unseeded default world stays random"
        );
    }

    #[test]
    fn at_the_cap_the_least_recently_used_idle_world_makes_room() {
        let all = worlds(WorldLimits {
            max_worlds: 2,
            ..WorldLimits::default()
        });
        let names: Vec<WorldName> = ["a", "b", "c"].iter().map(|n| n.parse().unwrap()).collect();
        let held = all.enter(Some(&names[0])).unwrap();
        drop(all.enter(Some(&names[1])).unwrap());
        // "a" is older but held (a request in flight): "b" goes.
        drop(all.enter(Some(&names[2])).unwrap());
        assert!(all.get(&names[0]).is_some());
        assert!(all.get(&names[1]).is_none());
        // Both remaining held: a new world is refused, nothing is dropped.
        let held_c = all.get(&names[2]).unwrap();
        assert!(matches!(
            all.enter(Some(&names[1])),
            Err(WorldError::Full(2))
        ));
        assert_eq!(all.len(), 2);
        drop((held, held_c));
        assert!(all.enter(Some(&names[1])).is_ok());
    }

    #[test]
    fn idle_worlds_are_dropped_but_never_while_in_use() {
        let all = worlds(WorldLimits {
            idle_seconds: 1,
            ..WorldLimits::default()
        });
        let a: WorldName = "a".parse().unwrap();
        let b: WorldName = "b".parse().unwrap();
        let held = all.enter(Some(&a)).unwrap();
        drop(all.enter(Some(&b)).unwrap());
        for world in all.read().values() {
            world.last_used.store(0, Ordering::Relaxed);
        }
        let listed: Vec<String> = all.list().into_iter().map(|s| s.name).collect();
        assert_eq!(listed, ["default", "a"]);
        drop(held);
        assert!(all.remove(&a).is_ok());
        assert!(matches!(all.remove(&a), Err(WorldError::Unknown(_))));
        assert!(matches!(
            all.remove(&DEFAULT_WORLD.parse().unwrap()),
            Err(WorldError::DefaultWorld)
        ));
    }
}
