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
    let started = std::time::Instant::now();
    let report = run_vendor(
        vendor,
        primary.as_ref(),
        other.as_deref(),
        &RunConfig {
            cases,
            seed,
            failures_dir: Some(failures),
            // Only a person at a terminal wants the bar; CI logs get the summary.
            progress: std::io::IsTerminal::is_terminal(&std::io::stderr())
                .then_some(show_progress as fn(u32, u32)),
            run_id,
            ..RunConfig::default()
        },
    )?;
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
            println!("ok: no divergence (replay with --seed {seed})");
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
            println!("{}\nreplay with --seed {seed}", failure.reason);
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
