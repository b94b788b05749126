//! Every vendor's scenarios on two fresh fakes: spec, model and agreement checks all pass.

use understudy::VendorId;
use understudy_contract_tests::FakeBackend;
use understudy_contract_tests::run::RunConfig;
use understudy_contract_tests::vendors::run_vendor;

fn fake_against_fake(vendor: VendorId) {
    let primary = FakeBackend::start(vendor, &[]).expect("fake starts");
    let other = FakeBackend::start(vendor, &[]).expect("fake starts");
    let config = RunConfig {
        cases: 200,
        seed: 20261124,
        ..RunConfig::default()
    };
    let started = std::time::Instant::now();
    let report = run_vendor(vendor, &primary, Some(&other), &config).expect("runs");
    println!(
        "{vendor}: seed {}, {} cases, {} requests, {:.0} cases/s",
        config.seed,
        report.cases,
        report.requests,
        f64::from(config.cases) / started.elapsed().as_secs_f64()
    );
    assert!(report.failure.is_none(), "{vendor}: {:#?}", report.failure);
    assert!(
        report.requests >= 400,
        "{vendor}: {} requests",
        report.requests
    );
}

#[test]
fn dub() {
    fake_against_fake(VendorId::Dub);
}

#[test]
fn confluent() {
    fake_against_fake(VendorId::Confluent);
}

#[test]
fn enhance() {
    fake_against_fake(VendorId::Enhance);
}

#[test]
fn cloudcockpit() {
    fake_against_fake(VendorId::Cloudcockpit);
}

#[test]
fn archera() {
    fake_against_fake(VendorId::Archera);
}
