//! Each vendor's scenarios, and the dispatch from a vendor's name to its runner.

pub mod archera;
pub mod cloudcockpit;
pub mod confluent;
pub mod dub;
pub mod enhance;

use understudy::VendorId;

use crate::backend::Backend;
use crate::run::{RunConfig, RunError, RunReport, run};

/// Runs `vendor`'s scenarios on `primary`, compared with `other` when given.
pub fn run_vendor(
    vendor: VendorId,
    primary: &dyn Backend,
    other: Option<&dyn Backend>,
    config: &RunConfig,
) -> Result<RunReport, RunError> {
    match vendor {
        VendorId::Dub => run::<dub::Dub>(primary, other, config),
        VendorId::Confluent => run::<confluent::Confluent>(primary, other, config),
        VendorId::Enhance => run::<enhance::Enhance>(primary, other, config),
        VendorId::Cloudcockpit => run::<cloudcockpit::CloudCockpit>(primary, other, config),
        VendorId::Archera => run::<archera::Archera>(primary, other, config),
    }
}
