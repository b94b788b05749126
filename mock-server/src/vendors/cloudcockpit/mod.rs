//! CloudCockpit: an Entra ID bearer token together with the `X-Tenant` header, the ASP.NET-style
//! `ErrorResponse` envelope, and a seeded world of tenants, resellers and customers from which
//! relationship-acceptance links are derived.

mod errors;
mod rules;
mod state;

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::http::{HeaderMap, StatusCode};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

pub use errors::CloudCockpitError;
pub use state::{CloudCockpitState, Tenant};

use super::{
    Ambient, Caller, Context, CredentialScheme, StateStore, Store, VendorSemantics, bearer,
};
use crate::mutants::Mutant;
use crate::pipeline::{Envelope, Rejection, Reply, ValidatedRequest};
use crate::spec::Operation;

/// The roles the relationship-acceptance operation is available to.
const ROLES: [&str; 2] = ["csp", "reseller"];

crate::mutants! {
    /// CloudCockpit's deliberate contract faults.
    pub enum CloudCockpitMutant {
        CorrelationIdDropped = "cloudcockpit.correlation-id-dropped"
            => "error bodies carry a generated correlationId instead of the X-Correlation-Id sent",
        ResellerIdNotEnforced = "cloudcockpit.reseller-id-not-enforced"
            => "a reseller caller may pass another reseller's resellerId and gets that reseller's link",
    }
}

/// CloudCockpit's configuration: credentials and the seeded world.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CloudCockpitConfig {
    /// Access tokens the fake accepts.
    pub tokens: Vec<CloudCockpitToken>,
    /// The tenants, with their resellers and customers.
    #[serde(default)]
    pub tenants: Vec<Tenant>,
}

/// An access token, the tenant it belongs to and the caller's role.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CloudCockpitToken {
    /// The bearer token text.
    pub token: String,
    /// A domain of the tenant the token was issued for.
    pub tenant: String,
    /// `csp` or `reseller` (any other role is refused with 403).
    pub role: String,
    /// For the `reseller` role: the caller's own reseller id.
    #[serde(default)]
    pub reseller_id: Option<String>,
}

/// The CloudCockpit fake.
pub struct CloudCockpit {
    /// Shared by every world's CloudCockpit: credentials and seed never change.
    config: Arc<CloudCockpitConfig>,
    world: Ambient,
    state: Store<CloudCockpitState>,
}

crate::operations! {
    /// CloudCockpit's operations, as the spec names them.
    pub enum CloudCockpitOp {
        /// `GET /v1/Customers/relationship-acceptance`.
        RelationshipAcceptance = "getCustomerRelationshipAcceptance",
    }
}

impl Caller for &CloudCockpitToken {
    fn credential(&self) -> &str {
        &self.token
    }
}

impl VendorSemantics for CloudCockpit {
    type Caller<'v> = &'v CloudCockpitToken;
    type Error = CloudCockpitError;
    type Op = CloudCockpitOp;
    type Config = CloudCockpitConfig;

    const SPEC: &'static str = include_str!("../../../../specs/cloudcockpit.yaml");
    const MUTANTS: &'static [Mutant] = CloudCockpitMutant::CATALOGUE;

    /// A CloudCockpit fake with the given credentials and seeded world.
    fn new(config: CloudCockpitConfig, world: Ambient) -> Self {
        let seed = CloudCockpitState {
            tenants: config.tenants.clone(),
        };
        CloudCockpit {
            config: Arc::new(config),
            world,
            state: Store::new(seed),
        }
    }

    fn fork(&self, world: Ambient) -> Self {
        CloudCockpit {
            config: self.config.clone(),
            world,
            state: self.state.fork(),
        }
    }

    /// The bearer token alone decides 401 (ASP.NET authentication runs first) and its role
    /// decides 403 (the role requirement is an authorization filter, before model binding).
    /// The tenant is resolved by the handler, after validation.
    fn authenticate(
        &self,
        _op: &Operation,
        headers: &HeaderMap,
    ) -> Result<&CloudCockpitToken, Rejection> {
        let token = bearer(headers)?.ok_or(Rejection::MissingCredentials)?;
        let known = self.caller(token).ok_or(Rejection::UnknownCredentials)?;
        if !ROLES.contains(&known.role.as_str()) {
            return Err(Rejection::Forbidden(
                "Available to the roles: csp, reseller.".into(),
            ));
        }
        Ok(known)
    }

    fn caller(&self, credential: &str) -> Option<&CloudCockpitToken> {
        self.config.tokens.iter().find(|t| t.token == credential)
    }

    fn primary_credential(&self, scheme: CredentialScheme) -> Option<&str> {
        let first = self.config.tokens.first().map(|t| t.token.as_str());
        first.filter(|_| scheme == CredentialScheme::Token)
    }

    fn credentials(&self) -> Vec<&str> {
        self.config
            .tokens
            .iter()
            .map(|t| t.token.as_str())
            .collect()
    }

    fn handle(
        &self,
        op: CloudCockpitOp,
        request: &ValidatedRequest,
        caller: &&CloudCockpitToken,
        cx: &Context<'_>,
    ) -> Reply {
        match op {
            CloudCockpitOp::RelationshipAcceptance => {
                self.relationship_acceptance(request, caller, cx)
            }
        }
    }

    fn state(&self) -> &dyn StateStore {
        &self.state
    }
}

impl CloudCockpit {
    /// The one operation: the acceptance link for a provider instance and reseller.
    fn relationship_acceptance(
        &self,
        request: &ValidatedRequest,
        caller: &CloudCockpitToken,
        cx: &Context<'_>,
    ) -> Reply {
        let Some(tenant) = cx
            .headers
            .get(errors::TENANT_HEADER)
            .and_then(|v| v.to_str().ok())
        else {
            let missing = BTreeMap::from([(
                errors::TENANT_HEADER.to_string(),
                vec![errors::required_message(errors::TENANT_HEADER)],
            )]);
            return CloudCockpitError::validation(missing).reply(cx);
        };
        let query = |name: &str| request.query.get(name).and_then(Value::as_str);
        let link = rules::acceptance_link(
            &self.state.lock(),
            &rules::Request {
                caller,
                tenant,
                provider_instance_id: query("providerInstanceId").unwrap_or_default(),
                reseller_id: query("resellerId"),
                foreign_reseller_allowed: self
                    .world
                    .mutant(CloudCockpitMutant::ResellerIdNotEnforced),
            },
        );
        match link {
            Ok(link) => Reply::json(StatusCode::OK, json!(link)),
            Err(error) => error.reply(cx),
        }
    }
}
