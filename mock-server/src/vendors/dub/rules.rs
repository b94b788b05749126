//! Dub's rules for enrolling partners and making their links. Every check runs before anything
//! is stored, so a refused request leaves the state as it was.

use super::DubMutant;
use serde_json::Value;

use super::errors::DubError;
use super::link::{Link, NewLink};
use super::state::{DubState, Enrollment, Partner};
use super::{Program, Workspace};
use crate::ids::IdGenerator;
use crate::vendors::Ambient;

/// The rules, bound to the calling workspace, the id generator and the request time.
pub struct Rules<'a> {
    /// The caller's workspace.
    pub workspace: &'a Workspace,
    /// Where new ids come from.
    pub ids: &'a IdGenerator,
    /// The active mutants.
    pub world: &'a Ambient,
    /// The request time, RFC 3339.
    pub now: String,
}

/// What a link request resolved to, before anything is stored.
struct LinkTarget<'p> {
    program: &'p Program,
    domain: String,
    url: String,
}

impl Rules<'_> {
    fn program(&self, program_id: &str) -> Result<&Program, DubError> {
        self.workspace
            .programs
            .iter()
            .find(|p| p.id == program_id)
            .ok_or_else(|| DubError::not_found("Program not found."))
    }

    /// The workspace's default program: what today's SDKs, which name none, act on.
    pub fn default_program(&self) -> Result<&Program, DubError> {
        self.workspace
            .default_program
            .as_deref()
            .and_then(|id| self.workspace.programs.iter().find(|p| p.id == id))
            .ok_or_else(|| DubError::not_found("Program not found"))
    }

    /// The program a body names (SDK 0.18.0), else the default program (today's SDKs).
    fn program_of(&self, body: &Value) -> Result<&Program, DubError> {
        match body.get("programId").and_then(Value::as_str) {
            Some(id) => self.program(id.trim()),
            None => self.default_program(),
        }
    }

    /// The program's domain and URL; Dub refuses partner work until both are set.
    fn program_target(&self, body: &Value) -> Result<(&Program, String, String), DubError> {
        let program = self.program_of(body)?;
        match (&program.domain, &program.url) {
            (Some(domain), Some(url)) => Ok((program, domain.clone(), url.clone())),
            _ => Err(DubError::bad_request(
                "You need to set a domain and url for this program before creating a partner.",
            )),
        }
    }

    /// `POST /partners`. A body with `programId` (SDK 0.18.0) gets that server's rule, 409 for
    /// an email already enrolled; one without (today's SDKs) updates that enrolment instead.
    pub fn create_partner(&self, state: &mut DubState, body: &Value) -> Result<Value, DubError> {
        let field = |name: &str| body.get(name).and_then(Value::as_str).map(str::trim);
        let legacy = body.get("programId").is_some_and(Value::is_string);
        let email = field("email").unwrap_or_default().to_string();
        let tenant_id = field("tenantId").map(str::to_string);
        let group_id = field("groupId").map(str::to_string);
        let (program, domain, url) = self.program_target(body)?;
        let known = state.partner_by_email(&email).cloned();
        if !legacy
            && let Some(existing) = &known
            && let Some(enrollment) = state.enrollment(&program.id, &existing.id).cloned()
        {
            return self.update_enrollment(state, existing, enrollment, tenant_id, group_id);
        }
        let username = body.get("username").and_then(Value::as_str);
        let key = username.map_or_else(|| self.ids.alphanumeric(7), str::to_string);
        let props = body.get("linkProps").unwrap_or(&Value::Null);

        let mut link = self.new_link(
            &LinkTarget {
                program,
                domain,
                url,
            },
            &key,
            props,
        )?;
        link.tenant_id.clone_from(&tenant_id);
        self.check_link_unique(state, &link, None)?;
        if let Some(existing) = &known
            && state.enrollment(&program.id, &existing.id).is_some()
            && !self.world.mutant(DubMutant::DuplicateEmailEnrolled)
        {
            return Err(DubError::conflict(format!(
                "Partner {email} already enrolled in this program."
            )));
        }
        if let Some(tenant) = &tenant_id
            && state.enrollment_by_tenant(&program.id, tenant).is_some()
            && !self.world.mutant(DubMutant::DuplicateTenantEnrolled)
        {
            return Err(DubError::conflict(format!(
                "Tenant {tenant} already enrolled in this program."
            )));
        }

        // Every check passed: store the partner (reused by email), its enrolment and its link.
        let partner = match known {
            Some(existing) => existing,
            None => {
                let id = format!("pn_{}", self.ids.alphanumeric(24));
                let image = field("image").map(str::to_string);
                let partner = Partner {
                    image: Some(
                        image.unwrap_or_else(|| format!("https://api.dub.co/og/avatar?seed={id}")),
                    ),
                    id,
                    name: field("name")
                        .filter(|n| !n.is_empty())
                        .unwrap_or(&email)
                        .to_string(),
                    email: email.clone(),
                    country: field("country").unwrap_or("US").to_string(),
                    created_at: self.now.clone(),
                    updated_at: self.now.clone(),
                    username: username.map(str::to_string),
                    description: field("description").map(str::to_string),
                };
                state.insert_partner(partner.clone());
                partner
            }
        };
        link.partner_id = Some(partner.id.clone());
        let enrollment = Enrollment {
            partner_id: partner.id.clone(),
            program_id: program.id.clone(),
            tenant_id,
            status: "approved".into(),
            created_at: self.now.clone(),
            group_id,
            banned_at: None,
            banned_reason: None,
        };
        state.push_enrollment(enrollment.clone());
        state.insert_link(link.id.clone(), link);
        Ok(super::partners::enrolled_json(state, &partner, &enrollment))
    }

    /// Today's create for an email already enrolled: its tenantId and groupId are updated
    /// (when given), nothing else, and no link is made.
    fn update_enrollment(
        &self,
        state: &mut DubState,
        partner: &Partner,
        enrollment: Enrollment,
        tenant_id: Option<String>,
        group_id: Option<String>,
    ) -> Result<Value, DubError> {
        if let Some(tenant) = &tenant_id
            && enrollment.tenant_id.as_ref() != Some(tenant)
            && state
                .enrollment_by_tenant(&enrollment.program_id, tenant)
                .is_some()
            && !self.world.mutant(DubMutant::DuplicateTenantEnrolled)
        {
            return Err(DubError::conflict(format!(
                "Tenant {tenant} already enrolled in this program."
            )));
        }
        let mut updated = enrollment;
        if tenant_id.is_some() {
            updated.tenant_id = tenant_id;
        }
        if group_id.is_some() {
            updated.group_id = group_id;
        }
        let stored = updated.clone();
        state.update_enrollment(&updated.program_id, &updated.partner_id, |e| *e = stored);
        Ok(super::partners::enrolled_json(state, partner, &updated))
    }

    /// Resolves a link request: URL parsed, program and domain checked, partner enrolled.
    /// Returns the target and the enrolment the link belongs to.
    fn link_request<'s>(
        &'s self,
        state: &DubState,
        body: &Value,
    ) -> Result<(LinkTarget<'s>, Enrollment), DubError> {
        let (program, domain, program_url) = self.program_target(body)?;
        // Today's SDKs may leave the URL out: the program's own URL is used.
        let url = match body.get("url").and_then(Value::as_str) {
            Some(url) => parse_url(url)?,
            None => program_url.clone(),
        };
        let (wanted, expected) = (apex(&url), apex(&program_url));
        if wanted != expected && !self.world.mutant(DubMutant::UrlDomainNotChecked) {
            return Err(DubError::bad_request(format!(
                "The provided URL domain ({wanted}) does not match the program's domain ({expected})."
            )));
        }
        let partner_id = body.get("partnerId").and_then(Value::as_str);
        let tenant_id = body.get("tenantId").and_then(Value::as_str);
        let enrollment = match (partner_id, tenant_id) {
            (None, None) => {
                return Err(DubError::bad_request(
                    "You must provide a partnerId or tenantId.",
                ));
            }
            // partnerId takes precedence over tenantId.
            (Some(partner), _) => state.enrollment(&program.id, partner),
            (None, Some(tenant)) => state.enrollment_by_tenant(&program.id, tenant),
        }
        .cloned()
        .ok_or_else(|| {
            if self.world.mutant(DubMutant::UnknownPartner400) {
                DubError::bad_request("Partner not found.")
            } else {
                DubError::not_found("Partner not found.")
            }
        })?;
        // A banned or deactivated partner's links are expired; Dub makes it no new ones.
        if matches!(enrollment.status.as_str(), "banned" | "deactivated") {
            return Err(DubError::bad_request(format!(
                "This partner's links cannot be changed: its status in this program is \"{}\".",
                enrollment.status
            )));
        }
        Ok((
            LinkTarget {
                program,
                domain,
                url,
            },
            enrollment,
        ))
    }

    /// `POST /partners/links`.
    pub fn create_link(&self, state: &mut DubState, body: &Value) -> Result<Value, DubError> {
        let (target, enrollment) = self.link_request(state, body)?;
        let link = self.build_link(&target, &enrollment, body)?;
        self.check_link_unique(state, &link, None)?;
        let value = link.to_json();
        state.insert_link(link.id.clone(), link);
        Ok(value)
    }

    /// `PUT /partners/links/upsert`: the link with exactly this URL is returned as it is,
    /// updated when the request changes it, or created when there is none.
    pub fn upsert_link(&self, state: &mut DubState, body: &Value) -> Result<Value, DubError> {
        let (target, enrollment) = self.link_request(state, body)?;
        // Dub filters on partnerId only when the caller sent one.
        let partner_filter = body.get("partnerId").and_then(Value::as_str);
        let existing = state
            .first_link_to(
                &self.workspace.id,
                &target.program.id,
                &target.url,
                partner_filter,
            )
            .filter(|_| !self.world.mutant(DubMutant::UpsertAlwaysCreates));
        let Some(existing) = existing else {
            let link = self.build_link(&target, &enrollment, body)?;
            self.check_link_unique(state, &link, None)?;
            let value = link.to_json();
            state.insert_link(link.id.clone(), link);
            return Ok(value);
        };
        let mut updated = existing.clone();
        apply_props(&mut updated, body.get("linkProps").unwrap_or(&Value::Null))?;
        if let Some(key) = body.get("key").and_then(Value::as_str) {
            updated.set_key(&target.domain, key);
        }
        if updated == *existing {
            return Ok(existing.to_json());
        }
        let id = existing.id.clone();
        self.check_link_unique(state, &updated, Some(&id))?;
        updated.updated_at.clone_from(&self.now);
        let value = updated.to_json();
        state.insert_link(id, updated);
        Ok(value)
    }

    /// A new link for `enrollment` from a link request body.
    fn build_link(
        &self,
        target: &LinkTarget<'_>,
        enrollment: &Enrollment,
        body: &Value,
    ) -> Result<Link, DubError> {
        let props = body.get("linkProps").unwrap_or(&Value::Null);
        let key = match body.get("key").and_then(Value::as_str) {
            Some(key) => key.to_string(),
            None => {
                let random = self.ids.alphanumeric(7);
                match props
                    .get("prefix")
                    .and_then(Value::as_str)
                    .filter(|p| !p.is_empty())
                {
                    Some(prefix) => format!("{}/{random}", prefix.trim_matches('/')),
                    None => random,
                }
            }
        };
        let mut link = self.new_link(target, &key, props)?;
        link.partner_id = Some(enrollment.partner_id.clone());
        link.tenant_id.clone_from(&enrollment.tenant_id);
        Ok(link)
    }

    /// A complete `LinkSchema` object on the program's domain.
    fn new_link(
        &self,
        target: &LinkTarget<'_>,
        key: &str,
        props: &Value,
    ) -> Result<Link, DubError> {
        let mut link = Link::new(NewLink {
            id: format!("link_{}", self.ids.alphanumeric(24)),
            domain: &target.domain,
            key,
            url: &target.url,
            program_id: &target.program.id,
            workspace_id: &self.workspace.id,
            now: &self.now,
        });
        apply_props(&mut link, props)?;
        Ok(link)
    }

    /// Dub's uniqueness rules: one link per domain and key, one per external id in a workspace.
    fn check_link_unique(
        &self,
        state: &DubState,
        link: &Link,
        except: Option<&str>,
    ) -> Result<(), DubError> {
        if let Some(other) = state.link_by_key(&link.domain, &link.key)
            && Some(other) != except
            && !self.world.mutant(DubMutant::DuplicateKeyAllowed)
        {
            return Err(DubError::conflict(
                "Duplicate key: This short link already exists.",
            ));
        }
        let external = link.external_id.as_deref().unwrap_or_default();
        if !external.is_empty()
            && let Some(other) = state.link_by_external_id(&self.workspace.id, external)
            && Some(other) != except
        {
            return Err(DubError::conflict(
                "A link with this externalId already exists in this workspace.",
            ));
        }
        Ok(())
    }
}

/// Copies `linkProps` onto a link, with Dub's transformations.
fn apply_props(link: &mut Link, props: &Value) -> Result<(), DubError> {
    let Some(props) = props.as_object() else {
        return Ok(());
    };
    link.copy_props(props);
    if let Some(external) = props.get("externalId") {
        link.external_id = external
            .as_str()
            .map(|e| e.strip_prefix("ext_").unwrap_or(e).to_string());
    }
    // Dub reads the date with JavaScript's Date; an empty string is skipped like null.
    if let Some(expires) = props
        .get("expiresAt")
        .and_then(Value::as_str)
        .filter(|e| !e.is_empty())
        && super::link::parse_moment(expires).is_none()
    {
        return Err(DubError::unprocessable("Invalid expiration date."));
    }
    let tag_ids: Vec<&str> = match props.get("tagIds") {
        Some(Value::String(s)) => s
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .collect(),
        Some(Value::Array(items)) => items.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    };
    // The fake's workspaces have no tags, so any tag id is unknown.
    if !tag_ids.is_empty() {
        return Err(DubError::unprocessable(format!(
            "Invalid tagIds detected: {}",
            tag_ids.join(", ")
        )));
    }
    Ok(())
}

/// Dub's URL parsing: a scheme is added when missing; anything else unparseable is invalid.
fn parse_url(raw: &str) -> Result<String, DubError> {
    let raw = raw.trim();
    let candidate = if raw.contains("://") {
        raw.to_string()
    } else {
        format!("https://{raw}")
    };
    match url::Url::parse(&candidate) {
        Ok(url) if url.host_str().is_some_and(|h| h.contains('.')) => Ok(candidate),
        _ => Err(DubError::unprocessable("custom: url: Invalid URL")),
    }
}

/// The apex domain of a URL (its last two host labels).
fn apex(url: &str) -> String {
    let host = url::Url::parse(url)
        .ok()
        .and_then(|u| u.host_str().map(str::to_ascii_lowercase))
        .unwrap_or_default();
    let host = host.trim_start_matches("www.");
    let labels: Vec<&str> = host.split('.').collect();
    labels[labels.len().saturating_sub(2)..].join(".")
}
