//! Every vendor's scenarios on two fresh fakes: spec, model and agreement checks all pass.

use understudy::VendorId;
use understudy_contract_tests::FakeBackend;
use understudy_contract_tests::run::RunConfig;
use understudy_contract_tests::vendors::run_vendor;

fn fake_against_fake(vendor: VendorId) {
    let primary = FakeBackend::start(vendor, &[]).expect("fake starts");
    let other = FakeBackend::start(vendor, &[]).expect("fake starts");
    let config = RunConfig {
        cases: 40,
        seed: 20261124,
        failures_dir: None,
    };
    println!("{vendor}: seed {}", config.seed);
    let report = run_vendor(vendor, &primary, Some(&other), &config).expect("runs");
    assert!(report.failure.is_none(), "{vendor}: {:#?}", report.failure);
    assert!(
        report.requests >= 80,
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
