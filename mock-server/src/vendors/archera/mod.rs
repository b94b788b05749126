//! Archera channel-partner API: an `x-api-key` header, `ApiErrorResponse` for most errors and
//! flask-smorest's `Error` body for 422 validation failures.

mod errors;

use axum::http::HeaderMap;
use serde::{Deserialize, Serialize};

pub use errors::ArcheraError;

use super::{Context, Principal, StateStore, Store, Vendor, World, spec_example};
use crate::VendorId;
use crate::pipeline::{Rejection, Reply, ValidatedRequest};
use crate::spec::Operation;

/// Archera's configuration.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ArcheraConfig {
    /// API keys the fake accepts.
    pub api_keys: Vec<ArcheraKey>,
}

/// A partner API key and the partner organisation it belongs to.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ArcheraKey {
    /// The `x-api-key` value.
    pub key: String,
    /// The partner organisation's id.
    pub org_id: String,
}

/// The Archera fake.
pub struct Archera {
    config: ArcheraConfig,
    #[allow(dead_code)]
    world: World,
    /// Nothing is modelled yet: the handlers answer with spec examples.
    state: Store<()>,
}

impl Archera {
    /// An Archera fake with the given credentials.
    pub fn new(config: ArcheraConfig, world: World) -> Self {
        Archera {
            config,
            world,
            state: Store::new(()),
        }
    }
}

impl Vendor for Archera {
    fn id(&self) -> VendorId {
        VendorId::Archera
    }

    fn authenticate(&self, _op: &Operation, headers: &HeaderMap) -> Result<Principal, Rejection> {
        let key = headers
            .get("x-api-key")
            .and_then(|v| v.to_str().ok())
            .filter(|k| !k.is_empty())
            .ok_or(Rejection::MissingCredentials)?;
        self.config
            .api_keys
            .iter()
            .find(|k| k.key == key)
            .map(|k| Principal {
                credential: k.key.clone(),
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

    fn reject(&self, rejection: &Rejection, cx: &Context<'_>) -> Reply {
        ArcheraError::from_rejection(rejection).reply(cx)
    }

    fn state(&self) -> &dyn StateStore {
        &self.state
    }
}
