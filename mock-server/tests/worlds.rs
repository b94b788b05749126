//! Worlds over HTTP: isolated state, clock, rate limits, faults and journal per world, selected
//! by header or path prefix, with the admin API per world and the caps.

mod common;

use common::{Fake, read};
use reqwest::Method;
use serde_json::{Value, json};

const DUB: (&str, &str) = ("Authorization", "Bearer dub_understudy_test");

fn partner(email: &str) -> Value {
    let username = email.split('@').next().unwrap_or(email);
    json!({"programId": "prog_understudy", "name": "Ada", "email": email, "username": username})
}

fn in_world(world: &str) -> [(&str, &str); 2] {
    [DUB, ("X-Understudy-World", world)]
}

async fn create(fake: &Fake, path: &str, headers: &[(&str, &str)], email: &str) -> (u16, Value) {
    let (status, _, body) = read(
        fake.send(Method::POST, path, headers, Some(&partner(email)))
            .await,
    )
    .await;
    (status, body)
}

async fn admin(fake: &Fake, method: Method, path: &str, body: Option<&Value>) -> (u16, Value) {
    let (status, _, body) = read(fake.send(method, path, &[], body).await).await;
    (status, body)
}

fn partners(state: &Value) -> usize {
    state["partners"].as_object().map_or(0, |p| p.len())
}

#[tokio::test]
async fn two_worlds_take_the_same_email_and_both_selectors_reach_the_same_world() {
    let fake = Fake::start().await;
    let (a, _) = create(&fake, "/dub/partners", &in_world("a"), "ada@example.com").await;
    let (b, _) = create(&fake, "/__world/b/dub/partners", &[DUB], "ada@example.com").await;
    assert_eq!((a, b), (201, 201), "each world has its own partners");
    // The default world saw neither.
    let (default, _) = create(&fake, "/dub/partners", &[DUB], "ada@example.com").await;
    assert_eq!(default, 201);
    // The header and the prefix name the same world: the email is taken there now.
    let (again, body) = create(&fake, "/__world/a/dub/partners", &[DUB], "ada@example.com").await;
    assert_eq!(again, 409, "{body}");
    let (again, _) = create(&fake, "/dub/partners", &in_world("b"), "ada@example.com").await;
    assert_eq!(again, 409);
    // Both selectors at once must agree.
    let (both, _) = create(
        &fake,
        "/__world/a/dub/partners",
        &in_world("a"),
        "grace@example.com",
    )
    .await;
    assert_eq!(both, 201);
    let (status, body) = create(
        &fake,
        "/__world/a/dub/partners",
        &in_world("b"),
        "grace@example.com",
    )
    .await;
    assert_eq!(status, 400);
    assert_eq!(body["error"]["code"], "world_conflict");
    assert_eq!(fake.worlds(), 2);
}

#[tokio::test]
async fn a_bad_world_name_is_a_400_with_a_clear_body_and_changes_nothing() {
    let fake = Fake::start().await;
    let long = "x".repeat(65);
    for (path, header) in [
        ("/__world/a%20b/dub/partners".to_string(), None),
        (format!("/__world/{long}/dub/partners"), None),
        ("/dub/partners".to_string(), Some("no/slashes")),
        ("/dub/partners".to_string(), Some("")),
        ("/__world//dub/partners".to_string(), None),
    ] {
        let mut headers = vec![DUB];
        if let Some(header) = header {
            headers.push(("X-Understudy-World", header));
        }
        let (status, body) = create(&fake, &path, &headers, "ada@example.com").await;
        assert_eq!(status, 400, "{path} {header:?}");
        assert_eq!(body["error"]["code"], "bad_world", "{body}");
        assert!(
            body["error"]["message"]
                .as_str()
                .unwrap()
                .contains("1-64 characters"),
            "{body}"
        );
    }
    assert_eq!(fake.worlds(), 0);
    assert_eq!(fake.journal().count(), 0);
}

#[tokio::test]
async fn a_reset_of_one_world_leaves_the_other_whole() {
    let fake = Fake::start().await;
    for world in ["a", "b"] {
        let (status, _) = create(&fake, "/dub/partners", &in_world(world), "ada@example.com").await;
        assert_eq!(status, 201);
    }
    let (_, before) = admin(
        &fake,
        Method::GET,
        "/__understudy/worlds/b/vendors/dub/state",
        None,
    )
    .await;
    let (status, _) = admin(&fake, Method::POST, "/__understudy/worlds/a/reset", None).await;
    assert_eq!(status, 204);
    let (_, a) = admin(
        &fake,
        Method::GET,
        "/__understudy/worlds/a/vendors/dub/state",
        None,
    )
    .await;
    let (_, b) = admin(
        &fake,
        Method::GET,
        "/__understudy/worlds/b/vendors/dub/state",
        None,
    )
    .await;
    assert_eq!(b, before, "world b is untouched");
    assert_eq!(
        partners(&a) + 1,
        partners(&b),
        "world a is back to its seed"
    );
    // The header reaches the same admin routes.
    let (status, _, body) = read(
        fake.send(
            Method::GET,
            "/__understudy/vendors/dub/state",
            &[("X-Understudy-World", "b")],
            None,
        )
        .await,
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(body, before);
}

#[tokio::test]
async fn exhausting_the_rate_limit_in_one_world_leaves_the_others_budget() {
    let fake = Fake::with_config("rate_limits: {dub: {limit: 2}}").await;
    let upsert = json!({"programId": "prog_understudy", "tenantId": "nobody", "url": "https://understudy.example/x"});
    let send = |world: &'static str| {
        let fake = &fake;
        let upsert = upsert.clone();
        async move {
            read(
                fake.send(
                    Method::PUT,
                    "/dub/partners/links/upsert",
                    &in_world(world),
                    Some(&upsert),
                )
                .await,
            )
            .await
            .0
        }
    };
    assert_eq!(send("a").await, 404);
    assert_eq!(send("a").await, 404);
    assert_eq!(send("a").await, 429, "world a spent its budget");
    assert_eq!(send("b").await, 404, "world b has its own");
    assert_eq!(send("b").await, 404);
    assert_eq!(send("b").await, 429);
    // A world's own limit: lifted in a alone.
    let (status, _) = admin(
        &fake,
        Method::PUT,
        "/__understudy/worlds/a/rate-limits/dub",
        Some(&Value::Null),
    )
    .await;
    assert_eq!(status, 204);
    assert_eq!(send("a").await, 404);
    assert_eq!(send("b").await, 429);
}

#[tokio::test]
async fn the_clock_faults_mutants_and_journal_are_per_world() {
    let fake = Fake::start().await;
    let (status, moved) = admin(
        &fake,
        Method::POST,
        "/__understudy/worlds/a/clock/advance",
        Some(&json!({"seconds": 86400})),
    )
    .await;
    assert_eq!(status, 200);
    let (_, other) = admin(&fake, Method::GET, "/__understudy/worlds/b/clock", None).await;
    let (_, default) = admin(&fake, Method::GET, "/__understudy/clock", None).await;
    assert_eq!(moved["offset_ms"], 86_400_000);
    assert_eq!(other["offset_ms"], 0);
    assert_eq!(default["offset_ms"], 0);

    let rule = json!([{"vendor": "dub", "operation": "createPartner", "status": 500}]);
    let (status, _) = admin(
        &fake,
        Method::PUT,
        "/__understudy/worlds/a/faults",
        Some(&rule),
    )
    .await;
    assert_eq!(status, 204);
    let (a, _) = create(&fake, "/dub/partners", &in_world("a"), "ada@example.com").await;
    let (b, _) = create(&fake, "/dub/partners", &in_world("b"), "ada@example.com").await;
    assert_eq!((a, b), (500, 201));

    let (status, _) = admin(
        &fake,
        Method::PUT,
        "/__understudy/worlds/b/mutants",
        Some(&json!({"active": ["dub.duplicate-email-enrolled"]})),
    )
    .await;
    assert_eq!(status, 200, "a mutant the catalogue has");
    let (_, mutants) = admin(&fake, Method::GET, "/__understudy/mutants", None).await;
    assert_eq!(mutants["active"], json!([]), "the default world has none");

    let (_, journal) = admin(&fake, Method::GET, "/__understudy/worlds/a/journal", None).await;
    assert_eq!(journal.as_array().unwrap().len(), 1);
    let entry = &journal[0];
    assert_eq!(entry["path"], "/dub/partners");
    let headers = entry["request"]["headers"].as_object().unwrap();
    assert!(
        !headers.contains_key("x-understudy-world"),
        "the selector is not a vendor header: {headers:?}"
    );
    assert_eq!(fake.journal().count(), 0, "the default world saw nothing");
}

#[tokio::test]
async fn worlds_are_listed_and_deleted_and_a_deleted_world_starts_afresh() {
    let fake = Fake::start().await;
    create(&fake, "/dub/partners", &in_world("keep"), "ada@example.com").await;
    create(&fake, "/dub/partners", &in_world("drop"), "ada@example.com").await;
    let (status, list) = admin(&fake, Method::GET, "/__understudy/worlds", None).await;
    assert_eq!(status, 200);
    let names: Vec<&str> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["default", "drop", "keep"]);
    let seeded = list[0]["resources"]["dub"].as_u64().unwrap();
    assert!(list[1]["resources"]["dub"].as_u64().unwrap() > seeded);
    assert_eq!(list[1]["journal"], 1);

    let (status, _) = admin(&fake, Method::DELETE, "/__understudy/worlds/drop", None).await;
    assert_eq!(status, 204);
    let (status, body) = admin(&fake, Method::DELETE, "/__understudy/worlds/drop", None).await;
    assert_eq!(
        (status, &body["error"]["code"]),
        (404, &json!("unknown_world"))
    );
    let (status, _) = create(&fake, "/dub/partners", &in_world("drop"), "ada@example.com").await;
    assert_eq!(status, 201, "a new world from the seed");
    let (status, _) = create(&fake, "/dub/partners", &in_world("keep"), "ada@example.com").await;
    assert_eq!(status, 409, "the other world kept its partner");
}

#[tokio::test]
async fn at_the_cap_the_least_recently_used_world_makes_room() {
    let fake = Fake::with_config("worlds: {max_worlds: 2}").await;
    for world in ["w1", "w2"] {
        create(&fake, "/dub/partners", &in_world(world), "ada@example.com").await;
    }
    // w1 is used again, so w2 is the least recently used when w3 arrives.
    create(&fake, "/dub/partners", &in_world("w1"), "grace@example.com").await;
    let (status, _) = create(&fake, "/dub/partners", &in_world("w3"), "ada@example.com").await;
    assert_eq!(status, 201);
    let (_, list) = admin(&fake, Method::GET, "/__understudy/worlds", None).await;
    let names: Vec<&str> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["default", "w1", "w3"]);
    let (status, _) = create(&fake, "/dub/partners", &in_world("w1"), "ada@example.com").await;
    assert_eq!(status, 409, "w1 was kept whole");
}

#[tokio::test]
async fn the_global_resource_cap_bounds_every_world_together() {
    let fake = Fake::start().await;
    let (_, list) = admin(&fake, Method::GET, "/__understudy/worlds", None).await;
    let seeded: u64 = list[0]["resources"]
        .as_object()
        .unwrap()
        .values()
        .map(|n| n.as_u64().unwrap())
        .sum();
    drop(fake);
    // Room for the default world's seed, one world's seed and two more resources.
    let fake = Fake::with_config(&format!(
        "worlds: {{max_total_resources: {}}}",
        2 * seeded + 2
    ))
    .await;
    let mut statuses = Vec::new();
    for n in 0..3 {
        let (status, _) = create(
            &fake,
            "/dub/partners",
            &in_world("a"),
            &format!("p{n}@example.com"),
        )
        .await;
        statuses.push(status);
    }
    // Dub stores a partner and its enrolment's link: two resources per create, or one; either
    // way the third create is past the cap, and is refused in Dub's own envelope.
    assert_eq!(statuses[0], 201);
    assert_eq!(*statuses.last().unwrap(), 403, "{statuses:?}");
}

#[tokio::test]
async fn a_one_vendor_fake_takes_the_prefix_before_its_root() {
    let fake = Fake::start_with(understudy::server::Options {
        mount: understudy::Mount::Root(understudy::VendorId::Dub),
        ..understudy::server::Options::default()
    })
    .await;
    let (a, _) = create(&fake, "/__world/a/partners", &[DUB], "ada@example.com").await;
    let (b, _) = create(&fake, "/partners", &in_world("b"), "ada@example.com").await;
    let (a2, _) = create(&fake, "/__world/a/partners", &[DUB], "ada@example.com").await;
    assert_eq!((a, b, a2), (201, 201, 409));
}

#[tokio::test]
async fn the_embedding_api_reaches_each_world() {
    let fake = Fake::start().await;
    let world = fake.world("embedded").unwrap();
    let response = fake
        .client
        .post(format!(
            "{}/partners",
            world.vendor_url(understudy::VendorId::Dub)
        ))
        .bearer_auth("dub_understudy_test")
        .json(&partner("ada@example.com"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201);
    assert_eq!(world.journal().operation("createPartner").count(), 1);
    assert_eq!(fake.journal().count(), 0);
    let state = world.vendor_state(understudy::VendorId::Dub);
    assert_eq!(
        partners(&state),
        partners(&fake.vendor_state(understudy::VendorId::Dub)) + 1
    );
}
