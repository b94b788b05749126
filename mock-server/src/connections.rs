//! Serving connections: the accept loop behind [`crate::server::Background`], with a connection
//! limit and the timeouts that close slow and idle connections.
//!
//! hyper's own `header_read_timeout` starts when the server begins waiting for a request, so on
//! a kept-alive connection it is also the idle timeout; to have a header timeout and a separate,
//! longer keep-alive timeout, each connection is watched here instead. A connection is in one of
//! three phases:
//!
//! - **head**: a new connection, or bytes of the next request arrived: its head must be complete
//!   within `header_read_timeout_ms` (slowloris);
//! - **busy**: a request is being answered; its body must arrive within `body_read_timeout_ms`
//!   of its head ([`TimedBody`]);
//! - **idle**: kept alive between requests, nothing received: closed after `idle_timeout_ms`.
//!
//! Beyond `max_connections` a new connection is still accepted, the connection that has waited
//! longest without a request in flight is closed to make room, and the newcomer waits up to
//! `queue_wait_ms` for the slot (closed unanswered if every connection stays busy). Only a few
//! wait so at once; beyond them the accept loop waits for room, and new connections wait in
//! the kernel's backlog rather than taking file descriptors, so `accept` never fails for want
//! of them.

use std::collections::HashMap;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::{Pin, pin};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, ready};
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::ConnectInfo;
use http_body::{Frame, SizeHint};
use hyper::body::Incoming;
use serde::{Deserialize, Serialize};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Notify, OwnedSemaphorePermit, Semaphore, watch};
use tokio::time::{Instant, Sleep};

/// At most this many connections beyond the limit wait for a slot at once (an eighth of the
/// limit, at least 4); more wait in the kernel's backlog.
const MAX_QUEUE: usize = 64;

/// How often a connection waiting for a slot looks again for an idle connection to close.
const EVICTION_RETRY: Duration = Duration::from_millis(20);

/// File descriptors kept back from a derived connection limit, a quarter of the open-file
/// limit within these bounds: the waiting queue, the listener, stdio, the runtime, state and
/// fixture files, the recording proxy's upstream connections.
const RESERVED_DESCRIPTORS: (u64, u64) = (32, 128);

/// The derived limit never goes below this (a tiny `ulimit -n` still serves a few clients).
const MIN_DERIVED_CONNECTIONS: usize = 16;

/// Nor above this (an unlimited `ulimit -n`).
const MAX_DERIVED_CONNECTIONS: usize = 1 << 20;

/// Connection timeouts and the connection limit (`connections:` in the configuration).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ConnectionLimits {
    /// A request's head (request line and headers) must be complete this many milliseconds
    /// after its first byte, or after the connection opened.
    pub header_read_timeout_ms: u64,
    /// A request's body must be complete this many milliseconds after its head.
    pub body_read_timeout_ms: u64,
    /// A kept-alive connection with nothing received is closed after this many milliseconds.
    pub idle_timeout_ms: u64,
    /// Connections served at once; `None` derives it from the open-file limit
    /// (`RLIMIT_NOFILE` minus a quarter of it, at least 32 and at most 128).
    pub max_connections: Option<usize>,
    /// How long a connection beyond the limit waits for a slot before it is closed.
    pub queue_wait_ms: u64,
}

impl Default for ConnectionLimits {
    fn default() -> Self {
        ConnectionLimits {
            header_read_timeout_ms: 10_000,
            body_read_timeout_ms: 30_000,
            idle_timeout_ms: 60_000,
            max_connections: None,
            queue_wait_ms: 1_000,
        }
    }
}

/// A connection setting that cannot work.
#[derive(Debug, thiserror::Error)]
#[error("connections.{field} must be at least 1")]
pub struct LimitError {
    /// The setting.
    pub field: &'static str,
}

impl ConnectionLimits {
    /// Refuses zero timeouts and a zero limit: either would close every connection.
    pub fn check(&self) -> Result<(), LimitError> {
        let fields = [
            ("header_read_timeout_ms", self.header_read_timeout_ms),
            ("body_read_timeout_ms", self.body_read_timeout_ms),
            ("idle_timeout_ms", self.idle_timeout_ms),
            ("queue_wait_ms", self.queue_wait_ms),
            (
                "max_connections",
                self.max_connections.map_or(1, |n| n as u64),
            ),
        ];
        match fields.into_iter().find(|(_, value)| *value == 0) {
            Some((field, _)) => Err(LimitError { field }),
            None => Ok(()),
        }
    }

    /// The connection limit in force: the configured one, or the one derived from the
    /// process's open-file limit.
    pub fn effective_max_connections(&self) -> usize {
        self.max_connections.unwrap_or_else(|| {
            let (least, most) = RESERVED_DESCRIPTORS;
            let derived =
                open_file_limit().map_or(1024, |n| n.saturating_sub((n / 4).clamp(least, most)));
            usize::try_from(derived)
                .unwrap_or(MAX_DERIVED_CONNECTIONS)
                .clamp(MIN_DERIVED_CONNECTIONS, MAX_DERIVED_CONNECTIONS)
        })
    }
}

/// The soft `RLIMIT_NOFILE`, when the platform has one.
#[cfg(unix)]
fn open_file_limit() -> Option<u64> {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit writes only into the struct it is given, which lives for the call.
    let status = unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) };
    // rlim_t is u64 on Linux, not on every unix.
    #[allow(clippy::unnecessary_cast)]
    (status == 0).then_some(limit.rlim_cur as u64)
}

#[cfg(not(unix))]
fn open_file_limit() -> Option<u64> {
    None
}

/// Why a request body could not be read (the error inside the body a handler reads).
#[derive(Debug, thiserror::Error)]
pub enum BodyReadError {
    /// The body did not arrive within `body_read_timeout_ms` of the request's head.
    #[error("the request body did not arrive within {0:?}")]
    TimedOut(Duration),
    /// The connection broke the body's framing or closed before its end.
    #[error("the request body could not be read: {0}")]
    Broken(#[from] hyper::Error),
}

/// The connection's account of why a body could not be read, when `error` (as a handler sees
/// it, wrapped by axum) carries one.
pub fn body_read_error(error: &axum::Error) -> Option<&BodyReadError> {
    let mut cause: &(dyn std::error::Error + 'static) = error;
    loop {
        if let Some(found) = cause.downcast_ref::<BodyReadError>() {
            return Some(found);
        }
        cause = cause.source()?;
    }
}

/// A request body that fails with [`BodyReadError::TimedOut`] when it is not complete within
/// the timeout of the handler's first read (not of the head, so a handler that waits before it
/// reads, e.g. for injected latency, does not eat into the client's time). The timer is armed
/// only when the body first has to wait, so a body that is already buffered costs nothing.
pub struct TimedBody {
    inner: Incoming,
    timeout: Duration,
    first_read: Option<Instant>,
    sleep: Option<Pin<Box<Sleep>>>,
}

impl TimedBody {
    fn new(inner: Incoming, timeout: Duration) -> Self {
        TimedBody {
            inner,
            timeout,
            first_read: None,
            sleep: None,
        }
    }
}

impl http_body::Body for TimedBody {
    type Data = Bytes;
    type Error = BodyReadError;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BodyReadError>>> {
        let this = &mut *self;
        let first_read = *this.first_read.get_or_insert_with(Instant::now);
        if let Poll::Ready(frame) = Pin::new(&mut this.inner).poll_frame(cx) {
            return Poll::Ready(frame.map(|f| f.map_err(BodyReadError::from)));
        }
        let deadline = first_read + this.timeout;
        let sleep = this
            .sleep
            .get_or_insert_with(|| Box::pin(tokio::time::sleep_until(deadline)));
        ready!(sleep.as_mut().poll(cx));
        Poll::Ready(Some(Err(BodyReadError::TimedOut(this.timeout))))
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

/// The phases of a connection, packed with the millisecond it began into one atomic so the
/// watcher never reads a phase with another phase's start.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Phase {
    Head = 0,
    Busy = 1,
    Idle = 2,
}

/// What the connection's watcher and the server share about one connection.
struct Tracker {
    /// `(milliseconds since the server's epoch << 2) | phase`.
    state: AtomicU64,
    /// Wakes the watcher when the connection is evicted (and again when an evicted connection
    /// finishes its request).
    wake: Notify,
    /// Asked to close as soon as no request is in flight, to make room beyond the limit.
    evicted: AtomicBool,
    /// The socket is closed.
    closed: AtomicBool,
    epoch: std::time::Instant,
}

impl Tracker {
    fn new(epoch: std::time::Instant) -> Self {
        let tracker = Tracker {
            state: AtomicU64::new(0),
            wake: Notify::new(),
            evicted: AtomicBool::new(false),
            closed: AtomicBool::new(false),
            epoch,
        };
        tracker.enter(Phase::Head);
        tracker
    }

    fn now_ms(&self) -> u64 {
        self.epoch.elapsed().as_millis() as u64
    }

    fn enter(&self, phase: Phase) {
        self.state
            .store((self.now_ms() << 2) | phase as u64, Ordering::Release);
    }

    fn read(&self) -> (Phase, u64) {
        let state = self.state.load(Ordering::Acquire);
        let phase = match state & 3 {
            0 => Phase::Head,
            1 => Phase::Busy,
            _ => Phase::Idle,
        };
        (phase, state >> 2)
    }

    /// Bytes arrived: on an idle connection they start the next request's head. The watcher
    /// is not woken (that would cost every request a wake-up); it looks at least every
    /// [`Timeouts::check`].
    fn received(&self) {
        if self.read().0 == Phase::Idle {
            self.enter(Phase::Head);
        }
    }

    /// When the current phase runs out, if it can.
    fn deadline(&self, timeouts: &Timeouts) -> Option<Instant> {
        let (phase, since) = self.read();
        let timeout = match phase {
            Phase::Head => timeouts.header,
            Phase::Idle => timeouts.idle,
            Phase::Busy => return None,
        };
        let at = self.epoch + Duration::from_millis(since) + timeout;
        Some(Instant::from_std(at))
    }
}

/// Marks a connection busy while it lives: from the request's head to the end of its response.
struct Busy(Arc<Tracker>);

impl Busy {
    fn new(tracker: Arc<Tracker>) -> Self {
        tracker.enter(Phase::Busy);
        Busy(tracker)
    }
}

impl Drop for Busy {
    fn drop(&mut self) {
        self.0.enter(Phase::Idle);
        // Only an evicted connection's watcher needs to know at once: a newcomer waits for it.
        if self.0.evicted.load(Ordering::Relaxed) {
            self.0.wake.notify_one();
        }
    }
}

/// A response body that keeps its connection busy until hyper has taken all of it.
struct ResponseBody {
    inner: Body,
    _busy: Busy,
}

impl http_body::Body for ResponseBody {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, axum::Error>>> {
        Pin::new(&mut self.inner).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

/// The stream, noting when bytes arrive so an idle connection's next request is timed.
struct TrackedIo {
    stream: TcpStream,
    tracker: Arc<Tracker>,
}

impl AsyncRead for TrackedIo {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let before = buf.filled().len();
        ready!(Pin::new(&mut self.stream).poll_read(cx, buf))?;
        if buf.filled().len() > before {
            self.tracker.received();
        }
        Poll::Ready(Ok(()))
    }
}

impl AsyncWrite for TrackedIo {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.stream).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.stream).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.stream).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.stream).poll_shutdown(cx)
    }
}

/// The timeouts as durations.
#[derive(Clone, Copy, Debug)]
struct Timeouts {
    header: Duration,
    body: Duration,
    idle: Duration,
    queue: Duration,
    /// How often a watcher looks at its connection's phase at the least: half the shorter of
    /// the header and idle timeouts, so either is enforced at most half of itself late.
    check: Duration,
}

/// What every connection of one server shares.
struct Shared {
    timeouts: Timeouts,
    max_connections: usize,
    epoch: std::time::Instant,
    /// One permit per connection served.
    slots: Arc<Semaphore>,
    /// One permit per open connection, served or waiting for a slot: `max_connections` plus
    /// the queue. The accept loop takes one before it accepts, so beyond it new connections
    /// wait in the kernel's backlog, not in the descriptor table.
    capacity: Arc<Semaphore>,
    /// The connections being served, for eviction.
    connections: Mutex<HashMap<u64, Arc<Tracker>>>,
    next_id: AtomicU64,
    /// When "connection limit reached" was last logged (ms since the epoch, +1; 0 = never).
    last_limit_log: AtomicU64,
}

impl Shared {
    fn register(&self) -> (u64, Arc<Tracker>) {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let tracker = Arc::new(Tracker::new(self.epoch));
        self.connections
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(id, tracker.clone());
        (id, tracker)
    }

    fn unregister(&self, id: u64) {
        self.connections
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(&id);
    }

    /// Waits up to the queue timeout for a slot, closing idle connections to make one: one at a
    /// time, another only once the last one asked has closed, so a burst does not close more
    /// connections than it needs.
    async fn wait_for_slot(&self) -> Option<OwnedSemaphorePermit> {
        let deadline = Instant::now() + self.timeouts.queue;
        let mut asked: Option<Arc<Tracker>> = None;
        let mut slot = pin!(self.slots.clone().acquire_owned());
        loop {
            if asked
                .as_ref()
                .is_none_or(|t| t.closed.load(Ordering::Acquire))
            {
                asked = self.evict_one();
                if asked.is_none() {
                    self.log_limit();
                }
            }
            let retry = (Instant::now() + EVICTION_RETRY).min(deadline);
            tokio::select! {
                permit = &mut slot => return permit.ok(),
                _ = tokio::time::sleep_until(retry) => {
                    if retry >= deadline {
                        return None;
                    }
                }
            }
        }
    }

    /// Asks the connection that has waited longest without a request in flight to close.
    fn evict_one(&self) -> Option<Arc<Tracker>> {
        let connections = self.connections.lock().unwrap_or_else(|p| p.into_inner());
        // Ties (the clock is in milliseconds) go to the connection opened first.
        let oldest = connections
            .iter()
            .filter(|(_, t)| !t.evicted.load(Ordering::Relaxed))
            .filter_map(|(id, t)| match t.read() {
                (Phase::Busy, _) => None,
                (_, since) => Some(((since, *id), t)),
            })
            .min_by_key(|(key, _)| *key);
        let (_, tracker) = oldest?;
        tracker.evicted.store(true, Ordering::Relaxed);
        tracker.wake.notify_one();
        Some(tracker.clone())
    }

    /// Logs at most once a second, so a flood does not flood the log too.
    fn log_limit(&self) {
        let now = self.epoch.elapsed().as_millis() as u64 + 1;
        let last = self.last_limit_log.load(Ordering::Relaxed);
        if (last == 0 || now >= last + 1000)
            && self
                .last_limit_log
                .compare_exchange(last, now, Ordering::Relaxed, Ordering::Relaxed)
                .is_ok()
        {
            tracing::warn!(
                max_connections = self.max_connections,
                "connection limit reached and every connection is busy; new connections wait for a slot"
            );
        }
    }
}

/// Serves `router` on `listener` until `stop` resolves, then stops accepting, closes idle
/// connections, lets requests in flight finish, and returns. With `connect_info`, each request
/// carries its peer address as `ConnectInfo<SocketAddr>`.
pub(crate) async fn serve(
    listener: TcpListener,
    router: axum::Router,
    limits: &ConnectionLimits,
    connect_info: bool,
    stop: impl Future<Output = ()>,
) -> std::io::Result<()> {
    let max = limits.effective_max_connections();
    let queue = (max / 8).clamp(4, MAX_QUEUE);
    if let Some(files) = open_file_limit().filter(|&n| n < (max + queue) as u64 + 16) {
        tracing::warn!(
            max_connections = max,
            open_file_limit = files,
            "connections.max_connections is above what the open-file limit can hold; accepts may fail"
        );
    }
    let shared = Arc::new(Shared {
        timeouts: Timeouts {
            header: Duration::from_millis(limits.header_read_timeout_ms.max(1)),
            body: Duration::from_millis(limits.body_read_timeout_ms.max(1)),
            idle: Duration::from_millis(limits.idle_timeout_ms.max(1)),
            queue: Duration::from_millis(limits.queue_wait_ms.max(1)),
            check: Duration::from_millis(
                limits
                    .header_read_timeout_ms
                    .min(limits.idle_timeout_ms)
                    .max(2)
                    / 2,
            ),
        },
        max_connections: max,
        epoch: std::time::Instant::now(),
        slots: Arc::new(Semaphore::new(max)),
        capacity: Arc::new(Semaphore::new(max + queue)),
        connections: Mutex::new(HashMap::new()),
        next_id: AtomicU64::new(0),
        last_limit_log: AtomicU64::new(0),
    });
    let (closing, closed) = watch::channel(false);
    let mut tasks = tokio::task::JoinSet::new();
    let mut stop = pin!(stop);
    let mut last_accept_log: Option<Instant> = None;
    'serving: loop {
        let room = loop {
            tokio::select! {
                _ = &mut stop => break 'serving,
                // Reaps finished connections so the set holds only live ones.
                Some(_) = tasks.join_next(), if !tasks.is_empty() => {}
                room = shared.capacity.clone().acquire_owned() => {
                    break room.expect("the capacity semaphore is never closed");
                }
            }
        };
        let (stream, peer) = loop {
            tokio::select! {
                _ = &mut stop => break 'serving,
                Some(_) = tasks.join_next(), if !tasks.is_empty() => {}
                accepted = listener.accept() => match accepted {
                    Ok(accepted) => break accepted,
                    Err(error) => accept_failed(error, &mut last_accept_log).await,
                },
            }
        };
        // Without TCP_NODELAY a streamed body's last chunk waits for the client's delayed ACK
        // (about 40 ms per exchange through the recording proxy).
        let _ = stream.set_nodelay(true);
        let connection = Connection {
            shared: shared.clone(),
            router: router.clone(),
            peer: connect_info.then_some(peer),
            closed: closed.clone(),
        };
        tasks.spawn(async move {
            let slot = match connection.shared.slots.clone().try_acquire_owned() {
                Ok(slot) => Some(slot),
                Err(_) => connection.shared.wait_for_slot().await,
            };
            match slot {
                Some(slot) => connection.run(stream, slot).await,
                // No slot in time: closed unanswered, as a full server would.
                None => {
                    drop(stream);
                    tracing::debug!("no connection slot in time; closed");
                }
            }
            drop(room);
        });
    }
    let _ = closing.send(true);
    while tasks.join_next().await.is_some() {}
    Ok(())
}

/// An accept that failed: a connection that went away before it was accepted is skipped; out of
/// file descriptors (or anything else) waits a little so the loop does not spin, and is logged
/// at most every ten seconds.
async fn accept_failed(error: std::io::Error, last_log: &mut Option<Instant>) {
    use std::io::ErrorKind;
    if matches!(
        error.kind(),
        ErrorKind::ConnectionAborted | ErrorKind::ConnectionReset | ErrorKind::ConnectionRefused
    ) {
        return;
    }
    if last_log.is_none_or(|at| at.elapsed() >= Duration::from_secs(10)) {
        tracing::error!(%error, "accept failed; lower connections.max_connections or raise the open-file limit");
        *last_log = Some(Instant::now());
    }
    tokio::time::sleep(Duration::from_millis(50)).await;
}

/// One accepted connection and what it needs to be served.
struct Connection {
    shared: Arc<Shared>,
    router: axum::Router,
    peer: Option<SocketAddr>,
    closed: watch::Receiver<bool>,
}

impl Connection {
    async fn run(self, stream: TcpStream, slot: OwnedSemaphorePermit) {
        let shared = self.shared.clone();
        let (id, tracker) = shared.register();
        // The socket is closed (when `serve` returns) before its slot is given back, so the
        // limit bounds open descriptors, not only served connections.
        self.serve(stream, tracker.clone()).await;
        tracker.closed.store(true, Ordering::Release);
        shared.unregister(id);
        drop(slot);
    }

    async fn serve(mut self, stream: TcpStream, tracker: Arc<Tracker>) {
        let io = hyper_util::rt::TokioIo::new(TrackedIo {
            stream,
            tracker: tracker.clone(),
        });
        let body_timeout = self.shared.timeouts.body;
        let (router, peer, service_tracker) = (self.router, self.peer, tracker.clone());
        let service = hyper::service::service_fn(move |request: hyper::Request<Incoming>| {
            let busy = Busy::new(service_tracker.clone());
            let mut request = request.map(|body| TimedBody::new(body, body_timeout));
            if let Some(peer) = peer {
                request.extensions_mut().insert(ConnectInfo(peer));
            }
            let answered = tower::ServiceExt::oneshot(router.clone(), request);
            async move {
                let response = answered.await?;
                Ok::<_, std::convert::Infallible>(
                    response.map(|inner| ResponseBody { inner, _busy: busy }),
                )
            }
        });
        let mut connection = pin!(
            hyper::server::conn::http1::Builder::new()
                // Timed by the watcher below (see the module documentation).
                .header_read_timeout(None)
                .serve_connection(io, service)
        );
        let timeouts = self.shared.timeouts;
        let mut stopping = *self.closed.borrow();
        loop {
            let deadline = tracker.deadline(&timeouts);
            let between_requests = deadline.is_some();
            if between_requests && stopping {
                // Between requests (or before the first): nothing is lost by closing now.
                break;
            }
            if between_requests && tracker.evicted.load(Ordering::Relaxed) {
                tracing::debug!("idle connection closed to make room for a new one");
                break;
            }
            // The phase may change without a wake-up, so look again every `check` at least.
            let now = Instant::now();
            let look = deadline.map_or(now + timeouts.check, |d| d.min(now + timeouts.check));
            tokio::select! {
                result = connection.as_mut() => {
                    if let Err(error) = result {
                        tracing::debug!(%error, "connection ended with an error");
                    }
                    break;
                }
                _ = tokio::time::sleep_until(look) => {
                    if tracker.deadline(&timeouts).is_some_and(|d| d <= Instant::now()) {
                        let (phase, _) = tracker.read();
                        tracing::debug!(?phase, "connection timed out; closed");
                        break;
                    }
                }
                // Eviction: looked at above.
                _ = tracker.wake.notified() => {}
                _ = self.closed.changed(), if !stopping => {
                    stopping = true;
                    connection.as_mut().graceful_shutdown();
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zero_settings_are_refused_and_the_derived_limit_is_bounded() {
        assert!(ConnectionLimits::default().check().is_ok());
        let zero = ConnectionLimits {
            idle_timeout_ms: 0,
            ..ConnectionLimits::default()
        };
        assert_eq!(zero.check().unwrap_err().field, "idle_timeout_ms");
        let none = ConnectionLimits {
            max_connections: Some(0),
            ..ConnectionLimits::default()
        };
        assert_eq!(none.check().unwrap_err().field, "max_connections");
        let derived = ConnectionLimits::default().effective_max_connections();
        assert!((MIN_DERIVED_CONNECTIONS..=MAX_DERIVED_CONNECTIONS).contains(&derived));
        if let Some(limit) = open_file_limit() {
            assert!(derived as u64 <= limit.max(MIN_DERIVED_CONNECTIONS as u64));
        }
    }
}
