//! The runner: proptest generates operation sequences, some steps twisted into negative ones
//! or forced statuses; each step runs on each backend and is checked against the spec, the
//! model and the other backend. A failure is shrunk to a minimal sequence, reported with the
//! first diverging step, and persisted with its seed.

use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::sync::OnceLock;
use std::time::Duration;

use proptest::prelude::*;
use proptest::test_runner::{Config, RngAlgorithm, TestCaseError, TestError, TestRng, TestRunner};
use serde::Serialize;
use serde_json::Value;
use understudy::spec::{SpecSet, VendorSpec};

use crate::backend::{AdminCall, Backend, BackendError, Capabilities, CaseIsolation};
use crate::conformance::violations;
use crate::exchange::{Exchange, Request};
use crate::normalise::Placeholders;
use crate::reach::{Cells, cells, forced, injectable};
use crate::scenario::{Case, Prediction, Prior, Scenario, Step, Twist};

/// How many cases, from which seed, and where failures are persisted.
#[derive(Clone, Debug)]
pub struct RunConfig {
    /// Generated cases.
    pub cases: u32,
    /// The seed of the generator: the same seed replays the same sequences.
    pub seed: u64,
    /// Where a failing case is written (`<dir>/<vendor>-<seed>.json`); `None` keeps it in memory.
    pub failures_dir: Option<PathBuf>,
    /// Called after each case with (cases done, cases asked), e.g. for a progress bar.
    pub progress: Option<fn(u32, u32)>,
    /// What makes this run's unique values unique (see [`Case::suffix`]): `None` draws one
    /// from the clock when a backend needs suffixes; given, suffixes are used even on reset
    /// backends, so a run recorded against a shared target replays with the same requests.
    pub run_id: Option<String>,
    /// The longest a run waits, in all, for a shared target's rate limiter (its `Retry-After`)
    /// before it reports the target as unavailable.
    pub patience: Duration,
}

impl Default for RunConfig {
    fn default() -> Self {
        RunConfig {
            cases: 100,
            seed: 0,
            failures_dir: None,
            progress: None,
            run_id: None,
            patience: Duration::from_secs(180),
        }
    }
}

/// The first step where something went wrong, in a minimal sequence.
#[derive(Clone, Debug, Serialize)]
pub struct Failure {
    /// The minimal operation sequence, one `Debug` line per step.
    pub sequence: Vec<String>,
    /// The index of the failing step.
    pub step: usize,
    /// What failed (spec, model or agreement) and the diff.
    pub reason: String,
}

/// One (operation, status, backend) cell of the coverage matrix.
pub type CoverageCell = (String, u16, String);

/// What a run found.
#[derive(Debug, Serialize)]
pub struct RunReport {
    /// The vendor.
    pub vendor: String,
    /// The seed.
    pub seed: u64,
    /// The run id unique values were suffixed with, when they were.
    pub run_id: Option<String>,
    /// Cases run.
    pub cases: u32,
    /// Requests sent, over all backends.
    pub requests: u64,
    /// The shrunk failure, if any.
    pub failure: Option<Failure>,
    /// Which operation answered which status on which backend by the fake's own rules (every
    /// step but forced ones).
    pub coverage: BTreeSet<CoverageCell>,
    /// Which operation answered which status on which backend when the status was forced
    /// (`Prefer: code=…`).
    pub forced: BTreeSet<CoverageCell>,
    /// Every (operation, status) the spec documents, so the matrix shows what was not seen.
    pub documented: BTreeSet<(String, u16)>,
    /// How each documented cell is reached, from the spec's annotations.
    #[serde(skip)]
    pub cells: Cells,
    /// The backends' names, in order.
    pub backends: Vec<String>,
    /// Steps whose answer a model could not (fully) predict, by backend and reason: what a
    /// target no one resets keeps the harness from checking.
    pub unpredicted: BTreeMap<String, u64>,
    /// Scenario suites not run, with the reason.
    pub skipped: Vec<String>,
    /// Seconds spent waiting for a shared target's rate limiter.
    pub throttled_seconds: f64,
}

impl RunReport {
    /// Ends a passing run on its backends ([`Backend::finish`]): what one of them expected
    /// and did not see becomes the failure. A failing run stopped early, so it is left alone.
    pub fn finished(mut self, backends: &[&dyn Backend]) -> RunReport {
        if self.failure.is_none() {
            self.failure = backends
                .iter()
                .find_map(|b| b.finish().err())
                .map(|e| Failure {
                    sequence: Vec::new(),
                    step: 0,
                    reason: format!("after the last case: {e}"),
                });
        }
        self
    }

    /// This report and `next` (the same vendor and backends, further scenarios) as one.
    pub fn followed_by(mut self, next: RunReport) -> RunReport {
        self.cases += next.cases;
        self.requests += next.requests;
        self.failure = self.failure.or(next.failure);
        self.coverage.extend(next.coverage);
        self.forced.extend(next.forced);
        for (reason, count) in next.unpredicted {
            *self.unpredicted.entry(reason).or_default() += count;
        }
        self.skipped.extend(next.skipped);
        self.throttled_seconds += next.throttled_seconds;
        self
    }
}

/// Why a run could not run at all.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// The embedded specs did not load.
    #[error("{0}")]
    Spec(String),
    /// The spec's reach annotations did not parse.
    #[error(transparent)]
    Reach(#[from] crate::reach::ReachError),
    /// A failure could not be persisted.
    #[error("persisting the failure: {0}")]
    Persist(#[from] std::io::Error),
    /// An admin setting the run changed could not be put back.
    #[error("putting back what the run changed: {0}")]
    Restore(String),
}

/// What each backend's admin API says now of every setting `S`'s setup changes.
fn save<S: Scenario>(backends: &[&dyn Backend]) -> Vec<Vec<AdminCall>> {
    backends
        .iter()
        .map(|backend| {
            S::restores()
                .iter()
                .filter_map(|r| {
                    let now = backend.admin_read(r.read).ok().flatten()?;
                    let setting = now.pointer(r.pointer).cloned().unwrap_or(Value::Null);
                    let call = AdminCall {
                        method: "PUT",
                        path: r.write.to_string(),
                        body: setting,
                    };
                    Some(call)
                })
                .collect()
        })
        .collect()
}

/// Puts `saved` back on each backend.
fn restore(backends: &[&dyn Backend], saved: Vec<Vec<AdminCall>>) -> Result<(), String> {
    for (backend, calls) in backends.iter().zip(saved) {
        for call in calls {
            backend
                .admin(&call)
                .map_err(|e| format!("{}: {e}", backend.name()))?;
        }
    }
    Ok(())
}

/// The embedded specs, compiled once per process.
pub fn specs() -> Result<&'static SpecSet, RunError> {
    static SPECS: OnceLock<Result<SpecSet, String>> = OnceLock::new();
    SPECS
        .get_or_init(|| SpecSet::embedded().map_err(|e| e.to_string()))
        .as_ref()
        .map_err(|e| RunError::Spec(e.clone()))
}

struct CaseState {
    cases: u32,
    requests: u64,
    coverage: BTreeSet<CoverageCell>,
    forced: BTreeSet<CoverageCell>,
    unpredicted: BTreeMap<String, u64>,
    /// What is left of the run's patience with rate limiters, and what was spent.
    patience: Duration,
    throttled: Duration,
    /// The latest failing case's step and reason: after shrinking, the minimal sequence's.
    last_failure: Option<(usize, String)>,
}

impl CaseState {
    fn new(patience: Duration) -> Self {
        CaseState {
            cases: 0,
            requests: 0,
            coverage: BTreeSet::new(),
            forced: BTreeSet::new(),
            unpredicted: BTreeMap::new(),
            patience,
            throttled: Duration::ZERO,
            last_failure: None,
        }
    }
}

/// Everything a case needs that is the same for every case of a run.
struct Setting<'a> {
    spec: &'a VendorSpec,
    backends: &'a [&'a dyn Backend],
    capabilities: Vec<Capabilities>,
    /// The run id suffixes are made of, when they are used.
    run_id: Option<String>,
}

/// The run's steps: `S`'s operations, three in ten twisted by a twist that applies to it on
/// every backend of the run, so every operation meets every negative step in a few hundred
/// cases.
fn steps<S: Scenario>(
    spec: &'static VendorSpec,
    cells: &Cells,
    common: Capabilities,
) -> BoxedStrategy<Vec<Step<S::Op>>> {
    // Each operation's injectable statuses, and how many of them (listed first) only fault
    // injection reaches.
    let forced_by_operation: BTreeMap<String, (Vec<u16>, usize)> = spec
        .operations
        .iter()
        .map(|op| {
            let only = forced(cells, &op.operation_id);
            let mut statuses = only.clone();
            statuses.extend(
                injectable(cells, &op.operation_id)
                    .into_iter()
                    .filter(|s| !only.contains(s)),
            );
            (op.operation_id.clone(), (statuses, only.len()))
        })
        .collect();
    // One step in four of the twisted ones is forced, where the operation has an error status
    // to force (see `injectable`).
    let choices = proptest::collection::vec(
        proptest::option::weighted(0.3, ((0u8..4).prop_map(|d| d == 0), any::<u16>())),
        0..12,
    );
    (S::operations(), choices)
        .prop_map(move |(mut ops, choices)| {
            if !common.identities {
                ops.retain(S::primary_identity);
            }
            ops.into_iter()
                .enumerate()
                .map(|(i, op)| {
                    let twist = match choices.get(i).copied().flatten() {
                        None => Twist::None,
                        Some((prefer_forced, pick)) => pick_twist::<S>(
                            &op,
                            spec,
                            &forced_by_operation,
                            common,
                            prefer_forced,
                            pick,
                        ),
                    };
                    Step { op, twist }
                })
                .collect()
        })
        .boxed()
}

/// The twist `pick` selects for `op` among those that apply; a forced status when
/// `prefer_forced` and the operation has one.
fn pick_twist<S: Scenario>(
    op: &S::Op,
    spec: &VendorSpec,
    forced_by_operation: &BTreeMap<String, (Vec<u16>, usize)>,
    common: Capabilities,
    prefer_forced: bool,
    pick: u16,
) -> Twist {
    let operation_id = S::operation_id(op);
    let Some(operation) = spec.operation(operation_id) else {
        return Twist::None;
    };
    let forced: Vec<Twist> = match (common.forced_faults, forced_by_operation.get(operation_id)) {
        (true, Some((statuses, only))) => {
            // Half the forced steps pick among the cells nothing else reaches, so a run covers
            // every one of them however many natural error statuses an operation also has.
            let from = if pick % 2 == 0 && *only > 0 {
                &statuses[..*only]
            } else {
                &statuses[..]
            };
            from.iter().map(|s| Twist::Forced(*s)).collect()
        }
        _ => Vec::new(),
    };
    let negative: Vec<Twist> = Twist::NEGATIVE
        .into_iter()
        .filter(|t| *t != Twist::Oversized || common.large_bodies)
        .filter(|t| S::applies(op, operation, *t))
        .collect();
    let from = if prefer_forced && !forced.is_empty() {
        forced
    } else {
        negative
    };
    if from.is_empty() {
        return Twist::None;
    }
    from[usize::from(pick / 2) % from.len()]
}

/// Runs `S`'s scenarios on `primary` and, when given, compares with `other`.
pub fn run<S: Scenario>(
    primary: &dyn Backend,
    other: Option<&dyn Backend>,
    config: &RunConfig,
) -> Result<RunReport, RunError> {
    let specs = specs()?;
    let spec = specs.vendor(S::VENDOR);
    let cells = cells(S::VENDOR)?;
    let backends: Vec<&dyn Backend> = std::iter::once(primary).chain(other).collect();
    let capabilities: Vec<Capabilities> = backends.iter().map(|b| b.capabilities()).collect();
    let common = Capabilities::common(&capabilities);
    let mut report = RunReport {
        vendor: S::VENDOR.to_string(),
        seed: config.seed,
        run_id: None,
        cases: 0,
        requests: 0,
        failure: None,
        coverage: BTreeSet::new(),
        forced: BTreeSet::new(),
        documented: spec
            .operations
            .iter()
            .flat_map(|op| {
                op.documented_statuses()
                    .into_iter()
                    .map(|status| (op.operation_id.clone(), status))
            })
            .collect(),
        cells: cells.clone(),
        backends: backends.iter().map(|b| b.name().to_string()).collect(),
        unpredicted: BTreeMap::new(),
        skipped: Vec::new(),
        throttled_seconds: 0.0,
    };
    if !S::setup().is_empty() && !common.admin {
        report.skipped.push(format!(
            "{}: skipped: its scenarios set the fake up through the admin API, which {} lacks (give --target-admin / --against-admin)",
            std::any::type_name::<S>().rsplit("::").next().unwrap_or("scenario"),
            backends
                .iter()
                .zip(&capabilities)
                .filter(|(_, c)| !c.admin)
                .map(|(b, _)| b.name())
                .collect::<Vec<_>>()
                .join(", ")
        ));
        return Ok(report);
    }
    let run_id = config
        .run_id
        .clone()
        .or_else(|| (common.isolation == CaseIsolation::Shared).then(run_id_from_clock));
    let setting = Setting {
        spec,
        backends: &backends,
        capabilities,
        run_id: run_id.clone(),
    };
    let state = RefCell::new(CaseState::new(config.patience));
    // A recording or a replay follows the run case by case: a shrunk sequence was never
    // recorded, so such a run reports the failing case as it is.
    let shrinkable = backends.iter().all(|b| b.can_shrink());
    let mut seed_bytes = [0u8; 32];
    seed_bytes[..8].copy_from_slice(&config.seed.to_le_bytes());
    let mut runner = TestRunner::new_with_rng(
        Config {
            cases: config.cases,
            failure_persistence: None,
            max_shrink_iters: if shrinkable {
                Config::default().max_shrink_iters
            } else {
                0
            },
            ..Config::default()
        },
        TestRng::from_seed(RngAlgorithm::ChaCha, &seed_bytes),
    );
    let saved = save::<S>(&backends);
    let outcome = runner.run(&steps::<S>(spec, &cells, common), |steps| {
        let mut state = state.borrow_mut();
        state.cases += 1;
        let case = Case {
            suffix: setting
                .run_id
                .as_ref()
                .map(|id| format!("-{id}-{}", base36(u64::from(state.cases))))
                .unwrap_or_default(),
        };
        let result =
            run_case::<S>(&setting, &case, &steps, &mut state).map_err(|(step, reason)| {
                let message = format!("step {step}: {reason}");
                state.last_failure = Some((step, reason));
                TestCaseError::fail(message)
            });
        if let Some(progress) = config.progress {
            progress(state.cases.min(config.cases), config.cases);
        }
        result
    });
    report.failure = match outcome {
        Ok(()) => None,
        Err(TestError::Fail(message, minimal)) => {
            // The shrinker's last failing case is the minimal one, so its reason is kept
            // rather than run again (a replay could not answer a second run).
            let (step, reason) = state
                .borrow_mut()
                .last_failure
                .take()
                .unwrap_or((0, message.to_string()));
            Some(Failure {
                sequence: minimal.iter().map(|step| format!("{step:?}")).collect(),
                step,
                reason,
            })
        }
        Err(TestError::Abort(why)) => Some(Failure {
            sequence: Vec::new(),
            step: 0,
            reason: format!("aborted: {why}"),
        }),
    };
    restore(&backends, saved).map_err(RunError::Restore)?;
    let state = state.into_inner();
    report.run_id = run_id;
    report.cases = config.cases;
    report.requests = state.requests;
    report.coverage = state.coverage;
    report.forced = state.forced;
    report.unpredicted = state.unpredicted;
    report.throttled_seconds = state.throttled.as_secs_f64();
    if let (Some(failure), Some(dir)) = (&report.failure, &config.failures_dir) {
        std::fs::create_dir_all(dir)?;
        let path = dir.join(format!("{}-{}.json", report.vendor, config.seed));
        std::fs::write(
            &path,
            serde_json::to_vec_pretty(failure).unwrap_or_default(),
        )?;
    }
    Ok(report)
}

/// Six base-36 digits from the clock: unique enough between runs against one target.
fn run_id_from_clock() -> String {
    let micros = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_micros() as u64)
        .unwrap_or(0);
    let digits = base36(micros);
    digits[digits.len().saturating_sub(6)..].to_string()
}

fn base36(mut n: u64) -> String {
    const DIGITS: &[u8; 36] = b"0123456789abcdefghijklmnopqrstuvwxyz";
    let mut out = Vec::new();
    loop {
        out.push(DIGITS[(n % 36) as usize]);
        n /= 36;
        if n == 0 {
            break;
        }
    }
    out.reverse();
    String::from_utf8(out).unwrap_or_default()
}

/// Runs `ops` on `backend` after a reset, checking each step against the spec and the model, and
/// returns the normalised transcript (request line, status, normalised response): the canonical
/// form `insta` snapshots hold, so a behaviour change in the fake shows up in review.
pub fn transcript<S: Scenario>(
    backend: &dyn Backend,
    ops: &[S::Op],
) -> Result<Vec<Value>, Failure> {
    let fail = |(step, reason)| Failure {
        sequence: ops.iter().map(|op| format!("{op:?}")).collect(),
        step,
        reason,
    };
    let specs = specs().map_err(|e| fail((0, e.to_string())))?;
    let steps = crate::scenario::untwisted(ops);
    let backends = [backend];
    let setting = Setting {
        spec: specs.vendor(S::VENDOR),
        backends: &backends,
        capabilities: vec![backend.capabilities()],
        run_id: None,
    };
    let mut state = CaseState::new(Duration::ZERO);
    let case = Case::default();
    run_case::<S>(&setting, &case, &steps, &mut state).map_err(fail)?;
    // Run again, recording: the checks above passed, so this pass only reads.
    backend.reset().map_err(|e| fail((0, e.to_string())))?;
    for call in S::setup() {
        backend.admin(&call).map_err(|e| fail((0, e.to_string())))?;
    }
    let rules = S::normalisation();
    let mut placeholders = Placeholders::default();
    let mut answered = Vec::new();
    let mut lines = Vec::new();
    for index in 0..steps.len() {
        let request = S::request(&case, &steps, index);
        if let Some(call) = S::before(&steps, index) {
            backend
                .admin(&call)
                .map_err(|e| fail((index, e.to_string())))?;
        }
        let resolved = request.resolve(&answered);
        let exchange = backend
            .send(&resolved)
            .map_err(|e| fail((index, e.to_string())))?;
        let normalised = rules.apply(&exchange, &request.strings(), &mut placeholders);
        lines.push(serde_json::json!({
            "step": index,
            "request": format!("{} {} {}", request.operation_id, request.method, request.path),
            "response": normalised,
        }));
        answered.push(exchange);
    }
    Ok(lines)
}

/// Runs one sequence; `Err((step, reason))` at the first step that fails a check.
fn run_case<S: Scenario>(
    setting: &Setting<'_>,
    case: &Case,
    steps: &[Step<S::Op>],
    state: &mut CaseState,
) -> Result<(), (usize, String)> {
    let backends = setting.backends;
    for backend in backends {
        backend
            .reset()
            .map_err(|e| (0, format!("reset failed: {e}")))?;
        for call in S::setup() {
            backend
                .admin(&call)
                .map_err(|e| (0, format!("setting up: {e}")))?;
        }
    }
    let mut models: Vec<S::Model> = setting
        .capabilities
        .iter()
        .map(|c| {
            S::model(match c.isolation {
                CaseIsolation::Reset => Prior::Seeded,
                CaseIsolation::Shared => Prior::Unknown,
            })
        })
        .collect();
    let mut transcripts: Vec<Vec<Exchange>> = vec![Vec::new(); backends.len()];
    let mut placeholders: Vec<Placeholders> =
        backends.iter().map(|_| Placeholders::default()).collect();
    let rules = S::normalisation();
    for index in 0..steps.len() {
        let twist = steps[index].twist;
        let request = crate::twist::apply(
            S::request(case, steps, index),
            twist,
            &S::REFUSALS,
            setting.spec,
        );
        let predictions: Vec<Prediction> = models
            .iter_mut()
            .map(|model| match twist {
                Twist::None => S::predict(model, steps, index),
                _ => crate::twist::predict::<S>(model, steps, index),
            })
            .collect();
        // Two backends are compared only where every model vouches for the whole response; a
        // response that is not compared numbers no placeholders (a listing of what a shared
        // target held before would shift every later id's number on that backend alone).
        let comparable = predictions.iter().all(|p| p.caveat().is_none());
        // Only literal values count as echoes: a referenced id differs per backend by design.
        let literal = request.strings();
        let mut normalised: Vec<Value> = Vec::new();
        let before = S::before(steps, index);
        for (b, backend) in backends.iter().enumerate() {
            if let Some(call) = &before {
                backend.admin(call).map_err(|e| (index, e.to_string()))?;
            }
            let resolved = request.resolve(&transcripts[b]);
            let predicted = predictions[b];
            let shared = setting.capabilities[b].isolation == CaseIsolation::Shared;
            let exchange = send_patiently(*backend, &resolved, predicted, shared, state)
                .map_err(|e| (index, e))?;
            let cell = (
                request.operation_id.to_string(),
                exchange.status,
                backend.name().to_string(),
            );
            match twist {
                Twist::Forced(_) => state.forced.insert(cell),
                _ => state.coverage.insert(cell),
            };
            let broken = violations(setting.spec, request.operation_id, &exchange);
            if !broken.is_empty() {
                return Err((
                    index,
                    format!(
                        "{} breaks the spec for {}: {}\nresponse: {}",
                        backend.name(),
                        request.operation_id,
                        broken.join("; "),
                        body_line(&exchange)
                    ),
                ));
            }
            if let Some(expected) = predicted.status()
                && expected != exchange.status
            {
                return Err((
                    index,
                    format!(
                        "{} answered {} where the model predicts {expected}\nresponse: {}",
                        backend.name(),
                        exchange.status,
                        body_line(&exchange)
                    ),
                ));
            }
            if let Some(why) = predicted.caveat() {
                let kind = match predicted {
                    Prediction::Unknown(_) => "status and body",
                    _ => "body",
                };
                *state
                    .unpredicted
                    .entry(format!("{}: {kind} not predicted: {why}", backend.name()))
                    .or_default() += 1;
            }
            if twist != Twist::None {
                S::check_refusal(steps, index, &resolved, &exchange).map_err(|why| {
                    (
                        index,
                        format!(
                            "{} refuses the twisted request unlike the vendor: {why}\nresponse: {}",
                            backend.name(),
                            body_line(&exchange)
                        ),
                    )
                })?;
            }
            if twist == Twist::None {
                S::check(&models[b], steps, index, &exchange).map_err(|why| {
                    (
                        index,
                        format!(
                            "{} differs from the model: {why}\nresponse: {}",
                            backend.name(),
                            body_line(&exchange)
                        ),
                    )
                })?;
            }
            let mut scratch;
            let numbering = if comparable {
                &mut placeholders[b]
            } else {
                scratch = placeholders[b].clone();
                &mut scratch
            };
            normalised.push(rules.apply(&exchange, &literal, numbering));
            transcripts[b].push(exchange);
        }
        if let [first, second] = normalised.as_slice()
            && comparable
            && first != second
        {
            return Err((
                index,
                format!(
                    "{} and {} differ (status {} vs {})\n{}",
                    backends[0].name(),
                    backends[1].name(),
                    first["status"],
                    second["status"],
                    diff(first, second)
                ),
            ));
        }
    }
    Ok(())
}

/// Sends `request`; on a shared target whose rate limiter refused it unpredicted (other
/// clients and earlier runs count against the same key), waits as its `Retry-After` or
/// `X-RateLimit-Reset` says and sends it again, within the run's patience. A refused request
/// changed nothing, so sending it again is safe.
fn send_patiently(
    backend: &dyn Backend,
    request: &Request,
    predicted: Prediction,
    shared: bool,
    state: &mut CaseState,
) -> Result<Exchange, String> {
    loop {
        let exchange = backend
            .send(request)
            .map_err(|e: BackendError| e.to_string())?;
        state.requests += 1;
        if !shared || exchange.status != 429 || predicted.status() == Some(429) {
            return Ok(exchange);
        }
        let wait = retry_wait(&exchange);
        if wait > state.patience {
            return Err(format!(
                "{} keeps answering 429 (its rate limiter counts requests the harness cannot see); waited {:.0?} in all, the run's patience",
                backend.name(),
                state.throttled
            ));
        }
        state.patience -= wait;
        state.throttled += wait;
        std::thread::sleep(wait);
    }
}

/// How long a 429 asks the client to wait: `Retry-After` or `X-RateLimit-Reset`, read as
/// seconds from now, epoch seconds or epoch milliseconds (vendors use all three), at least a
/// tenth of a second and at most a minute and a second.
fn retry_wait(exchange: &Exchange) -> Duration {
    let now_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0);
    let header = |name: &str| {
        exchange
            .headers
            .get(name)
            .and_then(|v| v.trim().parse::<i64>().ok())
    };
    let ms = header("retry-after")
        .or_else(|| header("x-ratelimit-reset"))
        .map(|v| match v {
            v if v >= 1_000_000_000_000 => v - now_ms,
            v if v >= 1_000_000_000 => v * 1000 - now_ms,
            v => v * 1000,
        })
        .unwrap_or(1000);
    Duration::from_millis(ms.clamp(100, 61_000) as u64)
}

/// The status and the body on one line, cut to a readable length.
fn body_line(exchange: &Exchange) -> String {
    let body = exchange.body.to_string();
    let cut: String = body.chars().take(600).collect();
    let more = if cut.len() < body.len() { " …" } else { "" };
    format!("{} {cut}{more}", exchange.status)
}

/// A line diff of two pretty-printed values (longest common subsequence): `-` lines only the
/// first backend answered, `+` lines only the second did, unchanged lines left out.
pub fn diff(first: &Value, second: &Value) -> String {
    let left = serde_json::to_string_pretty(first).unwrap_or_default();
    let right = serde_json::to_string_pretty(second).unwrap_or_default();
    let (l, r): (Vec<&str>, Vec<&str>) = (left.lines().collect(), right.lines().collect());
    // lcs[i][j]: the common subsequence length of l[i..] and r[j..].
    let mut lcs = vec![vec![0usize; r.len() + 1]; l.len() + 1];
    for i in (0..l.len()).rev() {
        for j in (0..r.len()).rev() {
            lcs[i][j] = if l[i] == r[j] {
                lcs[i + 1][j + 1] + 1
            } else {
                lcs[i + 1][j].max(lcs[i][j + 1])
            };
        }
    }
    let (mut i, mut j, mut out) = (0, 0, Vec::new());
    while i < l.len() || j < r.len() {
        if i < l.len() && j < r.len() && l[i] == r[j] {
            i += 1;
            j += 1;
        } else if j == r.len() || (i < l.len() && lcs[i + 1][j] >= lcs[i][j + 1]) {
            out.push(format!("- {}", l[i]));
            i += 1;
        } else {
            out.push(format!("+ {}", r[j]));
            j += 1;
        }
    }
    out.join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_diff_shows_only_what_differs() {
        let first = json!({"a": 1, "b": [1, 2, 3], "c": "same"});
        let second = json!({"a": 1, "b": [1, 3], "c": "same", "d": true});
        let shown = diff(&first, &second);
        assert_eq!(
            shown,
            "-     2,\n-   \"c\": \"same\"\n+   \"c\": \"same\",\n+   \"d\": true"
        );
    }
}
