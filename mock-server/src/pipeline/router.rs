//! Builds the axum router from the specs: every operation of every vendor is routed from its
//! document, never from a hand-written route list.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Instant;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{RawPathParams, Request};
use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodFilter, MethodRouter};

use super::{
    ConformingBodies, RawRequest, Rejection, Reply, VIOLATION_HEADER, check_remembering, validate,
};
use crate::VendorId;
use crate::durable::Ticket;
use crate::faults::{Faults, Injection, PREFER_HEADER};
use crate::journal::{Captured, Journal, Record};
use crate::rate_limit::{Decision, RateLimiter};
use crate::spec::{Operation, SpecSet};
use crate::vendors::{Ambient, Context, Vendor};

/// Bodies beyond this size are refused before they are parsed.
const MAX_BODY_BYTES: usize = 1 << 20;

/// Everything a request needs, built once at start-up and shared read-only.
pub struct App {
    /// The compiled specs.
    pub specs: Arc<SpecSet>,
    /// The vendors by id.
    pub vendors: BTreeMap<VendorId, Arc<dyn Vendor>>,
    /// Clock and id generator.
    pub world: Ambient,
    /// Strict mode: a response that breaks the spec becomes a diagnosed 500.
    pub strict: bool,
    /// Rate limits per vendor and credential.
    pub limiter: Arc<RateLimiter>,
    /// Fault and latency injection rules.
    pub faults: Arc<Faults>,
    /// The last exchanges, for the admin API.
    pub journal: Arc<Journal>,
    /// The most resources a vendor stores; creates beyond it are refused.
    pub max_resources: usize,
    /// Response bodies that already passed the response check.
    pub conforming: ConformingBodies,
    /// The durable log, in `--durable` mode: set once the state is recovered, before the
    /// listener is bound.
    pub durable: std::sync::OnceLock<Arc<crate::durable::DurableLog>>,
}

/// Which vendors a router serves, and where.
#[derive(Clone, Copy, Debug)]
pub enum Mount {
    /// All vendors, each under its prefix (`/dub`, `/confluent`, …).
    All,
    /// One vendor at the root, so a client's base URL needs no prefix.
    Root(VendorId),
}

/// The router for `mount`.
pub fn router(app: Arc<App>, mount: Mount) -> Router {
    match mount {
        Mount::Root(vendor) => {
            let unknown = app.clone();
            vendor_router(&app, vendor, "").fallback(move |request: Request| {
                refuse(unknown, vendor, None, Rejection::UnknownPath, request)
            })
        }
        // Full paths rather than `nest`: nesting rewrites every request's URI to strip the
        // prefix, which showed in the benchmark's profile for no gain.
        Mount::All => VendorId::ALL
            .into_iter()
            .fold(Router::new(), |router, vendor| {
                let prefix = vendor.prefix();
                let unknown = app.clone();
                let refuse_unknown = move |request: Request| {
                    refuse(unknown, vendor, None, Rejection::UnknownPath, request)
                };
                router
                    .merge(vendor_router(&app, vendor, &prefix))
                    .route(&prefix, axum::routing::any(refuse_unknown.clone()))
                    .route(
                        &format!("{prefix}/{{*rest}}"),
                        axum::routing::any(refuse_unknown),
                    )
            }),
    }
}

/// The routes of `vendor`'s operations, each at `prefix` + its spec path.
fn vendor_router(app: &Arc<App>, vendor: VendorId, prefix: &str) -> Router {
    let spec = app.specs.vendor(vendor);
    let mut by_path: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
    for (index, op) in spec.operations.iter().enumerate() {
        by_path.entry(op.path.as_str()).or_default().push(index);
    }
    let mut router = Router::new();
    for (path, indices) in by_path {
        let allowed: Vec<Method> = indices
            .iter()
            .map(|&i| spec.operations[i].method.clone())
            .collect();
        let mut methods = MethodRouter::new();
        for &index in &indices {
            let filter = MethodFilter::try_from(spec.operations[index].method.clone())
                .expect("spec methods are standard HTTP methods");
            let app = app.clone();
            methods = methods.on(filter, move |request: Request| {
                dispatch(app, vendor, index, request)
            });
        }
        let app_405 = app.clone();
        let first = indices[0];
        methods = methods.fallback(move |request: Request| {
            refuse(
                app_405,
                vendor,
                Some(first),
                Rejection::MethodNotAllowed { allowed },
                request,
            )
        });
        router = router.route(&format!("{prefix}{path}"), methods);
    }
    router
}

fn context<'a>(
    app: &'a App,
    operation: Option<&'a Operation>,
    headers: &'a HeaderMap,
) -> Context<'a> {
    Context::new(operation, app.world.clock.now(), headers, &app.world.ids)
}

/// Answers a request no operation takes (unknown path, wrong method).
async fn refuse(
    app: Arc<App>,
    vendor: VendorId,
    op: Option<usize>,
    rejection: Rejection,
    request: Request,
) -> Response {
    let spec = app.specs.vendor(vendor);
    // A 405 is checked against the path's operations when the vendor documents 405 (Archera).
    let operation = op.map(|i| &spec.operations[i]);
    let started = Instant::now();
    let (parts, body) = request.into_parts();
    // The request is refused whatever its body; a body that cannot be read is not journaled.
    let body = read_body(Body::new(body), MAX_BODY_BYTES)
        .await
        .unwrap_or_default();
    let handler = &app.vendors[&vendor];
    let cx = context(&app, operation, &parts.headers);
    let mut reply = handler.reject(&rejection, &cx);
    // The methods the path serves are the pipeline's knowledge, not the vendor's: every 405
    // gets its `Allow` here, whatever envelope the vendor put around it.
    if let Rejection::MethodNotAllowed { allowed } = &rejection
        && reply.status == StatusCode::METHOD_NOT_ALLOWED
    {
        let allow: Vec<&str> = allowed.iter().map(Method::as_str).collect();
        reply.set_header("Allow", allow.join(", "));
    }
    handler.finish(&mut reply, &cx);
    if let Some(op) = operation.filter(|op| op.response_for(reply.status.as_u16()).is_some()) {
        reply = enforce(&app, handler.as_ref(), op, reply, &cx);
    }
    tracing::info!(vendor = %vendor, method = %parts.method, path = %parts.uri.path(), status = reply.status.as_u16(), "refused");
    let now = cx.now;
    send(&app, vendor, operation, parts, body, reply, now, started)
}

/// Runs one request through the pipeline for operation `index` of `vendor`.
async fn dispatch(app: Arc<App>, vendor: VendorId, index: usize, request: Request) -> Response {
    let started = Instant::now();
    let (mut parts, body) = request.into_parts();
    let path_params = raw_path_params(&mut parts).await;
    let op = &app.specs.vendor(vendor).operations[index];
    let handler = &app.vendors[&vendor];
    // A staged fault: the configured rules, then the request's own `Prefer`, which the vendor
    // never sees.
    let mut injection = app.faults.pick(vendor, &op.operation_id);
    if let Some(prefer) = parts.headers.remove(PREFER_HEADER) {
        injection.overlay(Injection::from_prefer(&prefer));
    }
    if let Some(latency) = injection.latency {
        tokio::time::sleep(latency).await;
    }
    if injection.drop_connection {
        tracing::info!(vendor = %vendor, operation = %op.operation_id, "connection dropped (injected)");
        return dropped_connection();
    }
    let cx = context(&app, Some(op), &parts.headers);
    let body = read_body(Body::new(body), MAX_BODY_BYTES).await;
    let forced = injection.status.and_then(|status| {
        forced(&app, handler.as_ref(), op, status, &cx)
            .inspect_err(|reason| {
                tracing::warn!(vendor = %vendor, operation = %op.operation_id, status, reason, "fault ignored")
            })
            .ok()
    });
    let (mut reply, ticket) = match forced {
        Some(reply) => (reply, None),
        None => {
            let raw = RawRequest {
                path: &path_params,
                query: parts.uri.query(),
                headers: &parts.headers,
                body: body.as_deref().unwrap_or_default(),
            };
            let unread = body.as_ref().err().cloned();
            answer(&app, handler.as_ref(), op, raw, unread, &cx)
        }
    };
    // Durable mode: the change is acknowledged only once its log record is synced.
    if let Some(ticket) = ticket {
        if let Err(error) = ticket.wait().await {
            tracing::error!(vendor = %vendor, operation = %op.operation_id, %error, "the change could not be logged");
            let rejection = Rejection::Internal(format!("the change could not be logged: {error}"));
            reply = handler.reject(&rejection, &cx);
            handler.finish(&mut reply, &cx);
        }
    }
    tracing::info!(
        vendor = %vendor,
        operation = %op.operation_id,
        status = reply.status.as_u16(),
        micros = started.elapsed().as_micros() as u64,
        "answered"
    );
    let now = cx.now;
    let body = body.unwrap_or_default();
    send(&app, vendor, Some(op), parts, body, reply, now, started)
}

/// The pipeline's stages for a request no fault pre-empted: credentials, rate limit,
/// authorisation, validation, resource cap, the vendor's handler, its finishing touches, the
/// rate-limit headers and the response check. In durable mode, also the ticket of the change's
/// log record, which the response must wait for.
fn answer(
    app: &App,
    handler: &dyn Vendor,
    op: &Operation,
    raw: RawRequest<'_>,
    unread: Option<Rejection>,
    cx: &Context<'_>,
) -> (Reply, Option<Ticket>) {
    let mut decision = None;
    let mut ticket = None;
    let outcome = (|| {
        let caller = handler.authenticate(op, raw.headers)?;
        let tier = handler.rate_limit_tier(&caller);
        // Only operations whose spec can answer 429 are limited: a vendor that documents no
        // 429 never sends one.
        if op.response_for(429).is_some() {
            decision = app
                .limiter
                .check(op.vendor, &caller.credential, tier.as_deref(), cx.now);
        }
        if decision.as_ref().is_some_and(|d| !d.allowed) {
            return Err(Rejection::RateLimited);
        }
        handler.authorize(op, &caller)?;
        if let Some(rejection) = unread {
            return Err(rejection);
        }
        let request = validate(op, raw)?;
        if handler.creates(op) && handler.state().resources() >= app.max_resources {
            return Err(Rejection::CapacityExceeded);
        }
        Ok::<_, Rejection>(match app.durable.get() {
            Some(log) => {
                let (reply, logged) = log.run(app, handler, op, &request, &caller, cx);
                ticket = logged;
                reply
            }
            None => handler.handle(op, &request, &caller, cx),
        })
    })();
    let mut reply = outcome.unwrap_or_else(|rejection| handler.reject(&rejection, cx));
    handler.finish(&mut reply, cx);
    if let Some(decision) = &decision {
        add_rate_limit_headers(op, &mut reply, decision);
    }
    (enforce(app, handler, op, reply, cx), ticket)
}

/// Reads a request body of at most `limit` bytes. The rejection tells a body that is too large
/// from one that could not be read (broken framing, a connection closed early, a body that did
/// not arrive in time: see [`crate::connections::TimedBody`]).
async fn read_body(body: Body, limit: usize) -> Result<Bytes, Rejection> {
    use http_body::Body as _;
    use http_body_util::BodyExt as _;
    let mut body = body;
    if body.size_hint().lower() > limit as u64 {
        drain(&mut body).await;
        return Err(Rejection::BodyTooLarge);
    }
    let mut chunks: Vec<Bytes> = Vec::new();
    let mut total = 0;
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|error| Rejection::UnreadableBody(unread_reason(&error)))?;
        let Ok(data) = frame.into_data() else {
            continue;
        };
        total += data.len();
        if total > limit {
            drain(&mut body).await;
            return Err(Rejection::BodyTooLarge);
        }
        chunks.push(data);
    }
    // One chunk (the usual case) is kept as it came; only several are copied together.
    Ok(match chunks.len() {
        0 => Bytes::new(),
        1 => chunks.swap_remove(0),
        _ => Bytes::from(chunks.concat()),
    })
}

/// How much of a refused body is read and discarded before the answer goes out.
const MAX_DRAINED_BYTES: usize = 16 << 20;

/// Reads and discards what is left of a body that is refused as too large, up to
/// [`MAX_DRAINED_BYTES`] (and within the body timeout): a client still sending it would
/// otherwise see the connection reset before it can read the vendor's answer.
async fn drain(body: &mut Body) {
    use http_body_util::BodyExt as _;
    let mut drained = 0;
    while drained < MAX_DRAINED_BYTES {
        match body.frame().await {
            Some(Ok(frame)) => drained += frame.data_ref().map_or(0, Bytes::len),
            Some(Err(_)) | None => return,
        }
    }
}

/// The innermost cause of a body error: axum wraps the connection's
/// [`crate::connections::BodyReadError`], which says what happened.
fn unread_reason(error: &axum::Error) -> String {
    match crate::connections::body_read_error(error) {
        Some(cause) => cause.to_string(),
        None => format!("the request body could not be read: {error}"),
    }
}

/// Sends `reply`, writing the exchange to the journal on the way (which replaces credential
/// headers as it captures them).
#[allow(clippy::too_many_arguments)]
fn send(
    app: &App,
    vendor: VendorId,
    op: Option<&Operation>,
    parts: axum::http::request::Parts,
    body: Bytes,
    reply: Reply,
    now: time::OffsetDateTime,
    started: Instant,
) -> Response {
    if app.journal.capacity() == 0 {
        return reply.into_response();
    }
    let status = reply.status.as_u16();
    let (response, response_body) = reply.into_response_and_body();
    app.journal.record(Record {
        at: now,
        vendor,
        operation: op.map(|o| o.operation_id.clone()),
        method: parts.method,
        // Routes are full paths (no nesting), so the URI is the one the client sent.
        uri: parts.uri,
        status,
        duration_ms: started.elapsed().as_secs_f64() * 1000.0,
        request: Captured::new(parts.headers, body),
        response: Captured::new(response.headers().clone(), response_body),
    });
    response
}

/// The reply for a forced status: a success answers with the spec's example for that status, an
/// error in the vendor's envelope; a 429 carries the rate-limit headers the spec declares. Only
/// statuses the operation documents can be forced.
fn forced(
    app: &App,
    vendor: &dyn Vendor,
    op: &Operation,
    status: u16,
    cx: &Context<'_>,
) -> Result<Reply, String> {
    if !op.documented_statuses().contains(&status) {
        return Err(format!(
            "{} does not document status {status}",
            op.operation_id
        ));
    }
    let code = StatusCode::from_u16(status).map_err(|e| e.to_string())?;
    let mut reply = if status < 400 {
        let spec = op.response_for(status).expect("documented");
        match &spec.body {
            None => Reply::empty(code),
            Some(media) => match &media.example {
                Some(example) => Reply::json(code, example.clone()),
                None => return Err(format!("the spec has no example for {status}")),
            },
        }
    } else {
        vendor.reject(&Rejection::Forced(code), cx)
    };
    vendor.finish(&mut reply, cx);
    if status == 429 {
        let decision = app.limiter.exhausted(op.vendor, cx.now);
        add_rate_limit_headers(op, &mut reply, &decision);
    }
    Ok(enforce(app, vendor, op, reply, cx))
}

/// A response whose body fails at once: hyper then closes the connection without sending a
/// complete response, which is what a client sees when a server or proxy drops it.
fn dropped_connection() -> Response {
    let failing = futures_util::stream::once(async {
        Err::<axum::body::Bytes, _>(std::io::Error::other(
            "connection dropped by fault injection",
        ))
    });
    Response::new(Body::from_stream(failing))
}

/// Adds the rate-limit headers the spec declares for the reply's status, and only those: the spec
/// says where each vendor sends them (Dub on errors and the upsert, Confluent on 429 only).
fn add_rate_limit_headers(op: &Operation, reply: &mut Reply, decision: &Decision) {
    let Some(spec) = op.response_for(reply.status.as_u16()) else {
        return;
    };
    for (name, value) in decision.headers() {
        if spec
            .headers
            .iter()
            .any(|h| h.name.eq_ignore_ascii_case(name))
        {
            reply.set_header(name, value);
        }
    }
}

async fn raw_path_params(parts: &mut axum::http::request::Parts) -> Vec<(String, String)> {
    match <RawPathParams as axum::extract::FromRequestParts<()>>::from_request_parts(parts, &())
        .await
    {
        Ok(params) => params
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        Err(_) => Vec::new(),
    }
}

/// The response check: logs every violation and, in strict mode, replaces the reply with the
/// vendor's 500 carrying a diagnostic header.
fn enforce(
    app: &App,
    vendor: &dyn Vendor,
    op: &Operation,
    reply: Reply,
    cx: &Context<'_>,
) -> Reply {
    let violations = check_remembering(op, &reply, Some(&app.conforming));
    if violations.is_empty() {
        return reply;
    }
    for violation in &violations {
        tracing::error!(vendor = %op.vendor, operation = %op.operation_id, status = reply.status.as_u16(), %violation, "response breaks the spec");
    }
    if !app.strict {
        return reply;
    }
    let diagnosis = format!(
        "{} {}: {}",
        op.operation_id,
        reply.status.as_u16(),
        violations[0]
    );
    let mut replaced = vendor.reject(&Rejection::Internal(diagnosis.clone()), cx);
    vendor.finish(&mut replaced, cx);
    replaced.status = StatusCode::INTERNAL_SERVER_ERROR;
    replaced.set_header(VIOLATION_HEADER, sanitize(&diagnosis));
    replaced
}

/// Header-safe text: visible ASCII only, bounded.
fn sanitize(text: &str) -> String {
    text.chars()
        .map(|c| {
            if c.is_ascii_graphic() || c == ' ' {
                c
            } else {
                '?'
            }
        })
        .take(512)
        .collect()
}
