//! The vendor modules: the only vendor-specific code. Each one owns its credentials, its error
//! envelope, its state and its rules; everything generic comes from the spec.

pub mod archera;
pub mod cloudcockpit;
pub mod confluent;
pub mod dub;
pub mod enhance;
mod index;
mod operations;
mod store;

pub use operations::{OperationMismatch, check_operations};

pub use store::{ImportError, Resources, Staged, StateGuard, StateStore, Store};

use std::collections::BTreeMap;
use std::sync::{Arc, OnceLock};

use axum::http::{HeaderMap, StatusCode, header};
use time::OffsetDateTime;

use crate::VendorId;
use crate::clock::Clock;
use crate::config::Config;
use crate::ids::IdGenerator;
use crate::mutants::Mutants;
use crate::pipeline::{Rejection, Reply, ValidatedRequest};
use crate::spec::Operation;

/// The authenticated caller, as the vendor identifies it (an API key, a token, a session).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Principal {
    /// The credential's identity in the vendor's configuration.
    pub credential: String,
}

impl Principal {
    /// A one-way fingerprint of the credential (hex of the first 16 bytes of its SHA-256): what
    /// the durable log stores instead of the credential, resolved again at recovery against the
    /// vendor's configured credentials (see [`Vendor::principal`]).
    pub fn fingerprint(&self) -> String {
        fingerprint(&self.credential)
    }
}

/// The fingerprint of `credential` (see [`Principal::fingerprint`]).
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
    ids: &'a IdGenerator,
    request_id: OnceLock<String>,
}

impl<'a> Context<'a> {
    /// The context of a request for `operation` arriving at `now` with `headers`; its request
    /// id is drawn from `ids` when a vendor first asks for it.
    pub fn new(
        operation: Option<&'a Operation>,
        now: OffsetDateTime,
        headers: &'a HeaderMap,
        ids: &'a IdGenerator,
    ) -> Self {
        Context {
            operation,
            now,
            headers,
            ids,
            request_id: OnceLock::new(),
        }
    }

    /// The id the fake assigned to this request. Drawn on first use: most vendors never send
    /// one, and a UUID per request showed in the benchmark's profile.
    pub fn request_id(&self) -> &str {
        self.request_id.get_or_init(|| self.ids.uuid())
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

/// One vendor's behaviour behind the generic pipeline.
pub trait Vendor: Send + Sync {
    /// Which vendor this is.
    fn id(&self) -> VendorId;

    /// The `operationId`s it handles (its operations enum's `IDS`): the server refuses to start
    /// unless they are exactly the spec's.
    fn operations(&self) -> &'static [&'static str];

    /// Checks the request's credentials for `op` in the vendor's scheme.
    fn authenticate(&self, op: &Operation, headers: &HeaderMap) -> Result<Principal, Rejection>;

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

    /// The configured caller whose credential has `fingerprint`, if one still does.
    fn principal(&self, fingerprint: &str) -> Option<Principal> {
        self.credentials()
            .into_iter()
            .find(|credential| self::fingerprint(credential) == fingerprint)
            .map(|credential| Principal {
                credential: credential.to_string(),
            })
    }

    /// Checks what the credential may do, after the rate limiter counted the request and before
    /// the request is validated (e.g. Dub's plan gate). Allows everything unless overridden.
    fn authorize(&self, _op: &Operation, _caller: &Principal) -> Result<(), Rejection> {
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
        Err(format!("{} has no admin action {name:?}", self.id()))
    }

    /// The caller's rate-limit tier (e.g. Dub's workspace plan); `None` uses the vendor's limit.
    fn rate_limit_tier(&self, _caller: &Principal) -> Option<String> {
        None
    }

    /// Answers a validated request. Rule violations are answered here, in the vendor's envelope.
    fn handle(
        &self,
        op: &Operation,
        request: &ValidatedRequest,
        caller: &Principal,
        cx: &Context<'_>,
    ) -> Reply;

    /// Renders a generic stage's refusal with the vendor's status and error envelope.
    fn reject(&self, rejection: &Rejection, cx: &Context<'_>) -> Reply;

    /// Adds what the vendor puts on every response (request ids …).
    fn finish(&self, _reply: &mut Reply, _cx: &Context<'_>) {}

    /// The vendor's state, for reset, export, import and the resource cap.
    fn state(&self) -> &dyn StateStore;
}

/// Builds every vendor from the configuration.
pub fn build(config: &Config, world: &Ambient) -> BTreeMap<VendorId, Arc<dyn Vendor>> {
    let vendors: [Arc<dyn Vendor>; 5] = [
        Arc::new(confluent::Confluent::new(
            config.confluent.clone(),
            world.clone(),
        )),
        Arc::new(enhance::Enhance::new(config.enhance.clone(), world.clone())),
        Arc::new(cloudcockpit::CloudCockpit::new(
            config.cloudcockpit.clone(),
            world.clone(),
        )),
        Arc::new(dub::Dub::new(config.dub.clone(), world.clone())),
        Arc::new(archera::Archera::new(config.archera.clone(), world.clone())),
    ];
    vendors.into_iter().map(|v| (v.id(), v)).collect()
}

/// Every mutant the fake can commit: each vendor's, and the rate limiter's.
pub fn mutant_catalogue() -> Vec<crate::mutants::Mutant> {
    fn all<M: Copy + Into<crate::mutants::Mutant>>(
        mutants: &[M],
    ) -> impl Iterator<Item = crate::mutants::Mutant> + '_ {
        mutants.iter().map(|m| (*m).into())
    }
    all(confluent::ConfluentMutant::ALL)
        .chain(all(enhance::EnhanceMutant::ALL))
        .chain(all(cloudcockpit::CloudCockpitMutant::ALL))
        .chain(all(dub::DubMutant::ALL))
        .chain(all(crate::rate_limit::LimiterMutant::ALL))
        .chain(all(archera::ArcheraMutant::ALL))
        .collect()
}

/// The spec's documented success for `op`, answered with its example: how an operation whose
/// vendor semantics are not modelled yet still answers with a spec-valid response.
pub fn spec_example(op: &Operation) -> Reply {
    match op.success() {
        Some((status, response)) => {
            let status = StatusCode::from_u16(status).unwrap_or(StatusCode::OK);
            match response.body.as_ref().and_then(|b| b.example.clone()) {
                Some(example) => Reply::json(status, example),
                None => Reply::empty(status),
            }
        }
        None => Reply::empty(StatusCode::NO_CONTENT),
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
