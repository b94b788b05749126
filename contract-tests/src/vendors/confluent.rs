//! Confluent: signups with new or registered entitlements, activation once, single-use tokens.

use proptest::prelude::*;
use serde_json::json;
use understudy::VendorId;

use crate::exchange::Request;
use crate::normalise::Normalisation;
use crate::scenario::Scenario;

const AUTH: &str = "Bearer confluent_understudy_test";
const INCOMPLETE: &str = "3f9d2b6e-81c4-4e0a-b5d7-6a2e9c1f0b48";
const COMPLETE: &str = "8c41e0d7-3a9b-4f25-9e6c-1d7b2a5f3e90";
const TOKENS: [&str; 2] = ["confluent_link_understudy", "confluent_link_used"];

/// One Confluent operation.
#[derive(Clone, Debug)]
pub enum ConfluentOp {
    /// `POST /signup` with a new entitlement (external id from a small pool).
    Signup {
        /// External id pool index; 3 is the seeded, already billing `initech-0001`.
        external: u8,
        /// With the first user (the signup completes).
        with_user: bool,
        /// `?dry_run=true`.
        dry_run: bool,
    },
    /// `POST /signup/activate` of the seeded incomplete or complete organization.
    Activate {
        /// The seeded complete organization instead of the incomplete one.
        complete: bool,
    },
    /// `POST /signup/link` with a seeded token (0 unused, 1 used).
    Link {
        /// Token index.
        token: u8,
        /// External id pool index.
        external: u8,
        /// `?dry_run=true`.
        dry_run: bool,
    },
}

/// The reference model: external ids billing an organization, the seeded incomplete
/// organization's activation, the seeded unused token's use. Dry runs change nothing.
#[derive(Debug)]
pub struct ConfluentModel {
    taken_external_ids: std::collections::BTreeSet<u8>,
    activated: bool,
    token_used: bool,
}

impl Default for ConfluentModel {
    fn default() -> Self {
        ConfluentModel {
            // Pool index 3 is the seeded `initech-0001`, billing Initech from the start.
            taken_external_ids: [3].into(),
            activated: false,
            token_used: false,
        }
    }
}

/// Confluent's scenarios.
pub struct Confluent;

fn external_id(index: u8) -> String {
    if index == 3 {
        "initech-0001".into()
    } else {
        format!("contract-{index}")
    }
}

fn entitlement(index: u8) -> serde_json::Value {
    json!({"external_id": external_id(index), "name": "Plan", "plan_id": "confluent-cloud-payg-prod", "product_id": "confluent-cloud-kafka-service-azure"})
}

fn sso() -> serde_json::Value {
    json!({"kind": "AzureSSOConfig", "tenant_id": "0c6f1e7a-2d4b-4a8e-9f31-7b5d2c9e8a14"})
}

fn user() -> serde_json::Value {
    json!({"given_name": "Ada", "family_name": "Lovelace", "email": "ada@example.com"})
}

impl Scenario for Confluent {
    type Op = ConfluentOp;
    type Model = ConfluentModel;
    const VENDOR: VendorId = VendorId::Confluent;

    fn operations() -> BoxedStrategy<Vec<ConfluentOp>> {
        let op = prop_oneof![
            (0u8..4, any::<bool>(), any::<bool>()).prop_map(|(external, with_user, dry_run)| {
                ConfluentOp::Signup {
                    external,
                    with_user,
                    dry_run,
                }
            }),
            any::<bool>().prop_map(|complete| ConfluentOp::Activate { complete }),
            (0u8..2, 0u8..4, any::<bool>()).prop_map(|(token, external, dry_run)| {
                ConfluentOp::Link {
                    token,
                    external,
                    dry_run,
                }
            }),
        ];
        proptest::collection::vec(op, 1..8).boxed()
    }

    fn request(ops: &[ConfluentOp], index: usize) -> Request {
        let base = Request::new("", "POST", "").header("Authorization", AUTH);
        let dry = |r: Request, dry_run: bool| {
            if dry_run {
                r.query("dry_run", "true")
            } else {
                r
            }
        };
        match &ops[index] {
            ConfluentOp::Signup { external, with_user, dry_run } => {
                let mut body = json!({"organization": {"name": "Acme Streaming", "sso_config": sso()}, "entitlement": entitlement(*external)});
                if *with_user {
                    body["user"] = user();
                }
                dry(Request { operation_id: "signup", path: "/partner/v2/signup".into(), ..base }, *dry_run).json(body)
            }
            ConfluentOp::Activate { complete } => Request { operation_id: "activateSignup", path: "/partner/v2/signup/activate".into(), ..base }
                .json(json!({"organization_id": if *complete { COMPLETE } else { INCOMPLETE }, "user": user()})),
            ConfluentOp::Link { token, external, dry_run } => dry(
                Request { operation_id: "signupPartnerV2Link", path: "/partner/v2/signup/link".into(), ..base },
                *dry_run,
            )
            .json(json!({"token": TOKENS[usize::from(*token)], "organization": {"sso_config": sso()}, "entitlement": entitlement(*external)})),
        }
    }

    fn predict(model: &mut ConfluentModel, ops: &[ConfluentOp], index: usize) -> Option<u16> {
        Some(match &ops[index] {
            ConfluentOp::Activate { complete: true } => 409,
            ConfluentOp::Activate { complete: false } => {
                if std::mem::replace(&mut model.activated, true) {
                    409
                } else {
                    201
                }
            }
            ConfluentOp::Signup {
                external, dry_run, ..
            } => {
                if model.taken_external_ids.contains(external) {
                    409
                } else {
                    if !dry_run {
                        model.taken_external_ids.insert(*external);
                    }
                    201
                }
            }
            // The token is checked before the entitlement.
            ConfluentOp::Link {
                token,
                external,
                dry_run,
            } => {
                if *token == 1 || model.token_used {
                    400
                } else if model.taken_external_ids.contains(external) {
                    409
                } else {
                    if !dry_run {
                        model.token_used = true;
                        model.taken_external_ids.insert(*external);
                    }
                    201
                }
            }
        })
    }

    fn canonical() -> Vec<ConfluentOp> {
        use ConfluentOp::{Activate, Link, Signup};
        vec![
            Signup {
                external: 0,
                with_user: false,
                dry_run: false,
            },
            Signup {
                external: 0,
                with_user: true,
                dry_run: false,
            },
            Signup {
                external: 1,
                with_user: true,
                dry_run: true,
            },
            Signup {
                external: 3,
                with_user: true,
                dry_run: false,
            },
            Activate { complete: false },
            Activate { complete: false },
            Activate { complete: true },
            Link {
                token: 0,
                external: 2,
                dry_run: true,
            },
            Link {
                token: 0,
                external: 2,
                dry_run: false,
            },
            Link {
                token: 0,
                external: 1,
                dry_run: false,
            },
            Link {
                token: 1,
                external: 1,
                dry_run: false,
            },
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
