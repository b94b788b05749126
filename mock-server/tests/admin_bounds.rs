//! Admin inputs that once wedged or panicked the server: each is refused with a 400 in the admin
//! error shape, nothing changes, and the vendors keep answering afterwards.

mod common;

use common::{Fake, read};
use reqwest::Method;
use serde_json::{Value, json};

const DUB: [(&str, &str); 1] = [("Authorization", "Bearer dub_understudy_test")];

/// Sends raw `body` text (not necessarily JSON) to an admin path.
async fn admin_raw(fake: &Fake, method: Method, path: &str, body: &str) -> (u16, String, Value) {
    let response = fake
        .send_text(method, &format!("/__understudy{path}"), &[], body)
        .await;
    let status = response.status().as_u16();
    let content_type = response
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default();
    let text = response.text().await.unwrap();
    (
        status,
        content_type,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

/// Asserts an admin error in the documented shape with `code`.
fn assert_admin_error(status: u16, content_type: &str, body: &Value, expected: u16, code: &str) {
    assert_eq!(status, expected, "{body}");
    assert!(
        content_type.starts_with("application/json"),
        "{content_type}: {body}"
    );
    assert_eq!(body["error"]["code"], code, "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .is_some_and(|m| !m.is_empty()),
        "{body}"
    );
}

/// Dub's seeded partner list still answers 200.
async fn dub_answers(fake: &Fake) {
    let (status, _, body) = read(
        fake.send(
            Method::GET,
            "/dub/partners/links?partnerId=pn_none",
            &DUB,
            None,
        )
        .await,
    )
    .await;
    assert!(status < 500, "{status}: {body}");
    let (status, _, body) = read(
        fake.send(
            Method::POST,
            "/dub/partners",
            &DUB,
            Some(&json!({"programId": "prog_understudy", "name": "After", "email": "after@example.com", "username": "after"})),
        )
        .await,
    )
    .await;
    assert_eq!(status, 201, "{body}");
}

#[tokio::test]
async fn the_clock_cannot_be_pushed_past_year_9999() {
    let fake = Fake::start().await;
    for seconds in [
        "300000000000",
        "9223372036854775807",
        "1e300",
        "253402300800",
    ] {
        let (status, content_type, body) = admin_raw(
            &fake,
            Method::POST,
            "/clock/advance",
            &format!("{{\"seconds\":{seconds}}}"),
        )
        .await;
        assert_admin_error(status, &content_type, &body, 400, "bad_request");
    }
    let (status, _, clock) = admin_raw(&fake, Method::GET, "/clock", "").await;
    assert_eq!(status, 200);
    assert_eq!(
        clock["offset_ms"], 0,
        "a refused move leaves the clock alone"
    );
    dub_answers(&fake).await;
    // A move that stays inside the range still works.
    let (status, _, clock) = admin_raw(
        &fake,
        Method::POST,
        "/clock/advance",
        r#"{"seconds": 86400}"#,
    )
    .await;
    assert_eq!(status, 200, "{clock}");
    assert_eq!(clock["offset_ms"], 86_400_000);
}

#[tokio::test]
async fn a_latency_rule_beyond_the_cap_is_refused() {
    let fake = Fake::start().await;
    let rules = [
        r#"[{"vendor":"dub","latency":{"kind":"log_normal","median_ms":1e23,"sigma":0}}]"#,
        r#"[{"vendor":"dub","latency":{"kind":"log_normal","median_ms":10,"sigma":1000}}]"#,
        r#"[{"vendor":"dub","latency":{"kind":"fixed","ms":18446744073709551615}}]"#,
        r#"[{"vendor":"dub","latency":{"kind":"uniform","min_ms":20,"max_ms":10}}]"#,
    ];
    for rule in rules {
        let (status, content_type, body) = admin_raw(&fake, Method::PUT, "/faults", rule).await;
        assert_admin_error(status, &content_type, &body, 400, "bad_request");
    }
    let (_, _, faults) = admin_raw(&fake, Method::GET, "/faults", "").await;
    assert_eq!(faults, json!([]), "nothing was installed");
    dub_answers(&fake).await;
}

#[tokio::test]
async fn rate_limits_outside_the_admin_schema_are_refused() {
    let fake = Fake::start().await;
    let limit = |limit: u64, window: u64| {
        json!({"algorithm": "fixed_window", "limit": limit, "window_seconds": window, "reset": "epoch_ms", "retry_after": "same_as_reset"}).to_string()
    };
    let (_, _, before) = admin_raw(&fake, Method::GET, "/rate-limits", "").await;
    for body in [
        limit(0, 60),
        limit(10, 0),
        limit(100_001, 60),
        limit(10, 40_000_000),
        json!({"algorithm": "fixed_window", "limit": 10, "window_seconds": 60, "tiers": {"free": 0}, "reset": "epoch_ms", "retry_after": "seconds"}).to_string(),
    ] {
        let (status, content_type, error) =
            admin_raw(&fake, Method::PUT, "/rate-limits/dub", &body).await;
        assert_admin_error(status, &content_type, &error, 400, "bad_request");
    }
    let (_, _, after) = admin_raw(&fake, Method::GET, "/rate-limits", "").await;
    assert_eq!(before, after, "no refused limit was installed");
    dub_answers(&fake).await;
    let (status, _, _) = admin_raw(&fake, Method::PUT, "/rate-limits/dub", &limit(1, 60)).await;
    assert_eq!(status, 204, "the smallest valid limit is taken");
}

#[tokio::test]
async fn a_rate_limit_of_zero_is_refused_at_start_up() {
    let config = understudy::config::Config::with_overrides(
        "rate_limits:\n  dub: {algorithm: fixed_window, limit: 0, window_seconds: 60, reset: epoch_ms, retry_after: seconds}\n",
    )
    .unwrap();
    let options = understudy::server::Options {
        addr: "127.0.0.1:0".parse().unwrap(),
        config,
        ..Default::default()
    };
    let error = understudy::server::start(options)
        .await
        .err()
        .expect("refused");
    assert!(
        error.to_string().contains("limit must be within"),
        "{error}"
    );
}

#[tokio::test]
async fn every_admin_error_is_json_in_the_documented_shape() {
    let fake = Fake::start().await;
    let cases: [(Method, &str, &str, u16, &str); 9] = [
        (Method::GET, "/journal?limit=-1", "", 400, "bad_request"),
        (
            Method::GET,
            "/journal?limit=99999999999999999999999",
            "",
            400,
            "bad_request",
        ),
        (
            Method::GET,
            "/journal?vendor=nobody",
            "",
            400,
            "bad_request",
        ),
        (Method::PUT, "/state", "{", 400, "bad_request"),
        (
            Method::POST,
            "/clock/advance",
            r#"{"seconds":1e400}"#,
            400,
            "bad_request",
        ),
        (
            Method::PUT,
            "/mutants",
            r#"{"active": 7}"#,
            400,
            "bad_request",
        ),
        (Method::GET, "/no/such/route", "", 404, "not_found"),
        (Method::DELETE, "/clock", "", 405, "method_not_allowed"),
        (
            Method::GET,
            "/vendors/nobody/state",
            "",
            404,
            "unknown_vendor",
        ),
    ];
    for (method, path, body, expected, code) in cases {
        let (status, content_type, error) = admin_raw(&fake, method.clone(), path, body).await;
        assert_admin_error(status, &content_type, &error, expected, code);
    }
    // A body sent without a JSON content type (curl -d's default) is still read as JSON.
    let response = fake
        .client
        .post(fake.url("/__understudy/clock/advance"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(r#"{"seconds": 1}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
}

#[tokio::test]
async fn a_dual_stack_listener_answers_ipv4_loopback_admin_calls() {
    let options = understudy::server::Options {
        addr: "[::]:0".parse().unwrap(),
        ..Default::default()
    };
    let running = match understudy::server::start(options).await {
        Ok(running) => running,
        Err(error) => {
            eprintln!("skipped: this machine cannot bind [::] ({error})");
            return;
        }
    };
    let url = format!(
        "http://127.0.0.1:{}/__understudy/clock",
        running.addr.port()
    );
    let response = match reqwest::get(&url).await {
        Ok(response) => response,
        Err(error) => {
            eprintln!("skipped: [::] is not dual-stack here ({error})");
            return;
        }
    };
    assert_eq!(
        response.status(),
        200,
        "an IPv4-mapped loopback peer is loopback"
    );
    running.stop().await.unwrap();
}
