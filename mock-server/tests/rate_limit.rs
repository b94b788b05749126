//! Rate limits over real HTTP, strict: exact budgets, each vendor's headers and units, and a
//! window that passes when the fake's clock is advanced (no sleeping).

mod common;

use std::time::Duration;

use common::{Fake, read};
use reqwest::Method;
use serde_json::{Value, json};

const DUB: [(&str, &str); 1] = [("Authorization", "Bearer dub_understudy_test")];
const CONFLUENT: [(&str, &str); 1] = [("Authorization", "Bearer confluent_understudy_test")];

fn header(headers: &reqwest::header::HeaderMap, name: &str) -> Option<i64> {
    headers
        .get(name)
        .map(|v| v.to_str().unwrap().parse().unwrap())
}

fn now_ms(fake: &Fake) -> i64 {
    (fake.now().unix_timestamp_nanos() / 1_000_000) as i64
}

/// An upsert of a link for an unknown tenant: refused with 404 after the limiter ran.
fn dub_upsert() -> Value {
    json!({"programId": "prog_understudy", "tenantId": "nobody", "url": "https://understudy.example/x"})
}

#[tokio::test]
async fn dub_allows_exactly_the_budget_then_429s_until_the_window_passes() {
    let fake = Fake::with_config("rate_limits: {dub: {limit: 3}}").await;
    for i in 0..3 {
        let (status, headers, _) = read(
            fake.send(
                Method::PUT,
                "/dub/partners/links/upsert",
                &DUB,
                Some(&dub_upsert()),
            )
            .await,
        )
        .await;
        assert_eq!(status, 404, "request {i} is counted and answered");
        assert_eq!(header(&headers, "X-RateLimit-Limit"), Some(3));
        assert_eq!(header(&headers, "X-RateLimit-Remaining"), Some(2 - i));
    }
    let before = now_ms(&fake);
    let (status, headers, body) = read(
        fake.send(
            Method::PUT,
            "/dub/partners/links/upsert",
            &DUB,
            Some(&dub_upsert()),
        )
        .await,
    )
    .await;
    assert_eq!(status, 429);
    assert_eq!(body["error"]["code"], "rate_limit_exceeded");
    assert_eq!(header(&headers, "X-RateLimit-Remaining"), Some(0));
    // Dub's code sends the reset as epoch milliseconds, and Retry-After the very same value.
    let reset = header(&headers, "X-RateLimit-Reset").unwrap();
    assert!(
        reset > before && reset <= before + 60_000,
        "{reset} vs {before}"
    );
    assert_eq!(header(&headers, "Retry-After"), Some(reset));

    fake.advance_clock(Duration::from_secs(60)).unwrap();
    let (status, headers, _) = read(
        fake.send(
            Method::PUT,
            "/dub/partners/links/upsert",
            &DUB,
            Some(&dub_upsert()),
        )
        .await,
    )
    .await;
    assert_eq!(status, 404, "the window passed");
    assert_eq!(header(&headers, "X-RateLimit-Remaining"), Some(2));
}

#[tokio::test]
async fn dub_sends_the_headers_on_errors_and_the_upsert_but_not_on_creates() {
    let fake = Fake::start().await;
    let partner = json!({"programId": "prog_understudy", "name": "Rita", "email": "rita@example.com", "username": "rita", "tenantId": "rita"});
    let (status, headers, _) = read(
        fake.send(Method::POST, "/dub/partners", &DUB, Some(&partner))
            .await,
    )
    .await;
    assert_eq!(status, 201);
    assert!(headers.get("X-RateLimit-Limit").is_none());
    let upsert = json!({"programId": "prog_understudy", "tenantId": "rita", "url": "https://understudy.example/r"});
    let (status, headers, _) = read(
        fake.send(
            Method::PUT,
            "/dub/partners/links/upsert",
            &DUB,
            Some(&upsert),
        )
        .await,
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(header(&headers, "X-RateLimit-Limit"), Some(600));
    assert_eq!(header(&headers, "X-RateLimit-Remaining"), Some(598));
    // An unknown key is refused before the limiter runs: no headers.
    let (status, headers, _) = read(
        fake.send(
            Method::POST,
            "/dub/partners",
            &[("Authorization", "Bearer dub_nobody")],
            Some(&partner),
        )
        .await,
    )
    .await;
    assert_eq!(status, 401);
    assert!(headers.get("X-RateLimit-Limit").is_none());
    // The plan gate runs after the limiter: its 403 carries them.
    let (status, headers, _) = read(
        fake.send(
            Method::POST,
            "/dub/partners",
            &[("Authorization", "Bearer dub_understudy_free")],
            Some(&partner),
        )
        .await,
    )
    .await;
    assert_eq!(status, 403);
    assert_eq!(header(&headers, "X-RateLimit-Remaining"), Some(599));
}

#[tokio::test]
async fn dub_plan_tiers_and_documented_units_are_configurable() {
    let fake = Fake::with_config(
        "rate_limits: {dub: {tiers: {free: 1}, reset: epoch_seconds, retry_after: seconds}}",
    )
    .await;
    let free = [("Authorization", "Bearer dub_understudy_free")];
    let (status, headers, _) = read(
        fake.send(
            Method::PUT,
            "/dub/partners/links/upsert",
            &free,
            Some(&dub_upsert()),
        )
        .await,
    )
    .await;
    assert_eq!(status, 404);
    assert_eq!(header(&headers, "X-RateLimit-Limit"), Some(1));
    let before_s = now_ms(&fake) / 1000;
    let (status, headers, _) = read(
        fake.send(
            Method::PUT,
            "/dub/partners/links/upsert",
            &free,
            Some(&dub_upsert()),
        )
        .await,
    )
    .await;
    assert_eq!(status, 429);
    let reset = header(&headers, "X-RateLimit-Reset").unwrap();
    assert!(
        (before_s..=before_s + 61).contains(&reset),
        "{reset} is epoch seconds"
    );
    let retry = header(&headers, "Retry-After").unwrap();
    assert!((1..=60).contains(&retry), "{retry} is a delay in seconds");
    // The business workspace is on the default limit, counted apart.
    let (_, headers, _) = read(
        fake.send(
            Method::PUT,
            "/dub/partners/links/upsert",
            &DUB,
            Some(&dub_upsert()),
        )
        .await,
    )
    .await;
    assert_eq!(header(&headers, "X-RateLimit-Limit"), Some(600));
}

#[tokio::test]
async fn confluent_429_has_no_body_and_relative_seconds() {
    let fake = Fake::with_config(
        "rate_limits:\n  confluent: {algorithm: fixed_window, limit: 2, window_seconds: 60, reset: relative_seconds, retry_after: seconds}\n",
    )
    .await;
    let body = json!({"organization_id": "not-a-uuid"});
    for _ in 0..2 {
        let (status, headers, _) = read(
            fake.send(
                Method::POST,
                "/confluent/partner/v2/signup/activate",
                &CONFLUENT,
                Some(&body),
            )
            .await,
        )
        .await;
        assert_eq!(status, 400);
        // Confluent sends the rate-limit headers on 429 only.
        assert!(headers.get("X-RateLimit-Limit").is_none());
    }
    let response = fake
        .send(
            Method::POST,
            "/confluent/partner/v2/signup/activate",
            &CONFLUENT,
            Some(&body),
        )
        .await;
    let (status, headers, body) = read(response).await;
    assert_eq!(status, 429);
    assert_eq!(body, Value::Null, "Confluent's 429 has no body");
    assert!(headers.get("X-Request-Id").is_some());
    assert_eq!(header(&headers, "X-RateLimit-Limit"), Some(2));
    assert_eq!(header(&headers, "X-RateLimit-Remaining"), Some(0));
    let reset = header(&headers, "X-RateLimit-Reset").unwrap();
    assert!((1..=60).contains(&reset), "relative seconds, got {reset}");
    assert_eq!(header(&headers, "Retry-After"), Some(reset));
}

#[tokio::test]
async fn vendors_without_a_documented_429_are_never_limited() {
    let fake = Fake::with_config(
        "rate_limits:\n  enhance: {algorithm: sliding_window, limit: 1, window_seconds: 60, reset: epoch_ms, retry_after: seconds}\n",
    )
    .await;
    let auth = [("Authorization", "Bearer enhance_understudy_test")];
    for _ in 0..3 {
        let response = fake
            .send(
                Method::GET,
                "/enhance/orgs/00000000-0000-4000-8000-000000000001/customers",
                &auth,
                None,
            )
            .await;
        assert_eq!(response.status().as_u16(), 200);
    }
}
