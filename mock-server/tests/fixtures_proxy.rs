//! The recording proxy's wire behaviour against a hand-made upstream: bodies stream through
//! before the upstream has finished, redirects are passed back rather than followed, any
//! method is forwarded, and a body that is not UTF-8 is kept as base64 and replayed exactly.

use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::{Body, Bytes};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get};
use understudy::VendorId;
use understudy::fixtures::record::{RecordOptions, record};
use understudy::fixtures::replay::{load, replay};
use understudy::spec::SpecSet;

/// A body that is not UTF-8: recorded as base64, replayed byte for byte.
const BINARY: [u8; 4] = [0x00, 0x9f, 0x92, 0x96];

type Release = Arc<Mutex<Option<tokio::sync::oneshot::Receiver<()>>>>;

/// An upstream whose `/stream` sends one chunk, then the second only once released.
async fn upstream(release: Release) -> String {
    let app = Router::new()
        .route(
            "/stream",
            get(move || {
                let release = release
                    .lock()
                    .unwrap()
                    .take()
                    .expect("one streaming request");
                async move {
                    use futures_util::StreamExt as _;
                    let first = futures_util::stream::once(async {
                        Ok::<_, std::io::Error>(Bytes::from("first,"))
                    });
                    let second = futures_util::stream::once(async move {
                        let _ = release.await;
                        Ok::<_, std::io::Error>(Bytes::from("second"))
                    });
                    let body = first.chain(second);
                    Body::from_stream(body).into_response()
                }
            }),
        )
        .route(
            "/moved",
            get(|| async {
                (StatusCode::FOUND, [(header::LOCATION, "/elsewhere")]).into_response()
            }),
        )
        .route("/binary", get(|| async { Body::from(BINARY.to_vec()) }))
        .route(
            "/echo",
            any(|method: axum::http::Method, body: Bytes| async move {
                Response::new(Body::from(format!(
                    "{method} {}",
                    String::from_utf8_lossy(&body)
                )))
            }),
        );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    url
}

#[tokio::test]
async fn bodies_stream_redirects_pass_through_and_any_method_is_forwarded() {
    let (release_tx, release_rx) = tokio::sync::oneshot::channel();
    let upstream = upstream(Arc::new(Mutex::new(Some(release_rx)))).await;
    let out = std::env::temp_dir()
        .join(format!("understudy-proxy-{}", std::process::id()))
        .join("wire.har");
    let recording = record(
        RecordOptions::new(VendorId::Dub, upstream, out.clone()),
        Arc::new(SpecSet::embedded().unwrap()),
    )
    .await
    .unwrap();
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();

    let mut streaming = client
        .get(format!("{}/stream", recording.url()))
        .send()
        .await
        .unwrap();
    let first = streaming.chunk().await.unwrap().unwrap();
    assert_eq!(
        &first[..],
        b"first,",
        "the first chunk arrives while the upstream still holds the rest"
    );
    release_tx.send(()).unwrap();
    let mut rest = Vec::new();
    while let Some(chunk) = streaming.chunk().await.unwrap() {
        rest.extend_from_slice(&chunk);
    }
    assert_eq!(rest, b"second");

    let moved = client
        .get(format!("{}/moved", recording.url()))
        .send()
        .await
        .unwrap();
    assert_eq!(moved.status().as_u16(), 302, "the redirect is not followed");
    assert_eq!(moved.headers()["location"], "/elsewhere");

    let echoed = client
        .request(
            reqwest::Method::from_bytes(b"PURGE").unwrap(),
            format!("{}/echo", recording.url()),
        )
        .body("payload")
        .send()
        .await
        .unwrap();
    assert_eq!(echoed.text().await.unwrap(), "PURGE payload");

    let binary = client
        .get(format!("{}/binary", recording.url()))
        .send()
        .await
        .unwrap();
    assert_eq!(&binary.bytes().await.unwrap()[..], BINARY);

    let har = recording.stop().await.unwrap();
    let entries = &har.log.entries;
    assert_eq!(entries.len(), 4);
    let content = &entries[3].response.content;
    assert_eq!(
        (content.encoding.as_deref(), content.text.as_deref()),
        (Some("base64"), Some("AJ+Slg=="))
    );
    let replaying = replay(load(&out).unwrap(), "127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();
    let replayed = client
        .get(format!("{}/dub/binary", replaying.url()))
        .send()
        .await
        .unwrap();
    assert_eq!(&replayed.bytes().await.unwrap()[..], BINARY);
    replaying.stop().await.unwrap();
    assert_eq!(
        entries[0].response.content.text.as_deref(),
        Some("first,second")
    );
    assert_eq!(
        (
            entries[1].response.status,
            entries[1].response.redirect_url.as_str()
        ),
        (302, "/elsewhere")
    );
    assert_eq!(entries[2].request.method, "PURGE");
    assert_eq!(entries[2].operation_id, None);
    assert!(entries[2].violations[0].contains("no operation in the spec matches PURGE /echo"));
}
