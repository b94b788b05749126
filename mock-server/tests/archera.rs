//! Archera's channel-partner world over real HTTP, strict response validation on: onboarding,
//! AWS and Azure verification, child organisations, purchase plans, the partner patch, access.

mod common;

use std::collections::{BTreeMap, BTreeSet};

use common::{Fake, read};
use reqwest::Method;
use reqwest::header::HeaderMap;
use serde_json::{Value, json};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use understudy::VendorId;

const KEY: &str = "archera_understudy_test";
const PARTNER: &str = "6f1c2a3b-4d5e-4f60-8a7b-9c0d1e2f3a4b";
/// Onboarded on AWS: onboarding NORTHWIND_ONBOARDING, stack deployed in account 123456789012.
const NORTHWIND: &str = "b7e4c1d2-6a3f-4b8e-9c5d-2f1a0e7b3c96";
const NORTHWIND_ONBOARDING: &str = "7f3a9c1e-5b2d-4e8f-a1c3-9d7e5b3f1a2c";
const NORTHWIND_ACCOUNT: &str = "123456789012";
/// Azure consent requested (not granted), no AWS onboarding.
const CONTOSO: &str = "2b4d6f8a-0c1e-4a3b-9d5f-7e8a9b0c1d2e";
const CONTOSO_SUBSCRIPTION: &str = "9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d";
/// Another partner and its child: foreign to KEY.
const MERIDIAN: &str = "0a9b8c7d-6e5f-4a3b-9c2d-1e0f2a3b4c5d";
const HARBOR: &str = "5e6f7a8b-9c0d-4e1f-8a2b-3c4d5e6f7a8b";
const UNKNOWN_ORG: &str = "9f9f9f9f-0000-4000-8000-000000000000";
const AWS_PLAN: &str = "8c2d1e4f-5a6b-4c7d-8e9f-0a1b2c3d4e5f";
const AZURE_PLAN: &str = "3f6c2a9e-8b4d-4e1f-9a7c-5d2b8e0f1a64";
const GCP_PLAN: &str = "e5d4c3b2-a190-4f8e-b7d6-c5b4a3928170";
const HARBOR_PLAN: &str = "d1c2b3a4-e5f6-4a7b-8c9d-0e1f2a3b4c5d";

fn path(org: &str, suffix: &str) -> String {
    format!("/archera/v2/org/{org}/partners{suffix}")
}

/// Sends as the test partner.
async fn call(
    fake: &Fake,
    method: Method,
    org: &str,
    suffix: &str,
    body: Option<Value>,
) -> (u16, HeaderMap, Value) {
    let response = fake
        .send(
            method,
            &path(org, suffix),
            &[("x-api-key", KEY)],
            body.as_ref(),
        )
        .await;
    let (status, headers, body) = read(response).await;
    assert!(
        headers.get("x-understudy-contract-violation").is_none(),
        "{status} {body} {headers:?}"
    );
    (status, headers, body)
}

fn export(fake: &Fake) -> Value {
    fake.store(VendorId::Archera).export()
}

fn import(fake: &Fake, state: Value) {
    fake.store(VendorId::Archera).import(state).unwrap();
}

fn is_uuid_v4(text: &str) -> bool {
    let b = text.as_bytes();
    text.len() == 36
        && [8, 13, 18, 23].iter().all(|&i| b[i] == b'-')
        && b.iter()
            .enumerate()
            .all(|(i, c)| [8, 13, 18, 23].contains(&i) || matches!(c, b'0'..=b'9' | b'a'..=b'f'))
        && b[14] == b'4'
        && matches!(b[19], b'8' | b'9' | b'a' | b'b')
}

fn statuses(validations: &Value) -> Vec<(&str, &str)> {
    validations
        .as_array()
        .unwrap()
        .iter()
        .map(|v| {
            (
                v["feature"].as_str().unwrap(),
                v["status"].as_str().unwrap(),
            )
        })
        .collect()
}

fn all(validations: &Value, status: &str) -> bool {
    let list = statuses(validations);
    !list.is_empty() && list.iter().all(|(_, s)| *s == status)
}

/// The query pairs of a URL's part after `?`.
fn query_pairs(query: &str) -> BTreeMap<String, String> {
    url::form_urlencoded::parse(query.as_bytes())
        .into_owned()
        .collect()
}

// ---------------------------------------------------------------------------------------------
// Onboarding start

#[tokio::test]
async fn onboarding_start_creates_an_aws_record_once_and_returns_it_again() {
    let fake = Fake::start().await;
    let (status, _, first) = call(&fake, Method::POST, CONTOSO, "/onboarding/start", None).await;
    assert_eq!(status, 200, "{first}");
    let id = first["onboarding_id"].as_str().unwrap().to_string();
    assert!(is_uuid_v4(&id), "{id}");
    assert_eq!(export(&fake)["orgs"][CONTOSO]["aws"]["onboarding_id"], id);

    let before = export(&fake);
    let (status, _, again) = call(&fake, Method::POST, CONTOSO, "/onboarding/start", None).await;
    assert_eq!((status, again["onboarding_id"].as_str()), (200, Some(&*id)));
    assert_eq!(export(&fake), before, "a repeated start changes nothing");

    // The seeded record is returned as it is.
    let (_, _, seeded) = call(&fake, Method::POST, NORTHWIND, "/onboarding/start", None).await;
    assert_eq!(seeded["onboarding_id"], NORTHWIND_ONBOARDING);
}

// ---------------------------------------------------------------------------------------------
// AWS template and launch link

/// Every `{"Ref": X}` and `{"Fn::GetAtt": [X, _]}` below `value`.
fn references(value: &Value, refs: &mut Vec<String>, atts: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            if let Some(Value::String(r)) = map.get("Ref") {
                refs.push(r.clone());
            }
            if let Some(Value::Array(att)) = map.get("Fn::GetAtt") {
                atts.push(att[0].as_str().unwrap().to_string());
            }
            map.values().for_each(|v| references(v, refs, atts));
        }
        Value::Array(items) => items.iter().for_each(|v| references(v, refs, atts)),
        _ => {}
    }
}

/// Checks the template's structure; returns the external id its trust policy names.
fn check_template(template: &Value) -> String {
    assert_eq!(template["AWSTemplateFormatVersion"], "2010-09-09");
    let resources = template["Resources"].as_object().unwrap();
    assert!(!resources.is_empty());
    for (name, resource) in resources {
        let kind = resource["Type"].as_str().unwrap();
        assert_eq!(kind.split("::").count(), 3, "{name}: {kind}");
        assert!(kind.starts_with("AWS::"), "{name}: {kind}");
        assert!(resource["Properties"].is_object(), "{name}");
    }
    let parameters = template["Parameters"].as_object().unwrap();
    for (name, parameter) in parameters {
        assert!(parameter["Type"].is_string(), "{name}");
    }
    for (name, output) in template["Outputs"].as_object().unwrap() {
        assert!(!output["Value"].is_null(), "{name}");
    }
    let (mut refs, mut atts) = (Vec::new(), Vec::new());
    references(template, &mut refs, &mut atts);
    assert!(!refs.is_empty());
    for r in &refs {
        assert!(
            parameters.contains_key(r) || resources.contains_key(r) || r.starts_with("AWS::"),
            "dangling Ref {r}"
        );
    }
    for a in &atts {
        assert!(resources.contains_key(a), "dangling GetAtt {a}");
    }

    let roles: Vec<&Value> = resources
        .values()
        .filter(|r| r["Type"] == "AWS::IAM::Role")
        .collect();
    assert_eq!(roles.len(), 1);
    let trust = &roles[0]["Properties"]["AssumeRolePolicyDocument"];
    assert_eq!(trust["Version"], "2012-10-17");
    let statement = &trust["Statement"][0];
    assert_eq!(statement["Effect"], "Allow");
    assert_eq!(statement["Action"], "sts:AssumeRole");
    assert!(
        statement["Principal"]["AWS"]
            .as_str()
            .unwrap()
            .starts_with("arn:aws:iam::")
    );
    let external_id = statement["Condition"]["StringEquals"]["sts:ExternalId"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(parameters["ExternalId"]["Default"], external_id);

    // The permissions policy is attached to the role and only reads.
    let policies: Vec<&Value> = resources
        .values()
        .filter(|r| r["Type"] == "AWS::IAM::Policy")
        .collect();
    assert_eq!(policies.len(), 1);
    let policy = &policies[0]["Properties"];
    assert_eq!(policy["Roles"][0]["Ref"], "ArcheraRole");
    let actions = policy["PolicyDocument"]["Statement"][0]["Action"]
        .as_array()
        .unwrap();
    assert!(
        actions
            .iter()
            .any(|a| a.as_str().unwrap().starts_with("ce:"))
    );
    assert!(
        actions
            .iter()
            .any(|a| a.as_str().unwrap().starts_with("cur:"))
    );
    for action in actions {
        let verb = action.as_str().unwrap().split(':').nth(1).unwrap();
        assert!(
            ["Get", "Describe", "List"]
                .iter()
                .any(|p| verb.starts_with(p)),
            "{action} is not read-only"
        );
    }
    external_id
}

#[tokio::test]
async fn cloudformation_template_is_valid_stable_per_org_and_names_the_org_external_id() {
    let fake = Fake::start().await;
    let suffix = "/onboarding/aws/cloudformation_template";
    let (status, _, first) = call(&fake, Method::GET, NORTHWIND, suffix, None).await;
    assert_eq!(status, 200, "{first}");
    let external_id = check_template(&first["template"]);
    assert_eq!(export(&fake)["orgs"][NORTHWIND]["external_id"], external_id);

    let (_, _, again) = call(&fake, Method::GET, NORTHWIND, suffix, None).await;
    assert_eq!(again, first, "the same template for the same org");
    let (_, _, other) = call(&fake, Method::GET, CONTOSO, suffix, None).await;
    let other_id = check_template(&other["template"]);
    assert_ne!(other_id, external_id, "external ids are per org");
}

#[tokio::test]
async fn launch_stack_url_is_a_quick_create_link_with_template_stack_and_external_id() {
    let fake = Fake::start().await;
    let (status, _, body) = call(
        &fake,
        Method::GET,
        NORTHWIND,
        "/onboarding/aws/launch-stack-url",
        None,
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let link = url::Url::parse(body["url"].as_str().unwrap()).unwrap();
    assert_eq!(link.scheme(), "https");
    assert_eq!(link.host_str(), Some("console.aws.amazon.com"));
    assert_eq!(link.path(), "/cloudformation/home");
    let (route, query) = link
        .fragment()
        .unwrap()
        .split_once('?')
        .expect("the console route carries a query");
    assert_eq!(route, "/stacks/quickcreate");
    let params = query_pairs(query);
    let template_url = url::Url::parse(&params["templateURL"]).unwrap();
    assert_eq!(template_url.scheme(), "https");
    assert!(template_url.path().ends_with(&format!("{NORTHWIND}.json")));
    assert_eq!(params["stackName"], "ArcheraIntegration");
    let external_id = export(&fake)["orgs"][NORTHWIND]["external_id"].clone();
    assert_eq!(params["param_ExternalId"], external_id.as_str().unwrap());
}

// ---------------------------------------------------------------------------------------------
// AWS verify

#[tokio::test]
async fn aws_verify_reports_from_state_unknown_missing_then_available() {
    let fake = Fake::start().await;
    let verify = "/onboarding/aws/verify";
    // Unknown onboarding id: 404, nothing stored.
    let before = export(&fake);
    let (status, _, body) = call(
        &fake,
        Method::POST,
        CONTOSO,
        verify,
        Some(json!({"onboarding_id": "0f8e2b1c-3d4a-4b5c-8d6e-7f8091a2b3c4", "account_id": "210987654321"})),
    )
    .await;
    assert_eq!(status, 404, "{body}");
    assert_eq!(body["type"], "NotFound");
    // Without an onboarding record at all, verification has nothing to check: 409.
    let (status, _, _) = call(&fake, Method::POST, CONTOSO, verify, Some(json!({}))).await;
    assert_eq!(status, 409);
    assert_eq!(
        export(&fake),
        before,
        "refused verifications change nothing"
    );

    // Started, account not connected: every feature missing; the account is remembered.
    let (_, _, started) = call(&fake, Method::POST, CONTOSO, "/onboarding/start", None).await;
    let onboarding_id = started["onboarding_id"].as_str().unwrap();
    let cur = json!({"region": "us-east-1", "bucket": "contoso-cur", "prefix": "cur/", "report_name": "hourly"});
    let (status, _, body) = call(
        &fake,
        Method::POST,
        CONTOSO,
        verify,
        Some(json!({"onboarding_id": onboarding_id, "account_id": "210987654321", "existing_cur": cur})),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        statuses(&body),
        [
            ("iam_role", "missing"),
            ("cost_and_usage_report", "missing"),
            ("cost_explorer_access", "missing"),
            ("commitment_inventory", "missing")
        ]
    );
    let record = &export(&fake)["orgs"][CONTOSO]["aws"];
    assert_eq!(record["account_id"], "210987654321");
    assert_eq!(record["existing_cur"]["bucket"], "contoso-cur");

    // The seeded configuration marks Northwind's account deployed: the same call is available.
    let (status, _, body) = call(
        &fake,
        Method::POST,
        NORTHWIND,
        verify,
        Some(json!({"onboarding_id": NORTHWIND_ONBOARDING, "account_id": NORTHWIND_ACCOUNT})),
    )
    .await;
    assert_eq!(status, 200);
    assert!(all(&body, "available"), "{body}");
    assert_eq!(statuses(&body).len(), 4);
    // Without account_id the account last verified is checked.
    let (_, _, body) = call(
        &fake,
        Method::POST,
        NORTHWIND,
        verify,
        Some(json!({"onboarding_id": NORTHWIND_ONBOARDING})),
    )
    .await;
    assert!(all(&body, "available"), "{body}");
    // Connected to one account, the record refuses another.
    let before = export(&fake);
    let (status, _, body) = call(
        &fake,
        Method::POST,
        NORTHWIND,
        verify,
        Some(json!({"onboarding_id": NORTHWIND_ONBOARDING, "account_id": "999999999999"})),
    )
    .await;
    assert_eq!((status, body["type"].as_str()), (409, Some("Conflict")));
    assert_eq!(export(&fake), before);
    // Another org's onboarding id is unknown here.
    let (status, _, _) = call(
        &fake,
        Method::POST,
        CONTOSO,
        verify,
        Some(json!({"onboarding_id": NORTHWIND_ONBOARDING, "account_id": NORTHWIND_ACCOUNT})),
    )
    .await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn a_stack_deployed_on_the_admin_side_turns_the_same_verification_available() {
    // The admin API is not built yet: a deployment recorded in the state (as
    // Archera::mark_stack_deployed does, unit-tested in the crate) is what the call reads.
    let fake = Fake::start().await;
    let (_, _, started) = call(&fake, Method::POST, CONTOSO, "/onboarding/start", None).await;
    let body = json!({"onboarding_id": started["onboarding_id"], "account_id": "210987654321"});
    let verify = "/onboarding/aws/verify";
    let (_, _, first) = call(&fake, Method::POST, CONTOSO, verify, Some(body.clone())).await;
    assert!(all(&first, "missing"), "{first}");

    let mut state = export(&fake);
    state["orgs"][CONTOSO]["deployed_aws_accounts"] = json!(["210987654321"]);
    import(&fake, state);
    let (_, _, second) = call(&fake, Method::POST, CONTOSO, verify, Some(body)).await;
    assert!(all(&second, "available"), "{second}");
    // The listing's AWS checklist follows.
    let (_, _, children) = call(&fake, Method::GET, PARTNER, "/onboarding/child-orgs", None).await;
    let contoso = children
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["org_id"] == CONTOSO)
        .unwrap();
    assert!(all(&contoso["integration_checklist"]["aws"], "available"));
}

// ---------------------------------------------------------------------------------------------
// Azure

#[tokio::test]
async fn azure_auth_url_records_tenant_and_subscription_and_returns_an_admin_consent_link() {
    let fake = Fake::start().await;
    let (tenant, subscription) = (
        "11111111-2222-4333-8444-555555555555",
        "66666666-7777-4888-9999-000000000000",
    );
    let (status, _, body) = call(
        &fake,
        Method::GET,
        NORTHWIND,
        "/onboarding/azure/auth-url",
        Some(json!({"azure_tenant_id": tenant, "azure_subscription_id": subscription})),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let link = url::Url::parse(body["url"].as_str().unwrap()).unwrap();
    assert_eq!(link.host_str(), Some("login.microsoftonline.com"));
    assert_eq!(link.path(), format!("/{tenant}/v2.0/adminconsent"));
    let params = query_pairs(link.query().unwrap());
    assert!(params.contains_key("client_id"));
    assert!(params.contains_key("redirect_uri"));
    let record = export(&fake)["orgs"][NORTHWIND]["azure"].clone();
    assert_eq!(record["tenant_id"], tenant);
    assert_eq!(record["subscription_id"], subscription);
    assert_eq!(
        params["state"],
        format!(
            "{}.{subscription}",
            record["onboarding_id"].as_str().unwrap()
        )
    );
    assert!(is_uuid_v4(record["onboarding_id"].as_str().unwrap()));

    // Asking again with another subscription updates the record and keeps its id.
    let (status, _, _) = call(
        &fake,
        Method::GET,
        NORTHWIND,
        "/onboarding/azure/auth-url",
        Some(json!({"azure_tenant_id": tenant, "azure_subscription_id": "sub-2"})),
    )
    .await;
    assert_eq!(status, 200);
    let updated = export(&fake)["orgs"][NORTHWIND]["azure"].clone();
    assert_eq!(updated["subscription_id"], "sub-2");
    assert_eq!(updated["onboarding_id"], record["onboarding_id"]);
}

#[tokio::test]
async fn azure_verify_reports_from_the_record_missing_then_available_and_conflicts_after_consent() {
    let fake = Fake::start().await;
    let verify = "/onboarding/azure/verify";
    // No Azure record: 409.
    let (status, _, body) = call(&fake, Method::POST, NORTHWIND, verify, None).await;
    assert_eq!(status, 409, "{body}");
    // Consent requested, not granted: every feature missing.
    let (status, _, body) = call(&fake, Method::POST, CONTOSO, verify, None).await;
    assert_eq!(status, 200);
    assert_eq!(
        statuses(&body),
        [
            ("service_principal", "missing"),
            ("subscription_reader", "missing"),
            ("cost_management_export", "missing")
        ]
    );
    // Consent granted on the admin side: available.
    let granted = fake
        .send(
            Method::POST,
            "/__understudy/vendors/archera/actions/azure-consent-granted",
            &[],
            Some(&json!({"org_id": CONTOSO, "subscription_id": CONTOSO_SUBSCRIPTION})),
        )
        .await;
    assert_eq!(granted.status().as_u16(), 200);
    let (_, _, body) = call(&fake, Method::POST, CONTOSO, verify, None).await;
    assert!(all(&body, "available"), "{body}");
    // Connected, the record refuses another subscription, and accepts the same one.
    let before = export(&fake);
    let record = before["orgs"][CONTOSO]["azure"].clone();
    let (status, _, _) = call(
        &fake,
        Method::GET,
        CONTOSO,
        "/onboarding/azure/auth-url",
        Some(json!({"azure_tenant_id": record["tenant_id"], "azure_subscription_id": "another"})),
    )
    .await;
    assert_eq!(status, 409);
    assert_eq!(export(&fake), before);
    let (status, _, _) = call(
        &fake,
        Method::GET,
        CONTOSO,
        "/onboarding/azure/auth-url",
        Some(json!({"azure_tenant_id": record["tenant_id"], "azure_subscription_id": CONTOSO_SUBSCRIPTION})),
    )
    .await;
    assert_eq!(status, 200);
}

// ---------------------------------------------------------------------------------------------
// Child organisations

#[tokio::test]
async fn register_child_creates_a_child_and_refuses_a_duplicate_company() {
    let fake = Fake::start().await;
    let register = "/onboarding/register_child";
    let (status, _, body) = call(
        &fake,
        Method::POST,
        PARTNER,
        register,
        Some(json!({"company": "Initech", "email": "it@initech.example", "labra_subscription_id": "labra-1"})),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let child = body["org_id"].as_str().unwrap().to_string();
    let stored = export(&fake)["orgs"][&child].clone();
    assert_eq!(stored["parent"], PARTNER);
    assert_eq!(stored["name"], "Initech");
    assert_eq!(stored["users"], json!(["it@initech.example"]));

    let before = export(&fake);
    for duplicate in ["Initech", "  initech ", "NORTHWIND LOGISTICS"] {
        let (status, _, body) = call(
            &fake,
            Method::POST,
            PARTNER,
            register,
            Some(json!({"company": duplicate})),
        )
        .await;
        assert_eq!(
            (status, body["type"].as_str()),
            (409, Some("Conflict")),
            "{duplicate}"
        );
    }
    assert_eq!(export(&fake), before, "duplicates change nothing");
    // Another partner may use the same company name.
    let (status, _, _) = fake_other_partner_registers(&fake, "Initech").await;
    assert_eq!(status, 200);
}

async fn fake_other_partner_registers(fake: &Fake, company: &str) -> (u16, HeaderMap, Value) {
    read(
        fake.send(
            Method::POST,
            &path(MERIDIAN, "/onboarding/register_child"),
            &[("x-api-key", "archera_understudy_meridian")],
            Some(&json!({"company": company})),
        )
        .await,
    )
    .await
}

#[tokio::test]
async fn child_orgs_lists_every_child_with_checklists_from_its_onboarding_state() {
    let fake = Fake::start().await;
    let (_, _, created) = call(
        &fake,
        Method::POST,
        PARTNER,
        "/onboarding/register_child",
        Some(json!({"company": "Initech"})),
    )
    .await;
    let (status, _, body) = call(&fake, Method::GET, PARTNER, "/onboarding/child-orgs", None).await;
    assert_eq!(status, 200, "{body}");
    let children = body.as_array().unwrap();
    let ids: Vec<&str> = children
        .iter()
        .map(|c| c["org_id"].as_str().unwrap())
        .collect();
    assert_eq!(
        ids,
        [NORTHWIND, CONTOSO, created["org_id"].as_str().unwrap()],
        "oldest first, no foreign child"
    );
    let checklist = |child: &Value| -> Vec<(String, String)> {
        statuses(&child["org_checklist"])
            .into_iter()
            .map(|(f, s)| (f.to_string(), s.to_string()))
            .collect()
    };
    let pairs = |list: &[(&str, &str)]| -> Vec<(String, String)> {
        list.iter()
            .map(|(f, s)| (f.to_string(), s.to_string()))
            .collect()
    };
    // Northwind: user, AWS connected, nothing bought.
    assert_eq!(
        checklist(&children[0]),
        pairs(&[
            ("users_invited", "available"),
            ("cloud_account_connected", "available"),
            ("commitments_purchased", "missing")
        ])
    );
    assert!(all(
        &children[0]["integration_checklist"]["aws"],
        "available"
    ));
    assert!(children[0]["integration_checklist"].get("azure").is_none());
    // Contoso: Azure started, not connected.
    assert_eq!(
        checklist(&children[1]),
        pairs(&[
            ("users_invited", "missing"),
            ("cloud_account_connected", "warning"),
            ("commitments_purchased", "missing")
        ])
    );
    assert!(all(
        &children[1]["integration_checklist"]["azure"],
        "missing"
    ));
    // The new child: nothing started.
    assert_eq!(children[2]["org_name"], "Initech");
    assert_eq!(children[2]["integration_checklist"], json!({}));
    assert!(all(&children[2]["org_checklist"], "missing"));

    // A purchase and a started onboarding show up in the next listing.
    call(
        &fake,
        Method::POST,
        NORTHWIND,
        &format!("/purchase-plans-v2/{AWS_PLAN}/purchase"),
        Some(json!({"email": "buyer@northwind.example"})),
    )
    .await;
    let child = created["org_id"].as_str().unwrap();
    call(&fake, Method::POST, child, "/onboarding/start", None).await;
    let (_, _, body) = call(&fake, Method::GET, PARTNER, "/onboarding/child-orgs", None).await;
    assert_eq!(body[0]["org_checklist"][2]["status"], "available");
    assert_eq!(body[2]["org_checklist"][1]["status"], "warning");
    assert!(all(&body[2]["integration_checklist"]["aws"], "missing"));
}

#[tokio::test]
async fn register_child_is_deprecated_in_the_spec_and_still_served() {
    let fake = Fake::start().await;
    let spec = fake.spec(VendorId::Archera).expect("the fake serves it");
    let op = spec
        .operations
        .iter()
        .find(|o| o.operation_id == "registerChildOrg")
        .unwrap();
    assert!(op.deprecated);
    let (status, _, _) = call(
        &fake,
        Method::POST,
        PARTNER,
        "/onboarding/register_child",
        Some(json!({"company": "Legacy Co"})),
    )
    .await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn thirty_two_parallel_registrations_make_thirty_two_children() {
    let fake = Fake::start().await;
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..32 {
        let client = fake.client.clone();
        let url = fake.url(&path(PARTNER, "/onboarding/register_child"));
        tasks.spawn(async move {
            let response = client
                .post(url)
                .header("x-api-key", KEY)
                .json(&json!({"company": format!("Parallel {i}")}))
                .send()
                .await
                .unwrap();
            let (status, _, body) = read(response).await;
            assert_eq!(status, 200, "{body}");
            body["org_id"].as_str().unwrap().to_string()
        });
    }
    let mut ids = BTreeSet::new();
    while let Some(id) = tasks.join_next().await {
        ids.insert(id.unwrap());
    }
    assert_eq!(ids.len(), 32);
    let (_, _, body) = call(&fake, Method::GET, PARTNER, "/onboarding/child-orgs", None).await;
    let listed: BTreeSet<String> = body
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["org_id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(listed.len(), 34, "two seeded children and 32 new ones");
    assert!(ids.is_subset(&listed));
}

// ---------------------------------------------------------------------------------------------
// Purchase plans

#[tokio::test]
async fn recommended_plan_is_the_orgs_plan_for_the_provider() {
    let fake = Fake::start().await;
    let recommended =
        |provider: &str| format!("/purchase-plans-v2/recommended?provider={provider}");
    let (status, _, plan) = call(&fake, Method::GET, NORTHWIND, &recommended("aws"), None).await;
    assert_eq!(status, 200, "{plan}");
    assert_eq!(plan["id"], AWS_PLAN);
    assert_eq!(plan["org_id"], NORTHWIND);
    assert_eq!(plan["segment"]["provider"], "aws");
    assert_eq!(plan["status"], "new");
    assert_eq!(plan["monthly_before_cost"], 54300.0);
    assert_eq!(plan["monthly_savings"], 8537.2);
    let after = plan["monthly_after_cost"].as_f64().unwrap();
    assert!((after - (54300.0 - 8537.2)).abs() < 0.005);

    let (_, _, azure) = call(&fake, Method::GET, CONTOSO, &recommended("azure"), None).await;
    assert_eq!(azure["id"], AZURE_PLAN);
    // No plan for the provider: 404; still calculating: 409; not a provider: 422.
    let (status, _, body) = call(&fake, Method::GET, NORTHWIND, &recommended("azure"), None).await;
    assert_eq!((status, body["type"].as_str()), (404, Some("NotFound")));
    let (status, _, _) = call(&fake, Method::GET, CONTOSO, &recommended("gcp"), None).await;
    assert_eq!(status, 409);
    let (status, _, body) = call(&fake, Method::GET, CONTOSO, &recommended("oracle"), None).await;
    assert_eq!(status, 422);
    assert!(body["errors"]["query"]["provider"].is_array(), "{body}");
}

#[tokio::test]
async fn purchase_changes_the_plan_status_once_and_refuses_a_second_purchase() {
    let fake = Fake::start().await;
    let purchase = |plan: &str| format!("/purchase-plans-v2/{plan}/purchase");
    let buyer = json!({"email": "buyer@northwind.example"});
    let (status, _, plan) = call(
        &fake,
        Method::POST,
        NORTHWIND,
        &purchase(AWS_PLAN),
        Some(buyer.clone()),
    )
    .await;
    assert_eq!(status, 200, "{plan}");
    assert_eq!(plan["id"], AWS_PLAN);
    assert_eq!(plan["status"], "in_progress");
    assert_eq!(plan["is_locked"], true);
    assert_eq!(plan["flagged_actions"][0]["action_type"], "purchase");
    assert_eq!(
        plan["flagged_actions"][0]["action_description"]["requested_by"],
        "buyer@northwind.example"
    );
    assert!(
        plan.get("monthly_savings").is_none(),
        "PurchasePlanV2 has no figures"
    );
    let state = export(&fake);
    assert_eq!(state["plans"][AWS_PLAN]["status"], "in_progress");
    assert!(
        state["orgs"][NORTHWIND]["users"]
            .as_array()
            .unwrap()
            .contains(&json!("buyer@northwind.example")),
        "the buyer joined the org"
    );
    // The recommendation shows the new status.
    let (_, _, recommended) = call(
        &fake,
        Method::GET,
        NORTHWIND,
        "/purchase-plans-v2/recommended?provider=aws",
        None,
    )
    .await;
    assert_eq!(recommended["status"], "in_progress");

    let before = export(&fake);
    let (status, _, body) = call(
        &fake,
        Method::POST,
        NORTHWIND,
        &purchase(AWS_PLAN),
        Some(buyer.clone()),
    )
    .await;
    assert_eq!(
        (status, body["type"].as_str()),
        (409, Some("Conflict")),
        "{body}"
    );
    // Unknown plan, another org's plan: 404; a plan still calculating: 409.
    let (status, _, _) = call(
        &fake,
        Method::POST,
        NORTHWIND,
        &purchase("0f8e2b1c-3d4a-4b5c-8d6e-7f8091a2b3c4"),
        Some(buyer.clone()),
    )
    .await;
    assert_eq!(status, 404);
    let (status, _, _) = call(
        &fake,
        Method::POST,
        NORTHWIND,
        &purchase(AZURE_PLAN),
        Some(buyer.clone()),
    )
    .await;
    assert_eq!(status, 404);
    let (status, _, _) = call(
        &fake,
        Method::POST,
        CONTOSO,
        &purchase(GCP_PLAN),
        Some(buyer),
    )
    .await;
    assert_eq!(status, 409);
    assert_eq!(export(&fake), before, "refused purchases change nothing");
}

// ---------------------------------------------------------------------------------------------
// Partner org patch

#[tokio::test]
async fn partner_patch_sets_validates_and_clears_offer_links() {
    let fake = Fake::start().await;
    let (status, _, org) = call(
        &fake,
        Method::PATCH,
        PARTNER,
        "",
        Some(json!({
            "azure_marketplace_offer_link": "https://azuremarketplace.microsoft.com/marketplace/apps/skyline.archera",
            "gcp_marketplace_offer_link": "https://console.cloud.google.com/marketplace/product/skyline/archera"
        })),
    )
    .await;
    assert_eq!(status, 200, "{org}");
    assert_eq!(org["id"], PARTNER);
    assert_eq!(org["name"], "Skyline Cloud Partners");
    assert_eq!(
        org["aws_marketplace_offer_link"],
        "https://aws.amazon.com/marketplace/pp/prodview-understudy",
        "an omitted link is left alone"
    );
    assert!(
        org["gcp_marketplace_offer_link"]
            .as_str()
            .unwrap()
            .contains("google")
    );

    let (status, _, org) = call(
        &fake,
        Method::PATCH,
        PARTNER,
        "",
        Some(json!({"aws_marketplace_offer_link": null})),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(org["aws_marketplace_offer_link"], Value::Null);
    assert!(org["azure_marketplace_offer_link"].is_string());

    let before = export(&fake);
    for bad in [
        "not a url",
        "mailto:sales@skyline.example",
        "ftp://skyline.example/offer",
    ] {
        let (status, _, body) = call(
            &fake,
            Method::PATCH,
            PARTNER,
            "",
            Some(json!({"gcp_marketplace_offer_link": null, "azure_marketplace_offer_link": bad})),
        )
        .await;
        assert_eq!(status, 422, "{bad}: {body}");
        assert!(
            body["errors"]["json"]["azure_marketplace_offer_link"].is_array(),
            "{body}"
        );
    }
    assert_eq!(
        export(&fake),
        before,
        "a refused patch clears nothing either"
    );
}

// ---------------------------------------------------------------------------------------------
// Access and error shape

fn assert_api_error(status: u16, body: &Value) {
    assert!(body["message"].is_string(), "{status}: {body}");
    assert!(body["type"].is_string(), "{status}: {body}");
    let timestamp = body["timestamp"].as_str().unwrap();
    OffsetDateTime::parse(timestamp, &Rfc3339).expect("an ISO 8601 timestamp");
}

#[tokio::test]
async fn access_is_checked_key_then_org_then_method() {
    let fake = Fake::start().await;
    let list = path(PARTNER, "/onboarding/child-orgs");
    let (status, _, body) = read(fake.send(Method::GET, &list, &[], None).await).await;
    assert_eq!(status, 401);
    assert_api_error(status, &body);
    let (status, _, body) = read(
        fake.send(Method::GET, &list, &[("x-api-key", "nope")], None)
            .await,
    )
    .await;
    assert_eq!(status, 401);
    assert_api_error(status, &body);

    // Another partner's org and child: 403; an org that does not exist: 404.
    for (org, suffix) in [
        (MERIDIAN, "/onboarding/child-orgs"),
        (HARBOR, "/onboarding/aws/cloudformation_template"),
        (HARBOR, "/purchase-plans-v2/recommended?provider=aws"),
    ] {
        let (status, _, body) = call(&fake, Method::GET, org, suffix, None).await;
        assert_eq!(status, 403, "{org}{suffix}");
        assert_api_error(status, &body);
    }
    let (status, _, body) = call(
        &fake,
        Method::GET,
        UNKNOWN_ORG,
        "/onboarding/child-orgs",
        None,
    )
    .await;
    assert_eq!(status, 404);
    assert_api_error(status, &body);
    // The other key sees its own world.
    let (status, _, body) = read(
        fake.send(
            Method::GET,
            &path(MERIDIAN, "/onboarding/child-orgs"),
            &[("x-api-key", "archera_understudy_meridian")],
            None,
        )
        .await,
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(body[0]["org_id"], HARBOR);
    // Upper-case ids are the same org, as Flask's uuid converter reads them.
    let (status, _, _) = call(
        &fake,
        Method::GET,
        &PARTNER.to_uppercase(),
        "/onboarding/child-orgs",
        None,
    )
    .await;
    assert_eq!(status, 200);

    let (status, headers, body) =
        call(&fake, Method::DELETE, PARTNER, "/onboarding/start", None).await;
    assert_eq!(status, 405);
    assert_eq!(headers["allow"], "POST");
    assert_api_error(status, &body);
}

#[tokio::test]
async fn a_refused_request_of_every_kind_leaves_the_state_unchanged() {
    let fake = Fake::start().await;
    let before = export(&fake);
    let requests: Vec<(Method, &str, String, Option<Value>)> = vec![
        (Method::POST, HARBOR, "/onboarding/start".into(), None),
        (Method::POST, UNKNOWN_ORG, "/onboarding/start".into(), None),
        (Method::POST, PARTNER, "/onboarding/start".into(), None),
        (
            Method::POST,
            MERIDIAN,
            "/onboarding/register_child".into(),
            Some(json!({"company": "X"})),
        ),
        (
            Method::POST,
            HARBOR,
            format!("/purchase-plans-v2/{HARBOR_PLAN}/purchase"),
            Some(json!({"email": "a@b.example"})),
        ),
        (
            Method::PATCH,
            MERIDIAN,
            String::new(),
            Some(json!({"aws_marketplace_offer_link": null})),
        ),
        (
            Method::PATCH,
            NORTHWIND,
            String::new(),
            Some(json!({"aws_marketplace_offer_link": null})),
        ),
        (
            Method::GET,
            HARBOR,
            "/onboarding/azure/auth-url".into(),
            Some(json!({"azure_tenant_id": "t", "azure_subscription_id": "s"})),
        ),
    ];
    for (method, org, suffix, body) in requests {
        let (status, _, reply) = call(&fake, method, org, &suffix, body).await;
        assert!(
            (400..500).contains(&status),
            "{org}{suffix}: {status} {reply}"
        );
    }
    assert_eq!(export(&fake), before);
}

// ---------------------------------------------------------------------------------------------
// Mutants

#[tokio::test]
async fn mutants_break_the_rules_they_name() {
    let fake = Fake::start().await;
    let purchase = format!("/purchase-plans-v2/{AWS_PLAN}/purchase");
    let buyer = json!({"email": "buyer@northwind.example"});
    assert_eq!(
        call(
            &fake,
            Method::POST,
            NORTHWIND,
            &purchase,
            Some(buyer.clone())
        )
        .await
        .0,
        200
    );
    assert_eq!(
        call(
            &fake,
            Method::POST,
            NORTHWIND,
            &purchase,
            Some(buyer.clone())
        )
        .await
        .0,
        409
    );
    fake.set_mutants(["archera.second-purchase-allowed"])
        .unwrap();
    assert_eq!(
        call(&fake, Method::POST, NORTHWIND, &purchase, Some(buyer))
            .await
            .0,
        200
    );

    fake.set_mutants(["archera.onboarding-not-idempotent"])
        .unwrap();
    let (_, _, again) = call(&fake, Method::POST, NORTHWIND, "/onboarding/start", None).await;
    assert_ne!(again["onboarding_id"], NORTHWIND_ONBOARDING);

    fake.set_mutants(["archera.foreign-org-allowed"]).unwrap();
    let (status, _, _) = call(&fake, Method::GET, MERIDIAN, "/onboarding/child-orgs", None).await;
    assert_eq!(status, 200);

    fake.set_mutants(["archera.verify-always-available"])
        .unwrap();
    let (_, _, body) = call(
        &fake,
        Method::POST,
        CONTOSO,
        "/onboarding/azure/verify",
        None,
    )
    .await;
    assert!(all(&body, "available"));

    fake.set_mutants(["archera.patch-url-not-validated"])
        .unwrap();
    let (status, _, _) = call(
        &fake,
        Method::PATCH,
        PARTNER,
        "",
        Some(json!({"aws_marketplace_offer_link": "mailto:sales@skyline.example"})),
    )
    .await;
    assert_eq!(status, 200);

    fake.set_mutants(Vec::<String>::new()).unwrap();
    let (status, _, _) = call(&fake, Method::GET, MERIDIAN, "/onboarding/child-orgs", None).await;
    assert_eq!(status, 403);
    let names: BTreeSet<&str> = understudy::mutants::ArcheraMutant::ALL
        .iter()
        .map(|m| m.mutant().name())
        .collect();
    for name in [
        "archera.second-purchase-allowed",
        "archera.onboarding-not-idempotent",
        "archera.foreign-org-allowed",
        "archera.verify-always-available",
        "archera.patch-url-not-validated",
    ] {
        assert!(names.contains(name), "{name}");
    }
}

// ---------------------------------------------------------------------------------------------
// Every documented status

/// One request of the status table.
struct Row {
    status: u16,
    method: Method,
    org: &'static str,
    suffix: String,
    key: Option<&'static str>,
    body: Body,
}

enum Body {
    None,
    Json(Value),
    Raw(Vec<u8>),
}

fn row(status: u16, method: Method, org: &'static str, suffix: &str, body: Body) -> Row {
    Row {
        status,
        method,
        org,
        suffix: suffix.to_string(),
        key: Some(KEY),
        body,
    }
}

/// A body larger than the fake reads (1 MiB): a 400 on any operation.
fn oversized() -> Body {
    Body::Raw(vec![b' '; (1 << 20) + 1])
}

fn malformed() -> Body {
    Body::Raw(b"{\"company\":".to_vec())
}

/// The rows every operation has: 400, 401, 403, 404, 405 and 409 by the org's kind.
fn common_rows(
    method: &Method,
    suffix: &str,
    valid: Value,
    partner_scoped: bool,
    has_body: bool,
) -> Vec<Row> {
    let body = || {
        if valid.is_null() {
            Body::None
        } else {
            Body::Json(valid.clone())
        }
    };
    let (own, foreign, wrong_kind) = if partner_scoped {
        (PARTNER, MERIDIAN, NORTHWIND)
    } else {
        (NORTHWIND, HARBOR, PARTNER)
    };
    let wrong_method = if *method == Method::GET {
        Method::POST
    } else {
        Method::GET
    };
    vec![
        row(
            400,
            method.clone(),
            own,
            suffix,
            if has_body { malformed() } else { oversized() },
        ),
        Row {
            key: None,
            ..row(401, method.clone(), own, suffix, body())
        },
        Row {
            key: Some("archera_unknown_key"),
            ..row(401, method.clone(), own, suffix, body())
        },
        row(403, method.clone(), foreign, suffix, body()),
        row(404, method.clone(), UNKNOWN_ORG, suffix, body()),
        row(405, wrong_method, own, suffix, Body::None),
        row(409, method.clone(), wrong_kind, suffix, body()),
    ]
}

fn table() -> BTreeMap<&'static str, Vec<Row>> {
    let mut table = BTreeMap::new();
    let mut add = |op: &'static str,
                   method: Method,
                   suffix: &str,
                   valid: Value,
                   partner_scoped: bool,
                   extra: Vec<Row>| {
        let has_body = !valid.is_null();
        let mut rows = common_rows(&method, suffix, valid, partner_scoped, has_body);
        rows.extend(extra);
        table.insert(op, rows);
    };
    let plan = |id: &str| format!("/purchase-plans-v2/{id}/purchase");
    add(
        "getAwsCloudformationTemplate",
        Method::GET,
        "/onboarding/aws/cloudformation_template",
        Value::Null,
        false,
        vec![row(
            200,
            Method::GET,
            NORTHWIND,
            "/onboarding/aws/cloudformation_template",
            Body::None,
        )],
    );
    add(
        "getAwsLaunchStackUrl",
        Method::GET,
        "/onboarding/aws/launch-stack-url",
        Value::Null,
        false,
        vec![row(
            200,
            Method::GET,
            NORTHWIND,
            "/onboarding/aws/launch-stack-url",
            Body::None,
        )],
    );
    let verify = json!({"onboarding_id": NORTHWIND_ONBOARDING, "account_id": NORTHWIND_ACCOUNT});
    add(
        "verifyAwsOnboarding",
        Method::POST,
        "/onboarding/aws/verify",
        verify.clone(),
        false,
        vec![
            row(
                200,
                Method::POST,
                NORTHWIND,
                "/onboarding/aws/verify",
                Body::Json(verify),
            ),
            row(
                404,
                Method::POST,
                NORTHWIND,
                "/onboarding/aws/verify",
                Body::Json(json!({"onboarding_id": "0f8e2b1c-3d4a-4b5c-8d6e-7f8091a2b3c4"})),
            ),
            row(
                409,
                Method::POST,
                NORTHWIND,
                "/onboarding/aws/verify",
                Body::Json(
                    json!({"onboarding_id": NORTHWIND_ONBOARDING, "account_id": "999999999999"}),
                ),
            ),
            row(
                409,
                Method::POST,
                CONTOSO,
                "/onboarding/aws/verify",
                Body::Json(json!({})),
            ),
            row(
                422,
                Method::POST,
                NORTHWIND,
                "/onboarding/aws/verify",
                Body::Json(json!({"onboarding_id": "nope"})),
            ),
        ],
    );
    let azure = json!({"azure_tenant_id": "tenant-1", "azure_subscription_id": "sub-1"});
    add(
        "getAzureAuthUrl",
        Method::GET,
        "/onboarding/azure/auth-url",
        azure.clone(),
        false,
        vec![
            row(
                200,
                Method::GET,
                CONTOSO,
                "/onboarding/azure/auth-url",
                Body::Json(azure),
            ),
            row(
                422,
                Method::GET,
                CONTOSO,
                "/onboarding/azure/auth-url",
                Body::Json(json!({"azure_tenant_id": "tenant-1"})),
            ),
        ],
    );
    add(
        "verifyAzureOnboarding",
        Method::POST,
        "/onboarding/azure/verify",
        Value::Null,
        false,
        vec![
            row(
                200,
                Method::POST,
                CONTOSO,
                "/onboarding/azure/verify",
                Body::None,
            ),
            row(
                409,
                Method::POST,
                NORTHWIND,
                "/onboarding/azure/verify",
                Body::None,
            ),
        ],
    );
    add(
        "registerChildOrg",
        Method::POST,
        "/onboarding/register_child",
        json!({"company": "Table Co"}),
        true,
        vec![
            row(
                200,
                Method::POST,
                PARTNER,
                "/onboarding/register_child",
                Body::Json(json!({"company": "Initech"})),
            ),
            row(
                409,
                Method::POST,
                PARTNER,
                "/onboarding/register_child",
                Body::Json(json!({"company": "Northwind Logistics"})),
            ),
            row(
                422,
                Method::POST,
                PARTNER,
                "/onboarding/register_child",
                Body::Json(json!({"company": 7})),
            ),
        ],
    );
    add(
        "startOnboarding",
        Method::POST,
        "/onboarding/start",
        Value::Null,
        false,
        vec![row(
            200,
            Method::POST,
            CONTOSO,
            "/onboarding/start",
            Body::None,
        )],
    );
    add(
        "listChildOrgs",
        Method::GET,
        "/onboarding/child-orgs",
        Value::Null,
        true,
        vec![row(
            200,
            Method::GET,
            PARTNER,
            "/onboarding/child-orgs",
            Body::None,
        )],
    );
    let recommended = "/purchase-plans-v2/recommended?provider=aws";
    add(
        "getRecommendedPurchasePlan",
        Method::GET,
        recommended,
        Value::Null,
        false,
        vec![
            row(200, Method::GET, NORTHWIND, recommended, Body::None),
            row(
                404,
                Method::GET,
                NORTHWIND,
                "/purchase-plans-v2/recommended?provider=kubernetes",
                Body::None,
            ),
            row(
                409,
                Method::GET,
                CONTOSO,
                "/purchase-plans-v2/recommended?provider=gcp",
                Body::None,
            ),
            row(
                422,
                Method::GET,
                NORTHWIND,
                "/purchase-plans-v2/recommended?provider=oracle",
                Body::None,
            ),
            row(
                422,
                Method::GET,
                NORTHWIND,
                "/purchase-plans-v2/recommended",
                Body::None,
            ),
        ],
    );
    let buyer = json!({"email": "buyer@example.com"});
    add(
        "purchasePlan",
        Method::POST,
        &plan(AWS_PLAN),
        buyer.clone(),
        false,
        vec![
            row(
                200,
                Method::POST,
                NORTHWIND,
                &plan(AWS_PLAN),
                Body::Json(buyer.clone()),
            ),
            row(
                409,
                Method::POST,
                NORTHWIND,
                &plan(AWS_PLAN),
                Body::Json(buyer.clone()),
            ),
            row(
                409,
                Method::POST,
                CONTOSO,
                &plan(GCP_PLAN),
                Body::Json(buyer.clone()),
            ),
            row(
                404,
                Method::POST,
                NORTHWIND,
                &plan(AZURE_PLAN),
                Body::Json(buyer.clone()),
            ),
            row(
                403,
                Method::POST,
                HARBOR,
                &plan(HARBOR_PLAN),
                Body::Json(buyer),
            ),
            row(
                422,
                Method::POST,
                NORTHWIND,
                &plan(AWS_PLAN),
                Body::Json(json!({"email": "not-an-email"})),
            ),
        ],
    );
    let link = json!({"aws_marketplace_offer_link": "https://aws.amazon.com/marketplace/pp/x"});
    add(
        "updatePartnerOrg",
        Method::PATCH,
        "",
        link.clone(),
        true,
        vec![
            row(200, Method::PATCH, PARTNER, "", Body::Json(link)),
            row(
                422,
                Method::PATCH,
                PARTNER,
                "",
                Body::Json(json!({"aws_marketplace_offer_link": "urn:x:y"})),
            ),
        ],
    );
    table
}

#[tokio::test]
async fn every_documented_status_of_the_eleven_operations_is_produced() {
    // Pending: 500 comes with the fault-injection issue (and 429, which Archera does not document,
    // with the rate-limit issue); a contract break would be a 500 too, and is never expected.
    const PENDING: [u16; 1] = [500];
    let fake = Fake::start().await;
    let table = table();
    let spec = fake.spec(VendorId::Archera).expect("the fake serves it");
    assert_eq!(spec.operations.len(), 11);
    for op in &spec.operations {
        let rows = table
            .get(op.operation_id.as_str())
            .unwrap_or_else(|| panic!("{} has no rows", op.operation_id));
        let mut produced = BTreeSet::new();
        for row in rows {
            let mut request = fake
                .client
                .request(row.method.clone(), fake.url(&path(row.org, &row.suffix)));
            if let Some(key) = row.key {
                request = request.header("x-api-key", key);
            }
            request = match &row.body {
                Body::None => request,
                Body::Json(body) => request.json(body),
                Body::Raw(bytes) => request
                    .header("content-type", "application/json")
                    .body(bytes.clone()),
            };
            let (status, headers, body) = read(request.send().await.unwrap()).await;
            assert_eq!(
                status, row.status,
                "{} {} {}{}: {body}",
                op.operation_id, row.method, row.org, row.suffix
            );
            assert!(headers.get("x-understudy-contract-violation").is_none());
            if status == 422 {
                assert_eq!(body["code"], 422, "{body}");
            } else if status >= 400 {
                assert_api_error(status, &body);
            }
            produced.insert(status);
        }
        let documented: BTreeSet<u16> = op
            .documented_statuses()
            .into_iter()
            .filter(|s| !PENDING.contains(s))
            .collect();
        assert_eq!(produced, documented, "{}", op.operation_id);
    }
}

#[tokio::test]
async fn export_import_round_trips_and_reset_restores_the_seeded_world() {
    let fake = Fake::start().await;
    let seeded = export(&fake);
    assert_eq!(seeded["orgs"].as_object().unwrap().len(), 5);
    assert_eq!(seeded["plans"].as_object().unwrap().len(), 4);
    call(&fake, Method::POST, CONTOSO, "/onboarding/start", None).await;
    call(
        &fake,
        Method::POST,
        NORTHWIND,
        &format!("/purchase-plans-v2/{AWS_PLAN}/purchase"),
        Some(json!({"email": "buyer@northwind.example"})),
    )
    .await;
    let changed = export(&fake);
    assert_ne!(changed, seeded);
    let store = fake.store(VendorId::Archera);
    // orgs + plans + onboarding records (Northwind AWS, Contoso Azure and now AWS).
    assert_eq!(store.resources(), 5 + 4 + 3);
    store.reset();
    assert_eq!(export(&fake), seeded);
    import(&fake, changed.clone());
    assert_eq!(export(&fake), changed);
    let (_, _, plan) = call(
        &fake,
        Method::GET,
        NORTHWIND,
        "/purchase-plans-v2/recommended?provider=aws",
        None,
    )
    .await;
    assert_eq!(
        plan["status"], "in_progress",
        "the imported state is served"
    );
}
