//! The partners, links and events Dub's world starts with, as the configuration lists them.

use serde::{Deserialize, Serialize};
use serde_json::json;

use super::link::{Field, Link, NewLink};
use super::state::{DubState, Enrollment, Event, Partner};
use super::{DubConfig, Program};

/// A partner enrolled in one program when the world starts.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SeedPartner {
    /// `pn_…`.
    pub id: String,
    /// Full name.
    pub name: String,
    /// Email.
    pub email: String,
    /// Country code (`US` when absent).
    #[serde(default)]
    pub country: Option<String>,
    /// The program (`prog_…`) it is enrolled in.
    pub program: String,
    /// Its id in the workspace's own system.
    #[serde(default)]
    pub tenant_id: Option<String>,
    /// Enrolment status: `approved` (default), `pending`, `banned`, `deactivated` …
    #[serde(default = "approved")]
    pub status: String,
    /// The ban reason, for a banned partner.
    #[serde(default)]
    pub banned_reason: Option<String>,
    /// When it was created and enrolled (RFC 3339).
    pub created_at: String,
    /// Its links in the program.
    #[serde(default)]
    pub links: Vec<SeedLink>,
}

fn approved() -> String {
    "approved".into()
}

/// A seeded partner link with the events recorded on it.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SeedLink {
    /// `link_…`.
    pub id: String,
    /// The key on the program's domain.
    pub key: String,
    /// The destination (the program URL when absent).
    #[serde(default)]
    pub url: Option<String>,
    /// Events recorded on it.
    #[serde(default)]
    pub events: Vec<SeedEvent>,
}

/// Events recorded on a seeded link at one moment.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SeedEvent {
    /// When (RFC 3339).
    pub at: String,
    /// Clicks.
    #[serde(default)]
    pub clicks: u64,
    /// Leads.
    #[serde(default)]
    pub leads: u64,
    /// Sales.
    #[serde(default)]
    pub sales: u64,
    /// Sale amount in cents.
    #[serde(default)]
    pub sale_amount: u64,
    /// Earnings in cents.
    #[serde(default)]
    pub earnings: u64,
}

/// Why a seed entry cannot be placed.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SeedError {
    /// The entry names a program no workspace has, or one without a domain and URL.
    #[error("dub seed partner {partner}: no workspace has program {program} with a domain and url")]
    UnknownProgram {
        /// The partner.
        partner: String,
        /// The program it names.
        program: String,
    },
}

/// The state the configuration's seed describes.
pub fn state(config: &DubConfig) -> Result<DubState, SeedError> {
    let mut state = DubState::default();
    for seed in &config.seed {
        let found = config.workspaces.iter().find_map(|w| {
            w.programs
                .iter()
                .find(|p| p.id == seed.program)
                .map(|p| (w, p))
        });
        let Some((
            workspace,
            Program {
                domain: Some(domain),
                url: Some(program_url),
                ..
            },
        )) = found
        else {
            return Err(SeedError::UnknownProgram {
                partner: seed.id.clone(),
                program: seed.program.clone(),
            });
        };
        let banned = seed.status == "banned";
        state.insert_partner(Partner {
            id: seed.id.clone(),
            name: seed.name.clone(),
            email: seed.email.clone(),
            image: Some(format!("https://api.dub.co/og/avatar?seed={}", seed.id)),
            country: seed.country.clone().unwrap_or_else(|| "US".into()),
            created_at: seed.created_at.clone(),
            updated_at: seed.created_at.clone(),
            username: seed.links.first().map(|l| l.key.clone()),
            description: None,
        });
        state.push_enrollment(Enrollment {
            partner_id: seed.id.clone(),
            program_id: seed.program.clone(),
            tenant_id: seed.tenant_id.clone(),
            status: seed.status.clone(),
            created_at: seed.created_at.clone(),
            group_id: None,
            banned_at: banned.then(|| seed.created_at.clone()),
            banned_reason: seed.banned_reason.clone(),
        });
        for entry in &seed.links {
            let mut link = Link::new(NewLink {
                id: entry.id.clone(),
                domain,
                key: &entry.key,
                url: entry.url.as_deref().unwrap_or(program_url),
                program_id: &seed.program,
                workspace_id: &workspace.id,
                now: &seed.created_at,
            });
            link.partner_id = Some(seed.id.clone());
            link.tenant_id.clone_from(&seed.tenant_id);
            // Banned and deactivated partners' links stopped when the partner did.
            if banned {
                link.set_value(Field::DisabledAt, json!(seed.created_at));
            }
            if banned || seed.status == "deactivated" {
                link.set_value(Field::ExpiresAt, json!(seed.created_at));
            }
            state.insert_link(entry.id.clone(), link);
            for e in &entry.events {
                state.record_event(
                    &entry.id,
                    Event {
                        at: e.at.clone(),
                        clicks: e.clicks,
                        leads: e.leads,
                        sales: e.sales,
                        sale_amount: e.sale_amount,
                        earnings: e.earnings,
                    },
                );
            }
        }
    }
    Ok(state)
}
