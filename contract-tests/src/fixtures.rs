//! Recording a run as fixtures and replaying it: `--record DIR` puts Understudy's recording
//! proxy in front of the target, one HAR file per case; `replay:DIR` serves each case's file
//! through Understudy's replay server, so the same seeded run can be compared offline.
//!
//! One file (and one replay server) per case rather than one for the whole run: the replay
//! server matches a request against every recording it holds, and the recorder rewrites its
//! whole file after each exchange, so both would grow quadratically with the run. A case is
//! also exactly the unit the replay server's sequencing expects: it starts from a reset.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use understudy::VendorId;
use understudy::fixtures::record::{RecordOptions, Recording, record};
use understudy::fixtures::redact::RedactionRules;
use understudy::fixtures::replay::{NO_MATCH_HEADER, Replaying, load, replay};
use understudy::spec::SpecSet;

use crate::backend::Capabilities;
use crate::backend::{AdminCall, Backend, BackendError, HttpBackend};
use crate::exchange::{Exchange, Request};

/// The fixture file of the `case`-th case (from 1) of `vendor`: names sort in case order.
pub fn case_file(dir: &Path, vendor: VendorId, case: usize) -> PathBuf {
    dir.join(format!("{vendor}-{case:06}.har"))
}

/// The recorded cases of `vendor` in `dir`, in case order.
pub fn case_files(dir: &Path, vendor: VendorId) -> Result<Vec<PathBuf>, BackendError> {
    let prefix = format!("{vendor}-");
    let entries = std::fs::read_dir(dir)
        .map_err(|e| BackendError::Fixtures(format!("reading {}: {e}", dir.display())))?;
    let mut files: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "har"))
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with(&prefix))
        })
        .collect();
    files.sort();
    Ok(files)
}

fn loopback() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], 0))
}

fn runtime() -> Result<tokio::runtime::Runtime, BackendError> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .map_err(|e| BackendError::Start(e.to_string()))
}

/// A backend whose every exchange is recorded, redacted, as HAR fixtures: `<vendor>-NNNNNN.har`
/// per case in a directory, written by Understudy's recording proxy.
pub struct RecordingBackend {
    inner: Box<dyn Backend>,
    http: HttpBackend,
    vendor: VendorId,
    dir: PathBuf,
    specs: Arc<SpecSet>,
    runtime: tokio::runtime::Runtime,
    /// The current case's proxy and the client pointed at it, and how many cases began.
    current: Mutex<(Option<(Recording, HttpBackend)>, usize)>,
}

impl RecordingBackend {
    /// Records what `inner` answers into `dir`; earlier recordings of `vendor` there are
    /// removed, so the directory holds exactly this run. `inner` must be an HTTP backend.
    pub fn new(
        inner: Box<dyn Backend>,
        vendor: VendorId,
        dir: &Path,
    ) -> Result<Self, BackendError> {
        let http = inner
            .http()
            .cloned()
            .ok_or_else(|| BackendError::Fixtures(format!("{} has no URL", inner.name())))?;
        std::fs::create_dir_all(dir)
            .map_err(|e| BackendError::Fixtures(format!("creating {}: {e}", dir.display())))?;
        for stale in case_files(dir, vendor)? {
            std::fs::remove_file(&stale).map_err(|e| {
                BackendError::Fixtures(format!("removing {}: {e}", stale.display()))
            })?;
        }
        let specs = SpecSet::embedded().map_err(|e| BackendError::Fixtures(e.to_string()))?;
        Ok(RecordingBackend {
            inner,
            http,
            vendor,
            dir: dir.to_path_buf(),
            specs: Arc::new(specs),
            runtime: runtime()?,
            current: Mutex::new((None, 0)),
        })
    }

    /// Stops the current case's proxy, which has written its file.
    fn finish_case(&self, current: &mut Option<(Recording, HttpBackend)>) {
        if let Some((recording, _)) = current.take() {
            // The file was written after each exchange; stopping only waits for the last one.
            let _ = self.runtime.block_on(recording.stop());
        }
    }

    fn start_case(&self, case: usize) -> Result<(Recording, HttpBackend), BackendError> {
        let options = RecordOptions {
            vendor: self.vendor,
            upstream: self.http.base_url().to_string(),
            out: case_file(&self.dir, self.vendor, case),
            addr: loopback(),
            rules: RedactionRules::default(),
            // The harness's targets are the fake or a vendor's public HTTPS endpoint, which
            // the built-in roots cover.
            upstream_ca: None,
        };
        let recording = self
            .runtime
            .block_on(record(options, self.specs.clone()))
            .map_err(|e| BackendError::Fixtures(e.to_string()))?;
        let client = self.http.at(recording.url());
        Ok((recording, client))
    }
}

impl Backend for RecordingBackend {
    fn name(&self) -> &str {
        self.inner.name()
    }

    fn send(&self, request: &Request) -> Result<Exchange, BackendError> {
        send_in_case(&self.current, |case| self.start_case(case), request)
    }

    fn reset(&self) -> Result<(), BackendError> {
        let mut current = self.current.lock().unwrap_or_else(|p| p.into_inner());
        self.finish_case(&mut current.0);
        self.inner.reset()?;
        current.1 += 1;
        current.0 = Some(self.start_case(current.1)?);
        Ok(())
    }

    fn admin(&self, call: &AdminCall) -> Result<(), BackendError> {
        self.inner.admin(call)
    }

    fn admin_read(&self, path: &str) -> Result<Option<serde_json::Value>, BackendError> {
        self.inner.admin_read(path)
    }

    fn can_shrink(&self) -> bool {
        false
    }

    fn capabilities(&self) -> Capabilities {
        // Fixtures stay small: no megabyte bodies.
        Capabilities {
            large_bodies: false,
            ..self.inner.capabilities()
        }
    }
}

impl Drop for RecordingBackend {
    fn drop(&mut self) {
        let mut current = self.current.lock().unwrap_or_else(|p| p.into_inner());
        self.finish_case(&mut current.0);
    }
}

/// A backend that answers from a run recorded with [`RecordingBackend`]: the `n`-th case is
/// served from the `n`-th file by Understudy's replay server, started on an ephemeral loopback
/// port. Replaying the same seed and number of cases sends the same requests in the same order.
pub struct ReplayBackend {
    name: String,
    vendor: VendorId,
    files: Vec<PathBuf>,
    runtime: tokio::runtime::Runtime,
    current: Mutex<(Option<(Replaying, HttpBackend)>, usize)>,
}

impl ReplayBackend {
    /// Replays the cases of `vendor` recorded in `dir`.
    pub fn open(vendor: VendorId, dir: &Path) -> Result<Self, BackendError> {
        let files = case_files(dir, vendor)?;
        if files.is_empty() {
            return Err(BackendError::Fixtures(format!(
                "{} holds no recorded {vendor} cases ({vendor}-NNNNNN.har)",
                dir.display()
            )));
        }
        Ok(ReplayBackend {
            name: format!("replay:{}", dir.display()),
            vendor,
            files,
            runtime: runtime()?,
            current: Mutex::new((None, 0)),
        })
    }

    /// The same replay under another name in reports.
    pub fn named(mut self, name: impl Into<String>) -> Self {
        self.name = name.into();
        self
    }

    /// How many recorded cases the directory holds.
    pub fn cases(&self) -> usize {
        self.files.len()
    }

    /// Ends the replay: an error if the last case left recorded exchanges unused or fewer
    /// cases ran than were recorded (the run was not the recorded one).
    fn check_finished(&self) -> Result<(), BackendError> {
        let mut current = self.current.lock().unwrap_or_else(|p| p.into_inner());
        let (case, number) = &mut *current;
        self.end_case(case, *number)?;
        if current.1 < self.files.len() {
            return Err(BackendError::Fixtures(format!(
                "{}: {} cases were recorded, {} replayed",
                self.name,
                self.files.len(),
                current.1
            )));
        }
        Ok(())
    }

    /// Stops case `number`'s server; a recorded exchange it never served means the run took
    /// another path than the recording, which is an error.
    fn end_case(
        &self,
        current: &mut Option<(Replaying, HttpBackend)>,
        number: usize,
    ) -> Result<(), BackendError> {
        let Some((replaying, _)) = current.take() else {
            return Ok(());
        };
        let unused = replaying.unused();
        let _ = self.runtime.block_on(replaying.stop());
        if unused.is_empty() {
            return Ok(());
        }
        Err(BackendError::Fixtures(format!(
            "{}: case {number} left recorded exchanges unused: {}",
            self.name,
            unused.join(", ")
        )))
    }

    fn start_case(&self, case: usize) -> Result<(Replaying, HttpBackend), BackendError> {
        let Some(file) = self.files.get(case - 1) else {
            return Err(BackendError::Fixtures(format!(
                "{}: only {} cases were recorded; case {case} has no fixture",
                self.name,
                self.files.len()
            )));
        };
        let recorded = load(file).map_err(|e| BackendError::Fixtures(e.to_string()))?;
        let replaying = self
            .runtime
            .block_on(replay(recorded, loopback()))
            .map_err(|e| BackendError::Fixtures(format!("starting the replay server: {e}")))?;
        let url = format!("{}/{}", replaying.url(), self.vendor.name());
        let client = HttpBackend::new(self.name.clone(), url);
        Ok((replaying, client))
    }
}

impl Backend for ReplayBackend {
    fn name(&self) -> &str {
        &self.name
    }

    fn send(&self, request: &Request) -> Result<Exchange, BackendError> {
        let exchange = send_in_case(&self.current, |case| self.start_case(case), request)?;
        if exchange.headers.contains_key(NO_MATCH_HEADER) {
            return Err(BackendError::NoMatch {
                backend: self.name.clone(),
                report: exchange.body.to_string(),
            });
        }
        Ok(exchange)
    }

    fn reset(&self) -> Result<(), BackendError> {
        let mut current = self.current.lock().unwrap_or_else(|p| p.into_inner());
        let (case, number) = &mut *current;
        self.end_case(case, *number)?;
        current.1 += 1;
        current.0 = Some(self.start_case(current.1)?);
        Ok(())
    }

    fn can_shrink(&self) -> bool {
        false
    }

    fn capabilities(&self) -> Capabilities {
        // A replay answers as the recorded run did, which was recorded without megabyte bodies;
        // its requests carry the recorded run's suffixes only when given the same run id.
        Capabilities {
            large_bodies: false,
            ..Capabilities::UNDERSTUDY
        }
    }

    fn finish(&self) -> Result<(), BackendError> {
        self.check_finished()
    }
}

impl Drop for ReplayBackend {
    fn drop(&mut self) {
        // Only the server is stopped here: unused exchanges were reported by `finish`.
        let mut current = self.current.lock().unwrap_or_else(|p| p.into_inner());
        let (case, number) = &mut *current;
        let _ = self.end_case(case, *number);
    }
}

/// Sends `request` through the running case's client, first starting the next case (numbered
/// from 1) when none is running: a case's server starts with its first request.
fn send_in_case<S>(
    current: &Mutex<(Option<(S, HttpBackend)>, usize)>,
    start: impl FnOnce(usize) -> Result<(S, HttpBackend), BackendError>,
    request: &Request,
) -> Result<Exchange, BackendError> {
    let mut current = current.lock().unwrap_or_else(|p| p.into_inner());
    if current.0.is_none() {
        current.1 += 1;
        current.0 = Some(start(current.1)?);
    }
    let (_, client) = current.0.as_ref().expect("started above");
    client.send(request)
}
