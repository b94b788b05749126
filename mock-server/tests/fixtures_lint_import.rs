//! `understudy fixtures lint` and `understudy fixtures import`, run as the binary users run.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::json;
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
    let written = std::fs::read_to_string(&out).unwrap();
    for secret in [
        "dub_live_4f9a8b7c6d5e",
        "live-cookie-value",
        "rotated-live-value",
    ] {
        assert!(!written.contains(secret), "{secret} survived the import");
    }
    assert_eq!(scan_file(&out, &written), vec![]);
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
