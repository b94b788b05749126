//! All 22 operations over real HTTP, strict: each answers a valid request with a documented
//! success, rejects a malformed request in its vendor's envelope, and refuses missing credentials.

mod common;

use common::{Fake, read};
use reqwest::Method;
use serde_json::{Value, json};

const ORG: &str = "6f1c2a3b-4d5e-4f60-8a7b-9c0d1e2f3a4b";
const MO: &str = "00000000-0000-4000-8000-000000000001";
/// Acme Widgets Ltd, a seeded direct customer of the MO (default configuration).
const CUSTOMER: &str = "00000000-0000-4000-8000-000000000003";
/// Archera's seeded child organisation onboarded on AWS (account 123456789012).
const NORTHWIND: &str = "b7e4c1d2-6a3f-4b8e-9c5d-2f1a0e7b3c96";

/// One operation: a valid request and a malformed variant, with the expected statuses.
struct Case {
    op: &'static str,
    method: Method,
    path: String,
    auth: Vec<(&'static str, &'static str)>,
    body: Option<Value>,
    malformed_path: Option<String>,
    malformed_body: Option<Value>,
    malformed_status: u16,
    unauthenticated_status: u16,
}

fn archera(
    op: &'static str,
    method: Method,
    suffix: &str,
    body: Option<Value>,
    malformed: Option<Value>,
) -> Case {
    // Without a body to break, break the org id instead (Archera's routes answer 404 for it).
    let malformed_status = if malformed.is_some() { 422 } else { 404 };
    // Child registration, the child listing and the partner patch act on the partner org;
    // onboarding and plan calls act on a child (Northwind, onboarded on AWS).
    let partner_scoped = suffix.is_empty() || suffix.contains("child");
    let org = if partner_scoped { ORG } else { NORTHWIND };
    Case {
        op,
        method,
        path: format!("/archera/v2/org/{org}/partners{suffix}"),
        auth: vec![("x-api-key", "archera_understudy_test")],
        body,
        malformed_path: malformed
            .is_none()
            .then(|| format!("/archera/v2/org/not-a-uuid/partners{suffix}")),
        malformed_body: malformed,
        malformed_status,
        unauthenticated_status: 401,
    }
}

fn cases() -> Vec<Case> {
    let confluent = vec![("Authorization", "Bearer confluent_understudy_test")];
    let enhance = vec![("Authorization", "Bearer enhance_understudy_test")];
    let sso =
        json!({"kind": "AzureSSOConfig", "tenant_id": "0c6f1e7a-2d4b-4a8e-9f31-7b5d2c9e8a14"});
    let entitlement = json!({"external_id": "ext-1", "name": "Plan", "plan_id": "plan-1", "product_id": "prod-1"});
    let case = |op,
                method,
                path: String,
                auth: &Vec<(&'static str, &'static str)>,
                body: Option<Value>,
                bad: Value,
                bad_status,
                unauth| Case {
        op,
        method,
        path,
        auth: auth.clone(),
        body,
        malformed_path: None,
        malformed_body: Some(bad),
        malformed_status: bad_status,
        unauthenticated_status: unauth,
    };
    vec![
        case("signup", Method::POST, "/confluent/partner/v2/signup".into(), &confluent,
            Some(json!({"organization": {"name": "Globex", "sso_config": sso}, "entitlement": entitlement})),
            json!({"organization": {"name": "Globex"}}), 400, 401),
        // The seeded incomplete organization (Initech Data), activated once here.
        case("activateSignup", Method::POST, "/confluent/partner/v2/signup/activate".into(), &confluent,
            Some(json!({"organization_id": "3f9d2b6e-81c4-4e0a-b5d7-6a2e9c1f0b48", "user": {"given_name": "J", "family_name": "L", "email": "j@l.example"}})),
            json!({"user": {}}), 400, 401),
        case("signupPartnerV2Link", Method::POST, "/confluent/partner/v2/signup/link".into(), &confluent,
            // The seeded linking token; a fresh external_id (signup above took ext-1).
            Some(json!({"token": "confluent_link_understudy", "organization": {"sso_config": sso},
                "entitlement": {"external_id": "ext-2", "name": "Plan", "plan_id": "plan-1", "product_id": "prod-1"}})),
            json!({"token": 5}), 400, 401),
        case("createCustomer", Method::POST, format!("/enhance/orgs/{MO}/customers"), &enhance,
            Some(json!({"name": "Acme"})), json!({"name": ""}), 400, 401),
        Case { malformed_path: Some(format!("/enhance/orgs/{MO}/customers?sortOrder=sideways")), ..case("getOrgCustomers", Method::GET, format!("/enhance/orgs/{MO}/customers"), &enhance, None, Value::Null, 400, 401) },
        case("createCustomerSubscription", Method::POST, format!("/enhance/orgs/{MO}/customers/{CUSTOMER}/subscriptions"), &enhance,
            Some(json!({"planId": 1})), json!({"planId": "one"}), 400, 401),
        Case { malformed_path: Some(format!("/enhance/orgs/{MO}/customers/not-a-uuid/subscriptions")), ..case("getCustomerSubscriptions", Method::GET, format!("/enhance/orgs/{MO}/customers/{CUSTOMER}/subscriptions"), &enhance, None, Value::Null, 400, 401) },
        Case { malformed_path: Some("/cloudcockpit/v1/Customers/relationship-acceptance?providerInstanceId=nope".into()),
            ..case("getCustomerRelationshipAcceptance", Method::GET, "/cloudcockpit/v1/Customers/relationship-acceptance?providerInstanceId=5b0e6a52-3c1f-4f0e-9d47-2a9c8e1f7b30".into(),
                &vec![("Authorization", "Bearer cloudcockpit_understudy_test"), ("X-Tenant", "understudy.example")], None, Value::Null, 400, 401) },
        archera("getAwsCloudformationTemplate", Method::GET, "/onboarding/aws/cloudformation_template", None, None),
        archera("getAwsLaunchStackUrl", Method::GET, "/onboarding/aws/launch-stack-url", None, None),
        archera("verifyAwsOnboarding", Method::POST, "/onboarding/aws/verify",
            Some(json!({"onboarding_id": "7f3a9c1e-5b2d-4e8f-a1c3-9d7e5b3f1a2c", "account_id": "123456789012"})), Some(json!({"onboarding_id": "nope"}))),
        archera("getAzureAuthUrl", Method::GET, "/onboarding/azure/auth-url",
            Some(json!({"azure_tenant_id": "t", "azure_subscription_id": "s"})), Some(json!({"azure_tenant_id": "t"}))),
        archera("verifyAzureOnboarding", Method::POST, "/onboarding/azure/verify", None, None),
        archera("registerChildOrg", Method::POST, "/onboarding/register_child", Some(json!({"company": "Initech"})), Some(json!({"company": 7}))),
        archera("startOnboarding", Method::POST, "/onboarding/start", None, None),
        archera("listChildOrgs", Method::GET, "/onboarding/child-orgs", None, None),
        Case { malformed_path: Some(format!("/archera/v2/org/{NORTHWIND}/partners/purchase-plans-v2/recommended?provider=oracle")), malformed_status: 422,
            ..archera("getRecommendedPurchasePlan", Method::GET, "/purchase-plans-v2/recommended?provider=aws", None, None) },
        archera("purchasePlan", Method::POST, "/purchase-plans-v2/8c2d1e4f-5a6b-4c7d-8e9f-0a1b2c3d4e5f/purchase", Some(json!({"email": "buyer@example.com"})), Some(json!({"email": "not-an-email"}))),
        archera("updatePartnerOrg", Method::PATCH, "", Some(json!({"aws_marketplace_offer_link": "https://aws.amazon.com/marketplace/pp/x"})), Some(json!({"aws_marketplace_offer_link": "not a url"}))),
        case("createPartner", Method::POST, "/dub/partners".into(), &vec![("Authorization", "Bearer dub_understudy_test")],
            Some(json!({"programId": "prog_understudy", "name": "Op", "email": "op@example.com", "username": "op-table"})), json!({"programId": "prog_understudy"}), 422, 401),
        case("createPartnerLink", Method::POST, "/dub/partners/links".into(), &vec![("Authorization", "Bearer dub_understudy_test")],
            None, json!({"url": 5}), 422, 401),
        case("upsertPartnerLink", Method::PUT, "/dub/partners/links/upsert".into(), &vec![("Authorization", "Bearer dub_understudy_test")],
            None, json!({"programId": []}), 422, 401),
    ]
}

/// What every vendor's error envelope must contain, so a wrong envelope cannot pass.
fn assert_envelope(vendor: &str, status: u16, body: &Value) {
    match vendor {
        "dub" => assert!(
            body["error"]["code"].is_string() && body["error"]["message"].is_string(),
            "{body}"
        ),
        "confluent" => assert_eq!(body["errors"][0]["status"], status.to_string(), "{body}"),
        "enhance" => assert!(body["code"].is_string(), "{body}"),
        // ASP.NET Core's bearer authentication answers 401 with an empty body (spec erratum).
        "cloudcockpit" if status == 401 => assert!(body.is_null(), "{body}"),
        "cloudcockpit" => assert_eq!(body["statusCode"], status, "{body}"),
        "archera" if status == 422 => assert_eq!(body["code"], 422, "{body}"),
        "archera" => assert!(
            body["timestamp"].is_string() && body["type"].is_string(),
            "{body}"
        ),
        other => panic!("unknown vendor {other}"),
    }
}

#[tokio::test]
async fn all_22_operations_answer_reject_and_refuse_in_their_envelopes() {
    let fake = Fake::start().await;
    let cases = cases();
    assert_eq!(cases.len(), 22);
    for case in &cases {
        let vendor = case.path.trim_start_matches('/').split('/').next().unwrap();
        // A valid request gets a documented success (strict mode turns any contract break into 500).
        if let Some(body) = case.body.as_ref().or(if case.method == Method::GET {
            Some(&Value::Null)
        } else {
            None
        }) {
            let body = (!body.is_null()).then_some(body);
            let (status, headers, reply) = read(
                fake.send(case.method.clone(), &case.path, &case.auth, body)
                    .await,
            )
            .await;
            assert!(
                (200..300).contains(&status),
                "{}: {status} {reply} {headers:?}",
                case.op
            );
        }
        // A malformed request is rejected in the vendor's envelope.
        let path = case
            .malformed_path
            .clone()
            .unwrap_or_else(|| case.path.clone());
        let (status, headers, reply) = read(
            fake.send(
                case.method.clone(),
                &path,
                &case.auth,
                case.malformed_body.as_ref().filter(|b| !b.is_null()),
            )
            .await,
        )
        .await;
        assert_eq!(status, case.malformed_status, "{}: {reply}", case.op);
        assert!(
            headers.get("x-understudy-contract-violation").is_none(),
            "{}",
            case.op
        );
        assert_envelope(vendor, status, &reply);
        // Missing credentials are refused before anything else.
        let (status, _, reply) = read(
            fake.send(case.method.clone(), &case.path, &[], case.body.as_ref())
                .await,
        )
        .await;
        assert_eq!(status, case.unauthenticated_status, "{}: {reply}", case.op);
        assert_envelope(vendor, status, &reply);
    }
}

#[tokio::test]
async fn unknown_paths_and_wrong_methods_answer_as_each_vendor_does() {
    let fake = Fake::start().await;
    let (status, headers, body) = read(
        fake.send(
            Method::DELETE,
            &format!("/archera/v2/org/{ORG}/partners"),
            &[("x-api-key", "archera_understudy_test")],
            None,
        )
        .await,
    )
    .await;
    assert_eq!(status, 405, "Archera documents 405");
    assert_eq!(headers["allow"], "PATCH");
    assert_envelope("archera", 405, &body);

    // GET /partners is listPartners now; ban takes POST only.
    let (status, headers, _) =
        read(fake.send(Method::GET, "/dub/partners/ban", &[], None).await).await;
    assert_eq!(status, 405);
    assert_eq!(headers["allow"], "POST");

    let (status, headers, body) = read(
        fake.send(Method::GET, "/confluent/partner/v2/nothing", &[], None)
            .await,
    )
    .await;
    assert_eq!(status, 404);
    assert!(headers.contains_key("x-request-id"));
    assert_envelope("confluent", 404, &body);
}

#[tokio::test]
async fn confluent_401_carries_a_challenge_and_a_scope_less_token_gets_403() {
    let fake = Fake::start().await;
    let (status, headers, _) = read(
        fake.send(
            Method::POST,
            "/confluent/partner/v2/signup",
            &[],
            Some(&json!({})),
        )
        .await,
    )
    .await;
    assert_eq!(status, 401);
    assert!(
        headers["www-authenticate"]
            .to_str()
            .unwrap()
            .starts_with("Bearer")
    );
    let (status, _, body) = read(
        fake.send(
            Method::POST,
            "/confluent/partner/v2/signup",
            &[("Authorization", "Bearer confluent_understudy_readonly")],
            Some(&json!({})),
        )
        .await,
    )
    .await;
    assert_eq!(status, 403);
    assert_eq!(body["errors"][0]["code"], "user_unauthorized");
}

#[tokio::test]
async fn enhance_accepts_the_session_cookie_and_cloudcockpit_needs_its_tenant() {
    let fake = Fake::start().await;
    let path = format!("/enhance/orgs/{MO}/customers");
    let (status, _, _) = read(
        fake.send(
            Method::GET,
            &path,
            &[("Cookie", "id0=enhance_understudy_session")],
            None,
        )
        .await,
    )
    .await;
    assert_eq!(status, 200);
    let (status, _, _) = read(
        fake.send(Method::GET, &path, &[("Cookie", "id0=stale")], None)
            .await,
    )
    .await;
    assert_eq!(status, 401);
    // The schemes are alternatives: a stale cookie beside a valid token still authenticates.
    let both = [
        ("Cookie", "id0=stale"),
        ("Authorization", "Bearer enhance_understudy_test"),
    ];
    let (status, _, _) = read(fake.send(Method::GET, &path, &both, None).await).await;
    assert_eq!(status, 200);
    let big = format!("{path}?limit=341506299427983917056");
    let (status, _, _) = read(fake.send(Method::GET, &big, &both, None).await).await;
    assert_eq!(
        status, 400,
        "Enhance parses integers into 64 bits: a bigger one is refused (x-understudy-integers)"
    );
    let url = "/cloudcockpit/v1/Customers/relationship-acceptance?providerInstanceId=5b0e6a52-3c1f-4f0e-9d47-2a9c8e1f7b30";
    let (status, _, body) = read(
        fake.send(
            Method::GET,
            url,
            &[("Authorization", "Bearer cloudcockpit_understudy_test")],
            None,
        )
        .await,
    )
    .await;
    // X-Tenant is the documented required header: its absence is ASP.NET's 400 naming it.
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["errors"][0]["propertyName"], "X-Tenant", "{body}");
    let (status, _, body) = read(
        fake.send(
            Method::GET,
            url,
            &[
                ("Authorization", "Bearer cloudcockpit_understudy_test"),
                ("X-Tenant", "understudy.example"),
                ("X-Correlation-Id", "5b0e6a52-0000-4f0e-9d47-2a9c8e1f7b30"),
            ],
            None,
        )
        .await,
    )
    .await;
    assert_eq!(status, 200);
    assert!(body.as_str().unwrap().starts_with("https://"));
}
