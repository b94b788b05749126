//! `understudy fixtures lint` and `understudy fixtures import`, run as the binary users run.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::{Value, json};
use understudy::fixtures::har::Har;
use understudy::fixtures::scan::scan_file;

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("understudy-lint-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn understudy(args: &[&str]) -> (bool, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_understudy"))
        .args(args)
        .current_dir(Path::new(env!("CARGO_MANIFEST_DIR")).join(".."))
        .output()
        .expect("the binary runs");
    let text = String::from_utf8_lossy(&output.stdout).into_owned()
        + &String::from_utf8_lossy(&output.stderr);
    (output.status.success(), text)
}

/// Runs `understudy fixtures import` on `input` as Dub's traffic and returns the written HAR.
fn import_dub(input: &std::path::Path, dir: &std::path::Path) -> String {
    let out = dir.join("imported.har");
    let (ok, text) = understudy(&[
        "fixtures",
        "import",
        input.to_str().unwrap(),
        "--vendor",
        "dub",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(ok, "{text}");
    std::fs::read_to_string(&out).unwrap()
}

#[test]
fn lint_passes_the_committed_fixtures_and_fails_a_leaked_key() {
    let (ok, text) = understudy(&["fixtures", "lint"]);
    assert!(ok, "{text}");
    let dir = temp_dir("leak");
    std::fs::write(
        dir.join("notes.txt"),
        "curl -H 'Authorization: Bearer dub_live_4f9a8b7c'\n",
    )
    .unwrap();
    let (ok, text) = understudy(&["fixtures", "lint", dir.to_str().unwrap()]);
    assert!(!ok, "a leaked key fails the lint: {text}");
    assert!(
        text.contains("notes.txt:1") && text.contains("vendor API key"),
        "{text}"
    );
    assert!(
        !text.contains("4f9a8b7c"),
        "the report does not repeat the secret: {text}"
    );
}

#[test]
fn a_browser_har_is_imported_redacted_with_operations_named() {
    let dir = temp_dir("import");
    let browser = json!({"log": {
        "version": "1.2",
        "creator": {"name": "Firefox", "version": "140"},
        "pages": [{"id": "page_1", "title": "x", "startedDateTime": "2026-01-01T00:00:00Z", "pageTimings": {}}],
        "entries": [{
            "pageref": "page_1",
            "startedDateTime": "2026-01-01T00:00:00Z",
            "time": 12,
            "serverIPAddress": "203.0.113.7",
            "_initiator": {"type": "script"},
            "request": {
                "method": "POST", "url": "https://api.dub.co/partners", "httpVersion": "HTTP/2",
                "cookies": [{"name": "session", "value": "live-cookie-value"}],
                "headers": [{"name": "Authorization", "value": "Bearer dub_live_4f9a8b7c6d5e"}, {"name": "Cookie", "value": "session=live-cookie-value"}],
                "queryString": [], "headersSize": -1, "bodySize": 40,
                "postData": {"mimeType": "application/json", "text": "{\"programId\":\"prog_1\",\"name\":\"A\",\"email\":\"a@b.example\",\"username\":\"a\"}"}
            },
            "response": {
                "status": 201, "statusText": "Created", "httpVersion": "HTTP/2", "cookies": [],
                "headers": [{"name": "Set-Cookie", "value": "session=rotated-live-value; Path=/; HttpOnly"}],
                "content": {"size": 2, "mimeType": "application/json", "text": "{}"},
                "redirectURL": "", "headersSize": -1, "bodySize": 2
            },
            "cache": {}, "timings": {"send": 1, "wait": 10, "receive": 1}
        }]
    }});
    let input = dir.join("browser.har");
    std::fs::write(&input, browser.to_string()).unwrap();
    let written = import_dub(&input, &dir);
    for secret in [
        "dub_live_4f9a8b7c6d5e",
        "live-cookie-value",
        "rotated-live-value",
    ] {
        assert!(!written.contains(secret), "{secret} survived the import");
    }
    assert_eq!(scan_file(&dir.join("imported.har"), &written), vec![]);
    let har = Har::parse(&written).unwrap();
    let entry = &har.log.entries[0];
    assert_eq!(
        entry.request.header("authorization"),
        Some("Bearer <redacted:dub-token:1>")
    );
    assert_eq!(
        entry.response.header("set-cookie"),
        Some("session=<redacted:dub-cookie:2>; Path=/; HttpOnly")
    );
    assert_eq!(
        (entry.path.as_deref(), entry.sequence),
        (Some("/partners"), 1)
    );
    assert_eq!(entry.operation_id.as_deref(), Some("createPartner"));
    // Dub's partner is more than `{}`: the import checks the spec like a recording does.
    assert!(
        entry.violations.iter().any(|v| v.starts_with("response: ")),
        "{:?}",
        entry.violations
    );
}

#[test]
fn base64_bodies_are_decoded_redacted_and_written_back_as_text() {
    use base64::Engine as _;
    let b64 = |text: &[u8]| base64::engine::general_purpose::STANDARD.encode(text);
    let request_body = r#"{"programId":"prog_1","name":"A","email":"a@b.example","username":"a","password":"hunter2-live-secret"}"#;
    let response_body = r#"{"id":"pn_1","token":"live-response-token"}"#;
    // mitmproxy-style: the request body base64 too, wrapped over two lines.
    let request_b64 = b64(request_body.as_bytes());
    let (head, tail) = request_b64.split_at(40);
    let entry = |post: Value, content: Value| {
        json!({
            "startedDateTime": "2026-01-01T00:00:00Z", "time": 5,
            "request": {"method": "POST", "url": "https://api.dub.co/partners", "httpVersion": "HTTP/1.1",
                "cookies": [], "headers": [], "queryString": [], "headersSize": -1, "bodySize": -1,
                "postData": post},
            "response": {"status": 201, "statusText": "Created", "httpVersion": "HTTP/1.1", "cookies": [],
                "headers": [], "content": content, "redirectURL": "", "headersSize": -1, "bodySize": -1},
            "cache": {}, "timings": {"send": 0, "wait": 5, "receive": 0}
        })
    };
    let har = json!({"log": {"version": "1.2", "creator": {"name": "mitmproxy", "version": "11"}, "entries": [
        entry(
            json!({"mimeType": "application/json", "text": format!("{head}\n{tail}"), "encoding": "base64"}),
            json!({"size": response_body.len(), "mimeType": "application/json", "text": b64(response_body.as_bytes()), "encoding": "base64"}),
        ),
        // A body that is not text stays base64, exactly.
        entry(
            json!({"mimeType": "application/octet-stream", "text": b64(&[0xff, 0xfe, 0x00]), "encoding": "base64"}),
            json!({"size": 3, "mimeType": "application/json", "text": "not base64 at all!", "encoding": "base64"}),
        ),
    ]}});
    let dir = temp_dir("base64");
    let input = dir.join("mitm.har");
    std::fs::write(&input, har.to_string()).unwrap();
    let findings: Vec<String> = scan_file(&input, &har.to_string())
        .iter()
        .map(ToString::to_string)
        .collect();
    assert!(
        findings.iter().any(|f| f.contains("body key password")),
        "the lint looks inside base64 bodies: {findings:?}"
    );
    let written = import_dub(&input, &dir);
    for secret in ["hunter2-live-secret", "live-response-token", head, tail] {
        assert!(!written.contains(secret), "{secret} survived the import");
    }
    let har = Har::parse(&written).unwrap();
    let (first, second) = (&har.log.entries[0], &har.log.entries[1]);
    let post = first.request.post_data.as_ref().unwrap();
    assert_eq!(post.encoding, None, "written back as plain text");
    let body: Value = serde_json::from_str(&post.text).expect("the decoded body is JSON");
    assert_eq!(body["password"], "<redacted:dub-password:1>");
    assert_eq!(body["programId"], "prog_1");
    assert_eq!(first.response.content.encoding, None);
    let answer: Value =
        serde_json::from_str(first.response.content.text.as_deref().unwrap()).unwrap();
    assert_eq!(answer["token"], "<redacted:dub-token:1>");
    assert_eq!(first.operation_id.as_deref(), Some("createPartner"));
    // The spec check saw the decoded body: the only request complaint is the extra password.
    assert!(
        !first.violations.iter().any(|v| v.contains("not JSON")),
        "{:?}",
        first.violations
    );
    let binary = second.request.post_data.as_ref().unwrap();
    assert_eq!(
        (binary.encoding.as_deref(), binary.bytes()),
        (Some("base64"), Some(vec![0xff, 0xfe, 0x00]))
    );
    assert!(
        second
            .violations
            .iter()
            .any(|v| v == "response: body claims encoding \"base64\" but does not decode"),
        "{:?}",
        second.violations
    );
}

/// A deterministic random-looking string of `len` characters from `alphabet`, so no
/// live-looking secret is written into the repository itself.
fn random(len: usize, alphabet: &[u8], seed: u64) -> String {
    let mut state = seed;
    (0..len)
        .map(|_| {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            alphabet[(state >> 33) as usize % alphabet.len()] as char
        })
        .collect()
}

const BASE62: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

#[test]
fn lint_finds_issuer_formats_random_tokens_and_base64_bodies_but_not_test_credentials() {
    use base64::Engine as _;
    let dir = temp_dir("formats");
    let aws_secret = random(
        40,
        b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/",
        11,
    );
    let github = format!("ghp_{}", random(36, BASE62, 12));
    let stripe = format!("sk_live_{}", random(24, BASE62, 13));
    let opaque = random(32, BASE62, 14);
    std::fs::write(
        dir.join("leaks.txt"),
        format!(
            "aws_secret_access_key = {aws_secret}\n\
             GITHUB_TOKEN={github}\n\
             stripe: {stripe}\n\
             session {opaque}\n\
             curl -H 'Authorization: Bearer dub_understudy_test' -H 'x-api-key: archera_understudy_test' # the fake's own\n"
        ),
    )
    .unwrap();
    // A secret that only shows once the base64 body is decoded.
    let body = format!(r#"{{"note":"deploy with {github}"}}"#);
    let har = json!({"log": {"version": "1.2", "creator": {"name": "mitmproxy", "version": "11"}, "entries": [{
        "startedDateTime": "2026-01-01T00:00:00Z", "time": 5,
        "request": {"method": "GET", "url": "https://api.dub.co/partners", "httpVersion": "HTTP/1.1",
            "cookies": [], "headers": [], "queryString": [], "headersSize": -1, "bodySize": -1},
        "response": {"status": 200, "statusText": "OK", "httpVersion": "HTTP/1.1", "cookies": [], "headers": [],
            "content": {"size": body.len(), "mimeType": "application/json", "encoding": "base64",
                "text": base64::engine::general_purpose::STANDARD.encode(body.as_bytes())},
            "redirectURL": "", "headersSize": -1, "bodySize": -1},
        "cache": {}, "timings": {"send": 0, "wait": 5, "receive": 0}
    }]}});
    std::fs::write(dir.join("encoded.har"), har.to_string()).unwrap();

    let (ok, text) = understudy(&["fixtures", "lint", dir.to_str().unwrap()]);
    assert!(!ok, "live-looking secrets fail the lint: {text}");
    for expected in [
        "leaks.txt:1: an AWS secret access key",
        "leaks.txt:2: a GitHub token",
        "leaks.txt:3: a Stripe live key",
        "leaks.txt:4: a random-looking token",
        "encoded.har:0: entry 1: base64 response body: a GitHub token",
    ] {
        assert!(text.contains(expected), "{expected} missing: {text}");
    }
    assert!(
        !text.contains("leaks.txt:5"),
        "the fake's own credentials are not flagged: {text}"
    );
    for secret in [&aws_secret, &github, &stripe, &opaque] {
        assert!(
            !text.contains(&secret[8..]),
            "the report repeats a secret: {text}"
        );
    }
}
