//! Confluent Cloud partner signup v2: OAuth bearer tokens with scopes, the `Failure` envelope,
//! and `X-Request-Id` on every response.

mod errors;

use axum::http::HeaderMap;
use serde::{Deserialize, Serialize};

pub use errors::ConfluentError;

use super::{Context, Principal, StateStore, Store, Vendor, World, bearer, spec_example};
use crate::VendorId;
use crate::pipeline::{Rejection, Reply, ValidatedRequest};
use crate::spec::Operation;

/// The scope the signup operations need.
pub const PARTNER_CREATE: &str = "partner:create";

/// Confluent's configuration.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConfluentConfig {
    /// OAuth access tokens the fake accepts.
    pub tokens: Vec<ConfluentToken>,
}

/// One OAuth access token and the scopes it carries.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConfluentToken {
    /// The bearer token text.
    pub token: String,
    /// Its scopes, e.g. `partner:create`.
    pub scopes: Vec<String>,
}

/// The Confluent fake.
pub struct Confluent {
    config: ConfluentConfig,
    #[allow(dead_code)]
    world: World,
    /// Nothing is modelled yet: the handlers answer with spec examples.
    state: Store<()>,
}

impl Confluent {
    /// A Confluent fake with the given credentials.
    pub fn new(config: ConfluentConfig, world: World) -> Self {
        Confluent {
            config,
            world,
            state: Store::new(()),
        }
    }
}

impl Vendor for Confluent {
    fn id(&self) -> VendorId {
        VendorId::Confluent
    }

    fn authenticate(&self, _op: &Operation, headers: &HeaderMap) -> Result<Principal, Rejection> {
        let token = bearer(headers)?.ok_or(Rejection::MissingCredentials)?;
        let known = self
            .config
            .tokens
            .iter()
            .find(|t| t.token == token)
            .ok_or(Rejection::UnknownCredentials)?;
        if !known.scopes.iter().any(|s| s == PARTNER_CREATE) {
            return Err(Rejection::Forbidden(format!(
                "the access token is missing the {PARTNER_CREATE} scope"
            )));
        }
        Ok(Principal {
            credential: known.token.clone(),
        })
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

    fn reject(&self, rejection: &Rejection, cx: &Context<'_>) -> Reply {
        ConfluentError::from_rejection(rejection).reply(cx)
    }

    fn finish(&self, reply: &mut Reply, cx: &Context<'_>) {
        reply.set_header("X-Request-Id", &cx.request_id);
    }

    fn state(&self) -> &dyn StateStore {
        &self.state
    }
}
