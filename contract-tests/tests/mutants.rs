//! The mutation score: every mutant in the fake's catalogue, run against a clean fake, must be
//! caught by the harness. Survivors are named.

use understudy::VendorId;
use understudy_contract_tests::FakeBackend;
use understudy_contract_tests::run::RunConfig;
use understudy_contract_tests::vendors::run_vendor;

#[test]
fn every_mutant_is_killed() {
    let catalogue = understudy::mutants::catalogue();
    let mut survivors = Vec::new();
    for (name, what) in catalogue.iter().map(|m| (m.name(), m.what())) {
        let vendor: VendorId = name
            .split('.')
            .next()
            .and_then(|v| v.parse().ok())
            .expect("mutant names start with their vendor");
        let mutant = FakeBackend::start(vendor, &[name]).expect("fake starts");
        let clean = FakeBackend::start(vendor, &[]).expect("fake starts");
        // Enough cases that each rule's pair of steps (the same tenant twice, the same URL
        // twice) turns up among the negative steps.
        let config = RunConfig {
            cases: 200,
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
    assert!(catalogue.len() >= 25, "{} mutants", catalogue.len());
    assert!(
        catalogue
            .iter()
            .any(|m| m.name() == "dub.rate-limit-reset-seconds"),
        "the pipeline-level rate-limit mutant is catalogued"
    );
    assert!(
        survivors.is_empty(),
        "surviving mutants:\n{}",
        survivors.join("\n")
    );
}

#[test]
fn a_lenient_fake_breaking_the_spec_is_caught_by_the_harness_itself() {
    // Lenient: no diagnosed 500, the broken body goes out as a real vendor would send it.
    let mutant = FakeBackend::start_with(VendorId::Dub, &["dub.partner-status-wrong-enum"], false)
        .expect("fake starts");
    let config = RunConfig {
        cases: 30,
        seed: 3,
        ..RunConfig::default()
    };
    let report = run_vendor(VendorId::Dub, &mutant, None, &config).expect("runs");
    let failure = report.failure.expect("the broken enum is caught");
    assert!(
        failure.reason.contains("breaks the spec"),
        "{}",
        failure.reason
    );
    assert!(failure.reason.contains("/status"), "{}", failure.reason);
    assert!(
        !failure.reason.contains("contract violation"),
        "{}",
        failure.reason
    );
}
