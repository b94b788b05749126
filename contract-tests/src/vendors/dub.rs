//! Dub: partners enrolled by email and tenant (0.18.0's conflict and today's create-or-update),
//! links unique by key, upsert by URL, listing, analytics, ban and deactivate.

use std::collections::{BTreeMap, BTreeSet};

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
    /// `POST /partners` without the required `email`.
    InvalidPartner,
    /// `POST /partners` as today's SDKs send it: no programId, no username; an enrolled email
    /// updates its enrolment.
    CreateToday {
        /// Email pool index (shared with `CreatePartner`).
        email: u8,
        /// Tenant pool index.
        tenant: Option<u8>,
    },
    /// `GET /partners`, all or one status.
    ListPartners {
        /// Only banned partners.
        banned_only: bool,
    },
    /// `GET /partners/links`.
    RetrieveLinks {
        /// The partner.
        partner: PartnerRef,
    },
    /// `GET /partners/analytics` grouped by `GROUPINGS[group]`.
    Analytics {
        /// The partner.
        partner: PartnerRef,
        /// Grouping pool index.
        group: u8,
    },
    /// `POST /partners/ban`.
    Ban {
        /// The partner.
        partner: PartnerRef,
    },
    /// `POST /partners/deactivate`.
    Deactivate {
        /// The partner.
        partner: PartnerRef,
    },
}

/// The analytics groupings the SDK offers.
const GROUPINGS: [&str; 3] = ["count", "timeseries", "top_links"];

/// The reference model: enrolled emails with their tenant and status, taken keys, the steps
/// that answered an enrolled partner.
#[derive(Default, Debug)]
pub struct DubModel {
    emails: BTreeSet<u8>,
    tenants: BTreeSet<u8>,
    tenant_of: BTreeMap<u8, u8>,
    status: BTreeMap<u8, &'static str>,
    keys: BTreeSet<u8>,
    partner_steps: BTreeSet<usize>,
}

impl DubModel {
    /// The email of the enrolled partner `p` names, if any.
    fn email_of(&self, ops: &[DubOp], p: &PartnerRef, index: usize) -> Option<u8> {
        match p {
            PartnerRef::Step(k) => step_of(ops, *k, index)
                .filter(|s| self.partner_steps.contains(s))
                .and_then(|s| match ops[s] {
                    DubOp::CreatePartner { email, .. } | DubOp::CreateToday { email, .. } => {
                        Some(email)
                    }
                    _ => None,
                }),
            PartnerRef::Tenant(t) => self
                .tenant_of
                .iter()
                .find(|(_, tenant)| *tenant == t)
                .map(|(email, _)| *email),
            PartnerRef::Unknown => None,
        }
    }

    /// Enrols `email` (with `tenant`) as approved.
    fn enrol(&mut self, email: u8, tenant: Option<u8>, index: usize) {
        self.emails.insert(email);
        self.status.insert(email, "approved");
        if let Some(t) = tenant {
            self.tenants.insert(t);
            self.tenant_of.insert(email, t);
        }
        self.partner_steps.insert(index);
    }
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
        .filter(|&i| {
            matches!(
                ops[i],
                DubOp::CreatePartner { .. } | DubOp::CreateToday { .. }
            )
        })
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
            2 => (0u8..3, proptest::option::of(0u8..3))
                .prop_map(|(email, tenant)| DubOp::CreateToday { email, tenant }),
            1 => proptest::bool::ANY.prop_map(|banned_only| DubOp::ListPartners { banned_only }),
            1 => partner_ref().prop_map(|partner| DubOp::RetrieveLinks { partner }),
            1 => (partner_ref(), 0u8..3).prop_map(|(partner, group)| DubOp::Analytics { partner, group }),
            1 => partner_ref().prop_map(|partner| DubOp::Ban { partner }),
            1 => partner_ref().prop_map(|partner| DubOp::Deactivate { partner }),
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
            .json(json!({"programId": PROGRAM, "name": "No Email"})),
            DubOp::CreateToday { email, tenant } => {
                let mut body = json!({"email": format!("partner{email}@example.com")});
                if let Some(t) = tenant {
                    body["tenantId"] = json!(format!("tenant-{t}"));
                }
                Request {
                    operation_id: "createPartner",
                    path: "/partners".into(),
                    ..base
                }
                .json(body)
            }
            DubOp::ListPartners { banned_only } => Request {
                operation_id: "listPartners",
                method: "GET",
                path: if *banned_only {
                    "/partners?status=banned".into()
                } else {
                    "/partners?sortBy=createdAt&sortOrder=asc&pageSize=10".into()
                },
                ..base
            },
            DubOp::RetrieveLinks { partner: p } | DubOp::Analytics { partner: p, .. } => {
                let (name, value) = match partner(p).as_object().and_then(|o| o.iter().next()) {
                    Some((name, value)) => {
                        (name.clone(), value.as_str().unwrap_or_default().to_string())
                    }
                    None => ("partnerId".into(), "pn_nobody".into()),
                };
                let (operation_id, path) = match &ops[index] {
                    DubOp::Analytics { group, .. } => (
                        "retrievePartnerAnalytics",
                        format!(
                            "/partners/analytics?{name}={value}&groupBy={}&interval=24h",
                            GROUPINGS[usize::from(*group) % GROUPINGS.len()]
                        ),
                    ),
                    _ => (
                        "retrievePartnerLinks",
                        format!("/partners/links?{name}={value}"),
                    ),
                };
                Request {
                    operation_id,
                    method: "GET",
                    path,
                    ..base
                }
            }
            DubOp::Ban { partner: p } => {
                let mut body = partner(p);
                body["reason"] = json!("fraud");
                Request {
                    operation_id: "banPartner",
                    path: "/partners/ban".into(),
                    ..base
                }
                .json(body)
            }
            DubOp::Deactivate { partner: p } => Request {
                operation_id: "deactivatePartner",
                path: "/partners/deactivate".into(),
                ..base
            }
            .json(partner(p)),
        }
    }

    fn predict(model: &mut DubModel, ops: &[DubOp], index: usize) -> Option<u16> {
        // A banned or deactivated partner gets no new or changed links (400).
        let active = |model: &DubModel, email: u8| model.status.get(&email) == Some(&"approved");
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
                model.enrol(*email, *tenant, index);
                model.keys.insert(*username);
                Some(201)
            }
            DubOp::CreateToday { email, tenant } => {
                let own = model.tenant_of.get(email).copied();
                if tenant.is_some_and(|t| model.tenants.contains(&t) && own != Some(t)) {
                    return Some(409);
                }
                if model.emails.contains(email) {
                    // The enrolment is updated: a new tenant replaces the old one.
                    if let Some(t) = tenant {
                        if let Some(old) = own {
                            model.tenants.remove(&old);
                        }
                        model.tenants.insert(*t);
                        model.tenant_of.insert(*email, *t);
                    }
                    model.partner_steps.insert(index);
                } else {
                    model.enrol(*email, *tenant, index);
                }
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
                let Some(email) = model.email_of(ops, partner, index) else {
                    return Some(404);
                };
                if !active(model, email) {
                    return Some(400);
                }
                if key.is_some_and(|k| model.keys.contains(&k)) {
                    return Some(409);
                }
                model.keys.extend(*key);
                Some(201)
            }
            DubOp::Upsert { partner, .. } => Some(match model.email_of(ops, partner, index) {
                None => 404,
                Some(email) if !active(model, email) => 400,
                Some(_) => 200,
            }),
            DubOp::ListPartners { .. } => Some(200),
            DubOp::RetrieveLinks { partner } | DubOp::Analytics { partner, .. } => {
                Some(if model.email_of(ops, partner, index).is_some() {
                    200
                } else {
                    404
                })
            }
            DubOp::Ban { partner } => {
                let Some(email) = model.email_of(ops, partner, index) else {
                    return Some(404);
                };
                if model.status.get(&email) == Some(&"banned") {
                    return Some(400);
                }
                model.status.insert(email, "banned");
                Some(200)
            }
            DubOp::Deactivate { partner } => {
                let Some(email) = model.email_of(ops, partner, index) else {
                    return Some(404);
                };
                if !active(model, email) {
                    return Some(400);
                }
                model.status.insert(email, "deactivated");
                Some(200)
            }
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
            // Today's SDKs: the enrolled email 0 is updated with tenant 1, a new email enrolled.
            DubOp::CreateToday {
                email: 0,
                tenant: Some(1),
            },
            DubOp::CreateToday {
                email: 2,
                tenant: None,
            },
            DubOp::ListPartners { banned_only: false },
            DubOp::RetrieveLinks {
                partner: PartnerRef::Tenant(1),
            },
            DubOp::Analytics {
                partner: PartnerRef::Step(0),
                group: 0,
            },
            DubOp::Analytics {
                partner: PartnerRef::Step(0),
                group: 2,
            },
            DubOp::Ban {
                partner: PartnerRef::Step(0),
            },
            DubOp::Ban {
                partner: PartnerRef::Step(0),
            },
            DubOp::ListPartners { banned_only: true },
            DubOp::Deactivate {
                partner: PartnerRef::Step(0),
            },
            // The fifth create (email 2): approved, so this one succeeds.
            DubOp::Deactivate {
                partner: PartnerRef::Step(4),
            },
            DubOp::Ban {
                partner: PartnerRef::Unknown,
            },
            link(PartnerRef::Step(0), None, false),
        ]
    }

    fn normalisation() -> Normalisation {
        Normalisation {
            ids: &[
                "id",
                "partnerId",
                "key",
                "shortLink",
                "qrCode",
                "image",
                "link",
                "username",
            ],
            opaque: &[
                "createdAt",
                "updatedAt",
                "bannedAt",
                "disabledAt",
                "expiresAt",
                "lastClicked",
            ],
            present_headers: &["location"],
        }
    }
}
