//! The vendor modules: the only vendor-specific code. Each one owns its credentials, its error
//! envelope, its state and its rules; everything generic comes from the spec.

mod index;
mod operations;
mod registry;
mod store;

// The vendor modules, one per registry line, declared here rather than by the registry's macro:
// cargo-mutants (scripts/mutants) finds a crate's files by following `mod` items and expands no
// macro, so it would never mutate a module the macro declared. A module is a vendor only through
// its registry line, and a line whose module is not declared here does not compile.
pub mod archera;
pub mod cloudcockpit;
pub mod confluent;
pub mod dub;
pub mod enhance;
#[cfg(test)]
pub mod tiny;

use registry::Registered;
pub(crate) use registry::for_each_vendor;

/// What derives from the registry's lines: each vendor's type is [`Registered`] as the vendor
/// its line names (its module is declared above).
macro_rules! vendor_modules {
    ( $( $(#[doc = $doc:literal])* $(#[cfg($cfg:meta)])? $variant:ident = $name:ident : $ty:ident, )* ) => {
        $(
            $(#[cfg($cfg)])?
            impl Registered for $name::$ty {
                const ID: VendorId = VendorId::$variant;
            }
        )*

        /// Builds every vendor from the configuration, each from its section of it.
        pub fn build(config: &Config, world: &Ambient) -> BTreeMap<VendorId, Arc<dyn Vendor>> {
            let mut vendors: BTreeMap<VendorId, Arc<dyn Vendor>> = BTreeMap::new();
            $(
                $(#[cfg($cfg)])?
                vendors.insert(
                    VendorId::$variant,
                    Arc::new(<$name::$ty as VendorSemantics>::new(config.$name.clone(), world.clone())),
                );
            )*
            vendors
        }

        /// Every mutant the fake can commit: each vendor's, and the rate limiter's.
        pub fn mutant_catalogue() -> Vec<Mutant> {
            let mut catalogue = Vec::new();
            $(
                $(#[cfg($cfg)])?
                catalogue.extend_from_slice(<$name::$ty as VendorSemantics>::MUTANTS);
            )*
            catalogue.extend_from_slice(crate::rate_limit::LimiterMutant::CATALOGUE);
            catalogue
        }

        /// Each vendor's section of the built-in configuration, for those whose section is not
        /// in `default-config.yaml` (see [`VendorSemantics::DEFAULT_CONFIG`]).
        pub(crate) fn default_config_sections() -> Vec<(&'static str, &'static str)> {
            let mut sections = Vec::new();
            $(
                $(#[cfg($cfg)])?
                if let Some(section) = <$name::$ty as VendorSemantics>::DEFAULT_CONFIG {
                    sections.push((stringify!($name), section));
                }
            )*
            sections
        }

        /// The spec compiled into the binary for `vendor`, so `understudy serve` needs no files.
        pub(crate) fn embedded_spec(vendor: VendorId) -> &'static str {
            match vendor {
                $( $(#[cfg($cfg)])? VendorId::$variant => <$name::$ty as VendorSemantics>::SPEC, )*
            }
        }
    };
}

for_each_vendor!(vendor_modules);

pub use operations::{OperationMismatch, Operations, check_operations};

pub use store::{ImportError, Resources, Staged, StateStore, Store};

use std::collections::BTreeMap;
use std::sync::{Arc, OnceLock};

use axum::http::{HeaderMap, header};
use time::OffsetDateTime;

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::VendorId;
use crate::clock::Clock;
use crate::config::Config;
use crate::ids::IdGenerator;
use crate::mutants::{Mutant, Mutants};
use crate::pipeline::{Envelope, Rejection, Reply, ValidatedRequest, reject};
use crate::spec::Operation;

/// A one-way fingerprint of a credential (hex of the first 16 bytes of its SHA-256): what the
/// durable log stores instead of the credential, resolved again at recovery against the
/// vendor's configured credentials (see [`Vendor::principal`]).
pub fn fingerprint(credential: &str) -> String {
    let digest = ring::digest::digest(&ring::digest::SHA256, credential.as_bytes());
    digest.as_ref()[..16]
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect()
}

/// How a credential travels: a token in a header (`Authorization: Bearer`, `x-api-key`) or a
/// session cookie.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CredentialScheme {
    /// A bearer token or API key header.
    Token,
    /// A session cookie.
    Cookie,
}

/// What every stage knows about the request being answered.
pub struct Context<'a> {
    /// The operation, when the path and method matched one.
    pub operation: Option<&'a Operation>,
    /// The request time, from the shared clock.
    pub now: OffsetDateTime,
    /// The request headers.
    pub headers: &'a HeaderMap,
    world: &'a Ambient,
    request_id: OnceLock<String>,
}

impl<'a> Context<'a> {
    /// The context of a request for `operation` arriving at `now` with `headers`, in `world`:
    /// its request id is drawn from the world's ids when a vendor first asks for it.
    pub fn new(
        operation: Option<&'a Operation>,
        now: OffsetDateTime,
        headers: &'a HeaderMap,
        world: &'a Ambient,
    ) -> Self {
        Context {
            operation,
            now,
            headers,
            world,
            request_id: OnceLock::new(),
        }
    }

    /// The id the fake assigned to this request. Drawn on first use: most vendors never send
    /// one, and a UUID per request showed in the benchmark's profile.
    pub fn request_id(&self) -> &str {
        self.request_id.get_or_init(|| self.world.ids.uuid())
    }

    /// Whether `mutant` is active in the request's world (an envelope that renders a mutant's
    /// fault, such as CloudCockpit's dropped correlation id, asks here).
    pub fn mutant(&self, mutant: impl Into<crate::mutants::Mutant>) -> bool {
        self.world.mutant(mutant)
    }
}

/// What a vendor shares with the rest of its world: the clock, the id generator and the active
/// mutants.
#[derive(Clone, Debug)]
pub struct Ambient {
    /// The clock every timestamp reads.
    pub clock: Arc<Clock>,
    /// The id generator every vendor draws from.
    pub ids: Arc<IdGenerator>,
    /// Contract faults the fake has been told to commit (none by default).
    pub mutants: Arc<Mutants>,
}

impl Ambient {
    /// A world with the real clock, ids seeded by `seed` and no mutants.
    pub fn new(seed: Option<u64>) -> Self {
        Ambient {
            clock: Arc::new(Clock::new()),
            ids: Arc::new(IdGenerator::new(seed)),
            mutants: Arc::new(Mutants::none()),
        }
    }

    /// Whether `mutant` is active.
    pub fn mutant(&self, mutant: impl Into<crate::mutants::Mutant>) -> bool {
        self.mutants.active(mutant)
    }
}

/// What the pipeline needs of any vendor's caller: the credential it authenticated with, which
/// the rate limiter counts by and the durable log fingerprints.
pub trait Caller {
    /// The credential, as configured.
    fn credential(&self) -> &str;
}

/// One vendor's semantics, typed: its configuration, its spec, its caller, its errors, its
/// operations and its mutants. The pipeline holds vendors as [`dyn Vendor`](Vendor), which every
/// implementation of this trait is; only a type the registry lists can implement it.
pub trait VendorSemantics: Registered + Send + Sync + Sized + 'static {
    /// The vendor's section of the configuration (credentials, the seeded world).
    type Config: Clone + std::fmt::Debug + Serialize + DeserializeOwned + Send + Sync;

    /// The caller authentication resolves: a workspace, an organisation, a tenant's token.
    type Caller<'v>: Caller + 'v
    where
        Self: 'v;

    /// The vendor's error envelope.
    type Error: Envelope;

    /// The spec operations it serves ([`operations!`](crate::operations!)).
    type Op: Operations;

    /// The vendor's OpenAPI document (YAML), compiled into the binary.
    const SPEC: &'static str;

    /// The mutants the vendor can commit ([`mutants!`](crate::mutants!)'s `CATALOGUE`).
    const MUTANTS: &'static [Mutant] = &[];

    /// The vendor's section of the built-in configuration (YAML), when it is not in
    /// `default-config.yaml`, where the first five vendors' sections are documented for users.
    const DEFAULT_CONFIG: Option<&'static str> = None;

    /// The vendor with `config`, in `world`, its state seeded from the configuration.
    fn new(config: Self::Config, world: Ambient) -> Self;

    /// The same vendor for another world: the configuration and the seed shared, the state the
    /// seed (see [`Store::fork`]), the clock, ids and mutants `world`'s.
    fn fork(&self, world: Ambient) -> Self;

    /// Which vendor this is: its registry line's.
    fn id(&self) -> VendorId {
        Self::ID
    }

    /// Checks the request's credentials for `op` in the vendor's scheme and resolves the caller.
    fn authenticate(
        &self,
        op: &Operation,
        headers: &HeaderMap,
    ) -> Result<Self::Caller<'_>, Rejection>;

    /// The configured caller whose credential is `credential` (a logged request's caller, at
    /// recovery), if there is one.
    fn caller(&self, credential: &str) -> Option<Self::Caller<'_>>;

    /// Every credential the configuration knows (tokens, keys, sessions, and secrets a request
    /// body can carry, such as linking tokens), for resolving a fingerprint the durable log
    /// recorded.
    fn credentials(&self) -> Vec<&str>;

    /// The first configured credential of `scheme`: what a redacted recording's placeholder of
    /// that kind becomes when it is replayed against the fake (drift). `None` when the vendor
    /// has no credential of that scheme.
    fn primary_credential(&self, _scheme: CredentialScheme) -> Option<&str> {
        None
    }

    /// Checks what the caller may do, after the rate limiter counted the request and before the
    /// request is validated (e.g. Dub's plan gate). Allows everything unless overridden.
    fn authorize(&self, _op: Self::Op, _caller: &Self::Caller<'_>) -> Result<(), Rejection> {
        Ok(())
    }

    /// Whether `op` stores a new resource (so the resource cap applies to it). By default, the
    /// operations whose success is 201 Created.
    fn creates(&self, op: &Operation) -> bool {
        op.success().is_some_and(|(status, _)| status == 201)
    }

    /// Runs a vendor-specific admin action (`POST /__understudy/vendors/{vendor}/actions/{name}`),
    /// such as marking an Archera stack deployed. Returns what the action reports.
    fn admin_action(
        &self,
        name: &str,
        _body: &serde_json::Value,
    ) -> Result<serde_json::Value, String> {
        Err(format!("{} has no admin action {name:?}", Self::ID))
    }

    /// The caller's rate-limit tier (e.g. Dub's workspace plan); `None` uses the vendor's limit.
    fn rate_limit_tier(&self, _caller: &Self::Caller<'_>) -> Option<String> {
        None
    }

    /// Answers a validated request for `op` by `caller`. Rule violations are answered here, in
    /// the vendor's envelope.
    fn handle(
        &self,
        op: Self::Op,
        request: &ValidatedRequest,
        caller: &Self::Caller<'_>,
        cx: &Context<'_>,
    ) -> Reply;

    /// Adds what the vendor puts on every response (request ids …).
    fn finish(&self, _reply: &mut Reply, _cx: &Context<'_>) {}

    /// The vendor's state, for reset, export, import and the resource cap.
    fn state(&self) -> &dyn StateStore;
}

/// One vendor's behaviour behind the generic pipeline: [`VendorSemantics`] with its types
/// erased, so the pipeline holds every vendor alike.
pub trait Vendor: Send + Sync {
    /// Which vendor this is.
    fn id(&self) -> VendorId;

    /// The same vendor for another world (see [`VendorSemantics::fork`]).
    fn fork(&self, world: Ambient) -> Arc<dyn Vendor>;

    /// The `operationId`s it handles: the server refuses to start unless they are exactly the
    /// spec's.
    fn operations(&self) -> &'static [&'static str];

    /// Checks the request's credentials for `op` and resolves the caller.
    fn authenticate<'v>(
        &'v self,
        op: &Operation,
        headers: &HeaderMap,
    ) -> Result<Box<dyn Authenticated + 'v>, Rejection>;

    /// The configured caller whose credential has `fingerprint`, if one still does.
    fn principal<'v>(&'v self, fingerprint: &str) -> Option<Box<dyn Authenticated + 'v>>;

    /// Every credential the configuration knows (see [`VendorSemantics::credentials`]).
    fn credentials(&self) -> Vec<&str>;

    /// The first configured credential of `scheme` (see
    /// [`VendorSemantics::primary_credential`]).
    fn primary_credential(&self, scheme: CredentialScheme) -> Option<&str>;

    /// Whether `op` stores a new resource (see [`VendorSemantics::creates`]).
    fn creates(&self, op: &Operation) -> bool;

    /// Runs a vendor-specific admin action (see [`VendorSemantics::admin_action`]).
    fn admin_action(
        &self,
        name: &str,
        body: &serde_json::Value,
    ) -> Result<serde_json::Value, String>;

    /// Renders a generic stage's refusal in the vendor's envelope.
    fn reject(&self, rejection: &Rejection, cx: &Context<'_>) -> Reply;

    /// Adds what the vendor puts on every response.
    fn finish(&self, reply: &mut Reply, cx: &Context<'_>);

    /// The vendor's state.
    fn state(&self) -> &dyn StateStore;
}

/// A caller its vendor authenticated, bound to that vendor: what the stages after
/// authentication ask of it.
pub trait Authenticated {
    /// The credential it authenticated with (what the rate limiter counts by).
    fn credential(&self) -> &str;

    /// The credential's fingerprint (what the durable log records).
    fn fingerprint(&self) -> String {
        fingerprint(self.credential())
    }

    /// Its rate-limit tier (see [`VendorSemantics::rate_limit_tier`]).
    fn rate_limit_tier(&self) -> Option<String>;

    /// Checks what it may do (see [`VendorSemantics::authorize`]).
    fn authorize(&self, op: &Operation) -> Result<(), Rejection>;

    /// Answers its validated request (see [`VendorSemantics::handle`]).
    fn handle(&self, op: &Operation, request: &ValidatedRequest, cx: &Context<'_>) -> Reply;
}

/// A typed caller and its vendor.
struct Bound<'v, V: VendorSemantics> {
    vendor: &'v V,
    caller: V::Caller<'v>,
}

impl<'v, V: VendorSemantics> Bound<'v, V> {
    fn boxed(vendor: &'v V, caller: V::Caller<'v>) -> Box<dyn Authenticated + 'v> {
        Box::new(Bound { vendor, caller })
    }
}

impl<V: VendorSemantics> Authenticated for Bound<'_, V> {
    fn credential(&self) -> &str {
        self.caller.credential()
    }

    fn rate_limit_tier(&self) -> Option<String> {
        self.vendor.rate_limit_tier(&self.caller)
    }

    fn authorize(&self, op: &Operation) -> Result<(), Rejection> {
        V::Op::of(op).map_or(Ok(()), |op| self.vendor.authorize(op, &self.caller))
    }

    fn handle(&self, op: &Operation, request: &ValidatedRequest, cx: &Context<'_>) -> Reply {
        match V::Op::of(op) {
            Some(typed) => self.vendor.handle(typed, request, &self.caller, cx),
            // Only an app assembled without the start-up check (`check_operations`) gets here.
            None => {
                let unhandled = format!("operation {} has no handler", op.operation_id);
                reject::<V::Error>(&Rejection::Internal(unhandled), cx)
            }
        }
    }
}

impl<V: VendorSemantics> Vendor for V {
    fn id(&self) -> VendorId {
        VendorSemantics::id(self)
    }

    fn fork(&self, world: Ambient) -> Arc<dyn Vendor> {
        Arc::new(VendorSemantics::fork(self, world))
    }

    fn operations(&self) -> &'static [&'static str] {
        V::Op::IDS
    }

    fn authenticate<'v>(
        &'v self,
        op: &Operation,
        headers: &HeaderMap,
    ) -> Result<Box<dyn Authenticated + 'v>, Rejection> {
        let caller = VendorSemantics::authenticate(self, op, headers)?;
        Ok(Bound::boxed(self, caller))
    }

    fn principal<'v>(&'v self, fingerprint: &str) -> Option<Box<dyn Authenticated + 'v>> {
        let credentials = VendorSemantics::credentials(self);
        let credential = credentials
            .into_iter()
            .find(|credential| self::fingerprint(credential) == fingerprint)?;
        Some(Bound::boxed(self, self.caller(credential)?))
    }

    fn credentials(&self) -> Vec<&str> {
        VendorSemantics::credentials(self)
    }

    fn primary_credential(&self, scheme: CredentialScheme) -> Option<&str> {
        VendorSemantics::primary_credential(self, scheme)
    }

    fn creates(&self, op: &Operation) -> bool {
        VendorSemantics::creates(self, op)
    }

    fn admin_action(
        &self,
        name: &str,
        body: &serde_json::Value,
    ) -> Result<serde_json::Value, String> {
        VendorSemantics::admin_action(self, name, body)
    }

    fn reject(&self, rejection: &Rejection, cx: &Context<'_>) -> Reply {
        reject::<V::Error>(rejection, cx)
    }

    fn finish(&self, reply: &mut Reply, cx: &Context<'_>) {
        VendorSemantics::finish(self, reply, cx)
    }

    fn state(&self) -> &dyn StateStore {
        VendorSemantics::state(self)
    }
}

/// The bearer token of an `Authorization` header: `Ok(None)` when absent, `Err` when present in
/// another scheme.
pub fn bearer(headers: &HeaderMap) -> Result<Option<&str>, Rejection> {
    let Some(value) = headers.get(header::AUTHORIZATION) else {
        return Ok(None);
    };
    let value = value.to_str().unwrap_or_default();
    match value.split_once(' ') {
        Some((scheme, token))
            if scheme.eq_ignore_ascii_case("bearer") && !token.trim().is_empty() =>
        {
            Ok(Some(token.trim()))
        }
        _ => Err(Rejection::MalformedCredentials(
            "the Authorization header does not carry a Bearer token".into(),
        )),
    }
}
