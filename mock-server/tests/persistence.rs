//! `--state-file` with the real binary: state survives a graceful restart, a process killed
//! in the middle of its write loop always leaves a file that loads, nothing is served before
//! the state is loaded, and in `--durable` mode every acknowledged write survives `kill -9`.

mod common;

use std::path::Path;
use std::process::{Child, Command, Stdio};

use serde_json::{Value, json};

/// The binary serving on an ephemeral loopback port, and its base URL.
fn serve(args: &[&str]) -> (Child, String) {
    let spawned = common::binary::spawn(common::binary::serve_command(args));
    (spawned.child, spawned.url)
}

fn create_partner(client: &reqwest::blocking::Client, url: &str, n: usize) -> u16 {
    client
        .post(format!("{url}/dub/partners"))
        .bearer_auth("dub_understudy_test")
        .json(&json!({"programId": "prog_understudy", "name": format!("P {n}"), "email": format!("p{n}@example.com"), "username": format!("p{n}")}))
        .send()
        .unwrap()
        .status()
        .as_u16()
}

fn state(client: &reqwest::blocking::Client, url: &str) -> Value {
    client
        .get(format!("{url}/__understudy/state"))
        .send()
        .unwrap()
        .json()
        .unwrap()
}

fn terminate(child: &mut Child) {
    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    assert!(child.wait().unwrap().success(), "a graceful exit");
}

fn partners(document: &Value) -> usize {
    document["vendors"]["dub"]["partners"]
        .as_object()
        .map_or(0, |m| m.len())
}

#[test]
fn state_survives_a_graceful_restart() {
    let dir = tempdir("restart");
    let file = dir.join("state.json");
    let file = file.to_str().unwrap();
    let client = reqwest::blocking::Client::new();
    let (mut first, url) = serve(&["--state-file", file]);
    for n in 0..3 {
        assert_eq!(create_partner(&client, &url, n), 201);
    }
    let before = state(&client, &url);
    terminate(&mut first);
    let written: Value = serde_json::from_str(&std::fs::read_to_string(file).unwrap()).unwrap();
    assert_eq!(written, before);

    let (mut second, url) = serve(&["--state-file", file]);
    assert_eq!(state(&client, &url), before);
    // The restored partner is known: creating it again is a conflict.
    assert_eq!(create_partner(&client, &url, 0), 409);
    terminate(&mut second);
}

#[test]
fn a_kill_during_the_write_loop_leaves_a_file_that_loads() {
    let dir = tempdir("kill");
    let file = dir.join("state.json");
    let file_arg = file.to_str().unwrap();
    let client = reqwest::blocking::Client::new();
    for round in 0..3 {
        let (mut child, url) = serve(&["--state-file", file_arg, "--state-interval-ms", "1"]);
        let start = partners(&state(&client, &url));
        for n in 0..(20 + round * 7) {
            create_partner(&client, &url, 1000 * round + n);
        }
        // The loop writes every millisecond, but a loaded machine may not have finished the
        // first write yet: wait (bounded) until this process has written one.
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        while partners_on_disk(&file) <= start && std::time::Instant::now() < deadline {
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
        // SIGKILL: no chance to finish a write or clean up.
        child.kill().unwrap();
        child.wait().unwrap();
        let text = std::fs::read_to_string(&file).expect("a state file exists");
        let document: Value = serde_json::from_str(&text).expect("the file is whole JSON");
        assert!(partners(&document) >= start, "round {round}");
        // And the binary loads it.
        let (mut again, url) = serve(&["--state-file", file_arg]);
        assert_eq!(state(&client, &url), document, "round {round}");
        terminate(&mut again);
    }
    // A killed writer may leave a temporary file; the next start clears it.
    let leftovers = std::fs::read_dir(&dir).unwrap().count();
    assert_eq!(leftovers, 1, "only the state file remains");
}

fn partners_on_disk(file: &Path) -> usize {
    std::fs::read_to_string(file)
        .ok()
        .and_then(|text| serde_json::from_str::<Value>(&text).ok())
        .map_or(0, |document| partners(&document))
}

#[test]
fn a_corrupt_state_file_stops_the_start_with_a_message() {
    let dir = tempdir("corrupt");
    let file = dir.join("state.json");
    std::fs::write(
        &file,
        "{\"format\": \"understudy-state/1\", \"vendors\": {\"dub\": 5}}",
    )
    .unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_understudy"))
        .args([
            "serve",
            "--port",
            "0",
            "--state-file",
            file.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("state.json"), "{stderr}");
}

fn tempdir(name: &str) -> std::path::PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("persistence-{name}"));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// A loopback port that was free a moment ago.
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// The binary on `port`, its log drained and not waited for: the caller connects as soon as
/// the port answers, as a client polling the port would.
fn spawn_on(port: u16, args: &[&str]) -> Child {
    Command::new(env!("CARGO_BIN_EXE_understudy"))
        .args(["serve", "--port", &port.to_string()])
        .args(args)
        .env("RUST_LOG", "warn")
        .stderr(Stdio::null())
        .stdout(Stdio::null())
        .spawn()
        .expect("the binary starts")
}

/// Creates a partner the moment the port accepts a connection (bounded: 60 s).
fn create_as_soon_as_listening(client: &reqwest::blocking::Client, port: u16, n: usize) -> u16 {
    let url = format!("http://127.0.0.1:{port}");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    loop {
        match client
            .post(format!("{url}/dub/partners"))
            .bearer_auth("dub_understudy_test")
            .json(&json!({"programId": "prog_understudy", "name": format!("P {n}"), "email": format!("p{n}@example.com"), "username": format!("p{n}")}))
            .send()
        {
            Ok(response) => return response.status().as_u16(),
            Err(error) if error.is_connect() && std::time::Instant::now() < deadline => {
                std::thread::sleep(std::time::Duration::from_millis(1));
            }
            Err(error) => panic!("the server never answered: {error}"),
        }
    }
}

/// A state document with `count` Dub partners, built from the export of a fresh fake with one
/// partner: large enough that loading it takes a while.
fn large_state(client: &reqwest::blocking::Client, count: usize) -> Value {
    let (mut child, url) = serve(&[]);
    assert_eq!(create_partner(client, &url, 0), 201);
    let mut document = state(client, &url);
    terminate(&mut child);
    let dub = &mut document["vendors"]["dub"];
    let (_, template) = dub["partners"].as_object().unwrap().iter().next().unwrap();
    let template = template.clone();
    let enrollment = dub["enrollments"][0].clone();
    let (mut partners, mut enrollments) = (serde_json::Map::new(), Vec::new());
    for n in 0..count {
        let id = format!("pn_bulk{n:07}");
        let mut partner = template.clone();
        partner["id"] = json!(id);
        partner["email"] = json!(format!("bulk{n}@example.com"));
        partner["name"] = json!(format!("Bulk {n}"));
        partners.insert(id.clone(), partner);
        let mut enrolled = enrollment.clone();
        enrolled["partner_id"] = json!(id);
        enrolled["tenant_id"] = Value::Null;
        enrollments.push(enrolled);
    }
    dub["partners"] = Value::Object(partners);
    dub["enrollments"] = Value::Array(enrollments);
    // The template's own link would clash with round 0's partner.
    dub["links"] = json!({});
    document
}

fn has_partner(document: &Value, email: &str) -> bool {
    document["vendors"]["dub"]["partners"]
        .as_object()
        .is_some_and(|partners| partners.values().any(|p| p["email"] == email))
}

/// Defect 4: a write acknowledged the moment the port answers is not overwritten by the load,
/// with --state-file (checked in the file written at shutdown) and with --seed-state.
#[test]
fn a_write_acknowledged_at_start_is_not_overwritten_by_the_load() {
    let dir = tempdir("load-first");
    let client = reqwest::blocking::Client::new();
    let seed = dir.join("seed.json");
    std::fs::write(&seed, large_state(&client, 20_000).to_string()).unwrap();
    let seed_arg = seed.to_str().unwrap();
    let config = dir.join("config.yaml");
    std::fs::write(&config, "max_resources: 100000\n").unwrap();
    let config_arg = config.to_str().unwrap();
    let file = dir.join("state.json");
    let file_arg = file.to_str().unwrap();
    let (mut lost, mut unloaded) = (Vec::new(), Vec::new());
    for round in 0..20 {
        let email = format!("p{round}@example.com");
        let (flag, arg) = if round % 2 == 0 {
            std::fs::copy(&seed, &file).unwrap();
            ("--state-file", file_arg)
        } else {
            ("--seed-state", seed_arg)
        };
        let port = free_port();
        let mut child = spawn_on(port, &["--config", config_arg, flag, arg]);
        assert_eq!(
            create_as_soon_as_listening(&client, port, round),
            201,
            "round {round}"
        );
        let url = format!("http://127.0.0.1:{port}");
        let served = state(&client, &url);
        if !has_partner(&served, "bulk19999@example.com") {
            unloaded.push(round);
        }
        terminate(&mut child);
        let kept = if flag == "--state-file" {
            serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap()
        } else {
            served
        };
        if !has_partner(&kept, &email) {
            lost.push(round);
        }
    }
    assert!(
        lost.is_empty() && unloaded.is_empty(),
        "acknowledged writes lost in rounds {lost:?}; served before the state was in in rounds {unloaded:?}"
    );
}

/// Defect 5: with --durable, every acknowledged write survives kill -9, and the state after
/// recovery is exactly the state before the kill (ids included), across rounds that each add
/// writes on top of the last recovery, with snapshots (every 20 ms) and admin changes between.
#[test]
fn every_write_acknowledged_in_durable_mode_survives_kill_9() {
    let dir = tempdir("durable");
    let file = dir.join("state.json");
    let file_arg = file.to_str().unwrap();
    let client = reqwest::blocking::Client::new();
    let mut acknowledged: Vec<String> = Vec::new();
    for round in 0..4 {
        let interval = ["--state-interval-ms", "20"];
        let args: &[&str] = if round % 2 == 0 {
            &["--state-file", file_arg, "--durable"]
        } else {
            &[
                "--state-file",
                file_arg,
                "--durable",
                interval[0],
                interval[1],
            ]
        };
        let (mut child, url) = serve(args);
        if round == 2 {
            // An admin change is as durable as a logged one once acknowledged.
            let status = client
                .post(format!("{url}/__understudy/vendors/enhance/reset"))
                .send()
                .unwrap()
                .status();
            assert_eq!(status, 204);
        }
        // Eight concurrent writers, so records share syncs.
        let created: Vec<String> = std::thread::scope(|scope| {
            let writers: Vec<_> = (0..8)
                .map(|writer| {
                    let (client, url) = (client.clone(), url.clone());
                    scope.spawn(move || {
                        let mut mine = Vec::new();
                        for k in 0..(10 + round * 5) {
                            let n = 100_000 * (round + 1) + 1000 * writer + k;
                            if create_partner(&client, &url, n) == 201 {
                                mine.push(format!("p{n}@example.com"));
                            }
                        }
                        mine
                    })
                })
                .collect();
            writers
                .into_iter()
                .flat_map(|w| w.join().unwrap())
                .collect()
        });
        assert_eq!(
            created.len(),
            8 * (10 + round * 5),
            "round {round}: every create answered 201"
        );
        acknowledged.extend(created);
        // A write to a second vendor, with ids of its own.
        let enhance = client
            .post(format!(
                "{url}/enhance/orgs/00000000-0000-4000-8000-000000000001/customers"
            ))
            .bearer_auth("enhance_understudy_test")
            .json(&json!({"name": format!("Customer {round}")}))
            .send()
            .unwrap()
            .status()
            .as_u16();
        let before = state(&client, &url);
        child.kill().unwrap();
        child.wait().unwrap();

        let (mut again, url) = serve(&["--state-file", file_arg, "--durable"]);
        let after = state(&client, &url);
        let missing: Vec<&String> = acknowledged
            .iter()
            .filter(|email| !has_partner(&after, email))
            .collect();
        assert!(
            missing.is_empty(),
            "round {round}: {} acknowledged writes lost: {missing:?}",
            missing.len()
        );
        assert_eq!(
            after, before,
            "round {round}: the recovered state is the state before the kill (enhance answered {enhance})"
        );
        terminate(&mut again);
    }
    // The log was folded into the state file at the last graceful stop.
    let segments: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().contains(".log."))
        .collect();
    assert!(
        segments.is_empty(),
        "no log segment is left after a graceful stop"
    );
    let text = std::fs::read_to_string(&file).unwrap();
    assert!(
        !text.contains("dub_understudy_test"),
        "no credential in the state file"
    );
}

/// The durable log stores no credential: only fingerprints, and no credential header.
#[test]
fn the_durable_log_holds_no_credentials() {
    let dir = tempdir("durable-secrets");
    let file = dir.join("state.json");
    let client = reqwest::blocking::Client::new();
    let (mut child, url) = serve(&["--state-file", file.to_str().unwrap(), "--durable"]);
    assert_eq!(create_partner(&client, &url, 1), 201);
    child.kill().unwrap();
    child.wait().unwrap();
    let log = std::fs::read_dir(&dir)
        .unwrap()
        .flatten()
        .find(|e| e.file_name().to_string_lossy().contains(".log."))
        .expect("a log segment");
    let text = std::fs::read_to_string(log.path()).unwrap();
    assert!(
        text.contains("p1@example.com"),
        "the change is logged: {text}"
    );
    assert!(!text.contains("dub_understudy_test"), "{text}");
    assert!(
        !text.to_ascii_lowercase().contains("authorization"),
        "{text}"
    );
}

/// Defect 13: what one stored string may cost is bounded where requests are validated: an
/// Enhance customer name over 255 characters is a 400, a Dub partner image URL over 2048 a 422,
/// and the state holds neither.
#[test]
fn an_oversized_stored_string_is_refused_with_the_vendors_4xx() {
    let client = reqwest::blocking::Client::new();
    let (mut child, url) = serve(&[]);
    let customers = format!("{url}/enhance/orgs/00000000-0000-4000-8000-000000000001/customers");
    let create_customer = |name: String| {
        client
            .post(&customers)
            .bearer_auth("enhance_understudy_test")
            .json(&json!({ "name": name }))
            .send()
            .unwrap()
            .status()
            .as_u16()
    };
    assert_eq!(create_customer("n".repeat(256)), 400);
    assert_eq!(
        create_customer("n".repeat(1 << 20).chars().take(900_000).collect()),
        400
    );
    assert_eq!(create_customer("n".repeat(255)), 201);
    let image = format!("https://example.com/{}", "i".repeat(2048));
    let status = client
        .post(format!("{url}/dub/partners"))
        .bearer_auth("dub_understudy_test")
        .json(&json!({"programId": "prog_understudy", "name": "Big", "email": "big@example.com", "username": "big", "image": image}))
        .send()
        .unwrap()
        .status()
        .as_u16();
    assert_eq!(status, 422);
    let document = state(&client, &url).to_string();
    assert!(
        !document.contains(&"n".repeat(256)),
        "the long name is not stored"
    );
    assert!(!has_partner(&state(&client, &url), "big@example.com"));
    terminate(&mut child);
}
