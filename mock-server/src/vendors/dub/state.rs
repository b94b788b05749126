//! What Dub remembers: partners (global, keyed by email), their enrolments in programs, links,
//! and the events (clicks, leads, sales) recorded on links.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::link::{Field, Link};
use crate::vendors::index::{AsciiLowercase, Chunked, Index, hash_of};

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

/// Everything Dub stores, as it is imported (exports write the same shape from borrowed
/// fields, sorted by id, so they diff well).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
struct Stored {
    partners: BTreeMap<String, Partner>,
    enrollments: Vec<Enrollment>,
    links: BTreeMap<String, Link>,
    #[serde(default)]
    events: BTreeMap<String, Vec<Event>>,
}

/// Everything Dub stores. Partners, enrolments and links are kept in the order they were
/// stored, and found through indexes from a key's hash to positions, rebuilt on import (they
/// are never exported): a create costs the same with a hundred thousand partners as with ten,
/// and an index entry is 16 bytes where a copy of its key's strings was 100 to 500. Every
/// index answers with the records it holds under the key's hash, and each lookup keeps only
/// those whose key is the one it wanted.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(from = "Stored")]
pub struct DubState {
    partners: Chunked<Partner>,
    /// Partners by id.
    partner_ids: Index,
    /// Partners by email, in ASCII lower case.
    by_email: Index,
    enrollments: Chunked<Enrollment>,
    /// Enrolments by (partner, program) and by (tenant, program).
    by_partner: Index,
    by_tenant: Index,
    links: Chunked<Link>,
    /// Links by id.
    link_ids: Index,
    /// Links by owner (partner, program): a position is the order links were made in, which
    /// listings and analytics keep for links made in the same millisecond.
    by_owner: Index,
    /// Links by (domain in lower case, key).
    by_short_link: Index,
    /// Links by (workspace, external id).
    by_external_id: Index,
    /// For each (workspace, program, URL), the first of its links in id order: what the upsert
    /// finds. Every partner link of a program usually points at the program's URL, so this is
    /// one entry per program, not one per link.
    by_target: Index,
    /// The same per (partner, workspace, program, URL), for an upsert that names its partner.
    by_partner_target: Index,
    /// Recorded events by link id, oldest first.
    events: BTreeMap<String, Vec<Event>>,
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

/// Records serialised as a map from their ids, sorted by id.
struct ById<'a, T>(Vec<(&'a str, &'a T)>);

impl<'a, T> ById<'a, T> {
    fn new(records: impl Iterator<Item = &'a T>, id: impl Fn(&T) -> &str) -> Self {
        let mut sorted: Vec<(&str, &T)> = records.map(|r| (id(r), r)).collect();
        sorted.sort_unstable_by(|a, b| a.0.cmp(b.0));
        ById(sorted)
    }
}

impl<T: Serialize> Serialize for ById<'_, T> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_map(self.0.iter().map(|(id, r)| (id, r)))
    }
}

/// Serialised as [`Stored`], from borrowed fields: `into = "Stored"` would clone the whole
/// state first, doubling an export's memory (the sorted lists of references cost 16 bytes
/// per record).
impl Serialize for DubState {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        #[derive(Serialize)]
        struct StoredRef<'a> {
            partners: ById<'a, Partner>,
            enrollments: Enrollments<'a>,
            links: ById<'a, Link>,
            events: &'a BTreeMap<String, Vec<Event>>,
        }
        struct Enrollments<'a>(&'a Chunked<Enrollment>);
        impl Serialize for Enrollments<'_> {
            fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.collect_seq(self.0.iter())
            }
        }
        StoredRef {
            partners: ById::new(self.partners.iter(), |p| &p.id),
            enrollments: Enrollments(&self.enrollments),
            links: ById::new(self.links.iter(), |l| &l.id),
            events: &self.events,
        }
        .serialize(serializer)
    }
}

/// Equal when they store the same partners, enrolments (in order), links and events, however
/// they came to be stored.
impl PartialEq for DubState {
    fn eq(&self, other: &Self) -> bool {
        fn partners(s: &DubState) -> Vec<(&str, &Partner)> {
            ById::new(s.partners.iter(), |p| &p.id).0
        }
        fn links(s: &DubState) -> Vec<(&str, &Link)> {
            ById::new(s.links.iter(), |l| &l.id).0
        }
        self.enrollments == other.enrollments
            && self.events == other.events
            && partners(self) == partners(other)
            && links(self) == links(other)
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
        let email = hash_of(&AsciiLowercase(&partner.email));
        match self.partner_position(&partner.id) {
            Some(at) => {
                if let Some(old) = self.partners.get_mut(at) {
                    self.by_email
                        .remove(hash_of(&AsciiLowercase(&old.email)), at);
                    *old = partner;
                }
                self.by_email.insert(email, at);
            }
            None => {
                let id = hash_of(&partner.id);
                let at = self.partners.push(partner);
                self.partner_ids.insert(id, at);
                self.by_email.insert(email, at);
            }
        }
    }

    fn partner_position(&self, id: &str) -> Option<u32> {
        self.partner_ids
            .candidates(hash_of(&id))
            .find(|at| self.partners.get(*at).is_some_and(|p| p.id == id))
    }

    /// Stores an enrolment.
    pub fn push_enrollment(&mut self, enrollment: Enrollment) {
        let by_partner = hash_of(&(&enrollment.partner_id, &enrollment.program_id));
        let by_tenant = enrollment
            .tenant_id
            .as_ref()
            .map(|tenant| hash_of(&(tenant, &enrollment.program_id)));
        let at = self.enrollments.push(enrollment);
        self.by_partner.insert(by_partner, at);
        if let Some(hash) = by_tenant {
            self.by_tenant.insert(hash, at);
        }
    }

    /// Stores (or replaces) the link `id`, keeping the indexes in step.
    pub fn insert_link(&mut self, id: String, mut link: Link) {
        link.id = id;
        let Some(at) = self.link_position(&link.id) else {
            let id_hash = hash_of(&link.id);
            let at = self.links.push(link);
            self.link_ids.insert(id_hash, at);
            self.file_link(at);
            return;
        };
        self.unfile_link(at);
        if let Some(slot) = self.links.get_mut(at) {
            *slot = link;
        }
        self.file_link(at);
    }

    fn link_position(&self, id: &str) -> Option<u32> {
        self.link_ids
            .candidates(hash_of(&id))
            .find(|at| self.links.get(*at).is_some_and(|l| l.id == id))
    }

    /// Files the link at `at` in every index but the id's.
    fn file_link(&mut self, at: u32) {
        let Some(link) = self.links.get(at) else {
            return;
        };
        self.by_owner.insert(owner_hash(link), at);
        self.by_short_link.insert(short_link_hash(link), at);
        if let Some(hash) = external_hash(link) {
            self.by_external_id.insert(hash, at);
        }
        // Kept in id order, so which of several matching links an upsert finds does not
        // depend on the order they were created or imported in.
        let (target, partner_target) = target_hashes(link);
        let (links, partner) = (&self.links, link.partner_id.as_deref());
        file_first(links, &mut self.by_target, target, at, |l| {
            same_target(l, link)
        });
        file_first(
            links,
            &mut self.by_partner_target,
            partner_target,
            at,
            |l| same_target(l, link) && l.partner_id.as_deref() == partner,
        );
    }

    /// Takes the link at `at` out of every index but the id's, before it is replaced.
    fn unfile_link(&mut self, at: u32) {
        let Some(link) = self.links.get(at) else {
            return;
        };
        self.by_owner.remove(owner_hash(link), at);
        self.by_short_link.remove(short_link_hash(link), at);
        if let Some(hash) = external_hash(link) {
            self.by_external_id.remove(hash, at);
        }
        let (target, partner_target) = target_hashes(link);
        let was_first = self.by_target.candidates(target).any(|p| p == at);
        let was_first_of_partner = self
            .by_partner_target
            .candidates(partner_target)
            .any(|p| p == at);
        self.by_target.remove(target, at);
        self.by_partner_target.remove(partner_target, at);
        // No operation changes a link's URL, workspace, program or partner, so this walk is
        // for a Rust caller's replacement only: the next link in id order takes the place.
        if was_first || was_first_of_partner {
            let old = link;
            let next = |with_partner: bool| {
                self.links
                    .positions()
                    .filter(|(p, l)| {
                        *p != at
                            && same_target(l, old)
                            && (!with_partner || l.partner_id == old.partner_id)
                    })
                    .min_by(|a, b| a.1.id.cmp(&b.1.id))
                    .map(|(p, _)| p)
            };
            if was_first && let Some(p) = next(false) {
                self.by_target.insert(target, p);
            }
            if was_first_of_partner && let Some(p) = next(true) {
                self.by_partner_target.insert(partner_target, p);
            }
        }
    }

    /// The stored link `id`.
    pub fn link(&self, id: &str) -> Option<&Link> {
        self.link_position(id).and_then(|at| self.links.get(at))
    }

    /// The partner with this email (the last stored, should several share it).
    pub fn partner_by_email(&self, email: &str) -> Option<&Partner> {
        self.by_email
            .candidates(hash_of(&AsciiLowercase(email)))
            .rev()
            .filter_map(|at| self.partners.get(at))
            .find(|p| p.email.eq_ignore_ascii_case(email))
    }

    fn enrollment_position(&self, program_id: &str, partner_id: &str) -> Option<u32> {
        self.by_partner
            .candidates(hash_of(&(partner_id, program_id)))
            .rev()
            .find(|at| {
                self.enrollments
                    .get(*at)
                    .is_some_and(|e| e.partner_id == partner_id && e.program_id == program_id)
            })
    }

    /// The enrolment of `partner_id` in `program_id` (the last made, should there be several).
    pub fn enrollment(&self, program_id: &str, partner_id: &str) -> Option<&Enrollment> {
        self.enrollment_position(program_id, partner_id)
            .and_then(|at| self.enrollments.get(at))
    }

    /// The enrolment in `program_id` carrying `tenant_id`.
    pub fn enrollment_by_tenant(&self, program_id: &str, tenant_id: &str) -> Option<&Enrollment> {
        self.by_tenant
            .candidates(hash_of(&(tenant_id, program_id)))
            .rev()
            .filter_map(|at| self.enrollments.get(at))
            .find(|e| e.tenant_id.as_deref() == Some(tenant_id) && e.program_id == program_id)
    }

    /// The id of the link at `domain`/`key`, if any.
    pub fn link_by_key(&self, domain: &str, key: &str) -> Option<&str> {
        self.by_short_link
            .candidates(hash_of(&(AsciiLowercase(domain), key)))
            .filter_map(|at| self.links.get(at))
            .find(|l| l.key == key && l.domain.eq_ignore_ascii_case(domain))
            .map(|l| l.id.as_str())
    }

    /// The id of the link in `workspace_id` with this external id, if any.
    pub fn link_by_external_id(&self, workspace_id: &str, external_id: &str) -> Option<&str> {
        self.by_external_id
            .candidates(hash_of(&(workspace_id, external_id)))
            .filter_map(|at| self.links.get(at))
            .find(|l| {
                l.workspace_id == workspace_id && l.external_id.as_deref() == Some(external_id)
            })
            .map(|l| l.id.as_str())
    }

    /// The partner `id`.
    pub fn partner(&self, id: &str) -> Option<&Partner> {
        self.partner_position(id)
            .and_then(|at| self.partners.get(at))
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
        let Some(at) = self.enrollment_position(program_id, partner_id) else {
            return false;
        };
        let Some(enrollment) = self.enrollments.get_mut(at) else {
            return false;
        };
        let old_tenant = enrollment.tenant_id.clone();
        change(enrollment);
        // Only the tenant may change: the partner and program are the enrolment's key.
        enrollment.partner_id = partner_id.to_string();
        enrollment.program_id = program_id.to_string();
        let new_tenant = enrollment.tenant_id.clone();
        if old_tenant != new_tenant {
            if let Some(old) = old_tenant {
                self.by_tenant.remove(hash_of(&(&old, program_id)), at);
            }
            if let Some(new) = new_tenant {
                self.by_tenant.insert(hash_of(&(&new, program_id)), at);
            }
        }
        true
    }

    /// Positions of the links of `partner_id` in `program_id`, in the order they were made.
    fn owned(&self, partner_id: &str, program_id: &str) -> Vec<u32> {
        self.by_owner
            .candidates(hash_of(&(partner_id, program_id)))
            .filter(|at| {
                self.links.get(*at).is_some_and(|l| {
                    l.partner_id.as_deref().unwrap_or_default() == partner_id
                        && l.program_id.as_deref().unwrap_or_default() == program_id
                })
            })
            .collect()
    }

    /// The links of `partner_id` in `program_id`, oldest first; links made in the same
    /// millisecond keep the order they were made in (the owner index holds them in that order),
    /// so two fakes given the same requests list them alike however fast they ran.
    pub fn links_of(&self, partner_id: &str, program_id: &str) -> Vec<&Link> {
        let mut links: Vec<&Link> = self
            .owned(partner_id, program_id)
            .into_iter()
            .filter_map(|at| self.links.get(at))
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
        for at in self.owned(partner_id, program_id) {
            if let Some(link) = self.links.get_mut(at) {
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
        let Some(link) = self.link_position(id).and_then(|at| self.links.get_mut(at)) else {
            return;
        };
        for (field, by) in [
            (Field::Clicks, event.clicks),
            (Field::Leads, event.leads),
            (Field::Sales, event.sales),
            (Field::SaleAmount, event.sale_amount),
        ] {
            let sum = link.count(field).saturating_add(by);
            link.set_value(field, serde_json::json!(sum));
        }
        let later = link
            .value(Field::LastClicked)
            .as_str()
            .is_none_or(|last| last < event.at.as_str());
        if event.clicks > 0 && later {
            link.set_value(Field::LastClicked, serde_json::json!(event.at));
        }
        self.events.entry(id.to_string()).or_default().push(event);
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
        let target = (workspace_id, program_id, url);
        let same = |l: &&Link| {
            l.workspace_id == workspace_id
                && l.program_id.as_deref().unwrap_or_default() == program_id
                && l.url == url
        };
        match partner_id {
            None => self
                .by_target
                .candidates(hash_of(&target))
                .filter_map(|at| self.links.get(at))
                .find(same),
            Some(partner) => self
                .by_partner_target
                .candidates(hash_of(&(partner, target)))
                .filter_map(|at| self.links.get(at))
                .find(|l| same(l) && l.partner_id.as_deref().unwrap_or_default() == partner),
        }
    }
}

/// The owner index's hash: a link's partner and program.
fn owner_hash(link: &Link) -> u64 {
    hash_of(&(
        link.partner_id.as_deref().unwrap_or_default(),
        link.program_id.as_deref().unwrap_or_default(),
    ))
}

/// The upsert indexes' hashes: a link's (workspace, program, URL), and the same with its
/// partner first.
fn target_hashes(link: &Link) -> (u64, u64) {
    let target = (
        link.workspace_id.as_str(),
        link.program_id.as_deref().unwrap_or_default(),
        link.url.as_str(),
    );
    let partner = link.partner_id.as_deref().unwrap_or_default();
    (hash_of(&target), hash_of(&(partner, target)))
}

/// Makes the link at `at` the one `index` holds under `hash` for the links `same` accepts,
/// unless the one it holds comes first in id order.
fn file_first(
    links: &Chunked<Link>,
    index: &mut Index,
    hash: u64,
    at: u32,
    same: impl Fn(&Link) -> bool,
) {
    let id = |p: u32| links.get(p).map(|l| l.id.as_str());
    let known = index
        .candidates(hash)
        .find(|p| *p != at && links.get(*p).is_some_and(&same));
    match known {
        Some(p) if id(p) <= id(at) => {}
        Some(p) => {
            index.remove(hash, p);
            index.insert(hash, at);
        }
        None => index.insert(hash, at),
    }
}

/// Whether two links point at the same (workspace, program, URL).
fn same_target(a: &Link, b: &Link) -> bool {
    a.url == b.url && a.workspace_id == b.workspace_id && a.program_id == b.program_id
}

/// The uniqueness hash of a short link: its domain (case-insensitive) and key.
fn short_link_hash(link: &Link) -> u64 {
    hash_of(&(AsciiLowercase(&link.domain), link.key.as_str()))
}

/// The uniqueness hash of an external id, within its workspace.
fn external_hash(link: &Link) -> Option<u64> {
    link.external_id
        .as_deref()
        .filter(|e| !e.is_empty())
        .map(|e| hash_of(&(link.workspace_id.as_str(), e)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn link(id: &str, at: &str) -> Link {
        let mut link = Link::default();
        link.id = id.into();
        link.key = id.into();
        link.domain = "understudy.link".into();
        link.url = "https://understudy.example".into();
        link.workspace_id = "ws_1".into();
        link.partner_id = Some("pn_1".into());
        link.program_id = Some("prog_1".into());
        link.created_at = at.into();
        link
    }

    fn partner(id: &str, email: &str) -> Partner {
        Partner {
            id: id.into(),
            name: id.into(),
            email: email.into(),
            image: None,
            country: "US".into(),
            created_at: "2026-12-01T00:00:00.000Z".into(),
            updated_at: "2026-12-01T00:00:00.000Z".into(),
            username: None,
            description: None,
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

    #[test]
    fn the_upsert_finds_the_first_link_in_id_order_whatever_order_they_were_stored_in() {
        let at = "2026-12-01T00:00:00.000Z";
        let url = "https://understudy.example";
        let first = |state: &DubState, partner: Option<&str>| {
            state
                .first_link_to("ws_1", "prog_1", url, partner)
                .map(|l| l.id.clone())
        };
        let mut state = DubState::default();
        for id in ["link_m", "link_z", "link_b"] {
            state.insert_link(id.into(), link(id, at));
        }
        let mut other = link("link_a", at);
        other.partner_id = Some("pn_2".into());
        state.insert_link("link_a".into(), other);
        assert_eq!(first(&state, None).as_deref(), Some("link_a"));
        assert_eq!(first(&state, Some("pn_1")).as_deref(), Some("link_b"));
        assert_eq!(first(&state, Some("pn_3")), None);
        assert_eq!(
            state.first_link_to("ws_1", "prog_1", "https://else.example", None),
            None
        );
        // The first moved elsewhere: the next in id order takes its place.
        let mut moved = link("link_b", at);
        moved.url = "https://understudy.example/moved".into();
        state.insert_link("link_b".into(), moved);
        assert_eq!(first(&state, Some("pn_1")).as_deref(), Some("link_m"));
        assert_eq!(first(&state, None).as_deref(), Some("link_a"));
    }

    #[test]
    fn lookups_match_emails_and_domains_in_any_case_and_follow_a_new_key() {
        let mut state = DubState::default();
        state.insert_partner(partner("pn_1", "Ada@Example.com"));
        assert_eq!(
            state
                .partner_by_email("ada@EXAMPLE.COM")
                .map(|p| p.id.as_str()),
            Some("pn_1")
        );
        assert!(state.partner_by_email("bob@example.com").is_none());
        let mut with_external = link("link_1", "2026-12-01T00:00:00.000Z");
        with_external.external_id = Some("ext-1".into());
        state.insert_link("link_1".into(), with_external.clone());
        assert_eq!(
            state.link_by_key("Understudy.LINK", "link_1"),
            Some("link_1")
        );
        assert_eq!(state.link_by_key("understudy.link", "LINK_1"), None);
        assert_eq!(state.link_by_external_id("ws_1", "ext-1"), Some("link_1"));
        assert_eq!(state.link_by_external_id("ws_2", "ext-1"), None);
        with_external.set_key("understudy.link", "new-key");
        state.insert_link("link_1".into(), with_external);
        assert_eq!(state.link_by_key("understudy.link", "link_1"), None);
        assert_eq!(
            state.link_by_key("understudy.link", "new-key"),
            Some("link_1")
        );
        assert_eq!(crate::vendors::Resources::count(&state), 2);
    }

    #[test]
    fn an_export_lists_records_by_id_and_imports_back_to_an_equal_state() {
        use crate::vendors::Resources;
        let at = "2026-12-01T00:00:00.000Z";
        let mut state = DubState::default();
        for (id, email) in [("pn_z", "z@example.com"), ("pn_a", "a@example.com")] {
            state.insert_partner(partner(id, email));
            state.push_enrollment(Enrollment {
                partner_id: id.into(),
                program_id: "prog_1".into(),
                tenant_id: Some(format!("tenant-{id}")),
                status: "approved".into(),
                created_at: at.into(),
                group_id: None,
                banned_at: None,
                banned_reason: None,
            });
        }
        state.insert_link("link_z".into(), link("link_z", at));
        state.insert_link("link_a".into(), link("link_a", at));
        state.record_event(
            "link_z",
            Event {
                at: at.into(),
                clicks: 3,
                ..Event::default()
            },
        );
        let text = serde_json::to_string(&state).unwrap();
        assert!(text.find("\"pn_a\"").unwrap() < text.find("\"pn_z\"").unwrap());
        assert!(text.find("\"link_a\"").unwrap() < text.find("\"link_z\"").unwrap());
        let back: DubState = serde_json::from_str(&text).unwrap();
        assert_eq!(back, state);
        assert_eq!(serde_json::to_string(&back).unwrap(), text);
        assert_eq!(back.count(), 4);
        assert_eq!(back.link("link_z").map(|l| l.count(Field::Clicks)), Some(3));
        assert_eq!(
            back.enrollment_by_tenant("prog_1", "tenant-pn_z")
                .map(|e| e.partner_id.as_str()),
            Some("pn_z")
        );
        // A changed tenant moves in the index.
        let mut changed = back.clone();
        changed.update_enrollment("prog_1", "pn_z", |e| e.tenant_id = Some("t-new".into()));
        assert!(
            changed
                .enrollment_by_tenant("prog_1", "tenant-pn_z")
                .is_none()
        );
        assert!(changed.enrollment_by_tenant("prog_1", "t-new").is_some());
        assert_ne!(changed, back);
    }
}
