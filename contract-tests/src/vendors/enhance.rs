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

/// Enhance's scenarios (no model yet: spec and agreement checks only).
pub struct Enhance;

impl Scenario for Enhance {
    type Op = EnhanceOp;
    type Model = ();
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

    fn predict(_: &mut (), ops: &[EnhanceOp], index: usize) -> Option<u16> {
        match &ops[index] {
            EnhanceOp::CreateCustomer { member: true, .. } => Some(403),
            EnhanceOp::Sell { big: true } => Some(409),
            EnhanceOp::List { .. } | EnhanceOp::ResellerSubscriptions => Some(200),
            _ => None,
        }
    }

    fn normalisation() -> Normalisation {
        Normalisation {
            ids: &["id"],
            opaque: &["createdAt", "updatedAt"],
            present_headers: &["location"],
        }
    }
}
