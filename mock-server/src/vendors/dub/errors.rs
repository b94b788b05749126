//! Dub's error envelope `{"error": {code, message, doc_url}}`, one constructor per status.

use axum::http::StatusCode;
use serde_json::json;

use crate::pipeline::{Envelope, Rejection, Reply};
use crate::spec::Violation;
use crate::vendors::Context;

crate::error_codes! {
    /// Dub's documented error codes.
    pub enum DubCode {
        BadRequest = "bad_request",
        Unauthorized = "unauthorized",
        Forbidden = "forbidden",
        ExceededLimit = "exceeded_limit",
        NotFound = "not_found",
        Conflict = "conflict",
        InviteExpired = "invite_expired",
        UnprocessableEntity = "unprocessable_entity",
        RateLimitExceeded = "rate_limit_exceeded",
        InternalServerError = "internal_server_error",
    }
}

/// One Dub failure.
#[derive(Clone, Debug, PartialEq)]
pub struct DubError {
    status: StatusCode,
    code: DubCode,
    message: String,
}

impl DubError {
    /// 400 `bad_request`.
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, DubCode::BadRequest, message.into())
    }

    /// 404 `not_found`.
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, DubCode::NotFound, message.into())
    }

    /// 409 `conflict`.
    pub fn conflict(message: impl Into<String>) -> Self {
        Self::new(StatusCode::CONFLICT, DubCode::Conflict, message.into())
    }

    /// 422 `unprocessable_entity`, with zod's `<issue>: <path>: <message>` text.
    pub fn unprocessable(message: impl Into<String>) -> Self {
        let code = DubCode::UnprocessableEntity;
        Self::new(StatusCode::UNPROCESSABLE_ENTITY, code, message.into())
    }

    /// 500 `internal_server_error`.
    pub fn internal() -> Self {
        let code = DubCode::InternalServerError;
        Self::new(StatusCode::INTERNAL_SERVER_ERROR, code, INTERNAL.into())
    }

    /// The error Dub sends with `status`, with its code and a generic message.
    fn for_status(status: StatusCode) -> Self {
        use DubCode::*;
        let (code, message) = match status.as_u16() {
            400 => (BadRequest, "Bad request."),
            401 => (Unauthorized, "Unauthorized: Invalid API key."),
            403 => (Forbidden, "Forbidden."),
            404 => (NotFound, "Not found."),
            409 => (Conflict, "Conflict."),
            410 => (InviteExpired, "Invite expired."),
            422 => (UnprocessableEntity, "Unprocessable entity."),
            429 => (RateLimitExceeded, "Too many requests."),
            _ => return Self::internal(),
        };
        Self::new(status, code, message.into())
    }

    /// Dub's `doc_url`: its code replaces only the FIRST underscore (`#rate-limit_exceeded`).
    fn doc_url(&self) -> String {
        format!(
            "https://dub.co/docs/api-reference/errors#{}",
            self.code.as_str().replacen('_', "-", 1)
        )
    }
}

const INTERNAL: &str =
    "An internal server error occurred. Please contact our support if the problem persists.";
const INVALID_JSON: &str =
    "Invalid JSON format in request body. Please ensure the request body is a valid JSON object.";

impl Envelope for DubError {
    type Code = DubCode;

    fn new(status: StatusCode, code: DubCode, message: String) -> Self {
        DubError {
            status,
            code,
            message,
        }
    }

    fn refused(r: &Rejection, _cx: &Context<'_>) -> Self {
        use DubCode::*;
        match r {
            Rejection::MissingCredentials => r.error(Unauthorized, "Missing Authorization header."),
            Rejection::MalformedCredentials(_) => Self::bad_request(
                "Misconfigured authorization header. Did you forget to add 'Bearer '? Learn more: https://d.to/auth",
            ),
            Rejection::UnknownCredentials => {
                r.error(Unauthorized, "Unauthorized: Invalid API key.")
            }
            Rejection::Forbidden(message) => r.error(Forbidden, message),
            Rejection::UnknownPath => r.error(NotFound, "The requested endpoint does not exist."),
            Rejection::MethodNotAllowed { .. } => r.error(BadRequest, "Method not allowed."),
            Rejection::UnsupportedMediaType(_)
            | Rejection::MissingBody
            | Rejection::MalformedJson(_) => r.error(BadRequest, INVALID_JSON),
            Rejection::BodyTooLarge => r.error(BadRequest, "The request body is too large."),
            Rejection::UnreadableBody(detail) => r.error(BadRequest, detail),
            Rejection::Invalid(_) => {
                Self::unprocessable(r.first_violation().map(zod_message).unwrap_or_default())
            }
            Rejection::Internal(_) => Self::internal(),
            Rejection::RateLimited | Rejection::Forced(_) => Self::for_status(r.status()),
            // Dub's answer when a workspace reaches a plan limit.
            Rejection::CapacityExceeded => Self::new(
                StatusCode::FORBIDDEN,
                ExceededLimit,
                "You have reached the fake's limit of stored resources for this workspace.".into(),
            ),
        }
    }

    fn reply(self, _cx: &Context<'_>) -> Reply {
        // Dub answers a wrong method (Next.js route handlers) with an empty 405.
        if self.status == StatusCode::METHOD_NOT_ALLOWED {
            return Reply::empty(self.status);
        }
        let doc_url = self.doc_url();
        let error =
            json!({"code": self.code.as_str(), "message": self.message, "doc_url": doc_url});
        Reply::json(self.status, json!({ "error": error }))
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
