//! The harness's fake-against-model run: one vendor's scenarios on the in-process fake alone,
//! every step checked against the spec and the reference model. It is the test `scripts/mutants`
//! gives cargo-mutants: with no second backend (which would run the same mutated code), a
//! mutant in a vendor's module is caught only if the spec or the model disagrees with it.
//!
//! `UNDERSTUDY_MUTANTS_VENDOR` names the vendors, comma-separated (every vendor when unset), and
//! `UNDERSTUDY_MUTANTS_CASES` the cases per vendor (300 by default).

use understudy::VendorId;
use understudy_contract_tests::FakeBackend;
use understudy_contract_tests::run::RunConfig;
use understudy_contract_tests::vendors::run_vendor;

#[test]
fn fake_against_model() {
    let vendors: Vec<VendorId> = match std::env::var("UNDERSTUDY_MUTANTS_VENDOR") {
        Ok(name) => vec![
            name.parse()
                .expect("UNDERSTUDY_MUTANTS_VENDOR names a vendor"),
        ],
        Err(_) => VendorId::ALL.to_vec(),
    };
    let cases = std::env::var("UNDERSTUDY_MUTANTS_CASES")
        .ok()
        .map(|n| n.parse().expect("UNDERSTUDY_MUTANTS_CASES is a number"))
        .unwrap_or(300);
    for vendor in vendors {
        let fake = FakeBackend::start(vendor, &[]).expect("fake starts");
        let config = RunConfig {
            cases,
            seed: 42,
            ..RunConfig::default()
        };
        let report = run_vendor(vendor, &fake, None, &config).expect("runs");
        assert!(report.failure.is_none(), "{vendor}: {:#?}", report.failure);
        println!(
            "{vendor}: {} cases, {} requests",
            report.cases, report.requests
        );
    }
}
