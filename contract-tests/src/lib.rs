//! The contract-testing harness: drives two backends (the Understudy fake, a real vendor, any URL)
//! through the same generated scenarios and reports the first step where they diverge from the
//! spec, from the reference model, or from each other.

#![warn(missing_docs)]

pub mod backend;
pub mod conformance;
pub mod exchange;
pub mod fixtures;
pub mod normalise;
pub mod reach;
pub mod report;
pub mod run;
pub mod scenario;
pub mod targets;
pub mod twist;
pub mod vendors;

pub use backend::{
    AdminCall, Backend, BackendError, Capabilities, CaseIsolation, FakeBackend, HttpBackend,
};
pub use exchange::{Exchange, Request};
pub use fixtures::{RecordingBackend, ReplayBackend};
pub use run::{Failure, RunConfig, RunReport, run};
pub use scenario::{Case, Prediction, Prior, Scenario, Step, Twist};
pub use understudy::spec::SpecSet;
