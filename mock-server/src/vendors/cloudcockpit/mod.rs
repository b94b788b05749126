//! CloudCockpit: an Entra ID bearer token together with the `X-Tenant` header, and the
//! ASP.NET-style `ErrorResponse` envelope.

mod errors;

use axum::http::HeaderMap;
use serde::{Deserialize, Serialize};

pub use errors::CloudCockpitError;

use super::{Context, Principal, StateStore, Store, Vendor, World, bearer, spec_example};
use crate::VendorId;
use crate::pipeline::{Rejection, Reply, ValidatedRequest};
use crate::spec::Operation;

/// CloudCockpit's configuration.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CloudCockpitConfig {
    /// Access tokens the fake accepts.
    pub tokens: Vec<CloudCockpitToken>,
}

/// An access token, the tenant it belongs to and the caller's role.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CloudCockpitToken {
    /// The bearer token text.
    pub token: String,
    /// The tenant domain that must be sent as `X-Tenant`.
    pub tenant: String,
    /// `csp` or `reseller`.
    pub role: String,
}

/// The CloudCockpit fake.
pub struct CloudCockpit {
    config: CloudCockpitConfig,
    #[allow(dead_code)]
    world: World,
    /// Nothing is modelled yet: the handlers answer with spec examples.
    state: Store<()>,
}

impl CloudCockpit {
    /// A CloudCockpit fake with the given credentials.
    pub fn new(config: CloudCockpitConfig, world: World) -> Self {
        CloudCockpit {
            config,
            world,
            state: Store::new(()),
        }
    }
}

impl Vendor for CloudCockpit {
    fn id(&self) -> VendorId {
        VendorId::Cloudcockpit
    }

    fn authenticate(&self, _op: &Operation, headers: &HeaderMap) -> Result<Principal, Rejection> {
        let token = bearer(headers)?.ok_or(Rejection::MissingCredentials)?;
        let tenant = headers
            .get("x-tenant")
            .and_then(|v| v.to_str().ok())
            .ok_or(Rejection::MissingCredentials)?;
        if !self
            .config
            .tokens
            .iter()
            .any(|t| t.tenant.eq_ignore_ascii_case(tenant))
        {
            return Err(Rejection::UnknownCredentials);
        }
        let known = self
            .config
            .tokens
            .iter()
            .find(|t| t.token == token)
            .ok_or(Rejection::UnknownCredentials)?;
        if !known.tenant.eq_ignore_ascii_case(tenant) {
            return Err(Rejection::Forbidden(
                "The token does not belong to the tenant named in X-Tenant.".into(),
            ));
        }
        if !matches!(known.role.as_str(), "csp" | "reseller") {
            return Err(Rejection::Forbidden(
                "Available to the roles: csp, reseller.".into(),
            ));
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
        CloudCockpitError::from_rejection(rejection).reply(cx)
    }

    fn state(&self) -> &dyn StateStore {
        &self.state
    }
}
