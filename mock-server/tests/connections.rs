//! Connection hardening over raw TCP: idle, slow and short requests are closed by the
//! configured timeouts, connections beyond the limit make room instead of wedging the server,
//! and a broken body is told apart from a large one.
//!
//! Every wait below has a generous bound only so a regression fails instead of hanging; the
//! assertions are on what the server did (closed the socket, answered), never on how fast.

mod common;

use std::io::{Read, Write};
use std::process::{Child, Command};
use std::time::Duration;

use common::Fake;
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// How long any single wait may take before the test gives up (a hang guard, not a timing).
const GUARD: Duration = Duration::from_secs(20);

/// Short timeouts, so a test waits for them briefly.
const SHORT_TIMEOUTS: &str = "connections:\n  header_read_timeout_ms: 300\n  body_read_timeout_ms: 300\n  idle_timeout_ms: 300\n";

async fn connect(fake: &Fake) -> TcpStream {
    TcpStream::connect(fake.addr()).await.unwrap()
}

/// Reads until the server closes the connection, returning what it sent. Panics when the
/// connection is still open after [`GUARD`].
async fn read_until_closed(stream: &mut TcpStream) -> Vec<u8> {
    let mut received = Vec::new();
    let read = tokio::time::timeout(GUARD, async {
        let mut buf = [0u8; 4096];
        loop {
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => received.extend_from_slice(&buf[..n]),
            }
        }
    })
    .await;
    assert!(read.is_ok(), "the server kept the connection open");
    received
}

/// The status and JSON body of one raw HTTP/1.1 response.
fn parse_response(bytes: &[u8]) -> (u16, Value) {
    let text = String::from_utf8_lossy(bytes);
    let (head, body) = text
        .split_once("\r\n\r\n")
        .expect("a complete response head");
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .expect("a status line");
    (status, serde_json::from_str(body).unwrap_or(Value::Null))
}

#[tokio::test]
async fn a_connection_that_sends_nothing_is_closed() {
    let fake = Fake::with_config(SHORT_TIMEOUTS).await;
    let mut stream = connect(&fake).await;
    assert!(read_until_closed(&mut stream).await.is_empty());
}

#[tokio::test]
async fn a_kept_alive_connection_is_closed_when_idle() {
    let fake = Fake::with_config(SHORT_TIMEOUTS).await;
    let mut stream = connect(&fake).await;
    stream
        .write_all(b"GET /__understudy/clock HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    let received = read_until_closed(&mut stream).await;
    let (status, body) = parse_response(&received);
    assert_eq!(status, 200, "{body}");
}

#[tokio::test]
async fn a_slowloris_head_is_cut_off() {
    let fake = Fake::with_config(SHORT_TIMEOUTS).await;
    let mut stream = connect(&fake).await;
    stream
        .write_all(b"GET /dub/partners HTTP/1.1\r\nHost: x\r\n")
        .await
        .unwrap();
    let (mut reader, mut writer) = stream.into_split();
    // One header byte at a time, each well within the idle timeout, so only the header
    // timeout can end it.
    let trickle = tokio::spawn(async move {
        for _ in 0..400 {
            if writer.write_all(b"X").await.is_err() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    });
    let mut received = Vec::new();
    let read = tokio::time::timeout(GUARD, reader.read_to_end(&mut received)).await;
    trickle.abort();
    assert!(read.is_ok(), "the slow head was never cut off");
    assert!(
        received.is_empty(),
        "{}",
        String::from_utf8_lossy(&received)
    );
}

#[tokio::test]
async fn a_body_shorter_than_its_length_gets_the_vendors_400_and_a_closed_connection() {
    let fake = Fake::with_config(SHORT_TIMEOUTS).await;
    let mut stream = connect(&fake).await;
    stream
        .write_all(
            b"POST /dub/partners HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer dub_understudy_test\r\n\
              Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"name\":",
        )
        .await
        .unwrap();
    let received = read_until_closed(&mut stream).await;
    let (status, body) = parse_response(&received);
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["error"]["code"], "bad_request", "{body}");
    let message = body["error"]["message"].as_str().unwrap_or_default();
    assert!(message.contains("did not arrive"), "{body}");
}

#[tokio::test]
async fn a_bad_chunk_size_is_an_unreadable_body_not_a_large_one() {
    let fake = Fake::start().await;
    for (path, auth) in [
        ("/dub/partners", "Bearer dub_understudy_test"),
        (
            "/enhance/orgs/00000000-0000-4000-8000-000000000001/customers",
            "Bearer enhance_understudy_test",
        ),
    ] {
        let mut stream = connect(&fake).await;
        let request = format!(
            "POST {path} HTTP/1.1\r\nHost: x\r\nAuthorization: {auth}\r\n\
             Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n"
        );
        stream.write_all(request.as_bytes()).await.unwrap();
        let received = read_until_closed(&mut stream).await;
        let (status, body) = parse_response(&received);
        assert_eq!(status, 400, "{path}: {body}");
        let text = body.to_string();
        assert!(!text.contains("too large"), "{path}: {body}");
        assert!(text.contains("could not be read"), "{path}: {body}");
    }
}

#[tokio::test]
async fn idle_connections_beyond_the_limit_make_room_for_new_ones() {
    // Long timeouts: only the connection limit can close anything here.
    let fake = Fake::with_config("connections:\n  max_connections: 4\n").await;
    let mut idle = Vec::new();
    for _ in 0..4 {
        let mut stream = connect(&fake).await;
        // A completed exchange, so the connection is surely being served, then kept alive.
        stream
            .write_all(b"GET /__understudy/clock HTTP/1.1\r\nHost: x\r\n\r\n")
            .await
            .unwrap();
        let mut buf = [0u8; 4096];
        assert!(stream.read(&mut buf).await.unwrap() > 0);
        idle.push(stream);
    }
    // A fresh client beyond the limit is served...
    let response = tokio::time::timeout(
        GUARD,
        fake.client.get(fake.url("/__understudy/clock")).send(),
    )
    .await
    .expect("a fresh client is served")
    .unwrap();
    assert_eq!(response.status(), 200);
    // ...because the connection idle longest was closed for it.
    let oldest = &mut idle[0];
    assert!(read_until_closed(oldest).await.is_empty());
}

/// The binary under `ulimit -n LIMIT`, serving on an ephemeral port; and its base URL.
fn serve_with_open_file_limit(limit: u32) -> (Child, String) {
    let mut command = Command::new("sh");
    command
        .arg("-c")
        .arg(format!("ulimit -n {limit} && exec \"$0\" \"$@\""))
        .arg(env!("CARGO_BIN_EXE_understudy"))
        .args(["serve", "--port", "0"]);
    let spawned = common::binary::spawn(command);
    (spawned.child, spawned.url)
}

#[test]
fn more_idle_sockets_than_file_descriptors_do_not_lock_out_a_new_client() {
    let (mut child, url) = serve_with_open_file_limit(128);
    let addr = url.trim_start_matches("http://").to_string();
    // Held open, sending nothing, well past what 128 descriptors can hold.
    let idle: Vec<std::net::TcpStream> = (0..200)
        .map(|_| std::net::TcpStream::connect(&addr).unwrap())
        .collect();
    let mut fresh = std::net::TcpStream::connect(&addr).unwrap();
    fresh.set_read_timeout(Some(GUARD)).unwrap();
    fresh
        .write_all(b"GET /__understudy/clock HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .unwrap();
    let mut received = Vec::new();
    let _ = fresh.read_to_end(&mut received);
    let _ = child.kill();
    let _ = child.wait();
    drop(idle);
    let (status, body) = parse_response(&received);
    assert_eq!(status, 200, "{body}");
}
