//! Archera: all eleven partner operations on every kind of organisation the seeded world holds
//! (the key's partner, its children, a child the case registered, another partner and its
//! child, unknown and malformed ids), with either partner's key: onboarding (idempotent start,
//! verification against the bound account), Azure consent, child registration and listing,
//! plan recommendation and purchase once, the partner patch.

use std::collections::{BTreeMap, BTreeSet};

use proptest::prelude::*;
use serde_json::json;
use understudy::VendorId;

use crate::exchange::Request;
use crate::normalise::Normalisation;
use crate::scenario::{Case, Prediction, Prior, Refusals, Scenario, Stage, Step};

const PARTNER: &str = "6f1c2a3b-4d5e-4f60-8a7b-9c0d1e2f3a4b";
const MERIDIAN: &str = "0a9b8c7d-6e5f-4a3b-9c2d-1e0f2a3b4c5d";
const NORTHWIND: &str = "b7e4c1d2-6a3f-4b8e-9c5d-2f1a0e7b3c96";
const CONTOSO: &str = "2b4d6f8a-0c1e-4a3b-9d5f-7e8a9b0c1d2e";
const HARBOR: &str = "5e6f7a8b-9c0d-4e1f-8a2b-3c4d5e6f7a8b";
const NO_ORG: &str = "9f8e7d6c-5b4a-4c3d-8e2f-1a0b9c8d7e6f";
/// Northwind's seeded AWS onboarding record and the account it is bound and deployed to.
const NORTHWIND_ONBOARDING: &str = "7f3a9c1e-5b2d-4e8f-a1c3-9d7e5b3f1a2c";
const NORTHWIND_ACCOUNT: &str = "123456789012";
const OTHER_ACCOUNT: &str = "210987654321";
const UNKNOWN_ONBOARDING: &str = "0b1c2d3e-4f5a-4b6c-8d7e-9f0a1b2c3d4e";
/// Seeded plans: Northwind's AWS plan, Contoso's Azure plan, Contoso's GCP plan (still being
/// calculated: 409), and Northwind's org with Contoso's plan id (404).
const PLANS: [(&str, &str); 4] = [
    (NORTHWIND, "8c2d1e4f-5a6b-4c7d-8e9f-0a1b2c3d4e5f"),
    (CONTOSO, "3f6c2a9e-8b4d-4e1f-9a7c-5d2b8e0f1a64"),
    (CONTOSO, "e5d4c3b2-a190-4f8e-b7d6-c5b4a3928170"),
    (NORTHWIND, "3f6c2a9e-8b4d-4e1f-9a7c-5d2b8e0f1a64"),
];
const PROVIDERS: [&str; 5] = ["aws", "azure", "gcp", "kubernetes", "ibm"];
/// Child names: 0 is the seeded Northwind's (taken, whatever the case); the others are made
/// unique per case on a target no one resets.
const COMPANIES: [&str; 3] = ["Northwind Logistics", "Contract Retail", "Contract Foods"];

/// An organisation an operation addresses.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Org {
    /// The first key's partner organisation, Skyline.
    Partner,
    /// Skyline's child onboarded on AWS (stack deployed in its bound account).
    Northwind,
    /// Skyline's child with an Azure consent requested, not granted.
    Contoso,
    /// The child the `k`-th earlier registration of the case made (modulo how many).
    Registered(usize),
    /// The second key's partner organisation, Meridian.
    Meridian,
    /// Meridian's child.
    Harbor,
    /// A UUID of no organisation (404).
    Unknown,
    /// Not a UUID: no route matches (404).
    Malformed,
}

/// Which onboarding id an AWS verification names.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Onboarding {
    /// What the latest earlier start for the same organisation answered.
    Started,
    /// Northwind's seeded record.
    Seeded,
    /// A UUID of no record (404).
    Unknown,
    /// None: the organisation's own record is verified (409 without one).
    Omitted,
}

/// What one Archera step does.
#[derive(Clone, Debug)]
pub enum Action {
    /// `POST onboarding/start`.
    Start,
    /// `GET onboarding/aws/cloudformation_template`.
    Template,
    /// `GET onboarding/aws/launch-stack-url`.
    LaunchUrl,
    /// `POST onboarding/aws/verify`.
    VerifyAws {
        /// The onboarding id sent.
        onboarding: Onboarding,
        /// Northwind's bound account instead of another one (`None`: the record's own).
        account: Option<bool>,
    },
    /// `GET onboarding/azure/auth-url`.
    AzureAuthUrl,
    /// `POST onboarding/azure/verify`.
    VerifyAzure,
    /// `POST onboarding/register_child`.
    Register {
        /// Company pool index (0 is taken).
        company: u8,
    },
    /// `GET onboarding/child-orgs`.
    ListChildren,
    /// `GET purchase-plans-v2/recommended?provider=` (pool index 4 is no provider: 422).
    Recommended {
        /// Provider pool index.
        provider: u8,
    },
    /// `POST purchase-plans-v2/{plan}/purchase` of a seeded plan (the org is the plan's).
    Purchase {
        /// Plan pool index.
        plan: u8,
    },
    /// `PATCH /partners`: the AWS offer link, valid or not an http(s) URL (422).
    Patch {
        /// An `ftp://` link.
        invalid: bool,
    },
}

/// One Archera operation.
#[derive(Clone, Debug)]
pub struct ArcheraOp {
    /// The organisation (a purchase uses its plan's).
    pub org: Org,
    /// With Meridian's key instead of Skyline's.
    pub meridian: bool,
    /// What it does.
    pub action: Action,
}

/// The reference model: which organisations have AWS and Azure onboarding records, which plans
/// were bought, the registrations and starts that succeeded (`None`: unknown on a target no
/// one resets).
#[derive(Debug)]
pub struct ArcheraModel {
    prior: Prior,
    aws: BTreeMap<Org, Option<bool>>,
    azure: BTreeMap<Org, Option<bool>>,
    bought: BTreeMap<u8, Option<bool>>,
    registered: BTreeSet<usize>,
    started: BTreeSet<usize>,
    companies: BTreeSet<u8>,
}

/// Archera's scenarios.
pub struct Archera;

fn registered_step(steps: &[Step<ArcheraOp>], k: usize, index: usize) -> Option<usize> {
    let registrations: Vec<usize> = (0..index)
        .filter(|&i| matches!(steps[i].op.action, Action::Register { .. }))
        .collect();
    (!registrations.is_empty()).then(|| registrations[k % registrations.len()])
}

/// The organisation a purchase addresses: its plan's.
fn purchase_org(plan: u8) -> &'static str {
    PLANS[usize::from(plan)].0
}

impl Archera {
    /// The path segment for `org` at `steps[index]`.
    fn org_segment(steps: &[Step<ArcheraOp>], index: usize) -> String {
        let op = &steps[index].op;
        if let Action::Purchase { plan } = op.action {
            return purchase_org(plan).into();
        }
        match op.org {
            Org::Partner => PARTNER.into(),
            Org::Northwind => NORTHWIND.into(),
            Org::Contoso => CONTOSO.into(),
            Org::Meridian => MERIDIAN.into(),
            Org::Harbor => HARBOR.into(),
            Org::Unknown => NO_ORG.into(),
            Org::Malformed => "not-an-org".into(),
            Org::Registered(k) => match registered_step(steps, k, index) {
                Some(step) => format!("{{@{step}/org_id}}"),
                None => NO_ORG.into(),
            },
        }
    }

    /// The organisation the step addresses, as the model keys it: a registered child by its
    /// registration step.
    fn org_of(steps: &[Step<ArcheraOp>], index: usize) -> Org {
        let op = &steps[index].op;
        match (&op.action, op.org) {
            (Action::Purchase { plan }, _) => match purchase_org(*plan) {
                NORTHWIND => Org::Northwind,
                _ => Org::Contoso,
            },
            (_, Org::Registered(k)) => match registered_step(steps, k, index) {
                Some(step) => Org::Registered(step),
                None => Org::Unknown,
            },
            (_, org) => org,
        }
    }

    /// The latest earlier start for the same organisation.
    fn latest_start(steps: &[Step<ArcheraOp>], index: usize) -> Option<usize> {
        let org = Self::org_of(steps, index);
        (0..index)
            .rev()
            .find(|&i| matches!(steps[i].op.action, Action::Start) && Self::org_of(steps, i) == org)
    }
}

impl ArcheraModel {
    /// The organisation the step addresses, if its path names one (a registration that
    /// answered no id leaves `missing-N` in the path, which is no UUID).
    fn resolved(&self, org: Org) -> Option<Org> {
        match org {
            Org::Malformed => None,
            Org::Registered(step) if !self.registered.contains(&step) => None,
            org => Some(org),
        }
    }

    /// Archera's access check for the caller and `org` in an operation of `partner_scope`:
    /// 404 unknown, 403 foreign, 409 the wrong kind of organisation.
    fn access(org: Org, meridian: bool, partner_scope: bool) -> Option<u16> {
        let (partner, own) = match org {
            Org::Unknown | Org::Malformed => return Some(404),
            Org::Partner => (true, !meridian),
            Org::Meridian => (true, meridian),
            Org::Harbor => (false, meridian),
            Org::Northwind | Org::Contoso | Org::Registered(_) => (false, !meridian),
        };
        if !own {
            return Some(403);
        }
        (partner != partner_scope).then_some(409)
    }
}

fn partner_scope(action: &Action) -> bool {
    matches!(
        action,
        Action::Register { .. } | Action::ListChildren | Action::Patch { .. }
    )
}

impl Scenario for Archera {
    type Op = ArcheraOp;
    type Model = ArcheraModel;
    const VENDOR: VendorId = VendorId::Archera;
    const REFUSALS: Refusals = Refusals {
        unauthenticated: 401,
        wrong_scheme: None,
        malformed: 400,
        invalid: 422,
        oversized: Some(400),
        credential_headers: &["x-api-key"],
    };

    fn operations() -> BoxedStrategy<Vec<ArcheraOp>> {
        let org = prop_oneof![
            3 => Just(Org::Partner),
            4 => Just(Org::Northwind),
            4 => Just(Org::Contoso),
            4 => (0usize..3).prop_map(Org::Registered),
            1 => Just(Org::Meridian),
            1 => Just(Org::Harbor),
            1 => Just(Org::Unknown),
            1 => Just(Org::Malformed),
        ];
        let onboarding = prop_oneof![
            4 => Just(Onboarding::Started),
            2 => Just(Onboarding::Seeded),
            1 => Just(Onboarding::Unknown),
            2 => Just(Onboarding::Omitted),
        ];
        let action = prop_oneof![
            2 => Just(Action::Start),
            1 => Just(Action::Template),
            1 => Just(Action::LaunchUrl),
            2 => (onboarding, proptest::option::of(any::<bool>()))
                .prop_map(|(onboarding, account)| Action::VerifyAws { onboarding, account }),
            1 => Just(Action::AzureAuthUrl),
            1 => Just(Action::VerifyAzure),
            2 => (0u8..3).prop_map(|company| Action::Register { company }),
            1 => Just(Action::ListChildren),
            1 => (0u8..5).prop_map(|provider| Action::Recommended { provider }),
            2 => prop_oneof![3 => 0u8..2, 1 => 2u8..4].prop_map(|plan| Action::Purchase { plan }),
            1 => any::<bool>().prop_map(|invalid| Action::Patch { invalid }),
        ];
        let op =
            (org, proptest::bool::weighted(0.1), action).prop_map(|(org, meridian, action)| {
                // Children are registered with Skyline's key only, so each belongs to Skyline.
                let meridian = meridian && !matches!(action, Action::Register { .. });
                ArcheraOp {
                    org,
                    meridian,
                    action,
                }
            });
        proptest::collection::vec(op, 1..10).boxed()
    }

    fn operation_id(op: &ArcheraOp) -> &'static str {
        match op.action {
            Action::Start => "startOnboarding",
            Action::Template => "getAwsCloudformationTemplate",
            Action::LaunchUrl => "getAwsLaunchStackUrl",
            Action::VerifyAws { .. } => "verifyAwsOnboarding",
            Action::AzureAuthUrl => "getAzureAuthUrl",
            Action::VerifyAzure => "verifyAzureOnboarding",
            Action::Register { .. } => "registerChildOrg",
            Action::ListChildren => "listChildOrgs",
            Action::Recommended { .. } => "getRecommendedPurchasePlan",
            Action::Purchase { .. } => "purchasePlan",
            Action::Patch { .. } => "updatePartnerOrg",
        }
    }

    fn primary_identity(op: &ArcheraOp) -> bool {
        !op.meridian
    }

    fn model(prior: Prior) -> ArcheraModel {
        // What a case or another client can change is unknown on a target no one resets.
        let changeable = (prior == Prior::Seeded).then_some(false);
        ArcheraModel {
            prior,
            aws: BTreeMap::from([
                (Org::Northwind, Some(true)),
                (Org::Contoso, changeable),
                (Org::Harbor, changeable),
            ]),
            azure: BTreeMap::from([
                (Org::Contoso, Some(true)),
                (Org::Northwind, changeable),
                (Org::Harbor, changeable),
            ]),
            bought: (0..4).map(|plan| (plan, changeable)).collect(),
            registered: BTreeSet::new(),
            started: BTreeSet::new(),
            companies: [0].into(),
        }
    }

    fn request(case: &Case, steps: &[Step<ArcheraOp>], index: usize) -> Request {
        let op = &steps[index].op;
        let org = Self::org_segment(steps, index);
        let key = if op.meridian {
            "archera_understudy_meridian"
        } else {
            "archera_understudy_test"
        };
        let at = |method, path: String| {
            Request::new(
                Self::operation_id(op),
                method,
                format!("/v2/org/{org}/partners{path}"),
            )
            .header("x-api-key", key)
        };
        match &op.action {
            Action::Start => at("POST", "/onboarding/start".into()),
            Action::Template => at("GET", "/onboarding/aws/cloudformation_template".into()),
            Action::LaunchUrl => at("GET", "/onboarding/aws/launch-stack-url".into()),
            Action::VerifyAws {
                onboarding,
                account,
            } => {
                let mut body = json!({});
                let id = match onboarding {
                    Onboarding::Started => Some(match Self::latest_start(steps, index) {
                        Some(step) => format!("{{@{step}/onboarding_id}}"),
                        None => UNKNOWN_ONBOARDING.into(),
                    }),
                    Onboarding::Seeded => Some(NORTHWIND_ONBOARDING.into()),
                    Onboarding::Unknown => Some(UNKNOWN_ONBOARDING.into()),
                    Onboarding::Omitted => None,
                };
                if let Some(id) = id {
                    body["onboarding_id"] = json!(id);
                }
                if let Some(bound) = account {
                    body["account_id"] =
                        json!(if *bound { NORTHWIND_ACCOUNT } else { OTHER_ACCOUNT });
                }
                at("POST", "/onboarding/aws/verify".into()).json(body)
            }
            Action::AzureAuthUrl => at("GET", "/onboarding/azure/auth-url".into()).json(json!({
                "azure_tenant_id": "4d2c8e1a-7b3f-4a6e-9c5d-1e2f3a4b5c6d",
                "azure_subscription_id": "9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d",
            })),
            Action::VerifyAzure => at("POST", "/onboarding/azure/verify".into()),
            Action::Register { company } => {
                let company = match company {
                    0 => COMPANIES[0].to_string(),
                    c => case.unique(COMPANIES[usize::from(*c)]),
                };
                at("POST", "/onboarding/register_child".into())
                    .json(json!({"company": company, "email": "owner@example.com"}))
            }
            Action::ListChildren => at("GET", "/onboarding/child-orgs".into()),
            Action::Recommended { provider } => {
                at("GET", "/purchase-plans-v2/recommended".into())
                    .query("provider", PROVIDERS[usize::from(*provider)])
            }
            Action::Purchase { plan } => {
                let (_, plan) = PLANS[usize::from(*plan)];
                at("POST", format!("/purchase-plans-v2/{plan}/purchase"))
                    .json(json!({"email": "buyer@example.com"}))
            }
            Action::Patch { invalid } => at("PATCH", String::new()).json(json!({
                "aws_marketplace_offer_link": if *invalid { "ftp://offers.example/x" } else { "https://aws.amazon.com/marketplace/pp/prodview-contract" }
            })),
        }
    }

    fn refused_early(
        model: &ArcheraModel,
        steps: &[Step<ArcheraOp>],
        index: usize,
    ) -> Option<(Stage, u16)> {
        // A path segment that is no UUID matches no Flask route: 404 before anything is read.
        if model.resolved(Self::org_of(steps, index)).is_none() {
            return Some((Stage::Parameters, 404));
        }
        match steps[index].op.action {
            Action::Recommended { provider: 4 } => Some((Stage::Parameters, 422)),
            _ => None,
        }
    }

    fn predict(model: &mut ArcheraModel, steps: &[Step<ArcheraOp>], index: usize) -> Prediction {
        if let Some((_, status)) = Self::refused_early(model, steps, index) {
            return Prediction::Known(status);
        }
        let op = &steps[index].op;
        let org = Self::org_of(steps, index);
        let known = Prediction::Known;
        // The body's schema: an onboarding id taken from a start that answered none is no UUID.
        if let Action::VerifyAws {
            onboarding: Onboarding::Started,
            ..
        } = op.action
            && Self::latest_start(steps, index).is_some_and(|s| !model.started.contains(&s))
        {
            return known(422);
        }
        if let Some(status) = ArcheraModel::access(org, op.meridian, partner_scope(&op.action)) {
            return known(status);
        }
        let prior = model.prior;
        match &op.action {
            Action::Start => {
                model.aws.insert(org, Some(true));
                model.started.insert(index);
                known(200)
            }
            Action::Template | Action::LaunchUrl => known(200),
            Action::VerifyAws {
                onboarding,
                account,
            } => {
                let record = model.aws.get(&org).copied().unwrap_or(Some(false));
                let found = match onboarding {
                    Onboarding::Started => Self::latest_start(steps, index).map(|_| true),
                    Onboarding::Seeded => Some(org == Org::Northwind),
                    Onboarding::Unknown => Some(false),
                    Onboarding::Omitted => match record {
                        Some(true) => Some(true),
                        Some(false) => return known(409),
                        None => {
                            return Prediction::Unknown(
                                "whether the organisation's AWS onboarding was started before the case",
                            );
                        }
                    },
                };
                if found != Some(true) {
                    return known(404);
                }
                // Northwind is bound to its deployed account: another one is refused.
                if org == Org::Northwind && *account == Some(false) {
                    return known(409);
                }
                known(200)
            }
            Action::AzureAuthUrl => {
                // No consent is ever granted in these cases, so the record may always change.
                model.azure.insert(org, Some(true));
                known(200)
            }
            Action::VerifyAzure => match model.azure.get(&org).copied().unwrap_or(Some(false)) {
                Some(true) => known(200),
                Some(false) => known(409),
                None => Prediction::Unknown(
                    "whether the organisation's Azure consent was requested before the case",
                ),
            },
            Action::Register { company } => {
                if org == Org::Partner && model.companies.insert(*company) {
                    model.registered.insert(index);
                    known(200)
                } else {
                    known(409)
                }
            }
            Action::ListChildren => Prediction::listing(
                prior,
                200,
                "the listing shows children registered before the case",
            ),
            Action::Recommended { provider } => match (org, provider) {
                // The plan's status shows whether it was bought.
                (Org::Northwind, 0) | (Org::Contoso, 1) | (Org::Harbor, 0) => Prediction::listing(
                    prior,
                    200,
                    "the plan shows whether it was bought before the case",
                ),
                (Org::Contoso, 2) => known(409),
                _ => known(404),
            },
            Action::Purchase { plan } => match plan {
                2 => known(409),
                3 => known(404),
                _ => match model.bought.insert(*plan, Some(true)).flatten() {
                    Some(true) => known(409),
                    Some(false) => known(200),
                    None => {
                        Prediction::Unknown("whether the seeded plan was bought before the case")
                    }
                },
            },
            Action::Patch { invalid: true } => known(422),
            Action::Patch { invalid: false } => Prediction::listing(
                prior,
                200,
                "the partner's other offer links may have been changed before the case",
            ),
        }
    }

    fn canonical() -> Vec<ArcheraOp> {
        let op = |org, action| ArcheraOp {
            org,
            meridian: false,
            action,
        };
        vec![
            op(
                Org::Contoso,
                Action::VerifyAws {
                    onboarding: Onboarding::Seeded,
                    account: Some(false),
                },
            ),
            op(Org::Northwind, Action::Purchase { plan: 0 }),
            op(Org::Northwind, Action::Purchase { plan: 0 }),
            op(Org::Contoso, Action::Purchase { plan: 1 }),
            op(Org::Contoso, Action::Start),
            op(Org::Contoso, Action::Start),
            op(
                Org::Contoso,
                Action::VerifyAws {
                    onboarding: Onboarding::Started,
                    account: Some(false),
                },
            ),
            op(Org::Contoso, Action::VerifyAzure),
            op(Org::Partner, Action::Patch { invalid: false }),
            op(Org::Partner, Action::Patch { invalid: true }),
            op(Org::Meridian, Action::ListChildren),
        ]
    }

    fn normalisation() -> Normalisation {
        Normalisation {
            ids: &["onboarding_id", "id", "external_id", "url"],
            opaque: &[
                "created_at",
                "updated_at",
                "timestamp",
                "last_modified",
                "creation_time",
            ],
            present_headers: &["location"],
        }
    }
}
