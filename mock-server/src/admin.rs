//! The admin API under `/__understudy/`: reset, state export and import, rate limits, faults,
//! the clock, the request journal and mutants. Its contract is `admin-openapi.yaml`, served at
//! `/__understudy/openapi.json`. Only loopback clients are answered unless configured otherwise.

mod contract;
mod input;

pub use contract::{AdminContract, ContractError, MAX_CHECKED_BODY_BYTES};

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::{ConnectInfo, Path, Request, State};
use axum::http::StatusCode;
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use crate::VendorId;
use crate::faults::FaultRule;
use crate::journal::{Entry, Filter};
use crate::pipeline::App;
use crate::rate_limit::RateLimitConfig;
use crate::spec::NotServed;
use input::{AdminBytes, AdminJson, AdminQuery};

/// The admin API's OpenAPI document (YAML), embedded.
pub const OPENAPI_YAML: &str = include_str!("../admin-openapi.yaml");

/// The prefix every admin route lives under.
pub const PREFIX: &str = "/__understudy";

pub use crate::document::STATE_FORMAT;

/// How much of a streamed export is buffered before it is handed to the connection.
const EXPORT_CHUNK_BYTES: usize = 64 << 10;

/// Why an admin request failed.
#[derive(Debug, thiserror::Error)]
pub enum AdminError {
    /// The vendor name is not one of the five.
    #[error("unknown vendor {0:?}")]
    UnknownVendor(String),
    /// The vendor is one of the five, but this fake does not serve it (it serves one vendor).
    #[error(transparent)]
    NotServed(#[from] NotServed),
    /// The request body does not fit.
    #[error("{0}")]
    BadRequest(String),
    /// The change could not be made durable (`--durable`); it is applied in memory.
    #[error("the state could not be written: {0}")]
    Persist(String),
    /// The client is not on loopback and remote admin is off.
    #[error(
        "the admin API only answers loopback clients and callers sending the admin token (--admin-token)"
    )]
    NotLoopback,
    /// No admin route has this path.
    #[error("no admin route {0} (GET /__understudy/openapi.json lists them)")]
    NotFound(String),
    /// The path exists, the method does not.
    #[error("{method} is not allowed on {path}")]
    MethodNotAllowed {
        /// The method asked for.
        method: String,
        /// The path.
        path: String,
    },
}

impl IntoResponse for AdminError {
    fn into_response(self) -> Response {
        let (status, code) = match self {
            // A vendor the fake does not serve is, to a client, one that does not exist.
            AdminError::UnknownVendor(_) | AdminError::NotServed(_) => {
                (StatusCode::NOT_FOUND, "unknown_vendor")
            }
            AdminError::BadRequest(_) => (StatusCode::BAD_REQUEST, "bad_request"),
            AdminError::NotLoopback => (StatusCode::FORBIDDEN, "not_loopback"),
            AdminError::NotFound(_) => (StatusCode::NOT_FOUND, "not_found"),
            AdminError::MethodNotAllowed { .. } => {
                (StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed")
            }
            AdminError::Persist(_) => (StatusCode::INTERNAL_SERVER_ERROR, "persist_failed"),
        };
        let body = json!({"error": {"code": code, "message": self.to_string()}});
        (status, Json(body)).into_response()
    }
}

/// The whole state: every vendor's, under a format tag.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StateDocument {
    /// Always [`STATE_FORMAT`].
    pub format: String,
    /// Each vendor's state, as its store exports it.
    pub vendors: BTreeMap<VendorId, Value>,
}

/// Every vendor's state.
pub fn export(app: &App) -> StateDocument {
    StateDocument {
        format: STATE_FORMAT.into(),
        vendors: app
            .vendors
            .iter()
            .map(|(id, v)| (*id, v.state().export()))
            .collect(),
    }
}

/// Imports `document`, all or nothing: every vendor's state is parsed before any is installed,
/// so when one does not fit, every vendor keeps the state it had.
pub fn import(app: &App, document: StateDocument) -> Result<(), AdminError> {
    if document.format != STATE_FORMAT {
        return Err(AdminError::BadRequest(format!(
            "format {:?} is not {STATE_FORMAT:?}",
            document.format
        )));
    }
    let mut staged = Vec::new();
    for (vendor, state) in document.vendors {
        let mut input = <dyn erased_serde::Deserializer>::erase(state);
        let parsed = app.vendors[&vendor]
            .state()
            .stage(&mut input)
            .map_err(|error| AdminError::BadRequest(format!("{vendor}: {error}")))?;
        staged.push((vendor, parsed));
    }
    for (vendor, parsed) in staged {
        app.vendors[&vendor]
            .state()
            .install(parsed)
            .map_err(|error| AdminError::BadRequest(format!("{vendor}: {error}")))?;
    }
    Ok(())
}

/// Runs an admin change of the vendors' state. In durable mode it runs under every vendor's
/// write lock and is followed by a snapshot before it returns (admin changes are not logged),
/// on a blocking thread since the snapshot writes a file.
async fn changing<T: Send + 'static>(
    app: Arc<App>,
    change: impl FnOnce(&App) -> T + Send + 'static,
) -> Result<T, AdminError> {
    let Some(log) = app.durable.get().cloned() else {
        return Ok(change(&app));
    };
    tokio::task::spawn_blocking(move || log.admin_change(&app, change))
        .await
        .map_err(|e| AdminError::Persist(e.to_string()))?
        .map_err(|e| AdminError::Persist(e.to_string()))
}

/// A JSON response written by `write` on a blocking thread and sent in chunks as it is
/// written, so an export of any size costs a chunk or two of memory beyond the state itself.
/// The vendor's lock is held while its part is written, as it was while it was copied.
fn streamed(
    write: impl FnOnce(&mut dyn std::io::Write) -> std::io::Result<()> + Send + 'static,
) -> Response {
    type Chunk = Result<axum::body::Bytes, std::io::Error>;
    struct ChunkWriter {
        chunks: tokio::sync::mpsc::Sender<Chunk>,
        buffer: Vec<u8>,
    }
    impl ChunkWriter {
        fn hand_over(&mut self) -> std::io::Result<()> {
            let chunk = std::mem::replace(&mut self.buffer, Vec::with_capacity(EXPORT_CHUNK_BYTES));
            self.chunks
                .blocking_send(Ok(chunk.into()))
                .map_err(|_| std::io::Error::from(std::io::ErrorKind::BrokenPipe))
        }
    }
    impl std::io::Write for ChunkWriter {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            self.buffer.extend_from_slice(bytes);
            if self.buffer.len() >= EXPORT_CHUNK_BYTES {
                self.hand_over()?;
            }
            Ok(bytes.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let (chunks, receiver) = tokio::sync::mpsc::channel::<Chunk>(2);
    tokio::task::spawn_blocking(move || {
        let mut out = ChunkWriter {
            chunks,
            buffer: Vec::with_capacity(EXPORT_CHUNK_BYTES),
        };
        let written = write(&mut out).and_then(|()| out.hand_over());
        if let Err(error) = written {
            // The client is gone, or the body ends in an error it can see.
            let _ = out.chunks.blocking_send(Err(error));
        }
    });
    let body = futures_util::stream::unfold(receiver, |mut receiver| async move {
        receiver.recv().await.map(|chunk| (chunk, receiver))
    });
    (
        [(axum::http::header::CONTENT_TYPE, "application/json")],
        axum::body::Body::from_stream(body),
    )
        .into_response()
}

/// Resets one vendor (or all): its state back to the seed, its rate-limit usage forgotten.
pub fn reset(app: &App, vendor: Option<VendorId>) {
    for (id, handler) in &app.vendors {
        if vendor.is_none_or(|v| v == *id) {
            handler.state().reset();
        }
    }
    app.limiter.forget(vendor);
}

/// Who may call the admin API besides loopback clients.
#[derive(Clone, Debug, Default)]
pub struct AdminAccess {
    /// Every client (`admin_remote: true`).
    pub remote: bool,
    /// Clients sending this token as `Authorization: Bearer TOKEN`.
    pub token: Option<String>,
}

impl AdminAccess {
    /// Whether a request from `peer` (unknown for an in-process router) with `headers` may call
    /// the admin API. On a dual-stack listener (`--bind ::`) an IPv4 client arrives as
    /// `::ffff:127.0.0.1`, which is loopback once put in canonical form.
    fn admits(&self, peer: Option<std::net::IpAddr>, headers: &axum::http::HeaderMap) -> bool {
        if self.remote || peer.is_none_or(|ip| ip.to_canonical().is_loopback()) {
            return true;
        }
        let Some(token) = &self.token else {
            return false;
        };
        crate::vendors::bearer(headers)
            .ok()
            .flatten()
            .is_some_and(|sent| constant_time_eq(sent.as_bytes(), token.as_bytes()))
    }
}

/// Compares without stopping at the first difference, so the time taken says nothing about how
/// much of a guessed token was right.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// `GET /__understudy/health`: answered to every client, for container health checks and
/// orchestrators' probes (which never come from loopback).
async fn health() -> Json<Value> {
    Json(json!({"status": "ok"}))
}

/// The admin router, to be merged at the root of the fake's router.
pub fn router(app: Arc<App>, access: AdminAccess) -> Router {
    let routes = Router::new()
        .route("/openapi.json", get(openapi))
        .route("/reset", post(reset_all))
        .route("/state", get(get_state).put(put_state))
        .route("/vendors/{vendor}/reset", post(reset_vendor))
        .route(
            "/vendors/{vendor}/state",
            get(get_vendor_state).put(put_vendor_state),
        )
        .route("/vendors/{vendor}/actions/{action}", post(vendor_action))
        .route("/rate-limits", get(get_rate_limits))
        .route("/rate-limits/{vendor}", put(put_rate_limit))
        .route(
            "/faults",
            get(get_faults).put(put_faults).delete(delete_faults),
        )
        .route("/clock", get(get_clock))
        .route("/clock/advance", post(advance_clock))
        .route("/journal", get(get_journal).delete(delete_journal))
        .route("/mutants", get(get_mutants).put(put_mutants))
        .with_state(app)
        // After routing, so the matched path names the operation whose schemas apply.
        .route_layer(middleware::from_fn(contract::conform))
        .method_not_allowed_fallback(method_not_allowed)
        .fallback(not_found)
        .layer(middleware::from_fn(move |request: Request, next: Next| {
            loopback_only(access.clone(), request, next)
        }));
    Router::new()
        .route(&format!("{PREFIX}/health"), get(health))
        .nest(PREFIX, routes)
}

async fn not_found(request: Request) -> AdminError {
    AdminError::NotFound(original_path(&request))
}

async fn method_not_allowed(request: Request) -> AdminError {
    AdminError::MethodNotAllowed {
        method: request.method().to_string(),
        path: original_path(&request),
    }
}

fn original_path(request: &Request) -> String {
    request
        .extensions()
        .get::<axum::extract::OriginalUri>()
        .map_or_else(|| request.uri().path(), |u| u.0.path())
        .chars()
        .take(256)
        .collect()
}

async fn loopback_only(access: AdminAccess, request: Request, next: Next) -> Response {
    let peer = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip());
    if access.admits(peer, request.headers()) {
        next.run(request).await
    } else {
        AdminError::NotLoopback.into_response()
    }
}

/// The vendor a path names, when this fake serves it.
fn vendor(app: &App, name: &str) -> Result<VendorId, AdminError> {
    let vendor: VendorId = name
        .parse()
        .map_err(|_| AdminError::UnknownVendor(name.to_string()))?;
    app.specs.try_vendor(vendor)?;
    Ok(vendor)
}

async fn openapi() -> Response {
    match contract::document(OPENAPI_YAML) {
        Ok(document) => Json(document).into_response(),
        Err(error) => AdminError::BadRequest(error.to_string()).into_response(),
    }
}

async fn reset_all(State(app): State<Arc<App>>) -> Result<StatusCode, AdminError> {
    changing(app, |app| reset(app, None)).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn reset_vendor(
    State(app): State<Arc<App>>,
    Path(name): Path<String>,
) -> Result<StatusCode, AdminError> {
    let vendor = vendor(&app, &name)?;
    changing(app, move |app| reset(app, Some(vendor))).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn get_state(State(app): State<Arc<App>>) -> Response {
    streamed(move |out| crate::document::write(&app, out).map_err(std::io::Error::other))
}

async fn put_state(
    State(app): State<Arc<App>>,
    AdminBytes(document): AdminBytes,
) -> Result<StatusCode, AdminError> {
    // Parsed into the vendors' own types as it is read: no JSON tree of the whole document.
    let parsed = crate::document::from_slice(&app, &document, false)
        .map_err(|e| AdminError::BadRequest(e.to_string()))?;
    changing(app, move |app| parsed.install(app))
        .await?
        .map_err(|e| AdminError::BadRequest(e.to_string()))?;
    Ok(StatusCode::NO_CONTENT)
}

async fn get_vendor_state(
    State(app): State<Arc<App>>,
    Path(name): Path<String>,
) -> Result<Response, AdminError> {
    let vendor = vendor(&app, &name)?;
    Ok(streamed(move |out| {
        app.vendors[&vendor]
            .state()
            .export_to(out)
            .map_err(std::io::Error::other)
    }))
}

async fn put_vendor_state(
    State(app): State<Arc<App>>,
    Path(name): Path<String>,
    AdminJson(state): AdminJson<Value>,
) -> Result<StatusCode, AdminError> {
    let vendor = vendor(&app, &name)?;
    changing(app, move |app| app.vendors[&vendor].state().import(state))
        .await?
        .map_err(|e| AdminError::BadRequest(e.to_string()))?;
    Ok(StatusCode::NO_CONTENT)
}

async fn vendor_action(
    State(app): State<Arc<App>>,
    Path((name, action)): Path<(String, String)>,
    AdminJson(body): AdminJson<Option<Value>>,
) -> Result<Json<Value>, AdminError> {
    let body = body.unwrap_or(Value::Null);
    let vendor = vendor(&app, &name)?;
    changing(app, move |app| {
        app.vendors[&vendor].admin_action(&action, &body)
    })
    .await?
    .map(Json)
    .map_err(AdminError::BadRequest)
}

async fn get_rate_limits(State(app): State<Arc<App>>) -> Json<BTreeMap<VendorId, RateLimitConfig>> {
    Json(app.limiter.configs())
}

async fn put_rate_limit(
    State(app): State<Arc<App>>,
    Path(name): Path<String>,
    AdminJson(config): AdminJson<Option<RateLimitConfig>>,
) -> Result<StatusCode, AdminError> {
    let vendor = vendor(&app, &name)?;
    if let Some(config) = &config {
        config.check().map_err(AdminError::BadRequest)?;
    }
    let documents_429 = app
        .specs
        .try_vendor(vendor)?
        .operations
        .iter()
        .any(|op| op.response_for(429).is_some());
    if config.is_some() && !documents_429 {
        return Err(AdminError::BadRequest(format!(
            "{vendor} documents no 429, so it cannot be rate limited"
        )));
    }
    app.limiter.set(vendor, config);
    Ok(StatusCode::NO_CONTENT)
}

async fn get_faults(State(app): State<Arc<App>>) -> Json<Vec<FaultRule>> {
    Json(app.faults.rules())
}

async fn put_faults(
    State(app): State<Arc<App>>,
    AdminJson(rules): AdminJson<Vec<FaultRule>>,
) -> Result<StatusCode, AdminError> {
    app.faults
        .set(rules)
        .map_err(|e| AdminError::BadRequest(e.to_string()))?;
    Ok(StatusCode::NO_CONTENT)
}

/// A rule must name a real operation and a status that operation (or, vendor-wide, at least
/// one of the vendor's operations) documents.
async fn delete_faults(State(app): State<Arc<App>>) -> StatusCode {
    app.faults.clear();
    StatusCode::NO_CONTENT
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Advance {
    seconds: f64,
}

fn clock(app: &App) -> Value {
    json!({
        "now": app.world.clock.rfc3339(),
        "offset_ms": app.world.clock.offset_ms(),
    })
}

async fn get_clock(State(app): State<Arc<App>>) -> Json<Value> {
    Json(clock(&app))
}

async fn advance_clock(
    State(app): State<Arc<App>>,
    AdminJson(advance): AdminJson<Advance>,
) -> Result<Json<Value>, AdminError> {
    if !(advance.seconds.is_finite() && advance.seconds >= 0.0) {
        return Err(AdminError::BadRequest(
            "seconds must be a non-negative number (the clock never goes back)".into(),
        ));
    }
    let by = Duration::try_from_secs_f64(advance.seconds)
        .map_err(|e| AdminError::BadRequest(e.to_string()))?;
    app.world
        .clock
        .advance(by)
        .map_err(|e| AdminError::BadRequest(e.to_string()))?;
    Ok(Json(clock(&app)))
}

async fn get_journal(
    State(app): State<Arc<App>>,
    AdminQuery(filter): AdminQuery<Filter>,
) -> Result<Json<Vec<Entry>>, AdminError> {
    // Refused as a name that is no vendor at all is (the query does not fit), rather than
    // answering an empty list that reads as "no traffic".
    if let Some(vendor) = filter.vendor {
        app.specs
            .try_vendor(vendor)
            .map_err(|e| AdminError::BadRequest(format!("the query does not fit: {e}")))?;
    }
    Ok(Json(app.journal.list(&filter)))
}

async fn delete_journal(State(app): State<Arc<App>>) -> StatusCode {
    app.journal.clear();
    StatusCode::NO_CONTENT
}

async fn get_mutants(State(app): State<Arc<App>>) -> Json<Value> {
    let catalogue: Map<String, Value> = crate::vendors::mutant_catalogue()
        .into_iter()
        .map(|m| (m.name().to_string(), Value::String(m.what().to_string())))
        .collect();
    Json(json!({"active": app.world.mutants.names(), "catalogue": catalogue}))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ActiveMutants {
    active: Vec<String>,
}

async fn put_mutants(
    State(app): State<Arc<App>>,
    AdminJson(active): AdminJson<ActiveMutants>,
) -> Result<Json<Value>, AdminError> {
    app.world
        .mutants
        .activate(active.active)
        .map_err(|e| AdminError::BadRequest(e.to_string()))?;
    Ok(get_mutants(State(app)).await)
}
