//! Archera's error bodies: `ApiErrorResponse` (with an ISO timestamp) and, for request-schema
//! failures, flask-smorest's `{code, status, message, errors}`.

use std::collections::BTreeMap;

use axum::http::StatusCode;
use serde_json::{Value, json};

use crate::clock::rfc3339;
use crate::pipeline::{Envelope, Rejection, Reply};
use crate::spec::{Place, Violation};
use crate::vendors::Context;

crate::error_codes! {
    /// The `type` of an `ApiErrorResponse` (the error class's name).
    pub enum ArcheraKind {
        BadRequest = "BadRequest",
        Unauthorized = "Unauthorized",
        Forbidden = "Forbidden",
        NotFound = "NotFound",
        MethodNotAllowed = "MethodNotAllowed",
        Conflict = "Conflict",
        TooManyRequests = "TooManyRequests",
        InternalServerError = "InternalServerError",
        InjectedFault = "InjectedFault",
    }
}

/// Flask's answer for a URL no route matches.
const NOT_FOUND: &str = "The requested URL was not found on the server.";

/// A 422 body's `errors`: location (`json`, `query`) → field → messages.
type FieldErrors = BTreeMap<String, BTreeMap<String, Vec<String>>>;

/// One Archera failure.
#[derive(Clone, Debug, PartialEq)]
pub enum ArcheraError {
    /// An `ApiErrorResponse`.
    Api {
        /// The status.
        status: StatusCode,
        /// The `type` field.
        kind: ArcheraKind,
        /// The human message.
        message: String,
    },
    /// A 422 request-schema failure, in flask-smorest's shape.
    Unprocessable(FieldErrors),
}

impl ArcheraError {
    /// 403: the org is neither the key's partner org nor one of its children.
    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::new(
            StatusCode::FORBIDDEN,
            ArcheraKind::Forbidden,
            message.into(),
        )
    }

    /// 404: the named thing does not exist.
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, ArcheraKind::NotFound, message.into())
    }

    /// 409: the request collides with existing state.
    pub fn conflict(message: impl Into<String>) -> Self {
        Self::new(StatusCode::CONFLICT, ArcheraKind::Conflict, message.into())
    }

    /// 422 for rule failures the schema cannot express: each field with its message, under
    /// `location` (`json`, `query`), as flask-smorest reports them.
    pub fn unprocessable_fields<'a>(
        location: &str,
        fields: impl IntoIterator<Item = (&'a str, &'a str)>,
    ) -> Self {
        let fields = fields
            .into_iter()
            .map(|(field, message)| (field.to_string(), vec![message.to_string()]))
            .collect();
        ArcheraError::Unprocessable(BTreeMap::from([(location.to_string(), fields)]))
    }

    /// 422 for one field.
    pub fn unprocessable(location: &str, field: &str, message: impl std::fmt::Display) -> Self {
        Self::unprocessable_fields(location, [(field, message.to_string().as_str())])
    }

    /// 422 for schema violations, grouped by location and field.
    fn invalid(violations: &[Violation]) -> Self {
        let mut errors = FieldErrors::new();
        for v in violations {
            let location = match v.place {
                Place::Query => "query",
                Place::Header => "headers",
                _ => "json",
            };
            let field = match v.dotted_path() {
                path if path.is_empty() => "_schema".to_string(),
                path => path,
            };
            let messages = errors.entry(location.into()).or_default().entry(field);
            messages.or_default().push(v.message.clone());
        }
        ArcheraError::Unprocessable(errors)
    }
}

impl Envelope for ArcheraError {
    type Code = ArcheraKind;

    fn new(status: StatusCode, kind: ArcheraKind, message: String) -> Self {
        ArcheraError::Api {
            status,
            kind,
            message,
        }
    }

    fn refused(r: &Rejection, _cx: &Context<'_>) -> Self {
        use ArcheraKind::*;
        match r {
            Rejection::MissingCredentials | Rejection::MalformedCredentials(_) => r.error(
                Unauthorized,
                "Missing API key: send it in the x-api-key header.",
            ),
            Rejection::UnknownCredentials => r.error(Unauthorized, "Invalid API key."),
            Rejection::Forbidden(message) => Self::forbidden(message),
            Rejection::UnknownPath => Self::not_found(NOT_FOUND),
            Rejection::MethodNotAllowed { .. } => r.error(
                MethodNotAllowed,
                "The method is not allowed for the requested URL.",
            ),
            Rejection::UnsupportedMediaType(_)
            | Rejection::MalformedJson(_)
            | Rejection::BodyTooLarge
            | Rejection::UnreadableBody(_) => r.error(
                BadRequest,
                "The browser (or proxy) sent a request that this server could not understand.",
            ),
            Rejection::MissingBody => {
                Self::unprocessable("json", "_schema", "Missing data for required field.")
            }
            // A path segment that is not a valid id matches no Flask route: 404, not 422.
            Rejection::Invalid(violations) if violations.iter().any(|v| v.place == Place::Path) => {
                Self::not_found(NOT_FOUND)
            }
            Rejection::Invalid(violations) => Self::invalid(violations),
            Rejection::Internal(message) => r.error(InternalServerError, message),
            Rejection::RateLimited => r.error(TooManyRequests, "Too many requests"),
            Rejection::CapacityExceeded => {
                Self::conflict("The fake's limit of stored organizations is reached")
            }
            // flask-smorest's shape, whose `errors` may be empty.
            Rejection::Forced(StatusCode::UNPROCESSABLE_ENTITY) => {
                ArcheraError::Unprocessable(FieldErrors::new())
            }
            Rejection::Forced(_) => r.error(InjectedFault, "Injected fault"),
        }
    }

    /// The clock's time is the timestamp.
    fn reply(self, cx: &Context<'_>) -> Reply {
        match self {
            ArcheraError::Api {
                status,
                kind,
                message,
            } => {
                let body = json!({
                    "message": message,
                    "detail": Value::Null,
                    "code": Value::Null,
                    "url": Value::Null,
                    "timestamp": rfc3339(cx.now),
                    "type": kind.as_str(),
                });
                Reply::json(status, body)
            }
            ArcheraError::Unprocessable(errors) => Reply::json(
                StatusCode::UNPROCESSABLE_ENTITY,
                json!({"code": 422, "status": "Unprocessable Entity", "errors": errors}),
            ),
        }
    }
}
