//! The generic request pipeline: routing from the spec, credentials, request validation, the
//! vendor handler, response validation. See `DESIGN.md` for the order of the stages.

mod conforming;
mod envelope;
mod rejection;
mod reply;
mod request;
mod response;
mod router;

pub use conforming::ConformingBodies;
pub use envelope::{Envelope, reject};
pub use rejection::Rejection;
pub use reply::Reply;
pub use request::{RawRequest, ValidatedRequest, cookies, validate};
pub use response::{VIOLATION_HEADER, check, check_remembering};
pub use router::{App, Mount, router};
