//! What CloudCockpit knows: tenants (a CSP each, reached through its portal domains), their
//! resellers, and their customers with the provider instances that identify them.
//!
//! The same types describe the seeded world in the configuration, so the default configuration
//! is literally the first state.

use serde::{Deserialize, Serialize};

/// A CSP tenant of CloudCockpit.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Tenant {
    /// GUID.
    pub id: String,
    /// Display name.
    pub name: String,
    /// The portal domains that select this tenant through `X-Tenant`.
    pub domains: Vec<String>,
    /// The CSP's Microsoft partner tenant id, which customers accept a relationship with.
    pub partner_id: String,
    /// The CSP's resellers.
    #[serde(default)]
    pub resellers: Vec<Reseller>,
    /// The CSP's customers, direct or through a reseller.
    #[serde(default)]
    pub customers: Vec<Customer>,
}

/// An indirect reseller working under a CSP.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Reseller {
    /// GUID, the `resellerId` of the API.
    pub id: String,
    /// Display name.
    pub name: String,
    /// The reseller's Microsoft partner tenant id.
    pub partner_id: String,
}

/// A customer of a CSP.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Customer {
    /// GUID of the customer record.
    pub id: String,
    /// Display name.
    pub name: String,
    /// The reseller that serves it; `None` for a direct customer of the CSP.
    #[serde(default)]
    pub reseller_id: Option<String>,
    /// GUIDs of the customer's provider instances (its accounts at cloud providers); any of
    /// them is a valid `providerInstanceId`.
    pub provider_instance_ids: Vec<String>,
}

/// Everything CloudCockpit stores.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct CloudCockpitState {
    /// The tenants, in configuration order.
    pub tenants: Vec<Tenant>,
}

impl crate::vendors::Resources for CloudCockpitState {
    fn count(&self) -> usize {
        self.tenants
            .iter()
            .map(|t| t.resellers.len() + t.customers.len())
            .sum()
    }
}

impl CloudCockpitState {
    /// The tenant one of whose domains is `domain` (domains compare case-insensitively).
    pub fn tenant_by_domain(&self, domain: &str) -> Option<&Tenant> {
        self.tenants
            .iter()
            .find(|t| t.domains.iter().any(|d| d.eq_ignore_ascii_case(domain)))
    }
}

impl Tenant {
    /// The reseller with this GUID.
    pub fn reseller(&self, id: &str) -> Option<&Reseller> {
        self.resellers.iter().find(|r| same_guid(&r.id, id))
    }

    /// The customer one of whose provider instances is `provider_instance_id`.
    pub fn customer_by_instance(&self, provider_instance_id: &str) -> Option<&Customer> {
        self.customers.iter().find(|c| {
            c.provider_instance_ids
                .iter()
                .any(|p| same_guid(p, provider_instance_id))
        })
    }
}

/// GUIDs compare without regard to case, as .NET's `Guid` does.
pub fn same_guid(a: &str, b: &str) -> bool {
    a.eq_ignore_ascii_case(b)
}
