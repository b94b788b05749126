//! Dub's rate limit: a small sliding-window budget per API key, the fake's clock moved between
//! steps through the admin API, and every rate-limit header checked against the model.
//!
//! The probes are requests that change nothing (an upsert for a partner no one enrolled, a
//! partner without its name), so the model is only the limiter: which requests the window
//! admits, what remains of the budget, and in which unit the reset instant is sent.

use std::collections::VecDeque;

use proptest::prelude::*;
use serde_json::json;
use understudy::VendorId;

use crate::backend::AdminCall;
use crate::exchange::{Exchange, Request};
use crate::normalise::Normalisation;
use crate::scenario::Scenario;

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
    /// A `createPartner` without its required name (422) instead of an upsert for a partner
    /// no one enrolled (404).
    pub invalid: bool,
}

/// The reference model: the sliding window's accepted requests, on the model's own clock.
#[derive(Default, Debug)]
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

    fn operations() -> BoxedStrategy<Vec<Probe>> {
        let advance = prop_oneof![6 => Just(0u32), 1 => Just(20), 1 => Just(30), 1 => Just(60)];
        let probe = (advance, proptest::bool::weighted(0.3))
            .prop_map(|(advance, invalid)| Probe { advance, invalid });
        proptest::collection::vec(probe, 1..10).boxed()
    }

    fn request(ops: &[Probe], index: usize) -> Request {
        let base = Request::new("", "POST", "").header("Authorization", AUTH);
        if ops[index].invalid {
            return Request {
                operation_id: "createPartner",
                path: "/partners".into(),
                ..base
            }
            // Without the one required field (email); name and username became optional.
            .json(json!({"programId": PROGRAM, "name": "No Email"}));
        }
        Request {
            operation_id: "upsertPartnerLink",
            method: "PUT",
            path: "/partners/links/upsert".into(),
            ..base
        }
        .json(json!({
            "partnerId": "pn_nobody",
            "programId": PROGRAM,
            "url": "https://understudy.example/page0",
        }))
    }

    fn predict(model: &mut RateModel, ops: &[Probe], index: usize) -> Option<u16> {
        let probe = &ops[index];
        model.now += probe.advance;
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
        Some(match (allowed, probe.invalid) {
            (false, _) => 429,
            (true, true) => 422,
            (true, false) => 404,
        })
    }

    fn check(
        model: &RateModel,
        _ops: &[Probe],
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

    fn before(ops: &[Probe], index: usize) -> Option<AdminCall> {
        let seconds = ops[index].advance;
        (seconds > 0).then(|| AdminCall {
            method: "POST",
            path: "/clock/advance".into(),
            body: json!({ "seconds": seconds }),
        })
    }

    fn canonical() -> Vec<Probe> {
        let probe = |advance, invalid| Probe { advance, invalid };
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
