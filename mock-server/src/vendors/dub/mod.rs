//! Dub partners, for SDK 0.18.0 and today's SDKs (0.39.0): workspaces with plans and a default
//! program, programs with a domain and URL, partners enrolled in programs with a status, their
//! short links, and the events recorded on those links.

mod analytics;
mod errors;
mod link;
mod partners;
mod rules;
mod seed;
mod state;

use axum::http::{HeaderMap, StatusCode};
use serde::{Deserialize, Serialize};
use std::sync::Arc;

pub use errors::DubError;
pub use seed::SeedPartner;
pub use state::DubState;

use super::{
    Ambient, Caller, Context, CredentialScheme, Operations, StateStore, Store, VendorSemantics,
    bearer,
};
use crate::mutants::Mutant;
use crate::pipeline::{Envelope, Rejection, Reply, ValidatedRequest};
use crate::spec::Operation;

/// Plans whose workspaces may list and create partners and create partner links: those of
/// the SDK 0.18.0 server and today's `advanced`.
const PARTNER_PLANS: [&str; 6] = [
    "business",
    "business plus",
    "business extra",
    "business max",
    "advanced",
    "enterprise",
];

/// Plans today's Dub requires for a partner's links, analytics, ban and deactivation.
const ADVANCED_PLANS: [&str; 2] = ["advanced", "enterprise"];

/// The most of each kind of event one admin action records (bounded input).
const MAX_EVENTS_PER_ACTION: u64 = 1_000_000;

crate::mutants! {
    /// Dub's deliberate contract faults.
    pub enum DubMutant {
        LinkCreated200 = "dub.link-created-200"
            => "createPartnerLink answers 200 instead of 201 Created",
        DuplicateEmailEnrolled = "dub.duplicate-email-enrolled"
            => "a partner whose email is already enrolled in the program is enrolled again (201 instead of 409)",
        DuplicateTenantEnrolled = "dub.duplicate-tenant-enrolled"
            => "a tenant id already enrolled in the program is enrolled again (201 instead of 409)",
        DuplicateKeyAllowed = "dub.duplicate-key-allowed"
            => "a link whose domain and key are taken is created (201 instead of 409)",
        UpsertAlwaysCreates = "dub.upsert-always-creates"
            => "the upsert creates a new link even when one with the same URL exists",
        UrlDomainNotChecked = "dub.url-domain-not-checked"
            => "a link URL outside the program's domain is accepted instead of 400",
        UnknownPartner400 = "dub.unknown-partner-400"
            => "a link for a partner that is not enrolled answers 400 instead of 404",
        ShortLinkDropped = "dub.short-link-dropped"
            => "created links lack the required shortLink field",
        PartnerStatusWrongEnum = "dub.partner-status-wrong-enum"
            => "a new partner's status is \"active\", a value outside the enrolment status enum, instead of \"approved\"",
        ErrorEnvelopeFlat = "dub.error-envelope-flat"
            => "rule errors are sent as {code, message, doc_url} without the {\"error\": …} envelope",
    }
}

/// Dub's configuration: the workspaces the fake knows and the partners it starts with.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DubConfig {
    /// Workspaces, each with its plan, API keys and programs.
    pub workspaces: Vec<Workspace>,
    /// Partners (with their links and recorded events) the world starts with.
    #[serde(default)]
    pub seed: Vec<SeedPartner>,
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
    /// The program today's API calls act on (they name none); `None`: those calls are 404.
    #[serde(default)]
    pub default_program: Option<String>,
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

/// A Dub caller: the workspace whose API key it sent.
#[derive(Clone, Copy, Debug)]
pub struct DubCaller<'a> {
    /// The workspace.
    pub workspace: &'a Workspace,
    /// The API key.
    pub token: &'a str,
}

impl Caller for DubCaller<'_> {
    fn credential(&self) -> &str {
        self.token
    }
}

/// The Dub fake.
pub struct Dub {
    /// Shared by every world's Dub: credentials and seed never change.
    config: Arc<DubConfig>,
    world: Ambient,
    state: Store<DubState>,
}

impl Dub {
    /// `record-events`: clicks, leads and sales on one link, now or at a given moment.
    fn record_events(&self, body: &serde_json::Value) -> Result<serde_json::Value, String> {
        use serde_json::Value;
        let link_id = body
            .get("linkId")
            .and_then(Value::as_str)
            .ok_or("record-events needs a string field \"linkId\"")?;
        let count = |name: &str| -> Result<u64, String> {
            match body.get(name) {
                None | Some(Value::Null) => Ok(0),
                Some(v) => v
                    .as_u64()
                    .filter(|n| *n <= MAX_EVENTS_PER_ACTION)
                    .ok_or(format!(
                        "{name} must be an integer from 0 to {MAX_EVENTS_PER_ACTION}"
                    )),
            }
        };
        let amount = |name: &str| -> Result<u64, String> {
            match body.get(name) {
                None | Some(Value::Null) => Ok(0),
                Some(v) => v
                    .as_u64()
                    .filter(|n| *n <= u64::from(u32::MAX))
                    .ok_or(format!(
                        "{name} must be an integer number of cents from 0 to {}",
                        u32::MAX
                    )),
            }
        };
        let now = self.world.clock.now();
        let at = match body.get("at").and_then(Value::as_str) {
            None => now,
            Some(text) => link::parse_moment(text)
                .filter(|at| *at <= now && at.year() >= 2022)
                .ok_or(format!(
                    "at must be a moment from 2022 up to the fake's current time, not {text:?}"
                ))?,
        };
        let event = state::Event {
            at: crate::clock::rfc3339(at),
            clicks: count("clicks")?,
            leads: count("leads")?,
            sales: count("sales")?,
            sale_amount: amount("saleAmount")?,
            earnings: amount("earnings")?,
        };
        let mut state = self.state.lock();
        let link = state
            .link(link_id)
            .ok_or(format!("dub has no link {link_id:?}"))?;
        if link.inactive(now) {
            return Err(format!(
                "link {link_id} is disabled or expired (its partner is banned or deactivated) and records no events"
            ));
        }
        state.record_event(link_id, event);
        let link = state
            .link(link_id)
            .map(link::Link::to_json)
            .unwrap_or_default();
        Ok(serde_json::json!({
            "linkId": link_id, "clicks": link["clicks"], "leads": link["leads"],
            "sales": link["sales"], "saleAmount": link["saleAmount"],
            "lastClicked": link["lastClicked"],
        }))
    }
}

crate::operations! {
    /// Dub's partner operations, as the spec names them.
    pub enum DubOp {
        /// `createPartner`.
        CreatePartner = "createPartner",
        /// `listPartners`.
        ListPartners = "listPartners",
        /// `retrievePartnerLinks`.
        RetrievePartnerLinks = "retrievePartnerLinks",
        /// `retrievePartnerAnalytics`.
        RetrievePartnerAnalytics = "retrievePartnerAnalytics",
        /// `banPartner`.
        BanPartner = "banPartner",
        /// `deactivatePartner`.
        DeactivatePartner = "deactivatePartner",
        /// `createPartnerLink`.
        CreatePartnerLink = "createPartnerLink",
        /// `upsertPartnerLink`.
        UpsertPartnerLink = "upsertPartnerLink",
    }
}

impl VendorSemantics for Dub {
    type Caller<'v> = DubCaller<'v>;
    type Error = DubError;
    type Op = DubOp;
    type Config = DubConfig;

    const SPEC: &'static str = include_str!("../../../../specs/dub.yaml");
    const MUTANTS: &'static [Mutant] = DubMutant::CATALOGUE;

    /// A Dub fake with the configured workspaces and the configured seed. A seed entry naming
    /// a program no workspace has is reported and the world starts empty instead.
    fn new(config: DubConfig, world: Ambient) -> Self {
        let seed = seed::state(&config).unwrap_or_else(|error| {
            tracing::error!(%error, "dub seed ignored");
            DubState::default()
        });
        Dub {
            config: Arc::new(config),
            world,
            state: Store::new(seed),
        }
    }

    fn fork(&self, world: Ambient) -> Self {
        Dub {
            config: self.config.clone(),
            world,
            state: self.state.fork(),
        }
    }

    fn authenticate(
        &self,
        _op: &Operation,
        headers: &HeaderMap,
    ) -> Result<DubCaller<'_>, Rejection> {
        let token = bearer(headers)?.ok_or(Rejection::MissingCredentials)?;
        self.caller(token).ok_or(Rejection::UnknownCredentials)
    }

    fn caller(&self, credential: &str) -> Option<DubCaller<'_>> {
        self.config.workspaces.iter().find_map(|workspace| {
            let token = workspace.tokens.iter().find(|t| *t == credential)?;
            Some(DubCaller { workspace, token })
        })
    }

    fn primary_credential(&self, scheme: CredentialScheme) -> Option<&str> {
        let first = self.config.workspaces.iter().flat_map(|w| &w.tokens).next();
        first
            .filter(|_| scheme == CredentialScheme::Token)
            .map(String::as_str)
    }

    fn credentials(&self) -> Vec<&str> {
        self.config
            .workspaces
            .iter()
            .flat_map(|w| w.tokens.iter().map(String::as_str))
            .collect()
    }

    fn authorize(&self, op: DubOp, caller: &DubCaller<'_>) -> Result<(), Rejection> {
        // The plan gate runs in Dub's auth wrapper after the limiter, before the body is read.
        let plans: &[&str] = match op {
            DubOp::CreatePartner | DubOp::CreatePartnerLink | DubOp::ListPartners => &PARTNER_PLANS,
            DubOp::RetrievePartnerLinks
            | DubOp::RetrievePartnerAnalytics
            | DubOp::BanPartner
            | DubOp::DeactivatePartner => &ADVANCED_PLANS,
            DubOp::UpsertPartnerLink => &[],
        };
        let plan = caller.workspace.plan.to_ascii_lowercase();
        if !plans.is_empty() && !plans.contains(&plan.as_str()) {
            return Err(Rejection::Forbidden(
                "Unauthorized: Need higher plan.".into(),
            ));
        }
        Ok(())
    }

    fn creates(&self, op: &Operation) -> bool {
        // The upsert creates when no link matches (and answers 200 either way); ban and
        // deactivate only change what exists.
        matches!(
            DubOp::of(op),
            Some(DubOp::CreatePartner | DubOp::CreatePartnerLink | DubOp::UpsertPartnerLink)
        )
    }

    fn admin_action(
        &self,
        name: &str,
        body: &serde_json::Value,
    ) -> Result<serde_json::Value, String> {
        match name {
            "record-events" => self.record_events(body),
            _ => Err(format!("dub's admin action is record-events, not {name:?}")),
        }
    }

    fn rate_limit_tier(&self, caller: &DubCaller<'_>) -> Option<String> {
        Some(caller.workspace.plan.to_ascii_lowercase())
    }

    fn handle(
        &self,
        op: DubOp,
        request: &ValidatedRequest,
        caller: &DubCaller<'_>,
        cx: &Context<'_>,
    ) -> Reply {
        let workspace = caller.workspace;
        let now = crate::clock::rfc3339(cx.now);
        let mut state = self.state.lock();
        let rules = rules::Rules {
            workspace,
            ids: &self.world.ids,
            world: &self.world,
            now,
        };
        let body = request.body.clone().unwrap_or_default();
        let query = |name: &str| request.query.get(name).and_then(serde_json::Value::as_str);
        let outcome = match op {
            DubOp::CreatePartner => rules
                .create_partner(&mut state, &body)
                .map(|v| (StatusCode::CREATED, v)),
            DubOp::ListPartners => rules.default_program().map(|program| {
                let number = |name: &str, default: usize| {
                    request
                        .query
                        .get(name)
                        .and_then(serde_json::Value::as_u64)
                        .map_or(default, |n| usize::try_from(n).unwrap_or(usize::MAX))
                };
                let q = partners::ListQuery {
                    status: query("status"),
                    country: query("country"),
                    group_id: query("groupId"),
                    tenant_id: query("tenantId"),
                    email: query("email"),
                    search: query("search"),
                    sort_by: query("sortBy"),
                    sort_order: query("sortOrder"),
                    page: number("page", 1),
                    page_size: number("pageSize", partners::MAX_PAGE_SIZE),
                };
                (StatusCode::OK, partners::list(&state, &program.id, &q))
            }),
            DubOp::RetrievePartnerLinks => rules.default_program().and_then(|program| {
                let who = partners::PartnerRef::from_fields(query);
                let e =
                    partners::find_enrollment(&state, &program.id, who, partners::Missing::Links)?;
                Ok((StatusCode::OK, partners::links(&state, &e)))
            }),
            DubOp::RetrievePartnerAnalytics => rules.default_program().and_then(|program| {
                let who = partners::PartnerRef::from_fields(query);
                let period =
                    analytics::period(query("interval"), query("start"), query("end"), cx.now)?;
                let e = partners::find_enrollment(
                    &state,
                    &program.id,
                    who,
                    partners::Missing::Analytics,
                )?;
                let links = state.links_of(&e.partner_id, &e.program_id);
                let answer = match query("groupBy") {
                    Some("timeseries") => analytics::timeseries(&state, &links, period),
                    Some("top_links") => analytics::top_links(&state, &links, period),
                    _ => analytics::count(&state, &links, period),
                };
                Ok((StatusCode::OK, answer))
            }),
            DubOp::BanPartner | DubOp::DeactivatePartner => {
                rules.default_program().and_then(|program| {
                    let field = |name: &str| body.get(name).and_then(serde_json::Value::as_str);
                    let who = partners::PartnerRef::from_fields(field);
                    let e = partners::find_enrollment(
                        &state,
                        &program.id,
                        who,
                        partners::Missing::Status,
                    )?;
                    let answer = if op == DubOp::BanPartner {
                        partners::ban(
                            &mut state,
                            &e,
                            field("reason").unwrap_or_default(),
                            &rules.now,
                        )
                    } else {
                        partners::deactivate(&mut state, &e, &rules.now)
                    };
                    answer.map(|v| (StatusCode::OK, v))
                })
            }
            DubOp::CreatePartnerLink => rules.create_link(&mut state, &body).map(|v| {
                let status = if self.world.mutant(DubMutant::LinkCreated200) {
                    StatusCode::OK
                } else {
                    StatusCode::CREATED
                };
                (status, v)
            }),
            DubOp::UpsertPartnerLink => rules
                .upsert_link(&mut state, &body)
                .map(|v| (StatusCode::OK, v)),
        };
        match outcome {
            Ok((status, mut body)) => {
                if op == DubOp::CreatePartnerLink && self.world.mutant(DubMutant::ShortLinkDropped)
                {
                    body.as_object_mut().map(|link| link.remove("shortLink"));
                }
                if op == DubOp::CreatePartner
                    && self.world.mutant(DubMutant::PartnerStatusWrongEnum)
                {
                    body["status"] = serde_json::json!("active");
                }
                Reply::json(status, body)
            }
            Err(error) if self.world.mutant(DubMutant::ErrorEnvelopeFlat) => {
                let mut reply = error.reply(cx);
                if let Some(inner) = reply.body.as_mut().and_then(|b| b.get_mut("error")) {
                    let inner = inner.take();
                    reply.body = Some(inner);
                }
                reply
            }
            Err(error) => error.reply(cx),
        }
    }

    fn state(&self) -> &dyn StateStore {
        &self.state
    }
}
