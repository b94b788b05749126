//! Dub's rate limit: a small sliding-window budget per API key, the fake's clock moved between
//! steps through the admin API, and every rate-limit header checked against the model.
//!
//! The probes are requests to each of the eight operations that change nothing (a partner no
//! one enrolled, a partner without its email, a page size of 0), so the model is only the
//! limiter: which requests the window admits, what remains of the budget, and in which unit
//! the reset instant is sent.

use std::collections::VecDeque;

use proptest::prelude::*;
use serde_json::json;
use understudy::VendorId;
use understudy::spec::Operation;

use crate::backend::AdminCall;
use crate::exchange::{Exchange, Request};
use crate::normalise::Normalisation;
use crate::scenario::{Case, Prediction, Prior, Refusals, Restore, Scenario, Step, Twist};

const AUTH: &str = "Bearer dub_understudy_test";
const PROGRAM: &str = "prog_understudy";
/// Requests per window: small, so a case of a few steps exhausts it.
const LIMIT: u32 = 3;
/// The window, in seconds; clock moves are multiples of ten seconds, so no request lands within
/// the few milliseconds a case takes of a window's edge.
const WINDOW: u32 = 60;
/// Epoch milliseconds are past 10^12 since 2001; epoch seconds stay below it until year 33658.
const EPOCH_MS_FLOOR: i64 = 1_000_000_000_000;

/// One request against the limiter, after moving the clock.
#[derive(Clone, Debug)]
pub struct Probe {
    /// Seconds the fake's clock moves forward before the request.
    pub advance: u32,
    /// Which operation (`PROBES[operation]`) is asked.
    pub operation: u8,
}

/// The probes' operations, and whether the rules refuse each probe as invalid (422) rather
/// than as naming no partner (404).
const PROBES: [(&str, bool); 8] = [
    ("listPartners", true),
    ("createPartner", true),
    ("retrievePartnerLinks", false),
    ("createPartnerLink", false),
    ("upsertPartnerLink", false),
    ("retrievePartnerAnalytics", false),
    ("banPartner", false),
    ("deactivatePartner", false),
];

/// The reference model: the sliding window's accepted requests, on the model's own clock.
#[derive(Debug)]
pub struct RateModel {
    now: u32,
    accepted: VecDeque<u32>,
    remaining: u32,
}

/// Dub's rate-limit scenarios.
pub struct DubRateLimit;

impl Scenario for DubRateLimit {
    type Op = Probe;
    type Model = RateModel;
    const VENDOR: VendorId = VendorId::Dub;
    const REFUSALS: Refusals = super::dub::Dub::REFUSALS;

    fn operations() -> BoxedStrategy<Vec<Probe>> {
        let advance = prop_oneof![6 => Just(0u32), 1 => Just(20), 1 => Just(30), 1 => Just(60)];
        let probe = (advance, 0u8..8).prop_map(|(advance, operation)| Probe { advance, operation });
        proptest::collection::vec(probe, 1..10).boxed()
    }

    fn operation_id(probe: &Probe) -> &'static str {
        PROBES[usize::from(probe.operation) % PROBES.len()].0
    }

    fn model(_: Prior) -> RateModel {
        RateModel {
            now: 0,
            accepted: VecDeque::new(),
            remaining: 0,
        }
    }

    fn request(_: &Case, steps: &[Step<Probe>], index: usize) -> Request {
        let operation_id = Self::operation_id(&steps[index].op);
        let r = |method: &'static str, path: &str| {
            Request::new(operation_id, method, path).header("Authorization", AUTH)
        };
        let nobody = json!({"partnerId": "pn_nobody", "programId": PROGRAM});
        match operation_id {
            "listPartners" => r("GET", "/partners?pageSize=0"),
            // Without the one required field (email); name and username became optional.
            "createPartner" => {
                r("POST", "/partners").json(json!({"programId": PROGRAM, "name": "No Email"}))
            }
            "retrievePartnerLinks" => r("GET", "/partners/links?partnerId=pn_nobody"),
            "createPartnerLink" => r("POST", "/partners/links").json(nobody),
            "upsertPartnerLink" => r("PUT", "/partners/links/upsert").json(json!({
                "partnerId": "pn_nobody",
                "programId": PROGRAM,
                "url": "https://understudy.example/page0",
            })),
            "retrievePartnerAnalytics" => r("GET", "/partners/analytics?partnerId=pn_nobody"),
            "banPartner" => r("POST", "/partners/ban")
                .json(json!({"partnerId": "pn_nobody", "reason": "fraud"})),
            _ => r("POST", "/partners/deactivate").json(json!({"partnerId": "pn_nobody"})),
        }
    }

    fn predict(model: &mut RateModel, steps: &[Step<Probe>], index: usize) -> Prediction {
        let probe = &steps[index].op;
        // The clock moves before every step, twisted ones too (which the model does not see).
        model.now = steps[..=index].iter().map(|s| s.op.advance).sum();
        // A request leaves the window a whole window after it was made.
        while model
            .accepted
            .front()
            .is_some_and(|&t| t + WINDOW <= model.now)
        {
            model.accepted.pop_front();
        }
        let allowed = (model.accepted.len() as u32) < LIMIT;
        if allowed {
            model.accepted.push_back(model.now);
        }
        model.remaining = LIMIT - model.accepted.len() as u32;
        let invalid = PROBES[usize::from(probe.operation) % PROBES.len()].1;
        Prediction::Known(match (allowed, invalid) {
            (false, _) => 429,
            (true, true) => 422,
            (true, false) => 404,
        })
    }

    /// Body twists are left out: they are refused after the limiter counted them, which the
    /// limiter model would have to follow for no gain (the partner scenarios cover them).
    fn applies(_: &Probe, operation: &Operation, twist: Twist) -> bool {
        !matches!(
            twist,
            Twist::MalformedJson | Twist::WrongContentType | Twist::InvalidBody
        ) && crate::twist::applies_by_spec(&Self::REFUSALS, operation, twist)
    }

    fn check(
        model: &RateModel,
        _steps: &[Step<Probe>],
        _index: usize,
        exchange: &Exchange,
    ) -> Result<(), String> {
        let header = |name: &str| {
            exchange
                .headers
                .get(name)
                .ok_or_else(|| format!("no {name} header"))
        };
        expect(
            header("x-ratelimit-limit")?,
            &LIMIT.to_string(),
            "X-RateLimit-Limit",
        )?;
        let remaining = model.remaining.to_string();
        expect(
            header("x-ratelimit-remaining")?,
            &remaining,
            "X-RateLimit-Remaining",
        )?;
        let reset = header("x-ratelimit-reset")?;
        match reset.parse::<i64>() {
            Ok(ms) if ms >= EPOCH_MS_FLOOR => {}
            _ => {
                return Err(format!(
                    "X-RateLimit-Reset is {reset}, not an instant in epoch milliseconds"
                ));
            }
        }
        // Dub's code sends Retry-After as the very reset instant.
        expect(header("retry-after")?, reset, "Retry-After")
    }

    fn setup() -> Vec<AdminCall> {
        vec![AdminCall {
            method: "PUT",
            path: "/rate-limits/dub".into(),
            body: json!({
                "algorithm": "sliding_window",
                "limit": LIMIT,
                "window_seconds": WINDOW,
                "tiers": {},
                "reset": "epoch_ms",
                "retry_after": "same_as_reset",
            }),
        }]
    }

    fn restores() -> Vec<Restore> {
        vec![Restore {
            read: "/rate-limits",
            pointer: "/dub",
            write: "/rate-limits/dub",
        }]
    }

    fn before(steps: &[Step<Probe>], index: usize) -> Option<AdminCall> {
        let seconds = steps[index].op.advance;
        (seconds > 0).then(|| AdminCall {
            method: "POST",
            path: "/clock/advance".into(),
            body: json!({ "seconds": seconds }),
        })
    }

    fn canonical() -> Vec<Probe> {
        // A plain probe is the upsert (4), an invalid one the partner without its email (1).
        let probe = |advance, invalid| Probe {
            advance,
            operation: if invalid { 1 } else { 4 },
        };
        vec![
            probe(0, false),
            probe(0, true),
            probe(20, false),
            probe(0, false),
            probe(30, true),
            probe(10, false),
            probe(20, false),
            probe(60, true),
        ]
    }

    fn normalisation() -> Normalisation {
        Normalisation {
            ids: &[],
            opaque: &[],
            present_headers: &[
                "x-ratelimit-limit",
                "x-ratelimit-remaining",
                "x-ratelimit-reset",
                "retry-after",
            ],
        }
    }
}

fn expect(got: &str, wanted: &str, name: &str) -> Result<(), String> {
    if got == wanted {
        Ok(())
    } else {
        Err(format!("{name} is {got}, the model says {wanted}"))
    }
}
