//! Enhance: customers under organisations (roles, duplicate names), reseller quotas, listings.

use proptest::prelude::*;
use serde_json::json;
use understudy::VendorId;

use crate::exchange::Request;
use crate::normalise::Normalisation;
use crate::scenario::Scenario;

const MO: &str = "00000000-0000-4000-8000-000000000001";
const RESELLER: &str = "00000000-0000-4000-8000-000000000002";
const BAKERY: &str = "00000000-0000-4000-8000-000000000005";
const NAMES: [&str; 3] = ["Acme Widgets Ltd", "Contract Co", "Contract Two"];

/// One Enhance operation.
#[derive(Clone, Debug)]
pub enum EnhanceOp {
    /// List the MO's customers.
    List {
        /// `recursive=true`.
        recursive: bool,
        /// `sortOrder=desc`.
        descending: bool,
        /// `limit`.
        limit: Option<u8>,
    },
    /// Create a customer under the MO.
    CreateCustomer {
        /// As the member role (403) instead of the Owner.
        member: bool,
        /// Name pool index (0 is taken).
        name: u8,
    },
    /// The reseller sells plan 3 or 4 to its bakery.
    Sell {
        /// Plan 4 (always beyond the quota) instead of 3.
        big: bool,
    },
    /// The reseller's subscriptions, with their usage.
    ResellerSubscriptions,
}

/// The reference model: names taken under the MO, sales of plan 3 against the reseller's quota.
#[derive(Debug)]
pub struct EnhanceModel {
    taken_names: std::collections::BTreeSet<u8>,
    sales: u8,
}

impl Default for EnhanceModel {
    fn default() -> Self {
        EnhanceModel {
            // Pool index 0 is the seeded Acme Widgets Ltd.
            taken_names: [0].into(),
            sales: 0,
        }
    }
}

/// How many plan-3 sales fit in reseller subscription 2: 20 mailboxes with 5 used, 5 per sale
/// (websites allow 4 more sales and storage 9, so mailboxes bind first).
const PLAN_3_SALES_IN_QUOTA: u8 = 3;

/// Enhance's scenarios.
pub struct Enhance;

impl Scenario for Enhance {
    type Op = EnhanceOp;
    type Model = EnhanceModel;
    const VENDOR: VendorId = VendorId::Enhance;

    fn operations() -> BoxedStrategy<Vec<EnhanceOp>> {
        let op = prop_oneof![
            (any::<bool>(), any::<bool>(), proptest::option::of(1u8..3)).prop_map(
                |(recursive, descending, limit)| EnhanceOp::List {
                    recursive,
                    descending,
                    limit
                }
            ),
            (proptest::bool::weighted(0.3), 0u8..3)
                .prop_map(|(member, name)| EnhanceOp::CreateCustomer { member, name }),
            proptest::bool::weighted(0.3).prop_map(|big| EnhanceOp::Sell { big }),
            Just(EnhanceOp::ResellerSubscriptions),
        ];
        proptest::collection::vec(op, 1..8).boxed()
    }

    fn request(ops: &[EnhanceOp], index: usize) -> Request {
        let owner = "Bearer enhance_understudy_test";
        match &ops[index] {
            EnhanceOp::List {
                recursive,
                descending,
                limit,
            } => {
                let mut r = Request::new("getOrgCustomers", "GET", format!("/orgs/{MO}/customers"))
                    .header("Authorization", owner);
                if *recursive {
                    r = r.query("recursive", "true");
                }
                if *descending {
                    r = r.query("sortOrder", "desc");
                }
                if let Some(limit) = limit {
                    r = r.query("limit", limit.to_string());
                }
                r
            }
            EnhanceOp::CreateCustomer { member, name } => {
                let r = Request::new("createCustomer", "POST", format!("/orgs/{MO}/customers"));
                let r = if *member {
                    r.header("Cookie", "id0=enhance_understudy_member")
                } else {
                    r.header("Authorization", owner)
                };
                r.json(json!({"name": NAMES[usize::from(*name)]}))
            }
            EnhanceOp::Sell { big } => Request::new(
                "createCustomerSubscription",
                "POST",
                format!("/orgs/{RESELLER}/customers/{BAKERY}/subscriptions"),
            )
            .header("Authorization", "Bearer enhance_understudy_reseller")
            .json(json!({"planId": if *big { 4 } else { 3 }})),
            EnhanceOp::ResellerSubscriptions => Request::new(
                "getCustomerSubscriptions",
                "GET",
                format!("/orgs/{MO}/customers/{RESELLER}/subscriptions"),
            )
            .header("Authorization", owner),
        }
    }

    fn predict(model: &mut EnhanceModel, ops: &[EnhanceOp], index: usize) -> Option<u16> {
        Some(match &ops[index] {
            EnhanceOp::List { .. } | EnhanceOp::ResellerSubscriptions => 200,
            EnhanceOp::CreateCustomer { member: true, .. } => 403,
            EnhanceOp::CreateCustomer { name, .. } => {
                if model.taken_names.insert(*name) {
                    201
                } else {
                    409
                }
            }
            EnhanceOp::Sell { big: true } => 409,
            EnhanceOp::Sell { big: false } => {
                if model.sales < PLAN_3_SALES_IN_QUOTA {
                    model.sales += 1;
                    201
                } else {
                    409
                }
            }
        })
    }

    fn canonical() -> Vec<EnhanceOp> {
        use EnhanceOp::{CreateCustomer, List, ResellerSubscriptions, Sell};
        vec![
            List {
                recursive: false,
                descending: false,
                limit: None,
            },
            CreateCustomer {
                member: false,
                name: 1,
            },
            CreateCustomer {
                member: false,
                name: 1,
            },
            CreateCustomer {
                member: false,
                name: 0,
            },
            CreateCustomer {
                member: true,
                name: 2,
            },
            List {
                recursive: true,
                descending: true,
                limit: Some(2),
            },
            Sell { big: false },
            Sell { big: false },
            Sell { big: false },
            Sell { big: false },
            Sell { big: true },
            ResellerSubscriptions,
        ]
    }

    fn normalisation() -> Normalisation {
        Normalisation {
            ids: &["id"],
            opaque: &["createdAt", "updatedAt"],
            present_headers: &["location"],
        }
    }
}
