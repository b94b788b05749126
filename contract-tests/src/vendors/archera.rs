//! Archera: onboarding (idempotent start, verification), plan purchase once, partner patch.

use proptest::prelude::*;
use serde_json::json;
use understudy::VendorId;

use crate::exchange::Request;
use crate::normalise::Normalisation;
use crate::scenario::Scenario;

const PARTNER: &str = "6f1c2a3b-4d5e-4f60-8a7b-9c0d1e2f3a4b";
const MERIDIAN: &str = "0a9b8c7d-6e5f-4a3b-9c2d-1e0f2a3b4c5d";
const NORTHWIND: &str = "b7e4c1d2-6a3f-4b8e-9c5d-2f1a0e7b3c96";
const CONTOSO: &str = "2b4d6f8a-0c1e-4a3b-9d5f-7e8a9b0c1d2e";
const PLANS: [(&str, &str); 2] = [
    (NORTHWIND, "8c2d1e4f-5a6b-4c7d-8e9f-0a1b2c3d4e5f"),
    (CONTOSO, "3f6c2a9e-8b4d-4e1f-9a7c-5d2b8e0f1a64"),
];

/// One Archera operation.
#[derive(Clone, Debug)]
pub enum ArcheraOp {
    /// Buy a seeded plan.
    Purchase {
        /// Plan pool index.
        plan: u8,
    },
    /// Start AWS onboarding for Contoso.
    Start,
    /// Verify Contoso's AWS onboarding, naming the latest start's onboarding id.
    VerifyAws,
    /// Verify Contoso's Azure consent (requested, not granted).
    VerifyAzure,
    /// Patch the partner's AWS offer link (valid or not an http(s) URL).
    Patch {
        /// An `ftp://` link.
        invalid: bool,
    },
    /// List the children of Meridian, a partner foreign to the key.
    ForeignChildren,
}

/// The reference model: which seeded plans were bought (each can be bought once).
#[derive(Default, Debug)]
pub struct ArcheraModel {
    bought: std::collections::BTreeSet<u8>,
}

/// Archera's scenarios.
pub struct Archera;

impl Scenario for Archera {
    type Op = ArcheraOp;
    type Model = ArcheraModel;
    const VENDOR: VendorId = VendorId::Archera;

    fn operations() -> BoxedStrategy<Vec<ArcheraOp>> {
        let op = prop_oneof![
            (0u8..2).prop_map(|plan| ArcheraOp::Purchase { plan }),
            Just(ArcheraOp::Start),
            Just(ArcheraOp::VerifyAws),
            Just(ArcheraOp::VerifyAzure),
            any::<bool>().prop_map(|invalid| ArcheraOp::Patch { invalid }),
            Just(ArcheraOp::ForeignChildren),
        ];
        proptest::collection::vec(op, 1..8).boxed()
    }

    fn request(ops: &[ArcheraOp], index: usize) -> Request {
        let key = |r: Request| r.header("x-api-key", "archera_understudy_test");
        match &ops[index] {
            ArcheraOp::Purchase { plan } => {
                let (org, plan) = PLANS[usize::from(*plan)];
                key(Request::new("purchasePlan", "POST", format!("/v2/org/{org}/partners/purchase-plans-v2/{plan}/purchase")))
                    .json(json!({"email": "buyer@example.com"}))
            }
            ArcheraOp::Start => key(Request::new("startOnboarding", "POST", format!("/v2/org/{CONTOSO}/partners/onboarding/start"))),
            ArcheraOp::VerifyAws => {
                let started = ops[..index].iter().rposition(|op| matches!(op, ArcheraOp::Start));
                let onboarding = match started {
                    Some(step) => format!("{{@{step}/onboarding_id}}"),
                    None => "7f3a9c1e-5b2d-4e8f-a1c3-9d7e5b3f1a2c".into(),
                };
                key(Request::new("verifyAwsOnboarding", "POST", format!("/v2/org/{CONTOSO}/partners/onboarding/aws/verify")))
                    .json(json!({"onboarding_id": onboarding, "account_id": "210987654321"}))
            }
            ArcheraOp::VerifyAzure => key(Request::new("verifyAzureOnboarding", "POST", format!("/v2/org/{CONTOSO}/partners/onboarding/azure/verify"))),
            ArcheraOp::Patch { invalid } => key(Request::new("updatePartnerOrg", "PATCH", format!("/v2/org/{PARTNER}/partners")))
                .json(json!({"aws_marketplace_offer_link": if *invalid { "ftp://offers.example/x" } else { "https://aws.amazon.com/marketplace/pp/prodview-contract" }})),
            ArcheraOp::ForeignChildren => key(Request::new("listChildOrgs", "GET", format!("/v2/org/{MERIDIAN}/partners/onboarding/child-orgs"))),
        }
    }

    fn predict(model: &mut ArcheraModel, ops: &[ArcheraOp], index: usize) -> Option<u16> {
        Some(match &ops[index] {
            ArcheraOp::Purchase { plan } => {
                if model.bought.insert(*plan) {
                    200
                } else {
                    409
                }
            }
            ArcheraOp::Start | ArcheraOp::VerifyAzure => 200,
            ArcheraOp::VerifyAws => {
                let started = ops[..index].iter().any(|op| matches!(op, ArcheraOp::Start));
                if started { 200 } else { 404 }
            }
            ArcheraOp::Patch { invalid } => {
                if *invalid {
                    422
                } else {
                    200
                }
            }
            ArcheraOp::ForeignChildren => 403,
        })
    }

    fn canonical() -> Vec<ArcheraOp> {
        use ArcheraOp::{ForeignChildren, Patch, Purchase, Start, VerifyAws, VerifyAzure};
        vec![
            VerifyAws,
            Purchase { plan: 0 },
            Purchase { plan: 0 },
            Purchase { plan: 1 },
            Start,
            Start,
            VerifyAws,
            VerifyAzure,
            Patch { invalid: false },
            Patch { invalid: true },
            ForeignChildren,
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
