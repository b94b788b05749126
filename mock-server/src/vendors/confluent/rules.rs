//! Confluent's rules for signup, activate and link. Each operation first resolves and checks
//! everything it needs (read-only), and only then applies the changes, so a refused request or
//! a dry run leaves the state exactly as it was.

use serde_json::{Value, json};

use super::errors::{ConfluentCode, ConfluentError};
use super::state::{ConfluentState, Entitlement, Organization, User, entitlement_id_of};
use crate::ids::IdGenerator;

/// The deliberate faults the rules can commit (see [`super::ConfluentMutant`]).
#[derive(Clone, Copy, Debug, Default)]
pub struct Faults {
    /// `confluent.no-409-on-reactivation`: activating a completed signup adds another user.
    pub reactivation_accepted: bool,
    /// `confluent.dry-run-persists`: a dry run stores what it only should have checked.
    pub dry_run_persists: bool,
    /// `confluent.used-token-accepted`: a consumed linking token links again.
    pub used_token_accepted: bool,
}

/// The rules, bound to the id generator and the active faults.
pub struct Rules<'a> {
    /// Where new organization and entitlement ids come from.
    pub ids: &'a IdGenerator,
    /// Active mutants.
    pub faults: Faults,
}

/// What a request's `entitlement` member resolved to.
enum EntitlementPlan {
    /// Full details: a new entitlement, created with the organization or link.
    New(Entitlement),
    /// A reference to a stored entitlement that no organization uses yet.
    Existing(String),
}

impl EntitlementPlan {
    /// Records the entitlement as belonging to `organization_id`.
    fn apply(self, state: &mut ConfluentState, organization_id: &str) -> String {
        match self {
            EntitlementPlan::New(mut entitlement) => {
                entitlement.organization_id = Some(organization_id.to_string());
                let id = entitlement.id.clone();
                state.insert_entitlement(entitlement);
                id
            }
            EntitlementPlan::Existing(id) => {
                if let Some(entitlement) = state.entitlement_mut(&id) {
                    entitlement.organization_id = Some(organization_id.to_string());
                }
                id
            }
        }
    }
}

impl Rules<'_> {
    /// `POST /partner/v2/signup`.
    pub fn signup(
        &self,
        state: &mut ConfluentState,
        body: &Value,
        dry_run: bool,
    ) -> Result<Value, ConfluentError> {
        let organization = &body["organization"];
        let plan = self.entitlement_plan(state, &body["entitlement"])?;
        let users: Vec<User> = user_of(&body["user"]).into_iter().collect();
        let org = Organization {
            id: self.ids.uuid(),
            name: text(organization, "name"),
            sso_tenant_id: text(&organization["sso_config"], "tenant_id"),
            users,
        };
        let reply = signup_reply(&org, signup_message(&org, dry_run));
        // Every check passed; a dry run ends here with what would have been created.
        if !dry_run || self.faults.dry_run_persists {
            plan.apply(state, &org.id);
            state.organizations.insert(org.id.clone(), org);
        }
        Ok(reply)
    }

    /// `POST /partner/v2/signup/activate`.
    pub fn activate(
        &self,
        state: &mut ConfluentState,
        body: &Value,
    ) -> Result<Value, ConfluentError> {
        let id = body["organization_id"].as_str().unwrap_or_default();
        // The id travels in the body, so an unknown one is a bad member, not a missing resource.
        let org = state.organizations.get_mut(id).ok_or_else(|| {
            ConfluentError::refused_member(
                ConfluentCode::OrganizationNotFound,
                format!("no organization with id '{id}' exists"),
                "/organization_id",
            )
        })?;
        if org.complete() && !self.faults.reactivation_accepted {
            return Err(ConfluentError::conflict(
                ConfluentCode::SignupAlreadyCompleted,
                format!("organization '{id}' already finished its signup"),
                &org.url(),
            ));
        }
        let user = user_of(&body["user"])
            .ok_or_else(|| ConfluentError::bad_request("user is required").at_pointer("/user"))?;
        org.users.push(user);
        Ok(json!({
            "organization_id": org.id,
            "sso_url": org.sso_url(),
            "display_message": "The first user is being created; an invitation e-mail follows.",
        }))
    }

    /// `POST /partner/v2/signup/link`.
    pub fn link(
        &self,
        state: &mut ConfluentState,
        body: &Value,
        dry_run: bool,
    ) -> Result<Value, ConfluentError> {
        let token = body["token"].as_str().unwrap_or_default();
        let invalid_token = |detail: &str| {
            ConfluentError::refused_member(ConfluentCode::InvalidLinkingToken, detail, "/token")
        };
        let linking = state
            .linking_tokens
            .get(token)
            .ok_or_else(|| invalid_token("the linking token is not known"))?;
        if linking.used && !self.faults.used_token_accepted {
            return Err(invalid_token("the linking token has already been used"));
        }
        let org = state
            .organizations
            .get(&linking.organization_id)
            .cloned()
            .ok_or_else(|| invalid_token("the linking token's organization no longer exists"))?;
        let plan = self.entitlement_plan(state, &body["entitlement"])?;
        let message = if dry_run {
            "Dry run: the entitlement can be linked; nothing was changed."
        } else {
            "The entitlement now bills this existing organization."
        };
        if !dry_run || self.faults.dry_run_persists {
            plan.apply(state, &org.id);
            if let Some(linking) = state.linking_tokens.get_mut(token) {
                linking.used = true;
            }
        }
        Ok(signup_reply(&org, message.to_string()))
    }

    /// Resolves the `entitlement` member of a signup or link: full details must carry a new
    /// external id; a reference must name a stored entitlement that no organization uses.
    fn entitlement_plan(
        &self,
        state: &ConfluentState,
        entitlement: &Value,
    ) -> Result<EntitlementPlan, ConfluentError> {
        if let Some(related) = entitlement["related"].as_str() {
            return reference_plan(state, related);
        }
        let external_id = text(entitlement, "external_id");
        if let Some(existing) = state.entitlement_by_external_id(&external_id) {
            return Err(ConfluentError::conflict(
                ConfluentCode::ResourceAlreadyExists,
                format!("an entitlement with external_id '{external_id}' is already registered"),
                &existing.url(),
            ));
        }
        Ok(EntitlementPlan::New(Entitlement {
            id: format!("ent-{}", self.ids.alphanumeric(8).to_ascii_lowercase()),
            external_id,
            name: text(entitlement, "name"),
            plan_id: text(entitlement, "plan_id"),
            product_id: text(entitlement, "product_id"),
            organization_id: None,
        }))
    }
}

/// A reference to an entitlement registered earlier: `related` must name a stored entitlement
/// that bills no organization yet (`id` and `resource_name` are not cross-checked).
fn reference_plan(
    state: &ConfluentState,
    related: &str,
) -> Result<EntitlementPlan, ConfluentError> {
    let unknown = || {
        ConfluentError::refused_member(
            ConfluentCode::EntitlementNotFound,
            format!("'{related}' does not name an existing entitlement"),
            "/entitlement/related",
        )
    };
    let id = entitlement_id_of(related).ok_or_else(unknown)?;
    let stored = state.entitlements().get(&id).ok_or_else(unknown)?;
    if let Some(organization) = &stored.organization_id {
        return Err(ConfluentError::conflict(
            ConfluentCode::ResourceAlreadyExists,
            format!("entitlement '{id}' already bills organization '{organization}'"),
            &stored.url(),
        ));
    }
    Ok(EntitlementPlan::Existing(id))
}

/// The `PartnerSignupResponse` for `org`.
fn signup_reply(org: &Organization, message: String) -> Value {
    json!({
        "organization_id": org.id,
        "sso_url": org.sso_url(),
        "display_message": message,
    })
}

fn signup_message(org: &Organization, dry_run: bool) -> String {
    match (dry_run, org.complete()) {
        (true, _) => "Dry run: the signup is valid; nothing was created.".into(),
        (false, true) => {
            "Sign in through your Azure AD tenant to start using Confluent Cloud.".into()
        }
        (false, false) => {
            "The organization was created; activate it with its first user to finish the signup."
                .into()
        }
    }
}

/// The `user` member, when the request has one (the schema has checked its three fields).
fn user_of(user: &Value) -> Option<User> {
    user.is_object().then(|| User {
        given_name: text(user, "given_name"),
        family_name: text(user, "family_name"),
        email: text(user, "email"),
    })
}

/// A string member of a JSON object, or `""`.
fn text(value: &Value, name: &str) -> String {
    value[name].as_str().unwrap_or_default().to_string()
}
