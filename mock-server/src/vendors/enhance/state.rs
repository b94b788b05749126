//! What Enhance remembers: the organisation tree (the MO at the root, resellers and customers
//! below it), the plans each organisation sells, the servers the MO can pin subscriptions to,
//! and the subscriptions with their resource usage.
//!
//! The same types describe the seed in the configuration and the live state, so a configured
//! world and an exported one read alike.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::listing_cache::ListingCache;
use crate::vendors::index::{Index, hash_of};

/// The status of a live organisation or subscription.
pub const ACTIVE: &str = "active";
/// The status of a deleted organisation or subscription.
pub const DELETED: &str = "deleted";

/// An organisation: the MO (no parent), a reseller or a customer.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Org {
    /// UUID.
    pub id: String,
    /// The parent organisation; `None` only for the MO.
    #[serde(default)]
    pub parent_id: Option<String>,
    /// Display name, unique among the live customers of one parent.
    pub name: String,
    /// `active` or `deleted`.
    #[serde(default = "active")]
    pub status: String,
    /// Control-panel locale (a `CPLocale` value).
    #[serde(default = "default_locale")]
    pub locale: String,
    /// Creation time, RFC 3339 with milliseconds (`2024-11-03T09:41:27.000Z`).
    pub created_at: String,
    /// Websites the organisation hosts; websites are not modelled, so this stays as seeded.
    #[serde(default)]
    pub websites_count: u64,
    /// The owning member, when the organisation has one.
    #[serde(default)]
    pub owner: Option<Owner>,
}

/// The owner of an organisation, as the customer listing shows it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Owner {
    /// Display name.
    pub name: String,
    /// Email address.
    pub email: String,
    /// Member id (UUID).
    pub id: String,
    /// Login id (UUID).
    pub login_id: String,
}

/// A plan an organisation sells.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Plan {
    /// Integer id, unique across the installation.
    pub id: u64,
    /// The organisation that owns (sells) the plan.
    pub org_id: String,
    /// Display name.
    pub name: String,
    /// A reseller plan makes its subscriber a reseller of the plan owner's resources.
    #[serde(default)]
    pub reseller: bool,
    /// `shared` or `dedicated`.
    #[serde(default = "shared")]
    pub plan_type: String,
    /// What the plan sells, per resource.
    #[serde(default)]
    pub resources: Vec<PlanResource>,
    /// Named allowances (`ssh`, `cronJobs` …).
    #[serde(default)]
    pub allowances: Vec<String>,
    /// PHP versions subscribers may choose.
    #[serde(default = "php_versions")]
    pub allowed_php_versions: Vec<String>,
    /// The PHP version new websites get.
    #[serde(default = "default_php")]
    pub default_php_version: String,
    /// Whether Redis may be enabled.
    #[serde(default)]
    pub redis_allowed: bool,
}

impl Plan {
    /// A new subscription's resources: what the plan sells, each with `usage(name)` used.
    pub fn subscribed_resources(&self, usage: impl Fn(&str) -> u64) -> Vec<UsedResource> {
        self.resources
            .iter()
            .map(|r| UsedResource {
                name: r.name.clone(),
                total: r.total,
                usage: usage(&r.name),
            })
            .collect()
    }
}

/// One resource a plan sells.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PlanResource {
    /// A `ResourceName` (`websites`, `diskspace` …).
    pub name: String,
    /// The amount sold; `None` is unlimited.
    #[serde(default)]
    pub total: Option<u64>,
}

/// A server the MO may pin a subscription's resources to.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Server {
    /// UUID.
    pub id: String,
    /// Host name.
    pub name: String,
}

/// A subscription of `subscriber_id` to a plan of `vendor_id`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Subscription {
    /// Integer id, handed out in increasing order.
    pub id: u64,
    /// The plan subscribed to.
    pub plan_id: u64,
    /// The organisation holding the subscription.
    pub subscriber_id: String,
    /// The organisation selling it (the plan's owner).
    pub vendor_id: String,
    /// `active` or `deleted`.
    pub status: String,
    /// Label chosen by the seller.
    pub friendly_name: String,
    /// The plan's resources with how much of each is in use (or, for a reseller
    /// subscription, has been sold on).
    pub resources: Vec<UsedResource>,
    /// Servers the subscription is pinned to, by role (`appServer`, `dbServer` …).
    #[serde(default)]
    pub dedicated_servers: BTreeMap<String, String>,
}

/// A resource quota of a subscription and its usage.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UsedResource {
    /// The resource.
    pub name: String,
    /// The quota; `None` is unlimited.
    pub total: Option<u64>,
    /// How much is used.
    pub usage: u64,
}

/// A subscription as the configuration seeds it: the resources come from the plan.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SeedSubscription {
    /// Integer id.
    pub id: u64,
    /// The plan subscribed to; its owner is the vendor.
    pub plan_id: u64,
    /// The subscribing organisation.
    pub subscriber_id: String,
    /// Label; the plan's name when absent.
    #[serde(default)]
    pub friendly_name: Option<String>,
    /// Usage per resource name; absent resources are unused. For a reseller subscription this
    /// is what the reseller has already sold.
    #[serde(default)]
    pub usage: BTreeMap<String, u64>,
}

/// Everything Enhance stores. Organisations are only ever appended ([`EnhanceState::push_org`]),
/// which keeps them indexed by id and by live customer name: a lookup or a create then costs
/// the same however many organisations are stored.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(from = "StoredEnhance")]
pub struct EnhanceState {
    /// Organisations in creation order (the default listing order).
    orgs: Vec<Org>,
    /// Derived from `orgs`, never exported.
    #[serde(skip)]
    index: OrgIndex,
    /// Plans.
    pub plans: Vec<Plan>,
    /// Servers.
    pub servers: Vec<Server>,
    /// Subscriptions in creation (id) order.
    pub subscriptions: Vec<Subscription>,
    /// Customer-listing orders already computed on this value (never exported).
    #[serde(skip)]
    pub listings: ListingCache,
}

/// Where each organisation is, and where each parent's live customers are by name: positions
/// filed under a hash of the key (16 bytes an entry, no copy of the strings), each candidate
/// checked against the organisation itself.
#[derive(Clone, Debug, Default, PartialEq)]
struct OrgIndex {
    /// Positions by the hash of the id.
    by_id: Index,
    /// Positions of organisations not deleted, by the hash of (parent id, name).
    live_names: Index,
}

impl OrgIndex {
    fn add(&mut self, org: &Org, at: u32) {
        self.by_id.insert(hash_of(&org.id.as_str()), at);
        if let (Some(parent), false) = (&org.parent_id, org.status == DELETED) {
            self.live_names
                .insert(hash_of(&(parent.as_str(), org.name.as_str())), at);
        }
    }
}

/// What an export holds, and an import reads: the state without its index and cache.
#[derive(Deserialize)]
struct StoredEnhance {
    orgs: Vec<Org>,
    plans: Vec<Plan>,
    servers: Vec<Server>,
    subscriptions: Vec<Subscription>,
}

impl From<StoredEnhance> for EnhanceState {
    fn from(stored: StoredEnhance) -> Self {
        EnhanceState::from_parts(
            stored.orgs,
            stored.plans,
            stored.servers,
            stored.subscriptions,
        )
    }
}

impl crate::vendors::Resources for EnhanceState {
    fn count(&self) -> usize {
        self.orgs.len() + self.subscriptions.len()
    }
}

impl EnhanceState {
    /// The state the configuration describes. A seeded subscription to an unknown plan is
    /// skipped: it could never be listed consistently.
    pub fn seed(
        orgs: Vec<Org>,
        plans: Vec<Plan>,
        servers: Vec<Server>,
        subscriptions: &[SeedSubscription],
    ) -> Self {
        let subscriptions = subscriptions
            .iter()
            .filter_map(|seed| {
                let plan = plans.iter().find(|p| p.id == seed.plan_id)?;
                Some(Subscription {
                    id: seed.id,
                    plan_id: plan.id,
                    subscriber_id: seed.subscriber_id.clone(),
                    vendor_id: plan.org_id.clone(),
                    status: ACTIVE.into(),
                    friendly_name: seed
                        .friendly_name
                        .clone()
                        .unwrap_or_else(|| plan.name.clone()),
                    resources: plan
                        .subscribed_resources(|name| seed.usage.get(name).copied().unwrap_or(0)),
                    dedicated_servers: BTreeMap::new(),
                })
            })
            .collect();
        EnhanceState::from_parts(orgs, plans, servers, subscriptions)
    }

    fn from_parts(
        orgs: Vec<Org>,
        plans: Vec<Plan>,
        servers: Vec<Server>,
        subscriptions: Vec<Subscription>,
    ) -> Self {
        let mut index = OrgIndex::default();
        for (at, org) in (0..).zip(&orgs) {
            index.add(org, at);
        }
        EnhanceState {
            orgs,
            index,
            plans,
            servers,
            subscriptions,
            listings: ListingCache::default(),
        }
    }

    /// Every organisation, in creation order.
    pub fn orgs(&self) -> &[Org] {
        &self.orgs
    }

    /// Appends an organisation.
    pub fn push_org(&mut self, org: Org) {
        // Positions fit in u32: the resource cap keeps the organisations far below.
        let at = u32::try_from(self.orgs.len()).unwrap_or(u32::MAX);
        self.index.add(&org, at);
        self.orgs.push(org);
    }

    /// Whether `parent_id` has a customer named `name` that is not deleted.
    pub fn has_live_customer_named(&self, parent_id: &str, name: &str) -> bool {
        self.index
            .live_names
            .candidates(hash_of(&(parent_id, name)))
            .filter_map(|at| self.orgs.get(at as usize))
            .any(|o| {
                o.parent_id.as_deref() == Some(parent_id) && o.name == name && o.status != DELETED
            })
    }

    /// The organisation with this id.
    pub fn org(&self, id: &str) -> Option<&Org> {
        self.index
            .by_id
            .candidates(hash_of(&id))
            .filter_map(|at| self.orgs.get(at as usize))
            .find(|o| o.id == id)
    }

    /// The master organisation: the one without a parent.
    pub fn mo(&self) -> Option<&Org> {
        self.orgs.iter().find(|o| o.parent_id.is_none())
    }

    /// Whether `id` is the master organisation.
    pub fn is_mo(&self, id: &str) -> bool {
        self.mo().is_some_and(|mo| mo.id == id)
    }

    /// `id` followed by its parent, grandparent … up to the MO. The walk stops at an
    /// organisation already visited, so an imported state with a cycle cannot loop forever.
    pub fn lineage(&self, id: &str) -> Vec<&str> {
        let mut chain = Vec::new();
        let mut current = self.org(id);
        while let Some(org) = current {
            if chain.contains(&org.id.as_str()) {
                break;
            }
            chain.push(org.id.as_str());
            current = org.parent_id.as_deref().and_then(|p| self.org(p));
        }
        chain
    }

    /// Every organisation below `ancestor`, with how many levels below it sits.
    pub fn depths_below(&self, ancestor: &str) -> std::collections::HashMap<&str, usize> {
        // One pass to index children, then a breadth-first walk: linear in the tree, where
        // walking every organisation's lineage would be quadratic.
        let mut children: std::collections::HashMap<&str, Vec<&str>> =
            std::collections::HashMap::new();
        for org in &self.orgs {
            if let Some(parent) = org.parent_id.as_deref() {
                children.entry(parent).or_default().push(&org.id);
            }
        }
        let mut depths = std::collections::HashMap::new();
        let mut frontier = vec![ancestor];
        let mut depth = 0;
        while !frontier.is_empty() {
            depth += 1;
            let mut next = Vec::new();
            for id in frontier {
                for child in children.get(id).into_iter().flatten() {
                    // An imported state with a cycle must not loop: visit each org once.
                    if *child != ancestor && !depths.contains_key(child) {
                        depths.insert(*child, depth);
                        next.push(*child);
                    }
                }
            }
            frontier = next;
        }
        depths
    }

    /// Whether `customer` sits directly below `org_id`.
    pub fn is_direct_customer(&self, customer: &str, org_id: &str) -> bool {
        self.org(customer)
            .is_some_and(|c| c.parent_id.as_deref() == Some(org_id))
    }

    /// The reseller subscription `org_id` holds with its parent: an active subscription to a
    /// reseller plan the parent owns.
    pub fn reseller_subscription(&self, org_id: &str) -> Option<&Subscription> {
        let parent = self.org(org_id)?.parent_id.as_deref()?;
        self.subscriptions.iter().find(|s| {
            s.subscriber_id == org_id
                && s.vendor_id == parent
                && s.status == ACTIVE
                && self.plan(s.plan_id).is_some_and(|p| p.reseller)
        })
    }

    /// Whether `org_id` may sell plans: it is the MO, or it holds a reseller subscription.
    pub fn sells(&self, org_id: &str) -> bool {
        self.is_mo(org_id) || self.reseller_subscription(org_id).is_some()
    }

    /// The plan with this id.
    pub fn plan(&self, id: u64) -> Option<&Plan> {
        self.plans.iter().find(|p| p.id == id)
    }

    /// The server with this id.
    pub fn server(&self, id: &str) -> Option<&Server> {
        self.servers.iter().find(|s| s.id == id)
    }

    /// How many active subscriptions each organisation holds (organisations with none are
    /// absent), in one pass.
    pub fn active_subscription_counts(&self) -> std::collections::HashMap<&str, usize> {
        let mut counts = std::collections::HashMap::new();
        for sub in self.subscriptions.iter().filter(|s| s.status == ACTIVE) {
            *counts.entry(sub.subscriber_id.as_str()).or_insert(0) += 1;
        }
        counts
    }

    /// How many active subscriptions `org_id` holds.
    pub fn subscriptions_count(&self, org_id: &str) -> usize {
        self.subscriptions
            .iter()
            .filter(|s| s.subscriber_id == org_id && s.status == ACTIVE)
            .count()
    }

    /// The id the next subscription gets: one above the highest so far.
    pub fn next_subscription_id(&self) -> u64 {
        self.subscriptions.iter().map(|s| s.id).max().unwrap_or(0) + 1
    }
}

fn active() -> String {
    ACTIVE.into()
}

fn default_locale() -> String {
    "en".into()
}

fn shared() -> String {
    "shared".into()
}

fn php_versions() -> Vec<String> {
    vec!["php82".into(), "php83".into()]
}

fn default_php() -> String {
    "php83".into()
}
