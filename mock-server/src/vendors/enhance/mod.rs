//! Enhance control-panel customers: a session cookie `id0` or a bearer access token, and the
//! `HttpError` body `{code, detail, message}`.

mod errors;

use axum::http::HeaderMap;
use serde::{Deserialize, Serialize};

pub use errors::EnhanceError;

use super::{Context, Principal, StateStore, Store, Vendor, World, bearer, spec_example};
use crate::VendorId;
use crate::pipeline::{Rejection, Reply, ValidatedRequest, cookies};
use crate::spec::Operation;

/// Enhance's configuration.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EnhanceConfig {
    /// Organisation access tokens (`Authorization: Bearer …`).
    pub access_tokens: Vec<EnhanceToken>,
    /// Logged-in sessions (cookie `id0`).
    pub sessions: Vec<EnhanceSession>,
}

/// An access token of an organisation.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EnhanceToken {
    /// The token text.
    pub token: String,
    /// The organisation it acts for.
    pub org_id: String,
    /// Its role there (`Owner`, `SuperAdmin`, …).
    pub role: String,
}

/// A session cookie of a member of an organisation.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EnhanceSession {
    /// The `id0` cookie value.
    pub id0: String,
    /// The organisation the member belongs to.
    pub org_id: String,
    /// The member's role there.
    pub role: String,
}

/// The Enhance fake.
pub struct Enhance {
    config: EnhanceConfig,
    #[allow(dead_code)]
    world: World,
    /// Nothing is modelled yet: the handlers answer with spec examples.
    state: Store<()>,
}

impl Enhance {
    /// An Enhance fake with the given credentials.
    pub fn new(config: EnhanceConfig, world: World) -> Self {
        Enhance {
            config,
            world,
            state: Store::new(()),
        }
    }
}

impl Vendor for Enhance {
    fn id(&self) -> VendorId {
        VendorId::Enhance
    }

    fn authenticate(&self, _op: &Operation, headers: &HeaderMap) -> Result<Principal, Rejection> {
        // Either scheme is enough (the spec lists them as alternatives): a known session or a
        // known token authenticates; an unknown one of either kind is only fatal alone.
        let session = cookies(headers)
            .into_iter()
            .find(|(k, _)| *k == "id0")
            .map(|(_, v)| v);
        if let Some(known) =
            session.and_then(|id0| self.config.sessions.iter().find(|s| s.id0 == id0))
        {
            return Ok(Principal {
                credential: known.id0.clone(),
            });
        }
        let token = match bearer(headers) {
            Ok(Some(token)) => token,
            Ok(None) | Err(_) if session.is_some() => return Err(Rejection::UnknownCredentials),
            Ok(None) => return Err(Rejection::MissingCredentials),
            Err(rejection) => return Err(rejection),
        };
        self.config
            .access_tokens
            .iter()
            .find(|t| t.token == token)
            .map(|t| Principal {
                credential: t.token.clone(),
            })
            .ok_or(Rejection::UnknownCredentials)
    }

    fn handle(
        &self,
        op: &Operation,
        _request: &ValidatedRequest,
        _caller: &Principal,
        _cx: &Context<'_>,
    ) -> Reply {
        spec_example(op)
    }

    fn reject(&self, rejection: &Rejection, _cx: &Context<'_>) -> Reply {
        EnhanceError::from_rejection(rejection).reply()
    }

    fn state(&self) -> &dyn StateStore {
        &self.state
    }
}
