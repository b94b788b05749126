//! Enhance control-panel customers: an organisation tree (the master organisation at the root,
//! resellers and customers below it), plans, and subscriptions that draw on the seller's own
//! reseller quota. Callers authenticate with a session cookie `id0` or a bearer access token,
//! each bound to an organisation and a role; errors use the `HttpError` body
//! `{code, detail, message}`.

mod errors;
mod listing_cache;
mod rules;
mod state;

use axum::http::{HeaderMap, StatusCode};
use serde::{Deserialize, Serialize};
use std::sync::Arc;

pub use errors::EnhanceError;
pub use state::{EnhanceState, Org, Plan, SeedSubscription, Server};

use super::{Ambient, Context, CredentialScheme, StateStore, Store, VendorSemantics, bearer};
use crate::mutants::Mutant;
use crate::pipeline::{Envelope, Rejection, Reply, ValidatedRequest, cookies};
use crate::spec::Operation;

crate::mutants! {
    /// Enhance's deliberate contract faults.
    pub enum EnhanceMutant {
        TotalCountsPage = "enhance.total-counts-page"
            => "listings report the size of the returned page as total instead of every match",
        QuotaNotEnforced = "enhance.quota-not-enforced"
            => "a reseller may sell a plan beyond the free quota of its reseller subscription",
        UsageNotRecorded = "enhance.usage-not-recorded"
            => "a reseller's sale does not add the sold amounts to its reseller subscription's usage",
        MemberMayCreate = "enhance.member-may-create"
            => "any role of the organisation or its parents, not only Owner or SuperAdmin, may create a customer",
        DuplicateNameAllowed = "enhance.duplicate-name-allowed"
            => "a second customer with the same name under the same parent is created instead of 409",
        SortOrderIgnored = "enhance.sort-order-ignored"
            => "sortOrder=desc returns the ascending order",
    }
}

/// Enhance's configuration: credentials and the seeded world.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EnhanceConfig {
    /// Organisation access tokens (`Authorization: Bearer …`).
    pub access_tokens: Vec<EnhanceToken>,
    /// Logged-in sessions (cookie `id0`).
    pub sessions: Vec<EnhanceSession>,
    /// The organisation tree; exactly one organisation (the MO) has no parent.
    #[serde(default)]
    pub orgs: Vec<Org>,
    /// Plans, each owned by an organisation.
    #[serde(default)]
    pub plans: Vec<Plan>,
    /// Servers the MO may pin subscriptions to.
    #[serde(default)]
    pub servers: Vec<Server>,
    /// Subscriptions that exist at start.
    #[serde(default)]
    pub subscriptions: Vec<SeedSubscription>,
}

/// A member's role in an organisation, as orchd names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Role {
    /// Owns the organisation.
    Owner,
    /// Full administrative rights.
    SuperAdmin,
    /// Billing and business matters.
    Business,
    /// Access to particular websites only.
    SiteAccess,
    /// Support staff.
    Support,
    /// System administration.
    Sysadmin,
}

impl Role {
    /// Whether the role may manage customers and subscriptions (orchd: Owner or SuperAdmin).
    pub fn administers(self) -> bool {
        matches!(self, Role::Owner | Role::SuperAdmin)
    }

    /// The role's name as orchd spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Owner => "Owner",
            Role::SuperAdmin => "SuperAdmin",
            Role::Business => "Business",
            Role::SiteAccess => "SiteAccess",
            Role::Support => "Support",
            Role::Sysadmin => "Sysadmin",
        }
    }
}

/// An access token of an organisation.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EnhanceToken {
    /// The token text.
    pub token: String,
    /// The organisation it acts for.
    pub org_id: String,
    /// Its role there.
    pub role: Role,
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
    pub role: Role,
}

/// The Enhance fake.
pub struct Enhance {
    /// Shared by every world's Enhance: credentials and seed never change.
    config: Arc<EnhanceConfig>,
    world: Ambient,
    state: Store<EnhanceState>,
}

impl Enhance {
    /// The member a session cookie `id0` belongs to.
    fn session(&self, id0: &str) -> Option<rules::Caller<'_>> {
        let known = self.config.sessions.iter().find(|s| s.id0 == id0)?;
        Some(rules::Caller {
            credential: &known.id0,
            org_id: &known.org_id,
            role: known.role,
        })
    }

    /// The organisation an access token acts for.
    fn token(&self, token: &str) -> Option<rules::Caller<'_>> {
        let known = self
            .config
            .access_tokens
            .iter()
            .find(|t| t.token == token)?;
        Some(rules::Caller {
            credential: &known.token,
            org_id: &known.org_id,
            role: known.role,
        })
    }
}

crate::operations! {
    /// Enhance's operations, as the spec names them.
    pub enum EnhanceOp {
        /// `GET /orgs/{org_id}/customers`.
        ListCustomers = "getOrgCustomers",
        /// `POST /orgs/{org_id}/customers`.
        CreateCustomer = "createCustomer",
        /// `GET /orgs/{org_id}/customers/{customer_org_id}/subscriptions`.
        ListSubscriptions = "getCustomerSubscriptions",
        /// `POST /orgs/{org_id}/customers/{customer_org_id}/subscriptions`.
        CreateSubscription = "createCustomerSubscription",
    }
}

impl VendorSemantics for Enhance {
    type Caller<'v> = rules::Caller<'v>;
    type Error = EnhanceError;
    type Op = EnhanceOp;
    type Config = EnhanceConfig;

    const SPEC: &'static str = include_str!("../../../../specs/enhance.yaml");
    const MUTANTS: &'static [Mutant] = EnhanceMutant::CATALOGUE;

    /// An Enhance fake with the configured credentials and world.
    fn new(config: EnhanceConfig, world: Ambient) -> Self {
        let seed = EnhanceState::seed(
            config.orgs.clone(),
            config.plans.clone(),
            config.servers.clone(),
            &config.subscriptions,
        );
        Enhance {
            config: Arc::new(config),
            world,
            state: Store::new(seed),
        }
    }

    fn fork(&self, world: Ambient) -> Self {
        Enhance {
            config: self.config.clone(),
            world,
            state: self.state.fork(),
        }
    }

    fn authenticate(
        &self,
        _op: &Operation,
        headers: &HeaderMap,
    ) -> Result<rules::Caller<'_>, Rejection> {
        // Either scheme is enough (the spec lists them as alternatives): a known session or a
        // known token authenticates; an unknown one of either kind is only fatal alone.
        let session = cookies(headers)
            .into_iter()
            .find(|(k, _)| *k == "id0")
            .map(|(_, v)| v);
        if let Some(known) = session.and_then(|id0| self.session(id0)) {
            return Ok(known);
        }
        let token = match bearer(headers) {
            Ok(Some(token)) => token,
            Ok(None) | Err(_) if session.is_some() => return Err(Rejection::UnknownCredentials),
            Ok(None) => return Err(Rejection::MissingCredentials),
            Err(rejection) => return Err(rejection),
        };
        self.token(token).ok_or(Rejection::UnknownCredentials)
    }

    fn caller(&self, credential: &str) -> Option<rules::Caller<'_>> {
        self.session(credential).or_else(|| self.token(credential))
    }

    fn primary_credential(&self, scheme: CredentialScheme) -> Option<&str> {
        match scheme {
            CredentialScheme::Token => self.config.access_tokens.first().map(|t| t.token.as_str()),
            CredentialScheme::Cookie => self.config.sessions.first().map(|s| s.id0.as_str()),
        }
    }

    fn credentials(&self) -> Vec<&str> {
        let sessions = self.config.sessions.iter().map(|s| s.id0.as_str());
        let tokens = self.config.access_tokens.iter().map(|t| t.token.as_str());
        sessions.chain(tokens).collect()
    }

    fn handle(
        &self,
        op: EnhanceOp,
        request: &ValidatedRequest,
        caller: &rules::Caller<'_>,
        cx: &Context<'_>,
    ) -> Reply {
        let rules = rules::Rules {
            caller: *caller,
            world: &self.world,
            now: crate::clock::rfc3339(cx.now),
        };
        let org_id = request.path_str("org_id");
        let customer_id = request.path_str("customer_org_id");
        let body = request.body.clone().unwrap_or_default();
        // One lock for the whole request: checks and changes happen atomically, so parallel
        // requests never both pass a check that only one of them may pass.
        let mut state = self.state.lock();
        let outcome = match op {
            EnhanceOp::ListCustomers => rules
                .list_customers(&state, org_id, &request.query)
                .map(|v| (StatusCode::OK, v)),
            EnhanceOp::CreateCustomer => rules
                .create_customer(&mut state, org_id, &body)
                .map(|v| (StatusCode::CREATED, v)),
            EnhanceOp::ListSubscriptions => rules
                .list_subscriptions(&state, org_id, customer_id, &request.query)
                .map(|v| (StatusCode::OK, v)),
            EnhanceOp::CreateSubscription => rules
                .create_subscription(&mut state, org_id, customer_id, &body)
                .map(|v| (StatusCode::CREATED, v)),
        };
        match outcome {
            Ok((status, body)) => Reply::json(status, body),
            Err(error) => error.reply(cx),
        }
    }

    fn state(&self) -> &dyn StateStore {
        &self.state
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;

    fn seeded() -> (EnhanceConfig, EnhanceState) {
        let config = Config::default().enhance;
        let state = EnhanceState::seed(
            config.orgs.clone(),
            config.plans.clone(),
            config.servers.clone(),
            &config.subscriptions,
        );
        (config, state)
    }

    #[test]
    fn an_imported_state_is_indexed_as_the_one_exported() {
        let (_, mut state) = seeded();
        let mo = state.mo().unwrap().id.clone();
        state.push_org(Org {
            id: "00000000-0000-4000-8000-0000000000ff".into(),
            parent_id: Some(mo.clone()),
            name: "Indexed".into(),
            status: "active".into(),
            locale: "en".into(),
            created_at: "2026-01-01T00:00:00Z".into(),
            websites_count: 0,
            owner: None,
        });
        assert!(state.has_live_customer_named(&mo, "Indexed"));
        let imported: EnhanceState =
            serde_json::from_value(serde_json::to_value(&state).unwrap()).unwrap();
        // PartialEq compares the index too: the import rebuilt the same one.
        assert_eq!(imported, state);
        assert!(imported.has_live_customer_named(&mo, "Indexed"));
        assert!(!imported.has_live_customer_named(&mo, "indexed"));
        assert_eq!(
            imported
                .org("00000000-0000-4000-8000-0000000000ff")
                .map(|o| o.name.as_str()),
            Some("Indexed")
        );
    }

    #[test]
    fn the_default_world_is_one_consistent_tree() {
        let (config, state) = seeded();
        let roots: Vec<_> = state
            .orgs()
            .iter()
            .filter(|o| o.parent_id.is_none())
            .collect();
        assert_eq!(roots.len(), 1, "exactly one MO");
        assert_eq!(roots[0].id, "00000000-0000-4000-8000-000000000001");
        for org in state.orgs() {
            assert_eq!(state.lineage(&org.id).last(), Some(&roots[0].id.as_str()));
        }
        for plan in &state.plans {
            assert!(
                state.org(&plan.org_id).is_some(),
                "plan {} has an owner",
                plan.id
            );
        }
        assert_eq!(state.subscriptions.len(), config.subscriptions.len());
        for credential in config.sessions.iter().map(|s| &s.org_id) {
            assert!(state.org(credential).is_some());
        }
        for credential in config.access_tokens.iter().map(|t| &t.org_id) {
            assert!(state.org(credential).is_some());
        }
    }

    #[test]
    fn the_seeded_reseller_usage_is_what_it_has_sold() {
        let (_, state) = seeded();
        let reseller = "00000000-0000-4000-8000-000000000002";
        let quota = state.reseller_subscription(reseller).expect("a reseller");
        for held in &quota.resources {
            let sold: u64 = state
                .subscriptions
                .iter()
                .filter(|s| s.vendor_id == reseller)
                .flat_map(|s| &s.resources)
                .filter(|r| r.name == held.name)
                .filter_map(|r| r.total)
                .sum();
            assert_eq!(held.usage, sold, "{}", held.name);
        }
        assert!(state.sells(reseller));
        assert!(!state.sells("00000000-0000-4000-8000-000000000003"));
    }

    #[test]
    fn mutant_names_are_namespaced_and_distinct() {
        let mut names: Vec<&str> = EnhanceMutant::ALL
            .iter()
            .map(|m| m.mutant().name())
            .collect();
        assert!(names.iter().all(|n| n.starts_with("enhance.")));
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), EnhanceMutant::ALL.len());
    }
}
