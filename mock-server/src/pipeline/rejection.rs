//! The reasons the generic stages refuse a request. Each vendor renders them in its own
//! envelope and with its own status (see [`crate::pipeline::Envelope`]).

use axum::http::{Method, StatusCode};

use super::Envelope;
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
    /// The status the generic stages give the rejection: 401 for credentials, 403, 404, 405, 400
    /// for a request that cannot be read or breaks its schemas, 500, 429, 409 for a full store,
    /// and the forced status. A vendor that documents another status for a kind (Dub's 400 for a
    /// malformed header, its and Archera's 422s) says so in its table ([`Envelope::refused`]).
    pub fn status(&self) -> StatusCode {
        match self {
            Rejection::MissingCredentials
            | Rejection::MalformedCredentials(_)
            | Rejection::UnknownCredentials => StatusCode::UNAUTHORIZED,
            Rejection::Forbidden(_) => StatusCode::FORBIDDEN,
            Rejection::UnknownPath => StatusCode::NOT_FOUND,
            Rejection::MethodNotAllowed { .. } => StatusCode::METHOD_NOT_ALLOWED,
            Rejection::UnsupportedMediaType(_)
            | Rejection::MissingBody
            | Rejection::MalformedJson(_)
            | Rejection::BodyTooLarge
            | Rejection::UnreadableBody(_)
            | Rejection::Invalid(_) => StatusCode::BAD_REQUEST,
            Rejection::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
            Rejection::RateLimited => StatusCode::TOO_MANY_REQUESTS,
            Rejection::CapacityExceeded => StatusCode::CONFLICT,
            Rejection::Forced(status) => *status,
        }
    }

    /// The first violation, for vendors that report only one (zod, Enhance).
    pub fn first_violation(&self) -> Option<&Violation> {
        match self {
            Rejection::Invalid(v) => v.first(),
            _ => None,
        }
    }

    /// The vendor's error with `code` and `message`, at the generic status.
    pub fn error<E: Envelope>(&self, code: E::Code, message: impl Into<String>) -> E {
        E::new(self.status(), code, message.into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::Place;

    #[test]
    fn the_generic_status_and_the_first_violation_come_from_the_rejection() {
        assert_eq!(
            Rejection::UnknownCredentials.status(),
            StatusCode::UNAUTHORIZED
        );
        assert_eq!(
            Rejection::Forbidden("plan".into()).status(),
            StatusCode::FORBIDDEN
        );
        assert_eq!(Rejection::CapacityExceeded.status(), StatusCode::CONFLICT);
        assert_eq!(
            Rejection::Forced(StatusCode::GONE).status(),
            StatusCode::GONE
        );
        let first = Violation::new(Place::Query, Some("a"), "required", "is required");
        let second = Violation::new(Place::Body, None, "type", "is not a string");
        let invalid = Rejection::Invalid(vec![first.clone(), second]);
        assert_eq!(invalid.status(), StatusCode::BAD_REQUEST);
        assert_eq!(invalid.first_violation(), Some(&first));
        assert_eq!(Rejection::MissingBody.first_violation(), None);
    }
}
