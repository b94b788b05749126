//! `contract-tests run`: drives a target and the fake (or another URL) through one vendor's
//! generated scenarios and reports the first divergence.

use std::path::PathBuf;

use anyhow::{Context, bail};
use clap::{Parser, Subcommand};
use understudy::VendorId;
use understudy_contract_tests::backend::{Backend, FakeBackend, HttpBackend};
use understudy_contract_tests::fixtures::{RecordingBackend, ReplayBackend};
use understudy_contract_tests::report::{coverage_html, coverage_json, junit};
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

/// The backend `spec` names; `role` (`target`, `against`) prefixes its name in reports.
fn backend(
    vendor: VendorId,
    role: &str,
    spec: &str,
    credentials: &str,
    mutants: &[&str],
) -> anyhow::Result<Box<dyn Backend>> {
    Ok(match spec {
        "fake" => Box::new(
            FakeBackend::start(vendor, mutants)
                .context("starting the fake")?
                .named(match mutants {
                    [] => format!("{role}:fake"),
                    names => format!("{role}:mutant:{}", names.join("+")),
                }),
        ),
        url if url.starts_with("http://") || url.starts_with("https://") => Box::new(
            HttpBackend::new(format!("{role}:{url}"), url)
                .with_credentials(parse_headers(credentials)),
        ),
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
    let mut primary = backend(vendor, "target", &target, &credentials, &mutants)?;
    if let Some(dir) = &record {
        primary = Box::new(
            RecordingBackend::new(primary, vendor, dir)
                .with_context(|| format!("recording into {}", dir.display()))?,
        );
    }
    let other = against
        .as_deref()
        .map(|a| backend(vendor, "against", a, &against_credentials, &[]))
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
        },
    )?;
    let seconds = started.elapsed().as_secs_f64();
    // Dropping the recorder waits for its last case's file.
    drop(primary);
    if let Some(dir) = &record {
        println!("recorded {cases} cases into {}", dir.display());
    }
    println!(
        "{} requests, {} coverage cells, {:.0} cases/s",
        report.requests,
        report.coverage.len(),
        f64::from(report.cases) / seconds.max(1e-9)
    );
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
