//! The admin API over real HTTP: every documented route answers as its own OpenAPI document
//! says; reset, export and import round-trip exactly; the clock, limits, faults, the journal and
//! mutants can be read and changed.

mod common;

use common::{Fake, read};
use reqwest::Method;
use serde_json::{Value, json};
use understudy::VendorId;
use understudy::spec::openapi30_to_2020_12;

const DUB: [(&str, &str); 1] = [("Authorization", "Bearer dub_understudy_test")];

fn partner(n: usize) -> Value {
    json!({"programId": "prog_understudy", "name": format!("P {n}"), "email": format!("p{n}@example.com"), "username": format!("p{n}")})
}

async fn admin(fake: &Fake, method: Method, path: &str, body: Option<Value>) -> (u16, Value) {
    let (status, _, body) = read(
        fake.send(method, &format!("/__understudy{path}"), &[], body.as_ref())
            .await,
    )
    .await;
    (status, body)
}

/// The admin document as served (each world-scoped route also under `/worlds/{world}`), with
/// 3.0's `nullable` rewritten, to validate responses against.
fn document() -> Value {
    let mut document =
        understudy::admin::with_world_routes(understudy::admin::OPENAPI_YAML).unwrap();
    openapi30_to_2020_12(&mut document);
    document
}

/// Checks `body` against the schema of `path`/`method`/`status` in the admin document.
fn conforms(document: &Value, path: &str, method: &str, status: u16, body: &Value) {
    let response = &document["paths"][path][method]["responses"][status.to_string()];
    assert!(
        !response.is_null(),
        "{method} {path} does not document {status}"
    );
    let response = match response.get("$ref").and_then(Value::as_str) {
        Some(r) => &document["components"]["responses"][r.rsplit('/').next().unwrap()],
        None => response,
    };
    let Some(schema) = response.pointer("/content/application~1json/schema") else {
        assert!(body.is_null(), "{method} {path} {status} documents no body");
        return;
    };
    // The schema as the root, with the document's components beside it for its $refs.
    let mut root = schema.clone();
    if let Value::Object(map) = &mut root {
        map.insert("components".into(), document["components"].clone());
    } else {
        root = json!({"allOf": [schema], "components": document["components"]});
    }
    let validator = jsonschema::options()
        .should_validate_formats(true)
        .build(&root)
        .unwrap();
    let errors: Vec<String> = validator.iter_errors(body).map(|e| e.to_string()).collect();
    assert!(errors.is_empty(), "{method} {path} {status}: {errors:?}");
}

#[tokio::test]
async fn openapi_document_is_served_and_every_route_answers_as_documented() {
    let fake = Fake::start().await;
    let (status, served) = admin(&fake, Method::GET, "/openapi.json", None).await;
    assert_eq!(status, 200);
    let raw: Value = serde_norway::from_str(understudy::admin::OPENAPI_YAML).unwrap();
    serde_json::from_value::<openapiv3::OpenAPI>(raw).expect("a valid OpenAPI 3.0 document");
    let expanded = understudy::admin::with_world_routes(understudy::admin::OPENAPI_YAML).unwrap();
    assert_eq!(served, expanded);
    serde_json::from_value::<openapiv3::OpenAPI>(expanded)
        .expect("the served document is a valid OpenAPI 3.0 document too");
    let doc = document();
    let calls: Vec<(Method, &str, &str, Option<Value>)> = vec![
        (Method::GET, "/openapi.json", "/openapi.json", None),
        (Method::GET, "/health", "/health", None),
        (Method::GET, "/state", "/state", None),
        (
            Method::GET,
            "/vendors/{vendor}/state",
            "/vendors/dub/state",
            None,
        ),
        (
            Method::GET,
            "/vendors/{vendor}/state",
            "/vendors/nobody/state",
            None,
        ),
        (Method::GET, "/rate-limits", "/rate-limits", None),
        (
            Method::PUT,
            "/rate-limits/{vendor}",
            "/rate-limits/enhance",
            Some(
                json!({"algorithm": "fixed_window", "limit": 1, "window_seconds": 1, "reset": "epoch_ms", "retry_after": "seconds"}),
            ),
        ),
        (
            Method::PUT,
            "/rate-limits/{vendor}",
            "/rate-limits/confluent",
            Some(Value::Null),
        ),
        (Method::GET, "/faults", "/faults", None),
        (
            Method::PUT,
            "/faults",
            "/faults",
            Some(json!([{"vendor": "dub", "operation": "createPartner", "status": 418}])),
        ),
        (
            Method::PUT,
            "/faults",
            "/faults",
            Some(
                json!([{"vendor": "dub", "operation": "createPartner", "status": 500, "rate": 0.5, "seed": 1}]),
            ),
        ),
        (Method::DELETE, "/faults", "/faults", None),
        (Method::GET, "/clock", "/clock", None),
        (
            Method::POST,
            "/clock/advance",
            "/clock/advance",
            Some(json!({"seconds": -1})),
        ),
        (
            Method::POST,
            "/clock/advance",
            "/clock/advance",
            Some(json!({"seconds": 1.5})),
        ),
        (Method::GET, "/journal", "/journal", None),
        (Method::DELETE, "/journal", "/journal", None),
        (Method::GET, "/mutants", "/mutants", None),
        (
            Method::PUT,
            "/mutants",
            "/mutants",
            Some(json!({"active": ["no.such-mutant"]})),
        ),
        (
            Method::PUT,
            "/mutants",
            "/mutants",
            Some(json!({"active": []})),
        ),
        (
            Method::PUT,
            "/vendors/{vendor}/state",
            "/vendors/dub/state",
            Some(json!({"partners": 3})),
        ),
        (
            Method::POST,
            "/vendors/{vendor}/reset",
            "/vendors/dub/reset",
            None,
        ),
        (
            Method::POST,
            "/vendors/{vendor}/reset",
            "/vendors/nobody/reset",
            None,
        ),
        (
            Method::PUT,
            "/state",
            "/state",
            Some(json!({"format": "other", "vendors": {}})),
        ),
        (
            Method::POST,
            "/vendors/{vendor}/actions/{action}",
            "/vendors/archera/actions/aws-stack-deployed",
            Some(
                json!({"org_id": "b7e4c1d2-6a3f-4b8e-9c5d-2f1a0e7b3c96", "account_id": "210987654321"}),
            ),
        ),
        (
            Method::POST,
            "/vendors/{vendor}/actions/{action}",
            "/vendors/archera/actions/fly",
            Some(json!({})),
        ),
        (
            Method::POST,
            "/vendors/{vendor}/actions/{action}",
            "/vendors/nobody/actions/fly",
            Some(json!({})),
        ),
        (Method::POST, "/reset", "/reset", None),
    ];
    // The same calls again in one world, through its admin prefix.
    let in_world: Vec<(Method, String, String, Option<Value>)> = calls
        .iter()
        .filter(|(_, template, _, _)| !matches!(*template, "/health" | "/openapi.json"))
        .map(|(method, template, path, body)| {
            (
                method.clone(),
                format!("/worlds/{{world}}{template}"),
                format!("/worlds/t-admin{path}"),
                body.clone(),
            )
        })
        .chain([
            (Method::GET, "/worlds".into(), "/worlds".into(), None),
            (
                Method::DELETE,
                "/worlds/{world}".into(),
                "/worlds/t-admin".into(),
                None,
            ),
            (
                Method::DELETE,
                "/worlds/{world}".into(),
                "/worlds/t-admin".into(),
                None,
            ),
            (
                Method::DELETE,
                "/worlds/{world}".into(),
                "/worlds/default".into(),
                None,
            ),
            (
                Method::DELETE,
                "/worlds/{world}".into(),
                "/worlds/a%20b".into(),
                None,
            ),
            (
                Method::GET,
                "/worlds/{world}/clock".into(),
                "/worlds/a%20b/clock".into(),
                None,
            ),
        ])
        .collect();
    let calls = calls
        .into_iter()
        .map(|(m, t, p, b)| (m, t.to_string(), p.to_string(), b))
        .chain(in_world);
    let mut seen = std::collections::BTreeSet::new();
    let mut statuses = std::collections::BTreeMap::<(String, String), Vec<u16>>::new();
    for (method, template, path, body) in calls {
        let (template, path) = (template.as_str(), path.as_str());
        let (status, response) = admin(&fake, method.clone(), path, body).await;
        let name = method.as_str().to_ascii_lowercase();
        conforms(&doc, template, &name, status, &response);
        statuses
            .entry((template.to_string(), name.clone()))
            .or_default()
            .push(status);
        seen.insert((template.to_string(), name));
    }
    assert_eq!(
        statuses[&("/worlds/{world}".to_string(), "delete".to_string())],
        [204, 404, 400, 400]
    );
    assert_eq!(
        statuses[&("/worlds/{world}/clock".to_string(), "get".to_string())],
        [200, 400]
    );
    // Every documented operation was exercised.
    for (path, item) in doc["paths"].as_object().unwrap() {
        for method in item
            .as_object()
            .unwrap()
            .keys()
            .filter(|k| *k != "parameters" && !k.starts_with("x-"))
        {
            assert!(
                seen.contains(&(path.clone(), method.clone())),
                "{method} {path} untested"
            );
        }
    }
}

#[tokio::test]
async fn export_import_round_trips_exactly_and_reset_restores_the_seed() {
    let fake = Fake::start().await;
    let (_, seeded) = admin(&fake, Method::GET, "/state", None).await;
    for n in 0..3 {
        let response = fake
            .send(Method::POST, "/dub/partners", &DUB, Some(&partner(n)))
            .await;
        assert_eq!(response.status().as_u16(), 201);
    }
    let (_, exported) = admin(&fake, Method::GET, "/state", None).await;
    assert_ne!(exported, seeded);
    // The three new partners beside the seeded ones.
    let partners = |state: &Value| {
        state["vendors"]["dub"]["partners"]
            .as_object()
            .unwrap()
            .len()
    };
    assert_eq!(partners(&exported), partners(&seeded) + 3);

    let (status, _) = admin(&fake, Method::POST, "/reset", None).await;
    assert_eq!(status, 204);
    assert_eq!(admin(&fake, Method::GET, "/state", None).await.1, seeded);

    let (status, _) = admin(&fake, Method::PUT, "/state", Some(exported.clone())).await;
    assert_eq!(status, 204);
    assert_eq!(admin(&fake, Method::GET, "/state", None).await.1, exported);
    // The imported partner exists for the vendor too: creating it again enrolls, not duplicates.
    let response = fake
        .send(Method::POST, "/dub/partners", &DUB, Some(&partner(0)))
        .await;
    assert_eq!(response.status().as_u16(), 409);

    // A document with one bad vendor changes nothing at all.
    let mut bad = exported.clone();
    bad["vendors"]["dub"] = json!({"partners": "not a map"});
    bad["vendors"]["confluent"] = seeded["vendors"]["confluent"].clone();
    let (status, body) = admin(&fake, Method::PUT, "/state", Some(bad)).await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(admin(&fake, Method::GET, "/state", None).await.1, exported);

    // Resetting one vendor leaves the others.
    let (status, _) = admin(&fake, Method::POST, "/vendors/dub/reset", None).await;
    assert_eq!(status, 204);
    let (_, after) = admin(&fake, Method::GET, "/vendors/dub/state", None).await;
    assert_eq!(after, seeded["vendors"]["dub"]);
}

#[tokio::test]
async fn the_clock_moves_rate_limit_windows() {
    let fake = Fake::with_config("rate_limits: {dub: {limit: 1}}").await;
    let upsert = json!({"programId": "prog_understudy", "tenantId": "x", "url": "https://understudy.example/x"});
    let send = || {
        fake.send(
            Method::PUT,
            "/dub/partners/links/upsert",
            &DUB,
            Some(&upsert),
        )
    };
    assert_eq!(send().await.status().as_u16(), 404);
    assert_eq!(send().await.status().as_u16(), 429);
    let (status, clock) = admin(
        &fake,
        Method::POST,
        "/clock/advance",
        Some(json!({"seconds": 60})),
    )
    .await;
    assert_eq!(status, 200);
    assert!(clock["offset_ms"].as_i64().unwrap() >= 60_000);
    assert_eq!(send().await.status().as_u16(), 404);
    // Changing the limit through the admin API takes effect at once and forgets usage.
    let limit = json!({"algorithm": "sliding_window", "limit": 2, "window_seconds": 60, "reset": "epoch_ms", "retry_after": "same_as_reset"});
    let (status, _) = admin(&fake, Method::PUT, "/rate-limits/dub", Some(limit.clone())).await;
    assert_eq!(status, 204);
    assert_eq!(
        admin(&fake, Method::GET, "/rate-limits", None).await.1["dub"]["limit"],
        2
    );
    assert_eq!(send().await.status().as_u16(), 404);
    assert_eq!(send().await.status().as_u16(), 404);
    assert_eq!(send().await.status().as_u16(), 429);
    // A vendor that documents no 429 cannot be limited.
    let (status, _) = admin(&fake, Method::PUT, "/rate-limits/enhance", Some(limit)).await;
    assert_eq!(status, 400);
}

#[tokio::test]
async fn faults_set_through_the_admin_api_apply_and_clear() {
    let fake = Fake::start().await;
    let seeded = fake.store(VendorId::Dub).export()["partners"]
        .as_object()
        .unwrap()
        .len();
    let rules = json!([{"vendor": "dub", "operation": "createPartner", "status": 503}]);
    let (status, _) = admin(&fake, Method::PUT, "/faults", Some(rules)).await;
    assert_eq!(status, 400, "503 is not documented for createPartner");
    let rules = json!([{"vendor": "dub", "operation": "createPartner", "status": 500}]);
    assert_eq!(
        admin(&fake, Method::PUT, "/faults", Some(rules)).await.0,
        204
    );
    let response = fake
        .send(Method::POST, "/dub/partners", &DUB, Some(&partner(1)))
        .await;
    assert_eq!(response.status().as_u16(), 500);
    assert_eq!(admin(&fake, Method::DELETE, "/faults", None).await.0, 204);
    let response = fake
        .send(Method::POST, "/dub/partners", &DUB, Some(&partner(1)))
        .await;
    assert_eq!(response.status().as_u16(), 201);
    // The forced 500 stored nothing.
    let state = fake.store(VendorId::Dub).export();
    assert_eq!(state["partners"].as_object().unwrap().len(), seeded + 1);
}

#[tokio::test]
async fn the_journal_is_bounded_filtered_newest_first_and_redacted() {
    let fake = Fake::with_config("journal_capacity: 5").await;
    for n in 0..4 {
        fake.send(Method::POST, "/dub/partners", &DUB, Some(&partner(n)))
            .await;
    }
    for _ in 0..4 {
        fake.send(
            Method::GET,
            "/enhance/orgs/00000000-0000-4000-8000-000000000001/customers",
            &[("Authorization", "Bearer enhance_understudy_test")],
            None,
        )
        .await;
    }
    let (status, entries) = admin(&fake, Method::GET, "/journal", None).await;
    assert_eq!(status, 200);
    let entries = entries.as_array().unwrap();
    assert_eq!(entries.len(), 5, "the ring keeps the newest five");
    let ids: Vec<i64> = entries.iter().map(|e| e["id"].as_i64().unwrap()).collect();
    assert!(ids.windows(2).all(|w| w[0] > w[1]), "newest first: {ids:?}");
    let (_, dub) = admin(
        &fake,
        Method::GET,
        "/journal?vendor=dub&operation=createPartner",
        None,
    )
    .await;
    assert_eq!(dub.as_array().unwrap().len(), 1);
    assert_eq!(dub[0]["path"], "/dub/partners");
    assert_eq!(dub[0]["status"], 201);
    assert_eq!(dub[0]["request"]["body"]["name"], "P 3");
    let text = serde_json::to_string(&entries).unwrap();
    assert!(!text.contains("dub_understudy_test") && !text.contains("enhance_understudy_test"));
    let (_, limited) = admin(&fake, Method::GET, "/journal?limit=2", None).await;
    assert_eq!(limited.as_array().unwrap().len(), 2);
    assert_eq!(admin(&fake, Method::DELETE, "/journal", None).await.0, 204);
    assert_eq!(
        admin(&fake, Method::GET, "/journal", None).await.1,
        json!([])
    );
}

#[tokio::test]
async fn the_resource_cap_refuses_creates_with_the_vendor_error_and_keeps_state() {
    // Dub's partner creation stores two resources: the partner and its link.
    // Without Dub's seeded partners, so the cap counts only what this test creates.
    let fake = Fake::with_config("max_resources: 3\ndub:\n  seed: []").await;
    for n in 0..2 {
        let response = fake
            .send(Method::POST, "/dub/partners", &DUB, Some(&partner(n)))
            .await;
        assert_eq!(response.status().as_u16(), 201);
    }
    let before = fake.store(VendorId::Dub).export();
    let (status, _, body) = read(
        fake.send(Method::POST, "/dub/partners", &DUB, Some(&partner(9)))
            .await,
    )
    .await;
    assert_eq!(status, 403);
    assert_eq!(body["error"]["code"], "exceeded_limit");
    assert_eq!(fake.store(VendorId::Dub).export(), before);
    // A reset frees the room.
    admin(&fake, Method::POST, "/reset", None).await;
    let response = fake
        .send(Method::POST, "/dub/partners", &DUB, Some(&partner(9)))
        .await;
    assert_eq!(response.status().as_u16(), 201);
}

#[tokio::test]
async fn only_loopback_clients_reach_the_admin_api_by_default() {
    use axum::extract::ConnectInfo;
    use tower::ServiceExt;
    let app = understudy::server::app(&understudy::server::Options::default()).unwrap();
    let from = |ip: &str| {
        let mut request = axum::http::Request::get("/__understudy/clock")
            .body(axum::body::Body::empty())
            .unwrap();
        let peer = std::net::SocketAddr::new(ip.parse().unwrap(), 50000);
        request.extensions_mut().insert(ConnectInfo(peer));
        request
    };
    let closed = understudy::admin::router(app.clone(), Default::default());
    let status = |r: axum::response::Response| r.status().as_u16();
    assert_eq!(
        status(closed.clone().oneshot(from("127.0.0.1")).await.unwrap()),
        200
    );
    assert_eq!(
        status(closed.clone().oneshot(from("::1")).await.unwrap()),
        200
    );
    assert_eq!(
        status(closed.oneshot(from("192.0.2.7")).await.unwrap()),
        403
    );
    let open = understudy::admin::router(
        app,
        understudy::admin::AdminAccess {
            remote: true,
            token: None,
        },
    );
    assert_eq!(status(open.oneshot(from("192.0.2.7")).await.unwrap()), 200);
}

/// This machine's address on its default route, when it has one that is not loopback. Found
/// by "connecting" a UDP socket, which sends nothing.
fn non_loopback_address() -> Option<std::net::IpAddr> {
    let socket = std::net::UdpSocket::bind("0.0.0.0:0").ok()?;
    socket.connect("192.0.2.1:9").ok()?;
    let ip = socket.local_addr().ok()?.ip();
    (!ip.is_loopback() && !ip.is_unspecified()).then_some(ip)
}

#[tokio::test]
async fn a_remote_admin_call_is_admitted_only_with_the_admin_token() {
    let Some(ip) = non_loopback_address() else {
        eprintln!("skipped: this machine has no non-loopback address to listen on");
        return;
    };
    let mut options = understudy::server::Options {
        addr: std::net::SocketAddr::new(ip, 0),
        ..Default::default()
    };
    options.config.admin_token = Some("s3cret-admin-token".into());
    let running = understudy::server::start(options).await.unwrap();
    let client = reqwest::Client::new();
    let clock = format!("{}/__understudy/clock", running.url());
    let call = |token: Option<&str>| {
        let mut request = client.get(&clock);
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        request.send()
    };
    assert_eq!(call(None).await.unwrap().status(), 403, "no token");
    assert_eq!(
        call(Some("s3cret-admin-tokeX")).await.unwrap().status(),
        403,
        "a wrong token"
    );
    assert_eq!(
        call(Some("s3cret")).await.unwrap().status(),
        403,
        "a prefix of it"
    );
    assert_eq!(
        call(Some("s3cret-admin-token")).await.unwrap().status(),
        200,
        "the token"
    );
    // The health endpoint answers remote probes without the token.
    let health = client
        .get(format!("{}/__understudy/health", running.url()))
        .send()
        .await
        .unwrap();
    assert_eq!(health.status(), 200);
    assert_eq!(
        health.json::<Value>().await.unwrap(),
        json!({"status": "ok"})
    );
    running.stop().await.unwrap();
}

#[tokio::test]
async fn a_server_on_a_non_loopback_address_refuses_remote_admin_calls_end_to_end() {
    let Some(ip) = non_loopback_address() else {
        eprintln!("skipped: this machine has no non-loopback address to listen on");
        return;
    };
    let serve = |admin_remote: bool| {
        let mut options = understudy::server::Options {
            addr: std::net::SocketAddr::new(ip, 0),
            ..Default::default()
        };
        options.config.admin_remote = admin_remote;
        understudy::server::start(options)
    };
    // The client connects to the machine's own non-loopback address, so the server sees a
    // non-loopback peer: the peer address must reach the admin check on such a listener.
    let closed = serve(false).await.unwrap();
    let clock = format!("{}/__understudy/clock", closed.url());
    assert_eq!(reqwest::get(&clock).await.unwrap().status(), 403);
    let vendor = format!("{}/dub/partners", closed.url());
    let answer = reqwest::Client::new().post(&vendor).send().await.unwrap();
    assert_eq!(
        answer.status(),
        401,
        "vendor routes stay open to remote clients"
    );
    closed.stop().await.unwrap();
    let open = serve(true).await.unwrap();
    let clock = format!("{}/__understudy/clock", open.url());
    assert_eq!(reqwest::get(&clock).await.unwrap().status(), 200);
    open.stop().await.unwrap();
}
