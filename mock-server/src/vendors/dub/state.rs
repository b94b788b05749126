//! What Dub remembers: partners (global, keyed by email), their enrolments in programs, and links.

use std::collections::{BTreeMap, HashMap};

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// A partner: one per email across all programs.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Partner {
    /// `pn_…`.
    pub id: String,
    /// Full name.
    pub name: String,
    /// Email, the partner's identity across programs.
    pub email: String,
    /// Avatar URL.
    pub image: Option<String>,
    /// Country code; new partners get `US` in this Dub version.
    pub country: String,
    /// Creation time.
    pub created_at: String,
    /// Last change.
    pub updated_at: String,
}

/// A partner's enrolment in one program.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Enrollment {
    /// The partner.
    pub partner_id: String,
    /// The program.
    pub program_id: String,
    /// The partner's id in the workspace's own system.
    pub tenant_id: Option<String>,
    /// Always `approved` when created through the API.
    pub status: String,
}

/// Everything Dub stores, as it is exported and imported.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
struct Stored {
    partners: BTreeMap<String, Partner>,
    enrollments: Vec<Enrollment>,
    links: BTreeMap<String, Map<String, Value>>,
}

/// Everything Dub stores. Links are kept as the JSON objects the API returns. Lookups by email,
/// short link and enrolment go through indexes rebuilt on import, so a create costs the same
/// with ten thousand partners as with ten; the indexes are never exported.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(from = "Stored", into = "Stored")]
pub struct DubState {
    partners: BTreeMap<String, Partner>,
    enrollments: Vec<Enrollment>,
    links: BTreeMap<String, Map<String, Value>>,
    by_email: HashMap<String, String>,
    by_short_link: HashMap<(String, String), String>,
    by_partner: HashMap<(String, String), usize>,
    by_tenant: HashMap<(String, String), usize>,
}

impl From<Stored> for DubState {
    fn from(stored: Stored) -> Self {
        let mut state = DubState::default();
        for partner in stored.partners.into_values() {
            state.insert_partner(partner);
        }
        for enrollment in stored.enrollments {
            state.push_enrollment(enrollment);
        }
        for (id, link) in stored.links {
            state.insert_link(id, link);
        }
        state
    }
}

impl From<DubState> for Stored {
    fn from(state: DubState) -> Self {
        Stored {
            partners: state.partners,
            enrollments: state.enrollments,
            links: state.links,
        }
    }
}

impl crate::vendors::Resources for DubState {
    fn count(&self) -> usize {
        self.partners.len() + self.links.len()
    }
}

impl DubState {
    /// Stores (or replaces) a partner.
    pub fn insert_partner(&mut self, partner: Partner) {
        self.by_email
            .insert(partner.email.to_ascii_lowercase(), partner.id.clone());
        self.partners.insert(partner.id.clone(), partner);
    }

    /// Stores an enrolment.
    pub fn push_enrollment(&mut self, enrollment: Enrollment) {
        let index = self.enrollments.len();
        let program = enrollment.program_id.clone();
        self.by_partner
            .insert((program.clone(), enrollment.partner_id.clone()), index);
        if let Some(tenant) = &enrollment.tenant_id {
            self.by_tenant.insert((program, tenant.clone()), index);
        }
        self.enrollments.push(enrollment);
    }

    /// Stores (or replaces) the link `id`, keeping the short-link index in step.
    pub fn insert_link(&mut self, id: String, link: Map<String, Value>) {
        if let Some(old) = self.links.get(&id) {
            self.by_short_link.remove(&short_link_key(old));
        }
        self.by_short_link.insert(short_link_key(&link), id.clone());
        self.links.insert(id, link);
    }

    /// The stored link `id`.
    pub fn link(&self, id: &str) -> Option<&Map<String, Value>> {
        self.links.get(id)
    }

    /// The partner with this email.
    pub fn partner_by_email(&self, email: &str) -> Option<&Partner> {
        self.by_email
            .get(&email.to_ascii_lowercase())
            .and_then(|id| self.partners.get(id))
    }

    /// The enrolment of `partner_id` in `program_id`.
    pub fn enrollment(&self, program_id: &str, partner_id: &str) -> Option<&Enrollment> {
        self.by_partner
            .get(&(program_id.to_string(), partner_id.to_string()))
            .map(|i| &self.enrollments[*i])
    }

    /// The enrolment in `program_id` carrying `tenant_id`.
    pub fn enrollment_by_tenant(&self, program_id: &str, tenant_id: &str) -> Option<&Enrollment> {
        self.by_tenant
            .get(&(program_id.to_string(), tenant_id.to_string()))
            .map(|i| &self.enrollments[*i])
    }

    /// The id of the link at `domain`/`key`, if any.
    pub fn link_by_key(&self, domain: &str, key: &str) -> Option<&str> {
        self.by_short_link
            .get(&(domain.to_ascii_lowercase(), key.to_string()))
            .map(String::as_str)
    }

    /// The id of the link in `workspace_id` with this external id, if any. (A scan: only links
    /// sent with an external id ask.)
    pub fn link_by_external_id(&self, workspace_id: &str, external_id: &str) -> Option<&str> {
        self.links
            .iter()
            .find(|(_, l)| {
                text(l, "workspaceId") == workspace_id && text(l, "externalId") == external_id
            })
            .map(|(id, _)| id.as_str())
    }

    /// Every link, by id.
    pub fn links(&self) -> impl Iterator<Item = (&String, &Map<String, Value>)> {
        self.links.iter()
    }
}

/// The short-link index key: the domain (case-insensitive, as Dub compares it) and the key.
fn short_link_key(link: &Map<String, Value>) -> (String, String) {
    (
        text(link, "domain").to_ascii_lowercase(),
        text(link, "key").to_string(),
    )
}

/// A string field of a stored link, or `""`.
pub fn text<'a>(link: &'a Map<String, Value>, field: &str) -> &'a str {
    link.get(field).and_then(Value::as_str).unwrap_or_default()
}
