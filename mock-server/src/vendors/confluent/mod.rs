//! Confluent Cloud partner signup v2: OAuth bearer tokens with scopes, the `Failure` envelope,
//! `X-Request-Id` on every response, and a stateful world of organizations, entitlements and
//! linking tokens.

mod errors;
mod rules;
mod state;

use axum::http::{HeaderMap, StatusCode};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::sync::Arc;

pub use errors::ConfluentError;
pub use state::{ConfluentState, Entitlement, LinkingToken, Organization};

use super::{
    Ambient, Caller, Context, CredentialScheme, Operations, StateStore, Store, VendorSemantics,
    bearer,
};
use crate::mutants::Mutant;
use crate::pipeline::{Envelope, Rejection, Reply, ValidatedRequest};
use crate::spec::Operation;

/// The scope the signup operations need.
pub const PARTNER_CREATE: &str = "partner:create";

crate::mutants! {
    /// Confluent's deliberate contract faults.
    pub enum ConfluentMutant {
        No409OnReactivation = "confluent.no-409-on-reactivation"
            => "activating an already completed signup answers 201 and adds another user instead of 409",
        ConflictWithoutLocation = "confluent.conflict-without-location"
            => "409 answers omit the Location header naming the conflicting resource",
        DryRunPersists = "confluent.dry-run-persists"
            => "dry_run=true signups and links are stored as if they were real",
        UsedTokenAccepted = "confluent.used-token-accepted"
            => "a linking token that was already used links another entitlement",
    }
}

crate::operations! {
    /// Confluent's operations, as the spec names them.
    pub enum ConfluentOp {
        /// `POST /partner/v2/signup`.
        Signup = "signup",
        /// `POST /partner/v2/signup/activate`.
        ActivateSignup = "activateSignup",
        /// `POST /partner/v2/signup/link`.
        Link = "signupPartnerV2Link",
    }
}

/// Confluent's configuration: credentials and the seeded world.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConfluentConfig {
    /// OAuth access tokens the fake accepts.
    pub tokens: Vec<ConfluentToken>,
    /// Organizations that exist at start; one without users is an incomplete signup.
    #[serde(default)]
    pub organizations: Vec<Organization>,
    /// Entitlements that exist at start; those without an organization can be referenced by a
    /// signup or link.
    #[serde(default)]
    pub entitlements: Vec<Entitlement>,
    /// Linking tokens customers obtained for their existing organizations.
    #[serde(default)]
    pub linking_tokens: Vec<LinkingToken>,
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
    /// Shared by every world's Confluent: credentials and seed never change.
    config: Arc<ConfluentConfig>,
    world: Ambient,
    state: Store<ConfluentState>,
}

impl Confluent {
    fn faults(&self) -> rules::Faults {
        rules::Faults {
            reactivation_accepted: self.world.mutant(ConfluentMutant::No409OnReactivation),
            dry_run_persists: self.world.mutant(ConfluentMutant::DryRunPersists),
            used_token_accepted: self.world.mutant(ConfluentMutant::UsedTokenAccepted),
        }
    }
}

impl Caller for &ConfluentToken {
    fn credential(&self) -> &str {
        &self.token
    }
}

impl VendorSemantics for Confluent {
    type Caller<'v> = &'v ConfluentToken;
    type Error = ConfluentError;
    type Op = ConfluentOp;
    type Config = ConfluentConfig;

    const SPEC: &'static str = include_str!("../../../../specs/confluent.yaml");
    const MUTANTS: &'static [Mutant] = ConfluentMutant::CATALOGUE;

    /// A Confluent fake with the given credentials and seeded world.
    fn new(config: ConfluentConfig, world: Ambient) -> Self {
        let seed = ConfluentState::seeded(
            &config.organizations,
            &config.entitlements,
            &config.linking_tokens,
        );
        Confluent {
            config: Arc::new(config),
            world,
            state: Store::new(seed),
        }
    }

    fn fork(&self, world: Ambient) -> Self {
        Confluent {
            config: self.config.clone(),
            world,
            state: self.state.fork(),
        }
    }

    fn creates(&self, op: &Operation) -> bool {
        // Activation adds a user to an existing organisation; it stores nothing new.
        ConfluentOp::of(op) != Some(ConfluentOp::ActivateSignup)
    }

    fn primary_credential(&self, scheme: CredentialScheme) -> Option<&str> {
        let first = self.config.tokens.first().map(|t| t.token.as_str());
        first.filter(|_| scheme == CredentialScheme::Token)
    }

    fn credentials(&self) -> Vec<&str> {
        // Linking tokens arrive in request bodies: listed so the durable log fingerprints them.
        let tokens = self.config.tokens.iter().map(|t| t.token.as_str());
        let linking = self.config.linking_tokens.iter().map(|t| t.token.as_str());
        tokens.chain(linking).collect()
    }

    fn authenticate(
        &self,
        _op: &Operation,
        headers: &HeaderMap,
    ) -> Result<&ConfluentToken, Rejection> {
        let token = bearer(headers)?.ok_or(Rejection::MissingCredentials)?;
        let known = self.caller(token).ok_or(Rejection::UnknownCredentials)?;
        if !known.scopes.iter().any(|s| s == PARTNER_CREATE) {
            return Err(Rejection::Forbidden(format!(
                "the access token is missing the {PARTNER_CREATE} scope"
            )));
        }
        Ok(known)
    }

    fn caller(&self, credential: &str) -> Option<&ConfluentToken> {
        self.config.tokens.iter().find(|t| t.token == credential)
    }

    fn handle(
        &self,
        op: ConfluentOp,
        request: &ValidatedRequest,
        _caller: &&ConfluentToken,
        cx: &Context<'_>,
    ) -> Reply {
        let body = request.body.clone().unwrap_or_default();
        let dry_run = request.query.get("dry_run").and_then(Value::as_bool) == Some(true);
        let rules = rules::Rules {
            ids: &self.world.ids,
            faults: self.faults(),
        };
        // One lock for the whole operation: checks and changes are atomic under concurrency.
        let mut state = self.state.lock();
        let outcome = match op {
            ConfluentOp::Signup => rules.signup(&mut state, &body, dry_run),
            ConfluentOp::ActivateSignup => rules.activate(&mut state, &body),
            ConfluentOp::Link => rules.link(&mut state, &body, dry_run),
        };
        drop(state);
        match outcome {
            Ok(body) => Reply::json(StatusCode::CREATED, body),
            Err(error) if self.world.mutant(ConfluentMutant::ConflictWithoutLocation) => {
                error.without_location().reply(cx)
            }
            Err(error) => error.reply(cx),
        }
    }

    fn finish(&self, reply: &mut Reply, cx: &Context<'_>) {
        reply.set_header("X-Request-Id", cx.request_id());
    }

    fn state(&self) -> &dyn StateStore {
        &self.state
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;

    #[test]
    fn an_imported_state_finds_entitlements_by_marketplace_id() {
        let config = Config::default().confluent;
        let state = ConfluentState::seeded(
            &config.organizations,
            &config.entitlements,
            &config.linking_tokens,
        );
        let imported: ConfluentState =
            serde_json::from_value(serde_json::to_value(&state).unwrap()).unwrap();
        assert_eq!(imported, state);
        assert!(!imported.entitlements().is_empty());
        for entitlement in imported.entitlements().values() {
            assert_eq!(
                imported
                    .entitlement_by_external_id(&entitlement.external_id)
                    .map(|e| &e.id),
                Some(&entitlement.id)
            );
        }
        assert!(imported.entitlement_by_external_id("no-such-id").is_none());
    }

    #[test]
    fn the_default_world_is_consistent() {
        let config = Config::default().confluent;
        let state = ConfluentState::seeded(
            &config.organizations,
            &config.entitlements,
            &config.linking_tokens,
        );
        assert!(state.organizations.values().any(|o| !o.complete()));
        assert!(state.organizations.values().any(Organization::complete));
        assert!(
            state
                .entitlements()
                .values()
                .any(|e| e.organization_id.is_none())
        );
        assert!(state.linking_tokens.values().any(|t| !t.used));
        for e in state.entitlements().values() {
            if let Some(org) = &e.organization_id {
                assert!(state.organizations.contains_key(org), "{e:?}");
            }
        }
        for t in state.linking_tokens.values() {
            assert!(state.organizations.contains_key(&t.organization_id));
        }
        let external: std::collections::BTreeSet<_> = state
            .entitlements()
            .values()
            .map(|e| &e.external_id)
            .collect();
        assert_eq!(
            external.len(),
            state.entitlements().len(),
            "unique external ids"
        );
    }
}
