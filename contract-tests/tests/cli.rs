//! The `contract-tests` binary: a passing fake-vs-fake run writes every report; a mutant fails
//! the run with the minimal sequence and the seed.

use std::process::Command;

fn contract_tests() -> Command {
    Command::new(env!("CARGO_BIN_EXE_contract-tests"))
}

#[test]
fn a_passing_run_writes_json_junit_and_coverage() {
    let dir = std::env::temp_dir().join(format!("contract-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = |name: &str| dir.join(name).to_string_lossy().into_owned();
    let output = contract_tests()
        .args([
            "run",
            "--vendor",
            "dub",
            "--target",
            "fake",
            "--against",
            "fake",
        ])
        .args(["--cases", "20", "--seed", "5"])
        .args(["--json", &path("run.json"), "--junit", &path("run.xml")])
        .args([
            "--coverage",
            &path("coverage.json"),
            "--html",
            &path("coverage.html"),
        ])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(stdout.contains("seed 5"), "{stdout}");
    let coverage: serde_json::Value =
        serde_json::from_slice(&std::fs::read(path("coverage.json")).unwrap()).unwrap();
    let created = &coverage["matrix"]["createPartner"]["201"];
    assert_eq!(created["target:fake"], true, "{coverage}");
    assert_eq!(created["against:fake"], true, "{coverage}");
    // Documented but never answered: shown as not seen.
    assert_eq!(
        coverage["matrix"]["createPartner"]["500"]["target:fake"],
        false
    );
    // The rate-limit scenarios exhaust the budget.
    assert_eq!(
        coverage["matrix"]["upsertPartnerLink"]["429"]["target:fake"],
        true
    );
    assert!(
        std::fs::read_to_string(path("run.xml"))
            .unwrap()
            .contains("failures=\"0\"")
    );
    assert!(
        std::fs::read_to_string(path("coverage.html"))
            .unwrap()
            .contains("createPartner")
    );
    let run: serde_json::Value =
        serde_json::from_slice(&std::fs::read(path("run.json")).unwrap()).unwrap();
    // Dub's partner scenarios, then its rate-limit scenarios: 20 cases each.
    assert_eq!(run["report"]["cases"], 40);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_mutant_fails_the_run_with_its_minimal_sequence() {
    let dir = std::env::temp_dir().join(format!("contract-cli-fail-{}", std::process::id()));
    let output = contract_tests()
        .args(["run", "--vendor", "confluent", "--target", "fake"])
        .args([
            "--mutant",
            "confluent.used-token-accepted",
            "--against",
            "fake",
        ])
        .args(["--cases", "50", "--seed", "9", "--failures"])
        .arg(&dir)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(1), "{stdout}");
    assert!(
        stdout.contains("FAILED at step") && stdout.contains("--seed 9"),
        "{stdout}"
    );
    assert!(
        dir.join("confluent-9.json").exists(),
        "the failure is persisted"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_recorded_run_replays_against_the_fake() {
    let dir = std::env::temp_dir().join(format!("contract-cli-record-{}", std::process::id()));
    let run = |extra: &[&str]| {
        let output = contract_tests()
            .args(["run", "--vendor", "confluent", "--target", "fake"])
            .args(["--cases", "15", "--seed", "11"])
            .args(extra)
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
        assert!(
            output.status.success(),
            "{stdout}{}",
            String::from_utf8_lossy(&output.stderr)
        );
        stdout
    };
    let recorded = run(&["--record", dir.to_str().unwrap()]);
    assert!(recorded.contains("recorded 15 cases"), "{recorded}");
    assert!(dir.join("confluent-000015.har").exists());
    let against = format!("replay:{}", dir.display());
    let replayed = run(&["--against", &against]);
    assert!(replayed.contains("ok: no divergence"), "{replayed}");
    // A longer run than the recording fails: case 16 has no fixture.
    let output = contract_tests()
        .args(["run", "--vendor", "confluent", "--target", "fake"])
        .args(["--cases", "16", "--seed", "11", "--against", &against])
        .args(["--failures", dir.join("failures").to_str().unwrap()])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(1), "{stdout}");
    assert!(
        stdout.contains("case 16 has no fixture") && stdout.contains("step 0"),
        "{stdout}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_url_target_is_reset_only_when_given_its_admin_url() {
    let dir = std::env::temp_dir().join(format!("contract-cli-url-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let served =
        understudy_contract_tests::FakeBackend::start(understudy::VendorId::Confluent, &[])
            .expect("fake starts");
    let url = understudy_contract_tests::Backend::http(&served)
        .expect("an HTTP backend")
        .base_url()
        .to_string();
    let admin = url.trim_end_matches("/confluent").to_string();
    let run = |cases: &str, extra: &[&str]| {
        let coverage = dir.join("coverage.json");
        let _ = std::fs::remove_file(&coverage);
        let output = contract_tests()
            .args([
                "run",
                "--vendor",
                "confluent",
                "--target",
                &url,
                "--against",
                "fake",
            ])
            .args(["--cases", cases, "--seed", "3", "--coverage"])
            .arg(&coverage)
            .args(extra)
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
        let coverage: serde_json::Value =
            serde_json::from_slice(&std::fs::read(&coverage).unwrap_or_default())
                .unwrap_or_default();
        (output.status.code(), stdout, coverage)
    };
    // Without its admin URL: nothing is reset, unique values are suffixed, nothing is forced.
    let (code, stdout, coverage) = run("40", &[]);
    assert_eq!(code, Some(0), "{stdout}");
    assert!(stdout.contains("suffixed with run id"), "{stdout}");
    assert_eq!(coverage["summary"]["forced"]["reached"], 0, "{stdout}");
    // With it: reset per case, the forced statuses sent and reached.
    let (code, stdout, coverage) = run("40", &["--target-admin", &admin]);
    assert_eq!(code, Some(0), "{stdout}");
    assert!(!stdout.contains("suffixed with run id"), "{stdout}");
    assert!(
        coverage["summary"]["forced"]["reached"].as_u64() > Some(0),
        "{stdout}"
    );
    // A coverage requirement the run falls short of fails it, naming what was missed.
    let (code, stdout, _) = run(
        "3",
        &["--target-admin", &admin, "--require-coverage", "100"],
    );
    assert_eq!(code, Some(1), "{stdout}");
    assert!(stdout.contains("coverage short:"), "{stdout}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn jobs_run_cases_side_by_side_each_in_its_own_world() {
    // The mutant run fails on purpose: its failure file goes to a scratch directory, not into
    // the tree.
    let failures = std::env::temp_dir().join(format!("understudy-jobs-{}", std::process::id()));
    let run = |extra: &[&str]| {
        let output = contract_tests()
            .args([
                "run",
                "--vendor",
                "enhance",
                "--target",
                "fake",
                "--against",
                "fake",
            ])
            .args(["--cases", "40", "--seed", "3", "--jobs", "3"])
            .args(["--failures", failures.to_str().unwrap()])
            .args(extra)
            .output()
            .unwrap();
        (
            output.status.code(),
            String::from_utf8_lossy(&output.stdout).into_owned(),
        )
    };
    let (code, stdout) = run(&[]);
    assert_eq!(code, Some(0), "{stdout}");
    assert!(
        stdout.contains("3 jobs, each case in a world of its own"),
        "{stdout}"
    );
    assert!(stdout.contains("--seed 3 --jobs 3"), "{stdout}");
    // A mutant is committed in every case's world, so the jobs still catch it.
    let (code, stdout) = run(&["--mutant", "enhance.duplicate-name-allowed"]);
    assert_eq!(code, Some(1), "{stdout}");
    assert!(stdout.contains("FAILED at step"), "{stdout}");
    assert!(
        failures.join("enhance-3.json").exists(),
        "persisted under the run's seed"
    );
    std::fs::remove_dir_all(&failures).unwrap();
}
