//! Dub: partners enrolled by email and tenant, links unique by key, upsert by URL.

use std::collections::BTreeSet;

use proptest::prelude::*;
use serde_json::json;
use understudy::VendorId;

use crate::exchange::Request;
use crate::normalise::Normalisation;
use crate::scenario::Scenario;

const AUTH: &str = "Bearer dub_understudy_test";
const PROGRAM: &str = "prog_understudy";

/// Which partner a link request names.
#[derive(Clone, Debug)]
pub enum PartnerRef {
    /// The partner the `k`-th earlier `CreatePartner` created (modulo how many there were), so
    /// most references name a partner that exists.
    Step(usize),
    /// A tenant id, enrolled or not.
    Tenant(u8),
    /// A partner id no one created.
    Unknown,
}

/// One Dub operation.
#[derive(Clone, Debug)]
pub enum DubOp {
    /// `POST /partners`: a small pool of emails, tenants and usernames makes duplicates likely.
    CreatePartner {
        /// Email pool index.
        email: u8,
        /// Tenant pool index.
        tenant: Option<u8>,
        /// Username (= link key) pool index; required by the SDK 0.18.0 contract.
        username: u8,
        /// An unknown program id instead of the seeded one.
        unknown_program: bool,
    },
    /// `POST /partners/links`.
    CreateLink {
        /// The partner.
        partner: PartnerRef,
        /// Key pool index (shared with usernames).
        key: Option<u8>,
        /// A URL outside the program's domain.
        foreign_url: bool,
    },
    /// `PUT /partners/links/upsert` for URL path `path`.
    Upsert {
        /// The partner.
        partner: PartnerRef,
        /// URL path pool index.
        path: u8,
    },
    /// `POST /partners` without the required `name`.
    InvalidPartner,
}

/// The reference model: enrolled emails and tenants, taken keys, created partners, links by URL.
#[derive(Default, Debug)]
pub struct DubModel {
    emails: BTreeSet<u8>,
    tenants: BTreeSet<u8>,
    keys: BTreeSet<u8>,
    partner_steps: BTreeSet<usize>,
}

/// Dub's scenarios.
pub struct Dub;

fn partner_ref() -> impl Strategy<Value = PartnerRef> {
    prop_oneof![
        4 => (0usize..4).prop_map(PartnerRef::Step),
        1 => (0u8..3).prop_map(PartnerRef::Tenant),
        1 => Just(PartnerRef::Unknown),
    ]
}

/// The step a `PartnerRef::Step(k)` at `ops[index]` refers to: the `k`-th earlier create.
fn step_of(ops: &[DubOp], k: usize, index: usize) -> Option<usize> {
    let creates: Vec<usize> = (0..index)
        .filter(|&i| matches!(ops[i], DubOp::CreatePartner { .. }))
        .collect();
    (!creates.is_empty()).then(|| creates[k % creates.len()])
}

impl Scenario for Dub {
    type Op = DubOp;
    type Model = DubModel;
    const VENDOR: VendorId = VendorId::Dub;

    fn operations() -> BoxedStrategy<Vec<DubOp>> {
        let op = prop_oneof![
            4 => (0u8..3, proptest::option::of(0u8..3), 0u8..4, proptest::bool::weighted(0.1))
                .prop_map(|(email, tenant, username, unknown_program)| DubOp::CreatePartner { email, tenant, username, unknown_program }),
            3 => (partner_ref(), proptest::option::of(0u8..4), proptest::bool::weighted(0.15))
                .prop_map(|(partner, key, foreign_url)| DubOp::CreateLink { partner, key, foreign_url }),
            3 => (partner_ref(), 0u8..2).prop_map(|(partner, path)| DubOp::Upsert { partner, path }),
            1 => Just(DubOp::InvalidPartner),
        ];
        proptest::collection::vec(op, 1..8).boxed()
    }

    fn request(ops: &[DubOp], index: usize) -> Request {
        let partner = |p: &PartnerRef| match p {
            PartnerRef::Step(k) => match step_of(ops, *k, index) {
                Some(step) => json!({"partnerId": format!("{{@{step}/id}}")}),
                None => json!({"partnerId": "pn_nobody"}),
            },
            PartnerRef::Tenant(t) => json!({"tenantId": format!("tenant-{t}")}),
            PartnerRef::Unknown => json!({"partnerId": "pn_nobody"}),
        };
        let base = Request::new("", "POST", "").header("Authorization", AUTH);
        match &ops[index] {
            DubOp::CreatePartner {
                email,
                tenant,
                username,
                unknown_program,
            } => {
                let mut body = json!({
                    "programId": if *unknown_program { "prog_nobody" } else { PROGRAM },
                    "name": format!("Partner {email}"),
                    "email": format!("partner{email}@example.com"),
                });
                if let Some(t) = tenant {
                    body["tenantId"] = json!(format!("tenant-{t}"));
                }
                body["username"] = json!(format!("key{username}"));
                Request {
                    operation_id: "createPartner",
                    path: "/partners".into(),
                    ..base
                }
                .json(body)
            }
            DubOp::CreateLink {
                partner: p,
                key,
                foreign_url,
            } => {
                let mut body = partner(p);
                body["programId"] = json!(PROGRAM);
                body["url"] = json!(if *foreign_url {
                    "https://elsewhere.example/x"
                } else {
                    "https://understudy.example/landing"
                });
                if let Some(k) = key {
                    body["key"] = json!(format!("key{k}"));
                }
                Request {
                    operation_id: "createPartnerLink",
                    path: "/partners/links".into(),
                    ..base
                }
                .json(body)
            }
            DubOp::Upsert { partner: p, path } => {
                let mut body = partner(p);
                body["programId"] = json!(PROGRAM);
                body["url"] = json!(format!("https://understudy.example/page{path}"));
                Request {
                    operation_id: "upsertPartnerLink",
                    method: "PUT",
                    path: "/partners/links/upsert".into(),
                    ..base
                }
                .json(body)
            }
            DubOp::InvalidPartner => Request {
                operation_id: "createPartner",
                path: "/partners".into(),
                ..base
            }
            .json(json!({"programId": PROGRAM, "email": "x@example.com"})),
        }
    }

    fn predict(model: &mut DubModel, ops: &[DubOp], index: usize) -> Option<u16> {
        let enrolled = |model: &DubModel, p: &PartnerRef| match p {
            PartnerRef::Step(k) => {
                step_of(ops, *k, index).is_some_and(|s| model.partner_steps.contains(&s))
            }
            PartnerRef::Tenant(t) => model.tenants.contains(t),
            PartnerRef::Unknown => false,
        };
        match &ops[index] {
            DubOp::InvalidPartner => Some(422),
            DubOp::CreatePartner {
                email,
                tenant,
                username,
                unknown_program,
            } => {
                if *unknown_program {
                    return Some(404);
                }
                let taken = model.keys.contains(username)
                    || model.emails.contains(email)
                    || tenant.is_some_and(|t| model.tenants.contains(&t));
                if taken {
                    return Some(409);
                }
                model.emails.insert(*email);
                model.tenants.extend(*tenant);
                model.keys.insert(*username);
                model.partner_steps.insert(index);
                Some(201)
            }
            DubOp::CreateLink {
                partner,
                key,
                foreign_url,
            } => {
                if *foreign_url {
                    return Some(400);
                }
                if !enrolled(model, partner) {
                    return Some(404);
                }
                if key.is_some_and(|k| model.keys.contains(&k)) {
                    return Some(409);
                }
                model.keys.extend(*key);
                Some(201)
            }
            DubOp::Upsert { partner, .. } => Some(if enrolled(model, partner) { 200 } else { 404 }),
        }
    }

    fn canonical() -> Vec<DubOp> {
        let partner = |email, tenant, username| DubOp::CreatePartner {
            email,
            tenant,
            username,
            unknown_program: false,
        };
        let link = |partner, key, foreign_url| DubOp::CreateLink {
            partner,
            key,
            foreign_url,
        };
        vec![
            partner(0, Some(0), 0),
            partner(0, None, 1),
            partner(1, Some(0), 2),
            link(PartnerRef::Step(0), Some(3), false),
            link(PartnerRef::Step(0), Some(3), false),
            link(PartnerRef::Unknown, None, false),
            link(PartnerRef::Tenant(0), None, true),
            DubOp::Upsert {
                partner: PartnerRef::Step(0),
                path: 0,
            },
            DubOp::Upsert {
                partner: PartnerRef::Step(0),
                path: 0,
            },
            DubOp::Upsert {
                partner: PartnerRef::Tenant(0),
                path: 1,
            },
            DubOp::InvalidPartner,
        ]
    }

    fn normalisation() -> Normalisation {
        Normalisation {
            ids: &["id", "partnerId", "key", "shortLink", "qrCode", "image"],
            opaque: &["createdAt", "updatedAt"],
            present_headers: &["location"],
        }
    }
}
