//! Enhance: customers under organisations (roles, foreign callers, duplicate names), the MO's
//! subscriptions for customers the case created, reseller quotas, listings.

use std::collections::BTreeSet;

use proptest::prelude::*;
use serde_json::json;
use understudy::VendorId;
use understudy::spec::Operation;

use crate::exchange::{Exchange, Request};
use crate::normalise::Normalisation;
use crate::scenario::{Case, Prediction, Prior, Refusals, Scenario, Stage, Step, Twist};

const MO: &str = "00000000-0000-4000-8000-000000000001";
const RESELLER: &str = "00000000-0000-4000-8000-000000000002";
/// Acme Widgets Ltd: a customer of the MO that is no reseller, so it may have no customers.
const ACME: &str = "00000000-0000-4000-8000-000000000003";
const BAKERY: &str = "00000000-0000-4000-8000-000000000005";
const NO_ORG: &str = "00000000-0000-4000-8000-0000000000ff";
/// The seeded app server, and an id of no server (404 `server`).
const APP_SERVER: &str = "00000000-0000-4000-8000-0000000000a1";
const NO_SERVER: &str = "00000000-0000-4000-8000-0000000000af";
/// Name pool: 0 is the seeded Acme Widgets Ltd (always taken); the others are made unique per
/// case on a target no one resets.
const NAMES: [&str; 4] = [
    "Acme Widgets Ltd",
    "Contract Co",
    "Contract Two",
    "Contract Three",
];

/// The `status` a listing filters by: `active`, or `deleted`.
fn status_filter(active: bool) -> &'static str {
    if active { "active" } else { "deleted" }
}

/// The fields `sortBy` names, each a member of a listed customer.
const SORT_FIELDS: [&str; 6] = [
    "id",
    "name",
    "status",
    "subscriptionsCount",
    "websitesCount",
    "createdAt",
];

/// Whether a listing's items are ordered by `field` as the spec says: ascending (ties in
/// creation order), or with `sortOrder=desc` the ascending list reversed.
fn sorted_by(items: &[serde_json::Value], field: &str, descending: bool) -> Result<(), String> {
    let key = |item: &serde_json::Value| match &item[field] {
        serde_json::Value::Number(n) => (n.as_f64().unwrap_or(0.0), String::new()),
        other => (0.0, other.as_str().unwrap_or_default().to_string()),
    };
    for pair in items.windows(2) {
        let (a, b) = (key(&pair[0]), key(&pair[1]));
        let ordered = match descending {
            false => a <= b,
            true => a >= b,
        };
        if !ordered {
            return Err(format!(
                "sortBy={field} (descending: {descending}) lists {} before {}",
                pair[0][field], pair[1][field]
            ));
        }
    }
    Ok(())
}

/// Who calls.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Identity {
    /// The MO's Owner, by access token.
    Owner,
    /// A member of the MO in the SiteAccess role, by session cookie: may not manage customers.
    Member,
    /// The Owner of the reseller's customer, by session cookie: no role in the MO.
    Foreign,
}

/// Which organisation a customer listing or creation addresses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Target {
    /// The MO.
    Mo,
    /// Acme, the MO's customer that is no reseller: its listing is empty, and a customer of its
    /// own is refused (403), whoever asks.
    Customer,
    /// A well-formed id of no organisation (404).
    Unknown,
    /// Not a UUID (400).
    Malformed,
}

/// Which customer of the MO a subscription call names.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Customer {
    /// Harbour Hosting, the seeded reseller.
    Reseller,
    /// The customer the `k`-th earlier creation of the case made (modulo how many).
    Created(usize),
    /// The reseller's bakery: a customer's customer, not the MO's own (404).
    Bakery,
    /// Not a UUID (400).
    Malformed,
}

/// One Enhance operation.
#[derive(Clone, Debug)]
pub enum EnhanceOp {
    /// List an organisation's customers.
    List {
        /// The caller.
        identity: Identity,
        /// The organisation.
        org: Target,
        /// `recursive=true`.
        recursive: bool,
        /// `sortOrder=desc`.
        descending: bool,
        /// `limit` (0 is below its minimum: 400).
        limit: Option<u8>,
        /// `sortBy`, an index into [`SORT_FIELDS`].
        sort_by: Option<u8>,
        /// `offset`.
        offset: Option<u8>,
        /// `planId=1`: only customers holding an active subscription to the MO's plan 1.
        on_plan: bool,
        /// `status=active` (true) or `status=deleted` (false): only customers in that status.
        status: Option<bool>,
    },
    /// Create a customer.
    CreateCustomer {
        /// The caller.
        identity: Identity,
        /// The parent organisation.
        org: Target,
        /// Name pool index (0 is taken).
        name: u8,
    },
    /// The reseller sells plan 3 or 4 to its bakery.
    Sell {
        /// Plan 4 (always beyond the quota) instead of 3.
        big: bool,
        /// `dedicatedServers` (see [`dedicated`]): only the MO may send it (403).
        server: Option<bool>,
    },
    /// The MO sells a plan to one of its customers.
    Subscribe {
        /// The caller.
        identity: Identity,
        /// The customer.
        customer: Customer,
        /// Plan 3 (the reseller's, not the MO's: 404) instead of one of the MO's.
        foreign_plan: bool,
        /// The MO's reseller plan 2 instead of its plan 1 (when not `foreign_plan`).
        reseller_plan: bool,
        /// `dedicatedServers` (see [`dedicated`]).
        server: Option<bool>,
    },
    /// The subscriptions the MO sold one of its customers, with their usage.
    Subscriptions {
        /// The caller.
        identity: Identity,
        /// The customer.
        customer: Customer,
        /// `sortBy=plan` (by plan name) instead of the default id order.
        by_plan: bool,
        /// `sortOrder=desc`.
        descending: bool,
        /// `limit` (1 or 2).
        limit: Option<u8>,
        /// `offset`.
        offset: Option<u8>,
    },
}

/// The reference model: names taken under the MO, the customers the case created, sales of
/// plan 3 against the reseller's quota (unknown on a target no one resets).
#[derive(Debug)]
pub struct EnhanceModel {
    prior: Prior,
    taken_names: BTreeSet<u8>,
    created: BTreeSet<usize>,
    sales: u8,
}

/// How many plan-3 sales fit in reseller subscription 2: 20 mailboxes with 5 used, 5 per sale
/// (websites allow 4 more sales and storage 9, so mailboxes bind first).
const PLAN_3_SALES_IN_QUOTA: u8 = 3;

/// Why a subscription's body differs on a target no one resets.
const SUBSCRIPTION_IDS: &str =
    "subscription ids are numbers counting every subscription the target made before";

/// Enhance's scenarios.
pub struct Enhance;

fn identity() -> impl Strategy<Value = Identity> {
    prop_oneof![
        8 => Just(Identity::Owner),
        1 => Just(Identity::Member),
        1 => Just(Identity::Foreign),
    ]
}

fn target() -> impl Strategy<Value = Target> {
    prop_oneof![
        10 => Just(Target::Mo),
        1 => Just(Target::Customer),
        1 => Just(Target::Unknown),
        1 => Just(Target::Malformed),
    ]
}

/// Mostly no `dedicatedServers`; sometimes a known server, sometimes an unknown one.
fn server() -> impl Strategy<Value = Option<bool>> {
    prop_oneof![
        6 => Just(None),
        1 => Just(Some(true)),
        1 => Just(Some(false)),
    ]
}

fn customer() -> impl Strategy<Value = Customer> {
    prop_oneof![
        2 => Just(Customer::Reseller),
        4 => (0usize..3).prop_map(Customer::Created),
        1 => Just(Customer::Bakery),
        1 => Just(Customer::Malformed),
    ]
}

/// The step a `Customer::Created(k)` at `steps[index]` refers to: the `k`-th earlier creation.
fn created_step(steps: &[Step<EnhanceOp>], k: usize, index: usize) -> Option<usize> {
    let creates: Vec<usize> = (0..index)
        .filter(|&i| matches!(steps[i].op, EnhanceOp::CreateCustomer { .. }))
        .collect();
    (!creates.is_empty()).then(|| creates[k % creates.len()])
}

fn org_path(org: Target) -> &'static str {
    match org {
        Target::Mo => MO,
        Target::Customer => ACME,
        Target::Unknown => NO_ORG,
        Target::Malformed => "not-an-org",
    }
}

fn customer_path(steps: &[Step<EnhanceOp>], customer: Customer, index: usize) -> String {
    match customer {
        Customer::Reseller => RESELLER.into(),
        Customer::Bakery => BAKERY.into(),
        Customer::Malformed => "not-a-customer".into(),
        Customer::Created(k) => match created_step(steps, k, index) {
            Some(step) => format!("{{@{step}/id}}"),
            None => NO_ORG.into(),
        },
    }
}

/// A subscription body for `plan`, with `dedicatedServers` naming the seeded app server
/// (`Some(true)`) or a server that does not exist (`Some(false)`, 404 `server`).
fn dedicated(plan: u8, server: Option<bool>) -> serde_json::Value {
    let mut body = json!({ "planId": plan });
    if let Some(known) = server {
        let id = if known { APP_SERVER } else { NO_SERVER };
        body["dedicatedServers"] = json!({ "appServerId": id });
    }
    body
}

fn authenticated(request: Request, identity: Identity) -> Request {
    match identity {
        Identity::Owner => request.header("Authorization", "Bearer enhance_understudy_test"),
        Identity::Member => request.header("Cookie", "id0=enhance_understudy_member"),
        Identity::Foreign => request.header("Cookie", "id0=enhance_understudy_customer"),
    }
}

impl EnhanceModel {
    /// The status the MO's `authorize` gives `identity` (a known organisation).
    fn authorized(identity: Identity) -> Option<u16> {
        (identity != Identity::Owner).then_some(403)
    }

    /// How many customers a listing `op` matches, where the model knows: on the seeded world,
    /// the MO lists Harbour, Acme and the deleted Defunct, the reseller's bakery one level
    /// further down, and every customer the case created; Acme lists none. Listings by plan are
    /// not counted (the model does not follow which customer holds which plan).
    fn customers(&self, op: &EnhanceOp) -> Option<u64> {
        let EnhanceOp::List {
            org,
            recursive,
            on_plan: false,
            status,
            ..
        } = op
        else {
            return None;
        };
        if self.prior != Prior::Seeded {
            return None;
        }
        let active = 2 + self.created.len() as u64 + u64::from(*recursive);
        match (org, status) {
            (Target::Customer, _) => Some(0),
            (Target::Mo, None) => Some(active + 1),
            (Target::Mo, Some(true)) => Some(active),
            (Target::Mo, Some(false)) => Some(1),
            _ => None,
        }
    }

    /// 404 unless `customer` is a live customer directly below the MO.
    fn customer(&self, steps: &[Step<EnhanceOp>], customer: Customer, index: usize) -> bool {
        match customer {
            Customer::Reseller => true,
            Customer::Created(k) => {
                created_step(steps, k, index).is_some_and(|s| self.created.contains(&s))
            }
            Customer::Bakery | Customer::Malformed => false,
        }
    }
}

/// Whether a page holds what `offset` and `limit` leave of the listing's `total`.
fn page_fits(
    exchange: &Exchange,
    items: &[serde_json::Value],
    offset: Option<u8>,
    limit: Option<u8>,
) -> Result<(), String> {
    let total = exchange.body["total"].as_u64().unwrap_or_default();
    let left = total.saturating_sub(offset.map_or(0, u64::from));
    let expected = limit.map_or(left, |l| left.min(u64::from(l)));
    match items.len() as u64 == expected {
        true => Ok(()),
        false => Err(format!(
            "a page at offset {offset:?} limit {limit:?} of {total} holds {} items",
            items.len()
        )),
    }
}

/// A customer reference that does not resolve to a UUID fails the path's format (400): a
/// malformed one, or a reference to a creation that answered no id.
fn malformed_customer(
    model: &EnhanceModel,
    steps: &[Step<EnhanceOp>],
    c: Customer,
    index: usize,
) -> bool {
    match c {
        Customer::Malformed => true,
        Customer::Created(k) => {
            created_step(steps, k, index).is_some_and(|step| !model.created.contains(&step))
        }
        _ => false,
    }
}

/// Whether an error `exchange` to `operation_id` carries the `HttpError` the spec documents for
/// its status: the code listed for it (`bad_request` 400, `invalid_session` 401,
/// `insufficient_privileges` 403, `not_found` 404, `already_exists` for createCustomer's 409,
/// `quota_exceeded` for createCustomerSubscription's) and, when the vendor's rules answered
/// (`by_rules`), the `detail` the spec promises: the kind of entity of a 404 (`org`, `plan`,
/// `server`), `org` for a duplicate customer, the resource that did not fit for a quota.
/// An injected 409 may carry either 409 code.
fn documented_error(operation_id: &str, exchange: &Exchange, by_rules: bool) -> Result<(), String> {
    let conflict: &[&str] = match (by_rules, operation_id) {
        (false, _) => &["already_exists", "quota_exceeded"],
        (true, "createCustomer") => &["already_exists"],
        (true, _) => &["quota_exceeded"],
    };
    let codes: &[&str] = match exchange.status {
        400 => &["bad_request"],
        401 => &["invalid_session"],
        403 => &["insufficient_privileges"],
        404 => &["not_found"],
        409 => conflict,
        _ => return Ok(()),
    };
    let body = &exchange.body;
    let code = body["code"].as_str().unwrap_or_default();
    if !codes.contains(&code) {
        return Err(format!(
            "a {} to {operation_id} has code {code:?}, not {codes:?}",
            exchange.status
        ));
    }
    let detail = body["detail"].as_str();
    let documented = match (by_rules, exchange.status, code) {
        (false, ..) | (true, 400 | 401 | 403, _) => true,
        (true, 404, _) => detail.is_some_and(|d| ["org", "plan", "server"].contains(&d)),
        (true, _, "already_exists") => detail == Some("org"),
        (true, ..) => detail.is_some_and(|d| !d.is_empty()),
    };
    match documented {
        true => Ok(()),
        false => Err(format!(
            "a {} ({code}) to {operation_id} has detail {detail:?}",
            exchange.status
        )),
    }
}

impl Scenario for Enhance {
    type Op = EnhanceOp;
    type Model = EnhanceModel;
    const VENDOR: VendorId = VendorId::Enhance;
    const REFUSALS: Refusals = Refusals {
        unauthenticated: 401,
        wrong_scheme: Some(401),
        malformed: 400,
        invalid: 400,
        oversized: None,
        credential_headers: &["authorization", "cookie"],
    };

    fn operations() -> BoxedStrategy<Vec<EnhanceOp>> {
        let op = prop_oneof![
            2 => (
                identity(),
                target(),
                any::<bool>(),
                any::<bool>(),
                proptest::option::of(0u8..3),
                proptest::option::of(0u8..6),
                proptest::option::of(0u8..3),
                proptest::bool::weighted(0.2),
                proptest::option::weighted(0.2, any::<bool>()),
            )
                .prop_map(
                    |(identity, org, recursive, descending, limit, sort_by, offset, on_plan, status)| {
                        EnhanceOp::List {
                            identity,
                            org,
                            recursive,
                            descending,
                            limit,
                            sort_by,
                            offset,
                            on_plan,
                            status,
                        }
                    },
                ),
            3 => (identity(), target(), 0u8..4).prop_map(|(identity, org, name)| {
                EnhanceOp::CreateCustomer {
                    identity,
                    org,
                    name,
                }
            }),
            2 => (proptest::bool::weighted(0.3), server())
                .prop_map(|(big, server)| EnhanceOp::Sell { big, server }),
            2 => (
                identity(),
                customer(),
                proptest::bool::weighted(0.2),
                proptest::bool::weighted(0.3),
                server()
            )
                .prop_map(|(identity, customer, foreign_plan, reseller_plan, server)| {
                    EnhanceOp::Subscribe {
                        identity,
                        customer,
                        foreign_plan,
                        reseller_plan,
                        server,
                    }
                }),
            2 => (
                identity(),
                customer(),
                any::<bool>(),
                any::<bool>(),
                proptest::option::of(1u8..3),
                proptest::option::of(0u8..3),
            )
                .prop_map(|(identity, customer, by_plan, descending, limit, offset)| {
                    EnhanceOp::Subscriptions {
                        identity,
                        customer,
                        by_plan,
                        descending,
                        limit,
                        offset,
                    }
                }),
        ];
        proptest::collection::vec(op, 1..8).boxed()
    }

    fn operation_id(op: &EnhanceOp) -> &'static str {
        match op {
            EnhanceOp::List { .. } => "getOrgCustomers",
            EnhanceOp::CreateCustomer { .. } => "createCustomer",
            EnhanceOp::Sell { .. } | EnhanceOp::Subscribe { .. } => "createCustomerSubscription",
            EnhanceOp::Subscriptions { .. } => "getCustomerSubscriptions",
        }
    }

    fn primary_identity(op: &EnhanceOp) -> bool {
        match op {
            EnhanceOp::List { identity, .. }
            | EnhanceOp::CreateCustomer { identity, .. }
            | EnhanceOp::Subscribe { identity, .. }
            | EnhanceOp::Subscriptions { identity, .. } => *identity == Identity::Owner,
            // The reseller's own token.
            EnhanceOp::Sell { .. } => false,
        }
    }

    fn model(prior: Prior) -> EnhanceModel {
        EnhanceModel {
            prior,
            // Pool index 0 is the seeded Acme Widgets Ltd.
            taken_names: [0].into(),
            created: BTreeSet::new(),
            sales: 0,
        }
    }

    fn request(case: &Case, steps: &[Step<EnhanceOp>], index: usize) -> Request {
        match &steps[index].op {
            EnhanceOp::List {
                identity,
                org,
                recursive,
                descending,
                limit,
                sort_by,
                offset,
                on_plan,
                status,
            } => {
                let path = format!("/orgs/{}/customers", org_path(*org));
                let mut r = authenticated(Request::new("getOrgCustomers", "GET", path), *identity);
                if *recursive {
                    r = r.query("recursive", "true");
                }
                if *descending {
                    r = r.query("sortOrder", "desc");
                }
                if let Some(limit) = limit {
                    r = r.query("limit", limit.to_string());
                }
                if let Some(field) = sort_by {
                    r = r.query("sortBy", SORT_FIELDS[usize::from(*field)]);
                }
                if let Some(offset) = offset {
                    r = r.query("offset", offset.to_string());
                }
                if *on_plan {
                    r = r.query("planId", "1");
                }
                if let Some(active) = status {
                    r = r.query("status", status_filter(*active));
                }
                r
            }
            EnhanceOp::CreateCustomer {
                identity,
                org,
                name,
            } => {
                let path = format!("/orgs/{}/customers", org_path(*org));
                let name = match name {
                    0 => NAMES[0].to_string(),
                    n => case.unique(NAMES[usize::from(*n)]),
                };
                authenticated(Request::new("createCustomer", "POST", path), *identity)
                    .json(json!({ "name": name }))
            }
            EnhanceOp::Sell { big, server } => Request::new(
                "createCustomerSubscription",
                "POST",
                format!("/orgs/{RESELLER}/customers/{BAKERY}/subscriptions"),
            )
            .header("Authorization", "Bearer enhance_understudy_reseller")
            .json(dedicated(if *big { 4 } else { 3 }, *server)),
            EnhanceOp::Subscribe {
                identity,
                customer,
                foreign_plan,
                reseller_plan,
                server,
            } => {
                let path = format!(
                    "/orgs/{MO}/customers/{}/subscriptions",
                    customer_path(steps, *customer, index)
                );
                let plan = match (foreign_plan, reseller_plan) {
                    (true, _) => 3,
                    (false, true) => 2,
                    (false, false) => 1,
                };
                authenticated(
                    Request::new("createCustomerSubscription", "POST", path),
                    *identity,
                )
                .json(dedicated(plan, *server))
            }
            EnhanceOp::Subscriptions {
                identity,
                customer,
                by_plan,
                descending,
                limit,
                offset,
            } => {
                let path = format!(
                    "/orgs/{MO}/customers/{}/subscriptions",
                    customer_path(steps, *customer, index)
                );
                let mut r = authenticated(
                    Request::new("getCustomerSubscriptions", "GET", path),
                    *identity,
                );
                if *by_plan {
                    r = r.query("sortBy", "plan");
                }
                if *descending {
                    r = r.query("sortOrder", "desc");
                }
                if let Some(limit) = limit {
                    r = r.query("limit", limit.to_string());
                }
                if let Some(offset) = offset {
                    r = r.query("offset", offset.to_string());
                }
                r
            }
        }
    }

    fn applies(op: &EnhanceOp, operation: &Operation, twist: Twist) -> bool {
        // Another scheme only means something for a request that sends a bearer token.
        let bearer = match op {
            EnhanceOp::List { identity, .. }
            | EnhanceOp::CreateCustomer { identity, .. }
            | EnhanceOp::Subscribe { identity, .. }
            | EnhanceOp::Subscriptions { identity, .. } => *identity == Identity::Owner,
            EnhanceOp::Sell { .. } => true,
        };
        (twist != Twist::WrongScheme || bearer)
            && crate::twist::applies_by_spec(&Self::REFUSALS, operation, twist)
    }

    fn refused_early(
        model: &EnhanceModel,
        steps: &[Step<EnhanceOp>],
        index: usize,
    ) -> Option<(Stage, u16)> {
        // Roles are checked by the rules, after validation: only parameters refuse early.
        let bad = match &steps[index].op {
            EnhanceOp::List { org, limit, .. } => *org == Target::Malformed || *limit == Some(0),
            EnhanceOp::CreateCustomer { org, .. } => *org == Target::Malformed,
            EnhanceOp::Subscribe { customer, .. } | EnhanceOp::Subscriptions { customer, .. } => {
                malformed_customer(model, steps, *customer, index)
            }
            EnhanceOp::Sell { .. } => false,
        };
        bad.then_some((Stage::Parameters, 400))
    }

    fn predict(model: &mut EnhanceModel, steps: &[Step<EnhanceOp>], index: usize) -> Prediction {
        let prior = model.prior;
        let listing = "the listing shows what the target held before the case";
        let known = Prediction::Known;
        match &steps[index].op {
            EnhanceOp::List {
                identity,
                org,
                limit,
                ..
            } => match (org, limit) {
                (Target::Malformed, _) | (_, Some(0)) => known(400),
                (Target::Unknown, _) => known(404),
                (Target::Mo | Target::Customer, _) => match EnhanceModel::authorized(*identity) {
                    Some(status) => known(status),
                    None => Prediction::listing(prior, 200, listing),
                },
            },
            EnhanceOp::CreateCustomer {
                identity,
                org,
                name,
            } => match org {
                Target::Malformed => known(400),
                Target::Unknown => known(404),
                // Only the MO and resellers may have customers: Acme is neither.
                Target::Customer => known(403),
                Target::Mo => match EnhanceModel::authorized(*identity) {
                    Some(status) => known(status),
                    None if model.taken_names.insert(*name) => {
                        model.created.insert(index);
                        known(201)
                    }
                    None => known(409),
                },
            },
            // The servers are checked after the plan, before the quota.
            EnhanceOp::Sell {
                server: Some(_), ..
            } => known(403),
            EnhanceOp::Sell { big: true, .. } => known(409),
            EnhanceOp::Sell { big: false, .. } => {
                if prior == Prior::Unknown {
                    return Prediction::Unknown(
                        "what is left of the reseller's quota after earlier sales",
                    );
                }
                if model.sales < PLAN_3_SALES_IN_QUOTA {
                    model.sales += 1;
                    known(201)
                } else {
                    known(409)
                }
            }
            EnhanceOp::Subscribe {
                identity,
                customer,
                foreign_plan,
                server,
                ..
            } => {
                if malformed_customer(model, steps, *customer, index) {
                    return known(400);
                }
                if let Some(status) = EnhanceModel::authorized(*identity) {
                    return known(status);
                }
                if !model.customer(steps, *customer, index) || *foreign_plan {
                    return known(404);
                }
                if *server == Some(false) {
                    return known(404);
                }
                // The MO sells freely; no quota binds it.
                Prediction::listing(prior, 201, SUBSCRIPTION_IDS)
            }
            EnhanceOp::Subscriptions {
                identity, customer, ..
            } => {
                if malformed_customer(model, steps, *customer, index) {
                    return known(400);
                }
                if let Some(status) = EnhanceModel::authorized(*identity) {
                    return known(status);
                }
                match customer {
                    _ if !model.customer(steps, *customer, index) => known(404),
                    Customer::Reseller => Prediction::listing(prior, 200, listing),
                    _ => Prediction::listing(prior, 200, SUBSCRIPTION_IDS),
                }
            }
        }
    }

    fn check(
        model: &EnhanceModel,
        steps: &[Step<EnhanceOp>],
        index: usize,
        exchange: &Exchange,
    ) -> Result<(), String> {
        if exchange.status == 200 {
            let items = exchange.body["items"]
                .as_array()
                .cloned()
                .unwrap_or_default();
            match &steps[index].op {
                EnhanceOp::List {
                    recursive,
                    descending,
                    sort_by,
                    status,
                    limit,
                    offset,
                    ..
                } => {
                    page_fits(exchange, &items, *offset, *limit)?;
                    if let (false, Some(field)) = (recursive, sort_by) {
                        sorted_by(&items, SORT_FIELDS[usize::from(*field)], *descending)?;
                    }
                    if let Some(active) = status {
                        let wanted = status_filter(*active);
                        if let Some(other) = items.iter().find(|c| c["status"] != wanted) {
                            return Err(format!(
                                "status={wanted} lists a customer in status {}",
                                other["status"]
                            ));
                        }
                    }
                    let total = exchange.body["total"].as_u64();
                    if let Some(expected) = model.customers(&steps[index].op)
                        && total != Some(expected)
                    {
                        return Err(format!(
                            "the listing's total is {total:?} where the seeded customers and the \
                             case's creations make {expected}"
                        ));
                    }
                }
                EnhanceOp::Subscriptions {
                    by_plan,
                    descending,
                    limit,
                    offset,
                    ..
                } => {
                    page_fits(exchange, &items, *offset, *limit)?;
                    let field = if *by_plan { "planName" } else { "id" };
                    sorted_by(&items, field, *descending)?;
                }
                _ => {}
            }
        }
        documented_error(Self::operation_id(&steps[index].op), exchange, true)
    }

    fn check_refusal(
        steps: &[Step<EnhanceOp>],
        index: usize,
        _: &Request,
        exchange: &Exchange,
    ) -> Result<(), String> {
        documented_error(Self::operation_id(&steps[index].op), exchange, false)
    }

    fn canonical() -> Vec<EnhanceOp> {
        use EnhanceOp::{CreateCustomer, List, Sell, Subscribe, Subscriptions};
        let create = |name| CreateCustomer {
            identity: Identity::Owner,
            org: Target::Mo,
            name,
        };
        let first_level = |sort_by| List {
            identity: Identity::Owner,
            org: Target::Mo,
            recursive: false,
            descending: false,
            limit: None,
            sort_by,
            offset: None,
            on_plan: false,
            status: None,
        };
        vec![
            first_level(None),
            create(1),
            // The same listing once more: it shows the new customer.
            first_level(None),
            // Sorted by id, by status and by websitesCount, the new customer among the seeded.
            first_level(Some(0)),
            first_level(Some(2)),
            first_level(Some(4)),
            // A second and a third customer: the listing read before them is not served again,
            // and the new ids (random, so not in creation order) sort among the seeded.
            create(2),
            first_level(None),
            create(3),
            first_level(Some(0)),
            // Acme is no reseller: it lists no customer and may have none.
            List {
                identity: Identity::Owner,
                org: Target::Customer,
                recursive: false,
                descending: false,
                limit: None,
                sort_by: None,
                offset: None,
                on_plan: false,
                status: None,
            },
            CreateCustomer {
                identity: Identity::Owner,
                org: Target::Customer,
                name: 1,
            },
            // The first new customer buys plan 1, then the reseller plan 2: listed by plan name
            // the second comes first, in id order the first.
            Subscribe {
                identity: Identity::Owner,
                customer: Customer::Created(0),
                foreign_plan: false,
                reseller_plan: false,
                server: None,
            },
            Subscribe {
                identity: Identity::Owner,
                customer: Customer::Created(0),
                foreign_plan: false,
                reseller_plan: true,
                server: None,
            },
            Subscriptions {
                identity: Identity::Owner,
                customer: Customer::Created(0),
                by_plan: true,
                descending: false,
                limit: Some(1),
                offset: None,
            },
            Subscriptions {
                identity: Identity::Owner,
                customer: Customer::Created(0),
                by_plan: false,
                descending: true,
                limit: None,
                offset: Some(1),
            },
            // Only the holders of plan 1 (the seeded Acme).
            List {
                identity: Identity::Owner,
                org: Target::Mo,
                recursive: false,
                descending: false,
                limit: None,
                sort_by: None,
                offset: None,
                on_plan: true,
                status: None,
            },
            create(1),
            create(0),
            CreateCustomer {
                identity: Identity::Member,
                org: Target::Mo,
                name: 2,
            },
            List {
                identity: Identity::Owner,
                org: Target::Mo,
                recursive: true,
                descending: true,
                limit: Some(2),
                sort_by: None,
                offset: None,
                on_plan: false,
                status: None,
            },
            Sell {
                big: false,
                server: None,
            },
            Sell {
                big: false,
                server: None,
            },
            Sell {
                big: false,
                server: None,
            },
            Sell {
                big: false,
                server: None,
            },
            Sell {
                big: true,
                server: None,
            },
            Subscriptions {
                identity: Identity::Owner,
                customer: Customer::Reseller,
                by_plan: false,
                descending: false,
                limit: None,
                offset: None,
            },
            // The same state listed in both orders: desc is the ascending list reversed.
            List {
                identity: Identity::Owner,
                org: Target::Mo,
                recursive: false,
                descending: false,
                limit: None,
                sort_by: None,
                offset: None,
                on_plan: false,
                status: None,
            },
            List {
                identity: Identity::Owner,
                org: Target::Mo,
                recursive: false,
                descending: true,
                limit: None,
                sort_by: None,
                offset: None,
                on_plan: false,
                status: None,
            },
            // A page from the middle, in both orders.
            List {
                identity: Identity::Owner,
                org: Target::Mo,
                recursive: true,
                descending: false,
                limit: Some(2),
                sort_by: None,
                offset: Some(1),
                on_plan: false,
                status: None,
            },
            List {
                identity: Identity::Owner,
                org: Target::Mo,
                recursive: true,
                descending: true,
                limit: Some(2),
                sort_by: Some(1),
                offset: Some(1),
                on_plan: false,
                status: None,
            },
            // A parameter out of its range: the 400's detail names it.
            List {
                identity: Identity::Owner,
                org: Target::Mo,
                recursive: false,
                descending: false,
                limit: Some(0),
                sort_by: None,
                offset: None,
                on_plan: false,
                status: None,
            },
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
