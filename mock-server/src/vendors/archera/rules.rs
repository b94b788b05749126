//! Archera's rules for the eleven partner operations. Every check runs before anything is
//! stored, so a refused request leaves the state as it was.

use super::ArcheraMutant;
use serde_json::{Value, json};

use super::errors::ArcheraError;
use super::render;
use super::state::{ArcheraState, AwsOnboarding, AzureOnboarding, ExistingCur, Org, Purchase};
use crate::ids::IdGenerator;
use crate::vendors::Ambient;

/// Which kind of organisation an operation acts on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scope {
    /// The channel partner itself (child registration, the child listing, the partner patch).
    Partner,
    /// One of the partner's customers (onboarding, plans, purchases).
    Customer,
}

/// The rules, bound to the caller's partner organisation, the world and the request time.
pub struct Rules<'a> {
    /// The partner organisation of the caller's API key.
    pub partner_id: &'a str,
    /// Ids and mutants.
    pub world: &'a Ambient,
    /// The request time, RFC 3339.
    pub now: String,
}

impl Rules<'_> {
    fn ids(&self) -> &IdGenerator {
        &self.world.ids
    }

    /// The organisation `org_id` if the caller may act on it in `scope`: 404 when it does not
    /// exist, 403 when it is neither the caller's partner org nor one of its children, 409 when
    /// it is the wrong kind of organisation for the operation.
    pub fn access<'s>(
        &self,
        state: &'s ArcheraState,
        org_id: &str,
        scope: Scope,
    ) -> Result<&'s Org, ArcheraError> {
        let org = state
            .org(org_id)
            .ok_or_else(|| ArcheraError::not_found(format!("Organization {org_id} not found.")))?;
        let own = org.id == self.partner_id || org.parent.as_deref() == Some(self.partner_id);
        if !own && !self.world.mutant(ArcheraMutant::ForeignOrgAllowed) {
            return Err(ArcheraError::forbidden(format!(
                "This API key may not act on organization {org_id}."
            )));
        }
        match scope {
            Scope::Partner if !org.is_partner() => Err(ArcheraError::conflict(format!(
                "Organization {org_id} is not a channel partner organization."
            ))),
            Scope::Customer if org.is_partner() => Err(ArcheraError::conflict(format!(
                "Organization {org_id} is a channel partner; onboarding and purchases act on its child organizations."
            ))),
            _ => Ok(org),
        }
    }

    fn org_mut<'s>(state: &'s mut ArcheraState, org_id: &str) -> &'s mut Org {
        state
            .org_mut(org_id)
            .expect("access() checked the organisation exists")
    }

    /// `POST onboarding/start`: the org's AWS onboarding record, created on first call.
    pub fn start_onboarding(
        &self,
        state: &mut ArcheraState,
        org_id: &str,
    ) -> Result<Value, ArcheraError> {
        let org = self.access(state, org_id, Scope::Customer)?;
        if let Some(record) = &org.aws
            && !self.world.mutant(ArcheraMutant::OnboardingNotIdempotent)
        {
            return Ok(json!({"onboarding_id": record.onboarding_id}));
        }
        let record = AwsOnboarding {
            onboarding_id: self.ids().uuid(),
            created_at: self.now.clone(),
            account_id: None,
            existing_cur: None,
        };
        let id = record.onboarding_id.clone();
        state.set_aws(org_id, record);
        Ok(json!({"onboarding_id": id}))
    }

    /// `GET onboarding/aws/cloudformation_template`.
    pub fn cloudformation_template(
        &self,
        state: &ArcheraState,
        org_id: &str,
    ) -> Result<Value, ArcheraError> {
        let org = self.access(state, org_id, Scope::Customer)?;
        Ok(json!({"template": render::cloudformation_template(&org.external_id)}))
    }

    /// `GET onboarding/aws/launch-stack-url`.
    pub fn launch_stack_url(
        &self,
        state: &ArcheraState,
        org_id: &str,
    ) -> Result<Value, ArcheraError> {
        let org = self.access(state, org_id, Scope::Customer)?;
        Ok(json!({"url": render::launch_stack_url(&org.id, &org.external_id)}))
    }

    /// `POST onboarding/aws/verify`: one validation per AWS feature. Without `onboarding_id` the
    /// org's own record is checked; without `account_id` the account last verified is.
    pub fn verify_aws(
        &self,
        state: &mut ArcheraState,
        org_id: &str,
        body: &Value,
    ) -> Result<Value, ArcheraError> {
        let org = self.access(state, org_id, Scope::Customer)?;
        let asked = body.get("onboarding_id").and_then(Value::as_str);
        let record = match (asked, &org.aws) {
            (Some(id), Some(record)) if record.onboarding_id == id => record,
            (Some(id), _) => {
                return Err(ArcheraError::not_found(format!(
                    "Onboarding {id} not found for organization {org_id}."
                )));
            }
            (None, Some(record)) => record,
            (None, None) => {
                return Err(ArcheraError::conflict(
                    "AWS onboarding has not been started for this organization.",
                ));
            }
        };
        let account = body
            .get("account_id")
            .and_then(Value::as_str)
            .map(str::to_string)
            .or_else(|| record.account_id.clone());
        // A record connected to one account cannot be verified against another.
        if let (Some(bound), Some(account)) = (&record.account_id, &account)
            && bound != account
            && org.aws_connected()
        {
            return Err(ArcheraError::conflict(format!(
                "This onboarding is already connected to AWS account {bound}."
            )));
        }
        let existing_cur = match body.get("existing_cur") {
            Some(cur) if !cur.is_null() => Some(
                serde_json::from_value::<ExistingCur>(cur.clone())
                    .map_err(|e| ArcheraError::unprocessable("json", "existing_cur", e))?,
            ),
            _ => None,
        };
        let connected = account
            .as_ref()
            .is_some_and(|a| org.deployed_aws_accounts.contains(a))
            || self.world.mutant(ArcheraMutant::VerifyAlwaysAvailable);

        let record = Self::org_mut(state, org_id)
            .aws
            .as_mut()
            .expect("the record was found above");
        record.account_id = account;
        if existing_cur.is_some() {
            record.existing_cur = existing_cur;
        }
        Ok(render::validations(&render::AWS_FEATURES, connected))
    }

    /// `GET onboarding/azure/auth-url`: records tenant and subscription, returns the consent link.
    pub fn azure_auth_url(
        &self,
        state: &mut ArcheraState,
        org_id: &str,
        body: &Value,
    ) -> Result<Value, ArcheraError> {
        let org = self.access(state, org_id, Scope::Customer)?;
        let field = |name: &str| {
            body.get(name)
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string()
        };
        let (tenant_id, subscription_id) =
            (field("azure_tenant_id"), field("azure_subscription_id"));
        if let Some(record) = &org.azure
            && org.azure_connected()
            && (record.tenant_id != tenant_id || record.subscription_id != subscription_id)
        {
            return Err(ArcheraError::conflict(format!(
                "This organization is already connected to Azure subscription {}.",
                record.subscription_id
            )));
        }
        let (onboarding_id, created_at) = match &org.azure {
            Some(r) => (r.onboarding_id.clone(), r.created_at.clone()),
            None => (self.ids().uuid(), self.now.clone()),
        };
        let url = render::azure_consent_url(&tenant_id, &subscription_id, &onboarding_id);
        state.set_azure(
            org_id,
            AzureOnboarding {
                onboarding_id,
                created_at,
                tenant_id,
                subscription_id,
            },
        );
        Ok(json!({"url": url}))
    }

    /// `POST onboarding/azure/verify`: one validation per Azure feature, from the Azure record.
    pub fn verify_azure(&self, state: &ArcheraState, org_id: &str) -> Result<Value, ArcheraError> {
        let org = self.access(state, org_id, Scope::Customer)?;
        if org.azure.is_none() {
            return Err(ArcheraError::conflict(
                "Azure onboarding has not been started: request the auth URL first.",
            ));
        }
        let connected =
            org.azure_connected() || self.world.mutant(ArcheraMutant::VerifyAlwaysAvailable);
        Ok(render::validations(&render::AZURE_FEATURES, connected))
    }

    /// `POST onboarding/register_child`: a new child organisation; the company name is unique
    /// (trimmed, case-insensitive) among the partner's children.
    pub fn register_child(
        &self,
        state: &mut ArcheraState,
        org_id: &str,
        body: &Value,
    ) -> Result<Value, ArcheraError> {
        let partner = self.access(state, org_id, Scope::Partner)?;
        let company = body
            .get("company")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .trim()
            .to_string();
        if state.has_child_named(&partner.id, &company) {
            return Err(ArcheraError::conflict(format!(
                "An organization named {company:?} already exists under this partner."
            )));
        }
        let id = self.ids().uuid();
        let child = Org {
            id: id.clone(),
            name: company,
            parent: Some(partner.id.clone()),
            created_at: self.now.clone(),
            links: Default::default(),
            labra_subscription_id: body
                .get("labra_subscription_id")
                .and_then(Value::as_str)
                .map(str::to_string),
            users: body
                .get("email")
                .and_then(Value::as_str)
                .map(|e| vec![e.to_string()])
                .unwrap_or_default(),
            external_id: self.ids().uuid(),
            aws: None,
            azure: None,
            deployed_aws_accounts: Default::default(),
            consented_azure_subscriptions: Default::default(),
        };
        state.insert_org(child);
        Ok(json!({"org_id": id}))
    }

    /// `GET onboarding/child-orgs`.
    pub fn list_children(&self, state: &ArcheraState, org_id: &str) -> Result<Value, ArcheraError> {
        let partner = self.access(state, org_id, Scope::Partner)?;
        Ok(state
            .children(&partner.id)
            .into_iter()
            .map(|child| {
                let purchased = state.plans_of(&child.id).any(|p| p.purchased());
                render::child_listing(child, purchased)
            })
            .collect())
    }

    /// `GET purchase-plans-v2/recommended?provider=`.
    pub fn recommended_plan(
        &self,
        state: &ArcheraState,
        org_id: &str,
        provider: &str,
    ) -> Result<Value, ArcheraError> {
        let org = self.access(state, org_id, Scope::Customer)?;
        let plan = state
            .plans_of(&org.id)
            .filter(|p| p.provider == provider)
            .min_by(|a, b| (&a.created_at, &a.id).cmp(&(&b.created_at, &b.id)))
            .ok_or_else(|| {
                ArcheraError::not_found(format!(
                    "No {provider} purchase plan for organization {org_id}."
                ))
            })?;
        if plan.is_calculating {
            return Err(ArcheraError::conflict(
                "The purchase plan is still being calculated; try again later.",
            ));
        }
        Ok(render::plan_summary(plan))
    }

    /// `POST purchase-plans-v2/{plan_id}/purchase`: a plan is bought once.
    pub fn purchase(
        &self,
        state: &mut ArcheraState,
        org_id: &str,
        plan_id: &str,
        body: &Value,
    ) -> Result<Value, ArcheraError> {
        let org = self.access(state, org_id, Scope::Customer)?;
        let plan = state
            .plans
            .get(plan_id)
            .filter(|p| p.org_id == org.id)
            .ok_or_else(|| {
                ArcheraError::not_found(format!("Purchase plan {plan_id} not found."))
            })?;
        if plan.is_calculating {
            return Err(ArcheraError::conflict(
                "The purchase plan is still being calculated and cannot be bought yet.",
            ));
        }
        if plan.purchased() && !self.world.mutant(ArcheraMutant::SecondPurchaseAllowed) {
            return Err(ArcheraError::conflict(format!(
                "Purchase plan {plan_id} has already been purchased."
            )));
        }
        let email = body
            .get("email")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string();

        // The buyer joins the organisation if needed, then the plan starts executing.
        let org = Self::org_mut(state, org_id);
        if !org.users.iter().any(|u| u.eq_ignore_ascii_case(&email)) {
            org.users.push(email.clone());
        }
        let plan = state.plans.get_mut(plan_id).expect("found above");
        plan.status = "in_progress".into();
        plan.is_locked = true;
        plan.last_modified = self.now.clone();
        plan.purchase = Some(Purchase {
            email,
            user_id: self.ids().uuid(),
            at: self.now.clone(),
            action_id: self.ids().uuid(),
        });
        Ok(render::plan_document(plan))
    }

    /// `PATCH /partners`: sets or clears marketplace offer links; every link must be an http(s)
    /// URL with a host.
    pub fn update_partner(
        &self,
        state: &mut ArcheraState,
        org_id: &str,
        body: &Value,
    ) -> Result<Value, ArcheraError> {
        self.access(state, org_id, Scope::Partner)?;
        const FIELDS: [&str; 3] = [
            "aws_marketplace_offer_link",
            "azure_marketplace_offer_link",
            "gcp_marketplace_offer_link",
        ];
        let mut changes: Vec<(&str, Option<String>)> = Vec::new();
        let mut invalid = Vec::new();
        for field in FIELDS {
            match body.get(field) {
                None => {}
                Some(Value::String(link)) => {
                    if !web_link(link) && !self.world.mutant(ArcheraMutant::PatchUrlNotValidated) {
                        invalid.push(field);
                    }
                    changes.push((field, Some(link.clone())));
                }
                Some(_) => changes.push((field, None)),
            }
        }
        if !invalid.is_empty() {
            return Err(ArcheraError::unprocessable_fields(
                "json",
                invalid.into_iter().map(|f| (f, "Not a valid URL.")),
            ));
        }
        let org = Self::org_mut(state, org_id);
        for (field, link) in changes {
            match field {
                "aws_marketplace_offer_link" => org.links.aws = link,
                "azure_marketplace_offer_link" => org.links.azure = link,
                _ => org.links.gcp = link,
            }
        }
        Ok(render::partner_org(org))
    }
}

/// Whether `link` is an absolute http(s) URL with a host: what an offer link must be (a URI such
/// as `mailto:` or `urn:` passes the schema's format but is no web link).
pub fn web_link(link: &str) -> bool {
    url::Url::parse(link).is_ok_and(|u| {
        matches!(u.scheme(), "http" | "https") && u.host_str().is_some_and(|h| !h.is_empty())
    })
}
