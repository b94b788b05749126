//! Dub partners over real HTTP, strict response validation on.

mod common;

use common::{Fake, read};
use reqwest::Method;
use serde_json::{Value, json};

const AUTH: (&str, &str) = ("Authorization", "Bearer dub_understudy_test");
const FREE: (&str, &str) = ("Authorization", "Bearer dub_understudy_free");

async fn post(fake: &Fake, path: &str, body: Value) -> (u16, Value) {
    let (status, _, body) = read(
        fake.send(Method::POST, &format!("/dub{path}"), &[AUTH], Some(&body))
            .await,
    )
    .await;
    (status, body)
}

async fn upsert(fake: &Fake, body: Value) -> (u16, Value) {
    let (status, _, body) = read(
        fake.send(
            Method::PUT,
            "/dub/partners/links/upsert",
            &[AUTH],
            Some(&body),
        )
        .await,
    )
    .await;
    (status, body)
}

fn partner(username: &str, email: &str) -> Value {
    json!({"programId": "prog_understudy", "name": "Ada Lovelace", "email": email, "username": username})
}

fn error_code(body: &Value) -> &str {
    body["error"]["code"].as_str().unwrap_or_default()
}

#[tokio::test]
async fn create_partner_creates_link_with_username_as_key_and_enrols_approved() {
    let fake = Fake::start().await;
    let (status, body) = post(&fake, "/partners", partner("ada", "ada@example.com")).await;
    assert_eq!(status, 201, "{body}");
    assert!(body["id"].as_str().unwrap().starts_with("pn_"));
    assert_eq!(body["status"], "approved");
    assert_eq!(body["country"], "US");
    let link = &body["links"][0];
    assert!(link["id"].as_str().unwrap().starts_with("link_"));
    assert_eq!(link["key"], "ada");
    assert_eq!(link["domain"], "understudy.link");
    assert_eq!(link["shortLink"], "https://understudy.link/ada");
    assert_eq!(link["url"], "https://understudy.example");
}

#[tokio::test]
async fn duplicate_username_email_and_tenant_are_conflicts_that_change_nothing() {
    let fake = Fake::start().await;
    let mut first = partner("grace", "grace@example.com");
    first["tenantId"] = json!("tenant-1");
    assert_eq!(post(&fake, "/partners", first).await.0, 201);

    let (status, body) = post(&fake, "/partners", partner("grace", "other@example.com")).await;
    assert_eq!((status, error_code(&body)), (409, "conflict"));
    assert_eq!(
        body["error"]["message"],
        "Duplicate key: This short link already exists."
    );

    let (status, body) = post(&fake, "/partners", partner("grace2", "grace@example.com")).await;
    assert_eq!(status, 409);
    assert_eq!(
        body["error"]["message"],
        "Partner grace@example.com already enrolled in this program."
    );

    let mut same_tenant = partner("grace3", "g3@example.com");
    same_tenant["tenantId"] = json!("tenant-1");
    let (status, body) = post(&fake, "/partners", same_tenant).await;
    assert_eq!(status, 409);
    assert_eq!(
        body["error"]["message"],
        "Tenant tenant-1 already enrolled in this program."
    );

    // The refused requests stored nothing: their usernames are still free as link keys.
    assert_eq!(
        post(&fake, "/partners", partner("grace2", "g2@example.com"))
            .await
            .0,
        201
    );
    assert_eq!(
        post(&fake, "/partners", partner("grace3", "g3@example.com"))
            .await
            .0,
        201
    );
}

#[tokio::test]
async fn partner_is_reused_across_programs_by_email() {
    let fake = Fake::start().await;
    let (_, first) = post(&fake, "/partners", partner("lin", "lin@example.com")).await;
    let mut beta = partner("lin", "lin@example.com");
    beta["programId"] = json!("prog_understudy_beta");
    let (status, second) = post(&fake, "/partners", beta).await;
    assert_eq!(status, 201, "{second}");
    assert_eq!(second["id"], first["id"]);
    assert_eq!(second["links"][0]["domain"], "beta.understudy.link");
}

#[tokio::test]
async fn create_link_rules() {
    let fake = Fake::start().await;
    let (_, created) = post(&fake, "/partners", partner("kay", "kay@example.com")).await;
    let partner_id = created["id"].as_str().unwrap();

    let (status, link) = post(&fake, "/partners/links", json!({"programId": "prog_understudy", "partnerId": partner_id, "url": "https://understudy.example/pricing"})).await;
    assert_eq!(status, 201, "{link}");
    assert_eq!(
        link["key"].as_str().unwrap().len(),
        7,
        "random 7-character key"
    );
    assert_eq!(link["partnerId"], partner_id);
    assert_eq!(link["trackConversion"], true);

    let (status, body) = post(&fake, "/partners/links", json!({"programId": "prog_understudy", "partnerId": partner_id, "url": "https://elsewhere.example/x"})).await;
    assert_eq!((status, error_code(&body)), (400, "bad_request"));
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("does not match the program's domain")
    );

    let (status, body) = post(
        &fake,
        "/partners/links",
        json!({"programId": "prog_understudy", "url": "https://understudy.example/x"}),
    )
    .await;
    assert_eq!(status, 400);
    assert_eq!(
        body["error"]["message"],
        "You must provide a partnerId or tenantId."
    );

    let (status, body) = post(&fake, "/partners/links", json!({"programId": "prog_understudy", "partnerId": "pn_missing", "url": "https://understudy.example/x"})).await;
    assert_eq!((status, error_code(&body)), (404, "not_found"));

    let (status, body) = post(&fake, "/partners/links", json!({"programId": "prog_nope", "partnerId": partner_id, "url": "https://understudy.example/x"})).await;
    assert_eq!(
        (status, body["error"]["message"].as_str()),
        (404, Some("Program not found."))
    );

    let (status, _) = post(&fake, "/partners/links", json!({"programId": "prog_understudy", "partnerId": partner_id, "url": "https://understudy.example/y", "key": "kay"})).await;
    assert_eq!(status, 409, "key taken by the partner's own link");
}

#[tokio::test]
async fn upsert_returns_updates_or_creates_always_200() {
    let fake = Fake::start().await;
    let (_, created) = post(&fake, "/partners", partner("uma", "uma@example.com")).await;
    let pid = created["id"].as_str().unwrap();
    let body = json!({"programId": "prog_understudy", "partnerId": pid, "url": "https://understudy.example/docs"});

    let (status, first) = upsert(&fake, body.clone()).await;
    assert_eq!(status, 200, "{first}");
    let (status, second) = upsert(&fake, body.clone()).await;
    assert_eq!(status, 200);
    assert_eq!(
        second, first,
        "unchanged upsert returns the same link untouched"
    );

    let mut changed = body.clone();
    changed["linkProps"] = json!({"title": "Docs"});
    let (status, third) = upsert(&fake, changed).await;
    assert_eq!(status, 200);
    assert_eq!(third["id"], first["id"]);
    assert_eq!(third["title"], "Docs");

    let mut other = body;
    other["url"] = json!("https://understudy.example/blog");
    let (status, fourth) = upsert(&fake, other).await;
    assert_eq!(status, 200);
    assert_ne!(fourth["id"], first["id"], "a new URL creates a new link");
}

#[tokio::test]
async fn credentials_and_plan_gate() {
    let fake = Fake::start().await;
    let body = partner("zed", "zed@example.com");
    let (status, _, err) = read(
        fake.send(Method::POST, "/dub/partners", &[], Some(&body))
            .await,
    )
    .await;
    assert_eq!((status, error_code(&err)), (401, "unauthorized"));
    let (status, _, err) = read(
        fake.send(
            Method::POST,
            "/dub/partners",
            &[("Authorization", "Bearer dub_nope")],
            Some(&body),
        )
        .await,
    )
    .await;
    assert_eq!((status, error_code(&err)), (401, "unauthorized"));
    let (status, _, err) = read(
        fake.send(
            Method::POST,
            "/dub/partners",
            &[("Authorization", "dub_understudy_test")],
            Some(&body),
        )
        .await,
    )
    .await;
    assert_eq!((status, error_code(&err)), (400, "bad_request"));
    let (status, _, err) = read(
        fake.send(Method::POST, "/dub/partners", &[FREE], Some(&body))
            .await,
    )
    .await;
    assert_eq!((status, error_code(&err)), (403, "forbidden"));
    assert_eq!(err["error"]["message"], "Unauthorized: Need higher plan.");
    assert_eq!(
        err["error"]["doc_url"],
        "https://dub.co/docs/api-reference/errors#forbidden"
    );
}

#[tokio::test]
async fn validation_errors_are_422_in_zod_format() {
    let fake = Fake::start().await;
    let (status, body) = post(&fake, "/partners", partner("val", "not-an-email")).await;
    assert_eq!((status, error_code(&body)), (422, "unprocessable_entity"));
    assert_eq!(
        body["error"]["message"],
        "invalid_string: email: Invalid email"
    );
    assert_eq!(
        body["error"]["doc_url"],
        "https://dub.co/docs/api-reference/errors#unprocessable-entity"
    );

    let (status, body) = post(
        &fake,
        "/partners",
        // Only email is required since today's SDKs (name and username became optional).
        json!({"programId": "prog_understudy", "name": "x", "username": "x"}),
    )
    .await;
    assert_eq!(status, 422);
    assert_eq!(body["error"]["message"], "invalid_type: email: Required");
}
