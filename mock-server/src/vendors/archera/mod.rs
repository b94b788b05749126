//! Archera channel-partner API: a partner organisation per API key, its child (customer)
//! organisations with AWS and Azure onboarding records, and purchase plans. An `x-api-key`
//! header, `ApiErrorResponse` for most errors and flask-smorest's `Error` body for 422s.

mod errors;
mod render;
mod rules;
mod state;

use std::collections::BTreeSet;
use std::sync::Arc;

use axum::http::{HeaderMap, StatusCode};
use serde::{Deserialize, Serialize};
use serde_json::Value;

pub use errors::ArcheraError;
pub use state::ArcheraState;

use super::{
    Ambient, Caller, Context, CredentialScheme, Operations, StateStore, Store, VendorSemantics,
};
use crate::mutants::Mutant;
use crate::pipeline::{Envelope, Rejection, Reply, ValidatedRequest};
use crate::spec::Operation;
use rules::Rules;
use state::{AwsOnboarding, AzureOnboarding, OfferLinks, Org, Plan, PlanIds};

crate::mutants! {
    /// Archera's deliberate contract faults.
    pub enum ArcheraMutant {
        SecondPurchaseAllowed = "archera.second-purchase-allowed"
            => "a plan that was already bought can be bought again (200 instead of 409)",
        OnboardingNotIdempotent = "archera.onboarding-not-idempotent"
            => "onboarding start replaces the org's AWS record with a new onboarding id on every call",
        ForeignOrgAllowed = "archera.foreign-org-allowed"
            => "an org that is neither the key's partner org nor one of its children is served (no 403)",
        VerifyAlwaysAvailable = "archera.verify-always-available"
            => "AWS and Azure verification report every feature available, whatever the account state",
        PatchUrlNotValidated = "archera.patch-url-not-validated"
            => "the partner patch stores offer links that are not http(s) URLs",
    }
}

/// Archera's configuration: API keys and the seeded partner organisations.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ArcheraConfig {
    /// API keys the fake accepts.
    pub api_keys: Vec<ArcheraKey>,
    /// Partner organisations with their children.
    #[serde(default)]
    pub partners: Vec<PartnerSeed>,
}

/// A partner API key and the partner organisation it belongs to.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ArcheraKey {
    /// The `x-api-key` value.
    pub key: String,
    /// The partner organisation's id.
    pub org_id: String,
}

/// A seeded channel-partner organisation.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PartnerSeed {
    /// UUID.
    pub id: String,
    /// Company name.
    pub name: String,
    /// Creation time (RFC 3339).
    pub created_at: String,
    /// AWS Marketplace offer link.
    #[serde(default)]
    pub aws_marketplace_offer_link: Option<String>,
    /// Azure Marketplace offer link.
    #[serde(default)]
    pub azure_marketplace_offer_link: Option<String>,
    /// Google Cloud Marketplace offer link.
    #[serde(default)]
    pub gcp_marketplace_offer_link: Option<String>,
    /// The partner's customer organisations.
    #[serde(default)]
    pub children: Vec<ChildSeed>,
}

/// A seeded child (customer) organisation and its onboarding state.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChildSeed {
    /// UUID.
    pub id: String,
    /// Company name.
    pub name: String,
    /// Creation time (RFC 3339).
    pub created_at: String,
    /// Users' emails.
    #[serde(default)]
    pub users: Vec<String>,
    /// The AWS onboarding record, when onboarding was started.
    #[serde(default)]
    pub aws: Option<AwsSeed>,
    /// The Azure onboarding record, when an auth URL was requested.
    #[serde(default)]
    pub azure: Option<AzureSeed>,
    /// AWS accounts where the Archera stack is deployed: verification reports them available.
    #[serde(default)]
    pub deployed_aws_accounts: Vec<String>,
    /// Azure subscriptions whose admin consent was granted.
    #[serde(default)]
    pub consented_azure_subscriptions: Vec<String>,
    /// Purchase plans.
    #[serde(default)]
    pub plans: Vec<PlanSeed>,
}

/// A seeded AWS onboarding record.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AwsSeed {
    /// UUID v4.
    pub onboarding_id: String,
    /// The account last verified, if any.
    #[serde(default)]
    pub account_id: Option<String>,
}

/// A seeded Azure onboarding record.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AzureSeed {
    /// UUID v4.
    pub onboarding_id: String,
    /// Azure AD tenant.
    pub tenant_id: String,
    /// Azure subscription.
    pub subscription_id: String,
}

/// A seeded purchase plan.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PlanSeed {
    /// UUID v4.
    pub id: String,
    /// `aws`, `azure`, `gcp`, `kubernetes` or `unknown`.
    pub provider: String,
    /// Creation time (RFC 3339).
    pub created_at: String,
    /// Still being computed (recommendation and purchase answer 409).
    #[serde(default)]
    pub is_calculating: bool,
    /// Monthly cost before the plan, in dollars.
    pub monthly_before_cost: f64,
    /// Monthly savings, in dollars.
    pub monthly_savings: f64,
}

/// The Archera fake.
pub struct Archera {
    /// Shared by every world's Archera: credentials and seed never change.
    config: Arc<ArcheraConfig>,
    world: Ambient,
    state: Store<ArcheraState>,
}

impl Archera {
    /// Admin side: the Archera stack is now deployed in `account_id` for `org_id`, so AWS
    /// verification of that account reports every feature available.
    pub fn mark_stack_deployed(&self, org_id: &str, account_id: &str) -> Result<(), ArcheraError> {
        self.change_org(org_id, |org| {
            org.deployed_aws_accounts.insert(account_id.to_string());
        })
    }

    /// Admin side: admin consent was granted for `subscription_id` of `org_id`, so Azure
    /// verification reports every feature available.
    pub fn grant_azure_consent(
        &self,
        org_id: &str,
        subscription_id: &str,
    ) -> Result<(), ArcheraError> {
        self.change_org(org_id, |org| {
            org.consented_azure_subscriptions
                .insert(subscription_id.to_string());
        })
    }

    /// Applies `change` to the stored org `org_id` (any letter case), or 404s.
    fn change_org(&self, org_id: &str, change: impl FnOnce(&mut Org)) -> Result<(), ArcheraError> {
        let mut state = self.state.lock();
        let org = state
            .org_mut(&org_id.to_ascii_lowercase())
            .ok_or_else(|| ArcheraError::not_found(format!("Organization {org_id} not found.")))?;
        change(org);
        Ok(())
    }

    /// Runs one operation's rules against the state.
    fn dispatch(
        &self,
        op: ArcheraOp,
        request: &ValidatedRequest,
        rules: &Rules<'_>,
    ) -> Result<Value, ArcheraError> {
        // Flask's uuid converter accepts any case; ids are stored lower-case.
        let org_id = request.path_str("org_id").to_ascii_lowercase();
        let body = request.body.clone().unwrap_or(Value::Null);
        let mut state = self.state.lock();
        let state = &mut *state;
        match op {
            ArcheraOp::StartOnboarding => rules.start_onboarding(state, &org_id),
            ArcheraOp::AwsCloudformationTemplate => rules.cloudformation_template(state, &org_id),
            ArcheraOp::AwsLaunchStackUrl => rules.launch_stack_url(state, &org_id),
            ArcheraOp::VerifyAws => rules.verify_aws(state, &org_id, &body),
            ArcheraOp::AzureAuthUrl => rules.azure_auth_url(state, &org_id, &body),
            ArcheraOp::VerifyAzure => rules.verify_azure(state, &org_id),
            ArcheraOp::RegisterChildOrg => rules.register_child(state, &org_id, &body),
            ArcheraOp::ListChildOrgs => rules.list_children(state, &org_id),
            ArcheraOp::RecommendedPurchasePlan => {
                let provider = request
                    .query
                    .get("provider")
                    .and_then(Value::as_str)
                    .unwrap_or_default();
                rules.recommended_plan(state, &org_id, provider)
            }
            ArcheraOp::PurchasePlan => {
                let plan_id = request.path_str("plan_id").to_ascii_lowercase();
                rules.purchase(state, &org_id, &plan_id, &body)
            }
            ArcheraOp::UpdatePartnerOrg => rules.update_partner(state, &org_id, &body),
        }
    }
}

/// The state the configuration describes. Ids the configuration does not give (external ids,
/// the ids a plan document embeds) come from the id generator.
fn seed(config: &ArcheraConfig, world: &Ambient) -> ArcheraState {
    let mut state = ArcheraState::default();
    let blank = |id: &str, name: &str, created_at: &str, parent: Option<&str>| Org {
        id: id.to_ascii_lowercase(),
        name: name.to_string(),
        parent: parent.map(str::to_string),
        created_at: created_at.to_string(),
        links: OfferLinks::default(),
        labra_subscription_id: None,
        users: Vec::new(),
        external_id: world.ids.uuid(),
        aws: None,
        azure: None,
        deployed_aws_accounts: BTreeSet::new(),
        consented_azure_subscriptions: BTreeSet::new(),
    };
    for partner in &config.partners {
        let mut org = blank(&partner.id, &partner.name, &partner.created_at, None);
        org.links = OfferLinks {
            aws: partner.aws_marketplace_offer_link.clone(),
            azure: partner.azure_marketplace_offer_link.clone(),
            gcp: partner.gcp_marketplace_offer_link.clone(),
        };
        for child in &partner.children {
            let mut c = blank(&child.id, &child.name, &child.created_at, Some(&org.id));
            c.users = child.users.clone();
            c.aws = child.aws.as_ref().map(|a| AwsOnboarding {
                onboarding_id: a.onboarding_id.clone(),
                created_at: child.created_at.clone(),
                account_id: a.account_id.clone(),
                existing_cur: None,
            });
            c.azure = child.azure.as_ref().map(|a| AzureOnboarding {
                onboarding_id: a.onboarding_id.clone(),
                created_at: child.created_at.clone(),
                tenant_id: a.tenant_id.clone(),
                subscription_id: a.subscription_id.clone(),
            });
            c.deployed_aws_accounts = child.deployed_aws_accounts.iter().cloned().collect();
            c.consented_azure_subscriptions = child
                .consented_azure_subscriptions
                .iter()
                .cloned()
                .collect();
            for plan in &child.plans {
                let plan = seeded_plan(plan, &c.id, world);
                state.plans.insert(plan.id.clone(), plan);
            }
            state.insert_org(c);
        }
        state.insert_org(org);
    }
    state
}

fn seeded_plan(seed: &PlanSeed, org_id: &str, world: &Ambient) -> Plan {
    let label = match seed.provider.as_str() {
        "aws" => "AWS".to_string(),
        "gcp" => "GCP".to_string(),
        "azure" => "Azure".to_string(),
        other => other.to_string(),
    };
    let cents = |dollars: f64| (dollars * 100.0).round().max(0.0) as u64;
    Plan {
        id: seed.id.to_ascii_lowercase(),
        org_id: org_id.to_string(),
        provider: seed.provider.clone(),
        name: format!("Recommended {label} plan"),
        status: "new".into(),
        is_calculating: seed.is_calculating,
        is_locked: false,
        created_at: seed.created_at.clone(),
        last_modified: seed.created_at.clone(),
        monthly_before_cents: cents(seed.monthly_before_cost),
        monthly_savings_cents: cents(seed.monthly_savings),
        related: PlanIds {
            segment_id: world.ids.uuid(),
            meta_plan_id: world.ids.uuid(),
            policy_id: world.ids.uuid(),
            author_id: world.ids.uuid(),
        },
        purchase: None,
    }
}

crate::operations! {
    /// Archera's operations, as the spec names them.
    pub enum ArcheraOp {
        /// `startOnboarding`.
        StartOnboarding = "startOnboarding",
        /// `getAwsCloudformationTemplate`.
        AwsCloudformationTemplate = "getAwsCloudformationTemplate",
        /// `getAwsLaunchStackUrl`.
        AwsLaunchStackUrl = "getAwsLaunchStackUrl",
        /// `verifyAwsOnboarding`.
        VerifyAws = "verifyAwsOnboarding",
        /// `getAzureAuthUrl`.
        AzureAuthUrl = "getAzureAuthUrl",
        /// `verifyAzureOnboarding`.
        VerifyAzure = "verifyAzureOnboarding",
        /// `registerChildOrg`.
        RegisterChildOrg = "registerChildOrg",
        /// `listChildOrgs`.
        ListChildOrgs = "listChildOrgs",
        /// `getRecommendedPurchasePlan`.
        RecommendedPurchasePlan = "getRecommendedPurchasePlan",
        /// `purchasePlan`.
        PurchasePlan = "purchasePlan",
        /// `updatePartnerOrg`.
        UpdatePartnerOrg = "updatePartnerOrg",
    }
}

impl Caller for &ArcheraKey {
    fn credential(&self) -> &str {
        &self.key
    }
}

impl VendorSemantics for Archera {
    type Caller<'v> = &'v ArcheraKey;
    type Error = ArcheraError;
    type Op = ArcheraOp;
    type Config = ArcheraConfig;

    const SPEC: &'static str = include_str!("../../../../specs/archera.yaml");
    const MUTANTS: &'static [Mutant] = ArcheraMutant::CATALOGUE;

    /// An Archera fake with the configured keys and the seeded organisations and plans.
    fn new(config: ArcheraConfig, world: Ambient) -> Self {
        let seed = seed(&config, &world);
        Archera {
            config: Arc::new(config),
            world,
            state: Store::new(seed),
        }
    }

    fn fork(&self, world: Ambient) -> Self {
        Archera {
            config: self.config.clone(),
            world,
            state: self.state.fork(),
        }
    }

    fn creates(&self, op: &Operation) -> bool {
        ArcheraOp::of(op) == Some(ArcheraOp::RegisterChildOrg)
    }

    fn admin_action(&self, name: &str, body: &Value) -> Result<Value, String> {
        let field = |key: &str| {
            body.get(key)
                .and_then(Value::as_str)
                .ok_or_else(|| format!("{name} needs a string field {key:?}"))
        };
        let done = match name {
            "aws-stack-deployed" => {
                self.mark_stack_deployed(field("org_id")?, field("account_id")?)
            }
            "azure-consent-granted" => {
                self.grant_azure_consent(field("org_id")?, field("subscription_id")?)
            }
            _ => {
                return Err(format!(
                    "archera's admin actions are aws-stack-deployed and azure-consent-granted, not {name:?}"
                ));
            }
        };
        done.map(|()| body.clone())
            .map_err(|_| format!("no organisation {}", body["org_id"]))
    }

    fn primary_credential(&self, scheme: CredentialScheme) -> Option<&str> {
        let first = self.config.api_keys.first().map(|k| k.key.as_str());
        first.filter(|_| scheme == CredentialScheme::Token)
    }

    fn credentials(&self) -> Vec<&str> {
        self.config
            .api_keys
            .iter()
            .map(|k| k.key.as_str())
            .collect()
    }

    fn authenticate(&self, _op: &Operation, headers: &HeaderMap) -> Result<&ArcheraKey, Rejection> {
        let key = headers
            .get("x-api-key")
            .and_then(|v| v.to_str().ok())
            .filter(|k| !k.is_empty())
            .ok_or(Rejection::MissingCredentials)?;
        self.caller(key).ok_or(Rejection::UnknownCredentials)
    }

    /// An API key and, through it, the partner organisation it belongs to.
    fn caller(&self, credential: &str) -> Option<&ArcheraKey> {
        self.config.api_keys.iter().find(|k| k.key == credential)
    }

    fn handle(
        &self,
        op: ArcheraOp,
        request: &ValidatedRequest,
        caller: &&ArcheraKey,
        cx: &Context<'_>,
    ) -> Reply {
        let rules = Rules {
            partner_id: &caller.org_id,
            world: &self.world,
            now: crate::clock::rfc3339(cx.now),
        };
        match self.dispatch(op, request, &rules) {
            Ok(body) => Reply::json(StatusCode::OK, body),
            Err(error) => error.reply(cx),
        }
    }

    fn state(&self) -> &dyn StateStore {
        &self.state
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;
    use rules::web_link;
    use serde_json::json;

    const PARTNER: &str = "6f1c2a3b-4d5e-4f60-8a7b-9c0d1e2f3a4b";
    const CONTOSO: &str = "2b4d6f8a-0c1e-4a3b-9d5f-7e8a9b0c1d2e";

    fn archera() -> Archera {
        Archera::new(Config::default().archera, Ambient::new(Some(7)))
    }

    fn rules(archera: &Archera) -> Rules<'_> {
        Rules {
            partner_id: PARTNER,
            world: &archera.world,
            now: "2026-01-01T00:00:00.000Z".into(),
        }
    }

    fn statuses(validations: &Value) -> Vec<&str> {
        validations
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v["status"].as_str().unwrap())
            .collect()
    }

    #[test]
    fn an_imported_state_keeps_each_partners_children_indexed() {
        let archera = archera();
        let rules = rules(&archera);
        let created = rules
            .register_child(
                &mut archera.state.lock(),
                PARTNER,
                &json!({"company": "Fabrikam"}),
            )
            .unwrap();
        let listed =
            |archera: &Archera| rules.list_children(&archera.state.lock(), PARTNER).unwrap();
        let before = listed(&archera);
        let named = |listing: &Value| -> Vec<String> {
            listing
                .as_array()
                .unwrap()
                .iter()
                .map(|c| c["org_name"].as_str().unwrap().to_string())
                .collect()
        };
        assert!(
            before
                .as_array()
                .unwrap()
                .iter()
                .any(|c| c["org_id"] == created["org_id"]),
            "{before}"
        );
        let exported = archera.state.export();
        archera.state.reset();
        archera.state.import(exported).unwrap();
        // The index is rebuilt from the import: the same listing, and the name is still taken.
        assert_eq!(listed(&archera), before);
        let again = rules.register_child(
            &mut archera.state.lock(),
            PARTNER,
            &json!({"company": "  FABRIKAM "}),
        );
        assert!(again.is_err(), "{again:?}");
        let other = rules.register_child(
            &mut archera.state.lock(),
            PARTNER,
            &json!({"company": "Fabrikam Two"}),
        );
        assert!(other.is_ok(), "{other:?}");
        let mut after = named(&listed(&archera));
        let at = after
            .iter()
            .position(|n| n == "Fabrikam Two")
            .expect("listed");
        after.remove(at);
        assert_eq!(after, named(&before), "the others keep their order");
    }

    #[test]
    fn mark_stack_deployed_turns_a_missing_verification_available() {
        let archera = archera();
        let rules = rules(&archera);
        let started = rules
            .start_onboarding(&mut archera.state.lock(), CONTOSO)
            .unwrap();
        let body = json!({"onboarding_id": started["onboarding_id"], "account_id": "210987654321"});
        let before = rules
            .verify_aws(&mut archera.state.lock(), CONTOSO, &body)
            .unwrap();
        assert_eq!(statuses(&before), ["missing"; 4]);

        archera
            .mark_stack_deployed(&CONTOSO.to_uppercase(), "210987654321")
            .unwrap();
        let after = rules
            .verify_aws(&mut archera.state.lock(), CONTOSO, &body)
            .unwrap();
        assert_eq!(statuses(&after), ["available"; 4]);
        // Reset forgets what the admin side did.
        archera.state.reset();
        assert!(
            !archera
                .state
                .lock()
                .org(CONTOSO)
                .unwrap()
                .deployed_aws_accounts
                .contains("210987654321")
        );
    }

    #[test]
    fn grant_azure_consent_turns_azure_verification_available() {
        let archera = archera();
        let rules = rules(&archera);
        let before = rules.verify_azure(&archera.state.lock(), CONTOSO).unwrap();
        assert_eq!(statuses(&before), ["missing"; 3]);
        let subscription = archera
            .state
            .lock()
            .org(CONTOSO)
            .unwrap()
            .azure
            .clone()
            .unwrap()
            .subscription_id;
        archera.grant_azure_consent(CONTOSO, &subscription).unwrap();
        let after = rules.verify_azure(&archera.state.lock(), CONTOSO).unwrap();
        assert_eq!(statuses(&after), ["available"; 3]);
    }

    #[test]
    fn the_admin_side_names_unknown_orgs() {
        let archera = archera();
        let unknown = "00000000-0000-4000-8000-000000000000";
        assert!(archera.mark_stack_deployed(unknown, "1").is_err());
        assert!(archera.grant_azure_consent(unknown, "s").is_err());
    }

    #[test]
    fn offer_links_must_be_web_links() {
        assert!(web_link("https://aws.amazon.com/marketplace/pp/x"));
        assert!(web_link("http://example.com"));
        assert!(!web_link("mailto:sales@example.com"));
        assert!(!web_link("ftp://example.com/x"));
        assert!(!web_link("urn:isbn:0451450523"));
        assert!(!web_link("not a url"));
    }

    #[test]
    fn every_mutant_is_named_for_archera() {
        for mutant in ArcheraMutant::ALL.iter().map(|m| m.mutant()) {
            assert!(mutant.name().starts_with("archera."), "{}", mutant.name());
            assert!(!mutant.what().is_empty());
        }
    }
}
