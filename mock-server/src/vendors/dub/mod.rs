//! Dub partners (SDK 0.18.0 contract): workspaces with plans, programs with a domain and URL,
//! partners enrolled in programs, and their short links.

mod errors;
mod link;
mod rules;
mod state;

use axum::http::{HeaderMap, StatusCode};
use serde::{Deserialize, Serialize};

pub use errors::{DubError, zod_message};
pub use state::DubState;

use super::{Context, Principal, StateStore, Store, Vendor, World, bearer};
use crate::VendorId;
use crate::pipeline::{Rejection, Reply, ValidatedRequest};
use crate::spec::Operation;

/// Plans whose workspaces may create partners and partner links.
const PARTNER_PLANS: [&str; 5] = [
    "business",
    "business plus",
    "business extra",
    "business max",
    "enterprise",
];

/// Dub's mutants: (name, what goes wrong when it is active).
pub const MUTANTS: &[(&str, &str)] = &[
    (
        crate::rate_limit::RESET_SECONDS_MUTANT,
        "X-RateLimit-Reset (and Retry-After with it) in epoch seconds where the configured unit is epoch milliseconds",
    ),
    (
        "dub.link-created-200",
        "createPartnerLink answers 200 instead of 201 Created",
    ),
    (
        "dub.duplicate-email-enrolled",
        "a partner whose email is already enrolled in the program is enrolled again (201 instead of 409)",
    ),
    (
        "dub.duplicate-tenant-enrolled",
        "a tenant id already enrolled in the program is enrolled again (201 instead of 409)",
    ),
    (
        "dub.duplicate-key-allowed",
        "a link whose domain and key are taken is created (201 instead of 409)",
    ),
    (
        "dub.upsert-always-creates",
        "the upsert creates a new link even when one with the same URL exists",
    ),
    (
        "dub.url-domain-not-checked",
        "a link URL outside the program's domain is accepted instead of 400",
    ),
    (
        "dub.unknown-partner-400",
        "a link for a partner that is not enrolled answers 400 instead of 404",
    ),
    (
        "dub.short-link-dropped",
        "created links lack the required shortLink field",
    ),
    (
        "dub.partner-status-wrong-enum",
        "a new partner's status is \"active\", a value outside the enrolment status enum, instead of \"approved\"",
    ),
    (
        "dub.error-envelope-flat",
        "rule errors are sent as {code, message, doc_url} without the {\"error\": …} envelope",
    ),
];

/// Dub's configuration: the workspaces the fake knows.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DubConfig {
    /// Workspaces, each with its plan, API keys and programs.
    pub workspaces: Vec<Workspace>,
}

/// A Dub workspace.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Workspace {
    /// `ws_…`.
    pub id: String,
    /// Plan name (`free`, `pro`, `business`, …).
    pub plan: String,
    /// Workspace API keys (`dub_…`).
    pub tokens: Vec<String>,
    /// The workspace's partner programs.
    pub programs: Vec<Program>,
}

/// A partner program.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Program {
    /// `prog_…`.
    pub id: String,
    /// The short-link domain partners' links live on; `None` until configured.
    pub domain: Option<String>,
    /// The destination URL partners' links point to; `None` until configured.
    pub url: Option<String>,
}

/// The Dub fake.
pub struct Dub {
    config: DubConfig,
    world: World,
    state: Store<DubState>,
}

impl Dub {
    /// A Dub fake with the configured workspaces and empty partner state.
    pub fn new(config: DubConfig, world: World) -> Self {
        Dub {
            config,
            world,
            state: Store::new(DubState::default()),
        }
    }

    fn workspace_of(&self, token: &str) -> Option<&Workspace> {
        self.config
            .workspaces
            .iter()
            .find(|w| w.tokens.iter().any(|t| t == token))
    }
}

impl Vendor for Dub {
    fn id(&self) -> VendorId {
        VendorId::Dub
    }

    fn authenticate(&self, _op: &Operation, headers: &HeaderMap) -> Result<Principal, Rejection> {
        let token = bearer(headers)?.ok_or(Rejection::MissingCredentials)?;
        self.workspace_of(token)
            .ok_or(Rejection::UnknownCredentials)?;
        Ok(Principal {
            credential: token.to_string(),
        })
    }

    fn credentials(&self) -> Vec<&str> {
        self.config
            .workspaces
            .iter()
            .flat_map(|w| w.tokens.iter().map(String::as_str))
            .collect()
    }

    fn authorize(&self, op: &Operation, caller: &Principal) -> Result<(), Rejection> {
        // The plan gate runs in Dub's auth wrapper after the limiter, before the body is read.
        let gated = matches!(
            op.operation_id.as_str(),
            "createPartner" | "createPartnerLink"
        );
        let plan = self
            .workspace_of(&caller.credential)
            .map(|w| w.plan.to_ascii_lowercase())
            .unwrap_or_default();
        if gated && !PARTNER_PLANS.contains(&plan.as_str()) {
            return Err(Rejection::Forbidden(
                "Unauthorized: Need higher plan.".into(),
            ));
        }
        Ok(())
    }

    fn creates(&self, op: &Operation) -> bool {
        // The upsert creates when no link matches (and answers 200 either way).
        op.method != axum::http::Method::GET
    }

    fn rate_limit_tier(&self, caller: &Principal) -> Option<String> {
        self.workspace_of(&caller.credential)
            .map(|w| w.plan.to_ascii_lowercase())
    }

    fn handle(
        &self,
        op: &Operation,
        request: &ValidatedRequest,
        caller: &Principal,
        cx: &Context<'_>,
    ) -> Reply {
        let Some(workspace) = self.workspace_of(&caller.credential) else {
            return DubError::unauthorized("Unauthorized: Invalid API key.").reply();
        };
        let now = crate::clock::rfc3339(cx.now);
        let mut state = self.state.lock();
        let rules = rules::Rules {
            workspace,
            ids: &self.world.ids,
            world: &self.world,
            now,
        };
        let body = request.body.clone().unwrap_or_default();
        let outcome = match op.operation_id.as_str() {
            "createPartner" => rules
                .create_partner(&mut state, &body)
                .map(|v| (StatusCode::CREATED, v)),
            "createPartnerLink" => rules.create_link(&mut state, &body).map(|v| {
                let status = if self.world.mutant("dub.link-created-200") {
                    StatusCode::OK
                } else {
                    StatusCode::CREATED
                };
                (status, v)
            }),
            "upsertPartnerLink" => rules
                .upsert_link(&mut state, &body)
                .map(|v| (StatusCode::OK, v)),
            _ => Err(DubError::internal()),
        };
        match outcome {
            Ok((status, mut body)) => {
                if op.operation_id == "createPartnerLink"
                    && self.world.mutant("dub.short-link-dropped")
                {
                    body.as_object_mut().map(|link| link.remove("shortLink"));
                }
                if op.operation_id == "createPartner"
                    && self.world.mutant("dub.partner-status-wrong-enum")
                {
                    body["status"] = serde_json::json!("active");
                }
                Reply::json(status, body)
            }
            Err(error) if self.world.mutant("dub.error-envelope-flat") => {
                let mut reply = error.reply();
                if let Some(inner) = reply.body.as_mut().and_then(|b| b.get_mut("error")) {
                    let inner = inner.take();
                    reply.body = Some(inner);
                }
                reply
            }
            Err(error) => error.reply(),
        }
    }

    fn reject(&self, rejection: &Rejection, _cx: &Context<'_>) -> Reply {
        DubError::from_rejection(rejection).reply()
    }

    fn state(&self) -> &dyn StateStore {
        &self.state
    }
}
