//! Archera's error bodies: `ApiErrorResponse` (with an ISO timestamp) and, for request-schema
//! failures, flask-smorest's `{code, status, message, errors}`.

use std::collections::BTreeMap;

use axum::http::StatusCode;
use serde_json::{Value, json};

use super::super::Context;
use crate::clock::rfc3339;
use crate::pipeline::{Rejection, Reply};
use crate::spec::Place;

/// One Archera failure.
#[derive(Clone, Debug, PartialEq)]
pub enum ArcheraError {
    /// An `ApiErrorResponse`.
    Api {
        /// The status.
        status: StatusCode,
        /// The `type` field (the error class name).
        kind: &'static str,
        /// The human message.
        message: String,
    },
    /// A 422 request-schema failure: location (`json`, `query`) → field → messages.
    Unprocessable(BTreeMap<String, BTreeMap<String, Vec<String>>>),
}

impl ArcheraError {
    fn api(status: StatusCode, kind: &'static str, message: impl Into<String>) -> Self {
        ArcheraError::Api {
            status,
            kind,
            message: message.into(),
        }
    }

    /// 403: the org is neither the key's partner org nor one of its children.
    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::api(StatusCode::FORBIDDEN, "Forbidden", message)
    }

    /// 404: the named thing does not exist.
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::api(StatusCode::NOT_FOUND, "NotFound", message)
    }

    /// 409: the request collides with existing state.
    pub fn conflict(message: impl Into<String>) -> Self {
        Self::api(StatusCode::CONFLICT, "Conflict", message)
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

    /// The envelope for a generic stage's refusal.
    pub fn from_rejection(rejection: &Rejection) -> Self {
        match rejection {
            Rejection::MissingCredentials | Rejection::MalformedCredentials(_) => Self::api(
                StatusCode::UNAUTHORIZED,
                "Unauthorized",
                "Missing API key: send it in the x-api-key header.",
            ),
            Rejection::UnknownCredentials => {
                Self::api(StatusCode::UNAUTHORIZED, "Unauthorized", "Invalid API key.")
            }
            Rejection::Forbidden(message) => Self::forbidden(message.clone()),
            Rejection::UnknownPath => {
                Self::not_found("The requested URL was not found on the server.")
            }
            Rejection::MethodNotAllowed { .. } => ArcheraError::Api {
                status: StatusCode::METHOD_NOT_ALLOWED,
                kind: "MethodNotAllowed",
                message: "The method is not allowed for the requested URL.".into(),
            },
            Rejection::UnsupportedMediaType(_)
            | Rejection::MalformedJson(_)
            | Rejection::BodyTooLarge
            | Rejection::UnreadableBody(_) => Self::api(
                StatusCode::BAD_REQUEST,
                "BadRequest",
                "The browser (or proxy) sent a request that this server could not understand.",
            ),
            Rejection::MissingBody => ArcheraError::Unprocessable(BTreeMap::from([(
                "json".to_string(),
                BTreeMap::from([(
                    "_schema".to_string(),
                    vec!["Missing data for required field.".to_string()],
                )]),
            )])),
            // A path segment that is not a valid id matches no Flask route: 404, not 422.
            Rejection::Invalid(violations) if violations.iter().any(|v| v.place == Place::Path) => {
                Self::not_found("The requested URL was not found on the server.")
            }
            Rejection::Invalid(violations) => {
                let mut errors: BTreeMap<String, BTreeMap<String, Vec<String>>> = BTreeMap::new();
                for v in violations {
                    let location = match v.place {
                        Place::Query => "query",
                        Place::Header => "headers",
                        _ => "json",
                    };
                    let field = if v.dotted_path().is_empty() {
                        "_schema".to_string()
                    } else {
                        v.dotted_path()
                    };
                    errors
                        .entry(location.into())
                        .or_default()
                        .entry(field)
                        .or_default()
                        .push(v.message.clone());
                }
                ArcheraError::Unprocessable(errors)
            }
            Rejection::Internal(message) => Self::api(
                StatusCode::INTERNAL_SERVER_ERROR,
                "InternalServerError",
                message.clone(),
            ),
            Rejection::RateLimited => Self::api(
                StatusCode::TOO_MANY_REQUESTS,
                "TooManyRequests",
                "Too many requests",
            ),
            Rejection::CapacityExceeded => {
                Self::conflict("The fake's limit of stored organizations is reached")
            }
            // flask-smorest's shape, whose `errors` may be empty.
            Rejection::Forced(StatusCode::UNPROCESSABLE_ENTITY) => {
                ArcheraError::Unprocessable(BTreeMap::new())
            }
            Rejection::Forced(status) => Self::api(*status, "InjectedFault", "Injected fault"),
        }
    }

    /// Renders the error with the clock's time as its timestamp.
    pub fn reply(self, cx: &Context<'_>) -> Reply {
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
                    "type": kind,
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
