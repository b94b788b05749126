//! Understudy: a stateful fake of five vendors' partner-onboarding HTTP APIs.
//!
//! The vendors' OpenAPI documents in `specs/` drive everything generic: routing, request and
//! response validation, error envelopes' statuses. Each vendor module adds only its state and its
//! rules.

pub mod spec;
mod vendor_id;

pub use vendor_id::{UnknownVendor, VendorId};
