//! Enhance's rules for the four customer operations. Every check runs before anything is
//! stored, so a refused request leaves the state exactly as it was.

use super::EnhanceMutant;
use std::cmp::Ordering;
use std::collections::{BTreeMap, HashMap, HashSet};

use serde_json::{Map, Value, json};

use super::Role;
use super::errors::EnhanceError;
use super::listing_cache::ListingKey;
use super::state::{ACTIVE, DELETED, EnhanceState, Org, Subscription, UsedResource};
use crate::vendors::Ambient;

/// The organisation and role the caller's session or token acts with.
#[derive(Clone, Copy, Debug)]
pub struct Caller<'a> {
    /// The session's `id0` or the token.
    pub credential: &'a str,
    /// The organisation the credential belongs to.
    pub org_id: &'a str,
    /// The role it holds there.
    pub role: Role,
}

impl crate::vendors::Caller for Caller<'_> {
    fn credential(&self) -> &str {
        self.credential
    }
}

/// The rules, bound to the caller, the world (ids, mutants) and the request time.
pub struct Rules<'a> {
    /// Who is asking.
    pub caller: Caller<'a>,
    /// Ids and mutants.
    pub world: &'a Ambient,
    /// The request time, RFC 3339.
    pub now: String,
}

/// The query parameters a listing reads, already validated against the spec.
pub type Query = BTreeMap<String, Value>;

/// `(dedicatedServers body field, role key in the stored subscription and the response)`.
const SERVER_ROLES: [(&str, &str); 4] = [
    ("appServerId", "appServer"),
    ("backupServerId", "backupServer"),
    ("dbServerId", "dbServer"),
    ("emailServerId", "emailServer"),
];

impl Rules<'_> {
    /// The caller must be Owner or SuperAdmin of `org_id` or of one of its ancestors. An
    /// unknown `org_id` is 404 before anything else; `any_role` lets every role through (the
    /// `member-may-create` mutant).
    fn authorize(
        &self,
        state: &EnhanceState,
        org_id: &str,
        any_role: bool,
    ) -> Result<(), EnhanceError> {
        if state.org(org_id).is_none() {
            return Err(EnhanceError::not_found("org"));
        }
        let in_lineage = state.lineage(org_id).contains(&self.caller.org_id);
        if !in_lineage {
            return Err(EnhanceError::insufficient_privileges(
                "The session holder has no role in this organization or its parents",
            ));
        }
        if !(any_role || self.caller.role.administers()) {
            return Err(EnhanceError::insufficient_privileges(format!(
                "The role {} may not perform this action",
                self.caller.role.as_str()
            )));
        }
        Ok(())
    }

    /// `GET /orgs/{org_id}/customers`.
    pub fn list_customers(
        &self,
        state: &EnhanceState,
        org_id: &str,
        query: &Query,
    ) -> Result<Value, EnhanceError> {
        self.authorize(state, org_id, false)?;
        let recursive = query.get("recursive").and_then(Value::as_bool) == Some(true);
        // maxDepth only counts with recursive=true; without it only direct customers match.
        let max_depth = if recursive {
            query.get("maxDepth").map(count).unwrap_or(usize::MAX)
        } else {
            1
        };
        let status = query.get("status").and_then(Value::as_str);
        // Validation admits only 64-bit integers (x-understudy-integers); a negative one names
        // no plan and filters everything out.
        let plan_id = query.get("planId").map(Value::as_i64);
        let sort_by = query.get("sortBy").and_then(Value::as_str);
        let key = ListingKey {
            org_id: org_id.to_string(),
            sort_by: sort_by.map(str::to_string),
            descending: self.descending(query),
            status: status.map(str::to_string),
            plan_id,
            max_depth,
        };
        // The whole order is computed once per state and query shape; paging through it then
        // costs only the page.
        let lengths = (state.orgs().len(), state.subscriptions.len());
        let order = state
            .listings
            .order(&key, lengths, || customer_order(state, &key));
        let offset = query.get("offset").map(count).unwrap_or(0);
        let limit = query.get("limit").map(count).unwrap_or(usize::MAX);
        let items: Vec<Value> = order
            .iter()
            .skip(offset)
            .take(limit)
            .map(|&i| org_json(state, &state.orgs()[i]))
            .collect();
        Ok(self.page_json(items, order.len()))
    }

    /// The `offset`/`limit` page of `items` in the listing's order: ascending by `compare`,
    /// reversed for `sortOrder=desc` unless the `sort-order-ignored` mutant is active.
    fn top<T>(&self, items: Vec<T>, compare: impl Fn(&T, &T) -> Ordering, query: &Query) -> Vec<T> {
        let offset = query.get("offset").map(count).unwrap_or(0);
        let limit = query.get("limit").map(count).unwrap_or(usize::MAX);
        ordered(items, compare, self.descending(query))
            .into_iter()
            .skip(offset)
            .take(limit)
            .collect()
    }

    /// Whether the listing is in reverse: `sortOrder=desc`, unless the `sort-order-ignored`
    /// mutant is active.
    fn descending(&self, query: &Query) -> bool {
        query.get("sortOrder").and_then(Value::as_str) == Some("desc")
            && !self.world.mutant(EnhanceMutant::SortOrderIgnored)
    }

    /// `GET /orgs/{org_id}/customers/{customer_org_id}/subscriptions`.
    pub fn list_subscriptions(
        &self,
        state: &EnhanceState,
        org_id: &str,
        customer_id: &str,
        query: &Query,
    ) -> Result<Value, EnhanceError> {
        self.authorize(state, org_id, false)?;
        if !state.is_direct_customer(customer_id, org_id) {
            return Err(EnhanceError::not_found("org"));
        }
        // A customer holds a handful of subscriptions: rendering them all before ordering is
        // cheap and lets any rendered field be the sort key.
        let items: Vec<(usize, Value)> = state
            .subscriptions
            .iter()
            .filter(|s| s.subscriber_id == customer_id && s.vendor_id == org_id)
            .map(|s| subscription_json(state, s))
            .enumerate()
            .collect();
        let total = items.len();
        let sort_by = query.get("sortBy").and_then(Value::as_str);
        // The plan is ordered by its name. The other two keys (subscriberId, vendorId) are the
        // same for every listed subscription, so they keep the id order, as no key does.
        let by_plan = sort_by == Some("plan");
        let page = self.top(
            items,
            |(ia, a), (ib, b)| {
                match by_plan {
                    true => a["planName"].as_str().cmp(&b["planName"].as_str()),
                    false => Ordering::Equal,
                }
                .then(ia.cmp(ib))
            },
            query,
        );
        Ok(self.page_json(page.into_iter().map(|(_, v)| v).collect(), total))
    }

    /// `POST /orgs/{org_id}/customers`.
    pub fn create_customer(
        &self,
        state: &mut EnhanceState,
        org_id: &str,
        body: &Value,
    ) -> Result<Value, EnhanceError> {
        let member_may_create = self.world.mutant(EnhanceMutant::MemberMayCreate);
        self.authorize(state, org_id, member_may_create)?;
        if !state.sells(org_id) {
            return Err(EnhanceError::insufficient_privileges(
                "Only the MO or a reseller may have customers",
            ));
        }
        let name = body.get("name").and_then(Value::as_str).unwrap_or_default();
        let taken = state.has_live_customer_named(org_id, name);
        if taken && !self.world.mutant(EnhanceMutant::DuplicateNameAllowed) {
            return Err(EnhanceError::already_exists("org"));
        }

        // Every check passed: the new customer is an empty, active organisation.
        let id = self.world.ids.uuid();
        state.push_org(Org {
            id: id.clone(),
            parent_id: Some(org_id.to_string()),
            name: name.to_string(),
            status: ACTIVE.into(),
            locale: "en".into(),
            created_at: self.now.clone(),
            websites_count: 0,
            owner: None,
        });
        Ok(json!({ "id": id }))
    }

    /// `POST /orgs/{org_id}/customers/{customer_org_id}/subscriptions`.
    pub fn create_subscription(
        &self,
        state: &mut EnhanceState,
        org_id: &str,
        customer_id: &str,
        body: &Value,
    ) -> Result<Value, EnhanceError> {
        self.authorize(state, org_id, false)?;
        // The MO sells freely; anyone else sells out of its reseller subscription, and an
        // organisation without one is no reseller at all.
        let is_mo = state.is_mo(org_id);
        let reseller_subscription = state
            .reseller_subscription(org_id)
            .and_then(|r| state.subscriptions.iter().position(|s| s.id == r.id));
        if !is_mo && reseller_subscription.is_none() {
            return Err(EnhanceError::insufficient_privileges(
                "Only the MO or a reseller may subscribe organizations to its plans",
            ));
        }
        let customer_is_live = state.org(customer_id).is_some_and(|c| c.status != DELETED);
        if !state.is_direct_customer(customer_id, org_id) || !customer_is_live {
            return Err(EnhanceError::not_found("org"));
        }
        let plan_id = body.get("planId").and_then(Value::as_u64);
        let plan = plan_id
            .and_then(|id| state.plan(id))
            .filter(|p| p.org_id == org_id)
            .ok_or_else(|| EnhanceError::not_found("plan"))?
            .clone();
        let servers = self.dedicated_servers(state, org_id, body)?;
        if let Some(position) = reseller_subscription
            && !self.world.mutant(EnhanceMutant::QuotaNotEnforced)
        {
            check_quota(&state.subscriptions[position].resources, &plan.resources)?;
        }

        // Every check passed: record the sale on the reseller subscription, then create.
        if let Some(position) = reseller_subscription
            && !self.world.mutant(EnhanceMutant::UsageNotRecorded)
        {
            record_sale(
                &mut state.subscriptions[position].resources,
                &plan.resources,
            );
        }
        let id = state.next_subscription_id();
        let friendly_name = body
            .get("friendlyName")
            .and_then(Value::as_str)
            .map_or_else(|| plan.name.clone(), str::to_string);
        state.subscriptions.push(Subscription {
            id,
            plan_id: plan.id,
            subscriber_id: customer_id.to_string(),
            vendor_id: org_id.to_string(),
            status: ACTIVE.into(),
            friendly_name,
            resources: plan.subscribed_resources(|_| 0),
            dedicated_servers: servers,
        });
        Ok(json!({ "id": id }))
    }

    /// The servers named in `dedicatedServers`, by role. Only a sale by the MO may name any
    /// (403 otherwise), and each must exist (404 `server`).
    fn dedicated_servers(
        &self,
        state: &EnhanceState,
        org_id: &str,
        body: &Value,
    ) -> Result<BTreeMap<String, String>, EnhanceError> {
        let requested = body.get("dedicatedServers").and_then(Value::as_object);
        let named: Vec<(&str, &str)> = SERVER_ROLES
            .iter()
            .filter_map(|(field, role)| {
                let id = requested?.get(*field)?.as_str()?;
                Some((*role, id))
            })
            .collect();
        if named.is_empty() {
            return Ok(BTreeMap::new());
        }
        if !state.is_mo(org_id) {
            return Err(EnhanceError::insufficient_privileges(
                "Only the MO may set dedicated servers",
            ));
        }
        named
            .into_iter()
            .map(|(role, id)| match state.server(id) {
                Some(server) => Ok((role.to_string(), server.id.clone())),
                None => Err(EnhanceError::not_found("server")),
            })
            .collect()
    }

    /// `{items, total}`; `total` counts every match, not the page.
    fn page_json(&self, page: Vec<Value>, total: usize) -> Value {
        let total = if self.world.mutant(EnhanceMutant::TotalCountsPage) {
            page.len()
        } else {
            total
        };
        json!({ "items": page, "total": total })
    }
}

/// Refuses the sale when the reseller subscription `quota` cannot cover every resource the
/// plan sells: a resource it lacks, an unlimited amount out of a finite quota, or an amount
/// beyond what is left. The error names the first resource that does not fit.
fn check_quota(
    quota: &[UsedResource],
    sold: &[super::state::PlanResource],
) -> Result<(), EnhanceError> {
    for resource in sold {
        let Some(held) = quota.iter().find(|q| q.name == resource.name) else {
            return Err(EnhanceError::quota_exceeded(&resource.name));
        };
        let fits = match (held.total, resource.total) {
            (None, _) => true,
            (Some(_), None) => false,
            (Some(total), Some(amount)) => held
                .usage
                .checked_add(amount)
                .is_some_and(|after| after <= total),
        };
        if !fits {
            return Err(EnhanceError::quota_exceeded(&resource.name));
        }
    }
    Ok(())
}

/// Adds each sold amount to the reseller subscription's usage.
fn record_sale(quota: &mut [UsedResource], sold: &[super::state::PlanResource]) {
    for resource in sold {
        if let (Some(held), Some(amount)) = (
            quota.iter_mut().find(|q| q.name == resource.name),
            resource.total,
        ) {
            held.usage = held.usage.saturating_add(amount);
        }
    }
}

/// What a customer is ordered by: the field `sortBy` names, borrowed from the organisation.
/// Text orders bytewise, counts numerically, and `createdAt` by instant (a timestamp that
/// does not parse, possible only in imported state, sorts after the rest by its text).
#[derive(Debug, PartialEq, Eq, PartialOrd, Ord)]
enum SortKey<'a> {
    /// No `sortBy`: creation order.
    Unsorted,
    /// A count.
    Count(u64),
    /// A text field.
    Text(&'a str),
    /// A timestamp: parsed ones first, then unparsable ones by text.
    Time(bool, Option<time::OffsetDateTime>, &'a str),
}

impl<'a> SortKey<'a> {
    fn of(org: &'a Org, sort_by: Option<&str>, counts: Option<&HashMap<&str, usize>>) -> Self {
        match sort_by {
            Some("id") => SortKey::Text(&org.id),
            Some("name") => SortKey::Text(&org.name),
            Some("status") => SortKey::Text(&org.status),
            Some("subscriptionsCount") => SortKey::Count(
                counts
                    .and_then(|c| c.get(org.id.as_str()))
                    .copied()
                    .unwrap_or(0) as u64,
            ),
            Some("websitesCount") => SortKey::Count(org.websites_count),
            Some("createdAt") => {
                let at = time::OffsetDateTime::parse(
                    &org.created_at,
                    &time::format_description::well_known::Rfc3339,
                )
                .ok();
                SortKey::Time(at.is_none(), at, &org.created_at)
            }
            _ => SortKey::Unsorted,
        }
    }
}

/// An organisation as the customer listing shows it.
fn org_json(state: &EnhanceState, org: &Org) -> Value {
    let mut out = Map::new();
    out.insert("id".into(), json!(org.id));
    if let Some(parent) = &org.parent_id {
        out.insert("parentId".into(), json!(parent));
    }
    out.insert("name".into(), json!(org.name));
    out.insert("status".into(), json!(org.status));
    if let Some(owner) = &org.owner {
        out.insert("owner".into(), json!(owner.name));
        out.insert("ownerEmail".into(), json!(owner.email));
        out.insert("ownerId".into(), json!(owner.id));
        out.insert("ownerLoginId".into(), json!(owner.login_id));
    }
    out.insert(
        "subscriptionsCount".into(),
        json!(state.subscriptions_count(&org.id)),
    );
    out.insert("websitesCount".into(), json!(org.websites_count));
    out.insert("createdAt".into(), json!(org.created_at));
    out.insert("locale".into(), json!(org.locale));
    Value::Object(out)
}

/// A subscription as the subscription listing shows it.
fn subscription_json(state: &EnhanceState, sub: &Subscription) -> Value {
    let plan = state.plan(sub.plan_id);
    let resources: Vec<Value> = sub
        .resources
        .iter()
        .map(|r| match r.total {
            Some(total) => json!({"name": r.name, "total": total, "usage": r.usage}),
            None => json!({"name": r.name, "usage": r.usage}),
        })
        .collect();
    let mut out = json!({
        "id": sub.id,
        "planId": sub.plan_id,
        "planName": plan.map(|p| p.name.as_str()).unwrap_or_default(),
        "subscriberId": sub.subscriber_id,
        "vendorId": sub.vendor_id,
        "status": sub.status,
        "resources": resources,
        "allowances": plan.map(|p| p.allowances.iter().map(|a| json!({"name": a})).collect::<Vec<_>>()).unwrap_or_default(),
        "selections": [],
        "planType": plan.map_or("shared", |p| p.plan_type.as_str()),
        "allowedPhpVersions": plan.map(|p| p.allowed_php_versions.clone()).unwrap_or_default(),
        "defaultPhpVersion": plan.map_or("php83", |p| p.default_php_version.as_str()),
        "redisAllowed": plan.is_some_and(|p| p.redis_allowed),
        "friendlyName": sub.friendly_name,
    });
    if !sub.dedicated_servers.is_empty() {
        let servers: Map<String, Value> = sub
            .dedicated_servers
            .iter()
            .map(|(role, id)| {
                let name = state.server(id).map(|s| s.name.as_str()).unwrap_or(id);
                (role.clone(), json!({"name": name, "id": id}))
            })
            .collect();
        out["dedicatedServers"] = Value::Object(servers);
    }
    out
}

/// Every customer `key` lists, in the listing's order, as indices into the organisations.
fn customer_order(state: &EnhanceState, key: &ListingKey) -> Vec<usize> {
    let org_id = key.org_id.as_str();
    let on_plan: Option<HashSet<&str>> = key.plan_id.map(|plan| {
        state
            .subscriptions
            .iter()
            .filter(|s| {
                s.status == ACTIVE && plan.is_some_and(|p| i64::try_from(s.plan_id) == Ok(p))
            })
            .map(|s| s.subscriber_id.as_str())
            .collect()
    });
    // Whether org_id is a reseller is not checked (as orchd documents): an organisation that
    // sells nothing has no customers, so its page is simply empty. Direct customers (the
    // default) need no walk of the tree.
    let depths = (key.max_depth > 1).then(|| state.depths_below(org_id));
    let below = |o: &Org| match &depths {
        Some(depths) => depths
            .get(o.id.as_str())
            .is_some_and(|d| *d <= key.max_depth),
        None => key.max_depth == 1 && o.parent_id.as_deref() == Some(org_id),
    };
    let sort_by = key.sort_by.as_deref();
    let counts =
        (sort_by == Some("subscriptionsCount")).then(|| state.active_subscription_counts());
    // Sort keys are borrowed and computed once per match, so no comparison allocates or
    // parses; the creation index breaks ties, which makes the order total.
    let keyed: Vec<(SortKey, usize)> = state
        .orgs()
        .iter()
        .enumerate()
        .filter(|(_, o)| below(o))
        .filter(|(_, o)| key.status.as_deref().is_none_or(|s| o.status == s))
        .filter(|(_, o)| {
            on_plan
                .as_ref()
                .is_none_or(|ids| ids.contains(o.id.as_str()))
        })
        .map(|(i, o)| (SortKey::of(o, sort_by, counts.as_ref()), i))
        .collect();
    ordered(keyed, |a, b| a.cmp(b), key.descending)
        .into_iter()
        .map(|(_, i)| i)
        .collect()
}

/// `items` in `compare`'s order, reversed as a whole when `descending`. `compare` must be a
/// total order, so the reverse is exactly the ascending list backwards.
fn ordered<T>(mut items: Vec<T>, compare: impl Fn(&T, &T) -> Ordering, descending: bool) -> Vec<T> {
    items.sort_unstable_by(|a, b| match descending {
        true => compare(b, a),
        false => compare(a, b),
    });
    items
}

/// A non-negative integer parameter as a count; integers beyond 64 bits saturate.
fn count(value: &Value) -> usize {
    value
        .as_u64()
        .map(|n| usize::try_from(n).unwrap_or(usize::MAX))
        .or_else(|| value.as_f64().filter(|f| *f > 0.0).map(|_| usize::MAX))
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::super::state::PlanResource;
    use super::*;

    fn held(name: &str, total: Option<u64>, usage: u64) -> UsedResource {
        UsedResource {
            name: name.into(),
            total,
            usage,
        }
    }

    fn sold(name: &str, total: Option<u64>) -> PlanResource {
        PlanResource {
            name: name.into(),
            total,
        }
    }

    #[test]
    fn descending_is_the_ascending_order_reversed() {
        let mut rng = fastrand::Rng::with_seed(7);
        for _ in 0..200 {
            let items: Vec<(u8, usize)> =
                (0..rng.usize(0..40)).map(|i| (rng.u8(0..5), i)).collect();
            let mut expected = items.clone();
            expected.sort();
            assert_eq!(ordered(items.clone(), |a, b| a.cmp(b), false), expected);
            expected.reverse();
            assert_eq!(ordered(items, |a, b| a.cmp(b), true), expected);
        }
    }

    #[test]
    fn quota_fits_exactly_and_not_one_more() {
        let quota = [held("websites", Some(10), 8)];
        assert!(check_quota(&quota, &[sold("websites", Some(2))]).is_ok());
        let err = check_quota(&quota, &[sold("websites", Some(3))]).unwrap_err();
        assert_eq!(err, EnhanceError::quota_exceeded("websites"));
    }

    #[test]
    fn a_missing_resource_or_unlimited_sale_out_of_a_finite_quota_does_not_fit() {
        let quota = [held("websites", Some(10), 0), held("mailboxes", None, 7)];
        assert_eq!(
            check_quota(&quota, &[sold("forwarders", Some(1))]).unwrap_err(),
            EnhanceError::quota_exceeded("forwarders")
        );
        assert_eq!(
            check_quota(&quota, &[sold("websites", None)]).unwrap_err(),
            EnhanceError::quota_exceeded("websites")
        );
        assert!(check_quota(&quota, &[sold("mailboxes", None)]).is_ok());
    }

    #[test]
    fn a_sale_adds_each_finite_amount_to_usage() {
        let mut quota = [held("websites", Some(10), 1), held("mailboxes", None, 0)];
        record_sale(
            &mut quota,
            &[sold("websites", Some(2)), sold("mailboxes", None)],
        );
        assert_eq!(quota[0].usage, 3);
        assert_eq!(quota[1].usage, 0);
    }

    #[test]
    fn counts_saturate_beyond_64_bits() {
        assert_eq!(count(&json!(3)), 3);
        assert_eq!(count(&json!(3.4e20)), usize::MAX);
    }
}
