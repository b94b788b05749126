//! The `understudy` binary as a child process on an ephemeral loopback port, for the tests
//! that need a real process (kills, file-descriptor limits, the log).

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};

/// `understudy serve --port 0 ARGS`, logging at info without colour.
pub fn serve_command(args: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_understudy"));
    command.args(["serve", "--port", "0"]).args(args);
    command
}

/// A spawned fake: the child, its base URL (read from its log) and every line it has logged.
pub struct Spawned {
    pub child: Child,
    pub url: String,
    pub log: Arc<Mutex<Vec<String>>>,
}

/// Spawns `command` (an `understudy serve`, possibly behind a wrapper) and waits until it logs
/// its address. The log is drained on a thread so the child never blocks on a full pipe.
pub fn spawn(mut command: Command) -> Spawned {
    let mut child = command
        .env("RUST_LOG", "info")
        .env("NO_COLOR", "1")
        .env("RUST_BACKTRACE", "0")
        .stderr(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .expect("the binary starts");
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let log = Arc::new(Mutex::new(Vec::new()));
    let url = loop {
        let line = lines
            .next()
            .expect("the binary logs its address before exiting")
            .unwrap();
        log.lock().unwrap().push(line.clone());
        if let Some(at) = line.find("url=") {
            break line[at + 4..]
                .split_whitespace()
                .next()
                .unwrap()
                .to_string();
        }
    };
    let sink = log.clone();
    std::thread::spawn(move || {
        for line in lines.map_while(Result::ok) {
            sink.lock().unwrap().push(line);
        }
    });
    Spawned { child, url, log }
}
