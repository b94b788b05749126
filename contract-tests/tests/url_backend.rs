//! Any base URL is a backend, its credentials replacing the scenario's: right credentials pass
//! against the in-process fake, wrong ones are caught on the first step.

use understudy::VendorId;
use understudy_contract_tests::run::RunConfig;
use understudy_contract_tests::vendors::run_vendor;
use understudy_contract_tests::{FakeBackend, HttpBackend};

/// A fake serving every vendor, started outside the harness: to the harness it is just a URL.
fn serving_fake() -> (tokio::runtime::Runtime, understudy::server::Running) {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let options = understudy::server::Options {
        addr: "127.0.0.1:0".parse().unwrap(),
        config: understudy::config::Config::with_overrides("rate_limits: {dub: null}\n").unwrap(),
        ..Default::default()
    };
    let running = runtime
        .block_on(understudy::server::start(options))
        .unwrap();
    (runtime, running)
}

#[test]
fn a_url_with_its_own_credentials_is_compared_with_the_fake() {
    let (runtime, running) = serving_fake();
    let config = RunConfig {
        cases: 30,
        seed: 11,
        ..RunConfig::default()
    };
    let reference = FakeBackend::start(VendorId::Dub, &[]).unwrap();
    let good = HttpBackend::new("url", format!("{}/dub", running.url()))
        .with_admin(running.url())
        .with_credentials(vec![(
            "authorization".into(),
            "Bearer dub_understudy_test".into(),
        )]);
    let report = run_vendor(VendorId::Dub, &good, Some(&reference), &config).unwrap();
    assert!(report.failure.is_none(), "{:#?}", report.failure);

    let wrong = HttpBackend::new("url", format!("{}/dub", running.url()))
        .with_admin(running.url())
        .with_credentials(vec![("Authorization".into(), "Bearer dub_wrong".into())]);
    let report = run_vendor(VendorId::Dub, &wrong, Some(&reference), &config).unwrap();
    let failure = report.failure.expect("wrong credentials are caught");
    assert_eq!(failure.step, 0);
    assert!(
        failure.reason.contains("answered 401"),
        "{}",
        failure.reason
    );
    runtime.block_on(running.stop()).unwrap();
}
