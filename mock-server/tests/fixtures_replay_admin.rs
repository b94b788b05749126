//! The replay server's own routes against their document (`/__understudy/openapi.json`): every
//! route it answers is documented, every documented route answers as documented, and anything
//! else under /__understudy is a near miss, not a silent extra route.

use std::collections::BTreeSet;
use std::path::Path;

use reqwest::Method;
use serde_json::{Value, json};
use understudy::fixtures::replay::{
    ADMIN_PREFIX, AdminRoute, NO_MATCH_HEADER, OPENAPI_YAML, Replaying, load, replay,
};
use understudy::spec::openapi30_to_2020_12;

async fn start() -> Replaying {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/dub");
    replay(load(&dir).unwrap(), "127.0.0.1:0".parse().unwrap())
        .await
        .unwrap()
}

/// The document with 3.0's `nullable` rewritten, to validate bodies against.
fn document() -> Value {
    let mut document: Value = serde_norway::from_str(OPENAPI_YAML).unwrap();
    openapi30_to_2020_12(&mut document);
    document
}

/// Every (method, path) the document lists.
fn documented(document: &Value) -> BTreeSet<(String, String)> {
    document["paths"]
        .as_object()
        .unwrap()
        .iter()
        .flat_map(|(path, item)| {
            item.as_object()
                .unwrap()
                .keys()
                .filter(|k| k.as_str() != "parameters")
                .map(move |method| (method.to_ascii_uppercase(), path.clone()))
        })
        .collect()
}

/// Checks `body` against `schema`, with the document's components beside it for its $refs.
fn conforms(document: &Value, schema: &Value, body: &Value, what: &str) {
    let root = json!({"allOf": [schema], "components": document["components"]});
    let validator = jsonschema::options().build(&root).unwrap();
    let errors: Vec<String> = validator.iter_errors(body).map(|e| e.to_string()).collect();
    assert!(errors.is_empty(), "{what}: {errors:?}");
}

async fn call(server: &Replaying, method: &str, path: &str) -> (u16, Option<String>, Value) {
    let response = reqwest::Client::new()
        .request(
            Method::from_bytes(method.as_bytes()).unwrap(),
            format!("{}{ADMIN_PREFIX}{path}", server.url()),
        )
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    let no_match = response
        .headers()
        .get(NO_MATCH_HEADER)
        .map(|v| v.to_str().unwrap().to_string());
    let text = response.text().await.unwrap();
    (
        status,
        no_match,
        serde_json::from_str(&text).unwrap_or(Value::Null),
    )
}

#[tokio::test]
async fn the_replay_servers_routes_and_its_document_agree() {
    let server = start().await;
    let (status, _, served) = call(&server, "GET", "/openapi.json").await;
    assert_eq!(status, 200);
    let raw: Value = serde_norway::from_str(OPENAPI_YAML).unwrap();
    assert_eq!(served, raw, "the document is served as it is embedded");
    serde_json::from_value::<openapiv3::OpenAPI>(raw).expect("a valid OpenAPI 3.0 document");

    let document = document();
    let routes: BTreeSet<(String, String)> = AdminRoute::ALL
        .iter()
        .map(|r| {
            let (method, path) = r.method_and_path();
            (method.to_string(), path.to_string())
        })
        .collect();
    assert_eq!(
        routes,
        documented(&document),
        "every route the server answers is documented, and nothing else is"
    );

    for (method, path) in &routes {
        let (status, no_match, body) = call(&server, method, path).await;
        assert_eq!(
            no_match, None,
            "{method} {path} is answered by the server itself"
        );
        let response =
            &document["paths"][path][method.to_ascii_lowercase()]["responses"][status.to_string()];
        assert!(
            !response.is_null(),
            "{method} {path} does not document {status}"
        );
        match response.pointer("/content/application~1json/schema") {
            Some(schema) => conforms(&document, schema, &body, &format!("{method} {path}")),
            None => assert!(body.is_null(), "{method} {path} {status} documents no body"),
        }
    }

    // The live fake's admin routes, a route of the wrong method and a made-up one: none is the
    // replay server's, so each is a near miss in the documented shape.
    for (method, path) in [
        ("POST", "/reset"),
        ("GET", "/state"),
        ("GET", "/journal"),
        ("POST", "/replay/unused"),
        ("GET", "/replay/sessions"),
    ] {
        let (status, no_match, body) = call(&server, method, path).await;
        if status == 405 {
            assert!(
                routes.iter().any(|(_, p)| p == path),
                "{method} {path}: 405 only on a documented path"
            );
            continue;
        }
        assert_eq!(
            (status, no_match.as_deref()),
            (404, Some("no-match")),
            "{method} {path}"
        );
        conforms(
            &document,
            &json!({"$ref": "#/components/schemas/NearMiss"}),
            &body,
            &format!("{method} {path}"),
        );
    }
    server.stop().await.unwrap();
}
