//! Enhance's error body `{code, detail, message}`, one constructor per status.

use axum::http::StatusCode;
use serde_json::json;

use crate::pipeline::{Envelope, Rejection, Reply};
use crate::vendors::Context;

crate::error_codes! {
    /// The codes orchd's `HttpError` carries.
    pub enum EnhanceCode {
        BadRequest = "bad_request",
        InvalidSession = "invalid_session",
        InsufficientPrivileges = "insufficient_privileges",
        NotFound = "not_found",
        AlreadyExists = "already_exists",
        QuotaExceeded = "quota_exceeded",
    }
}

/// One Enhance failure.
#[derive(Clone, Debug, PartialEq)]
pub struct EnhanceError {
    status: StatusCode,
    code: EnhanceCode,
    detail: Option<String>,
    message: String,
}

impl EnhanceError {
    /// The error with a `detail` naming what it is about.
    fn detailed(status: StatusCode, code: EnhanceCode, detail: &str, message: &str) -> Self {
        let detail = Some(detail.to_string());
        EnhanceError {
            detail,
            ..Self::new(status, code, message.into())
        }
    }

    /// 400: a parameter or the body is invalid; `detail` names the field.
    pub fn bad_request(detail: Option<String>, message: impl Into<String>) -> Self {
        EnhanceError {
            detail,
            ..Self::new(
                StatusCode::BAD_REQUEST,
                EnhanceCode::BadRequest,
                message.into(),
            )
        }
    }

    /// 401: no valid session or token.
    pub fn invalid_session() -> Self {
        let code = EnhanceCode::InvalidSession;
        Self::new(StatusCode::UNAUTHORIZED, code, "Invalid session".into())
    }

    /// 403: the caller's role does not allow this.
    pub fn insufficient_privileges(message: impl Into<String>) -> Self {
        let code = EnhanceCode::InsufficientPrivileges;
        Self::new(StatusCode::FORBIDDEN, code, message.into())
    }

    /// 404: the named kind of entity (`org`, `plan` …) does not exist.
    pub fn not_found(kind: &str) -> Self {
        Self::detailed(
            StatusCode::NOT_FOUND,
            EnhanceCode::NotFound,
            kind,
            "Not found",
        )
    }

    /// 409: an entity of this kind already exists.
    pub fn already_exists(kind: &str) -> Self {
        let code = EnhanceCode::AlreadyExists;
        Self::detailed(StatusCode::CONFLICT, code, kind, "Already exists")
    }

    /// 409: the reseller's own subscription has no quota left for `resource`.
    pub fn quota_exceeded(resource: &str) -> Self {
        let message = format!("The reseller subscription has no quota left for {resource}");
        Self::detailed(
            StatusCode::CONFLICT,
            EnhanceCode::QuotaExceeded,
            resource,
            &message,
        )
    }
}

impl Envelope for EnhanceError {
    type Code = EnhanceCode;

    fn new(status: StatusCode, code: EnhanceCode, message: String) -> Self {
        EnhanceError {
            status,
            code,
            detail: None,
            message,
        }
    }

    fn refused(r: &Rejection, _cx: &Context<'_>) -> Self {
        use EnhanceCode::*;
        let bad_request = |message: String| Self::bad_request(None, message);
        match r {
            Rejection::MissingCredentials
            | Rejection::MalformedCredentials(_)
            | Rejection::UnknownCredentials => Self::invalid_session(),
            Rejection::Forbidden(message) => Self::insufficient_privileges(message),
            Rejection::UnknownPath => Self::not_found("route"),
            Rejection::MethodNotAllowed { .. } => r.error(BadRequest, "Method not allowed"),
            Rejection::UnsupportedMediaType(ct) => {
                bad_request(format!("Unsupported content type {ct}"))
            }
            Rejection::MissingBody => bad_request("A JSON body is required".into()),
            Rejection::MalformedJson(detail) => bad_request(format!("Invalid JSON: {detail}")),
            Rejection::BodyTooLarge => bad_request("The request body is too large".into()),
            Rejection::UnreadableBody(detail) => bad_request(detail.clone()),
            Rejection::Invalid(_) => match r.first_violation() {
                Some(first) => Self::bad_request(Some(first.dotted_path()), first.message.clone()),
                None => bad_request("Invalid input".into()),
            },
            Rejection::Internal(detail) => r.error(BadRequest, detail),
            Rejection::CapacityExceeded => r.error(
                QuotaExceeded,
                "The fake's limit of stored resources is reached",
            ),
            Rejection::RateLimited => r.error(BadRequest, "Too many requests"),
            Rejection::Forced(status) => match status.as_u16() {
                401 => Self::invalid_session(),
                403 => Self::insufficient_privileges("Injected fault"),
                404 => Self::not_found("resource"),
                409 => Self::already_exists("resource"),
                _ => r.error(BadRequest, "Injected fault"),
            },
        }
    }

    fn reply(self, _cx: &Context<'_>) -> Reply {
        let mut body = json!({"code": self.code.as_str(), "message": self.message});
        if let Some(detail) = self.detail.filter(|d| !d.is_empty()) {
            body["detail"] = json!(detail);
        }
        Reply::json(self.status, body)
    }
}
