//! The contract-testing harness: drives the Understudy fake and real vendors (or recordings of
//! them) through the same scenarios and reports where they diverge.
//!
//! It is built out in a later issue; today it only re-exports the fake's spec table, which the
//! harness's scenarios will be generated from.

pub use understudy::spec::SpecSet;
