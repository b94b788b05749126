//! The documents Archera hands out, computed from state: the CloudFormation template and the
//! console and consent links, verification results and checklists, and purchase plans.

use serde_json::{Value, json};
use url::Url;

use super::state::{Org, Plan};

/// The AWS account Archera's role assumptions come from (AWS's documentation example account:
/// the fake never names a real one).
pub const ARCHERA_AWS_ACCOUNT: &str = "111122223333";

/// The stack name the console link proposes.
pub const STACK_NAME: &str = "ArcheraIntegration";

/// The AWS integration's features, in the order verification reports them.
pub const AWS_FEATURES: [&str; 4] = [
    "iam_role",
    "cost_and_usage_report",
    "cost_explorer_access",
    "commitment_inventory",
];

/// The Azure integration's features, in the order verification reports them.
pub const AZURE_FEATURES: [&str; 3] = [
    "service_principal",
    "subscription_reader",
    "cost_management_export",
];

/// Archera's Azure application (client) id in consent links (an id of the fake's own).
const AZURE_CLIENT_ID: &str = "8e7d6c5b-4a3f-4e2d-b1c0-9f8e7d6c5b4a";

/// The read-only actions the role's policy grants: cost and usage data, and the inventory of
/// commitments already held. Nothing that writes or buys.
const READ_ONLY_ACTIONS: [&str; 10] = [
    "ce:Describe*",
    "ce:Get*",
    "ce:List*",
    "cur:DescribeReportDefinitions",
    "ec2:DescribeReservedInstances",
    "ec2:DescribeReservedInstancesOfferings",
    "organizations:DescribeOrganization",
    "organizations:ListAccounts",
    "pricing:GetProducts",
    "savingsplans:DescribeSavingsPlans",
];

/// The onboarding CloudFormation template of an organisation: an IAM role that Archera's account
/// may assume only with the org's external id, carrying a read-only cost-and-usage policy.
pub fn cloudformation_template(external_id: &str) -> Value {
    json!({
        "AWSTemplateFormatVersion": "2010-09-09",
        "Description": "Grants Archera read-only access to cost and usage data through a cross-account IAM role.",
        "Parameters": {
            "ExternalId": {
                "Type": "String",
                "Description": "External id Archera presents when assuming the role.",
                "Default": external_id,
                "AllowedValues": [external_id]
            }
        },
        "Resources": {
            "ArcheraRole": {
                "Type": "AWS::IAM::Role",
                "Properties": {
                    "RoleName": "ArcheraIntegrationRole",
                    "AssumeRolePolicyDocument": {
                        "Version": "2012-10-17",
                        "Statement": [{
                            "Effect": "Allow",
                            "Principal": {"AWS": format!("arn:aws:iam::{ARCHERA_AWS_ACCOUNT}:root")},
                            "Action": "sts:AssumeRole",
                            "Condition": {"StringEquals": {"sts:ExternalId": external_id}}
                        }]
                    }
                }
            },
            "ArcheraCostAndUsageReadOnly": {
                "Type": "AWS::IAM::Policy",
                "Properties": {
                    "PolicyName": "ArcheraCostAndUsageReadOnly",
                    "Roles": [{"Ref": "ArcheraRole"}],
                    "PolicyDocument": {
                        "Version": "2012-10-17",
                        "Statement": [{
                            "Effect": "Allow",
                            "Action": READ_ONLY_ACTIONS,
                            "Resource": "*"
                        }]
                    }
                }
            }
        },
        "Outputs": {
            "RoleArn": {"Value": {"Fn::GetAtt": ["ArcheraRole", "Arn"]}},
            "ExternalId": {"Value": {"Ref": "ExternalId"}}
        }
    })
}

/// Where the org's template is published (the console link points the stack at it).
pub fn template_url(org_id: &str) -> String {
    format!("https://archera-onboarding.s3.amazonaws.com/templates/{org_id}.json")
}

/// The AWS console quick-create link for the org's stack.
pub fn launch_stack_url(org_id: &str, external_id: &str) -> String {
    let query: String = url::form_urlencoded::Serializer::new(String::new())
        .append_pair("templateURL", &template_url(org_id))
        .append_pair("stackName", STACK_NAME)
        .append_pair("param_ExternalId", external_id)
        .finish();
    format!(
        "https://console.aws.amazon.com/cloudformation/home?region=us-east-1#/stacks/quickcreate?{query}"
    )
}

/// The Microsoft admin-consent link for a tenant; `state` carries the onboarding record and the
/// subscription back to Archera's callback.
pub fn azure_consent_url(tenant_id: &str, subscription_id: &str, onboarding_id: &str) -> String {
    let mut url = Url::parse("https://login.microsoftonline.com/").expect("static URL");
    url.path_segments_mut()
        .expect("https URL has segments")
        .pop_if_empty()
        .push(tenant_id)
        .push("v2.0")
        .push("adminconsent");
    url.query_pairs_mut()
        .append_pair("client_id", AZURE_CLIENT_ID)
        .append_pair("scope", "https://management.azure.com/.default")
        .append_pair("redirect_uri", "https://api.archera.ai/v2/azure/callback")
        .append_pair("state", &format!("{onboarding_id}.{subscription_id}"));
    url.into()
}

/// One `Validation` per feature, all with the same status.
pub fn validations(features: &[&str], connected: bool) -> Value {
    let status = if connected { "available" } else { "missing" };
    features
        .iter()
        .map(|f| json!({"feature": f, "status": status}))
        .collect()
}

fn status(ok: bool) -> &'static str {
    if ok { "available" } else { "missing" }
}

/// A child as the child-orgs listing shows it: its org checklist and one integration checklist
/// per provider it started onboarding with.
pub fn child_listing(org: &Org, purchased: bool) -> Value {
    let connected = org.aws_connected() || org.azure_connected();
    let started = org.aws.is_some() || org.azure.is_some();
    let cloud = if connected {
        "available"
    } else if started {
        "warning"
    } else {
        "missing"
    };
    let mut integrations = serde_json::Map::new();
    if org.aws.is_some() {
        integrations.insert(
            "aws".into(),
            validations(&AWS_FEATURES, org.aws_connected()),
        );
    }
    if org.azure.is_some() {
        integrations.insert(
            "azure".into(),
            validations(&AZURE_FEATURES, org.azure_connected()),
        );
    }
    json!({
        "created_at": org.created_at,
        "org_id": org.id,
        "org_name": org.name,
        "org_checklist": [
            {"feature": "users_invited", "status": status(!org.users.is_empty())},
            {"feature": "cloud_account_connected", "status": cloud},
            {"feature": "commitments_purchased", "status": status(purchased)},
        ],
        "integration_checklist": integrations,
    })
}

/// The partner organisation as `PATCH /partners` returns it.
pub fn partner_org(org: &Org) -> Value {
    json!({
        "id": org.id,
        "name": org.name,
        "aws_marketplace_offer_link": org.links.aws,
        "azure_marketplace_offer_link": org.links.azure,
        "gcp_marketplace_offer_link": org.links.gcp,
    })
}

/// Money in cents as the JSON number of dollars.
fn dollars(cents: u64) -> f64 {
    cents as f64 / 100.0
}

/// The commitment types a plan for `provider` buys: (key, display name, service, term, payment).
fn commitments(provider: &str) -> Vec<(String, &'static str, &'static str, &'static str)> {
    match provider {
        "aws" => vec![
            (
                "aws_compute_savings_plan".into(),
                "Compute Savings Plan",
                "AmazonEC2",
                "one_year",
            ),
            (
                "aws_ec2_reserved_instance".into(),
                "EC2 Reserved Instances (GRI)",
                "AmazonEC2",
                "thirty_day_gris",
            ),
        ],
        "azure" => vec![
            (
                "azure_savings_plan".into(),
                "Azure Savings Plan for Compute",
                "Microsoft.Compute",
                "one_year",
            ),
            (
                "azure_reserved_vm_instance".into(),
                "Azure Reserved VM Instances",
                "Microsoft.Compute",
                "three_month_gris",
            ),
        ],
        "gcp" => vec![(
            "gcp_committed_use_discount".into(),
            "Committed Use Discounts",
            "Compute Engine",
            "one_year",
        )],
        other => vec![(
            format!("{other}_commitment"),
            "Commitment",
            "Compute",
            "one_year",
        )],
    }
}

fn hours(term: &str) -> u64 {
    match term {
        "thirty_day_gris" => 720,
        "three_month_gris" => 2160,
        _ => 8760,
    }
}

fn provider_label(provider: &str) -> String {
    match provider {
        "aws" => "AWS".into(),
        "gcp" => "GCP".into(),
        "azure" => "Azure".into(),
        other => other.to_string(),
    }
}

/// The stored part of a plan (`PurchasePlanV2`).
pub fn plan_document(plan: &Plan) -> Value {
    let specs: Vec<Value> = commitments(&plan.provider)
        .into_iter()
        .map(|(key, _, _, term)| {
            json!({"commitment_type": key, "properties": {}, "term": term, "payment_option": "no_upfront"})
        })
        .collect();
    let terms: Vec<&str> = commitments(&plan.provider)
        .into_iter()
        .map(|(_, _, _, term)| term)
        .collect();
    let label = provider_label(&plan.provider);
    let author = json!({
        "id": plan.related.author_id,
        "username": "recommendations@archera.example",
        "full_name": "Archera recommendations",
    });
    let plan_info = json!({
        "id": plan.id, "name": plan.name, "created_at": plan.created_at, "status": plan.status,
    });
    let flagged: Vec<Value> = plan
        .purchase
        .iter()
        .map(|p| {
            let (key, _, _, term) = commitments(&plan.provider).remove(0);
            json!({
                "id": p.action_id,
                "org_id": plan.org_id,
                "user_id": p.user_id,
                "provider": plan.provider,
                "action_type": "purchase",
                "action_description": {"commitment_type": key, "term": term, "payment_option": "no_upfront", "requested_by": p.email},
                "status": "submitted",
                "creation_time": p.at,
                "execution_time": null,
                "execution_info": null,
                "plan_id": plan.id,
                "plan": {"name": plan.name, "id": plan.id, "is_default": true, "status": plan.status},
            })
        })
        .collect();
    json!({
        "start_date": null,
        "end_date": null,
        "id": plan.id,
        "data_source": if plan.provider == "aws" { "cur" } else { "billing_export" },
        "name": plan.name,
        "description": format!("Commitments covering steady {label} compute usage."),
        "segment_id": plan.related.segment_id,
        "meta_plan_id": plan.related.meta_plan_id,
        "org_id": plan.org_id,
        "last_modified": plan.last_modified,
        "plan_type": "purchase",
        "coverage_id": null,
        "created_at": plan.created_at,
        "is_calculating": plan.is_calculating,
        "is_saved": true,
        "is_locked": plan.is_locked,
        "max_upfront_cost": 0.0,
        "minimum_upfront_interest_rate": 0.05,
        "preferred_payment_option": "No Upfront",
        "included_contract_specs": specs,
        "included_contract_terms": terms,
        "recommend_within_covered_accounts": null,
        "status": plan.status,
        "is_recommended": true,
        "is_default": true,
        "is_renewal": false,
        "execution_policy": {
            "id": plan.related.policy_id,
            "org_id": plan.org_id,
            "name": format!("Monthly {label} auto-purchase"),
            "description": null,
            "created_at": plan.created_at,
            "last_modified": plan.last_modified,
            "schedule": "monthly",
            "start_date": null,
            "end_date": null,
            "enabled": plan.purchased(),
            "next_execution_date": null,
            "meta_plan_id": plan.related.meta_plan_id,
            "segment_id": plan.related.segment_id,
            "default_plan_name": plan.name,
            "min_savings": 0.0,
            "meta_plan": {
                "id": plan.related.meta_plan_id,
                "name": format!("{label} compute coverage"),
                "created_at": plan.created_at,
                "is_default": true,
            },
            "created_by": author,
            "plans": [plan_info],
            "total_savings": dollars(plan.monthly_savings_cents * 12),
        },
        "segment": {
            "id": plan.related.segment_id,
            "name": format!("All {label} accounts"),
            "created_at": plan.created_at,
            "is_default": true,
            "provider": plan.provider,
        },
        "flagged_actions": flagged,
        "created_by": author,
        "resource_ids": [],
        "reservation_ids": [],
    })
}

/// The plan with its computed figures (`PurchasePlanV2CombinedSummary`). Every figure derives
/// from the monthly cost before the plan and the monthly savings, so they stay consistent.
pub fn plan_summary(plan: &Plan) -> Value {
    let before = plan.monthly_before_cents;
    let savings = plan.monthly_savings_cents.min(before);
    let after = before - savings;
    let fee = savings / 10;
    let commitment = after / 2;
    let kinds = commitments(&plan.provider);
    let share = |total: u64, i: usize| {
        // Split a total over the commitment types, the remainder on the first.
        let n = kinds.len() as u64;
        total / n + if i == 0 { total % n } else { 0 }
    };
    let mut aggregate = serde_json::Map::new();
    let mut lines = Vec::new();
    for (i, (key, name, service, term)) in kinds.iter().enumerate() {
        let term_hours = hours(term);
        aggregate.insert(
            key.clone(),
            json!({
                "key": key, "name": name, "provider": plan.provider, "service_name": service,
                "num_commitments": 1, "min_commitment": dollars(share(commitment, i)),
                "max_savings": dollars(share(savings, i)), "min_savings": dollars(share(savings, i) * 9 / 10),
                "upfront_cost": 0.0, "monthly_savings": dollars(share(savings, i)),
                "monthly_commitment": dollars(share(commitment, i)),
                "potential_coverage": 0.35, "current_coverage": 0.0,
                "min_term_hours": term_hours, "max_term_hours": term_hours, "gri_premium": 0.0,
            }),
        );
        lines.push(json!({
            "key": key, "provider": plan.provider, "num_commitments": 1,
            "min_commitment": dollars(share(commitment, i)),
            "max_savings": dollars(share(savings, i)), "min_savings": dollars(share(savings, i) * 9 / 10),
            "upfront_cost": 0.0, "monthly_savings": dollars(share(savings, i)),
            "monthly_commitment": dollars(share(commitment, i)),
            "min_term_hours": term_hours, "max_term_hours": term_hours, "gri_premiums": 0.0,
            "if_all_ondemand_cost": dollars(share(before, i)),
            "before_ondemand_cost": dollars(share(before, i)),
            "after_ondemand_cost": dollars(share(after, i)),
        }));
    }
    let max_term = kinds
        .iter()
        .max_by_key(|(_, _, _, term)| hours(term))
        .map(|(_, _, _, term)| *term)
        .unwrap_or("one_year");
    let mut doc = plan_document(plan);
    let figures = json!({
        "max_term": max_term,
        "all_terms": doc["included_contract_terms"].clone(),
        "covered_ondemand_cost": dollars(before),
        "before_ondemand_cost": dollars(before),
        "before_reserved_cost": 0.0,
        "amortized_cost": dollars(commitment),
        "recurring_cost": dollars(commitment),
        "upfront_cost": 0.0,
        "before_cost": dollars(before),
        "after_cost": dollars(after),
        "total_cost": dollars(after),
        "savings": dollars(savings),
        "fee": dollars(fee),
        "commitment_coverage": 0.6,
        "minimum_commitment_cost": dollars(commitment),
        "breakeven_hours": 0.0,
        "total_savings": dollars(savings * 12),
        "monthly_savings": dollars(savings),
        "monthly_amortized_cost": dollars(commitment),
        "monthly_fee": dollars(fee),
        "monthly_before_cost": dollars(before),
        "monthly_after_cost": dollars(after),
        "total_monthly_before_cost": dollars(before),
        "aggregate_metrics": {"potential_coverage": 0.7, "current_coverage": 0.0, "summaries": aggregate},
        "summaries": lines,
    });
    if let (Some(doc), Value::Object(figures)) = (doc.as_object_mut(), figures) {
        doc.extend(figures);
    }
    doc
}
