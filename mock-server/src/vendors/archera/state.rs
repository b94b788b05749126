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

/// Everything Archera stores.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ArcheraState {
    /// Organisations by id.
    pub orgs: BTreeMap<String, Org>,
    /// Purchase plans by id.
    pub plans: BTreeMap<String, Plan>,
}

impl crate::vendors::Resources for ArcheraState {
    fn count(&self) -> usize {
        let records: usize = self
            .orgs
            .values()
            .map(|o| usize::from(o.aws.is_some()) + usize::from(o.azure.is_some()))
            .sum();
        self.orgs.len() + self.plans.len() + records
    }
}

impl ArcheraState {
    /// The children of `partner_id`, oldest first.
    pub fn children(&self, partner_id: &str) -> Vec<&Org> {
        let mut children: Vec<&Org> = self
            .orgs
            .values()
            .filter(|o| o.parent.as_deref() == Some(partner_id))
            .collect();
        children.sort_by(|a, b| (&a.created_at, &a.id).cmp(&(&b.created_at, &b.id)));
        children
    }

    /// The plans of `org_id`.
    pub fn plans_of<'a>(&'a self, org_id: &'a str) -> impl Iterator<Item = &'a Plan> + 'a {
        self.plans.values().filter(move |p| p.org_id == org_id)
    }
}
