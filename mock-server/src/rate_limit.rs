//! Per-credential rate limits with each vendor's algorithm and header units.
//!
//! The limiter reads the shared [`Clock`](crate::clock::Clock), so tests and the admin API move
//! time instead of sleeping. Which headers a response carries is the spec's business: the
//! pipeline attaches a header only where the operation's response for that status declares it.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::{Arc, Mutex};

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::VendorId;
use crate::mutants::Mutants;

crate::mutants! {
    /// The limiter's deliberate contract faults.
    pub enum LimiterMutant {
        ResetInSeconds = "dub.rate-limit-reset-seconds"
            => "X-RateLimit-Reset (and Retry-After with it) in epoch seconds where the configured unit is epoch milliseconds",
    }
}

/// How a window is counted.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Algorithm {
    /// Exactly `limit` requests in any interval of `window_seconds` (a sliding log).
    SlidingWindow,
    /// `limit` requests per window aligned to multiples of `window_seconds` since the epoch.
    FixedWindow,
}

/// What `X-RateLimit-Reset` carries.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ResetUnits {
    /// The reset instant as Unix epoch milliseconds (what Dub's code sends).
    EpochMs,
    /// The reset instant as Unix epoch seconds (what Dub's documentation promises).
    EpochSeconds,
    /// Seconds from now until the reset (Confluent).
    RelativeSeconds,
}

/// What `Retry-After` carries.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RetryAfterUnits {
    /// The very value `X-RateLimit-Reset` carries (Dub's code).
    SameAsReset,
    /// Whole seconds to wait, rounded up (HTTP's meaning).
    Seconds,
}

/// One vendor's limit.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RateLimitConfig {
    /// Counting algorithm.
    pub algorithm: Algorithm,
    /// Requests allowed per window and credential.
    pub limit: u32,
    /// Window length in seconds.
    pub window_seconds: u32,
    /// Limits by the caller's tier (Dub: the workspace plan), overriding `limit`.
    #[serde(default)]
    pub tiers: BTreeMap<String, u32>,
    /// Units of `X-RateLimit-Reset`.
    pub reset: ResetUnits,
    /// Units of `Retry-After`.
    pub retry_after: RetryAfterUnits,
}

impl RateLimitConfig {
    /// The largest budget per window: a sliding window keeps one timestamp per admitted
    /// request, so the budget bounds the limiter's memory per credential.
    pub const MAX_LIMIT: u32 = 100_000;
    /// The longest window, a leap year: windows are computed from the clock, which keeps a
    /// year of headroom (see [`crate::clock::LATEST`]).
    pub const MAX_WINDOW_SECONDS: u32 = 366 * 24 * 3600;
    /// The most tiers one limit names.
    pub const MAX_TIERS: usize = 64;

    /// Whether the limit can be enforced and rendered as the specs require: every budget
    /// within 1–[`Self::MAX_LIMIT`] (a budget of 0 would send `X-RateLimit-Limit: 0`, which
    /// the vendors' specs forbid), the window within 1–[`Self::MAX_WINDOW_SECONDS`]. The
    /// admin API and start-up both refuse a limit that fails this.
    pub fn check(&self) -> Result<(), String> {
        let budget = |name: &str, value: u32| {
            if (1..=Self::MAX_LIMIT).contains(&value) {
                Ok(())
            } else {
                Err(format!("{name} must be within 1–{}", Self::MAX_LIMIT))
            }
        };
        budget("limit", self.limit)?;
        if !(1..=Self::MAX_WINDOW_SECONDS).contains(&self.window_seconds) {
            return Err(format!(
                "window_seconds must be within 1–{}",
                Self::MAX_WINDOW_SECONDS
            ));
        }
        if self.tiers.len() > Self::MAX_TIERS {
            return Err(format!("at most {} tiers", Self::MAX_TIERS));
        }
        for (tier, limit) in &self.tiers {
            budget(&format!("tier {tier:?}"), *limit)?;
        }
        Ok(())
    }
}

/// The limiter's verdict on one request, and what the headers say about it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Decision {
    /// Whether the request may proceed.
    pub allowed: bool,
    /// The budget per window.
    pub limit: u32,
    /// What is left of it after this request.
    pub remaining: u32,
    /// When the next slot frees (sliding) or the window ends (fixed).
    pub reset_at: OffsetDateTime,
    /// When the decision was taken.
    pub now: OffsetDateTime,
    /// Header units.
    pub reset_units: ResetUnits,
    /// `Retry-After` units.
    pub retry_after_units: RetryAfterUnits,
}

impl Decision {
    /// The rate-limit headers by name, as the vendor formats them.
    pub fn headers(&self) -> [(&'static str, String); 4] {
        let reset_ms = unix_ms(self.reset_at);
        let wait_ms = (reset_ms - unix_ms(self.now)).max(0);
        let wait_seconds = (wait_ms + 999) / 1000;
        let reset = match self.reset_units {
            ResetUnits::EpochMs => reset_ms,
            ResetUnits::EpochSeconds => (reset_ms + 999) / 1000,
            ResetUnits::RelativeSeconds => wait_seconds,
        };
        let retry_after = match self.retry_after_units {
            RetryAfterUnits::SameAsReset => reset,
            RetryAfterUnits::Seconds => wait_seconds,
        };
        [
            ("X-RateLimit-Limit", self.limit.to_string()),
            ("X-RateLimit-Remaining", self.remaining.to_string()),
            ("X-RateLimit-Reset", reset.to_string()),
            ("Retry-After", retry_after.to_string()),
        ]
    }
}

fn unix_ms(at: OffsetDateTime) -> i64 {
    (at.unix_timestamp_nanos() / 1_000_000) as i64
}

/// What one credential has spent.
#[derive(Debug)]
enum Usage {
    /// The instants (ms) of the accepted requests in the current sliding window, oldest first.
    Log(VecDeque<i64>),
    /// The current fixed window's start (ms) and count.
    Window { start: i64, count: u32 },
}

/// Rate limits per vendor and credential.
#[derive(Debug, Default)]
pub struct RateLimiter {
    configs: Mutex<BTreeMap<VendorId, RateLimitConfig>>,
    usage: Mutex<HashMap<(VendorId, String), Usage>>,
    mutants: Arc<Mutants>,
}

impl RateLimiter {
    /// A limiter enforcing `configs` (vendors absent from it are not limited).
    pub fn new(configs: BTreeMap<VendorId, RateLimitConfig>) -> Self {
        RateLimiter {
            configs: Mutex::new(configs),
            usage: Mutex::default(),
            mutants: Arc::default(),
        }
    }

    /// The same limiter, committing the world's active mutants.
    pub fn with_mutants(mut self, mutants: Arc<Mutants>) -> Self {
        self.mutants = mutants;
        self
    }

    /// The limits in force.
    pub fn configs(&self) -> BTreeMap<VendorId, RateLimitConfig> {
        self.configs
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// Replaces one vendor's limit (`None` removes it) and forgets that vendor's usage.
    pub fn set(&self, vendor: VendorId, config: Option<RateLimitConfig>) {
        let mut configs = self.configs.lock().unwrap_or_else(|p| p.into_inner());
        match config {
            Some(config) => configs.insert(vendor, config),
            None => configs.remove(&vendor),
        };
        self.forget(Some(vendor));
    }

    /// Forgets what credentials have spent, for one vendor or all.
    pub fn forget(&self, vendor: Option<VendorId>) {
        let mut usage = self.usage.lock().unwrap_or_else(|p| p.into_inner());
        usage.retain(|(v, _), _| vendor.is_some_and(|only| only != *v));
    }

    /// A spent budget, for a forced 429: the vendor's configured units and window, or a
    /// one-minute window in relative seconds when the vendor has no limit configured.
    pub fn exhausted(&self, vendor: VendorId, now: OffsetDateTime) -> Decision {
        let config = self
            .configs
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(&vendor)
            .cloned();
        let (limit, window, reset_units, retry_after_units) = match config {
            Some(c) => (c.limit, c.window_seconds, c.reset, c.retry_after),
            None => (0, 60, ResetUnits::RelativeSeconds, RetryAfterUnits::Seconds),
        };
        Decision {
            allowed: false,
            limit,
            remaining: 0,
            reset_at: now + time::Duration::seconds(i64::from(window)),
            now,
            reset_units,
            retry_after_units,
        }
    }

    /// Counts one request by `credential` (of `tier`) at `now`; `None` when the vendor has no
    /// limit. A refused request is not counted, as Upstash's limiter does not count it either.
    pub fn check(
        &self,
        vendor: VendorId,
        credential: &str,
        tier: Option<&str>,
        now: OffsetDateTime,
    ) -> Option<Decision> {
        // Copy out the few fields this request needs: cloning the config (tiers included) on
        // every request would allocate on the hot path.
        let (algorithm, limit, window_seconds, reset_units, retry_after_units) = {
            let configs = self.configs.lock().unwrap_or_else(|p| p.into_inner());
            let config = configs.get(&vendor)?;
            let limit = tier
                .and_then(|t| config.tiers.get(t).copied())
                .unwrap_or(config.limit);
            (
                config.algorithm,
                limit,
                config.window_seconds,
                config.reset,
                config.retry_after,
            )
        };
        let reset_units = match reset_units {
            ResetUnits::EpochMs if self.mutants.active(LimiterMutant::ResetInSeconds) => {
                ResetUnits::EpochSeconds
            }
            units => units,
        };
        let window = i64::from(window_seconds.max(1)) * 1000;
        let at = unix_ms(now);
        let mut usage = self.usage.lock().unwrap_or_else(|p| p.into_inner());
        let entry = usage
            .entry((vendor, credential.to_string()))
            .or_insert_with(|| match algorithm {
                Algorithm::SlidingWindow => Usage::Log(VecDeque::new()),
                Algorithm::FixedWindow => Usage::Window { start: 0, count: 0 },
            });
        let (allowed, used, reset_ms) = match entry {
            Usage::Log(log) => {
                while log.front().is_some_and(|&t| t <= at - window) {
                    log.pop_front();
                }
                let allowed = (log.len() as u64) < u64::from(limit);
                if allowed {
                    log.push_back(at);
                }
                let reset = log.front().map_or(at + window, |&t| t + window);
                (allowed, log.len() as u32, reset)
            }
            Usage::Window { start, count } => {
                let current = at - at.rem_euclid(window);
                if *start != current {
                    *start = current;
                    *count = 0;
                }
                let allowed = *count < limit;
                if allowed {
                    *count += 1;
                }
                (allowed, *count, current + window)
            }
        };
        Some(Decision {
            allowed,
            limit,
            remaining: limit.saturating_sub(used),
            reset_at: OffsetDateTime::from_unix_timestamp_nanos(i128::from(reset_ms) * 1_000_000)
                .unwrap_or(now),
            now,
            reset_units,
            retry_after_units,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::Duration;

    fn config(algorithm: Algorithm, limit: u32) -> RateLimitConfig {
        RateLimitConfig {
            algorithm,
            limit,
            window_seconds: 60,
            tiers: BTreeMap::from([("free".to_string(), 2)]),
            reset: ResetUnits::EpochMs,
            retry_after: RetryAfterUnits::SameAsReset,
        }
    }

    fn limiter(algorithm: Algorithm, limit: u32) -> RateLimiter {
        RateLimiter::new(BTreeMap::from([(VendorId::Dub, config(algorithm, limit))]))
    }

    fn start() -> OffsetDateTime {
        OffsetDateTime::from_unix_timestamp(1_800_000_000).unwrap()
    }

    #[test]
    fn sliding_window_allows_exactly_the_budget_then_frees_a_slot_a_window_later() {
        let limiter = limiter(Algorithm::SlidingWindow, 3);
        let t0 = start();
        for i in 0..3 {
            let d = limiter
                .check(VendorId::Dub, "k", None, t0 + Duration::seconds(i))
                .unwrap();
            assert!(d.allowed);
            assert_eq!(d.remaining, 2 - i as u32);
        }
        let refused = limiter
            .check(VendorId::Dub, "k", None, t0 + Duration::seconds(10))
            .unwrap();
        assert!(!refused.allowed);
        assert_eq!(refused.remaining, 0);
        assert_eq!(refused.reset_at, t0 + Duration::seconds(60));
        // One millisecond short of the first request's expiry: still refused.
        let early = t0 + Duration::seconds(60) - Duration::milliseconds(1);
        assert!(
            !limiter
                .check(VendorId::Dub, "k", None, early)
                .unwrap()
                .allowed
        );
        let later = t0 + Duration::seconds(60);
        assert!(
            limiter
                .check(VendorId::Dub, "k", None, later)
                .unwrap()
                .allowed
        );
    }

    #[test]
    fn fixed_window_resets_at_the_window_boundary() {
        let limiter = limiter(Algorithm::FixedWindow, 2);
        let t0 = start(); // a multiple of 60 s
        assert!(limiter.check(VendorId::Dub, "k", None, t0).unwrap().allowed);
        assert!(limiter.check(VendorId::Dub, "k", None, t0).unwrap().allowed);
        let refused = limiter
            .check(VendorId::Dub, "k", None, t0 + Duration::seconds(59))
            .unwrap();
        assert!(!refused.allowed);
        assert_eq!(refused.reset_at, t0 + Duration::seconds(60));
        assert!(
            limiter
                .check(VendorId::Dub, "k", None, t0 + Duration::seconds(60))
                .unwrap()
                .allowed
        );
    }

    #[test]
    fn credentials_tiers_and_vendors_are_counted_apart() {
        let limiter = limiter(Algorithm::SlidingWindow, 1);
        let t0 = start();
        assert!(limiter.check(VendorId::Dub, "a", None, t0).unwrap().allowed);
        assert!(limiter.check(VendorId::Dub, "b", None, t0).unwrap().allowed);
        assert!(!limiter.check(VendorId::Dub, "a", None, t0).unwrap().allowed);
        assert_eq!(
            limiter
                .check(VendorId::Dub, "c", Some("free"), t0)
                .unwrap()
                .limit,
            2
        );
        assert!(limiter.check(VendorId::Enhance, "a", None, t0).is_none());
    }

    #[test]
    fn header_units_follow_the_configuration() {
        let now = start() + Duration::milliseconds(500);
        let mut decision = Decision {
            allowed: false,
            limit: 10,
            remaining: 0,
            reset_at: now + Duration::milliseconds(2_300),
            now,
            reset_units: ResetUnits::EpochMs,
            retry_after_units: RetryAfterUnits::SameAsReset,
        };
        let reset_ms = 1_800_000_002_800_i64;
        let value =
            |d: &Decision, name: &str| d.headers().into_iter().find(|(n, _)| *n == name).unwrap().1;
        assert_eq!(value(&decision, "X-RateLimit-Reset"), reset_ms.to_string());
        assert_eq!(value(&decision, "Retry-After"), reset_ms.to_string());
        decision.reset_units = ResetUnits::EpochSeconds;
        decision.retry_after_units = RetryAfterUnits::Seconds;
        assert_eq!(value(&decision, "X-RateLimit-Reset"), "1800000003");
        assert_eq!(value(&decision, "Retry-After"), "3");
        decision.reset_units = ResetUnits::RelativeSeconds;
        assert_eq!(value(&decision, "X-RateLimit-Reset"), "3");
    }
}
