//! Confluent Cloud partner signup v2 over real HTTP, strict response validation on: signup,
//! activate and link against the seeded world, conflicts, dry runs, credentials, every
//! documented status, concurrency and mutants.

mod common;

use std::collections::BTreeSet;

use common::{Fake, read};
use reqwest::Method;
use reqwest::header::HeaderMap;
use serde_json::{Value, json};
use understudy::VIOLATION_HEADER;
use understudy::VendorId;

const AUTH: (&str, &str) = ("Authorization", "Bearer confluent_understudy_test");
const READONLY: (&str, &str) = ("Authorization", "Bearer confluent_understudy_readonly");
/// The seeded incomplete organization (Initech Data).
const INCOMPLETE: &str = "3f9d2b6e-81c4-4e0a-b5d7-6a2e9c1f0b48";
/// The seeded complete organization (Globex Streaming), the one the linking tokens name.
const COMPLETE: &str = "8c41e0d7-3a9b-4f25-9e6c-1d7b2a5f3e90";
/// A seeded entitlement no organization uses yet.
const FREE_ENTITLEMENT: &str = "ent-7q2kz9";
const API: &str = "https://api.confluent.cloud/partner/v2";
/// The spec example's linking token, seeded unused for Globex Streaming.
const EXAMPLE_TOKEN: &str =
    "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJvcmciOiJ1bmRlcnN0dWR5In0.c2lnbmF0dXJlLXBsYWNlaG9sZGVy";

/// One exchange's outcome.
struct Answer {
    status: u16,
    headers: HeaderMap,
    body: Value,
}

impl Answer {
    fn code(&self) -> &str {
        self.body["errors"][0]["code"].as_str().unwrap_or_default()
    }

    fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .map(|v| v.to_str().unwrap())
            .unwrap_or_default()
    }
}

async fn call(fake: &Fake, path: &str, auth: &[(&str, &str)], body: &Value) -> Answer {
    let (status, headers, body) = read(
        fake.send(Method::POST, &format!("/confluent{path}"), auth, Some(body))
            .await,
    )
    .await;
    assert!(
        headers.get(VIOLATION_HEADER).is_none(),
        "contract violation: {headers:?}"
    );
    Answer {
        status,
        headers,
        body,
    }
}

async fn signup(fake: &Fake, body: &Value) -> Answer {
    call(fake, "/partner/v2/signup", &[AUTH], body).await
}

async fn activate(fake: &Fake, org: &str) -> Answer {
    call(
        fake,
        "/partner/v2/signup/activate",
        &[AUTH],
        &activation(org),
    )
    .await
}

async fn link(fake: &Fake, body: &Value) -> Answer {
    call(fake, "/partner/v2/signup/link", &[AUTH], body).await
}

fn sso() -> Value {
    json!({"kind": "AzureSSOConfig", "tenant_id": "0c6f1e7a-2d4b-4a8e-9f31-7b5d2c9e8a14"})
}

fn details(external_id: &str) -> Value {
    json!({"external_id": external_id, "name": "Plan", "plan_id": "confluent-cloud-payg-prod", "product_id": "confluent-cloud-kafka-service-azure"})
}

fn reference(id: &str) -> Value {
    json!({"id": id, "related": format!("{API}/entitlements/{id}"), "resource_name": format!("crn://confluent.cloud/entitlement={id}")})
}

fn user() -> Value {
    json!({"given_name": "Ada", "family_name": "Lovelace", "email": "ada@example.com"})
}

fn signup_body(entitlement: Value, with_user: bool) -> Value {
    let mut body = json!({"organization": {"name": "Acme Streaming", "sso_config": sso()}, "entitlement": entitlement});
    if with_user {
        body["user"] = user();
    }
    body
}

fn activation(org: &str) -> Value {
    json!({"organization_id": org, "user": user()})
}

fn link_body(token: &str, entitlement: Value) -> Value {
    json!({"token": token, "organization": {"sso_config": sso()}, "entitlement": entitlement})
}

fn export(fake: &Fake) -> Value {
    fake.store(VendorId::Confluent).export()
}

fn organization(state: &Value, id: &str) -> Value {
    state["organizations"][id].clone()
}

#[tokio::test]
async fn signup_with_details_and_user_creates_a_complete_organization_and_its_entitlement() {
    let fake = Fake::start().await;
    let answer = signup(&fake, &signup_body(details("acme-1"), true)).await;
    assert_eq!(answer.status, 201, "{}", answer.body);
    let org_id = answer.body["organization_id"].as_str().unwrap().to_string();
    assert_eq!(org_id.len(), 36, "a UUID");
    assert_eq!(
        answer.body["sso_url"],
        format!("https://confluent.cloud/login/sso/{org_id}")
    );
    let state = export(&fake);
    let org = organization(&state, &org_id);
    assert_eq!(org["name"], "Acme Streaming");
    assert_eq!(org["users"][0]["email"], "ada@example.com");
    let entitlement = state["entitlements"]
        .as_object()
        .unwrap()
        .values()
        .find(|e| e["external_id"] == "acme-1")
        .expect("the entitlement was created with the organization");
    assert_eq!(entitlement["organization_id"], org_id.as_str());

    // The signup is complete: activating it is a conflict naming the organization.
    let again = activate(&fake, &org_id).await;
    assert_eq!(again.status, 409, "{}", again.body);
    assert_eq!(again.code(), "signup_already_completed");
    assert_eq!(
        again.header("location"),
        format!("{API}/organizations/{org_id}")
    );
}

#[tokio::test]
async fn signup_without_user_stays_incomplete_until_activated_once() {
    let fake = Fake::start().await;
    let answer = signup(&fake, &signup_body(details("acme-2"), false)).await;
    assert_eq!(answer.status, 201, "{}", answer.body);
    let org_id = answer.body["organization_id"].as_str().unwrap().to_string();
    assert_eq!(
        organization(&export(&fake), &org_id)["users"],
        json!([]),
        "incomplete"
    );

    let activated = activate(&fake, &org_id).await;
    assert_eq!(activated.status, 201, "{}", activated.body);
    assert_eq!(activated.body["organization_id"], org_id.as_str());
    assert_eq!(
        organization(&export(&fake), &org_id)["users"][0]["given_name"],
        "Ada"
    );

    let before = export(&fake);
    let twice = activate(&fake, &org_id).await;
    assert_eq!(twice.status, 409);
    assert_eq!(
        twice.header("location"),
        format!("{API}/organizations/{org_id}")
    );
    assert_eq!(
        export(&fake),
        before,
        "a refused activation changes nothing"
    );
}

#[tokio::test]
async fn the_seeded_incomplete_organization_activates_and_the_complete_one_conflicts() {
    let fake = Fake::start().await;
    assert_eq!(activate(&fake, INCOMPLETE).await.status, 201);
    let answer = activate(&fake, COMPLETE).await;
    assert_eq!(answer.status, 409);
    assert_eq!(
        answer.header("location"),
        format!("{API}/organizations/{COMPLETE}")
    );
}

#[tokio::test]
async fn activating_an_unknown_organization_is_the_documented_400() {
    let fake = Fake::start().await;
    let before = export(&fake);
    let answer = activate(&fake, "b0b0b0b0-0000-4000-8000-000000000000").await;
    assert_eq!(answer.status, 400, "{}", answer.body);
    assert_eq!(answer.code(), "organization_not_found");
    assert_eq!(
        answer.body["errors"][0]["source"]["pointer"],
        "/organization_id"
    );
    assert_eq!(export(&fake), before);
}

#[tokio::test]
async fn signup_by_reference_attaches_a_seeded_entitlement_once() {
    let fake = Fake::start().await;
    let answer = signup(&fake, &signup_body(reference(FREE_ENTITLEMENT), false)).await;
    assert_eq!(answer.status, 201, "{}", answer.body);
    let org_id = answer.body["organization_id"].as_str().unwrap();
    let state = export(&fake);
    assert_eq!(
        state["entitlements"][FREE_ENTITLEMENT]["organization_id"],
        org_id
    );
    assert_eq!(
        organization(&state, org_id)["users"],
        json!([]),
        "no user: incomplete"
    );

    // The entitlement now bills that organization: a second reference is a conflict.
    let again = signup(&fake, &signup_body(reference(FREE_ENTITLEMENT), true)).await;
    assert_eq!(again.status, 409, "{}", again.body);
    assert_eq!(again.code(), "resource_already_exists");
    assert_eq!(
        again.header("location"),
        format!("{API}/entitlements/{FREE_ENTITLEMENT}")
    );
    assert_eq!(export(&fake), state);
}

#[tokio::test]
async fn an_unknown_entitlement_reference_is_a_400() {
    let fake = Fake::start().await;
    let before = export(&fake);
    let answer = signup(&fake, &signup_body(reference("ent-nope"), true)).await;
    assert_eq!(answer.status, 400, "{}", answer.body);
    assert_eq!(answer.code(), "entitlement_not_found");
    assert_eq!(
        answer.body["errors"][0]["source"]["pointer"],
        "/entitlement/related"
    );

    // A reference to something that is not an entitlement at all.
    let mut elsewhere = reference(FREE_ENTITLEMENT);
    elsewhere["related"] = json!(format!("{API}/organizations/{COMPLETE}"));
    assert_eq!(
        signup(&fake, &signup_body(elsewhere, true)).await.code(),
        "entitlement_not_found"
    );
    assert_eq!(export(&fake), before, "refused signups store nothing");
}

#[tokio::test]
async fn a_duplicate_external_id_is_a_409_naming_the_existing_entitlement() {
    let fake = Fake::start().await;
    // The seeded Globex entitlement.
    let before = export(&fake);
    let answer = signup(&fake, &signup_body(details("globex-0001"), true)).await;
    assert_eq!(answer.status, 409, "{}", answer.body);
    assert_eq!(answer.code(), "resource_already_exists");
    assert_eq!(answer.body["errors"][0]["status"], "409");
    assert_eq!(
        answer.header("location"),
        format!("{API}/entitlements/ent-globex01")
    );
    assert_eq!(export(&fake), before);

    // One created by a signup conflicts with a later link as well.
    assert_eq!(
        signup(&fake, &signup_body(details("acme-3"), true))
            .await
            .status,
        201
    );
    let created = export(&fake);
    let id = created["entitlements"]
        .as_object()
        .unwrap()
        .iter()
        .find(|(_, e)| e["external_id"] == "acme-3")
        .map(|(id, _)| id.clone())
        .unwrap();
    let answer = link(
        &fake,
        &link_body("confluent_link_understudy", details("acme-3")),
    )
    .await;
    assert_eq!(answer.status, 409);
    assert_eq!(answer.code(), "resource_already_exists");
    assert_eq!(
        answer.header("location"),
        format!("{API}/entitlements/{id}")
    );
    assert_eq!(
        export(&fake),
        created,
        "the refused link kept its token unused"
    );
}

#[tokio::test]
async fn link_attaches_a_new_entitlement_to_the_tokens_organization_once() {
    let fake = Fake::start().await;
    let answer = link(
        &fake,
        &link_body("confluent_link_understudy", details("linked-1")),
    )
    .await;
    assert_eq!(answer.status, 201, "{}", answer.body);
    assert_eq!(answer.body["organization_id"], COMPLETE);
    let state = export(&fake);
    let linked = state["entitlements"]
        .as_object()
        .unwrap()
        .values()
        .find(|e| e["external_id"] == "linked-1")
        .unwrap();
    assert_eq!(linked["organization_id"], COMPLETE);
    assert_eq!(
        state["linking_tokens"]["confluent_link_understudy"]["used"],
        true
    );

    // The token is spent now.
    let reused = link(
        &fake,
        &link_body("confluent_link_understudy", details("linked-2")),
    )
    .await;
    assert_eq!(reused.status, 400, "{}", reused.body);
    assert_eq!(reused.code(), "invalid_linking_token");
    assert_eq!(reused.body["errors"][0]["source"]["pointer"], "/token");
    assert_eq!(export(&fake), state);

    // The seeded used token and an unknown token are refused the same way.
    for token in ["confluent_link_used", "no-such-token"] {
        let answer = link(&fake, &link_body(token, details("linked-3"))).await;
        assert_eq!(
            (answer.status, answer.code()),
            (400, "invalid_linking_token"),
            "{token}"
        );
    }
    assert_eq!(export(&fake), state);
}

#[tokio::test]
async fn link_by_reference_attaches_a_registered_entitlement() {
    let fake = Fake::start().await;
    let answer = link(
        &fake,
        &link_body("confluent_link_understudy", reference("ent-3m8wd4")),
    )
    .await;
    assert_eq!(answer.status, 201, "{}", answer.body);
    assert_eq!(
        export(&fake)["entitlements"]["ent-3m8wd4"]["organization_id"],
        COMPLETE
    );
}

#[tokio::test]
async fn dry_runs_validate_everything_and_change_nothing() {
    let fake = Fake::start().await;
    let before = export(&fake);

    let dry = "/partner/v2/signup?dry_run=true";
    let answer = call(&fake, dry, &[AUTH], &signup_body(details("dry-1"), true)).await;
    assert_eq!(answer.status, 201, "{}", answer.body);
    assert!(answer.body["organization_id"].is_string());
    let answer = call(
        &fake,
        dry,
        &[AUTH],
        &signup_body(reference(FREE_ENTITLEMENT), false),
    )
    .await;
    assert_eq!(answer.status, 201);
    // Conflicts and bad references are still found.
    let answer = call(
        &fake,
        dry,
        &[AUTH],
        &signup_body(details("globex-0001"), true),
    )
    .await;
    assert_eq!(answer.status, 409);
    assert!(answer.headers.contains_key("location"));
    let answer = call(
        &fake,
        dry,
        &[AUTH],
        &signup_body(reference("ent-nope"), true),
    )
    .await;
    assert_eq!(answer.status, 400);

    let dry_link = "/partner/v2/signup/link?dry_run=true";
    let body = link_body("confluent_link_understudy", details("dry-2"));
    let answer = call(&fake, dry_link, &[AUTH], &body).await;
    assert_eq!(answer.status, 201, "{}", answer.body);
    assert_eq!(answer.body["organization_id"], COMPLETE);
    let answer = call(
        &fake,
        dry_link,
        &[AUTH],
        &link_body("confluent_link_used", details("dry-3")),
    )
    .await;
    assert_eq!(answer.status, 400);

    assert_eq!(export(&fake), before, "dry runs stored nothing");

    // What the dry runs checked still works for real afterwards.
    assert_eq!(
        signup(&fake, &signup_body(details("dry-1"), true))
            .await
            .status,
        201
    );
    assert_eq!(link(&fake, &body).await.status, 201);
    // dry_run=false is a real run.
    let answer = call(
        &fake,
        "/partner/v2/signup?dry_run=false",
        &[AUTH],
        &signup_body(details("wet-1"), true),
    )
    .await;
    assert_eq!(answer.status, 201);
    assert_eq!(
        export(&fake)["organizations"].as_object().unwrap().len(),
        before["organizations"].as_object().unwrap().len() + 2
    );
}

#[tokio::test]
async fn every_response_carries_a_request_id_and_errors_are_failures() {
    let fake = Fake::start().await;
    let valid = signup_body(details("rid-1"), true);
    let answers = [
        signup(&fake, &valid).await,                                  // 201
        signup(&fake, &valid).await,                                  // 409
        signup(&fake, &json!({"organization": {}})).await,            // 400
        call(&fake, "/partner/v2/signup", &[], &valid).await,         // 401
        call(&fake, "/partner/v2/signup", &[READONLY], &valid).await, // 403
    ];
    let statuses: Vec<u16> = answers.iter().map(|a| a.status).collect();
    assert_eq!(statuses, [201, 409, 400, 401, 403]);
    for answer in &answers {
        let request_id = answer.header("x-request-id");
        assert!(!request_id.is_empty(), "{}", answer.status);
        if answer.status >= 400 {
            let errors = answer.body["errors"].as_array().expect("Failure envelope");
            assert!(!errors.is_empty());
            for error in errors {
                assert_eq!(error["status"], answer.status.to_string());
                assert_eq!(error["id"], request_id, "the error id is the request id");
            }
        }
    }
    assert!(answers[3].header("www-authenticate").starts_with("Bearer"));
    assert_eq!(answers[4].code(), "user_unauthorized");

    // Refusals outside any operation carry it too.
    for (method, path) in [
        (Method::GET, "/confluent/partner/v2/signup"),
        (Method::GET, "/confluent/nowhere"),
    ] {
        let (status, headers, body) = read(fake.send(method, path, &[AUTH], None).await).await;
        assert!(headers.contains_key("x-request-id"), "{status}");
        assert!(body["errors"].is_array(), "{status}: {body}");
    }
}

#[tokio::test]
async fn bad_and_unknown_tokens_are_401_with_a_challenge_and_a_scope_less_one_403() {
    let fake = Fake::start().await;
    let body = signup_body(details("auth-1"), true);
    for auth in [
        vec![],
        vec![("Authorization", "Bearer nope")],
        vec![("Authorization", "Basic dXNlcjpwYXNz")],
    ] {
        let answer = call(&fake, "/partner/v2/signup/link", &auth, &body).await;
        assert_eq!(answer.status, 401, "{auth:?}");
        assert_eq!(answer.code(), "user_unauthenticated");
        assert!(answer.header("www-authenticate").starts_with("Bearer "));
    }
    let before = export(&fake);
    for path in [
        "/partner/v2/signup",
        "/partner/v2/signup/activate",
        "/partner/v2/signup/link",
    ] {
        let answer = call(&fake, path, &[READONLY], &activation(INCOMPLETE)).await;
        assert_eq!(answer.status, 403, "{path}");
    }
    assert_eq!(export(&fake), before);
}

/// One row of the status table: operation, expected status, path, headers, body.
type Row = (&'static str, u16, &'static str, Vec<Header>, Value);
type Header = (&'static str, &'static str);

/// Every status the spec documents for the three operations, each produced by a request.
#[tokio::test]
async fn every_documented_status_is_produced_by_some_request() {
    // 429 comes with the rate limiter and 500 only from fault injection (later issues); the fake
    // has no natural 500 for these operations.
    const PENDING: [u16; 2] = [429, 500];
    let fake = Fake::start().await;
    let valid_signup = signup_body(details("table-1"), true);
    let table: Vec<Row> = vec![
        (
            "signup",
            201,
            "/partner/v2/signup",
            vec![AUTH],
            valid_signup.clone(),
        ),
        (
            "signup",
            400,
            "/partner/v2/signup",
            vec![AUTH],
            json!({"organization": {"name": "x"}}),
        ),
        (
            "signup",
            401,
            "/partner/v2/signup",
            vec![],
            valid_signup.clone(),
        ),
        (
            "signup",
            403,
            "/partner/v2/signup",
            vec![READONLY],
            valid_signup.clone(),
        ),
        (
            "signup",
            409,
            "/partner/v2/signup",
            vec![AUTH],
            valid_signup,
        ),
        (
            "activateSignup",
            201,
            "/partner/v2/signup/activate",
            vec![AUTH],
            activation(INCOMPLETE),
        ),
        (
            "activateSignup",
            400,
            "/partner/v2/signup/activate",
            vec![AUTH],
            activation("unknown"),
        ),
        (
            "activateSignup",
            401,
            "/partner/v2/signup/activate",
            vec![("Authorization", "Bearer x")],
            activation(INCOMPLETE),
        ),
        (
            "activateSignup",
            403,
            "/partner/v2/signup/activate",
            vec![READONLY],
            activation(INCOMPLETE),
        ),
        (
            "activateSignup",
            409,
            "/partner/v2/signup/activate",
            vec![AUTH],
            activation(COMPLETE),
        ),
        (
            "signupPartnerV2Link",
            201,
            "/partner/v2/signup/link",
            vec![AUTH],
            link_body("confluent_link_understudy", details("table-2")),
        ),
        (
            "signupPartnerV2Link",
            400,
            "/partner/v2/signup/link",
            vec![AUTH],
            link_body("confluent_link_used", details("table-3")),
        ),
        (
            "signupPartnerV2Link",
            401,
            "/partner/v2/signup/link",
            vec![],
            json!({}),
        ),
        (
            "signupPartnerV2Link",
            403,
            "/partner/v2/signup/link",
            vec![READONLY],
            json!({}),
        ),
        // The token is checked first, so the conflict needs the other unused seeded token.
        (
            "signupPartnerV2Link",
            409,
            "/partner/v2/signup/link",
            vec![AUTH],
            link_body(EXAMPLE_TOKEN, details("table-1")),
        ),
    ];
    let mut produced: BTreeSet<(&str, u16)> = BTreeSet::new();
    for (op, expected, path, auth, body) in &table {
        let answer = call(&fake, path, auth, body).await;
        assert_eq!(answer.status, *expected, "{op}: {}", answer.body);
        produced.insert((op, answer.status));
    }
    let spec = fake.spec(VendorId::Confluent).expect("the fake serves it");
    for op in ["signup", "activateSignup", "signupPartnerV2Link"] {
        let documented = spec.operation(op).unwrap().documented_statuses();
        for status in documented {
            if PENDING.contains(&status) {
                continue;
            }
            assert!(
                produced.contains(&(op, status)),
                "{op} {status} is documented but no request produced it"
            );
        }
    }
}

// Several worker threads, so the requests really run at the same time.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn thirty_two_parallel_signups_make_thirty_two_organizations() {
    let fake = Fake::start().await;
    let seeded = export(&fake)["organizations"].as_object().unwrap().len();
    let url = fake.url("/confluent/partner/v2/signup");
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..32 {
        let (client, url) = (fake.client.clone(), url.clone());
        tasks.spawn(async move {
            let response = client
                .post(url)
                .bearer_auth("confluent_understudy_test")
                .json(&signup_body(details(&format!("parallel-{i}")), i % 2 == 0))
                .send()
                .await
                .unwrap();
            assert_eq!(response.status(), 201);
            let body: Value = response.json().await.unwrap();
            body["organization_id"].as_str().unwrap().to_string()
        });
    }
    let ids: BTreeSet<String> = tasks.join_all().await.into_iter().collect();
    assert_eq!(ids.len(), 32, "32 distinct organizations");
    let state = export(&fake);
    assert_eq!(
        state["organizations"].as_object().unwrap().len(),
        seeded + 32
    );
    for id in &ids {
        assert!(state["organizations"].get(id).is_some());
    }
}

// Several worker threads, so the requests really run at the same time.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn racing_requests_for_one_resource_get_exactly_one_success() {
    let fake = Fake::start().await;
    // 32 signups with the same external_id, 32 activations of the same organization.
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..64 {
        let client = fake.client.clone();
        let (path, body) = if i % 2 == 0 {
            ("signup", signup_body(details("contended"), true))
        } else {
            ("signup/activate", activation(INCOMPLETE))
        };
        let url = fake.url(&format!("/confluent/partner/v2/{path}"));
        tasks.spawn(async move {
            let response = client
                .post(url)
                .bearer_auth("confluent_understudy_test")
                .json(&body)
                .send()
                .await
                .unwrap();
            (path, response.status().as_u16())
        });
    }
    let results = tasks.join_all().await;
    for path in ["signup", "signup/activate"] {
        let statuses: Vec<u16> = results
            .iter()
            .filter(|(p, _)| *p == path)
            .map(|(_, s)| *s)
            .collect();
        assert_eq!(statuses.iter().filter(|s| **s == 201).count(), 1, "{path}");
        assert_eq!(statuses.iter().filter(|s| **s == 409).count(), 31, "{path}");
    }
    let state = export(&fake);
    assert_eq!(
        organization(&state, INCOMPLETE)["users"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
}

// Several worker threads, so the requests really run at the same time.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn thirty_two_parallel_links_with_imported_tokens_link_thirty_two_entitlements() {
    let fake = Fake::start().await;
    let store = fake.store(VendorId::Confluent);
    let mut state = store.export();
    for i in 0..32 {
        state["linking_tokens"][format!("parallel-token-{i}")] = json!({
            "token": format!("parallel-token-{i}"), "organization_id": COMPLETE, "used": false,
        });
    }
    store.import(state).unwrap();
    let seeded = store.export()["entitlements"].as_object().unwrap().len();
    let url = fake.url("/confluent/partner/v2/signup/link");
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..32 {
        let (client, url) = (fake.client.clone(), url.clone());
        tasks.spawn(async move {
            let body = link_body(
                &format!("parallel-token-{i}"),
                details(&format!("plink-{i}")),
            );
            let response = client
                .post(url)
                .bearer_auth("confluent_understudy_test")
                .json(&body)
                .send()
                .await
                .unwrap();
            response.status().as_u16()
        });
    }
    assert!(tasks.join_all().await.iter().all(|s| *s == 201));
    let state = store.export();
    let entitlements = state["entitlements"].as_object().unwrap();
    assert_eq!(entitlements.len(), seeded + 32);
    let linked = entitlements
        .values()
        .filter(|e| e["external_id"].as_str().unwrap().starts_with("plink-"))
        .filter(|e| e["organization_id"] == COMPLETE)
        .count();
    assert_eq!(linked, 32);
    assert!(
        state["linking_tokens"]
            .as_object()
            .unwrap()
            .iter()
            .filter(|(t, _)| t.starts_with("parallel-token-"))
            .all(|(_, t)| t["used"] == true)
    );
}

#[tokio::test]
async fn reset_restores_the_seeded_world_and_export_import_round_trips() {
    let fake = Fake::start().await;
    let store = fake.store(VendorId::Confluent);
    let seed = store.export();
    let seeded_resources = store.resources();
    assert_eq!(
        signup(&fake, &signup_body(details("reset-1"), true))
            .await
            .status,
        201
    );
    assert_eq!(
        store.resources(),
        seeded_resources + 2,
        "an organization and its entitlement"
    );
    let changed = store.export();
    store.reset();
    assert_eq!(store.export(), seed);
    store.import(changed.clone()).unwrap();
    assert_eq!(store.export(), changed);
    // The imported state is live: the entitlement it holds conflicts again.
    assert_eq!(
        signup(&fake, &signup_body(details("reset-1"), true))
            .await
            .status,
        409
    );
}

#[tokio::test]
async fn mutants_break_the_rules_they_name() {
    let fake = Fake::start().await;
    for mutant in understudy::mutants::ConfluentMutant::ALL {
        assert!(mutant.mutant().name().starts_with("confluent."));
    }

    fake.set_mutants(["confluent.used-token-accepted"]).unwrap();
    let body = link_body("confluent_link_used", details("mutant-1"));
    assert_eq!(link(&fake, &body).await.status, 201, "a used token links");

    fake.set_mutants(["confluent.no-409-on-reactivation"])
        .unwrap();
    assert_eq!(activate(&fake, COMPLETE).await.status, 201);

    fake.set_mutants(["confluent.dry-run-persists"]).unwrap();
    let before = export(&fake);
    let answer = call(
        &fake,
        "/partner/v2/signup?dry_run=true",
        &[AUTH],
        &signup_body(details("mutant-2"), true),
    )
    .await;
    assert_eq!(answer.status, 201);
    assert_ne!(export(&fake), before, "the dry run was stored");

    // Strict mode catches the 409 without its required Location header.
    fake.set_mutants(["confluent.conflict-without-location"])
        .unwrap();
    let (status, headers, _) = read(
        fake.send(
            Method::POST,
            "/confluent/partner/v2/signup",
            &[AUTH],
            Some(&signup_body(details("mutant-2"), true)),
        )
        .await,
    )
    .await;
    assert_eq!(status, 500);
    assert!(
        headers[VIOLATION_HEADER]
            .to_str()
            .unwrap()
            .contains("Location")
    );

    // Switched off, the rules hold again.
    fake.set_mutants(Vec::<String>::new()).unwrap();
    assert_eq!(activate(&fake, COMPLETE).await.status, 409);
    assert_eq!(link(&fake, &body).await.status, 400);
}
