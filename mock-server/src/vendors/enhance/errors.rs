//! Enhance's error body `{code, detail, message}`, one constructor per status.

use axum::http::StatusCode;
use serde_json::json;

use crate::pipeline::{Rejection, Reply};

/// One Enhance failure.
#[derive(Clone, Debug, PartialEq)]
pub struct EnhanceError {
    status: StatusCode,
    code: &'static str,
    detail: Option<String>,
    message: String,
}

impl EnhanceError {
    fn new(
        status: StatusCode,
        code: &'static str,
        detail: Option<String>,
        message: impl Into<String>,
    ) -> Self {
        EnhanceError {
            status,
            code,
            detail,
            message: message.into(),
        }
    }

    /// 400: a parameter or the body is invalid; `detail` names the field.
    pub fn bad_request(detail: Option<String>, message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "bad_request", detail, message)
    }

    /// 401: no valid session or token.
    pub fn invalid_session() -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "invalid_session",
            None,
            "Invalid session",
        )
    }

    /// 403: the caller's role does not allow this.
    pub fn insufficient_privileges(message: impl Into<String>) -> Self {
        Self::new(
            StatusCode::FORBIDDEN,
            "insufficient_privileges",
            None,
            message,
        )
    }

    /// 404: the named kind of entity (`org`, `plan` …) does not exist.
    pub fn not_found(kind: &str) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "not_found",
            Some(kind.to_string()),
            "Not found",
        )
    }

    /// 409: an entity of this kind already exists.
    pub fn already_exists(kind: &str) -> Self {
        Self::new(
            StatusCode::CONFLICT,
            "already_exists",
            Some(kind.to_string()),
            "Already exists",
        )
    }

    /// 409: the reseller's own subscription has no quota left for `resource`.
    pub fn quota_exceeded(resource: &str) -> Self {
        Self::new(
            StatusCode::CONFLICT,
            "quota_exceeded",
            Some(resource.to_string()),
            format!("The reseller subscription has no quota left for {resource}"),
        )
    }

    /// The envelope for a generic stage's refusal.
    pub fn from_rejection(rejection: &Rejection) -> Self {
        match rejection {
            Rejection::MissingCredentials
            | Rejection::MalformedCredentials(_)
            | Rejection::UnknownCredentials => Self::invalid_session(),
            Rejection::Forbidden(message) => Self::insufficient_privileges(message.clone()),
            Rejection::UnknownPath => Self::not_found("route"),
            Rejection::MethodNotAllowed { .. } => Self::new(
                StatusCode::METHOD_NOT_ALLOWED,
                "bad_request",
                None,
                "Method not allowed",
            ),
            Rejection::UnsupportedMediaType(ct) => {
                Self::bad_request(None, format!("Unsupported content type {ct}"))
            }
            Rejection::MissingBody => Self::bad_request(None, "A JSON body is required"),
            Rejection::MalformedJson(detail) => {
                Self::bad_request(None, format!("Invalid JSON: {detail}"))
            }
            Rejection::BodyTooLarge => Self::bad_request(None, "The request body is too large"),
            Rejection::UnreadableBody(detail) => Self::bad_request(None, detail.clone()),
            Rejection::Invalid(_) => match rejection.first_violation() {
                Some(first) => Self::bad_request(Some(first.dotted_path()), first.message.clone()),
                None => Self::bad_request(None, "Invalid input"),
            },
            Rejection::Internal(detail) => Self::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "bad_request",
                None,
                detail.clone(),
            ),
            Rejection::CapacityExceeded => Self::new(
                StatusCode::CONFLICT,
                "quota_exceeded",
                None,
                "The fake's limit of stored resources is reached",
            ),
            Rejection::RateLimited => Self::new(
                StatusCode::TOO_MANY_REQUESTS,
                "bad_request",
                None,
                "Too many requests",
            ),
            Rejection::Forced(status) => match status.as_u16() {
                401 => Self::invalid_session(),
                403 => Self::insufficient_privileges("Injected fault"),
                404 => Self::not_found("resource"),
                409 => Self::already_exists("resource"),
                _ => Self::new(*status, "bad_request", None, "Injected fault"),
            },
        }
    }

    /// Renders the error.
    pub fn reply(self) -> Reply {
        let mut body = json!({"code": self.code, "message": self.message});
        if let Some(detail) = self.detail.filter(|d| !d.is_empty()) {
            body["detail"] = json!(detail);
        }
        Reply::json(self.status, body)
    }
}
