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

// The public surface: the embedding API at the root, and the modules a user reads or
// configures. Everything else is the pipeline's and the vendors' own, `pub(crate)`.
pub mod admin;
pub(crate) mod clock;
pub mod config;
pub(crate) mod connections;
pub(crate) mod document;
pub(crate) mod durable;
mod fake;
pub mod faults;
pub mod fixtures;
pub(crate) mod ids;
pub(crate) mod journal;
pub mod mutants;
pub(crate) mod persistence;
pub(crate) mod pipeline;
pub(crate) mod rate_limit;
pub mod redaction;
pub mod server;
pub mod spec;
mod vendor_id;
pub(crate) mod vendors;
pub(crate) mod worlds;

pub use clock::ClockError;
pub use connections::ConnectionLimits;
pub use fake::{Fake, FakeBuilder, FakeWorld, JournalQuery};
pub use journal::{Entry, Message};
pub use pipeline::{Mount, Reply, VIOLATION_HEADER, check};
pub use vendor_id::{UnknownVendor, VendorId};
pub use vendors::{OperationMismatch, StateStore};
pub use worlds::{WorldError, WorldLimits, WorldName};
