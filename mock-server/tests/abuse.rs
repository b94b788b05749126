//! The abuse suite: the real binary on loopback gets every class of bad input a hostile or
//! careless client sends — to every operation of every vendor and to the admin API — and must
//! answer each with a 4xx or a 5xx its spec documents, leave the exported state exactly as it
//! was after every rejection, never log a panic, and still answer at the end. Bounded: a few
//! hundred requests, each with a timeout.

mod common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::Child;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use reqwest::blocking::Client;
use serde_json::Value;
use understudy::VendorId;
use understudy::spec::{Operation, SpecSet};

/// The binary on an ephemeral loopback port, with everything it logs.
struct Served {
    child: Child,
    url: String,
    log: Arc<Mutex<Vec<String>>>,
}

impl Served {
    fn start() -> Served {
        // Short body and header timeouts, so a body that never arrives is answered quickly.
        let spawned = common::binary::spawn(common::binary::serve_command(&[
            "--body-timeout-ms",
            "500",
            "--header-timeout-ms",
            "2000",
        ]));
        Served {
            child: spawned.child,
            url: spawned.url,
            log: spawned.log,
        }
    }

    fn addr(&self) -> String {
        self.url.trim_start_matches("http://").to_string()
    }

    fn panics(&self) -> Vec<String> {
        let log = self.log.lock().unwrap();
        log.iter()
            .filter(|l| l.contains("panicked") || l.contains("RUST_BACKTRACE"))
            .cloned()
            .collect()
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The default configuration's credentials, so requests get past authentication into
/// validation and the rules.
fn credentials(vendor: VendorId) -> Vec<(&'static str, &'static str)> {
    match vendor {
        VendorId::Confluent => vec![("authorization", "Bearer confluent_understudy_test")],
        VendorId::Enhance => vec![("authorization", "Bearer enhance_understudy_test")],
        VendorId::Cloudcockpit => vec![
            ("authorization", "Bearer cloudcockpit_understudy_test"),
            ("x-tenant", "understudy.example"),
        ],
        VendorId::Dub => vec![("authorization", "Bearer dub_understudy_test")],
        VendorId::Archera => vec![("x-api-key", "archera_understudy_test")],
    }
}

/// The operation's path with every parameter filled with `value`.
fn fill(op: &Operation, value: &str) -> String {
    let mut path = String::new();
    let mut rest = op.path.as_str();
    while let Some(open) = rest.find('{') {
        path.push_str(&rest[..open]);
        let close = rest[open..].find('}').map_or(rest.len(), |c| open + c + 1);
        path.push_str(value);
        rest = &rest[close..];
    }
    path.push_str(rest);
    format!("{}{path}", op.vendor.prefix())
}

/// One bad request and what came of it.
struct Outcome {
    what: String,
    status: Option<u16>,
}

fn deep(depth: usize) -> String {
    "[".repeat(depth) + &"]".repeat(depth)
}

/// JSON bodies no schema accepts, or that no parser should choke on.
fn bad_bodies() -> Vec<(&'static str, Vec<u8>)> {
    vec![
        ("malformed JSON", b"{\"a\":".to_vec()),
        ("truncated JSON", b"{\"name\": \"abc".to_vec()),
        ("a lone bracket", b"[".to_vec()),
        ("deeply nested arrays", deep(100_000).into_bytes()),
        ("deeply nested objects", ("{\"a\":".repeat(5_000) + "1" + &"}".repeat(5_000)).into_bytes()),
        ("invalid UTF-8", b"{\"name\": \"\xff\xfe\xfd\"}".to_vec()),
        ("a NUL byte", b"{\"name\": \"a\x00b\"}".to_vec()),
        ("an escaped NUL", br#"{"name": "a\u0000b", "email": "\u0000@example.com"}"#.to_vec()),
        ("numbers beyond u64", br#"{"limit": 18446744073709551616, "planId": 99999999999999999999999, "amount": -99999999999999999999}"#.to_vec()),
        ("1e400", br#"{"planId": 1e400, "seconds": 1e400}"#.to_vec()),
        ("the wrong JSON type", b"[1, 2, 3]".to_vec()),
        ("an oversize body", {
            let mut body = b"{\"name\": \"".to_vec();
            body.extend(std::iter::repeat_n(b'x', 2 << 20));
            body.extend(b"\"}");
            body
        }),
        ("a long string", format!("{{\"name\": \"{}\", \"email\": \"a@b.example\"}}", "n".repeat(200_000)).into_bytes()),
    ]
}

fn is_allowed(op: Option<&Operation>, status: u16) -> bool {
    status < 500 || op.is_some_and(|op| op.documented_statuses().contains(&status))
}

/// What came back for raw bytes.
enum Wire {
    /// A status line.
    Answered(u16),
    /// The connection was closed without an answer (fine for bytes that are not HTTP).
    Closed,
    /// Nothing within the read timeout: the server hangs on it.
    Hung,
}

/// Sends raw bytes and reads the status line, with a timeout: for what reqwest will not send.
fn raw(addr: &str, request: &[u8]) -> Wire {
    let Ok(mut stream) = TcpStream::connect(addr) else {
        return Wire::Hung;
    };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(10)));
    let _ = stream.set_write_timeout(Some(Duration::from_secs(10)));
    if stream.write_all(request).is_err() {
        return Wire::Closed;
    }
    let mut head = [0u8; 64];
    let mut read = 0;
    while read < 12 {
        match stream.read(&mut head[read..]) {
            Ok(0) => break,
            Ok(n) => read += n,
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) =>
            {
                return Wire::Hung;
            }
            Err(_) => break,
        }
    }
    let line = String::from_utf8_lossy(&head[..read]).to_string();
    match line
        .strip_prefix("HTTP/1.1 ")
        .and_then(|rest| rest.get(..3))
        .and_then(|code| code.parse().ok())
    {
        Some(status) => Wire::Answered(status),
        None => Wire::Closed,
    }
}

fn export(client: &Client, served: &Served) -> Value {
    client
        .get(format!("{}/__understudy/state", served.url))
        .send()
        .expect("the fake answers its admin API")
        .json()
        .expect("the state is JSON")
}

#[test]
fn bad_input_to_every_vendor_and_the_admin_api_is_refused_cleanly() {
    let served = Served::start();
    // No pooled connections: a server may close a connection after refusing a body it did not
    // read, and a pooled one would then fail the next request for the client's own reasons.
    let client = Client::builder()
        .timeout(Duration::from_secs(20))
        .pool_max_idle_per_host(0)
        .build()
        .unwrap();
    let specs = SpecSet::embedded().unwrap();
    let mut outcomes: Vec<(Option<&Operation>, Outcome)> = Vec::new();
    let mut corrupted = Vec::new();
    let mut state = export(&client, &served);

    let mut check_state = |what: &str, status: Option<u16>, state: &mut Value| {
        let after = export(&client, &served);
        // A request that was refused (or got no answer) must not have changed anything.
        if status.is_none_or(|s| s >= 400) && after != *state {
            corrupted.push(what.to_string());
        }
        *state = after;
    };

    for spec in specs.iter() {
        for op in &spec.operations {
            let auth = credentials(op.vendor);
            let targets = [
                fill(op, "abuse"),
                fill(op, "..%2F..%2F__understudy%2Freset"),
                fill(op, "%00"),
                fill(op, &"9".repeat(40)),
            ];
            let mut requests: Vec<(String, reqwest::blocking::RequestBuilder)> = Vec::new();
            for (name, body) in bad_bodies() {
                let mut request = client
                    .request(op.method.clone(), format!("{}{}", served.url, targets[0]))
                    .header("content-type", "application/json")
                    .body(body);
                for (k, v) in &auth {
                    request = request.header(*k, *v);
                }
                requests.push((format!("{} {}: {name}", op.method, op.path), request));
            }
            for target in &targets[1..] {
                let mut request = client.request(
                    op.method.clone(),
                    format!(
                        "{}{target}?limit=18446744073709551616&offset=-1&planId=1e400&x=%FF%00",
                        served.url
                    ),
                );
                for (k, v) in &auth {
                    request = request.header(*k, *v);
                }
                requests.push((
                    format!("{} {target}: odd path and query", op.method),
                    request,
                ));
            }
            let mut oversize_header = client
                .request(op.method.clone(), format!("{}{}", served.url, targets[0]))
                .header("x-filler", "h".repeat(200_000));
            for (k, v) in &auth {
                oversize_header = oversize_header.header(*k, *v);
            }
            requests.push((
                format!("{} {}: an oversize header", op.method, op.path),
                oversize_header,
            ));
            requests.push((
                format!("{} {}: the wrong content type", op.method, op.path),
                auth.iter().fold(
                    client
                        .request(op.method.clone(), format!("{}{}", served.url, targets[0]))
                        .header("content-type", "text/plain")
                        .body("name=x"),
                    |r, (k, v)| r.header(*k, *v),
                ),
            ));
            for (what, request) in requests {
                let status = request.send().ok().map(|r| r.status().as_u16());
                check_state(&what, status, &mut state);
                outcomes.push((Some(op), Outcome { what, status }));
            }
            // What no client library sends: invalid UTF-8 and NUL in the request line, a bad
            // chunk size.
            let path = fill(op, "abuse");
            let auth_lines: String = auth.iter().map(|(k, v)| format!("{k}: {v}\r\n")).collect();
            let wire: [(&str, Vec<u8>); 4] = [
                ("a body shorter than its Content-Length", format!(
                    "{} {path} HTTP/1.1\r\nhost: x\r\nconnection: close\r\ncontent-type: application/json\r\ncontent-length: 100\r\n{auth_lines}\r\n{{\"a\":",
                    op.method
                ).into_bytes()),
                ("invalid UTF-8 in the path", {
                    let mut r = format!("{} {path}", op.method).into_bytes();
                    r.extend(b"\xff\xfe HTTP/1.1\r\nhost: x\r\nconnection: close\r\n");
                    r.extend(auth_lines.as_bytes());
                    r.extend(b"\r\n");
                    r
                }),
                ("a NUL in a header", {
                    let mut r = format!("{} {path} HTTP/1.1\r\nhost: x\r\nconnection: close\r\n", op.method).into_bytes();
                    r.extend(b"x-nul: a\x00b\r\n");
                    r.extend(auth_lines.as_bytes());
                    r.extend(b"\r\n");
                    r
                }),
                ("a bad chunk size", format!(
                    "{} {path} HTTP/1.1\r\nhost: x\r\nconnection: close\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\n{auth_lines}\r\nzz\r\n{{}}\r\n0\r\n\r\n",
                    op.method
                ).into_bytes()),
            ];
            for (name, bytes) in wire {
                let what = format!("{} {}: {name}", op.method, op.path);
                // A connection closed without an answer is a clean refusal of bytes that are not
                // HTTP (counted as 400); a status must be a 4xx or documented; silence is a hang.
                let status = match raw(&served.addr(), &bytes) {
                    Wire::Answered(status) => Some(status),
                    Wire::Closed => Some(400),
                    Wire::Hung => None,
                };
                check_state(&what, status, &mut state);
                outcomes.push((Some(op), Outcome { what, status }));
            }
        }
    }

    // The admin API, with absurd values.
    let admin: [(&str, &str, &str); 16] = [
        ("POST", "/clock/advance", r#"{"seconds": 300000000000}"#),
        (
            "POST",
            "/clock/advance",
            r#"{"seconds": 9223372036854775807}"#,
        ),
        ("POST", "/clock/advance", r#"{"seconds": 1e400}"#),
        ("POST", "/clock/advance", r#"{"seconds": -5}"#),
        (
            "PUT",
            "/faults",
            r#"[{"vendor":"dub","latency":{"kind":"log_normal","median_ms":1e23,"sigma":0}}]"#,
        ),
        (
            "PUT",
            "/faults",
            r#"[{"vendor":"dub","status":99999999999999999999}]"#,
        ),
        ("PUT", "/faults", r#"[{"vendor":"dub","rate":1e400}]"#),
        (
            "PUT",
            "/rate-limits/dub",
            r#"{"algorithm":"fixed_window","limit":0,"window_seconds":60,"reset":"epoch_ms","retry_after":"seconds"}"#,
        ),
        (
            "PUT",
            "/rate-limits/dub",
            r#"{"algorithm":"fixed_window","limit":5,"window_seconds":0,"reset":"epoch_ms","retry_after":"seconds"}"#,
        ),
        (
            "PUT",
            "/rate-limits/dub",
            r#"{"algorithm":"fixed_window","limit":99999999999,"window_seconds":60,"reset":"epoch_ms","retry_after":"seconds"}"#,
        ),
        ("PUT", "/mutants", r#"{"active": ["nope"]}"#),
        ("PUT", "/state", "{"),
        (
            "PUT",
            "/state",
            r#"{"format": "understudy-state/1", "vendors": {"dub": {"partners": 7}}}"#,
        ),
        (
            "PUT",
            "/vendors/enhance/state",
            "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[",
        ),
        ("GET", "/journal?limit=-1", ""),
        (
            "POST",
            "/vendors/archera/actions/aws-stack-deployed",
            r#"{"org_id": "\u0000", "account_id": 1e400}"#,
        ),
    ];
    for (method, path, body) in admin {
        let what = format!("admin {method} {path} {body:.60}");
        let response = client
            .request(
                method.parse().unwrap(),
                format!("{}/__understudy{path}", served.url),
            )
            .header("content-type", "application/json")
            .body(body.to_string())
            .send()
            .ok();
        let status = response.map(|r| {
            let status = r.status().as_u16();
            let shape: Value = r.json().unwrap_or(Value::Null);
            // The admin API's own documented shape, at every error.
            if status >= 400 {
                assert!(
                    shape["error"]["code"].is_string(),
                    "{what}: {status} {shape}"
                );
            }
            status
        });
        check_state(&what, status, &mut state);
        outcomes.push((None, Outcome { what, status }));
    }

    let unanswered: Vec<&str> = outcomes
        .iter()
        .filter(|(_, o)| o.status.is_none())
        .map(|(_, o)| o.what.as_str())
        .collect();
    let undocumented: Vec<String> = outcomes
        .iter()
        .filter(|(op, o)| o.status.is_some_and(|s| !is_allowed(*op, s)))
        .map(|(_, o)| format!("{} -> {}", o.what, o.status.unwrap()))
        .collect();
    let admin_accepted: Vec<&str> = outcomes
        .iter()
        .filter(|(op, o)| op.is_none() && o.status.is_some_and(|s| s < 400))
        .map(|(_, o)| o.what.as_str())
        .collect();
    let mut by_status = std::collections::BTreeMap::new();
    for (_, outcome) in &outcomes {
        *by_status.entry(outcome.status).or_insert(0) += 1;
    }
    eprintln!("{} bad requests, by status: {by_status:?}", outcomes.len());
    assert!(outcomes.len() > 300, "{} requests sent", outcomes.len());
    assert!(
        unanswered.is_empty(),
        "no answer (a panic or a hang): {unanswered:#?}"
    );
    assert!(
        undocumented.is_empty(),
        "undocumented statuses: {undocumented:#?}"
    );
    assert!(
        admin_accepted.is_empty(),
        "absurd admin values accepted: {admin_accepted:#?}"
    );
    assert!(
        corrupted.is_empty(),
        "state changed by a rejected request: {corrupted:#?}"
    );

    // Still alive and answering, and nothing panicked on the way.
    let alive = client
        .get(format!("{}/__understudy/clock", served.url))
        .send()
        .unwrap();
    assert_eq!(alive.status(), 200);
    let created = client
        .post(format!("{}/dub/partners", served.url))
        .bearer_auth("dub_understudy_test")
        .json(&serde_json::json!({"programId": "prog_understudy", "name": "Still", "email": "still@example.com", "username": "still"}))
        .send()
        .unwrap();
    assert_eq!(created.status(), 201);
    let panics = served.panics();
    assert!(panics.is_empty(), "the server panicked: {panics:#?}");
}
