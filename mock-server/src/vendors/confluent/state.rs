//! What Confluent remembers: customer organizations, marketplace entitlements and the linking
//! tokens customers obtain for their existing organizations.
//!
//! The same types describe the seeded world in the configuration, so the default configuration
//! is literally the first state.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// Where the vendor's own resource URLs start; `Location` headers and entitlement references
/// use it whatever address the fake is served on, because that is what clients store.
pub const API_BASE: &str = "https://api.confluent.cloud";

/// A user of an organization, as signup or activate created it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct User {
    /// Given name.
    pub given_name: String,
    /// Family name.
    pub family_name: String,
    /// E-mail address, the user's login.
    pub email: String,
}

/// A customer organization created through a partner.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Organization {
    /// UUID.
    pub id: String,
    /// Display name.
    pub name: String,
    /// The Azure AD tenant its single sign-on goes through.
    pub sso_tenant_id: String,
    /// Its users; an organization without any is an incomplete signup awaiting activation.
    #[serde(default)]
    pub users: Vec<User>,
}

impl Organization {
    /// Whether the signup is finished (a first user exists).
    pub fn complete(&self) -> bool {
        !self.users.is_empty()
    }

    /// The organization's API URL, named by `Location` on a conflicting activation.
    pub fn url(&self) -> String {
        organization_url(&self.id)
    }

    /// The sign-in URL the customer is sent to.
    pub fn sso_url(&self) -> String {
        format!("https://confluent.cloud/login/sso/{}", self.id)
    }
}

/// A marketplace entitlement: created by a signup or a link, or registered beforehand (seeded)
/// and then attached by reference.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Entitlement {
    /// `ent-…`.
    pub id: String,
    /// The marketplace's id for it; unique across the fake.
    pub external_id: String,
    /// Display name.
    pub name: String,
    /// Marketplace plan.
    pub plan_id: String,
    /// Marketplace product.
    pub product_id: String,
    /// The organization it bills; `None` while it waits to be referenced by a signup or link.
    #[serde(default)]
    pub organization_id: Option<String>,
}

impl Entitlement {
    /// The entitlement's API URL: the `related` of a reference, the `Location` of a conflict.
    pub fn url(&self) -> String {
        entitlement_url(&self.id)
    }
}

/// A linking token a customer obtained for an existing organization; it works once.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LinkingToken {
    /// The token text.
    pub token: String,
    /// The organization it links to.
    pub organization_id: String,
    /// Whether a link already consumed it.
    #[serde(default)]
    pub used: bool,
}

/// Everything Confluent stores. Entitlements are added through
/// [`ConfluentState::insert_entitlement`], which keeps them indexed by marketplace id: a signup
/// then finds a reused entitlement without a walk over every one stored.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(from = "StoredConfluent")]
pub struct ConfluentState {
    /// Organizations by id.
    pub organizations: BTreeMap<String, Organization>,
    /// Entitlements by id.
    entitlements: BTreeMap<String, Entitlement>,
    /// Linking tokens by token text.
    pub linking_tokens: BTreeMap<String, LinkingToken>,
    /// The first entitlement id (in id order) of each marketplace id: derived from
    /// `entitlements` (a marketplace id never changes once stored), never exported.
    #[serde(skip)]
    by_external_id: BTreeMap<String, String>,
}

/// What an export holds, and an import reads: the state without its index.
#[derive(Deserialize)]
struct StoredConfluent {
    organizations: BTreeMap<String, Organization>,
    entitlements: BTreeMap<String, Entitlement>,
    linking_tokens: BTreeMap<String, LinkingToken>,
}

impl From<StoredConfluent> for ConfluentState {
    fn from(stored: StoredConfluent) -> Self {
        let mut state = ConfluentState {
            organizations: stored.organizations,
            linking_tokens: stored.linking_tokens,
            ..ConfluentState::default()
        };
        for entitlement in stored.entitlements.into_values() {
            state.insert_entitlement(entitlement);
        }
        state
    }
}

impl crate::vendors::Resources for ConfluentState {
    fn count(&self) -> usize {
        self.organizations.len() + self.entitlements.len()
    }
}

impl ConfluentState {
    /// The state a configuration seeds.
    pub fn seeded(
        organizations: &[Organization],
        entitlements: &[Entitlement],
        tokens: &[LinkingToken],
    ) -> Self {
        StoredConfluent {
            organizations: organizations
                .iter()
                .map(|o| (o.id.clone(), o.clone()))
                .collect(),
            entitlements: entitlements
                .iter()
                .map(|e| (e.id.clone(), e.clone()))
                .collect(),
            linking_tokens: tokens
                .iter()
                .map(|t| (t.token.clone(), t.clone()))
                .collect(),
        }
        .into()
    }

    /// The entitlement with this marketplace id (the first in id order, should an import hold
    /// two).
    pub fn entitlement_by_external_id(&self, external_id: &str) -> Option<&Entitlement> {
        self.entitlements.get(self.by_external_id.get(external_id)?)
    }

    /// Stores a new entitlement.
    pub fn insert_entitlement(&mut self, entitlement: Entitlement) {
        self.by_external_id
            .entry(entitlement.external_id.clone())
            .and_modify(|first| {
                if entitlement.id < *first {
                    first.clone_from(&entitlement.id);
                }
            })
            .or_insert_with(|| entitlement.id.clone());
        self.entitlements
            .insert(entitlement.id.clone(), entitlement);
    }

    /// Every entitlement, by id.
    pub fn entitlements(&self) -> &BTreeMap<String, Entitlement> {
        &self.entitlements
    }

    /// The entitlement with this id, to change what the index does not hold (its
    /// organization, never its marketplace id).
    pub fn entitlement_mut(&mut self, id: &str) -> Option<&mut Entitlement> {
        self.entitlements.get_mut(id)
    }
}

/// `{API_BASE}/partner/v2/organizations/{id}`.
pub fn organization_url(id: &str) -> String {
    format!("{API_BASE}/partner/v2/organizations/{id}")
}

/// `{API_BASE}/partner/v2/entitlements/{id}`.
pub fn entitlement_url(id: &str) -> String {
    format!("{API_BASE}/partner/v2/entitlements/{id}")
}

/// The entitlement id an entitlement URL names: the segment after `/partner/v2/entitlements/`
/// at the end of its path, whatever the host and prefix (a client may have stored a URL of the
/// fake, e.g. `http://127.0.0.1:4141/confluent/partner/v2/entitlements/{id}`).
pub fn entitlement_id_of(related: &str) -> Option<String> {
    let url = url::Url::parse(related).ok()?;
    let path = url.path().trim_end_matches('/');
    let (_, id) = path.rsplit_once("/partner/v2/entitlements/")?;
    (!id.is_empty() && !id.contains('/')).then(|| id.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entitlement_references_are_read_from_their_path() {
        assert_eq!(
            entitlement_id_of("https://api.confluent.cloud/partner/v2/entitlements/ent-1"),
            Some("ent-1".into())
        );
        assert_eq!(
            entitlement_id_of("http://127.0.0.1:4141/confluent/partner/v2/entitlements/ent-1/"),
            Some("ent-1".into())
        );
        assert_eq!(
            entitlement_id_of("https://api.confluent.cloud/partner/v2/organizations/x"),
            None
        );
        assert_eq!(entitlement_id_of("not a url"), None);
        assert_eq!(
            entitlement_id_of("https://api.confluent.cloud/partner/v2/entitlements/a/b"),
            None
        );
    }
}
