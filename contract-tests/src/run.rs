//! The runner: proptest generates operation sequences; each step runs on each backend and is
//! checked against the spec, the model and the other backend. A failure is shrunk to a minimal
//! sequence, reported with the first diverging step, and persisted with its seed.

use std::cell::RefCell;
use std::collections::BTreeSet;
use std::path::PathBuf;

use proptest::test_runner::{Config, RngAlgorithm, TestCaseError, TestError, TestRng, TestRunner};
use serde::Serialize;
use serde_json::Value;
use understudy::spec::SpecSet;

use crate::backend::Backend;
use crate::conformance::violations;
use crate::exchange::Exchange;
use crate::normalise::Placeholders;
use crate::scenario::Scenario;

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
}

impl Default for RunConfig {
    fn default() -> Self {
        RunConfig {
            cases: 100,
            seed: 0,
            failures_dir: None,
            progress: None,
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
    /// Cases run.
    pub cases: u32,
    /// Requests sent, over all backends.
    pub requests: u64,
    /// The shrunk failure, if any.
    pub failure: Option<Failure>,
    /// Which operation answered which status on which backend.
    pub coverage: BTreeSet<CoverageCell>,
    /// Every (operation, status) the spec documents, so the matrix shows what was not seen.
    pub documented: BTreeSet<(String, u16)>,
    /// The backends' names, in order.
    pub backends: Vec<String>,
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
        self
    }
}

/// Why a run could not run at all.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// The embedded specs did not load.
    #[error(transparent)]
    Spec(#[from] understudy::spec::SpecError),
    /// A failure could not be persisted.
    #[error("persisting the failure: {0}")]
    Persist(#[from] std::io::Error),
}

struct CaseState {
    cases: u32,
    requests: u64,
    coverage: BTreeSet<CoverageCell>,
    /// The latest failing case's step and reason: after shrinking, the minimal sequence's.
    last_failure: Option<(usize, String)>,
}

/// Runs `S`'s scenarios on `primary` and, when given, compares with `other`.
pub fn run<S: Scenario>(
    primary: &dyn Backend,
    other: Option<&dyn Backend>,
    config: &RunConfig,
) -> Result<RunReport, RunError> {
    let specs = SpecSet::embedded()?;
    let spec = specs.vendor(S::VENDOR);
    let state = RefCell::new(CaseState {
        cases: 0,
        requests: 0,
        coverage: BTreeSet::new(),
        last_failure: None,
    });
    let backends: Vec<&dyn Backend> = std::iter::once(primary).chain(other).collect();
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
    let outcome = runner.run(&S::operations(), |ops| {
        let mut state = state.borrow_mut();
        let result = run_case::<S>(spec, &backends, &ops, &mut state).map_err(|(step, reason)| {
            let message = format!("step {step}: {reason}");
            state.last_failure = Some((step, reason));
            TestCaseError::fail(message)
        });
        state.cases += 1;
        if let Some(progress) = config.progress {
            progress(state.cases.min(config.cases), config.cases);
        }
        result
    });
    let failure = match outcome {
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
                sequence: minimal.iter().map(|op| format!("{op:?}")).collect(),
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
    let state = state.into_inner();
    let report = RunReport {
        vendor: S::VENDOR.to_string(),
        seed: config.seed,
        cases: config.cases,
        requests: state.requests,
        failure,
        coverage: state.coverage,
        documented: spec
            .operations
            .iter()
            .flat_map(|op| {
                op.documented_statuses()
                    .into_iter()
                    .map(|status| (op.operation_id.clone(), status))
            })
            .collect(),
        backends: backends.iter().map(|b| b.name().to_string()).collect(),
    };
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

/// Runs `ops` on `backend` after a reset, checking each step against the spec and the model, and
/// returns the normalised transcript (request line, status, normalised response): the canonical
/// form `insta` snapshots hold, so a behaviour change in the fake shows up in review.
pub fn transcript<S: Scenario>(
    backend: &dyn Backend,
    ops: &[S::Op],
) -> Result<Vec<Value>, Failure> {
    let specs = SpecSet::embedded().map_err(|e| Failure {
        sequence: Vec::new(),
        step: 0,
        reason: e.to_string(),
    })?;
    let mut state = CaseState {
        cases: 0,
        requests: 0,
        coverage: BTreeSet::new(),
        last_failure: None,
    };
    let fail = |(step, reason)| Failure {
        sequence: ops.iter().map(|op| format!("{op:?}")).collect(),
        step,
        reason,
    };
    run_case::<S>(specs.vendor(S::VENDOR), &[backend], ops, &mut state).map_err(fail)?;
    // Run again, recording: the checks above passed, so this pass only reads.
    backend.reset().map_err(|e| fail((0, e.to_string())))?;
    for call in S::setup() {
        backend.admin(&call).map_err(|e| fail((0, e.to_string())))?;
    }
    let rules = S::normalisation();
    let mut placeholders = Placeholders::default();
    let mut answered = Vec::new();
    let mut lines = Vec::new();
    for index in 0..ops.len() {
        let request = S::request(ops, index);
        if let Some(call) = S::before(ops, index) {
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
    spec: &understudy::spec::VendorSpec,
    backends: &[&dyn Backend],
    ops: &[S::Op],
    state: &mut CaseState,
) -> Result<(), (usize, String)> {
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
    let mut model = S::Model::default();
    let mut transcripts: Vec<Vec<Exchange>> = vec![Vec::new(); backends.len()];
    let mut placeholders: Vec<Placeholders> =
        backends.iter().map(|_| Placeholders::default()).collect();
    let rules = S::normalisation();
    for index in 0..ops.len() {
        let request = S::request(ops, index);
        let predicted = S::predict(&mut model, ops, index);
        // Only literal values count as echoes: a referenced id differs per backend by design.
        let literal = request.strings();
        let mut normalised: Vec<Value> = Vec::new();
        let before = S::before(ops, index);
        for (b, backend) in backends.iter().enumerate() {
            if let Some(call) = &before {
                backend.admin(call).map_err(|e| (index, e.to_string()))?;
            }
            let resolved = request.resolve(&transcripts[b]);
            let exchange = backend
                .send(&resolved)
                .map_err(|e| (index, e.to_string()))?;
            state.requests += 1;
            state.coverage.insert((
                request.operation_id.to_string(),
                exchange.status,
                backend.name().to_string(),
            ));
            let broken = violations(spec, request.operation_id, &exchange);
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
            if let Some(expected) = predicted
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
            S::check(&model, ops, index, &exchange).map_err(|why| {
                (
                    index,
                    format!(
                        "{} differs from the model: {why}\nresponse: {}",
                        backend.name(),
                        body_line(&exchange)
                    ),
                )
            })?;
            normalised.push(rules.apply(&exchange, &literal, &mut placeholders[b]));
            transcripts[b].push(exchange);
        }
        if let [first, second] = normalised.as_slice()
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
