//! The reasons the generic stages refuse a request. Each vendor renders them in its own
//! envelope and with its own status (see [`crate::vendors::Vendor::reject`]).

use axum::http::{Method, StatusCode};

use crate::spec::Violation;

/// Why a request did not reach its vendor handler.
#[derive(Clone, Debug, PartialEq)]
pub enum Rejection {
    /// No credential of the vendor's scheme was sent.
    MissingCredentials,
    /// A credential was sent in a form the vendor does not accept (e.g. `Authorization: Basic`).
    MalformedCredentials(String),
    /// The credential is not one the fake knows.
    UnknownCredentials,
    /// The credential is known but lacks the right the operation needs.
    Forbidden(String),
    /// No route of this vendor matches the path.
    UnknownPath,
    /// The path exists but not with this method.
    MethodNotAllowed {
        /// The methods the path does serve.
        allowed: Vec<Method>,
    },
    /// The body is not of a media type the operation accepts.
    UnsupportedMediaType(String),
    /// The operation needs a body and none was sent.
    MissingBody,
    /// The body is not well-formed JSON.
    MalformedJson(String),
    /// The body is larger than the fake reads.
    BodyTooLarge,
    /// The body could not be read: its framing is broken (a bad chunk size), the connection
    /// closed before its end, or it did not arrive within `connections.body_read_timeout_ms`.
    /// None of the vendors documents 408 or 413, so each answers its malformed-request 400.
    UnreadableBody(String),
    /// Parameters or body break the operation's schemas.
    Invalid(Vec<Violation>),
    /// The fake itself failed (e.g. a strict response check): a 500 in the vendor's envelope.
    Internal(String),
    /// The caller's rate limit is spent: a 429 (the pipeline adds the rate-limit headers).
    RateLimited,
    /// The vendor's store holds as many resources as it is allowed to: a create is refused with
    /// the vendor's own "limit reached" status.
    CapacityExceeded,
    /// A status forced by fault injection, rendered in the vendor's envelope.
    Forced(StatusCode),
}

impl Rejection {
    /// The first violation, for vendors that report only one (zod, flask-smorest…).
    pub fn first_violation(&self) -> Option<&Violation> {
        match self {
            Rejection::Invalid(v) => v.first(),
            _ => None,
        }
    }
}
