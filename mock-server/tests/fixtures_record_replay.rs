//! Record a scenario per vendor through the proxy against a second in-process Understudy, then
//! replay it on a fresh replay server: identical answers, no credential on disk, spec checks in
//! the fixture, a near-miss report for an altered request, sequences, reset and strict mode.
//!
//! `UNDERSTUDY_RECORD_FIXTURES=1 cargo test -p understudy --test fixtures_record_replay` writes
//! the recordings to `fixtures/<vendor>/onboarding.har` (the committed set) instead of a temp dir.

mod common;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use common::Fake;
use reqwest::Method;
use serde_json::{Value, json};
use understudy::VendorId;
use understudy::fixtures::har::Har;
use understudy::fixtures::record::{RecordOptions, record};
use understudy::fixtures::redact::RedactionRules;
use understudy::fixtures::replay::{NO_MATCH_HEADER, SESSION_HEADER, load, replay};
use understudy::fixtures::scan::{scan_file, scan_tree};
use understudy::spec::SpecSet;

/// One request of a scenario, relative to the vendor's base URL.
struct Step {
    method: Method,
    path: String,
    headers: Vec<(&'static str, &'static str)>,
    body: Option<Value>,
}

fn step(
    method: Method,
    path: &str,
    headers: &[(&'static str, &'static str)],
    body: Option<Value>,
) -> Step {
    Step {
        method,
        path: path.into(),
        headers: headers.to_vec(),
        body,
    }
}

const ENHANCE_MO: &str = "00000000-0000-4000-8000-000000000001";
const ARCHERA_CONTOSO: &str = "2b4d6f8a-0c1e-4a3b-9d5f-7e8a9b0c1d2e";

/// Every credential a scenario sends; none may reach a fixture.
const SECRETS: [&str; 6] = [
    "confluent_understudy_test",
    "confluent_link_understudy",
    "enhance_understudy_test",
    "enhance_understudy_session",
    "cloudcockpit_understudy_reseller",
    "dub_understudy_test",
];

fn scenario(vendor: VendorId) -> Vec<Step> {
    match vendor {
        VendorId::Confluent => {
            let auth = [("Authorization", "Bearer confluent_understudy_test")];
            let link = json!({"token": "confluent_link_understudy", "organization": {"sso_config": {"kind": "AzureSSOConfig", "tenant_id": "0c6f1e7a-2d4b-4a8e-9f31-7b5d2c9e8a14"}}, "entitlement": {"external_id": "fixture-1", "name": "Plan", "plan_id": "confluent-cloud-payg-prod", "product_id": "confluent-cloud-kafka-service-azure"}});
            vec![
                step(
                    Method::POST,
                    "/partner/v2/signup/link?dry_run=true",
                    &auth,
                    Some(link.clone()),
                ),
                // The same link twice: consumed, then refused. Replay must give them in order.
                step(
                    Method::POST,
                    "/partner/v2/signup/link",
                    &auth,
                    Some(link.clone()),
                ),
                step(Method::POST, "/partner/v2/signup/link", &auth, Some(link)),
            ]
        }
        VendorId::Enhance => {
            let customers = format!("/orgs/{ENHANCE_MO}/customers");
            let owner = [("Authorization", "Bearer enhance_understudy_test")];
            vec![
                step(
                    Method::GET,
                    &customers,
                    &[("Cookie", "id0=enhance_understudy_session")],
                    None,
                ),
                step(
                    Method::POST,
                    &customers,
                    &owner,
                    Some(json!({"name": "Fixture Hosting"})),
                ),
                step(
                    Method::POST,
                    &customers,
                    &owner,
                    Some(json!({"name": "Fixture Hosting"})),
                ),
            ]
        }
        VendorId::Cloudcockpit => vec![step(
            Method::GET,
            "/v1/Customers/relationship-acceptance?providerInstanceId=6c1f7b63-4d20-4a1f-8e58-3b0d9f2a8c41",
            &[
                ("Authorization", "Bearer cloudcockpit_understudy_reseller"),
                ("X-Tenant", "understudy.example"),
            ],
            None,
        )],
        VendorId::Dub => {
            let auth = [("Authorization", "Bearer dub_understudy_test")];
            vec![
                step(
                    Method::POST,
                    "/partners",
                    &auth,
                    Some(
                        json!({"programId": "prog_understudy", "name": "Ada Fixture", "email": "ada@fixture.example", "username": "ada-fixture"}),
                    ),
                ),
                // Breaks the spec on purpose (no programId): the violation goes into the fixture.
                step(
                    Method::POST,
                    "/partners",
                    &auth,
                    Some(json!({"name": "No Program"})),
                ),
            ]
        }
        VendorId::Archera => {
            let key = [("x-api-key", "archera_understudy_test")];
            let start = format!("/v2/org/{ARCHERA_CONTOSO}/partners/onboarding/start");
            vec![
                step(Method::POST, &start, &key, None),
                step(Method::POST, &start, &key, None),
            ]
        }
    }
}

/// Sends a step to `base`; returns the status and the body text.
async fn send(client: &reqwest::Client, base: &str, step: &Step, session: &str) -> (u16, String) {
    let mut request = client
        .request(step.method.clone(), format!("{base}{}", step.path))
        .header(SESSION_HEADER, session);
    for (name, value) in &step.headers {
        request = request.header(*name, *value);
    }
    if let Some(body) = &step.body {
        request = request.json(body);
    }
    let response = request.send().await.expect("request is answered");
    (response.status().as_u16(), response.text().await.unwrap())
}

fn loopback() -> SocketAddr {
    "127.0.0.1:0".parse().unwrap()
}

fn repository_fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures")
}

/// Where `test`'s recording goes: a temp dir of its own, or the committed set for the
/// onboarding test when asked to re-record.
fn out_file(vendor: VendorId, test: &str) -> PathBuf {
    if test == "onboarding" && std::env::var_os("UNDERSTUDY_RECORD_FIXTURES").is_some() {
        return repository_fixtures()
            .join(vendor.name())
            .join("onboarding.har");
    }
    std::env::temp_dir()
        .join(format!("understudy-fixtures-{}", std::process::id()))
        .join(test)
        .join(vendor.name())
        .join("onboarding.har")
}

/// Records `vendor`'s scenario; returns the fixture file and the live answers.
async fn record_scenario(vendor: VendorId, test: &str) -> (PathBuf, Vec<(u16, String)>) {
    let upstream = Fake::start().await;
    let specs = SpecSet::embedded().unwrap();
    let out = out_file(vendor, test);
    let recording = record(
        RecordOptions {
            vendor,
            upstream: format!("{}/{}", upstream.url(""), vendor.name()),
            out: out.clone(),
            addr: loopback(),
            rules: RedactionRules::default(),
            upstream_ca: None,
        },
        Arc::new(specs),
    )
    .await
    .expect("proxy starts");
    let client = reqwest::Client::new();
    let mut live = Vec::new();
    for step in scenario(vendor) {
        live.push(send(&client, &recording.url(), &step, "record").await);
    }
    let har = recording.stop().await.unwrap();
    assert_eq!(har.log.entries.len(), live.len());
    (out, live)
}

#[tokio::test]
async fn every_vendor_records_and_replays_identically_without_credentials_on_disk() {
    for vendor in VendorId::ALL {
        let (file, live) = record_scenario(vendor, "onboarding").await;
        let text = std::fs::read_to_string(&file).unwrap();
        for secret in SECRETS {
            assert!(
                !text.contains(secret),
                "{vendor}: {secret} reached {}",
                file.display()
            );
        }
        assert_eq!(
            scan_file(&file, &text),
            vec![],
            "{vendor}: the secret scan is clean"
        );
        assert_eq!(
            Har::parse(&text).unwrap().to_pretty(),
            text,
            "{vendor}: stable, pretty key order"
        );

        let har = Har::parse(&text).unwrap();
        for (i, entry) in har.log.entries.iter().enumerate() {
            assert_eq!(entry.sequence, i as u64 + 1);
            assert!(
                entry.operation_id.is_some(),
                "{vendor}: entry {i} names its operation"
            );
            assert_eq!(entry.response.status, live[i].0);
            // The fake is strict, so only a request we broke on purpose may violate the spec.
            let broken = vendor == VendorId::Dub && i == 1;
            assert_eq!(
                !entry.violations.is_empty(),
                broken,
                "{vendor} #{i}: {:?}",
                entry.violations
            );
        }

        let replaying = replay(load(&file).unwrap(), loopback()).await.unwrap();
        assert_eq!(
            replaying.unused().len(),
            live.len(),
            "nothing is used before the run"
        );
        let base = format!("{}/{}", replaying.url(), vendor.name());
        let client = reqwest::Client::new();
        for (step, expected) in scenario(vendor).iter().zip(&live) {
            assert_eq!(
                &send(&client, &base, step, "ci").await,
                expected,
                "{vendor} {}",
                step.path
            );
        }
        assert_eq!(
            replaying.unused(),
            Vec::<String>::new(),
            "{vendor}: strict mode passes"
        );
        replaying.stop().await.unwrap();
    }
}

#[tokio::test]
async fn sequences_are_per_session_and_reset_starts_again() {
    let (file, live) = record_scenario(VendorId::Enhance, "sequences").await;
    assert_eq!(
        (live[1].0, live[2].0),
        (201, 409),
        "create, then a duplicate"
    );
    let replaying = replay(load(&file).unwrap(), loopback()).await.unwrap();
    let base = format!("{}/enhance", replaying.url());
    let client = reqwest::Client::new();
    let create = &scenario(VendorId::Enhance)[1];
    assert_eq!(send(&client, &base, create, "a").await.0, 201);
    assert_eq!(
        send(&client, &base, create, "b").await.0,
        201,
        "another session starts at the first answer"
    );
    assert_eq!(send(&client, &base, create, "a").await.0, 409);
    assert_eq!(
        send(&client, &base, create, "a").await.0,
        409,
        "past the end, the last answer again"
    );
    let reset = client
        .post(format!("{}/__understudy/replay/reset", replaying.url()))
        .header(SESSION_HEADER, "a")
        .send()
        .await
        .unwrap();
    assert_eq!(reset.status().as_u16(), 204);
    assert_eq!(
        send(&client, &base, create, "a").await.0,
        201,
        "a reset starts again"
    );
    assert_eq!(
        replaying.unused().len(),
        1,
        "the GET was never replayed: strict mode fails"
    );
    replaying.stop().await.unwrap();
}

#[tokio::test]
async fn an_altered_request_gets_a_near_miss_report_and_placeholders_bind() {
    let (file, _) = record_scenario(VendorId::Confluent, "near-miss").await;
    let replaying = replay(load(&file).unwrap(), loopback()).await.unwrap();
    let base = format!("{}/confluent", replaying.url());
    let client = reqwest::Client::new();
    let mut altered = scenario(VendorId::Confluent).remove(1);
    altered.body.as_mut().unwrap()["entitlement"]["name"] = json!("Other Plan");
    let response = client
        .post(format!("{base}{}", altered.path))
        .json(altered.body.as_ref().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 404);
    assert_eq!(response.headers()[NO_MATCH_HEADER], "no-match");
    let report: Value = response.json().await.unwrap();
    assert_eq!(
        report["nearest"]["request"], "POST /partner/v2/signup/link",
        "{report}"
    );
    assert_eq!(
        report["nearest"]["operationId"]
            .as_str()
            .map(|s| !s.is_empty()),
        Some(true)
    );
    let differences = report["differences"].to_string();
    assert!(
        differences.contains("/entitlement/name") && differences.contains("Other Plan"),
        "{report}"
    );

    // The linking token is a placeholder on disk: any live token matches it, but then only
    // that same token does for the rest of the session.
    let mut other_token = scenario(VendorId::Confluent).remove(0);
    other_token.body.as_mut().unwrap()["token"] = json!("some_other_live_token");
    assert_eq!(send(&client, &base, &other_token, "s").await.0, 201);
    let second = scenario(VendorId::Confluent).remove(1);
    let (status, body) = send(&client, &base, &second, "s").await;
    assert_eq!(status, 404, "a different token than the one bound: {body}");
    assert!(body.contains("/token"), "{body}");
    replaying.stop().await.unwrap();
}

#[test]
fn no_fixture_in_the_repository_holds_a_live_looking_secret() {
    let findings = scan_tree(&repository_fixtures()).unwrap();
    let report: Vec<String> = findings.iter().map(ToString::to_string).collect();
    assert!(report.is_empty(), "{report:#?}");
}

/// Replays each committed fixture by sending its own recorded requests: every answer is the
/// recorded one, in order, and nothing is left unused.
#[tokio::test]
async fn the_committed_fixtures_replay() {
    let client = reqwest::Client::new();
    for vendor in VendorId::ALL {
        let dir = repository_fixtures().join(vendor.name());
        let recorded = load(&dir).unwrap_or_else(|e| panic!("{vendor}: committed fixtures: {e}"));
        assert!(
            !recorded.is_empty(),
            "{vendor}: no committed fixture in {}",
            dir.display()
        );
        let replaying = replay(recorded.clone(), loopback()).await.unwrap();
        for r in &recorded {
            let query = url::Url::parse(&r.entry.request.url)
                .ok()
                .and_then(|u| u.query().map(|q| format!("?{q}")));
            let mut request = client.request(
                Method::from_bytes(r.entry.request.method.as_bytes()).unwrap(),
                format!(
                    "{}/{}{}{}",
                    replaying.url(),
                    vendor.name(),
                    r.path,
                    query.unwrap_or_default()
                ),
            );
            if let Some(post) = &r.entry.request.post_data {
                request = request
                    .header("content-type", &post.mime_type)
                    .body(post.text.clone());
            }
            let response = request.send().await.unwrap();
            assert_eq!(
                response.status().as_u16(),
                r.entry.response.status,
                "{vendor} #{}",
                r.entry.sequence
            );
            let text = response.text().await.unwrap();
            assert_eq!(
                text,
                r.entry.response.content.text.clone().unwrap_or_default()
            );
        }
        assert_eq!(replaying.unused(), Vec::<String>::new(), "{vendor}");
        replaying.stop().await.unwrap();
    }
}

#[tokio::test]
async fn replay_sessions_are_worlds_named_by_either_selector() {
    let (file, _) = record_scenario(VendorId::Enhance, "worlds").await;
    let replaying = replay(load(&file).unwrap(), loopback()).await.unwrap();
    let client = reqwest::Client::new();
    let create = &scenario(VendorId::Enhance)[1];
    let in_world = |prefix: &str, header: Option<(&str, &str)>| {
        let mut request = client.request(
            create.method.clone(),
            format!("{}{prefix}/enhance{}", replaying.url(), create.path),
        );
        for (name, value) in create.headers.iter().copied().chain(header) {
            request = request.header(name, value);
        }
        request.json(create.body.as_ref().unwrap()).send()
    };
    let status = |response: reqwest::Response| response.status().as_u16();
    assert_eq!(
        status(
            in_world("", Some(("X-Understudy-World", "a")))
                .await
                .unwrap()
        ),
        201
    );
    // The path prefix, and the older session header, name the same session.
    assert_eq!(status(in_world("/__world/a", None).await.unwrap()), 409);
    assert_eq!(
        status(in_world("", Some((SESSION_HEADER, "a"))).await.unwrap()),
        409
    );
    assert_eq!(
        status(in_world("/__world/b", None).await.unwrap()),
        201,
        "another world starts at the first answer"
    );
    let reset = client
        .post(format!(
            "{}/__understudy/worlds/a/replay/reset",
            replaying.url()
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(reset.status().as_u16(), 204);
    assert_eq!(status(in_world("/__world/a", None).await.unwrap()), 201);
    assert_eq!(
        status(in_world("/__world/b", None).await.unwrap()),
        409,
        "b kept its place"
    );
    let bad = in_world("/__world/no%20good", None).await.unwrap();
    assert_eq!(bad.status().as_u16(), 400);
    replaying.stop().await.unwrap();
}

#[tokio::test]
async fn the_proxy_passes_the_world_on_and_records_each_world_apart() {
    let upstream = Fake::start().await;
    let out = out_file(VendorId::Dub, "worlds-recorded");
    let recording = record(
        RecordOptions::new(
            VendorId::Dub,
            format!("{}/dub", upstream.url("")),
            out.clone(),
        ),
        Arc::new(SpecSet::embedded().unwrap()),
    )
    .await
    .expect("proxy starts");
    let client = reqwest::Client::new();
    let ada = json!({"programId": "prog_understudy", "name": "Ada", "email": "ada@example.com", "username": "ada"});
    let create = |path: String, world: Option<&'static str>| {
        let mut request = client
            .post(format!("{}{path}", recording.url()))
            .bearer_auth("dub_understudy_test")
            .json(&ada);
        if let Some(world) = world {
            request = request.header("X-Understudy-World", world);
        }
        request.send()
    };
    for (path, world) in [
        ("/__world/w1/partners".to_string(), None),
        ("/partners".to_string(), Some("w2")),
        ("/partners".to_string(), None),
    ] {
        let response = create(path.clone(), world).await.unwrap();
        assert_eq!(
            response.status().as_u16(),
            201,
            "{path} {world:?}: each world is new upstream"
        );
    }
    let default = recording.stop().await.unwrap();
    assert_eq!(default.log.entries.len(), 1);
    // The upstream Understudy kept the worlds apart: the selector reached it.
    assert_eq!(upstream.world("w1").unwrap().journal().count(), 1);
    assert_eq!(upstream.world("w2").unwrap().journal().count(), 1);
    for world in ["w1", "w2"] {
        let file = understudy::fixtures::record::world_file(&out, world);
        let har = Har::read(&file).expect("a recording per world");
        assert_eq!(har.log.entries.len(), 1, "{world}");
        let entry = &har.log.entries[0];
        assert!(
            entry.request.url.ends_with("/partners"),
            "{}",
            entry.request.url
        );
        assert!(
            entry
                .request
                .headers
                .iter()
                .all(|h| !h.name.eq_ignore_ascii_case("x-understudy-world")),
            "the selector is not recorded as a vendor header"
        );
        let text = std::fs::read_to_string(&file).unwrap();
        assert!(scan_file(&file, &text).is_empty(), "no credential on disk");
        assert!(!text.contains("dub_understudy_test"));
    }
}
