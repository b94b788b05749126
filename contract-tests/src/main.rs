//! `contract-tests run`: drives a target and the fake (or another URL) through one vendor's
//! generated scenarios and reports the first divergence.

use std::path::PathBuf;

use anyhow::{Context, bail};
use clap::{Parser, Subcommand};
use understudy::VendorId;
use understudy_contract_tests::backend::{Backend, FakeBackend, HttpBackend};
use understudy_contract_tests::fixtures::{RecordingBackend, ReplayBackend};
use understudy_contract_tests::report::{
    coverage_html, coverage_json, junit, summary as coverage_summary,
};
use understudy_contract_tests::run::RunConfig;
use understudy_contract_tests::targets::parse_headers;
use understudy_contract_tests::vendors::run_vendor;

#[derive(Parser)]
#[command(
    name = "contract-tests",
    about = "Contract tests: the same scenarios against two backends"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Runs one vendor's scenarios.
    Run {
        /// The vendor (dub, confluent, enhance, cloudcockpit, archera).
        #[arg(long)]
        vendor: String,
        /// The target: `fake`, or the vendor's base URL.
        #[arg(long, default_value = "fake")]
        target: String,
        /// Credential headers for a URL target, `Name: value` per line.
        #[arg(long, env = "CONTRACT_TARGET_CREDENTIALS", default_value = "")]
        credentials: String,
        /// Credential headers for a URL given to `--against`.
        #[arg(long, env = "CONTRACT_AGAINST_CREDENTIALS", default_value = "")]
        against_credentials: String,
        /// The admin root of an Understudy given as a URL `--target` (`http://host:port`): the
        /// vendor is reset before each case, as the in-process fake is. Without it a URL target
        /// is one no one resets: unique values get a per-run, per-case suffix and the models
        /// predict only what they can know.
        #[arg(long, value_name = "URL")]
        target_admin: Option<String>,
        /// The admin root of an Understudy given as a URL `--against`.
        #[arg(long, value_name = "URL")]
        against_admin: Option<String>,
        /// What makes this run's unique values unique (printed; drawn from the clock when a
        /// target no one resets needs them). Given, it is used even on reset targets, so a run
        /// recorded against a shared target replays with the same requests.
        #[arg(long)]
        run_id: Option<String>,
        /// Fails the run unless the target reached at least this percentage of the spec's
        /// naturally reachable cells, every forced cell, and no cell the spec calls unreachable.
        #[arg(long, value_name = "PERCENT")]
        require_coverage: Option<f64>,
        /// What to compare with: `fake`, a base URL, or `replay:DIR` (a run recorded with
        /// `--record DIR`, same seed and cases); omitted compares with nothing.
        #[arg(long)]
        against: Option<String>,
        /// Records every exchange with the target as redacted HAR fixtures in DIR, one file per
        /// case (`<vendor>-NNNNNN.har`), for a later `--against replay:DIR`.
        #[arg(long, value_name = "DIR")]
        record: Option<PathBuf>,
        /// Generated cases.
        #[arg(long, default_value_t = 100)]
        cases: u32,
        /// The generator's seed (printed; the same seed replays the same run).
        #[arg(long)]
        seed: Option<u64>,
        /// Writes the run report (with the coverage matrix) as JSON.
        #[arg(long)]
        json: Option<PathBuf>,
        /// Writes a JUnit XML report.
        #[arg(long)]
        junit: Option<PathBuf>,
        /// Writes the coverage matrix (operation x status x backend) as JSON.
        #[arg(long)]
        coverage: Option<PathBuf>,
        /// Writes the coverage matrix as a self-contained HTML page.
        #[arg(long)]
        html: Option<PathBuf>,
        /// Mutants the target fake commits (only with `--target fake`), to see the harness catch them.
        #[arg(long)]
        mutant: Vec<String>,
        /// Where failing cases are persisted.
        #[arg(long, default_value = "target/contract-failures")]
        failures: PathBuf,
        /// Cases run at once, each in a world of its own on the same Understudy (job K takes
        /// its share of the cases from seed + K). Default: the machine's cores. Backends that
        /// cannot give a case a world (a URL without its admin root, a recording, a replay) run
        /// one case at a time.
        #[arg(long)]
        jobs: Option<u32>,
    },
}

/// The backend `spec` names; `role` (`target`, `against`) prefixes its name in reports; `admin`
/// is the admin root of an Understudy at a URL.
fn backend(
    vendor: VendorId,
    role: &str,
    spec: &str,
    credentials: &str,
    admin: Option<&str>,
    mutants: &[&str],
) -> anyhow::Result<Box<dyn Backend>> {
    if admin.is_some() && !(spec.starts_with("http://") || spec.starts_with("https://")) {
        bail!("--{role}-admin is for a {role} given as a URL, not {spec:?}");
    }
    Ok(match spec {
        "fake" => Box::new(
            FakeBackend::start(vendor, mutants)
                .context("starting the fake")?
                .named(match mutants {
                    [] => format!("{role}:fake"),
                    names => format!("{role}:mutant:{}", names.join("+")),
                }),
        ),
        url if url.starts_with("http://") || url.starts_with("https://") => {
            let http = HttpBackend::new(format!("{role}:{url}"), url)
                .with_credentials(parse_headers(credentials));
            Box::new(match admin {
                Some(admin) => http.with_admin(admin).resetting_only(vendor),
                None => http,
            })
        }
        replay if replay.starts_with("replay:") => {
            let dir = PathBuf::from(&replay["replay:".len()..]);
            Box::new(
                ReplayBackend::open(vendor, &dir)
                    .with_context(|| format!("opening {}", dir.display()))?
                    .named(format!("{role}:{replay}")),
            )
        }
        other => bail!("unknown backend {other:?}: use fake, an http(s) URL or replay:DIR"),
    })
}

/// What a replay of the run must repeat besides the seed: the jobs, which split the cases.
fn replay_jobs(jobs: u32) -> String {
    match jobs {
        1 => String::new(),
        n => format!(" --jobs {n}"),
    }
}

/// Runs `config.cases` cases as `jobs` concurrent runs on the same backends, job K with its
/// share of the cases from seed + K and every case in a world of its own, and joins their
/// reports (the first failure found is the run's).
fn run_jobs(
    vendor: VendorId,
    primary: &dyn Backend,
    other: Option<&dyn Backend>,
    config: &RunConfig,
    jobs: u32,
    mutants: &[&str],
) -> anyhow::Result<understudy_contract_tests::RunReport> {
    // Unique between runs against one Understudy, so two runs' worlds never meet.
    let run = format!("{:x}", std::process::id());
    let per_job = |http: &HttpBackend, k: u32, mutants: &[&str]| {
        http.clone()
            .world_per_case(format!("harness-{run}-{}-j{k}", config.seed), mutants)
    };
    let reports = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..jobs)
            .map(|k| {
                let share = config.cases / jobs + u32::from(k < config.cases % jobs);
                let target = per_job(primary.http().expect("checked"), k, mutants);
                let against = other.map(|o| per_job(o.http().expect("checked"), k, &[]));
                let config = RunConfig {
                    cases: share,
                    seed: config.seed.wrapping_add(u64::from(k)),
                    // Persisted once, below, under the run's own seed.
                    failures_dir: None,
                    ..config.clone()
                };
                scope.spawn(move || {
                    run_vendor(
                        vendor,
                        &target,
                        against.as_ref().map(|a| a as &dyn Backend),
                        &config,
                    )
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().map_err(|_| anyhow::anyhow!("a job panicked")))
            .collect::<Vec<_>>()
    });
    let mut joined: Option<understudy_contract_tests::RunReport> = None;
    for report in reports {
        let report = report??;
        joined = Some(match joined {
            None => report,
            Some(so_far) => so_far.followed_by(report),
        });
    }
    let mut report = joined.context("no job ran")?;
    report.skipped.sort();
    report.skipped.dedup();
    report.seed = config.seed;
    if let (Some(failure), Some(dir)) = (&report.failure, &config.failures_dir) {
        std::fs::create_dir_all(dir)?;
        let path = dir.join(format!("{}-{}.json", report.vendor, config.seed));
        std::fs::write(&path, serde_json::to_vec_pretty(failure)?)?;
    }
    Ok(report)
}

fn main() -> anyhow::Result<()> {
    let Cli {
        command:
            Command::Run {
                vendor,
                target,
                credentials,
                against_credentials,
                target_admin,
                against_admin,
                run_id,
                require_coverage,
                against,
                record,
                cases,
                seed,
                json,
                junit: junit_file,
                failures,
                mutant,
                coverage,
                html,
                jobs,
            },
    } = Cli::parse();
    let vendor: VendorId = vendor.parse().context("--vendor")?;
    let seed = seed.unwrap_or_else(seed_from_clock);
    println!("contract-tests: {vendor}, {cases} cases, seed {seed}");
    let mutants: Vec<&str> = mutant.iter().map(String::as_str).collect();
    let mut primary = backend(
        vendor,
        "target",
        &target,
        &credentials,
        target_admin.as_deref(),
        &mutants,
    )?;
    if let Some(dir) = &record {
        primary = Box::new(
            RecordingBackend::new(primary, vendor, dir)
                .with_context(|| format!("recording into {}", dir.display()))?,
        );
    }
    let other = against
        .as_deref()
        .map(|a| {
            backend(
                vendor,
                "against",
                a,
                &against_credentials,
                against_admin.as_deref(),
                &[],
            )
        })
        .transpose()?;
    let jobs = jobs
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get() as u32))
        .clamp(1, 64);
    let worlds_possible = record.is_none()
        && primary.http().is_some_and(|h| h.has_admin())
        && other
            .as_ref()
            .is_none_or(|o| o.http().is_some_and(|h| h.has_admin()));
    let jobs = if worlds_possible { jobs } else { 1 };
    let config = RunConfig {
        cases,
        seed,
        failures_dir: Some(failures),
        // Only a person at a terminal wants the bar; CI logs get the summary.
        progress: (jobs == 1 && std::io::IsTerminal::is_terminal(&std::io::stderr()))
            .then_some(show_progress as fn(u32, u32)),
        run_id,
        ..RunConfig::default()
    };
    let started = std::time::Instant::now();
    let report = if jobs == 1 {
        run_vendor(vendor, primary.as_ref(), other.as_deref(), &config)?
    } else {
        run_jobs(
            vendor,
            primary.as_ref(),
            other.as_deref(),
            &config,
            jobs,
            &mutants,
        )?
    };
    if jobs > 1 {
        println!("{jobs} jobs, each case in a world of its own");
    }
    let seconds = started.elapsed().as_secs_f64();
    // Dropping the recorder waits for its last case's file.
    drop(primary);
    if let Some(dir) = &record {
        println!("recorded {cases} cases into {}", dir.display());
    }
    let summary = coverage_summary(&report);
    println!(
        "{} requests, {:.0} cases/s; coverage of the target: natural {} of {} ({:.1} %), forced {} of {}, unreachable {}",
        report.requests,
        f64::from(report.cases) / seconds.max(1e-9),
        summary.natural.reached,
        summary.natural.of,
        summary.natural.percent(),
        summary.forced.reached,
        summary.forced.of,
        summary.unreachable.of,
    );
    if let Some(id) = &report.run_id {
        println!("unique values suffixed with run id {id} (replay with --run-id {id})");
    }
    for skipped in &report.skipped {
        println!("{skipped}");
    }
    for (why, steps) in &report.unpredicted {
        println!("{steps} steps: {why}");
    }
    if report.throttled_seconds > 0.0 {
        println!(
            "waited {:.1} s for the target's rate limiter",
            report.throttled_seconds
        );
    }
    if let Some(path) = json {
        let document = serde_json::json!({"report": &report, "coverage": coverage_json(&report)});
        std::fs::write(&path, serde_json::to_vec_pretty(&document)?)?;
    }
    if let Some(path) = coverage {
        std::fs::write(&path, serde_json::to_vec_pretty(&coverage_json(&report))?)?;
    }
    if let Some(path) = html {
        std::fs::write(&path, coverage_html(&report))?;
    }
    if let Some(path) = junit_file {
        std::fs::write(&path, junit(&report))?;
    }
    match &report.failure {
        None => {
            println!(
                "ok: no divergence (replay with --seed {seed}{})",
                replay_jobs(jobs)
            );
            if let Some(shortfall) = require_coverage.and_then(|p| summary.shortfall(p)) {
                println!("coverage short: {shortfall}");
                std::process::exit(1);
            }
            Ok(())
        }
        Some(failure) => {
            println!("FAILED at step {} of the minimal sequence:", failure.step);
            for (i, op) in failure.sequence.iter().enumerate() {
                println!("  {i}: {op}");
            }
            println!(
                "{}\nreplay with --seed {seed}{}",
                failure.reason,
                replay_jobs(jobs)
            );
            std::process::exit(1);
        }
    }
}

/// A one-line progress bar on stderr, redrawn in place.
fn show_progress(done: u32, total: u32) {
    let width = 30;
    let filled = (done as usize * width) / (total.max(1) as usize);
    eprint!(
        "\r[{}{}] {done}/{total} cases",
        "#".repeat(filled),
        "-".repeat(width - filled)
    );
    if done == total {
        eprintln!();
    }
}

/// A seed from the time, when none was given (printed, so the run can be replayed).
fn seed_from_clock() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(1)
}
