//! The benchmark's baseline: the same routes as the workloads in `scripts/bench`, answered by a
//! bare axum server that parses the JSON body and replies with a fixed document of the same
//! shape and size as Understudy's answer. Whatever Understudy costs beyond this is the price of
//! its spec validation, state and rate limiting, not of sending more bytes.
//!
//! `bench-baseline PORT` listens on 127.0.0.1:PORT.

use axum::Router;
use axum::body::Bytes;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::{get, post};
use serde_json::{Value, json};

/// Parses the body as JSON, as Understudy must, and answers 201 with a partner document shaped
/// like Dub's (every field, one link summary).
async fn create(body: Bytes) -> impl IntoResponse {
    match serde_json::from_slice::<Value>(&body) {
        Ok(request) => (
            StatusCode::CREATED,
            axum::Json(json!({
                "id": "pn_8CsSoZaUCuP1G3QjEXeMsPBa", "name": request["name"], "email": request["email"],
                "image": "https://api.dub.co/og/avatar?seed=pn_8CsSoZaUCuP1G3QjEXeMsPBa",
                "country": "US", "bio": null, "stripeConnectId": null, "payoutsEnabled": false,
                "createdAt": "2026-11-24T03:43:17.797Z", "updatedAt": "2026-11-24T03:43:17.797Z",
                "status": "approved", "commissionAmount": null, "earnings": 0, "clicks": 0,
                "leads": 0, "sales": 0, "salesAmount": 0,
                "links": [{"id": "link_36jA02eCkpUTRO3ksZFO2xKV", "domain": "understudy.link",
                    "key": request["username"], "shortLink": "https://understudy.link/bench",
                    "url": "https://understudy.example", "clicks": 0, "leads": 0, "sales": 0,
                    "saleAmount": 0}],
            })),
        ),
        Err(_) => (
            StatusCode::BAD_REQUEST,
            axum::Json(json!({"error": "invalid json"})),
        ),
    }
}

/// A fixed listing page of 20 customers shaped like Enhance's (the workload asks for 20).
async fn list() -> impl IntoResponse {
    let items: Vec<Value> = (0..20)
        .map(|i| {
            json!({
                "id": format!("00000000-0000-4000-8000-{i:012}"),
                "parentId": "00000000-0000-4000-8000-000000000001",
                "name": format!("Bench customer {i}"), "status": "active",
                "subscriptionsCount": 0, "websitesCount": 0,
                "createdAt": "2026-11-24T03:43:17.797Z", "locale": "en-GB",
            })
        })
        .collect();
    axum::Json(json!({"items": items, "total": 1000}))
}

/// A fixed relationship-acceptance link (CloudCockpit answers a bare JSON string).
async fn link() -> impl IntoResponse {
    axum::Json(json!(
        "https://admin.microsoft.com/Adminportal/Home?invType=ResellerRelationship&partnerId=3f2a8c1d-5b7e-4a90-b6c2-9d1e0f4a7b3c&msppId=0&DAP=true#/BillingAccounts/partner-invitation"
    ))
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let port: u16 = std::env::args()
        .nth(1)
        .and_then(|p| p.parse().ok())
        .unwrap_or(4142);
    let app = Router::new()
        .route("/dub/partners", post(create))
        .route("/enhance/orgs/{org}/customers", get(list))
        .route(
            "/cloudcockpit/v1/Customers/relationship-acceptance",
            get(link),
        );
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
    // The same transport settings as Understudy's servers.
    let listener = axum::serve::ListenerExt::tap_io(listener, |stream| {
        let _ = stream.set_nodelay(true);
    });
    axum::serve(listener, app).await
}
