//! The drift report over the committed fixtures: clean where the fake agrees, and catching a
//! difference introduced on purpose, both in the library and through `understudy drift`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::{Value, json};
use understudy::VendorId;
use understudy::fixtures::drift::drift;
use understudy::fixtures::har::Har;
use understudy::fixtures::replay::load;
use understudy::server::Options;

fn fixtures(vendor: VendorId) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../fixtures")
        .join(vendor.name())
}

/// Secrets the scenarios used beyond the fake's default credentials (which drift fills in).
fn secrets() -> BTreeMap<String, String> {
    [
        ("<redacted:confluent-token:2>", "confluent_link_understudy"),
        (
            "<redacted:cloudcockpit-token:1>",
            "cloudcockpit_understudy_reseller",
        ),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect()
}

#[tokio::test]
async fn the_fake_agrees_with_every_committed_recording() {
    for vendor in VendorId::ALL {
        let report = drift(
            vendor,
            &load(&fixtures(vendor)).unwrap(),
            Options::default(),
            &secrets(),
        )
        .await
        .unwrap();
        assert!(!report.operations.is_empty(), "{vendor}");
        for (op, drift) in &report.operations {
            assert_eq!(
                drift.fake_differences,
                Vec::<String>::new(),
                "{vendor} {op}"
            );
            // Only Dub's scenario breaks the spec, on purpose (a partner without programId).
            assert_eq!(
                drift.spec_violations.is_empty(),
                vendor != VendorId::Dub,
                "{vendor} {op}: {:?}",
                drift.spec_violations
            );
        }
    }
}

/// Dub's fixture with its first answer changed: another status and a field of another type.
fn tampered_dub(test: &str) -> PathBuf {
    let mut har = Har::read(&fixtures(VendorId::Dub).join("onboarding.har")).unwrap();
    let response = &mut har.log.entries[0].response;
    response.status = 200;
    let mut body: Value = serde_json::from_str(response.content.text.as_deref().unwrap()).unwrap();
    body["name"] = json!(42);
    response.content.text = Some(body.to_string());
    let file = std::env::temp_dir()
        .join(format!("understudy-drift-{}", std::process::id()))
        .join(test)
        .join("tampered.har");
    har.write(&file).unwrap();
    file
}

#[tokio::test]
async fn a_difference_introduced_on_purpose_is_reported() {
    let file = tampered_dub("library");
    let report = drift(
        VendorId::Dub,
        &load(&file).unwrap(),
        Options::default(),
        &BTreeMap::new(),
    )
    .await
    .unwrap();
    assert!(!report.is_clean());
    assert_eq!(
        report.operations["createPartner"].fake_differences,
        vec![
            "#1: status: fake 201, recorded 200".to_string(),
            "#1: body /name: fake string, recorded number".to_string()
        ]
    );
    let table = report.table();
    assert!(
        table.contains("createPartner") && table.contains("status: fake 201, recorded 200"),
        "{table}"
    );
}

#[test]
fn the_drift_command_prints_a_table_writes_json_and_fails_on_drift() {
    let file = tampered_dub("command");
    let json_out = file.with_file_name("drift.json");
    let output = Command::new(env!("CARGO_BIN_EXE_understudy"))
        .args(["drift", "--vendor", "dub", "--fail-on-drift", "--json"])
        .arg(&json_out)
        .arg(&file)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(!output.status.success(), "drift fails the run: {stdout}");
    assert!(
        stdout.contains("fake differences") && stdout.contains("createPartner"),
        "{stdout}"
    );
    let report: Value = serde_json::from_str(&std::fs::read_to_string(&json_out).unwrap()).unwrap();
    assert_eq!(report["vendor"], "dub");
    assert_eq!(
        report["operations"]["createPartner"]["fake_differences"]
            .as_array()
            .map(Vec::len),
        Some(2)
    );
    assert_eq!(
        report["operations"]["createPartner"]["spec_violations"]
            .as_array()
            .map(Vec::len),
        Some(3)
    );
}

/// A configuration whose only Dub key is not the default one: the committed Dub recording (made
/// with the default key, redacted to `<redacted:dub-token:1>`) must still replay against it.
const CUSTOM_DUB: &str = "\
dub:
  workspaces:
    - id: ws_understudy
      plan: business
      tokens: [dub_drift_custom_key]
      programs:
        - {id: prog_understudy, domain: understudy.link, url: https://understudy.example}
        - {id: prog_understudy_beta, domain: beta.understudy.link, url: https://beta.understudy.example}
";

fn custom_options() -> Options {
    Options {
        config: understudy::config::Config::with_overrides(CUSTOM_DUB).unwrap(),
        ..Options::default()
    }
}

#[tokio::test]
async fn placeholders_become_the_configured_credentials_of_the_fake() {
    let recorded = load(&fixtures(VendorId::Dub)).unwrap();
    let report = drift(VendorId::Dub, &recorded, custom_options(), &BTreeMap::new())
        .await
        .unwrap();
    for (op, drift) in &report.operations {
        assert_eq!(drift.fake_differences, Vec::<String>::new(), "{op}");
    }
    // The default key is not one the configured fake knows: mapped by hand to it, every
    // exchange is a 401, which is what drift reported before it read the configuration.
    let secrets = BTreeMap::from([(
        "<redacted:dub-token>".to_string(),
        "dub_understudy_test".to_string(),
    )]);
    let report = drift(VendorId::Dub, &recorded, custom_options(), &secrets)
        .await
        .unwrap();
    let differences: Vec<&String> = report
        .operations
        .values()
        .flat_map(|d| &d.fake_differences)
        .collect();
    assert!(
        differences.iter().any(|d| d.contains("status: fake 401")),
        "{differences:?}"
    );
}

#[test]
fn the_drift_command_starts_the_fake_from_a_config_file() {
    let dir = std::env::temp_dir().join(format!("understudy-drift-{}-config", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let config = dir.join("custom.yaml");
    std::fs::write(&config, CUSTOM_DUB).unwrap();
    let secrets = dir.join("secrets.yaml");
    std::fs::write(&secrets, "'<redacted:dub-token>': dub_drift_custom_key\n").unwrap();
    // How many fake differences `understudy drift` reports over the Dub fixture.
    let run = |config: Option<&Path>, secrets: Option<&Path>| {
        let json_out = dir.join("report.json");
        let mut command = Command::new(env!("CARGO_BIN_EXE_understudy"));
        command
            .args(["drift", "--vendor", "dub", "--json"])
            .arg(&json_out);
        if let Some(config) = config {
            command.arg("--config").arg(config);
        }
        if let Some(secrets) = secrets {
            command.arg("--secrets").arg(secrets);
        }
        let output = command.arg(fixtures(VendorId::Dub)).output().unwrap();
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        let report: Value =
            serde_json::from_str(&std::fs::read_to_string(&json_out).unwrap()).unwrap();
        report["operations"]
            .as_object()
            .unwrap()
            .values()
            .map(|op| op["fake_differences"].as_array().unwrap().len())
            .sum::<usize>()
    };
    assert!(
        run(None, Some(&secrets)) > 0,
        "the default fake does not know the custom key"
    );
    assert_eq!(
        run(Some(&config), Some(&secrets)),
        0,
        "so with --config the fake was started from the file"
    );
    assert_eq!(
        run(Some(&config), None),
        0,
        "and the placeholders map onto its key without being told"
    );
    let broken = dir.join("broken.yaml");
    std::fs::write(&broken, "dub: {workspaces: 3}\n").unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_understudy"))
        .args(["drift", "--vendor", "dub", "--config"])
        .arg(&broken)
        .arg(fixtures(VendorId::Dub))
        .output()
        .unwrap();
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("broken.yaml"));
}
