//! Fake against replay, for all five vendors: a seeded run against the fake is recorded through
//! Understudy's recording proxy (`--record`), then the same seed runs again with a fresh fake as
//! the target and the recording, served by Understudy's replay server, as the other side
//! (`--against replay:DIR`). Spec, model and agreement checks must all pass.

use understudy::VendorId;
use understudy_contract_tests::run::RunConfig;
use understudy_contract_tests::vendors::run_vendor;
use understudy_contract_tests::{FakeBackend, RecordingBackend, ReplayBackend};

/// Cases per vendor: with fake_vs_fake's 200 per vendor, thousands in all.
const CASES: u32 = 200;

fn fake_against_replay(vendor: VendorId) {
    let dir = std::env::temp_dir().join(format!("contract-replay-{vendor}-{}", std::process::id()));
    let config = RunConfig {
        cases: CASES,
        seed: 20261124,
        ..RunConfig::default()
    };
    let started = std::time::Instant::now();
    let target = FakeBackend::start(vendor, &[]).expect("fake starts");
    let recording = RecordingBackend::new(Box::new(target), vendor, &dir).expect("records");
    let recorded = run_vendor(vendor, &recording, None, &config).expect("runs");
    drop(recording);
    assert!(
        recorded.failure.is_none(),
        "{vendor}: {:#?}",
        recorded.failure
    );
    let recorded_in = started.elapsed();

    let replay = ReplayBackend::open(vendor, &dir).expect("the recording opens");
    assert_eq!(
        replay.cases(),
        recorded.cases as usize,
        "one fixture per case"
    );
    assert_no_credentials(&dir);
    let target = FakeBackend::start(vendor, &[]).expect("fake starts");
    let report = run_vendor(vendor, &target, Some(&replay), &config).expect("runs");
    println!(
        "{vendor}: seed {}, {} cases recorded in {:.2?}, replayed: {} requests, {:.0} cases/s",
        config.seed,
        report.cases,
        recorded_in,
        report.requests,
        f64::from(report.cases) / (started.elapsed() - recorded_in).as_secs_f64()
    );
    assert!(report.failure.is_none(), "{vendor}: {:#?}", report.failure);
    assert_eq!(report.backends[1], replay_name(&dir));
    // Passing, the run also checked that every recorded case and exchange was replayed.
    drop(replay);
    std::fs::remove_dir_all(&dir).expect("the temporary recording is removed");
}

fn replay_name(dir: &std::path::Path) -> String {
    format!("replay:{}", dir.display())
}

/// The fixtures hold placeholders, never the credentials the scenarios sent: Understudy's own
/// secret scan (`understudy fixtures lint`) finds nothing, nor does a search for the fake's
/// credential values.
fn assert_no_credentials(dir: &std::path::Path) {
    let findings = understudy::fixtures::scan::scan_tree(dir).expect("the recording is there");
    assert!(findings.is_empty(), "{findings:#?}");
    let credentials = [
        "understudy_test",
        "understudy_session",
        "understudy_reseller",
        "understudy_superadmin",
        "understudy_member",
        "understudy_customer",
        "confluent_link_understudy",
    ];
    for entry in std::fs::read_dir(dir).expect("the recording is there") {
        let path = entry.expect("readable").path();
        let text = std::fs::read_to_string(&path).expect("readable");
        if let Some(found) = credentials.iter().find(|c| text.contains(*c)) {
            panic!("{} holds a credential ({found})", path.display());
        }
        // Every credential header a request sent holds a placeholder (a case may send none:
        // its steps left the credentials out on purpose).
        let har: serde_json::Value = serde_json::from_str(&text).expect("a HAR file");
        let entries = har["log"]["entries"].as_array().expect("entries");
        for header in entries
            .iter()
            .flat_map(|e| e["request"]["headers"].as_array().into_iter().flatten())
        {
            let name = header["name"]
                .as_str()
                .unwrap_or_default()
                .to_ascii_lowercase();
            if ["authorization", "x-api-key", "cookie"].contains(&name.as_str()) {
                let value = header["value"].as_str().unwrap_or_default();
                assert!(
                    value.contains("<redacted:"),
                    "{}: {name}: {value}",
                    path.display()
                );
            }
        }
    }
}

#[test]
fn dub() {
    fake_against_replay(VendorId::Dub);
}

#[test]
fn confluent() {
    fake_against_replay(VendorId::Confluent);
}

#[test]
fn enhance() {
    fake_against_replay(VendorId::Enhance);
}

#[test]
fn cloudcockpit() {
    fake_against_replay(VendorId::Cloudcockpit);
}

#[test]
fn archera() {
    fake_against_replay(VendorId::Archera);
}

#[test]
fn a_run_that_departs_from_the_recording_fails_with_the_near_miss() {
    let vendor = VendorId::Dub;
    let dir = std::env::temp_dir().join(format!("contract-replay-miss-{}", std::process::id()));
    let config = |seed| RunConfig {
        cases: 10,
        seed,
        ..RunConfig::default()
    };
    let target = FakeBackend::start(vendor, &[]).expect("fake starts");
    let recording = RecordingBackend::new(Box::new(target), vendor, &dir).expect("records");
    let recorded = run_vendor(vendor, &recording, None, &config(1)).expect("runs");
    drop(recording);
    assert!(recorded.failure.is_none(), "{:#?}", recorded.failure);
    let replay = ReplayBackend::open(vendor, &dir).expect("the recording opens");
    let target = FakeBackend::start(vendor, &[]).expect("fake starts");
    // Another seed sends other requests: the replay server has no answer for them.
    let report = run_vendor(vendor, &target, Some(&replay), &config(2)).expect("runs");
    let failure = report
        .failure
        .expect("the replay does not match another seed");
    assert!(
        failure.reason.contains("no recorded exchange matches")
            || failure.reason.contains("unused"),
        "{}",
        failure.reason
    );
    drop(replay);
    std::fs::remove_dir_all(&dir).expect("the temporary recording is removed");
}

#[test]
fn a_shorter_run_than_the_recording_fails_after_its_last_case() {
    let vendor = VendorId::Cloudcockpit;
    let dir = std::env::temp_dir().join(format!("contract-replay-short-{}", std::process::id()));
    let config = |cases| RunConfig {
        cases,
        seed: 4,
        ..RunConfig::default()
    };
    let target = FakeBackend::start(vendor, &[]).expect("fake starts");
    let recording = RecordingBackend::new(Box::new(target), vendor, &dir).expect("records");
    run_vendor(vendor, &recording, None, &config(8)).expect("runs");
    drop(recording);
    let replay = ReplayBackend::open(vendor, &dir).expect("the recording opens");
    let target = FakeBackend::start(vendor, &[]).expect("fake starts");
    let report = run_vendor(vendor, &target, Some(&replay), &config(5)).expect("runs");
    let failure = report
        .failure
        .expect("three recorded cases were never replayed");
    assert!(
        failure.reason.contains("8 cases were recorded, 5 replayed"),
        "{}",
        failure.reason
    );
    drop(replay);
    std::fs::remove_dir_all(&dir).expect("the temporary recording is removed");
}
