//! Fault and latency injection over real HTTP, strict: every status each of the 22 operations
//! documents can be forced and comes out spec-valid; error rates are reproducible; latency is
//! added; a dropped connection gets no response.

mod common;

use std::time::{Duration, Instant};

use common::{Fake, read};
use reqwest::Method;
use understudy::spec::SpecSet;

/// The operation's path with every parameter filled by a placeholder (forced answers are given
/// before the parameters are validated).
fn concrete(path: &str) -> String {
    let mut out = String::new();
    let mut rest = path;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let close = rest[open..].find('}').map_or(rest.len(), |c| open + c + 1);
        out.push_str("00000000-0000-4000-8000-000000000009");
        rest = &rest[close..];
    }
    out.push_str(rest);
    out
}

#[tokio::test]
async fn every_documented_status_of_every_operation_can_be_forced_with_prefer() {
    let fake = Fake::start().await;
    let specs = SpecSet::embedded().unwrap();
    let mut forced = 0;
    let mut failures = Vec::new();
    for vendor in understudy::VendorId::ALL {
        let spec = specs.vendor(vendor);
        for op in &spec.operations {
            let path = format!("/{}{}", op.vendor, concrete(&op.path));
            for status in op.documented_statuses() {
                let prefer = format!("code={status}");
                let response = fake
                    .send(
                        op.method.clone(),
                        &path,
                        &[("Prefer", prefer.as_str())],
                        None,
                    )
                    .await;
                let violation = response
                    .headers()
                    .get("x-understudy-contract-violation")
                    .map(|v| v.to_str().unwrap().to_string());
                let got = (response.status().as_u16(), violation);
                if got != (status, None) {
                    failures.push(format!("{} forced to {status}: {got:?}", op.operation_id));
                }
                forced += 1;
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert!(forced >= 22 * 5, "only {forced} statuses forced");
}

#[tokio::test]
async fn an_undocumented_status_is_not_forced() {
    let fake = Fake::start().await;
    let response = fake
        .send(
            Method::POST,
            "/dub/partners",
            &[("Prefer", "code=418")],
            None,
        )
        .await;
    assert_eq!(
        response.status().as_u16(),
        401,
        "the request went through normally"
    );
}

#[tokio::test]
async fn a_configured_fault_that_can_never_apply_stops_the_start() {
    for (rules, expected) in [
        (
            "[{vendor: dub, operation: createPartner, status: 418}]",
            "fault rule 0: status 418 is not documented for createPartner",
        ),
        (
            "[{vendor: dub, status: 500}, {vendor: enhance, operation: noSuchOperation}]",
            "fault rule 1: enhance has no operation \"noSuchOperation\"",
        ),
        (
            "[{vendor: confluent, status: 500, rate: 1.5}]",
            "fault rule 0: rate must be within",
        ),
    ] {
        let config = understudy::config::Config::with_overrides(&format!("faults: {rules}"))
            .expect("the YAML itself is well formed");
        let error = understudy::server::start(understudy::server::Options {
            addr: "127.0.0.1:0".parse().unwrap(),
            config,
            ..understudy::server::Options::default()
        })
        .await
        .err()
        .expect("the fake refuses to start");
        assert!(error.to_string().contains(expected), "{rules}: {error}");
    }
}

#[tokio::test]
async fn configured_error_rates_are_reproducible_across_runs() {
    let config =
        "faults: [{vendor: dub, operation: createPartner, status: 500, rate: 0.5, seed: 11}]";
    let mut runs = Vec::new();
    for _ in 0..2 {
        let fake = Fake::with_config(config).await;
        let mut pattern = Vec::new();
        for _ in 0..24 {
            let response = fake.send(Method::POST, "/dub/partners", &[], None).await;
            pattern.push(response.status().as_u16());
        }
        runs.push(pattern);
    }
    assert_eq!(runs[0], runs[1]);
    let failures = runs[0].iter().filter(|s| **s == 500).count();
    assert!(failures > 0 && failures < 24, "{:?}", runs[0]);
    assert!(runs[0].iter().all(|s| *s == 500 || *s == 401));
    // Other operations are untouched.
    let fake = Fake::with_config(config).await;
    for _ in 0..8 {
        let response = fake
            .send(Method::POST, "/dub/partners/links", &[], None)
            .await;
        assert_eq!(response.status().as_u16(), 401);
    }
}

#[tokio::test]
async fn latency_is_added_before_the_answer() {
    let fake =
        Fake::with_config("faults: [{vendor: cloudcockpit, latency: {kind: fixed, ms: 120}}]")
            .await;
    let started = Instant::now();
    let response = fake
        .send(
            Method::GET,
            "/cloudcockpit/v1/Customers/relationship-acceptance",
            &[],
            None,
        )
        .await;
    assert_eq!(response.status().as_u16(), 401);
    assert!(started.elapsed() >= Duration::from_millis(120));
    // Per request, through Prefer.
    let started = Instant::now();
    let response = fake
        .send(
            Method::POST,
            "/dub/partners",
            &[("Prefer", "latency=80")],
            None,
        )
        .await;
    assert_eq!(response.status().as_u16(), 401);
    assert!(started.elapsed() >= Duration::from_millis(80));
}

#[tokio::test]
async fn a_dropped_connection_gets_no_response() {
    let fake = Fake::start().await;
    let outcome = fake
        .client
        .post(fake.url("/dub/partners"))
        .header("Prefer", "drop")
        .send()
        .await;
    match outcome {
        Err(_) => {}
        Ok(response) => assert!(
            response.bytes().await.is_err(),
            "a response arrived in full"
        ),
    }
    // The server itself carries on.
    let (status, _, _) = read(fake.send(Method::POST, "/dub/partners", &[], None).await).await;
    assert_eq!(status, 401);
}
