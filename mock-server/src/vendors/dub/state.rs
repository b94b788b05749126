//! What Dub remembers: partners (global, keyed by email), their enrolments in programs, and links.

use std::collections::BTreeMap;

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

/// Everything Dub stores. Links are kept as the JSON objects the API returns.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct DubState {
    /// Partners by id.
    pub partners: BTreeMap<String, Partner>,
    /// Enrolments, in creation order.
    pub enrollments: Vec<Enrollment>,
    /// Links by id.
    pub links: BTreeMap<String, Map<String, Value>>,
}

impl crate::vendors::Resources for DubState {
    fn count(&self) -> usize {
        self.partners.len() + self.links.len()
    }
}

impl DubState {
    /// The partner with this email.
    pub fn partner_by_email(&self, email: &str) -> Option<&Partner> {
        self.partners
            .values()
            .find(|p| p.email.eq_ignore_ascii_case(email))
    }

    /// The enrolment of `partner_id` in `program_id`.
    pub fn enrollment(&self, program_id: &str, partner_id: &str) -> Option<&Enrollment> {
        self.enrollments
            .iter()
            .find(|e| e.program_id == program_id && e.partner_id == partner_id)
    }

    /// The enrolment in `program_id` carrying `tenant_id`.
    pub fn enrollment_by_tenant(&self, program_id: &str, tenant_id: &str) -> Option<&Enrollment> {
        self.enrollments
            .iter()
            .find(|e| e.program_id == program_id && e.tenant_id.as_deref() == Some(tenant_id))
    }

    /// The id of the link at `domain`/`key`, if any.
    pub fn link_by_key(&self, domain: &str, key: &str) -> Option<&str> {
        self.links
            .iter()
            .find(|(_, l)| text(l, "domain").eq_ignore_ascii_case(domain) && text(l, "key") == key)
            .map(|(id, _)| id.as_str())
    }

    /// The id of the link in `workspace_id` with this external id, if any.
    pub fn link_by_external_id(&self, workspace_id: &str, external_id: &str) -> Option<&str> {
        self.links
            .iter()
            .find(|(_, l)| {
                text(l, "workspaceId") == workspace_id && text(l, "externalId") == external_id
            })
            .map(|(id, _)| id.as_str())
    }
}

/// A string field of a stored link, or `""`.
pub fn text<'a>(link: &'a Map<String, Value>, field: &str) -> &'a str {
    link.get(field).and_then(Value::as_str).unwrap_or_default()
}
