//! What Dub remembers: partners (global, keyed by email), their enrolments in programs, links,
//! and the events (clicks, leads, sales) recorded on links.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use super::link::Link;

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
    /// Country code; `US` when none was given.
    pub country: String,
    /// Creation time.
    pub created_at: String,
    /// Last change.
    pub updated_at: String,
    /// The username the partner was created with (its first link key).
    #[serde(default)]
    pub username: Option<String>,
    /// The description given at creation.
    #[serde(default)]
    pub description: Option<String>,
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
    /// `approved` when created through the API; `banned`, `deactivated` … later.
    pub status: String,
    /// When the enrolment was made (imports from before this field: empty).
    #[serde(default)]
    pub created_at: String,
    /// The partner group given at creation or update.
    #[serde(default)]
    pub group_id: Option<String>,
    /// When the partner was banned from the program.
    #[serde(default)]
    pub banned_at: Option<String>,
    /// Why the partner was banned (one of the SDK's ban reasons).
    #[serde(default)]
    pub banned_reason: Option<String>,
}

/// Events recorded on a link in one admin action, at one moment.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Event {
    /// When they happened, RFC 3339 in UTC.
    pub at: String,
    /// Clicks.
    pub clicks: u64,
    /// Leads.
    pub leads: u64,
    /// Sales.
    pub sales: u64,
    /// Sale amount in cents.
    pub sale_amount: u64,
    /// The partner's commission on these sales, in cents.
    pub earnings: u64,
}

/// Everything Dub stores, as it is exported and imported (sorted by id, so exports diff well).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
struct Stored {
    partners: BTreeMap<String, Partner>,
    enrollments: Vec<Enrollment>,
    links: BTreeMap<String, Link>,
    #[serde(default)]
    events: BTreeMap<String, Vec<Event>>,
}

/// Where a link points: its workspace, program and destination URL.
type Target = (String, String, String);

/// Everything Dub stores. Lookups by email, short link, external id, link target and
/// enrolment go through indexes rebuilt on import, so a create costs the same with a hundred
/// thousand partners as with ten; the indexes are never exported. Everything that grows with
/// traffic is a B-tree: a hash table doubles all at once, and at 30,000 partners the doubling
/// of these maps held the lock for 56 ms (the benchmark's p99), where a B-tree grows a node at
/// a time.
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(from = "Stored")]
pub struct DubState {
    partners: BTreeMap<String, Partner>,
    enrollments: Vec<Enrollment>,
    links: BTreeMap<String, Link>,
    /// Recorded events by link id, oldest first.
    events: BTreeMap<String, Vec<Event>>,
    by_email: BTreeMap<String, String>,
    /// Link ids by owner (partner, program), in the order they were made: a partner's links
    /// for listings and analytics, whose ties (links made in the same millisecond) keep that
    /// order.
    by_owner: BTreeMap<(String, String), Vec<String>>,
    by_short_link: BTreeMap<(String, String), String>,
    by_external_id: BTreeMap<(String, String), String>,
    /// Link ids per (workspace, program, URL), in id order: what the upsert looks for. Every
    /// partner link of a program usually points at the program's URL, so these sets are large.
    by_target: BTreeMap<Target, BTreeSet<String>>,
    /// The same per partner (first in the key, so comparisons stop at the partner), for an
    /// upsert that names its partner.
    by_partner_target: BTreeMap<(String, Target), BTreeSet<String>>,
    /// Enrolments by (partner, program) and (tenant, program): the partner or tenant comes
    /// first, so a comparison settles on it instead of first reading the program id, which
    /// nearly every entry shares.
    by_partner: BTreeMap<(String, String), usize>,
    by_tenant: BTreeMap<(String, String), usize>,
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
        state.events = stored.events;
        state
    }
}

/// Serialised as [`Stored`], from borrowed fields: `into = "Stored"` would clone the whole
/// state first, doubling an export's memory.
impl Serialize for DubState {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        #[derive(Serialize)]
        struct StoredRef<'a> {
            partners: &'a BTreeMap<String, Partner>,
            enrollments: &'a [Enrollment],
            links: &'a BTreeMap<String, Link>,
            events: &'a BTreeMap<String, Vec<Event>>,
        }
        StoredRef {
            partners: &self.partners,
            enrollments: &self.enrollments,
            links: &self.links,
            events: &self.events,
        }
        .serialize(serializer)
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
            .insert((enrollment.partner_id.clone(), program.clone()), index);
        if let Some(tenant) = &enrollment.tenant_id {
            self.by_tenant.insert((tenant.clone(), program), index);
        }
        self.enrollments.push(enrollment);
    }

    /// Stores (or replaces) the link `id`, keeping the indexes in step.
    pub fn insert_link(&mut self, id: String, link: Link) {
        if let Some(old) = self.links.remove(&id) {
            self.by_short_link.remove(&short_link_key(&old));
            if let Some(external) = external_key(&old) {
                self.by_external_id.remove(&external);
            }
            let target = target_key(&old);
            if let Some(ids) = self.by_target.get_mut(&target) {
                ids.remove(&id);
            }
            // A link replaced under the same owner keeps its place in the owner's order.
            if owner_key(&old) != owner_key(&link)
                && let Some(ids) = self.by_owner.get_mut(&owner_key(&old))
            {
                ids.retain(|known| *known != id);
            }
            let partner = old.partner_id.unwrap_or_default();
            if let Some(ids) = self.by_partner_target.get_mut(&(partner, target)) {
                ids.remove(&id);
            }
        }
        self.by_short_link.insert(short_link_key(&link), id.clone());
        if let Some(external) = external_key(&link) {
            self.by_external_id.insert(external, id.clone());
        }
        // Kept in id order, so which of several matching links an upsert finds does not
        // depend on the order they were created or imported in.
        let target = target_key(&link);
        match self.by_target.get_mut(&target) {
            Some(ids) => {
                ids.insert(id.clone());
            }
            None => {
                self.by_target
                    .insert(target.clone(), BTreeSet::from([id.clone()]));
            }
        }
        self.by_partner_target
            .entry((link.partner_id.clone().unwrap_or_default(), target))
            .or_default()
            .insert(id.clone());
        let owned = self.by_owner.entry(owner_key(&link)).or_default();
        if !owned.contains(&id) {
            owned.push(id.clone());
        }
        self.links.insert(id, link);
    }

    /// The stored link `id`.
    pub fn link(&self, id: &str) -> Option<&Link> {
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
            .get(&(partner_id.to_string(), program_id.to_string()))
            .map(|i| &self.enrollments[*i])
    }

    /// The enrolment in `program_id` carrying `tenant_id`.
    pub fn enrollment_by_tenant(&self, program_id: &str, tenant_id: &str) -> Option<&Enrollment> {
        self.by_tenant
            .get(&(tenant_id.to_string(), program_id.to_string()))
            .map(|i| &self.enrollments[*i])
    }

    /// The id of the link at `domain`/`key`, if any.
    pub fn link_by_key(&self, domain: &str, key: &str) -> Option<&str> {
        self.by_short_link
            .get(&(domain.to_ascii_lowercase(), key.to_string()))
            .map(String::as_str)
    }

    /// The id of the link in `workspace_id` with this external id, if any.
    pub fn link_by_external_id(&self, workspace_id: &str, external_id: &str) -> Option<&str> {
        self.by_external_id
            .get(&(workspace_id.to_string(), external_id.to_string()))
            .map(String::as_str)
    }

    /// The partner `id`.
    pub fn partner(&self, id: &str) -> Option<&Partner> {
        self.partners.get(id)
    }

    /// Every enrolment in `program_id`, in the order they were made.
    pub fn enrollments_in<'s>(
        &'s self,
        program_id: &'s str,
    ) -> impl Iterator<Item = &'s Enrollment> {
        self.enrollments
            .iter()
            .filter(move |e| e.program_id == program_id)
    }

    /// Changes the enrolment of `partner_id` in `program_id` with `change`, keeping the tenant
    /// index in step. Returns whether there was one.
    pub fn update_enrollment(
        &mut self,
        program_id: &str,
        partner_id: &str,
        change: impl FnOnce(&mut Enrollment),
    ) -> bool {
        let key = (partner_id.to_string(), program_id.to_string());
        let Some(&index) = self.by_partner.get(&key) else {
            return false;
        };
        let enrollment = &mut self.enrollments[index];
        let old_tenant = enrollment.tenant_id.clone();
        change(enrollment);
        let new_tenant = enrollment.tenant_id.clone();
        if old_tenant != new_tenant {
            if let Some(old) = old_tenant {
                self.by_tenant.remove(&(old, program_id.to_string()));
            }
            if let Some(new) = new_tenant {
                self.by_tenant.insert((new, program_id.to_string()), index);
            }
        }
        true
    }

    /// The links of `partner_id` in `program_id`, oldest first; links made in the same
    /// millisecond keep the order they were made in (the owner index holds them in that order),
    /// so two fakes given the same requests list them alike however fast they ran.
    pub fn links_of(&self, partner_id: &str, program_id: &str) -> Vec<&Link> {
        let mut links: Vec<&Link> = self
            .by_owner
            .get(&(partner_id.to_string(), program_id.to_string()))
            .into_iter()
            .flatten()
            .filter_map(|id| self.links.get(id))
            .collect();
        links.sort_by(|a, b| a.created_at.cmp(&b.created_at));
        links
    }

    /// Changes every link of `partner_id` in `program_id` with `change`.
    pub fn update_links_of(
        &mut self,
        partner_id: &str,
        program_id: &str,
        mut change: impl FnMut(&mut Link),
    ) {
        let ids: Vec<String> = self
            .by_owner
            .get(&(partner_id.to_string(), program_id.to_string()))
            .into_iter()
            .flatten()
            .cloned()
            .collect();
        for id in ids {
            if let Some(link) = self.links.get_mut(&id) {
                // Only fields outside every index change here (no key, URL or owner).
                change(link);
            }
        }
    }

    /// The events recorded on link `id`, oldest first.
    pub fn events_of(&self, id: &str) -> &[Event] {
        self.events.get(id).map_or(&[], Vec::as_slice)
    }

    /// Records `event` on link `id` and adds it to the link's counters.
    pub fn record_event(&mut self, id: &str, event: Event) {
        if let Some(link) = self.links.get_mut(id) {
            let add = |slot: &mut serde_json::Value, by: u64| {
                *slot = serde_json::json!(slot.as_u64().unwrap_or(0).saturating_add(by));
            };
            add(&mut link.clicks, event.clicks);
            add(&mut link.leads, event.leads);
            add(&mut link.sales, event.sales);
            add(&mut link.sale_amount, event.sale_amount);
            let later = link
                .last_clicked
                .as_str()
                .is_none_or(|last| last < event.at.as_str());
            if event.clicks > 0 && later {
                link.last_clicked = serde_json::json!(event.at);
            }
            self.events.entry(id.to_string()).or_default().push(event);
        }
    }

    /// The first link (in id order) of `program_id` in `workspace_id` pointing at exactly
    /// `url`, of `partner_id` when one is named.
    pub fn first_link_to(
        &self,
        workspace_id: &str,
        program_id: &str,
        url: &str,
        partner_id: Option<&str>,
    ) -> Option<&Link> {
        let target = (
            workspace_id.to_string(),
            program_id.to_string(),
            url.to_string(),
        );
        let ids = match partner_id {
            None => self.by_target.get(&target),
            Some(partner) => self.by_partner_target.get(&(partner.to_string(), target)),
        };
        ids.and_then(|ids| ids.first()).and_then(|id| self.link(id))
    }
}

/// The owner index key: a link's partner and program.
fn owner_key(link: &Link) -> (String, String) {
    (
        link.partner_id.clone().unwrap_or_default(),
        link.program_id.clone().unwrap_or_default(),
    )
}

/// The upsert index key: a link's workspace, program and destination URL.
fn target_key(link: &Link) -> Target {
    (
        link.workspace_id.clone(),
        link.program_id.clone().unwrap_or_default(),
        link.url.clone(),
    )
}

/// The uniqueness key of a short link: its domain (case-insensitive) and key.
fn short_link_key(link: &Link) -> (String, String) {
    (link.domain.to_ascii_lowercase(), link.key.clone())
}

/// The uniqueness key of an external id, within its workspace.
fn external_key(link: &Link) -> Option<(String, String)> {
    link.external_id
        .as_ref()
        .filter(|e| !e.is_empty())
        .map(|e| (link.workspace_id.clone(), e.clone()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn link(id: &str, at: &str) -> Link {
        Link {
            id: id.into(),
            key: id.into(),
            partner_id: Some("pn_1".into()),
            program_id: Some("prog_1".into()),
            created_at: at.into(),
            ..Link::default()
        }
    }

    fn ids(state: &DubState) -> Vec<&str> {
        state
            .links_of("pn_1", "prog_1")
            .into_iter()
            .map(|l| l.id.as_str())
            .collect()
    }

    #[test]
    fn links_made_in_the_same_millisecond_list_in_the_order_they_were_made() {
        let at = "2026-12-01T00:00:00.000Z";
        let mut state = DubState::default();
        state.insert_link("link_z".into(), link("link_z", at));
        state.insert_link("link_a".into(), link("link_a", at));
        state.insert_link("link_m".into(), link("link_m", "2026-11-30T00:00:00.000Z"));
        assert_eq!(ids(&state), ["link_m", "link_z", "link_a"]);
        // Replacing a link (an upsert's update) keeps its place.
        let mut changed = link("link_z", at);
        changed.url = "https://example.com/changed".into();
        state.insert_link("link_z".into(), changed);
        assert_eq!(ids(&state), ["link_m", "link_z", "link_a"]);
    }
}
