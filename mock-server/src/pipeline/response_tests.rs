//! The response check catches a reply that breaks the spec, and strict mode never lets it out.

use std::sync::Arc;

use crate::VendorId;
use crate::pipeline::{
    ConformingBodies, Mount, Rejection, Reply, VIOLATION_HEADER, ValidatedRequest, check,
    check_remembering, router,
};
use crate::server::{Options, app, app_decorated};
use crate::spec::{Operation, Place};
use crate::vendors::{Authenticated, Context, CredentialScheme, StateStore, Vendor};
use axum::http::{HeaderMap, StatusCode};
use serde_json::{Value, json};

/// The spec's example body for the operation's success status.
fn success_example(op: &Operation) -> serde_json::Value {
    let media = op.success().unwrap().1.body.as_ref().unwrap();
    media.example.clone().unwrap()
}

#[test]
fn a_body_missing_a_required_field_is_caught_with_its_json_path() {
    let app = app(&Options::default()).unwrap();
    let op = app
        .specs
        .vendor(VendorId::Dub)
        .operation("createPartnerLink")
        .unwrap();
    let mut body = success_example(op);
    assert!(
        check(op, &Reply::json(StatusCode::CREATED, body.clone())).is_empty(),
        "the example itself is valid"
    );
    body.as_object_mut().unwrap().remove("shortLink");
    body["clicks"] = json!("many");
    let violations = check(op, &Reply::json(StatusCode::CREATED, body));
    let pointers: Vec<&str> = violations.iter().map(|v| v.pointer.as_str()).collect();
    assert!(pointers.contains(&"/shortLink"), "{violations:?}");
    assert!(pointers.contains(&"/clicks"), "{violations:?}");
    assert!(violations.iter().all(|v| v.place == Place::ResponseBody));
}

#[test]
fn only_passing_bodies_are_remembered_and_the_status_is_still_checked() {
    let app = app(&Options::default()).unwrap();
    let op = app
        .specs
        .vendor(VendorId::Dub)
        .operation("createPartnerLink")
        .unwrap();
    let good = success_example(op);
    let mut bad = good.clone();
    bad["clicks"] = json!("many");
    let memo = ConformingBodies::new(8);
    for round in 0..3 {
        let found = check_remembering(
            op,
            &Reply::json(StatusCode::CREATED, bad.clone()),
            Some(&memo),
        );
        assert!(
            !found.is_empty(),
            "round {round}: a violation is reported every time"
        );
        assert!(memo.is_empty(), "a failing body is never remembered");
    }
    for _ in 0..3 {
        let found = check_remembering(
            op,
            &Reply::json(StatusCode::CREATED, good.clone()),
            Some(&memo),
        );
        assert!(found.is_empty(), "{found:?}");
    }
    assert_eq!(memo.len(), 1, "the passing body is remembered once");
    // The memo covers the body only: a status the operation does not document still fails.
    let undocumented = Reply::json(StatusCode::IM_A_TEAPOT, good);
    assert!(!check_remembering(op, &undocumented, Some(&memo)).is_empty());
}

#[test]
fn an_undocumented_status_and_a_missing_required_header_are_caught() {
    let app = app(&Options::default()).unwrap();
    let op = app
        .specs
        .vendor(VendorId::Confluent)
        .operation("signup")
        .unwrap();
    assert!(!check(op, &Reply::empty(StatusCode::IM_A_TEAPOT)).is_empty());
    let conflict = Reply::json(
        StatusCode::CONFLICT,
        json!({"errors": [{"status": "409", "code": "resource_already_exists"}]}),
    )
    .with_header("X-Request-Id", "r-1");
    let violations = check(op, &conflict);
    assert!(
        violations
            .iter()
            .any(|v| v.name.as_deref() == Some("Location") && v.keyword == "required"),
        "{violations:?}"
    );
}

/// A Dub whose handler answers 201 with a body Dub's spec forbids.
struct BrokenDub(Arc<dyn Vendor>);

/// A Dub caller whose requests get that body.
struct BrokenCaller<'v>(Box<dyn Authenticated + 'v>);

impl Authenticated for BrokenCaller<'_> {
    fn credential(&self) -> &str {
        self.0.credential()
    }
    fn rate_limit_tier(&self) -> Option<String> {
        self.0.rate_limit_tier()
    }
    fn authorize(&self, op: &Operation) -> Result<(), Rejection> {
        self.0.authorize(op)
    }
    fn handle(&self, _op: &Operation, _r: &ValidatedRequest, _cx: &Context<'_>) -> Reply {
        Reply::json(StatusCode::CREATED, json!({"id": 42}))
    }
}

impl Vendor for BrokenDub {
    fn id(&self) -> VendorId {
        VendorId::Dub
    }
    fn fork(&self, world: crate::vendors::Ambient) -> Arc<dyn Vendor> {
        Arc::new(BrokenDub(self.0.fork(world)))
    }
    fn operations(&self) -> &'static [&'static str] {
        self.0.operations()
    }
    fn authenticate<'v>(
        &'v self,
        op: &Operation,
        headers: &HeaderMap,
    ) -> Result<Box<dyn Authenticated + 'v>, Rejection> {
        Ok(Box::new(BrokenCaller(self.0.authenticate(op, headers)?)))
    }
    fn principal<'v>(&'v self, fingerprint: &str) -> Option<Box<dyn Authenticated + 'v>> {
        self.0.principal(fingerprint)
    }
    fn credentials(&self) -> Vec<&str> {
        self.0.credentials()
    }
    fn primary_credential(&self, scheme: CredentialScheme) -> Option<&str> {
        self.0.primary_credential(scheme)
    }
    fn creates(&self, op: &Operation) -> bool {
        self.0.creates(op)
    }
    fn admin_action(&self, name: &str, body: &Value) -> Result<Value, String> {
        self.0.admin_action(name, body)
    }
    fn reject(&self, rejection: &Rejection, cx: &Context<'_>) -> Reply {
        self.0.reject(rejection, cx)
    }
    fn finish(&self, reply: &mut Reply, cx: &Context<'_>) {
        self.0.finish(reply, cx)
    }
    fn state(&self) -> &dyn StateStore {
        self.0.state()
    }
}

async fn serve(strict: bool) -> (String, tokio::task::JoinHandle<()>) {
    let options = Options {
        strict,
        ..Options::default()
    };
    let broken = app_decorated(
        &options,
        Some(Arc::new(|vendor: Arc<dyn Vendor>| -> Arc<dyn Vendor> {
            match vendor.id() {
                VendorId::Dub => Arc::new(BrokenDub(vendor)),
                _ => vendor,
            }
        })),
    )
    .unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/dub/partners", listener.local_addr().unwrap());
    let task = tokio::spawn(async move {
        axum::serve(listener, router(broken, Mount::All))
            .await
            .unwrap();
    });
    (url, task)
}

async fn send(url: &str) -> reqwest::Response {
    reqwest::Client::new()
        .post(url)
        .bearer_auth("dub_understudy_test")
        .json(&json!({"programId": "prog_understudy", "name": "A", "email": "a@example.com", "username": "a"}))
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn strict_mode_replaces_a_contract_breaking_reply_with_a_diagnosed_500() {
    let (url, task) = serve(true).await;
    for _ in 0..2 {
        assert_eq!(
            send(&url).await.status(),
            500,
            "the same broken body, every time"
        );
    }
    let response = send(&url).await;
    assert_eq!(response.status(), 500);
    let diagnosis = response.headers()[VIOLATION_HEADER]
        .to_str()
        .unwrap()
        .to_string();
    assert!(diagnosis.contains("createPartner 201"), "{diagnosis}");
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(
        body["error"]["code"], "internal_server_error",
        "the 500 is in Dub's envelope"
    );
    task.abort();
}

#[tokio::test]
async fn lenient_mode_logs_but_passes_the_reply_through() {
    let (url, task) = serve(false).await;
    let response = send(&url).await;
    assert_eq!(response.status(), 201);
    assert!(response.headers().get(VIOLATION_HEADER).is_none());
    task.abort();
}
