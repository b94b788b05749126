//! The fake against each real vendor, when its environment variables are set; otherwise the
//! suite says, per vendor, that it was skipped and why.

use understudy::VendorId;
use understudy_contract_tests::FakeBackend;
use understudy_contract_tests::run::RunConfig;
use understudy_contract_tests::targets::real_vendor;
use understudy_contract_tests::vendors::run_vendor;

#[test]
fn real_vendors_against_the_fake_or_skipped_with_reason() {
    for vendor in VendorId::ALL {
        match real_vendor(vendor) {
            Err(why) => {
                assert!(why.contains("skipped: no credentials"), "{why}");
                println!("{why}");
            }
            Ok(real) => {
                let fake = FakeBackend::start(vendor, &[]).expect("fake starts");
                let config = RunConfig {
                    cases: 20,
                    seed: 1,
                    ..RunConfig::default()
                };
                let report = run_vendor(vendor, &real, Some(&fake), &config).expect("runs");
                assert!(report.failure.is_none(), "{vendor}: {:#?}", report.failure);
            }
        }
    }
}
