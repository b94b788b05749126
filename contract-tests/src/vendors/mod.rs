//! Each vendor's scenarios, and the dispatch from a vendor's name to its runner.

pub mod archera;
pub mod cloudcockpit;
pub mod confluent;
pub mod dub;
pub mod dub_rate_limit;
pub mod enhance;

use understudy::VendorId;

use crate::backend::Backend;
use crate::run::{RunConfig, RunError, RunReport, run};

/// Runs `vendor`'s scenarios on `primary`, compared with `other` when given. Dub runs its
/// partner scenarios, then (unless they failed) its rate-limit scenarios, each with
/// `config.cases` cases; the report sums them. A passing run is then finished on both
/// backends, so a replay reports recorded cases that were never replayed.
pub fn run_vendor(
    vendor: VendorId,
    primary: &dyn Backend,
    other: Option<&dyn Backend>,
    config: &RunConfig,
) -> Result<RunReport, RunError> {
    let report = match vendor {
        VendorId::Dub => {
            let partners = run::<dub::Dub>(primary, other, config)?;
            if partners.failure.is_some() {
                return Ok(partners);
            }
            // After the partner scenarios: the rate-limit setup leaves the small budget on.
            let limited = run::<dub_rate_limit::DubRateLimit>(primary, other, config)?;
            Ok(partners.followed_by(limited))
        }
        VendorId::Confluent => run::<confluent::Confluent>(primary, other, config),
        VendorId::Enhance => run::<enhance::Enhance>(primary, other, config),
        VendorId::Cloudcockpit => run::<cloudcockpit::CloudCockpit>(primary, other, config),
        VendorId::Archera => run::<archera::Archera>(primary, other, config),
    }?;
    let backends: Vec<&dyn Backend> = std::iter::once(primary).chain(other).collect();
    Ok(report.finished(&backends))
}
