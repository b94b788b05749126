//! `--state-file` with the real binary: state survives a graceful restart, and a process killed
//! in the middle of its write loop always leaves a file that loads.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};

use serde_json::{Value, json};

/// The binary serving on an ephemeral loopback port, and its base URL.
fn serve(args: &[&str]) -> (Child, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_understudy"))
        .args(["serve", "--port", "0"])
        .args(args)
        .env("RUST_LOG", "info")
        .env("NO_COLOR", "1")
        .stderr(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .expect("the binary starts");
    let stderr = child.stderr.take().unwrap();
    let mut lines = BufReader::new(stderr).lines();
    let url = loop {
        let line = lines
            .next()
            .expect("the binary logs its address before exiting")
            .unwrap();
        if let Some(at) = line.find("url=") {
            let rest = &line[at + 4..];
            break rest.split_whitespace().next().unwrap().to_string();
        }
    };
    // Keep draining the log so the child never blocks on a full pipe.
    std::thread::spawn(move || for _ in lines {});
    (child, url)
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
