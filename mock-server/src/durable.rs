//! `--durable`: every acknowledged state change survives `kill -9`.
//!
//! Design: a command log beside the state file. Each request whose handler changed a vendor's
//! state is appended as one JSON line: the vendor, the operation, the validated request
//! (path, query, body and the header parameters the spec declares), the request time, the
//! active mutants, the fingerprint of the caller's credential and the seed of the ids the
//! handler drew. Credentials never reach the log: credential headers are not stored, the
//! caller's credential and any configured credential found in the body (a Confluent linking
//! token) are replaced by fingerprints, resolved at recovery against the vendor's configured
//! credentials.
//!
//! Replay is exact because everything a handler reads is in the record: it reads the clock
//! only through the request time, ids come from a generator scoped to the recorded seed (see
//! [`crate::ids::IdGenerator::scoped`]), and each vendor's changes are logged in the order they
//! happened, since a per-vendor lock is held from the handler's start until its record is
//! queued. Vendors share nothing but the id generator, so different vendors never wait for
//! each other.
//!
//! Group commit: one writer thread writes whatever records are queued and syncs them with one
//! `fdatasync`; a response is sent only once its record is synced, so concurrent writers share
//! a sync. A record torn by a kill was never acknowledged, and is dropped at recovery.
//!
//! Snapshots (compaction): with every vendor lock held, the log moves to a new segment, the
//! state file is written (re-serialising only the vendors whose state changed since the last
//! snapshot) with a cut naming the first segment it does not include, and older segments are
//! deleted. Recovery loads the state file and replays the segments from its cut. Admin changes
//! (import, reset, vendor actions) are not logged: each is applied under every vendor lock and
//! followed by a snapshot before it is acknowledged.

use std::collections::BTreeMap;
use std::fs::{self, File, OpenOptions};
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};

use axum::http::{HeaderMap, HeaderName, HeaderValue};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::VendorId;
use crate::persistence::{PersistError, StateFile};
use crate::pipeline::{App, Reply, ValidatedRequest};
use crate::spec::{Operation, ParamLocation};
use crate::vendors::{Authenticated, Context, Vendor, fingerprint};

/// The log grows to about this many bytes before a snapshot folds it into the state file.
pub const COMPACT_AFTER_BYTES: u64 = 64 << 20;

/// The key of the object that stands in a logged body for a configured credential.
const FINGERPRINT_KEY: &str = "understudy:fingerprint";

/// Header parameters that carry credentials: never logged, whatever a spec declares.
const CREDENTIAL_HEADERS: [&str; 4] = [
    "authorization",
    "proxy-authorization",
    "cookie",
    "x-api-key",
];

/// One logged state change: what the vendor's handler needs to make it again.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Command {
    vendor: VendorId,
    operation: String,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    path: BTreeMap<String, Value>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    query: BTreeMap<String, Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    body: Option<Value>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    headers: Vec<(String, String)>,
    /// The request time, in nanoseconds since the Unix epoch.
    at: i128,
    /// The seed of the ids the handler drew.
    ids: u64,
    /// The caller's credential fingerprint.
    caller: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    mutants: Vec<String>,
}

/// What the writer thread has to do and has done.
#[derive(Debug, Default)]
struct Queue {
    /// The segment new records go to.
    segment: u64,
    /// Records not yet written, by segment, in order.
    pending: Vec<(u64, Vec<u8>)>,
    /// The number of the last record queued, and of the last one synced.
    queued: u64,
    synced: u64,
    /// Bytes written to the current segment, and records logged since the last snapshot.
    segment_bytes: u64,
    since_snapshot: u64,
    /// Set when a write or sync failed: no record after it is ever acknowledged.
    failed: Option<String>,
    closed: bool,
}

/// How far the log has been synced, for the requests waiting on it.
#[derive(Clone, Debug, Default)]
struct Synced {
    up_to: u64,
    failed: Option<String>,
}

/// The durable log of a running fake.
pub struct DurableLog {
    file: StateFile,
    /// Held from a handler's start until its record is queued, per vendor.
    order: BTreeMap<VendorId, Mutex<()>>,
    queue: Mutex<Queue>,
    /// Wakes the writer thread; and, the other way, whoever waits for a sync.
    work: Condvar,
    done: Condvar,
    synced: tokio::sync::watch::Sender<Synced>,
    writer: Mutex<Option<std::thread::JoinHandle<()>>>,
}

/// A queued record a response waits for.
pub struct Ticket {
    record: u64,
    synced: tokio::sync::watch::Receiver<Synced>,
}

impl Ticket {
    /// Resolves once the record is synced; `Err` when the log could not be written.
    pub async fn wait(mut self) -> Result<(), String> {
        let record = self.record;
        let state = self
            .synced
            .wait_for(|s| s.up_to >= record || s.failed.is_some())
            .await
            .map_err(|_| "the durable log stopped".to_string())?;
        match &state.failed {
            Some(error) if state.up_to < record => Err(error.clone()),
            _ => Ok(()),
        }
    }
}

/// The path of log segment `n` of the state file at `state`: `STATE.log.N`.
fn segment_path(state: &Path, n: u64) -> PathBuf {
    let mut name = state.file_name().unwrap_or_default().to_os_string();
    name.push(format!(".log.{n}"));
    state.with_file_name(name)
}

/// The log segments beside the state file at `state`, by number.
fn segments(state: &Path) -> Vec<(u64, PathBuf)> {
    let name = state.file_name().unwrap_or_default().to_string_lossy();
    let prefix = format!("{name}.log.");
    let dir = match state.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let mut found: Vec<(u64, PathBuf)> = fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|entry| {
            let name = entry.file_name().to_string_lossy().into_owned();
            let n = name.strip_prefix(&prefix)?.parse().ok()?;
            Some((n, entry.path()))
        })
        .collect();
    found.sort();
    found
}

/// Loads the state file into `app` and replays the log segments it does not include. Returns
/// the first free segment number and whether any segment was found.
pub fn recover(app: &App, file: &StateFile) -> Result<(u64, bool), PersistError> {
    let cut = file.load(app)?.unwrap_or(0);
    let found = segments(file.path());
    let mut next = cut;
    let mutants = app.world().ambient.mutants.names();
    let replayed = (|| {
        for (n, path) in &found {
            next = next.max(n + 1);
            if *n >= cut {
                replay_segment(app, path)?;
            }
        }
        Ok(())
    })();
    // The names were read from the catalogue a moment ago, so they parse.
    let _ = app.world().ambient.mutants.activate(mutants);
    replayed?;
    Ok((next, !found.is_empty()))
}

fn replay_segment(app: &App, path: &Path) -> Result<usize, PersistError> {
    let invalid = |message: String| PersistError::Invalid {
        path: path.to_path_buf(),
        message,
    };
    let io = |source| PersistError::Io {
        path: path.to_path_buf(),
        source,
    };
    let mut reader = BufReader::new(File::open(path).map_err(io)?);
    let mut line = Vec::new();
    let mut offset = 0u64;
    let mut replayed = 0;
    loop {
        line.clear();
        let read = reader.read_until(b'\n', &mut line).map_err(io)?;
        if read == 0 {
            break;
        }
        let whole = line.last() == Some(&b'\n');
        let command = serde_json::from_slice::<Command>(&line);
        match command {
            Ok(command) if whole => {
                apply(app, command)
                    .map_err(|m| invalid(format!("record {}: {m}", replayed + 1)))?;
                replayed += 1;
                offset += read as u64;
            }
            _ => {
                // A torn record can only be the last one written (it was never acknowledged):
                // anything after it means the file is damaged, not torn.
                let mut rest = Vec::new();
                std::io::Read::read_to_end(&mut reader, &mut rest).map_err(io)?;
                if rest.iter().any(|b| !b.is_ascii_whitespace()) {
                    return Err(invalid(format!(
                        "record {} is damaged and is not the last one",
                        replayed + 1
                    )));
                }
                tracing::warn!(file = %path.display(), offset, "dropping a torn, unacknowledged log record");
                let file = OpenOptions::new().write(true).open(path).map_err(io)?;
                file.set_len(offset).map_err(io)?;
                file.sync_all().map_err(io)?;
                break;
            }
        }
    }
    tracing::info!(file = %path.display(), replayed, "log replayed");
    Ok(replayed)
}

/// Replaces every string in `value` that is one of `credentials` (a linking token in a body,
/// say) with `{"understudy:fingerprint": …}`, so no configured credential reaches the log.
fn fingerprint_credentials(value: &mut Value, credentials: &[&str]) {
    match value {
        Value::String(text) if credentials.contains(&text.as_str()) => {
            *value = serde_json::json!({ FINGERPRINT_KEY: fingerprint(text) });
        }
        Value::Array(items) => items
            .iter_mut()
            .for_each(|item| fingerprint_credentials(item, credentials)),
        Value::Object(fields) => fields
            .values_mut()
            .for_each(|field| fingerprint_credentials(field, credentials)),
        _ => {}
    }
}

/// The inverse of [`fingerprint_credentials`], against the configuration at recovery.
fn resolve_credentials(value: &mut Value, credentials: &[&str]) -> Result<(), String> {
    match value {
        Value::Object(fields) if fields.len() == 1 && fields.contains_key(FINGERPRINT_KEY) => {
            let wanted = fields[FINGERPRINT_KEY]
                .as_str()
                .unwrap_or_default()
                .to_string();
            let credential = credentials
                .iter()
                .find(|c| fingerprint(c) == wanted)
                .ok_or_else(|| {
                    format!("no configured credential has fingerprint {wanted} (was it removed?)")
                })?;
            *value = Value::String(credential.to_string());
        }
        Value::Array(items) => {
            for item in items {
                resolve_credentials(item, credentials)?;
            }
        }
        Value::Object(fields) => {
            for field in fields.values_mut() {
                resolve_credentials(field, credentials)?;
            }
        }
        _ => {}
    }
    Ok(())
}

/// Makes one logged change again through the vendor's handler.
fn apply(app: &App, command: Command) -> Result<(), String> {
    let vendor = &app.world().vendors[&command.vendor];
    // A log written by a fake that served more vendors than this one does is refused, not
    // replayed in part.
    let op = app
        .specs
        .try_vendor(command.vendor)
        .map_err(|e| e.to_string())?
        .operations
        .iter()
        .find(|op| op.operation_id == command.operation)
        .ok_or_else(|| format!("{} has no operation {}", command.vendor, command.operation))?;
    let caller = vendor.principal(&command.caller).ok_or_else(|| {
        format!(
            "no {} credential in the configuration has fingerprint {} (was it removed?)",
            command.vendor, command.caller
        )
    })?;
    let mut headers = HeaderMap::new();
    for (name, value) in &command.headers {
        let name = HeaderName::try_from(name.as_str()).map_err(|e| e.to_string())?;
        let value = HeaderValue::try_from(value.as_str()).map_err(|e| e.to_string())?;
        headers.append(name, value);
    }
    let now =
        time::OffsetDateTime::from_unix_timestamp_nanos(command.at).map_err(|e| e.to_string())?;
    let mut body = command.body;
    if let Some(body) = &mut body {
        resolve_credentials(body, &vendor.credentials())?;
    }
    app.world()
        .ambient
        .mutants
        .activate(command.mutants)
        .map_err(|e| e.to_string())?;
    let cx = Context::new(Some(op), now, &headers, &app.world().ambient);
    let request = ValidatedRequest {
        path: command.path,
        query: command.query,
        body,
    };
    app.world()
        .ambient
        .ids
        .scoped(command.ids, || caller.handle(op, &request, &cx));
    Ok(())
}

impl DurableLog {
    /// Opens the log of `file` at `segment` (see [`recover`]) and starts its writer thread.
    pub fn open(file: StateFile, segment: u64) -> Arc<Self> {
        let log = Arc::new(DurableLog {
            file,
            order: VendorId::ALL
                .into_iter()
                .map(|id| (id, Mutex::new(())))
                .collect(),
            queue: Mutex::new(Queue {
                segment,
                ..Queue::default()
            }),
            work: Condvar::new(),
            done: Condvar::new(),
            synced: tokio::sync::watch::Sender::new(Synced::default()),
            writer: Mutex::new(None),
        });
        let writer = log.clone();
        let handle = std::thread::Builder::new()
            .name("durable-log".into())
            .spawn(move || writer.write_loop())
            .expect("the log writer thread starts");
        *log.writer.lock().unwrap_or_else(|p| p.into_inner()) = Some(handle);
        log
    }

    fn queue(&self) -> MutexGuard<'_, Queue> {
        self.queue.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn order(&self, vendor: VendorId) -> MutexGuard<'_, ()> {
        self.order[&vendor]
            .lock()
            .unwrap_or_else(|p| p.into_inner())
    }

    fn all_orders(&self) -> Vec<MutexGuard<'_, ()>> {
        // Always in the same order, so two callers never deadlock.
        VendorId::ALL.into_iter().map(|id| self.order(id)).collect()
    }

    /// Runs `handler` for a validated request and, when it changed the vendor's state, queues
    /// the change. The response must wait for the returned ticket before it is sent.
    pub fn run(
        &self,
        app: &App,
        handler: &dyn Vendor,
        op: &Operation,
        request: &ValidatedRequest,
        caller: &dyn Authenticated,
        cx: &Context<'_>,
    ) -> (Reply, Option<Ticket>) {
        let _order = self.order(op.vendor);
        let before = handler.state().generation();
        let seed = app.world().ambient.ids.fork_seed();
        let reply = app
            .world()
            .ambient
            .ids
            .scoped(seed, || caller.handle(op, request, cx));
        if handler.state().generation() == before {
            return (reply, None);
        }
        let headers = op
            .parameters
            .iter()
            .filter(|p| p.location == ParamLocation::Header)
            .filter(|p| !CREDENTIAL_HEADERS.contains(&p.name.to_ascii_lowercase().as_str()))
            .flat_map(|p| {
                cx.headers
                    .get_all(p.name.as_str())
                    .iter()
                    .filter_map(|v| v.to_str().ok())
                    .map(|v| (p.name.to_ascii_lowercase(), v.to_string()))
                    .collect::<Vec<_>>()
            })
            .collect();
        let credentials = handler.credentials();
        let mut body = request.body.clone();
        if let Some(body) = &mut body {
            fingerprint_credentials(body, &credentials);
        }
        let command = Command {
            vendor: op.vendor,
            operation: op.operation_id.clone(),
            path: request.path.clone(),
            query: request.query.clone(),
            body,
            headers,
            at: cx.now.unix_timestamp_nanos(),
            ids: seed,
            caller: caller.fingerprint(),
            mutants: app.world().ambient.mutants.names(),
        };
        let mut line = serde_json::to_vec(&command).expect("a command serialises");
        line.push(b'\n');
        let record = self.append(line);
        (
            reply,
            Some(Ticket {
                record,
                synced: self.synced.subscribe(),
            }),
        )
    }

    fn append(&self, line: Vec<u8>) -> u64 {
        let mut queue = self.queue();
        queue.queued += 1;
        queue.since_snapshot += 1;
        let segment = queue.segment;
        match queue.pending.last_mut() {
            Some((s, bytes)) if *s == segment => bytes.extend_from_slice(&line),
            _ => queue.pending.push((segment, line)),
        }
        self.work.notify_one();
        queue.queued
    }

    /// The writer thread: writes what is queued, syncs it once, tells the waiters.
    fn write_loop(&self) {
        let mut open: Option<(u64, File)> = None;
        loop {
            let (batch, up_to) = {
                let mut queue = self.queue();
                while queue.pending.is_empty() && !queue.closed {
                    queue = self.work.wait(queue).unwrap_or_else(|p| p.into_inner());
                }
                if queue.pending.is_empty() {
                    return;
                }
                (std::mem::take(&mut queue.pending), queue.queued)
            };
            let mut written = 0u64;
            let outcome = (|| -> std::io::Result<()> {
                for (segment, bytes) in &batch {
                    if open.as_ref().is_none_or(|(s, _)| s != segment) {
                        let path = segment_path(self.file.path(), *segment);
                        let file = OpenOptions::new().create(true).append(true).open(&path)?;
                        // A new segment's name must be durable too, or a sync of its data
                        // could be lost with the directory entry.
                        if let Ok(dir) = File::open(self.file.directory()) {
                            dir.sync_all()?;
                        }
                        open = Some((*segment, file));
                    }
                    let (_, file) = open.as_mut().expect("opened above");
                    file.write_all(bytes)?;
                    file.sync_data()?;
                    written += bytes.len() as u64;
                }
                Ok(())
            })();
            let mut queue = self.queue();
            match outcome {
                Ok(()) => {
                    queue.synced = up_to;
                    if open.as_ref().is_some_and(|(s, _)| *s == queue.segment) {
                        queue.segment_bytes += written;
                    }
                }
                Err(error) => {
                    tracing::error!(%error, "writing the durable log; later writes are refused");
                    queue.failed = Some(error.to_string());
                }
            }
            let synced = Synced {
                up_to: queue.synced,
                failed: queue.failed.clone(),
            };
            drop(queue);
            self.done.notify_all();
            self.synced.send_replace(synced);
        }
    }

    /// Whether the log has grown enough since the last snapshot to fold it in.
    pub fn wants_snapshot(&self) -> bool {
        self.queue().segment_bytes >= COMPACT_AFTER_BYTES
    }

    /// Whether anything was logged since the last snapshot.
    pub fn logged_since_snapshot(&self) -> bool {
        self.queue().since_snapshot > 0
    }

    /// Writes a snapshot and drops the segments it includes.
    pub fn snapshot(&self, app: &App) -> Result<(), PersistError> {
        let orders = self.all_orders();
        self.snapshot_holding(app, orders)
    }

    /// Applies an admin change to the state and snapshots it before returning, so it is as
    /// durable as a logged change once acknowledged.
    pub fn admin_change<T>(
        &self,
        app: &App,
        change: impl FnOnce(&App) -> T,
    ) -> Result<T, PersistError> {
        let orders = self.all_orders();
        let changed = change(app);
        self.snapshot_holding(app, orders)?;
        Ok(changed)
    }

    fn snapshot_holding(
        &self,
        app: &App,
        orders: Vec<MutexGuard<'_, ()>>,
    ) -> Result<(), PersistError> {
        // No handler runs while every vendor lock is held, so the state is exactly the log's
        // records up to here: the snapshot includes every segment before the new one.
        let (old_last, cut) = {
            let mut queue = self.queue();
            queue.segment += 1;
            queue.segment_bytes = 0;
            queue.since_snapshot = 0;
            (queue.queued, queue.segment)
        };
        let saved = self.file.save_with_cut(app, cut);
        drop(orders);
        saved?;
        // Records of the old segments are in the snapshot; wait until the writer is done with
        // them so it does not recreate a deleted segment.
        let mut queue = self.queue();
        while queue.synced < old_last && queue.failed.is_none() {
            queue = self.done.wait(queue).unwrap_or_else(|p| p.into_inner());
        }
        drop(queue);
        for (n, path) in segments(self.file.path()) {
            if n < cut {
                let _ = fs::remove_file(path);
            }
        }
        Ok(())
    }

    /// Writes the final snapshot and stops the writer thread.
    pub fn close(&self, app: &App) -> Result<(), PersistError> {
        let saved = self.snapshot(app);
        self.queue().closed = true;
        self.work.notify_all();
        if let Some(writer) = self.writer.lock().unwrap_or_else(|p| p.into_inner()).take() {
            let _ = writer.join();
        }
        saved
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::server::{Options, app};

    fn record(n: usize) -> String {
        let command = serde_json::json!({
            "vendor": "dub",
            "operation": "createPartner",
            "body": {"programId": "prog_understudy", "name": format!("P {n}"), "email": format!("p{n}@example.com"), "username": format!("p{n}")},
            "at": 1_800_000_000_000_000_000i128,
            "ids": n,
            "caller": fingerprint("dub_understudy_test"),
        });
        format!("{command}\n")
    }

    fn partners(app: &App) -> usize {
        app.world().vendors[&VendorId::Dub].state().export()["partners"]
            .as_object()
            .map_or(0, |p| p.len())
    }

    fn scratch(name: &str) -> PathBuf {
        let dir =
            std::env::temp_dir().join(format!("understudy-durable-{name}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn a_torn_last_record_is_dropped_and_the_rest_replayed() {
        let dir = scratch("torn");
        let state = dir.join("state.json");
        let whole = format!("{}{}", record(1), record(2));
        let torn = &record(3)[..40];
        fs::write(segment_path(&state, 0), format!("{whole}{torn}")).unwrap();
        let app = app(&Options::default()).unwrap();
        let seeded = partners(&app);
        let (next, logged) = recover(&app, &StateFile::new(&state)).unwrap();
        assert_eq!((next, logged), (1, true));
        assert_eq!(partners(&app), seeded + 2);
        let left = fs::read_to_string(segment_path(&state, 0)).unwrap();
        assert_eq!(left, whole, "the torn tail is cut off");
        let _ = fs::remove_dir_all(&dir);
    }

    #[test]
    fn a_damaged_record_before_others_stops_the_recovery() {
        let dir = scratch("damaged");
        let state = dir.join("state.json");
        fs::write(
            segment_path(&state, 0),
            format!("{}{{\"vendor\": \n{}", record(1), record(2)),
        )
        .unwrap();
        let app = app(&Options::default()).unwrap();
        let error = recover(&app, &StateFile::new(&state)).unwrap_err();
        assert!(error.to_string().contains("damaged"), "{error}");
        let _ = fs::remove_dir_all(&dir);
    }

    #[test]
    fn a_record_whose_credential_is_gone_stops_the_recovery() {
        let dir = scratch("credential");
        let state = dir.join("state.json");
        let line = record(1).replace(&fingerprint("dub_understudy_test"), &fingerprint("removed"));
        fs::write(segment_path(&state, 0), line).unwrap();
        let app = app(&Options::default()).unwrap();
        let error = recover(&app, &StateFile::new(&state)).unwrap_err();
        assert!(error.to_string().contains("fingerprint"), "{error}");
        let _ = fs::remove_dir_all(&dir);
    }

    #[test]
    fn a_credential_in_a_body_is_logged_as_its_fingerprint_and_resolved_again() {
        let secret = "confluent_link_understudy";
        let original = serde_json::json!({"token": secret, "list": [secret, "plain"]});
        let mut logged = original.clone();
        fingerprint_credentials(&mut logged, &[secret]);
        assert!(!logged.to_string().contains(secret), "{logged}");
        assert_eq!(logged["list"][1], "plain");
        resolve_credentials(&mut logged, &[secret]).unwrap();
        assert_eq!(logged, original);
    }

    #[test]
    fn segments_before_the_cut_are_not_replayed() {
        let dir = scratch("cut");
        let state = dir.join("state.json");
        let app = app(&Options::default()).unwrap();
        let seeded = partners(&app);
        StateFile::new(&state).save_with_cut(&app, 1).unwrap();
        fs::write(segment_path(&state, 0), record(1)).unwrap();
        fs::write(segment_path(&state, 1), record(2)).unwrap();
        let (next, _) = recover(&app, &StateFile::new(&state)).unwrap();
        assert_eq!(next, 2);
        assert_eq!(
            partners(&app),
            seeded + 1,
            "only segment 1 is after the cut"
        );
        let _ = fs::remove_dir_all(&dir);
    }
}
