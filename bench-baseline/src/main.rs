//! The benchmark's baseline: the same routes as the workloads in `scripts/bench`, answered by a
//! bare axum server that parses the JSON body and replies with a fixed document. Whatever
//! Understudy costs beyond this is the price of its spec validation, state and rate limiting.
//!
//! `bench-baseline PORT` listens on 127.0.0.1:PORT.

use axum::Router;
use axum::body::Bytes;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::{get, post};
use serde_json::{Value, json};

/// Parses the body as JSON, as Understudy must, and answers 201 with a small partner document.
async fn create(body: Bytes) -> impl IntoResponse {
    match serde_json::from_slice::<Value>(&body) {
        Ok(request) => (
            StatusCode::CREATED,
            axum::Json(
                json!({"id": "pn_baseline", "name": request["name"], "email": request["email"]}),
            ),
        ),
        Err(_) => (
            StatusCode::BAD_REQUEST,
            axum::Json(json!({"error": "invalid json"})),
        ),
    }
}

/// A fixed listing page, the size of Understudy's default page of customers.
async fn list() -> impl IntoResponse {
    let items: Vec<Value> = (0..10)
        .map(|i| json!({"id": format!("00000000-0000-4000-8000-{i:012}"), "name": format!("Customer {i}")}))
        .collect();
    axum::Json(json!({"items": items, "total": 1000}))
}

/// A fixed relationship-acceptance link.
async fn link() -> impl IntoResponse {
    axum::Json(
        json!({"url": "https://admin.microsoft.com/Adminportal/Home?invType=ResellerRelationship&partnerId=baseline"}),
    )
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
    axum::serve(listener, app).await
}
