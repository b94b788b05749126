//! Confluent: signups with new entitlements, activation once (of a seeded signup or of one the
//! case made), single-use linking tokens, and a token without the partner scope.

use std::collections::BTreeMap;

use proptest::prelude::*;
use serde_json::json;
use understudy::VendorId;

use crate::exchange::{Exchange, Request};
use crate::normalise::Normalisation;
use crate::scenario::{Case, Prediction, Prior, Refusals, Scenario, Stage, Step, Twist};

const AUTH: &str = "Bearer confluent_understudy_test";
const READONLY: &str = "Bearer confluent_understudy_readonly";
const INCOMPLETE: &str = "3f9d2b6e-81c4-4e0a-b5d7-6a2e9c1f0b48";
const COMPLETE: &str = "8c41e0d7-3a9b-4f25-9e6c-1d7b2a5f3e90";
const UNKNOWN_ORG: &str = "0e1d2c3b-4a59-4687-9786-a5b4c3d2e1f0";
/// Linking tokens: unused (seeded, single use), used (seeded), unknown (shaped so no secret
/// scan takes it for a vendor's key).
const TOKENS: [&str; 3] = [
    "confluent_link_understudy",
    "confluent_link_used",
    "unknown-linking-token",
];

/// Entitlement pool indices 4 to 6 send a reference (`entitlement.related`) instead of full
/// details: to the seeded entitlement no organization uses yet (linked once, ever), to the one
/// billing Globex (409), and to an id no entitlement has (400 `entitlement_not_found`).
const REFERENCES: [&str; 3] = ["ent-7q2kz9", "ent-globex01", "ent-0unknown"];
const FREE_REFERENCE: u8 = 4;
const BILLED_REFERENCE: u8 = 5;
const UNKNOWN_REFERENCE: u8 = 6;

/// Which organization an activation names.
#[derive(Clone, Debug)]
pub enum Organization {
    /// The seeded incomplete Initech (activated once, ever).
    SeededIncomplete,
    /// The seeded complete Globex (always 409).
    SeededComplete,
    /// The organization the `k`-th earlier signup of the case created (modulo how many).
    Signup(usize),
    /// An id no organization has (400 `organization_not_found`).
    Unknown,
}

/// One Confluent operation.
#[derive(Clone, Debug)]
pub enum ConfluentOp {
    /// `POST /signup` with a new entitlement (external id from a small pool).
    Signup {
        /// Entitlement pool index: 0 to 2 new external ids, 3 the seeded, already billing
        /// `initech-0001`, 4 to 6 references (see [`REFERENCES`]).
        external: u8,
        /// With the first user (the signup completes).
        with_user: bool,
        /// `?dry_run=true`.
        dry_run: bool,
        /// With the token that lacks the `partner:create` scope (403).
        readonly: bool,
    },
    /// `POST /signup/activate`.
    Activate {
        /// The organization.
        organization: Organization,
        /// With the token that lacks the `partner:create` scope (403).
        readonly: bool,
    },
    /// `POST /signup/link` with a linking token.
    Link {
        /// Token index.
        token: u8,
        /// Entitlement pool index, as for a signup.
        external: u8,
        /// `?dry_run=true`.
        dry_run: bool,
        /// With the token that lacks the `partner:create` scope (403).
        readonly: bool,
    },
}

/// The reference model: external ids billing an organization, the organizations the case's
/// signups created (and whether each is complete), the seeded incomplete organization's
/// activation and the unused token's use (`None`: unknown on a target no one resets).
#[derive(Debug)]
pub struct ConfluentModel {
    taken_external_ids: std::collections::BTreeSet<u8>,
    /// External ids a link may have taken: those sent with the seeded token while its use was
    /// unknown.
    maybe_taken: std::collections::BTreeSet<u8>,
    /// Step of a stored signup → whether its organization is complete.
    signups: BTreeMap<usize, bool>,
    activated: Option<bool>,
    token_used: Option<bool>,
    /// Steps of signups the model could not predict: whether they created an organization is
    /// unknown, so neither is an activation naming one.
    unknown_signups: std::collections::BTreeSet<usize>,
}

/// Confluent's scenarios.
pub struct Confluent;

fn external_id(case: &Case, index: u8) -> String {
    if index == 3 {
        "initech-0001".into()
    } else {
        case.unique(&format!("contract-{index}"))
    }
}

fn entitlement(case: &Case, index: u8) -> serde_json::Value {
    if let Some(id) = index
        .checked_sub(FREE_REFERENCE)
        .and_then(|i| REFERENCES.get(usize::from(i)))
    {
        return json!({
            "id": id,
            "related": format!("https://api.confluent.cloud/partner/v2/entitlements/{id}"),
            "resource_name": format!("crn://confluent.cloud/entitlement={id}"),
        });
    }
    json!({"external_id": external_id(case, index), "name": "Plan", "plan_id": "confluent-cloud-payg-prod", "product_id": "confluent-cloud-kafka-service-azure"})
}

fn sso() -> serde_json::Value {
    json!({"kind": "AzureSSOConfig", "tenant_id": "0c6f1e7a-2d4b-4a8e-9f31-7b5d2c9e8a14"})
}

fn user() -> serde_json::Value {
    json!({"given_name": "Ada", "family_name": "Lovelace", "email": "ada@example.com"})
}

/// The step an `Organization::Signup(k)` at `steps[index]` refers to: the `k`-th earlier
/// signup, twisted or not.
fn signup_step(steps: &[Step<ConfluentOp>], k: usize, index: usize) -> Option<usize> {
    let signups: Vec<usize> = (0..index)
        .filter(|&i| matches!(steps[i].op, ConfluentOp::Signup { .. }))
        .collect();
    (!signups.is_empty()).then(|| signups[k % signups.len()])
}

fn readonly(op: &ConfluentOp) -> bool {
    match op {
        ConfluentOp::Signup { readonly, .. }
        | ConfluentOp::Activate { readonly, .. }
        | ConfluentOp::Link { readonly, .. } => *readonly,
    }
}

impl Scenario for Confluent {
    type Op = ConfluentOp;
    type Model = ConfluentModel;
    const VENDOR: VendorId = VendorId::Confluent;
    const REFUSALS: Refusals = Refusals {
        unauthenticated: 401,
        wrong_scheme: Some(401),
        malformed: 400,
        invalid: 400,
        oversized: None,
        credential_headers: &["authorization"],
    };

    fn operations() -> BoxedStrategy<Vec<ConfluentOp>> {
        let readonly = || proptest::bool::weighted(0.1);
        let organization = prop_oneof![
            2 => Just(Organization::SeededIncomplete),
            1 => Just(Organization::SeededComplete),
            3 => (0usize..3).prop_map(Organization::Signup),
            1 => Just(Organization::Unknown),
        ];
        let op = prop_oneof![
            (0u8..7, any::<bool>(), any::<bool>(), readonly()).prop_map(
                |(external, with_user, dry_run, readonly)| ConfluentOp::Signup {
                    external,
                    with_user,
                    dry_run,
                    readonly,
                }
            ),
            (organization, readonly()).prop_map(|(organization, readonly)| {
                ConfluentOp::Activate {
                    organization,
                    readonly,
                }
            }),
            (0u8..3, 0u8..7, any::<bool>(), readonly()).prop_map(
                |(token, external, dry_run, readonly)| ConfluentOp::Link {
                    token,
                    external,
                    dry_run,
                    readonly,
                }
            ),
        ];
        proptest::collection::vec(op, 1..8).boxed()
    }

    fn operation_id(op: &ConfluentOp) -> &'static str {
        match op {
            ConfluentOp::Signup { .. } => "signup",
            ConfluentOp::Activate { .. } => "activateSignup",
            ConfluentOp::Link { .. } => "signupPartnerV2Link",
        }
    }

    fn primary_identity(op: &ConfluentOp) -> bool {
        !readonly(op)
    }

    fn model(prior: Prior) -> ConfluentModel {
        let known = (prior == Prior::Seeded).then_some(false);
        // The free referenced entitlement is linked once, ever: on a target no one resets, an
        // earlier run may have linked it.
        let maybe_taken = match prior {
            Prior::Seeded => Default::default(),
            Prior::Unknown => [FREE_REFERENCE].into(),
        };
        ConfluentModel {
            // Pool index 3 is the seeded `initech-0001`, billing Initech from the start, and
            // index 5 references the entitlement billing Globex.
            taken_external_ids: [3, BILLED_REFERENCE].into(),
            maybe_taken,
            signups: BTreeMap::new(),
            activated: known,
            token_used: known,
            unknown_signups: Default::default(),
        }
    }

    fn request(case: &Case, steps: &[Step<ConfluentOp>], index: usize) -> Request {
        let op = &steps[index].op;
        let auth = if readonly(op) { READONLY } else { AUTH };
        let base = Request::new(Self::operation_id(op), "POST", "").header("Authorization", auth);
        let dry = |r: Request, dry_run: bool| {
            if dry_run {
                r.query("dry_run", "true")
            } else {
                r
            }
        };
        match op {
            ConfluentOp::Signup {
                external,
                with_user,
                dry_run,
                ..
            } => {
                let mut body = json!({"organization": {"name": "Acme Streaming", "sso_config": sso()}, "entitlement": entitlement(case, *external)});
                if *with_user {
                    body["user"] = user();
                }
                let path = "/partner/v2/signup".into();
                dry(Request { path, ..base }, *dry_run).json(body)
            }
            ConfluentOp::Activate { organization, .. } => {
                let id = match organization {
                    Organization::SeededIncomplete => INCOMPLETE.to_string(),
                    Organization::SeededComplete => COMPLETE.to_string(),
                    Organization::Unknown => UNKNOWN_ORG.to_string(),
                    Organization::Signup(k) => match signup_step(steps, *k, index) {
                        Some(step) => format!("{{@{step}/organization_id}}"),
                        None => UNKNOWN_ORG.to_string(),
                    },
                };
                let path = "/partner/v2/signup/activate".into();
                Request { path, ..base }.json(json!({"organization_id": id, "user": user()}))
            }
            ConfluentOp::Link {
                token,
                external,
                dry_run,
                ..
            } => {
                let path = "/partner/v2/signup/link".into();
                dry(Request { path, ..base }, *dry_run)
                    .json(json!({"token": TOKENS[usize::from(*token)], "organization": {"sso_config": sso()}, "entitlement": entitlement(case, *external)}))
            }
        }
    }

    fn refused_early(
        _: &ConfluentModel,
        steps: &[Step<ConfluentOp>],
        index: usize,
    ) -> Option<(Stage, u16)> {
        // The scope is checked with the token, before the body is read.
        readonly(&steps[index].op).then_some((Stage::Credentials, 403))
    }

    fn predict(
        model: &mut ConfluentModel,
        steps: &[Step<ConfluentOp>],
        index: usize,
    ) -> Prediction {
        if let Some((_, status)) = Self::refused_early(model, steps, index) {
            return Prediction::Known(status);
        }
        let token_unknown = "whether the seeded linking token was used before the case";
        match &steps[index].op {
            ConfluentOp::Activate { organization, .. } => match organization {
                Organization::SeededComplete => Prediction::Known(409),
                Organization::Unknown => Prediction::Known(400),
                Organization::SeededIncomplete => match model.activated.replace(true) {
                    Some(true) => Prediction::Known(409),
                    Some(false) => Prediction::Known(201),
                    // Activated before or now: from here on it is known to be.
                    None => Prediction::Unknown(
                        "whether the seeded signup was activated before the case",
                    ),
                },
                Organization::Signup(k)
                    if signup_step(steps, *k, index)
                        .is_some_and(|step| model.unknown_signups.contains(&step)) =>
                {
                    Prediction::Unknown("whether the signup it names created an organization")
                }
                Organization::Signup(k) => {
                    let stored = signup_step(steps, *k, index)
                        .and_then(|step| model.signups.get_mut(&step).map(|c| (step, c)));
                    match stored {
                        None => Prediction::Known(400),
                        Some((_, complete)) if *complete => Prediction::Known(409),
                        Some((_, complete)) => {
                            *complete = true;
                            Prediction::Known(201)
                        }
                    }
                }
            },
            ConfluentOp::Signup {
                external,
                with_user,
                dry_run,
                ..
            } => {
                if *external == UNKNOWN_REFERENCE {
                    return Prediction::Known(400);
                }
                if model.taken_external_ids.contains(external) {
                    return Prediction::Known(409);
                }
                if model.maybe_taken.contains(external) {
                    if !dry_run {
                        // Taken now, by this signup or the link before it.
                        model.maybe_taken.remove(external);
                        model.taken_external_ids.insert(*external);
                    }
                    // What it answered (an id, dry run or not, or none) is unknown too.
                    model.unknown_signups.insert(index);
                    return Prediction::Unknown(token_unknown);
                }
                if !dry_run {
                    model.taken_external_ids.insert(*external);
                    model.signups.insert(index, *with_user);
                }
                Prediction::Known(201)
            }
            // The token is checked before the entitlement.
            ConfluentOp::Link {
                token,
                external,
                dry_run,
                ..
            } => {
                if *token != 0 || model.token_used == Some(true) {
                    return Prediction::Known(400);
                }
                // An unknown reference is refused with 400 whether or not the token was used
                // before, but for the one reason or the other.
                if *external == UNKNOWN_REFERENCE {
                    return match model.token_used {
                        None => Prediction::StatusOnly(400, token_unknown),
                        _ => Prediction::Known(400),
                    };
                }
                let taken = model.taken_external_ids.contains(external);
                let unknown = model.token_used.is_none() || model.maybe_taken.contains(external);
                if !dry_run && !taken {
                    // Used now, or refused because it was used: used from here on; the
                    // entitlement was linked only in the first case.
                    match model.token_used {
                        None => {
                            model.maybe_taken.insert(*external);
                        }
                        _ => {
                            model.taken_external_ids.insert(*external);
                        }
                    }
                    model.token_used = Some(true);
                }
                match (unknown, taken) {
                    (true, _) => Prediction::Unknown(token_unknown),
                    (false, true) => Prediction::Known(409),
                    (false, false) => Prediction::Known(201),
                }
            }
        }
    }

    /// A body its schema refuses gets one error per violation, each pointing into the body:
    /// the vendor's `Error.source` has `pointer` ("RFC6901 JSON Pointer into request body") for
    /// a body member and `parameter` ("offending query parameter") for a parameter only.
    fn check_refusal(
        steps: &[Step<ConfluentOp>],
        index: usize,
        request: &Request,
        exchange: &Exchange,
    ) -> Result<(), String> {
        if steps[index].twist != Twist::InvalidBody || exchange.status != 400 {
            return Ok(());
        }
        let body = request.body.clone().unwrap_or_default();
        let errors = exchange.body["errors"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        if errors.is_empty() {
            return Err("a 400 without errors".into());
        }
        for error in &errors {
            let source = &error["source"];
            let pointer = source["pointer"].as_str();
            if source.get("parameter").is_some()
                || pointer.is_none_or(|p| body.pointer(p).is_none())
            {
                return Err(format!(
                    "an error about the body has source {source}, not a pointer into {body}"
                ));
            }
        }
        Ok(())
    }

    fn canonical() -> Vec<ConfluentOp> {
        let signup = |external, with_user, dry_run| ConfluentOp::Signup {
            external,
            with_user,
            dry_run,
            readonly: false,
        };
        let activate = |organization| ConfluentOp::Activate {
            organization,
            readonly: false,
        };
        let link = |token, external, dry_run| ConfluentOp::Link {
            token,
            external,
            dry_run,
            readonly: false,
        };
        vec![
            signup(0, false, false),
            signup(0, true, false),
            signup(1, true, true),
            signup(3, true, false),
            activate(Organization::SeededIncomplete),
            activate(Organization::SeededIncomplete),
            activate(Organization::SeededComplete),
            link(0, 2, true),
            link(0, 2, false),
            link(0, 1, false),
            link(1, 1, false),
        ]
    }

    fn normalisation() -> Normalisation {
        Normalisation {
            ids: &[
                "organization_id",
                "id",
                "user_id",
                "entitlement_id",
                "resource_name",
                "related",
            ],
            opaque: &["created_at", "updated_at"],
            present_headers: &["location"],
        }
    }
}
