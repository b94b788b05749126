//! Fault and latency injection: forced statuses, seeded error rates, latency distributions and
//! dropped connections, per vendor and operation.
//!
//! Rules come from the configuration file or the admin API; one request can also ask for a
//! fault with a `Prefer` header (`Prefer: code=503`, `Prefer: latency=250`, `Prefer: drop`), as
//! Prism does. The pipeline removes that header before the vendor sees the request.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::http::HeaderValue;
use serde::{Deserialize, Serialize};

use crate::VendorId;
use crate::spec::SpecSet;

/// The request header a client uses to stage a fault for one request.
pub const PREFER_HEADER: &str = "prefer";

/// Latency never exceeds this, whatever the distribution draws, so no request hangs for long.
pub const MAX_LATENCY: Duration = Duration::from_secs(30);

/// The most rules in force at once.
pub const MAX_RULES: usize = 256;

/// The most times one rule may be told to fire.
pub const MAX_TIMES: u32 = 1_000_000;

/// Why a fault rule (or a set of them) was refused: it could never apply as written.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum FaultError {
    /// One rule cannot apply.
    #[error("fault rule {index}: {reason}")]
    Rule {
        /// The rule's position in the list, from 0.
        index: usize,
        /// What is wrong with it.
        reason: String,
    },
    /// More rules than [`MAX_RULES`].
    #[error("at most {MAX_RULES} fault rules, not {0}")]
    TooMany(usize),
}

/// How long to wait before answering.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Latency {
    /// Always `ms` milliseconds.
    Fixed {
        /// Milliseconds.
        ms: u64,
    },
    /// Uniformly between `min_ms` and `max_ms`.
    Uniform {
        /// Lower bound, milliseconds.
        min_ms: u64,
        /// Upper bound, milliseconds.
        max_ms: u64,
    },
    /// Log-normal with the given median and shape: a long tail, like real networks.
    LogNormal {
        /// The median, milliseconds.
        median_ms: f64,
        /// The standard deviation of the underlying normal (0.5 is a moderate tail).
        sigma: f64,
    },
}

/// The largest `sigma` a log-normal latency may have: at 10, one draw in a thousand is already
/// e^31 times the median, so anything wider only ever draws 0 or [`MAX_LATENCY`].
pub const MAX_SIGMA: f64 = 10.0;

impl Latency {
    /// Whether the distribution can be drawn from as written: finite, non-negative values,
    /// a median and bounds within [`MAX_LATENCY`], `min_ms` not above `max_ms`, `sigma` at
    /// most [`MAX_SIGMA`].
    pub fn check(&self) -> Result<(), String> {
        let max_ms = MAX_LATENCY.as_millis() as u64;
        let within = |name: &str, ms: u64| {
            if ms > max_ms {
                Err(format!(
                    "{name} {ms} is beyond the latency cap of {max_ms} ms"
                ))
            } else {
                Ok(())
            }
        };
        match *self {
            Latency::Fixed { ms } => within("ms", ms),
            Latency::Uniform { min_ms, max_ms } => {
                within("min_ms", min_ms)?;
                within("max_ms", max_ms)?;
                if min_ms > max_ms {
                    return Err(format!("min_ms {min_ms} is above max_ms {max_ms}"));
                }
                Ok(())
            }
            Latency::LogNormal { median_ms, sigma } => {
                if !(median_ms.is_finite() && (0.0..=max_ms as f64).contains(&median_ms)) {
                    return Err(format!(
                        "median_ms must be a number within 0–{max_ms} (the latency cap)"
                    ));
                }
                if !(sigma.is_finite() && (0.0..=MAX_SIGMA).contains(&sigma)) {
                    return Err(format!("sigma must be a number within 0–{MAX_SIGMA}"));
                }
                Ok(())
            }
        }
    }

    fn draw(&self, rng: &mut fastrand::Rng) -> Duration {
        let ms = match *self {
            Latency::Fixed { ms } => ms as f64,
            Latency::Uniform { min_ms, max_ms } => {
                let (lo, hi) = (min_ms.min(max_ms), min_ms.max(max_ms));
                rng.u64(lo..=hi) as f64
            }
            Latency::LogNormal { median_ms, sigma } => {
                // Box–Muller: a standard normal from two uniforms.
                let u1 = rng.f64().max(f64::MIN_POSITIVE);
                let z = (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * rng.f64()).cos();
                median_ms.max(0.0) * (sigma * z).exp()
            }
        };
        // A draw is clamped before it becomes a Duration: `from_secs_f64` panics on NaN,
        // infinity and values beyond u64 seconds, which a wide tail reaches.
        let ms = if ms.is_nan() { 0.0 } else { ms };
        let capped = ms.clamp(0.0, MAX_LATENCY.as_millis() as f64);
        Duration::from_secs_f64(capped / 1000.0)
    }
}

/// One fault rule.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FaultRule {
    /// The vendor whose requests it applies to.
    pub vendor: VendorId,
    /// The operation id, or every operation of the vendor when absent.
    #[serde(default)]
    pub operation: Option<String>,
    /// The status to answer with instead of the real one (only where the spec documents it).
    #[serde(default)]
    pub status: Option<u16>,
    /// The share of matching requests the rule applies to, 0.0–1.0.
    #[serde(default = "always")]
    pub rate: f64,
    /// Seed of the rule's own random sequence, so an error rate is reproducible.
    #[serde(default)]
    pub seed: Option<u64>,
    /// Latency added before the answer.
    #[serde(default)]
    pub latency: Option<Latency>,
    /// Close the connection without answering.
    #[serde(default)]
    pub drop_connection: bool,
    /// How many times the rule fires before it is spent (every matching request when absent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub times: Option<u32>,
}

fn always() -> f64 {
    1.0
}

impl FaultRule {
    /// A rule for every operation of `vendor` that does nothing yet: set what it injects with
    /// the builder methods.
    ///
    /// ```
    /// use understudy::VendorId;
    /// use understudy::faults::FaultRule;
    ///
    /// // Dub's partner creation answers 500 twice, then as usual.
    /// let rule = FaultRule::new(VendorId::Dub).operation("createPartner").status(500).times(2);
    /// assert_eq!(rule.times, Some(2));
    /// ```
    pub fn new(vendor: VendorId) -> Self {
        FaultRule {
            vendor,
            operation: None,
            status: None,
            rate: 1.0,
            seed: None,
            latency: None,
            drop_connection: false,
            times: None,
        }
    }

    /// Only requests for this operation id.
    pub fn operation(mut self, operation_id: impl Into<String>) -> Self {
        self.operation = Some(operation_id.into());
        self
    }

    /// Answer with `status` (one the operation documents).
    pub fn status(mut self, status: u16) -> Self {
        self.status = Some(status);
        self
    }

    /// Wait `latency` first.
    pub fn latency(mut self, latency: Latency) -> Self {
        self.latency = Some(latency);
        self
    }

    /// Drop the connection instead of answering.
    pub fn drop_connection(mut self) -> Self {
        self.drop_connection = true;
        self
    }

    /// Apply to this share of matching requests, drawn from `seed`'s sequence.
    pub fn rate(mut self, rate: f64, seed: u64) -> Self {
        self.rate = rate;
        self.seed = Some(seed);
        self
    }

    /// Fire `times` times, then stop.
    pub fn times(mut self, times: u32) -> Self {
        self.times = Some(times);
        self
    }

    /// Whether the rule can ever apply: its operation exists, its status is one the operation
    /// (or one of the vendor's operations) documents, and its rate is a share. The admin API
    /// refuses a rule that fails this, and so does start-up for the configuration's rules.
    /// A rule for a vendor the fake does not serve (its spec is not in `specs`) is refused too.
    pub fn check(&self, specs: &SpecSet) -> Result<(), String> {
        let spec = specs.try_vendor(self.vendor).map_err(|e| e.to_string())?;
        let ops: Vec<_> = spec
            .operations
            .iter()
            .filter(|op| {
                self.operation
                    .as_deref()
                    .is_none_or(|o| o == op.operation_id)
            })
            .collect();
        if ops.is_empty() {
            return Err(format!(
                "{} has no operation {:?}",
                self.vendor,
                self.operation.as_deref().unwrap_or_default()
            ));
        }
        if let Some(status) = self.status
            && !ops
                .iter()
                .any(|op| op.documented_statuses().contains(&status))
        {
            return Err(format!(
                "status {status} is not documented for {}",
                self.operation.as_deref().unwrap_or(self.vendor.name())
            ));
        }
        if !(0.0..=1.0).contains(&self.rate) {
            return Err("rate must be within 0.0–1.0".into());
        }
        if let Some(latency) = &self.latency {
            latency
                .check()
                .map_err(|reason| format!("latency: {reason}"))?;
        }
        if let Some(times) = self.times
            && !(1..=MAX_TIMES).contains(&times)
        {
            return Err(format!("times must be within 1–{MAX_TIMES}"));
        }
        Ok(())
    }
}

/// What to do to one request.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Injection {
    /// Answer with this status instead.
    pub status: Option<u16>,
    /// Wait this long first.
    pub latency: Option<Duration>,
    /// Drop the connection instead of answering.
    pub drop_connection: bool,
}

impl Injection {
    /// Whether anything is injected.
    pub fn is_empty(&self) -> bool {
        *self == Injection::default()
    }

    /// Lays `other` over this injection: what `other` sets wins.
    pub fn overlay(&mut self, other: Injection) {
        self.status = other.status.or(self.status);
        self.latency = other.latency.or(self.latency);
        self.drop_connection |= other.drop_connection;
    }

    /// Parses a `Prefer` header: `code=503`, `latency=250` (ms), `drop`, comma-separated.
    /// Unknown preferences are ignored, as RFC 7240 asks.
    pub fn from_prefer(value: &HeaderValue) -> Injection {
        let mut injection = Injection::default();
        for token in value.to_str().unwrap_or_default().split([',', ';']) {
            let token = token.trim();
            let (name, value) = token.split_once('=').unwrap_or((token, ""));
            let value = value.trim().trim_matches('"');
            match name.trim().to_ascii_lowercase().as_str() {
                "code" => injection.status = value.parse().ok(),
                "latency" => {
                    injection.latency = value
                        .trim_end_matches("ms")
                        .parse()
                        .ok()
                        .map(|ms| Duration::from_millis(ms).min(MAX_LATENCY))
                }
                "drop" => injection.drop_connection = true,
                _ => {}
            }
        }
        injection
    }
}

/// A rule with its random sequence and what is left of its `times`.
#[derive(Debug)]
struct Armed {
    rule: FaultRule,
    rng: fastrand::Rng,
    remaining: Option<u32>,
}

impl Armed {
    fn new(rule: FaultRule) -> Self {
        let rng = rule
            .seed
            .map_or_else(fastrand::Rng::new, fastrand::Rng::with_seed);
        Armed {
            remaining: rule.times,
            rule,
            rng,
        }
    }
}

/// The fault rules in force. Every rule is checked against the specs when it is set, so a
/// Rust caller gets the same guarantee as the admin API: no rule that can never apply.
#[derive(Debug)]
pub struct Faults {
    specs: Arc<SpecSet>,
    rules: Mutex<Vec<Armed>>,
}

/// Checks every rule of `rules` against `specs`.
pub fn check_all(rules: &[FaultRule], specs: &SpecSet) -> Result<(), FaultError> {
    if rules.len() > MAX_RULES {
        return Err(FaultError::TooMany(rules.len()));
    }
    for (index, rule) in rules.iter().enumerate() {
        rule.check(specs)
            .map_err(|reason| FaultError::Rule { index, reason })?;
    }
    Ok(())
}

impl Faults {
    /// The rules in force from the start, checked against `specs`.
    pub fn new(specs: Arc<SpecSet>, rules: Vec<FaultRule>) -> Result<Self, FaultError> {
        check_all(&rules, &specs)?;
        Ok(Faults {
            specs,
            rules: Mutex::new(rules.into_iter().map(Armed::new).collect()),
        })
    }

    /// The rules in force from the start when they were checked already (a new world's copy of
    /// the configured rules, checked when the fake started).
    pub(crate) fn checked(specs: Arc<SpecSet>, rules: Vec<FaultRule>) -> Self {
        Faults {
            specs,
            rules: Mutex::new(rules.into_iter().map(Armed::new).collect()),
        }
    }

    /// The rules in force (a spent rule is still listed, with `times` as it was set).
    pub fn rules(&self) -> Vec<FaultRule> {
        let rules = self.rules.lock().unwrap_or_else(|p| p.into_inner());
        rules.iter().map(|a| a.rule.clone()).collect()
    }

    /// Replaces every rule (their random sequences restart from their seeds), unless one of
    /// them can never apply: then nothing changes.
    pub fn set(&self, rules: Vec<FaultRule>) -> Result<(), FaultError> {
        check_all(&rules, &self.specs)?;
        *self.rules.lock().unwrap_or_else(|p| p.into_inner()) =
            rules.into_iter().map(Armed::new).collect();
        Ok(())
    }

    /// Adds one rule after the others.
    pub fn push(&self, rule: FaultRule) -> Result<(), FaultError> {
        let mut rules = self.rules.lock().unwrap_or_else(|p| p.into_inner());
        let index = rules.len();
        if index >= MAX_RULES {
            return Err(FaultError::TooMany(index + 1));
        }
        rule.check(&self.specs)
            .map_err(|reason| FaultError::Rule { index, reason })?;
        rules.push(Armed::new(rule));
        Ok(())
    }

    /// Removes every rule.
    pub fn clear(&self) {
        self.rules.lock().unwrap_or_else(|p| p.into_inner()).clear();
    }

    /// What the rules inject into a request for `operation` of `vendor`. Every matching rule
    /// draws from its own sequence; the first one whose draw falls under its rate applies.
    pub fn pick(&self, vendor: VendorId, operation: &str) -> Injection {
        let mut rules = self.rules.lock().unwrap_or_else(|p| p.into_inner());
        for armed in rules.iter_mut() {
            let rule = &armed.rule;
            if rule.vendor != vendor
                || rule.operation.as_deref().is_some_and(|o| o != operation)
                || armed.remaining == Some(0)
            {
                continue;
            }
            let hit = rule.rate >= 1.0 || armed.rng.f64() < rule.rate;
            if hit {
                if let Some(remaining) = armed.remaining.as_mut() {
                    *remaining -= 1;
                }
                let latency = rule.latency.clone();
                return Injection {
                    status: armed.rule.status,
                    latency: latency.map(|l| l.draw(&mut armed.rng)),
                    drop_connection: armed.rule.drop_connection,
                };
            }
        }
        Injection::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(rate: f64, seed: u64) -> FaultRule {
        FaultRule::new(VendorId::Dub)
            .operation("createPartner")
            .status(500)
            .rate(rate, seed)
    }

    fn specs() -> Arc<SpecSet> {
        Arc::new(SpecSet::embedded().unwrap())
    }

    fn faults(rules: Vec<FaultRule>) -> Faults {
        Faults::new(specs(), rules).unwrap()
    }

    fn pattern(faults: &Faults, n: usize) -> Vec<bool> {
        (0..n)
            .map(|_| faults.pick(VendorId::Dub, "createPartner").status.is_some())
            .collect()
    }

    #[test]
    fn a_seeded_error_rate_is_reproducible_and_near_its_rate() {
        let first = pattern(&faults(vec![rule(0.3, 7)]), 1000);
        let again = pattern(&faults(vec![rule(0.3, 7)]), 1000);
        assert_eq!(first, again);
        let hits = first.iter().filter(|h| **h).count();
        assert!(
            (240..360).contains(&hits),
            "{hits} hits of 1000 at rate 0.3"
        );
        assert_ne!(first, pattern(&faults(vec![rule(0.3, 8)]), 1000));
    }

    #[test]
    fn rules_match_vendor_and_operation() {
        let faults = faults(vec![rule(1.0, 1)]);
        assert!(faults.pick(VendorId::Dub, "createPartnerLink").is_empty());
        assert!(faults.pick(VendorId::Confluent, "createPartner").is_empty());
        assert_eq!(
            faults.pick(VendorId::Dub, "createPartner").status,
            Some(500)
        );
    }

    #[test]
    fn a_rule_told_to_fire_n_times_stops_after_n() {
        let faults = faults(vec![rule(1.0, 1).times(2)]);
        assert_eq!(pattern(&faults, 4), [true, true, false, false]);
        assert_eq!(
            faults.rules()[0].times,
            Some(2),
            "the rule is listed as it was set"
        );
    }

    #[test]
    fn rules_that_can_never_apply_are_refused_by_rust_callers_too() {
        let faults = faults(vec![rule(1.0, 1)]);
        let unknown = FaultRule::new(VendorId::Dub).operation("noSuchOperation");
        assert!(matches!(
            faults.set(vec![rule(0.5, 1), unknown.clone()]),
            Err(FaultError::Rule { index: 1, .. })
        ));
        assert!(
            faults
                .push(FaultRule::new(VendorId::Dub).status(299))
                .is_err()
        );
        assert!(faults.push(rule(1.0, 1).times(0)).is_err());
        assert_eq!(faults.rules(), vec![rule(1.0, 1)], "nothing changed");
        assert!(Faults::new(specs(), vec![unknown]).is_err());
        assert!(matches!(
            faults.set(vec![rule(1.0, 1); MAX_RULES + 1]),
            Err(FaultError::TooMany(_))
        ));
    }

    #[test]
    fn latency_distributions_stay_in_their_bounds() {
        let mut rng = fastrand::Rng::with_seed(3);
        let uniform = Latency::Uniform {
            min_ms: 10,
            max_ms: 20,
        };
        for _ in 0..100 {
            let d = uniform.draw(&mut rng);
            assert!((10..=20).contains(&(d.as_millis() as u64)));
        }
        let lognormal = Latency::LogNormal {
            median_ms: 50.0,
            sigma: 0.5,
        };
        let mut draws: Vec<Duration> = (0..1001).map(|_| lognormal.draw(&mut rng)).collect();
        draws.sort();
        let median = draws[500].as_millis();
        assert!((40..=60).contains(&median), "median {median} ms");
        assert!(draws.iter().all(|d| *d <= MAX_LATENCY));
    }

    #[test]
    fn latencies_beyond_the_cap_are_refused_and_never_panic_when_drawn() {
        let mut rng = fastrand::Rng::with_seed(5);
        let wild = [
            Latency::LogNormal {
                median_ms: 1e23,
                sigma: 0.0,
            },
            Latency::LogNormal {
                median_ms: f64::NAN,
                sigma: 0.0,
            },
            Latency::LogNormal {
                median_ms: 10.0,
                sigma: 1e6,
            },
            Latency::LogNormal {
                median_ms: f64::INFINITY,
                sigma: 1.0,
            },
            Latency::Fixed { ms: u64::MAX },
            Latency::Uniform {
                min_ms: 0,
                max_ms: u64::MAX,
            },
            Latency::Uniform {
                min_ms: 20,
                max_ms: 10,
            },
        ];
        for latency in &wild {
            assert!(latency.check().is_err(), "{latency:?} was accepted");
            for _ in 0..50 {
                assert!(latency.draw(&mut rng) <= MAX_LATENCY);
            }
        }
        let tame = Latency::LogNormal {
            median_ms: 30_000.0,
            sigma: MAX_SIGMA,
        };
        assert_eq!(tame.check(), Ok(()));
    }

    #[test]
    fn prefer_header_parses_code_latency_and_drop() {
        let injection = Injection::from_prefer(&HeaderValue::from_static(
            "code=503, latency=120ms, respond-async",
        ));
        assert_eq!(injection.status, Some(503));
        assert_eq!(injection.latency, Some(Duration::from_millis(120)));
        assert!(!injection.drop_connection);
        assert!(Injection::from_prefer(&HeaderValue::from_static("drop")).drop_connection);
    }
}
