//! CloudCockpit: relationship-acceptance links, reseller scoping, the tenant header, echoed
//! correlation ids, and every caller the seeded world knows (CSP, reseller, a role without the
//! operation, a CSP of another tenant).

use proptest::prelude::*;
use understudy::VendorId;

use crate::exchange::{Exchange, Request};
use crate::normalise::Normalisation;
use crate::scenario::{Case, Prediction, Prior, Refusals, Scenario, Stage, Step};

/// `providerInstanceId` pool: Northwind (the CSP's own), Tailspin (Contoso's), Wingtip
/// (Fabrikam's), a malformed GUID, a GUID of no customer, Litware (the other tenant's).
const CUSTOMERS: [&str; 6] = [
    "5b0e6a52-3c1f-4f0e-9d47-2a9c8e1f7b30",
    "6c1f7b63-4d20-4a1f-8e58-3b0d9f2a8c41",
    "7d2a8c74-5e31-4b2a-9f69-4c1e0a3b9d52",
    "not-a-guid",
    "0f0e0d0c-0b0a-4909-8807-060504030201",
    "8e3b9d85-6f42-4c3b-8a7a-5d2f1b4c0e63",
];
/// `resellerId` pool: Contoso, Fabrikam, a GUID of no reseller, a malformed GUID.
const RESELLERS: [&str; 4] = [
    "b7e3c9a1-2d4f-4a6b-8c0e-1f3a5b7d9e2c",
    "c8f4d0b2-3e5a-4b7c-9d1f-2a4c6e8b0d3f",
    "1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d",
    "reseller-x",
];
const MALFORMED_CUSTOMER: u8 = 3;
const MALFORMED_RESELLER: u8 = 3;
const LITWARE: u8 = 5;

/// The (property, message) pairs a 400 to `op` lists: each malformed or missing query
/// parameter, and `X-Tenant` when it is missing (the correlation header's entry is not checked).
fn expected_messages(op: &CloudCockpitOp) -> Vec<(&'static str, String)> {
    let not_valid = |value: &str| format!("The value '{value}' is not valid.");
    let required = |name: &str| format!("The {name} field is required.");
    let mut expected = Vec::new();
    match op.customer {
        None => expected.push(("providerInstanceId", required("providerInstanceId"))),
        Some(MALFORMED_CUSTOMER) => expected.push((
            "providerInstanceId",
            not_valid(CUSTOMERS[usize::from(MALFORMED_CUSTOMER)]),
        )),
        Some(_) => {}
    }
    if op.reseller == Some(MALFORMED_RESELLER) {
        let value = RESELLERS[usize::from(MALFORMED_RESELLER)];
        expected.push(("resellerId", not_valid(value)));
    }
    if op.tenant == TenantHeader::Missing {
        expected.push(("X-Tenant", required("X-Tenant")));
    }
    expected
}

/// Who calls.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Caller {
    /// The CSP of `understudy.example`.
    Csp,
    /// Contoso, a reseller of that tenant.
    Reseller,
    /// A caller in the `customer` role, which the operation is not available to.
    CustomerRole,
    /// The CSP of `other-csp.example`.
    OtherCsp,
}

/// What the `X-Tenant` header says.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TenantHeader {
    /// `understudy.example`.
    Ours,
    /// `other-csp.example`.
    Other,
    /// A domain of no tenant.
    Unknown,
    /// No header.
    Missing,
}

/// What the `X-Correlation-Id` header says.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Correlation {
    /// No header.
    Absent,
    /// A GUID, echoed in error bodies.
    Valid,
    /// Not a GUID (400).
    Malformed,
}

/// One CloudCockpit request.
#[derive(Clone, Debug)]
pub struct CloudCockpitOp {
    /// The caller.
    pub caller: Caller,
    /// The tenant header.
    pub tenant: TenantHeader,
    /// Customer pool index; `None` leaves the required `providerInstanceId` out.
    pub customer: Option<u8>,
    /// `resellerId` pool index.
    pub reseller: Option<u8>,
    /// The correlation header.
    pub correlation: Correlation,
}

/// CloudCockpit's scenarios; the model is stateless (the operation only reads).
pub struct CloudCockpit;

impl Scenario for CloudCockpit {
    type Op = CloudCockpitOp;
    type Model = ();
    const VENDOR: VendorId = VendorId::Cloudcockpit;
    const REFUSALS: Refusals = Refusals {
        unauthenticated: 401,
        wrong_scheme: Some(401),
        malformed: 400,
        invalid: 400,
        oversized: None,
        credential_headers: &["authorization"],
    };

    fn operations() -> BoxedStrategy<Vec<CloudCockpitOp>> {
        let caller = prop_oneof![
            4 => Just(Caller::Csp),
            4 => Just(Caller::Reseller),
            1 => Just(Caller::CustomerRole),
            1 => Just(Caller::OtherCsp),
        ];
        let tenant = prop_oneof![
            8 => Just(TenantHeader::Ours),
            1 => Just(TenantHeader::Other),
            1 => Just(TenantHeader::Unknown),
            1 => Just(TenantHeader::Missing),
        ];
        let correlation = prop_oneof![
            4 => Just(Correlation::Absent),
            4 => Just(Correlation::Valid),
            1 => Just(Correlation::Malformed),
        ];
        let op = (
            caller,
            tenant,
            proptest::option::weighted(0.95, 0u8..6),
            proptest::option::of(0u8..4),
            correlation,
        )
            .prop_map(
                |(caller, tenant, customer, reseller, correlation)| CloudCockpitOp {
                    caller,
                    tenant,
                    customer,
                    reseller,
                    correlation,
                },
            );
        proptest::collection::vec(op, 1..5).boxed()
    }

    fn operation_id(_: &CloudCockpitOp) -> &'static str {
        "getCustomerRelationshipAcceptance"
    }

    fn primary_identity(op: &CloudCockpitOp) -> bool {
        op.caller == Caller::Csp
    }

    fn model(_: Prior) {}

    fn request(_: &Case, steps: &[Step<CloudCockpitOp>], index: usize) -> Request {
        let op = &steps[index].op;
        let token = match op.caller {
            Caller::Csp => "cloudcockpit_understudy_test",
            Caller::Reseller => "cloudcockpit_understudy_reseller",
            Caller::CustomerRole => "cloudcockpit_understudy_customer",
            Caller::OtherCsp => "cloudcockpit_other_csp",
        };
        let mut request = Request::new(
            "getCustomerRelationshipAcceptance",
            "GET",
            "/v1/Customers/relationship-acceptance",
        )
        .header("Authorization", format!("Bearer {token}"));
        let tenant = match op.tenant {
            TenantHeader::Ours => Some("understudy.example"),
            TenantHeader::Other => Some("other-csp.example"),
            TenantHeader::Unknown => Some("nobody.example"),
            TenantHeader::Missing => None,
        };
        if let Some(tenant) = tenant {
            request = request.header("X-Tenant", tenant);
        }
        if let Some(c) = op.customer {
            request = request.query("providerInstanceId", CUSTOMERS[usize::from(c)]);
        }
        if let Some(r) = op.reseller {
            request = request.query("resellerId", RESELLERS[usize::from(r)]);
        }
        match op.correlation {
            Correlation::Absent => {}
            Correlation::Valid => {
                request = request.header("X-Correlation-Id", "0d1e2f3a-4b5c-4d6e-8f70-8192a3b4c5d6")
            }
            Correlation::Malformed => request = request.header("X-Correlation-Id", "corr-1"),
        }
        request
    }

    fn refused_early(_: &(), steps: &[Step<CloudCockpitOp>], index: usize) -> Option<(Stage, u16)> {
        let op = &steps[index].op;
        if op.caller == Caller::CustomerRole {
            return Some((Stage::Credentials, 403));
        }
        let malformed = op.customer.is_none()
            || op.customer == Some(MALFORMED_CUSTOMER)
            || op.reseller == Some(MALFORMED_RESELLER)
            || op.correlation == Correlation::Malformed;
        malformed.then_some((Stage::Parameters, 400))
    }

    fn predict(_: &mut (), steps: &[Step<CloudCockpitOp>], index: usize) -> Prediction {
        // The checks in the vendor's order: the role (authentication), the parameters, then the
        // tenant, the token's tenant, the reseller and the customer.
        if let Some((_, status)) = Self::refused_early(&(), steps, index) {
            return Prediction::Known(status);
        }
        let op = &steps[index].op;
        let status = match (op.tenant, op.caller) {
            (TenantHeader::Missing, _) => 400,
            (TenantHeader::Unknown, _) => 404,
            (TenantHeader::Ours, Caller::OtherCsp) => 403,
            (TenantHeader::Other, Caller::Csp | Caller::Reseller) => 403,
            // The other tenant has no resellers and one customer, Litware.
            (TenantHeader::Other, _) => match (op.reseller, op.customer) {
                (Some(_), _) => 404,
                (None, Some(LITWARE)) => 200,
                _ => 404,
            },
            (TenantHeader::Ours, Caller::Reseller) => match (op.reseller, op.customer) {
                // Contoso may name only itself; it serves only Tailspin.
                (Some(r), _) if r != 0 => 403,
                (_, Some(1)) => 200,
                _ => 404,
            },
            (TenantHeader::Ours, _) => match (op.reseller, op.customer) {
                (Some(2), _) => 404,
                (_, Some(0..=2)) => 200,
                _ => 404,
            },
        };
        Prediction::Known(status)
    }

    /// A 400 lists each offending property with ASP.NET's message, as the spec's `BadRequest`
    /// says: "The value '…' is not valid." for a malformed GUID, "The … field is required." for
    /// a missing parameter or `X-Tenant`.
    fn check(
        _: &(),
        steps: &[Step<CloudCockpitOp>],
        index: usize,
        exchange: &Exchange,
    ) -> Result<(), String> {
        if exchange.status != 400 {
            return Ok(());
        }
        let errors = exchange.body["errors"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        let missing = expected_messages(&steps[index].op)
            .into_iter()
            .filter(|(property, message)| {
                !errors.iter().any(|e| {
                    e["propertyName"] == *property
                        && e["description"]
                            .as_array()
                            .is_some_and(|d| d.iter().any(|m| m == message))
                })
            })
            .map(|(property, message)| format!("{property}: {message:?}"))
            .collect::<Vec<_>>();
        match missing.is_empty() {
            true => Ok(()),
            false => Err(format!(
                "the 400's errors lack ASP.NET's messages {}",
                missing.join(", ")
            )),
        }
    }

    fn canonical() -> Vec<CloudCockpitOp> {
        let op = |caller, customer, reseller, correlation| CloudCockpitOp {
            caller,
            tenant: TenantHeader::Ours,
            customer: Some(customer),
            reseller,
            correlation: if correlation {
                Correlation::Valid
            } else {
                Correlation::Absent
            },
        };
        vec![
            op(Caller::Csp, 0, None, false),
            op(Caller::Csp, 2, Some(1), true),
            op(Caller::Reseller, 1, None, false),
            op(Caller::Reseller, 0, None, true),
            op(Caller::Reseller, 2, Some(1), false),
            op(Caller::Csp, 3, None, true),
        ]
    }

    fn normalisation() -> Normalisation {
        Normalisation {
            ids: &["correlationId", "traceId", "requestId"],
            opaque: &["timestamp"],
            present_headers: &[],
        }
    }
}
