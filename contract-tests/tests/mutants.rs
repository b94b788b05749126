//! The mutation score: every mutant in the fake's catalogue, run against a clean fake, must be
//! caught by the harness. Survivors are named.

use understudy::VendorId;
use understudy_contract_tests::FakeBackend;
use understudy_contract_tests::run::RunConfig;
use understudy_contract_tests::vendors::run_vendor;

#[test]
fn every_mutant_is_killed() {
    let catalogue = understudy::vendors::mutant_catalogue();
    let mut survivors = Vec::new();
    for (name, what) in &catalogue {
        let vendor: VendorId = name
            .split('.')
            .next()
            .and_then(|v| v.parse().ok())
            .expect("mutant names start with their vendor");
        let mutant = FakeBackend::start(vendor, &[name]).expect("fake starts");
        let clean = FakeBackend::start(vendor, &[]).expect("fake starts");
        let config = RunConfig {
            cases: 60,
            seed: 7,
            ..RunConfig::default()
        };
        let report = run_vendor(vendor, &mutant, Some(&clean), &config).expect("runs");
        match report.failure {
            Some(failure) => println!(
                "killed {name}: step {}: {}",
                failure.step,
                failure.reason.lines().next().unwrap_or("")
            ),
            None => survivors.push(format!("{name} ({what})")),
        }
    }
    let killed = catalogue.len() - survivors.len();
    println!("mutation score: {killed}/{}", catalogue.len());
    assert!(catalogue.len() >= 17);
    assert!(
        survivors.is_empty(),
        "surviving mutants:\n{}",
        survivors.join("\n")
    );
}
