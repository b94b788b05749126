//! Dub's error envelope `{"error": {code, message, doc_url}}`, one constructor per status.

use axum::http::StatusCode;
use serde_json::json;

use crate::pipeline::{Rejection, Reply};
use crate::spec::Violation;

/// One Dub failure.
#[derive(Clone, Debug, PartialEq)]
pub struct DubError {
    status: StatusCode,
    code: &'static str,
    message: String,
}

impl DubError {
    fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        DubError {
            status,
            code,
            message: message.into(),
        }
    }

    /// 400 `bad_request`.
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "bad_request", message)
    }

    /// 401 `unauthorized`.
    pub fn unauthorized(message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "unauthorized", message)
    }

    /// 403 `forbidden`.
    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, "forbidden", message)
    }

    /// 404 `not_found`.
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "not_found", message)
    }

    /// 409 `conflict`.
    pub fn conflict(message: impl Into<String>) -> Self {
        Self::new(StatusCode::CONFLICT, "conflict", message)
    }

    /// 422 `unprocessable_entity`, with zod's `<issue>: <path>: <message>` text.
    pub fn unprocessable(message: impl Into<String>) -> Self {
        Self::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "unprocessable_entity",
            message,
        )
    }

    /// 500 `internal_server_error`.
    pub fn internal() -> Self {
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal_server_error",
            "An internal server error occurred. Please contact our support if the problem persists.",
        )
    }

    /// The envelope for a generic stage's refusal.
    pub fn from_rejection(rejection: &Rejection) -> Self {
        const BODY_TOO_LARGE: &str = "The request body is too large.";
        const INVALID_JSON: &str = "Invalid JSON format in request body. Please ensure the request body is a valid JSON object.";
        match rejection {
            Rejection::MissingCredentials => Self::unauthorized("Missing Authorization header."),
            Rejection::MalformedCredentials(_) => Self::bad_request(
                "Misconfigured authorization header. Did you forget to add 'Bearer '? Learn more: https://d.to/auth",
            ),
            Rejection::UnknownCredentials => Self::unauthorized("Unauthorized: Invalid API key."),
            Rejection::Forbidden(message) => Self::forbidden(message.clone()),
            Rejection::UnknownPath => Self::not_found("The requested endpoint does not exist."),
            Rejection::MethodNotAllowed { .. } => Self::new(
                StatusCode::METHOD_NOT_ALLOWED,
                "bad_request",
                "Method not allowed.",
            ),
            Rejection::UnsupportedMediaType(_)
            | Rejection::MissingBody
            | Rejection::MalformedJson(_) => Self::bad_request(INVALID_JSON),
            Rejection::BodyTooLarge => Self::bad_request(BODY_TOO_LARGE),
            Rejection::UnreadableBody(detail) => Self::bad_request(detail.clone()),
            Rejection::Invalid(_) => Self::unprocessable(
                rejection
                    .first_violation()
                    .map(zod_message)
                    .unwrap_or_default(),
            ),
            Rejection::Internal(_) => Self::internal(),
            Rejection::RateLimited => Self::for_status(StatusCode::TOO_MANY_REQUESTS),
            // Dub's answer when a workspace reaches a plan limit.
            Rejection::CapacityExceeded => Self::new(
                StatusCode::FORBIDDEN,
                "exceeded_limit",
                "You have reached the fake's limit of stored resources for this workspace.",
            ),
            Rejection::Forced(status) => Self::for_status(*status),
        }
    }

    /// The error Dub sends with `status`, with its code and a generic message.
    pub fn for_status(status: StatusCode) -> Self {
        let (code, message) = match status.as_u16() {
            400 => ("bad_request", "Bad request."),
            401 => ("unauthorized", "Unauthorized: Invalid API key."),
            403 => ("forbidden", "Forbidden."),
            404 => ("not_found", "Not found."),
            409 => ("conflict", "Conflict."),
            410 => ("invite_expired", "Invite expired."),
            422 => ("unprocessable_entity", "Unprocessable entity."),
            429 => ("rate_limit_exceeded", "Too many requests."),
            _ => return Self::internal(),
        };
        Self::new(status, code, message)
    }

    /// Dub's `doc_url`: its code replaces only the FIRST underscore (`#rate-limit_exceeded`).
    fn doc_url(&self) -> String {
        format!(
            "https://dub.co/docs/api-reference/errors#{}",
            self.code.replacen('_', "-", 1)
        )
    }

    /// Renders the error.
    pub fn reply(self) -> Reply {
        // Dub answers a wrong method (Next.js route handlers) with an empty 405.
        if self.status == StatusCode::METHOD_NOT_ALLOWED {
            return Reply::empty(self.status);
        }
        let doc_url = self.doc_url();
        Reply::json(
            self.status,
            json!({"error": {"code": self.code, "message": self.message, "doc_url": doc_url}}),
        )
    }
}

/// Renders a schema violation the way Dub's zod error formatter does: the issue code, the path
/// in object notation, and the message.
pub fn zod_message(v: &Violation) -> String {
    let (issue, message) = match v.keyword.as_str() {
        "required" => ("invalid_type", "Required".to_string()),
        "type" => ("invalid_type", v.message.clone()),
        "minLength" | "minimum" | "minItems" => ("too_small", v.message.clone()),
        "maxLength" | "maximum" | "maxItems" => ("too_big", v.message.clone()),
        "enum" | "const" => ("invalid_enum_value", v.message.clone()),
        "format" if v.message.contains("email") => ("invalid_string", "Invalid email".to_string()),
        "format" => ("invalid_string", "Invalid url".to_string()),
        "pattern" => ("invalid_string", "Invalid".to_string()),
        "oneOf" | "anyOf" => ("invalid_union", "Invalid input".to_string()),
        _ => ("custom", v.message.clone()),
    };
    let path = v.dotted_path();
    if path.is_empty() {
        format!("{issue}: {message}")
    } else {
        format!("{issue}: {path}: {message}")
    }
}
