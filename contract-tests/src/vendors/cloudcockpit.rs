//! CloudCockpit: relationship-acceptance links, reseller scoping, echoed correlation ids.

use proptest::prelude::*;
use understudy::VendorId;

use crate::exchange::Request;
use crate::normalise::Normalisation;
use crate::scenario::Scenario;

const CUSTOMERS: [&str; 4] = [
    "5b0e6a52-3c1f-4f0e-9d47-2a9c8e1f7b30",
    "6c1f7b63-4d20-4a1f-8e58-3b0d9f2a8c41",
    "7d2a8c74-5e31-4b2a-9f69-4c1e0a3b9d52",
    "not-a-guid",
];
const RESELLERS: [&str; 2] = [
    "b7e3c9a1-2d4f-4a6b-8c0e-1f3a5b7d9e2c",
    "c8f4d0b2-3e5a-4b7c-9d1f-2a4c6e8b0d3f",
];

/// One CloudCockpit request.
#[derive(Clone, Debug)]
pub struct CloudCockpitOp {
    /// The reseller token instead of the CSP's.
    pub as_reseller: bool,
    /// Customer pool index (3 is a malformed GUID).
    pub customer: u8,
    /// `resellerId` pool index.
    pub reseller: Option<u8>,
    /// Send an `X-Correlation-Id`.
    pub correlation: bool,
}

/// CloudCockpit's scenarios; the model is stateless (the operation only reads).
pub struct CloudCockpit;

impl Scenario for CloudCockpit {
    type Op = CloudCockpitOp;
    type Model = ();
    const VENDOR: VendorId = VendorId::Cloudcockpit;

    fn operations() -> BoxedStrategy<Vec<CloudCockpitOp>> {
        let op = (
            any::<bool>(),
            0u8..4,
            proptest::option::of(0u8..2),
            any::<bool>(),
        )
            .prop_map(
                |(as_reseller, customer, reseller, correlation)| CloudCockpitOp {
                    as_reseller,
                    customer,
                    reseller,
                    correlation,
                },
            );
        proptest::collection::vec(op, 1..5).boxed()
    }

    fn request(ops: &[CloudCockpitOp], index: usize) -> Request {
        let op = &ops[index];
        let token = if op.as_reseller {
            "cloudcockpit_understudy_reseller"
        } else {
            "cloudcockpit_understudy_test"
        };
        let mut request = Request::new(
            "getCustomerRelationshipAcceptance",
            "GET",
            "/v1/Customers/relationship-acceptance",
        )
        .header("Authorization", format!("Bearer {token}"))
        .header("X-Tenant", "understudy.example")
        .query("providerInstanceId", CUSTOMERS[usize::from(op.customer)]);
        if let Some(r) = op.reseller {
            request = request.query("resellerId", RESELLERS[usize::from(r)]);
        }
        if op.correlation {
            request = request.header("X-Correlation-Id", "0d1e2f3a-4b5c-4d6e-8f70-8192a3b4c5d6");
        }
        request
    }

    fn predict(_: &mut (), ops: &[CloudCockpitOp], index: usize) -> Option<u16> {
        let op = &ops[index];
        // Pool indexes: customer 1 (Tailspin) is Contoso's, 3 is malformed; reseller 0 is Contoso.
        Some(match (op.customer, op.as_reseller, op.reseller) {
            (3, _, _) => 400,
            (_, true, Some(1)) => 403,
            (1, true, _) | (_, false, _) => 200,
            (_, true, _) => 404,
        })
    }

    fn canonical() -> Vec<CloudCockpitOp> {
        let op = |as_reseller, customer, reseller, correlation| CloudCockpitOp {
            as_reseller,
            customer,
            reseller,
            correlation,
        };
        vec![
            op(false, 0, None, false),
            op(false, 2, Some(1), true),
            op(true, 1, None, false),
            op(true, 0, None, true),
            op(true, 2, Some(1), false),
            op(false, 3, None, true),
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
