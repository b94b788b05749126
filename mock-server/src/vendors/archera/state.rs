//! What Archera remembers: organisations (partners and their children) with their onboarding
//! records per cloud provider, and purchase plans.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

/// One organisation: a channel partner (no parent) or a partner's child (customer) organisation.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Org {
    /// Lower-case UUID.
    pub id: String,
    /// Company name.
    pub name: String,
    /// The partner organisation, for a child; `None` for a partner.
    pub parent: Option<String>,
    /// Creation time, RFC 3339.
    pub created_at: String,
    /// Marketplace offer links (meaningful for partners only).
    pub links: OfferLinks,
    /// The Labra subscription the child was registered with, if any.
    pub labra_subscription_id: Option<String>,
    /// Emails of the organisation's users (the registration contact, plan buyers).
    pub users: Vec<String>,
    /// The external id the org's CloudFormation trust policy names.
    pub external_id: String,
    /// The AWS onboarding record, once started.
    pub aws: Option<AwsOnboarding>,
    /// The Azure onboarding record, once an auth URL was requested.
    pub azure: Option<AzureOnboarding>,
    /// AWS accounts where the Archera stack is deployed (set by configuration or the admin side).
    pub deployed_aws_accounts: BTreeSet<String>,
    /// Azure subscriptions whose admin consent was granted (configuration or the admin side).
    pub consented_azure_subscriptions: BTreeSet<String>,
}

impl Org {
    /// Whether this is a channel partner organisation.
    pub fn is_partner(&self) -> bool {
        self.parent.is_none()
    }

    /// Whether the AWS record's account has the stack deployed.
    pub fn aws_connected(&self) -> bool {
        self.aws
            .as_ref()
            .and_then(|r| r.account_id.as_ref())
            .is_some_and(|a| self.deployed_aws_accounts.contains(a))
    }

    /// Whether the Azure record's subscription has consent granted.
    pub fn azure_connected(&self) -> bool {
        self.azure.as_ref().is_some_and(|r| {
            self.consented_azure_subscriptions
                .contains(&r.subscription_id)
        })
    }
}

/// A partner's three marketplace offer links.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct OfferLinks {
    /// AWS Marketplace.
    pub aws: Option<String>,
    /// Azure Marketplace.
    pub azure: Option<String>,
    /// Google Cloud Marketplace.
    pub gcp: Option<String>,
}

/// The AWS onboarding record of an organisation.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AwsOnboarding {
    /// UUID v4.
    pub onboarding_id: String,
    /// Creation time.
    pub created_at: String,
    /// The account last verified.
    pub account_id: Option<String>,
    /// The existing Cost and Usage Report adopted at verification, if one was named.
    pub existing_cur: Option<ExistingCur>,
}

/// A Cost and Usage Report the customer already publishes.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ExistingCur {
    /// AWS region.
    pub region: String,
    /// S3 bucket.
    pub bucket: String,
    /// Key prefix.
    pub prefix: String,
    /// Report name.
    pub report_name: String,
}

/// The Azure onboarding record of an organisation.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AzureOnboarding {
    /// UUID v4.
    pub onboarding_id: String,
    /// Creation time.
    pub created_at: String,
    /// Azure AD tenant.
    pub tenant_id: String,
    /// Azure subscription.
    pub subscription_id: String,
}

/// A purchase plan of an organisation for one provider. Money is kept in cents so an exported
/// state imports back exactly.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Plan {
    /// UUID v4.
    pub id: String,
    /// The organisation.
    pub org_id: String,
    /// `aws`, `azure`, `gcp`, `kubernetes` or `unknown`.
    pub provider: String,
    /// Display name.
    pub name: String,
    /// `new`, `in_progress`, … (the spec's enum).
    pub status: String,
    /// Still being computed: it can be neither recommended nor bought yet.
    pub is_calculating: bool,
    /// Locked once bought.
    pub is_locked: bool,
    /// Creation time.
    pub created_at: String,
    /// Last change.
    pub last_modified: String,
    /// Monthly cost before the plan, in cents.
    pub monthly_before_cents: u64,
    /// Monthly savings the plan yields, in cents.
    pub monthly_savings_cents: u64,
    /// Ids of the objects the plan document embeds.
    pub related: PlanIds,
    /// The purchase, once made.
    pub purchase: Option<Purchase>,
}

/// Ids of the segment, meta plan, execution policy and author a plan document shows.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PlanIds {
    /// The segment (all accounts of the provider).
    pub segment_id: String,
    /// The meta plan.
    pub meta_plan_id: String,
    /// The execution policy.
    pub policy_id: String,
    /// The user who created the plan.
    pub author_id: String,
}

/// A plan purchase.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Purchase {
    /// The buyer's email.
    pub email: String,
    /// The buyer's user id.
    pub user_id: String,
    /// When it was bought.
    pub at: String,
    /// The flagged purchase action the purchase recorded.
    pub action_id: String,
}

impl Plan {
    /// Whether the plan was already bought.
    pub fn purchased(&self) -> bool {
        matches!(self.status.as_str(), "in_progress" | "completed")
    }
}

/// Everything Archera stores. Organisations are added through [`ArcheraState::insert_org`],
/// which keeps each partner's children indexed: a create and a listing then cost what one
/// partner's children need, not a walk over every organisation.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(from = "StoredArchera")]
pub struct ArcheraState {
    /// Organisations by id.
    orgs: BTreeMap<String, Org>,
    /// Purchase plans by id.
    pub plans: BTreeMap<String, Plan>,
    /// Each partner's children: derived from `orgs` (name, parent and creation time never
    /// change once stored), never exported.
    #[serde(skip)]
    children: BTreeMap<String, Children>,
    /// How many onboarding records (AWS, Azure) the organisations hold: derived, so the
    /// resource count need not walk every organisation after each change.
    #[serde(skip)]
    records: usize,
}

/// One partner's children, as its listing orders them and its uniqueness rule compares them.
#[derive(Clone, Debug, Default, PartialEq)]
struct Children {
    /// `(created_at, id)`, oldest first: the listing's order.
    order: BTreeSet<(String, String)>,
    /// How many children carry each name, trimmed and in ASCII lower case (an imported state
    /// may hold two of one name).
    names: BTreeMap<String, usize>,
}

/// How many onboarding records an organisation holds.
fn records_of(org: &Org) -> usize {
    usize::from(org.aws.is_some()) + usize::from(org.azure.is_some())
}

/// The name as the uniqueness rule compares it: trimmed, ASCII letters in lower case.
fn name_key(name: &str) -> String {
    name.trim().to_ascii_lowercase()
}

/// What an export holds, and an import reads: the state without its index.
#[derive(Deserialize)]
struct StoredArchera {
    orgs: BTreeMap<String, Org>,
    plans: BTreeMap<String, Plan>,
}

impl From<StoredArchera> for ArcheraState {
    fn from(stored: StoredArchera) -> Self {
        let mut state = ArcheraState {
            plans: stored.plans,
            ..ArcheraState::default()
        };
        for org in stored.orgs.into_values() {
            state.insert_org(org);
        }
        state
    }
}

impl crate::vendors::Resources for ArcheraState {
    fn count(&self) -> usize {
        self.orgs.len() + self.plans.len() + self.records
    }
}

impl ArcheraState {
    /// Stores (or replaces) an organisation, indexing it under its partner.
    pub fn insert_org(&mut self, org: Org) {
        if let Some(old) = self.orgs.remove(&org.id) {
            self.unindex(&old);
        }
        self.records += records_of(&org);
        if let Some(partner) = &org.parent {
            let children = self.children.entry(partner.clone()).or_default();
            children
                .order
                .insert((org.created_at.clone(), org.id.clone()));
            *children.names.entry(name_key(&org.name)).or_insert(0) += 1;
        }
        self.orgs.insert(org.id.clone(), org);
    }

    /// Stores `org_id`'s AWS onboarding record (the org exists: the caller found it).
    pub fn set_aws(&mut self, org_id: &str, record: AwsOnboarding) {
        if let Some(org) = self.orgs.get_mut(org_id) {
            self.records += usize::from(org.aws.is_none());
            org.aws = Some(record);
        }
    }

    /// Stores `org_id`'s Azure onboarding record (the org exists: the caller found it).
    pub fn set_azure(&mut self, org_id: &str, record: AzureOnboarding) {
        if let Some(org) = self.orgs.get_mut(org_id) {
            self.records += usize::from(org.azure.is_none());
            org.azure = Some(record);
        }
    }

    fn unindex(&mut self, org: &Org) {
        self.records -= records_of(org);
        let Some(children) = org.parent.as_ref().and_then(|p| self.children.get_mut(p)) else {
            return;
        };
        children
            .order
            .remove(&(org.created_at.clone(), org.id.clone()));
        let key = name_key(&org.name);
        if let Some(n) = children.names.get_mut(&key) {
            *n -= 1;
            if *n == 0 {
                children.names.remove(&key);
            }
        }
    }

    /// The organisation with this (lower-case) id.
    pub fn org(&self, id: &str) -> Option<&Org> {
        self.orgs.get(id)
    }

    /// The organisation with this (lower-case) id, to change what the index does not hold:
    /// its links, users and accounts; never its name, parent, creation time or onboarding
    /// records ([`ArcheraState::set_aws`], [`ArcheraState::set_azure`]).
    pub fn org_mut(&mut self, id: &str) -> Option<&mut Org> {
        self.orgs.get_mut(id)
    }

    /// The children of `partner_id`, oldest first.
    pub fn children(&self, partner_id: &str) -> Vec<&Org> {
        self.children
            .get(partner_id)
            .into_iter()
            .flat_map(|c| c.order.iter())
            .filter_map(|(_, id)| self.orgs.get(id))
            .collect()
    }

    /// Whether one of `partner_id`'s children is named `name` (trimmed, ASCII letters in
    /// any case).
    pub fn has_child_named(&self, partner_id: &str, name: &str) -> bool {
        self.children
            .get(partner_id)
            .is_some_and(|c| c.names.contains_key(&name_key(name)))
    }

    /// The plans of `org_id`.
    pub fn plans_of<'a>(&'a self, org_id: &'a str) -> impl Iterator<Item = &'a Plan> + 'a {
        self.plans.values().filter(move |p| p.org_id == org_id)
    }
}
