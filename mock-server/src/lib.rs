#![recursion_limit = "256"]
#![deny(missing_docs)]
//! Understudy: a stateful fake of five vendors' partner-onboarding HTTP APIs.
//!
//! The vendors' OpenAPI documents in `specs/` drive everything generic: routing, request and
//! response validation, documented statuses. Each vendor module adds only its state and its
//! rules. Start it in-process with [`Fake`] (or [`server::start`]); the `understudy` binary is a
//! thin CLI over it.
//!
//! # Features
//! - `cli` (default): the `understudy` binary (clap, tracing-subscriber, mimalloc); implies
//!   `record`.
//! - `record` (default): the recording proxy ([`fixtures::record`]) and drift
//!   ([`fixtures::drift`]), which call real vendors through reqwest and rustls.
//!
//! An embedder of the fake sets `default-features = false` and compiles neither; importing,
//! linting and replaying fixtures stay available. A fake serving one vendor
//! ([`FakeBuilder::vendor`]) compiles only that vendor's spec at start.

pub mod admin;
pub mod clock;
pub mod config;
pub mod connections;
pub mod document;
pub mod durable;
mod fake;
pub mod faults;
pub mod fixtures;
pub mod ids;
pub mod journal;
pub mod mutants;
pub mod persistence;
pub mod pipeline;
pub mod rate_limit;
pub mod redaction;
pub mod server;
pub mod spec;
mod vendor_id;
pub mod vendors;
pub mod worlds;

pub use fake::{Fake, FakeBuilder, FakeWorld, JournalQuery};
pub use vendor_id::{UnknownVendor, VendorId};
pub use worlds::{WorldError, WorldName};
