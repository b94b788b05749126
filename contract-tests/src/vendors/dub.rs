//! Dub: partners enrolled by email and tenant (0.18.0's conflict and today's create-or-update),
//! links unique by key, upsert by URL, listing, analytics, ban and deactivate.

use std::collections::{BTreeMap, BTreeSet};

use proptest::prelude::*;
use serde_json::json;
use understudy::VendorId;

use crate::exchange::Request;
use crate::normalise::Normalisation;
use crate::scenario::{Case, Prediction, Prior, Refusals, Scenario, Stage, Step};

const AUTH: &str = "Bearer dub_understudy_test";
/// The key of the workspace below the plans the partner calls need.
const FREE: &str = "Bearer dub_understudy_free";
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
        /// Key pool index (shared with usernames): the link found or made gets this key.
        key: Option<u8>,
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
    /// One of the eight operations (`OPERATIONS[operation]`) with the key of the free-plan
    /// workspace: the plan gate refuses it (403), except the upsert, which has no gate and
    /// finds no such program in that workspace (404).
    FreePlan {
        /// Operation pool index.
        operation: u8,
    },
    /// A query parameter its schema refuses (422): `pageSize=0` for the listing, a 191-character
    /// `partnerId` for the links, an interval Dub does not offer for the analytics.
    InvalidQuery {
        /// 0 listing, 1 links, 2 analytics.
        operation: u8,
    },
}

/// The eight operations, as `FreePlan` numbers them.
const OPERATIONS: [&str; 8] = [
    "listPartners",
    "createPartner",
    "retrievePartnerLinks",
    "createPartnerLink",
    "upsertPartnerLink",
    "retrievePartnerAnalytics",
    "banPartner",
    "deactivatePartner",
];

/// What `FreePlan` asks for: every operation but the upsert is gated.
const UPSERT: u8 = 4;

/// The analytics groupings the SDK offers.
const GROUPINGS: [&str; 3] = ["count", "timeseries", "top_links"];

/// The reference model: enrolled emails with their tenant and status, taken keys, the links
/// upserts made (in order: URL path, partner's email, key), the steps that answered an
/// enrolled partner. Every value the scenarios make unique is new on any target, so the model
/// knows Dub's answers whatever ran before, except listings of every partner.
#[derive(Debug)]
pub struct DubModel {
    prior: Prior,
    emails: BTreeSet<u8>,
    tenants: BTreeSet<u8>,
    tenant_of: BTreeMap<u8, u8>,
    status: BTreeMap<u8, &'static str>,
    keys: BTreeSet<u8>,
    upserted: Vec<(u8, u8, Option<u8>)>,
    partner_steps: BTreeSet<usize>,
}

impl DubModel {
    /// The email of the enrolled partner `p` names, if any.
    fn email_of(&self, steps: &[Step<DubOp>], p: &PartnerRef, index: usize) -> Option<u8> {
        match p {
            PartnerRef::Step(k) => step_of(steps, *k, index)
                .filter(|s| self.partner_steps.contains(s))
                .and_then(|s| match steps[s].op {
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

/// The step a `PartnerRef::Step(k)` at `steps[index]` refers to: the `k`-th earlier create.
fn step_of(steps: &[Step<DubOp>], k: usize, index: usize) -> Option<usize> {
    let creates: Vec<usize> = (0..index)
        .filter(|&i| {
            matches!(
                steps[i].op,
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
    const REFUSALS: Refusals = Refusals {
        unauthenticated: 401,
        // An Authorization header without `Bearer ` is Dub's 400.
        wrong_scheme: Some(400),
        malformed: 400,
        invalid: 422,
        oversized: None,
        credential_headers: &["authorization"],
    };

    fn operations() -> BoxedStrategy<Vec<DubOp>> {
        let op = prop_oneof![
            4 => (0u8..3, proptest::option::of(0u8..3), 0u8..4, proptest::bool::weighted(0.1))
                .prop_map(|(email, tenant, username, unknown_program)| DubOp::CreatePartner { email, tenant, username, unknown_program }),
            3 => (partner_ref(), proptest::option::of(0u8..4), proptest::bool::weighted(0.15))
                .prop_map(|(partner, key, foreign_url)| DubOp::CreateLink { partner, key, foreign_url }),
            4 => (partner_ref(), 0u8..2, proptest::option::weighted(0.3, 0u8..4))
                .prop_map(|(partner, path, key)| DubOp::Upsert { partner, path, key }),
            1 => Just(DubOp::InvalidPartner),
            2 => (0u8..3, proptest::option::of(0u8..3))
                .prop_map(|(email, tenant)| DubOp::CreateToday { email, tenant }),
            1 => proptest::bool::ANY.prop_map(|banned_only| DubOp::ListPartners { banned_only }),
            1 => partner_ref().prop_map(|partner| DubOp::RetrieveLinks { partner }),
            1 => (partner_ref(), 0u8..3).prop_map(|(partner, group)| DubOp::Analytics { partner, group }),
            1 => partner_ref().prop_map(|partner| DubOp::Ban { partner }),
            1 => partner_ref().prop_map(|partner| DubOp::Deactivate { partner }),
            1 => (0u8..8).prop_map(|operation| DubOp::FreePlan { operation }),
            1 => (0u8..3).prop_map(|operation| DubOp::InvalidQuery { operation }),
        ];
        proptest::collection::vec(op, 1..10).boxed()
    }

    fn operation_id(op: &DubOp) -> &'static str {
        match op {
            DubOp::CreatePartner { .. } | DubOp::InvalidPartner | DubOp::CreateToday { .. } => {
                "createPartner"
            }
            DubOp::CreateLink { .. } => "createPartnerLink",
            DubOp::Upsert { .. } => "upsertPartnerLink",
            DubOp::ListPartners { .. } => "listPartners",
            DubOp::RetrieveLinks { .. } => "retrievePartnerLinks",
            DubOp::Analytics { .. } => "retrievePartnerAnalytics",
            DubOp::Ban { .. } => "banPartner",
            DubOp::Deactivate { .. } => "deactivatePartner",
            DubOp::FreePlan { operation } => OPERATIONS[usize::from(*operation) % 8],
            DubOp::InvalidQuery { operation } => [
                "listPartners",
                "retrievePartnerLinks",
                "retrievePartnerAnalytics",
            ][usize::from(*operation) % 3],
        }
    }

    fn primary_identity(op: &DubOp) -> bool {
        !matches!(op, DubOp::FreePlan { .. })
    }

    fn model(prior: Prior) -> DubModel {
        DubModel {
            prior,
            emails: BTreeSet::new(),
            tenants: BTreeSet::new(),
            tenant_of: BTreeMap::new(),
            status: BTreeMap::new(),
            keys: BTreeSet::new(),
            upserted: Vec::new(),
            partner_steps: BTreeSet::new(),
        }
    }

    fn request(case: &Case, steps: &[Step<DubOp>], index: usize) -> Request {
        let tenant = |t: u8| case.unique(&format!("tenant-{t}"));
        let key = |k: u8| case.unique(&format!("key{k}"));
        let email = |e: u8| format!("partner{e}{}@example.com", case.suffix);
        let partner = |p: &PartnerRef| match p {
            PartnerRef::Step(k) => match step_of(steps, *k, index) {
                Some(step) => json!({"partnerId": format!("{{@{step}/id}}")}),
                None => json!({"partnerId": "pn_nobody"}),
            },
            PartnerRef::Tenant(t) => json!({"tenantId": tenant(*t)}),
            PartnerRef::Unknown => json!({"partnerId": "pn_nobody"}),
        };
        let base = Request::new("", "POST", "").header("Authorization", AUTH);
        match &steps[index].op {
            DubOp::CreatePartner {
                email: e,
                tenant: t,
                username,
                unknown_program,
            } => {
                let mut body = json!({
                    "programId": if *unknown_program { "prog_nobody" } else { PROGRAM },
                    "name": format!("Partner {e}"),
                    "email": email(*e),
                });
                if let Some(t) = t {
                    body["tenantId"] = json!(tenant(*t));
                }
                body["username"] = json!(key(*username));
                Request {
                    operation_id: "createPartner",
                    path: "/partners".into(),
                    ..base
                }
                .json(body)
            }
            DubOp::CreateLink {
                partner: p,
                key: k,
                foreign_url,
            } => {
                let mut body = partner(p);
                body["programId"] = json!(PROGRAM);
                body["url"] = json!(if *foreign_url {
                    "https://elsewhere.example/x"
                } else {
                    "https://understudy.example/landing"
                });
                if let Some(k) = k {
                    body["key"] = json!(key(*k));
                }
                Request {
                    operation_id: "createPartnerLink",
                    path: "/partners/links".into(),
                    ..base
                }
                .json(body)
            }
            DubOp::Upsert {
                partner: p,
                path,
                key: k,
            } => {
                let mut body = partner(p);
                body["programId"] = json!(PROGRAM);
                // Made unique too: found by tenant, the upsert looks among every partner's
                // links, and a shared target holds earlier cases' links to the same page.
                body["url"] = json!(format!(
                    "https://understudy.example/page{path}{}",
                    case.suffix
                ));
                if let Some(k) = k {
                    body["key"] = json!(key(*k));
                }
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
            DubOp::CreateToday {
                email: e,
                tenant: t,
            } => {
                let mut body = json!({"email": email(*e)});
                if let Some(t) = t {
                    body["tenantId"] = json!(tenant(*t));
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
                let (operation_id, path) = match &steps[index].op {
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
            DubOp::FreePlan { operation } => free_plan_request(case, *operation),
            DubOp::InvalidQuery { operation } => {
                let (operation_id, path) = match operation % 3 {
                    0 => ("listPartners", "/partners?pageSize=0".to_string()),
                    1 => (
                        "retrievePartnerLinks",
                        format!("/partners/links?partnerId=pn_{}", "x".repeat(188)),
                    ),
                    _ => (
                        "retrievePartnerAnalytics",
                        "/partners/analytics?partnerId=pn_nobody&interval=forever".to_string(),
                    ),
                };
                Request {
                    operation_id,
                    method: "GET",
                    path,
                    ..base
                }
            }
        }
    }

    fn refused_early(_: &DubModel, steps: &[Step<DubOp>], index: usize) -> Option<(Stage, u16)> {
        match steps[index].op {
            // The plan gate runs with authentication, before the body is read.
            DubOp::FreePlan { operation } if operation % 8 != UPSERT => {
                Some((Stage::Credentials, 403))
            }
            DubOp::InvalidQuery { .. } => Some((Stage::Parameters, 422)),
            _ => None,
        }
    }

    fn predict(model: &mut DubModel, steps: &[Step<DubOp>], index: usize) -> Prediction {
        if let Some((_, status)) = Self::refused_early(model, steps, index) {
            return Prediction::Known(status);
        }
        // A banned or deactivated partner gets no new or changed links (400).
        let active = |model: &DubModel, email: u8| model.status.get(&email) == Some(&"approved");
        let known = Prediction::Known;
        match &steps[index].op {
            DubOp::InvalidPartner => known(422),
            // The free workspace holds no such program.
            DubOp::FreePlan { .. } => known(404),
            DubOp::InvalidQuery { .. } => known(422),
            DubOp::CreatePartner {
                email,
                tenant,
                username,
                unknown_program,
            } => {
                if *unknown_program {
                    return known(404);
                }
                let taken = model.keys.contains(username)
                    || model.emails.contains(email)
                    || tenant.is_some_and(|t| model.tenants.contains(&t));
                if taken {
                    return known(409);
                }
                model.enrol(*email, *tenant, index);
                model.keys.insert(*username);
                known(201)
            }
            DubOp::CreateToday { email, tenant } => {
                let own = model.tenant_of.get(email).copied();
                if tenant.is_some_and(|t| model.tenants.contains(&t) && own != Some(t)) {
                    return known(409);
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
                known(201)
            }
            DubOp::CreateLink {
                partner,
                key,
                foreign_url,
            } => {
                if *foreign_url {
                    return known(400);
                }
                let Some(email) = model.email_of(steps, partner, index) else {
                    return known(404);
                };
                if !active(model, email) {
                    return known(400);
                }
                if key.is_some_and(|k| model.keys.contains(&k)) {
                    return known(409);
                }
                model.keys.extend(*key);
                known(201)
            }
            DubOp::Upsert { partner, path, key } => {
                let Some(email) = model.email_of(steps, partner, index) else {
                    return known(404);
                };
                if !active(model, email) {
                    return known(400);
                }
                // Dub looks the URL up among the partner's links when the request names the
                // partner by id, among every link of the program when by tenant.
                let by_id = matches!(partner, PartnerRef::Step(_));
                let existing = model
                    .upserted
                    .iter()
                    .position(|(p, e, _)| p == path && (!by_id || *e == email));
                match (existing, key) {
                    (Some(_), None) => {}
                    (Some(i), Some(k)) => {
                        let current = model.upserted[i].2;
                        if current != Some(*k) {
                            if model.keys.contains(k) {
                                return known(409);
                            }
                            if let Some(old) = current {
                                model.keys.remove(&old);
                            }
                            model.keys.insert(*k);
                            model.upserted[i].2 = Some(*k);
                        }
                    }
                    (None, key) => {
                        if key.is_some_and(|k| model.keys.contains(&k)) {
                            return known(409);
                        }
                        model.keys.extend(*key);
                        model.upserted.push((*path, email, *key));
                    }
                }
                known(200)
            }
            DubOp::ListPartners { .. } => Prediction::listing(
                model.prior,
                200,
                "the listing shows every partner enrolled before the case",
            ),
            DubOp::RetrieveLinks { partner } | DubOp::Analytics { partner, .. } => {
                known(if model.email_of(steps, partner, index).is_some() {
                    200
                } else {
                    404
                })
            }
            DubOp::Ban { partner } => {
                let Some(email) = model.email_of(steps, partner, index) else {
                    return known(404);
                };
                if model.status.get(&email) == Some(&"banned") {
                    return known(400);
                }
                model.status.insert(email, "banned");
                known(200)
            }
            DubOp::Deactivate { partner } => {
                let Some(email) = model.email_of(steps, partner, index) else {
                    return known(404);
                };
                if !active(model, email) {
                    return known(400);
                }
                model.status.insert(email, "deactivated");
                known(200)
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
                key: None,
            },
            DubOp::Upsert {
                partner: PartnerRef::Step(0),
                path: 0,
                key: None,
            },
            DubOp::Upsert {
                partner: PartnerRef::Tenant(0),
                path: 1,
                key: None,
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

/// A request for `OPERATIONS[operation]` with the free workspace's key: benign otherwise, so
/// only the plan gate (or, for the upsert, the missing program) refuses it.
fn free_plan_request(case: &Case, operation: u8) -> Request {
    let operation_id = OPERATIONS[usize::from(operation) % 8];
    let r = |method: &'static str, path: &str| {
        Request::new(operation_id, method, path).header("Authorization", FREE)
    };
    let nobody = json!({"partnerId": "pn_nobody"});
    match operation_id {
        "listPartners" => r("GET", "/partners"),
        "createPartner" => r("POST", "/partners")
            .json(json!({"email": format!("free{}@example.com", case.suffix)})),
        "retrievePartnerLinks" => r("GET", "/partners/links?partnerId=pn_nobody"),
        "createPartnerLink" => r("POST", "/partners/links").json(nobody),
        "upsertPartnerLink" => r("PUT", "/partners/links/upsert").json(json!({
            "partnerId": "pn_nobody",
            "programId": PROGRAM,
            "url": "https://understudy.example/page0",
        })),
        "retrievePartnerAnalytics" => r("GET", "/partners/analytics?partnerId=pn_nobody"),
        "banPartner" => {
            r("POST", "/partners/ban").json(json!({"partnerId": "pn_nobody", "reason": "fraud"}))
        }
        _ => r("POST", "/partners/deactivate").json(nobody),
    }
}
