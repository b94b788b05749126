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

// ---- Today's SDKs: no programId (default program), listing, links, analytics, ban, deactivate.

async fn get(fake: &Fake, path_and_query: &str) -> (u16, Value) {
    let (status, _, body) = read(
        fake.send(Method::GET, &format!("/dub{path_and_query}"), &[AUTH], None)
            .await,
    )
    .await;
    (status, body)
}

async fn admin_events(fake: &Fake, body: Value) -> (u16, Value) {
    let (status, _, body) = read(
        fake.send(
            Method::POST,
            "/__understudy/vendors/dub/actions/record-events",
            &[],
            Some(&body),
        )
        .await,
    )
    .await;
    (status, body)
}

const SEEDED_APPROVED: &str = "pn_SEEDapproved000000000001";
const SEEDED_LINK: &str = "link_SEEDapprovedlink00000001";

#[tokio::test]
async fn todays_create_uses_the_default_program_and_updates_an_enrolled_email() {
    let fake = Fake::start().await;
    let (status, first) = post(&fake, "/partners", json!({"email": "new@example.com"})).await;
    assert_eq!(status, 201, "{first}");
    assert_eq!(first["programId"], "prog_understudy");
    assert_eq!(
        first["name"], "new@example.com",
        "the email stands in for the name"
    );
    let key = first["links"][0]["key"].as_str().unwrap();
    assert_eq!(key.len(), 7, "a random key without username");

    let again = json!({"email": "NEW@example.com", "tenantId": "t-new", "groupId": "grp_1"});
    let (status, second) = post(&fake, "/partners", again).await;
    assert_eq!(status, 201, "{second}");
    assert_eq!(second["id"], first["id"]);
    assert_eq!(
        (&second["tenantId"], &second["groupId"]),
        (&json!("t-new"), &json!("grp_1"))
    );
    assert_eq!(second["links"].as_array().unwrap().len(), 1, "no new link");

    // The 0.18.0 generation (programId in the body) still gets that server's 409.
    let legacy =
        json!({"programId": "prog_understudy", "email": "new@example.com", "username": "n2"});
    let (status, body) = post(&fake, "/partners", legacy).await;
    assert_eq!((status, error_code(&body)), (409, "conflict"));

    // Another enrolment's tenantId is a conflict either way, and changes nothing.
    let (_, other) = post(
        &fake,
        "/partners",
        json!({"email": "o@example.com", "tenantId": "t-o"}),
    )
    .await;
    let steal = json!({"email": "new@example.com", "tenantId": "t-o"});
    assert_eq!(post(&fake, "/partners", steal).await.0, 409);
    let (_, listed) = get(&fake, "/partners?tenantId=t-o").await;
    assert_eq!(listed[0]["id"], other["id"]);
}

#[tokio::test]
async fn listing_filters_sorts_and_pages_the_default_program() {
    let fake = Fake::start().await;
    let (status, all) = get(&fake, "/partners").await;
    assert_eq!(status, 200, "{all}");
    let statuses: Vec<&str> = all
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["status"].as_str().unwrap())
        .collect();
    assert_eq!(statuses.len(), 4, "the seeded partners of prog_understudy");
    assert_eq!(all[0]["id"], SEEDED_APPROVED, "most sales first by default");
    assert_eq!(
        (&all[0]["totalClicks"], &all[0]["totalSaleAmount"]),
        (&json!(120), &json!(14700))
    );
    assert_eq!(all[0]["clickToLeadRate"], json!(0.1));
    for status in ["approved", "pending", "banned", "deactivated"] {
        assert!(statuses.contains(&status), "{status} listed");
    }
    let (_, banned) = get(&fake, "/partners?status=banned").await;
    assert_eq!(banned.as_array().unwrap().len(), 1);
    assert_eq!(banned[0]["bannedReason"], "fake_traffic");
    let (_, found) = get(&fake, "/partners?search=DEE-deact").await;
    assert_eq!(
        found[0]["name"], "Dee Deactivated",
        "search matches link keys, case-insensitively"
    );
    let (_, gb) = get(&fake, "/partners?country=GB").await;
    assert_eq!(gb.as_array().unwrap().len(), 1);
    let (_, page) = get(
        &fake,
        "/partners?sortBy=createdAt&sortOrder=desc&page=2&pageSize=3",
    )
    .await;
    assert_eq!(page.as_array().unwrap().len(), 1);
    assert_eq!(
        page[0]["id"], SEEDED_APPROVED,
        "the oldest is last when newest come first"
    );
    let (_, past) = get(&fake, "/partners?page=9&pageSize=3").await;
    assert_eq!(past, json!([]));
    let (status, body) = get(&fake, "/partners?pageSize=101").await;
    assert_eq!((status, error_code(&body)), (422, "unprocessable_entity"));
}

#[tokio::test]
async fn ban_disables_links_and_bans_once_deactivate_only_from_approved() {
    let fake = Fake::start().await;
    let (_, p) = post(
        &fake,
        "/partners",
        json!({"email": "b@example.com", "username": "bkey"}),
    )
    .await;
    let id = p["id"].as_str().unwrap();
    let ban = json!({"partnerId": id, "reason": "spam"});
    let (status, body) = post(&fake, "/partners/ban", ban.clone()).await;
    assert_eq!((status, &body), (200, &json!({"partnerId": id})));
    let (status, body) = post(&fake, "/partners/ban", ban).await;
    assert_eq!((status, error_code(&body)), (400, "bad_request"));
    assert_eq!(
        body["error"]["message"],
        "This partner is already banned from your program."
    );
    let (status, body) = post(&fake, "/partners/deactivate", json!({"partnerId": id})).await;
    assert_eq!(status, 400);
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .ends_with("is \"banned\"."),
        "{body}"
    );

    let (_, listed) = get(&fake, "/partners?email=b@example.com").await;
    assert_eq!(
        (&listed[0]["status"], &listed[0]["bannedReason"]),
        (&json!("banned"), &json!("spam"))
    );
    let link = json!({"partnerId": id, "url": "https://understudy.example/x"});
    let (status, body) = post(&fake, "/partners/links", link).await;
    assert_eq!(
        (status, error_code(&body)),
        (400, "bad_request"),
        "no new links for a banned partner"
    );
    let link_id = p["links"][0]["id"].as_str().unwrap();
    let (status, _) = admin_events(&fake, json!({"linkId": link_id, "clicks": 1})).await;
    assert_eq!(status, 400, "a disabled link records no events");

    let (status, body) = post(
        &fake,
        "/partners/ban",
        json!({"partnerId": "pn_nobody", "reason": "spam"}),
    )
    .await;
    assert_eq!((status, error_code(&body)), (404, "not_found"));
    assert_eq!(
        body["error"]["message"],
        "Partner pn_nobody is not enrolled in program prog_understudy."
    );
    let (status, body) = post(&fake, "/partners/ban", json!({"reason": "spam"})).await;
    assert_eq!((status, error_code(&body)), (400, "bad_request"));
    let (status, _) = post(
        &fake,
        "/partners/ban",
        json!({"partnerId": id, "reason": "rude"}),
    )
    .await;
    assert_eq!(status, 422);
    let (status, body) = post(
        &fake,
        "/partners/ban",
        json!({"tenantId": "seed-pending", "reason": "spam"}),
    )
    .await;
    assert_eq!(
        body["error"]["message"], "This partner is not approved yet to be banned.",
        "{status}"
    );

    let (status, body) = post(
        &fake,
        "/partners/deactivate",
        json!({"tenantId": "seed-approved"}),
    )
    .await;
    assert_eq!((status, &body["partnerId"]), (200, &json!(SEEDED_APPROVED)));
    let (_, links) = get(&fake, "/partners/links?tenantId=seed-approved").await;
    assert_eq!(
        links[0]["clicks"], 120,
        "a deactivated partner's links are still listed"
    );
    let (status, _) = admin_events(&fake, json!({"linkId": SEEDED_LINK, "clicks": 1})).await;
    assert_eq!(status, 400, "an expired link records no events");
    let (status, _) = post(
        &fake,
        "/partners/deactivate",
        json!({"tenantId": "seed-approved"}),
    )
    .await;
    assert_eq!(status, 400, "deactivating twice");
}

#[tokio::test]
async fn analytics_answer_from_recorded_events_in_each_grouping() {
    let fake = Fake::start().await;
    let q = "/partners/analytics?partnerId=pn_SEEDapproved000000000001";
    let (status, count) = get(&fake, q).await;
    assert_eq!(status, 200, "{count}");
    assert_eq!(
        count,
        json!({"clicks": 120, "leads": 12, "sales": 3, "saleAmount": 14700, "earnings": 2940})
    );
    let window = "&start=2025-01-06T00:00:00Z&end=2025-01-31T00:00:00Z";
    let (_, jan) = get(&fake, &format!("{q}{window}")).await;
    assert_eq!(jan["clicks"], 100, "the February event is outside");
    let (_, series) = get(&fake, &format!("{q}{window}&groupBy=timeseries")).await;
    let series = series.as_array().unwrap();
    assert_eq!(series.len(), 26, "daily buckets, zeros included");
    assert_eq!(series[0]["start"], "2025-01-06T00:00:00.000Z");
    assert_eq!(
        (&series[0]["clicks"], &series[14]["clicks"]),
        (&json!(40), &json!(60))
    );
    let (_, top) = get(&fake, &format!("{q}&groupBy=top_links")).await;
    assert_eq!(
        (&top[0]["link"], &top[0]["earnings"]),
        (&json!(SEEDED_LINK), &json!(2940))
    );

    let (status, recorded) = admin_events(
        &fake,
        json!({"linkId": SEEDED_LINK, "clicks": 5, "sales": 1, "saleAmount": 100}),
    )
    .await;
    assert_eq!(status, 200, "{recorded}");
    assert_eq!(recorded["clicks"], 125);
    let (_, day) = get(&fake, &format!("{q}&interval=24h")).await;
    assert_eq!(
        (&day["clicks"], &day["saleAmount"]),
        (&json!(5), &json!(100))
    );
    let (status, _) =
        admin_events(&fake, json!({"linkId": SEEDED_LINK, "clicks": 1_000_001})).await;
    assert_eq!(status, 400, "bounded counts");
    let (status, _) = admin_events(&fake, json!({"linkId": "link_nobody", "clicks": 1})).await;
    assert_eq!(status, 400);

    let (status, body) = get(&fake, "/partners/analytics?tenantId=nobody").await;
    assert_eq!((status, error_code(&body)), (404, "not_found"));
    let (status, body) = get(
        &fake,
        &format!("{q}&start=2025-02-01T00:00:00Z&end=2025-01-01T00:00:00Z"),
    )
    .await;
    assert_eq!((status, error_code(&body)), (400, "bad_request"));
}

#[tokio::test]
async fn the_new_operations_need_the_advanced_plan() {
    let fake = Fake::start().await;
    for (method, path) in [
        (Method::GET, "/dub/partners/links?partnerId=pn_x"),
        (Method::GET, "/dub/partners/analytics?partnerId=pn_x"),
        (Method::POST, "/dub/partners/ban"),
        (Method::POST, "/dub/partners/deactivate"),
        (Method::GET, "/dub/partners"),
    ] {
        let body = (method == Method::POST).then(|| json!({"partnerId": "pn_x", "reason": "spam"}));
        let (status, _, body) = read(fake.send(method, path, &[FREE], body.as_ref()).await).await;
        assert_eq!((status, error_code(&body)), (403, "forbidden"), "{path}");
    }
}
