//! Any base URL is a backend, its credentials replacing the scenario's: right credentials pass
//! against the in-process fake, wrong ones are caught on the first step. A URL no one resets
//! takes runs of many cases, run after run; an Understudy reached with its admin URL is reset
//! per case and gets the forced steps too.

use understudy::VendorId;
use understudy_contract_tests::run::RunConfig;
use understudy_contract_tests::vendors::run_vendor;
use understudy_contract_tests::{FakeBackend, HttpBackend};

/// A fake serving every vendor, started outside the harness: to the harness it is just a URL.
fn serving_fake() -> (tokio::runtime::Runtime, understudy::server::Running) {
    serving("rate_limits: {dub: null}\n")
}

/// A fake serving every vendor with the default configuration and `overrides`.
fn serving(overrides: &str) -> (tokio::runtime::Runtime, understudy::server::Running) {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let options = understudy::server::Options {
        addr: "127.0.0.1:0".parse().unwrap(),
        config: understudy::config::Config::with_overrides(overrides).unwrap(),
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

#[test]
fn a_url_no_one_resets_takes_runs_of_many_cases_for_every_vendor() {
    // As `understudy serve` starts: random ids, Dub's own rate limit.
    let (runtime, running) = serving("{}");
    let config = RunConfig {
        cases: 100,
        seed: 7,
        ..RunConfig::default()
    };
    for vendor in VendorId::ALL {
        let target = HttpBackend::new("url", format!("{}/{vendor}", running.url()));
        let fake = FakeBackend::start(vendor, &[]).unwrap();
        let report = run_vendor(vendor, &target, Some(&fake), &config).unwrap();
        assert!(report.failure.is_none(), "{vendor}: {:#?}", report.failure);
        assert!(
            report.run_id.is_some(),
            "{vendor}: unique values are suffixed"
        );
        assert!(report.forced.is_empty(), "{vendor}: no Prefer to a URL");
        if vendor == VendorId::Dub {
            let skipped = report.skipped.join("\n");
            assert!(
                skipped.contains("DubRateLimit: skipped") && skipped.contains("admin"),
                "{skipped}"
            );
        }
    }
    // Run after run: the second meets everything the first left, and passes.
    for vendor in [VendorId::Confluent, VendorId::Archera, VendorId::Enhance] {
        let target = HttpBackend::new("url", format!("{}/{vendor}", running.url()));
        let fake = FakeBackend::start(vendor, &[]).unwrap();
        let report = run_vendor(vendor, &target, Some(&fake), &config).unwrap();
        assert!(
            report.failure.is_none(),
            "{vendor} again: {:#?}",
            report.failure
        );
        // What the models could not know is said, not guessed.
        assert!(
            report
                .unpredicted
                .keys()
                .any(|why| why.starts_with("url: status and body not predicted")),
            "{vendor}: {:#?}",
            report.unpredicted
        );
    }
    runtime.block_on(running.stop()).unwrap();
}

#[test]
fn an_understudy_reset_through_its_admin_url_gets_every_step_and_keeps_its_rate_limit() {
    let (runtime, running) = serving("{}");
    let admin = |path: &str| {
        reqwest::blocking::get(format!("{}/__understudy{path}", running.url()))
            .unwrap()
            .json::<serde_json::Value>()
            .unwrap()
    };
    let limits = admin("/rate-limits");
    let config = RunConfig {
        cases: 60,
        seed: 7,
        ..RunConfig::default()
    };
    for vendor in [VendorId::Dub, VendorId::Confluent] {
        let target = HttpBackend::new("url", format!("{}/{vendor}", running.url()))
            .with_admin(running.url())
            .resetting_only(vendor);
        let fake = FakeBackend::start(vendor, &[]).unwrap();
        let report = run_vendor(vendor, &target, Some(&fake), &config).unwrap();
        assert!(report.failure.is_none(), "{vendor}: {:#?}", report.failure);
        assert!(
            report.run_id.is_none(),
            "{vendor}: a reset target needs no suffixes"
        );
        assert!(report.skipped.is_empty(), "{:?}", report.skipped);
        assert!(report.unpredicted.is_empty(), "{:?}", report.unpredicted);
        assert!(
            report.forced.iter().any(|(_, _, backend)| backend == "url"),
            "{vendor}: forced steps reach the target"
        );
    }
    // The rate-limit scenarios set a budget of 3 per minute; the target has its own back.
    assert_eq!(admin("/rate-limits"), limits);
    runtime.block_on(running.stop()).unwrap();
}
