//! One redaction policy (`understudy::redaction`) for the journal, the logs and the fixtures:
//! an exchange full of secrets goes through the recording proxy to the fake, and neither the
//! fake's journal nor the written fixture nor a log line shows any of them, while the fixture
//! scan flags each one left in the clear.

mod common;

use std::io::Write;
use std::sync::{Arc, Mutex};

use common::Fake;
use serde_json::{Value, json};
use understudy::VendorId;
use understudy::fixtures::record::{RecordOptions, record};
use understudy::fixtures::scan::scan_file;
use understudy::redaction::SECRET_KEYS;
use understudy::spec::SpecSet;

/// The live value sent for secret `key` in the query, or in the body.
fn live(place: &str, key: &str) -> String {
    format!(
        "live-{place}-{}-4f9a8b7c",
        key.replace('_', "-").to_ascii_lowercase()
    )
}

/// A query string with every secret parameter, plus one that is not secret.
fn secret_query() -> String {
    let mut pairs: Vec<String> = SECRET_KEYS
        .iter()
        .map(|key| format!("{key}={}", live("query", key)))
        .collect();
    pairs.push("limit=5".into());
    pairs.join("&")
}

/// A body with every secret key, at the top and nested, plus one that is not secret.
fn secret_body() -> Value {
    let mut top = serde_json::Map::new();
    for key in SECRET_KEYS {
        top.insert(key.to_string(), Value::String(live("body", key)));
    }
    top.insert("name".into(), json!("Visible Name"));
    top.insert(
        "nested".into(),
        json!([{"clientSecret": live("body", "nested-client-secret")}]),
    );
    Value::Object(top)
}

/// Every live value the exchange carries.
fn live_values() -> Vec<String> {
    let mut values: Vec<String> = SECRET_KEYS
        .iter()
        .flat_map(|key| [live("query", key), live("body", key)])
        .collect();
    values.push(live("body", "nested-client-secret"));
    values.push("live-cookie-4f9a8b7c".into());
    values.push("live-x-api-key-4f9a8b7c".into());
    values
}

fn temp_dir(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "understudy-redaction-{}-{name}",
        std::process::id()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[tokio::test]
async fn the_journal_and_the_fixture_hide_every_secret_the_scan_would_flag() {
    let fake = Fake::start().await;
    let out = temp_dir("agree").join("secrets.har");
    let recording = record(
        RecordOptions::new(VendorId::Dub, format!("{}/dub", fake.url("")), out.clone()),
        Arc::new(SpecSet::embedded().unwrap()),
    )
    .await
    .unwrap();
    let response = reqwest::Client::new()
        .post(format!("{}/partners?{}", recording.url(), secret_query()))
        .bearer_auth("dub_understudy_test")
        .header("Cookie", "session=live-cookie-4f9a8b7c")
        .header("x-api-key", "live-x-api-key-4f9a8b7c")
        .json(&secret_body())
        .send()
        .await
        .unwrap();
    assert!(response.status().is_client_error(), "{}", response.status());
    recording.stop().await.unwrap();

    let journal = fake
        .client
        .get(fake.url("/__understudy/journal"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let fixture = std::fs::read_to_string(&out).unwrap();
    for (what, text) in [("journal", &journal), ("fixture", &fixture)] {
        for secret in live_values() {
            assert!(!text.contains(&secret), "{what} shows {secret}: {text}");
        }
        assert!(
            text.contains("limit=5") && text.contains("Visible Name"),
            "{what} keeps what is not secret: {text}"
        );
    }
    assert!(journal.contains("<redacted>"), "{journal}");
    assert_eq!(
        scan_file(&out, &fixture),
        vec![],
        "the recorded fixture scans clean"
    );

    // The same exchange unredacted: the scan flags every secret body key and header.
    let mut leaked: Value = serde_json::from_str(&fixture).unwrap();
    let entry = &mut leaked["log"]["entries"][0]["request"];
    entry["postData"]["text"] = Value::String(secret_body().to_string());
    entry["headers"] = json!([
        {"name": "Authorization", "value": "Bearer dub_live_4f9a8b7c"},
        {"name": "Cookie", "value": "session=live-cookie-4f9a8b7c"},
        {"name": "x-api-key", "value": "live-x-api-key-4f9a8b7c"},
    ]);
    let findings: Vec<String> = scan_file(&out, &leaked.to_string())
        .iter()
        .map(|f| f.what.clone())
        .collect();
    for key in SECRET_KEYS.iter().chain(&["clientSecret"]) {
        assert!(
            findings
                .iter()
                .any(|f| f.contains(&format!("body key {key} "))),
            "{key} not flagged: {findings:?}"
        );
    }
    for header in ["Authorization", "Cookie", "x-api-key"] {
        assert!(
            findings
                .iter()
                .any(|f| f.contains(&format!("header {header} "))),
            "{header} not flagged: {findings:?}"
        );
    }
}

/// A log writer the test can read back.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Captured {
    /// A capture, installed as this thread's subscriber until the guard is dropped.
    fn installed() -> (Captured, tracing::subscriber::DefaultGuard) {
        let logs = Captured::default();
        let guard = tracing::subscriber::set_default(
            tracing_subscriber::fmt()
                .with_writer(logs.clone())
                .with_ansi(false)
                .finish(),
        );
        (logs, guard)
    }
}

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for Captured {
    type Writer = Captured;

    fn make_writer(&'a self) -> Captured {
        self.clone()
    }
}

#[tokio::test]
async fn log_lines_hide_secret_query_values() {
    // The test's runtime is single-threaded, so the server's tasks log through this subscriber.
    let (logs, _logging) = Captured::installed();
    // An upstream that refuses connections: the proxy logs the URL it could not reach.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let upstream = format!("http://{}", closed.local_addr().unwrap());
    drop(closed);
    let recording = record(
        RecordOptions::new(
            VendorId::Dub,
            upstream,
            temp_dir("logs").join("unreachable.har"),
        ),
        Arc::new(SpecSet::embedded().unwrap()),
    )
    .await
    .unwrap();
    let response = reqwest::Client::new()
        .get(format!("{}/partners?{}", recording.url(), secret_query()))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 502);
    recording.stop().await.unwrap();
    let text = String::from_utf8(logs.0.lock().unwrap().clone()).unwrap();
    assert!(text.contains("upstream unreachable"), "{text}");
    assert!(
        text.contains("limit=5"),
        "the rest of the URL is kept: {text}"
    );
    for secret in live_values() {
        assert!(!text.contains(&secret), "the log shows {secret}: {text}");
    }
}

#[tokio::test]
async fn replay_differences_hide_the_secrets_a_client_sent() {
    // The test's runtime is single-threaded, so the server's tasks log through this subscriber.
    let (logs, _logging) = Captured::installed();
    let fixtures = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/dub");
    let replaying = understudy::fixtures::replay::replay(
        understudy::fixtures::replay::load(&fixtures).unwrap(),
        "127.0.0.1:0".parse().unwrap(),
    )
    .await
    .unwrap();
    // The recorded create, but with secrets in the query and the body: a near miss.
    let mut body = secret_body();
    body["programId"] = json!("prog_understudy");
    let response = reqwest::Client::new()
        .post(format!(
            "{}/dub/partners?{}",
            replaying.url(),
            secret_query()
        ))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 404);
    let report = response.text().await.unwrap();
    replaying.stop().await.unwrap();
    assert!(report.contains("differences"), "{report}");
    let logged = String::from_utf8(logs.0.lock().unwrap().clone()).unwrap();
    for (what, text) in [("answer", &report), ("log", &logged)] {
        assert!(
            text.contains("limit=5"),
            "{what} keeps what is not secret: {text}"
        );
        for secret in live_values() {
            assert!(!text.contains(&secret), "the {what} shows {secret}: {text}");
        }
    }
}
