//! CloudCockpit's `ErrorResponse` envelope, one constructor per status.

use std::collections::BTreeMap;

use axum::http::StatusCode;
use serde_json::{Value, json};

use super::super::{Context, allow_header};
use crate::pipeline::{Rejection, Reply};

/// One CloudCockpit failure.
#[derive(Clone, Debug, PartialEq)]
pub struct CloudCockpitError {
    status: StatusCode,
    kind: &'static str,
    description: String,
    errors: Option<Vec<Value>>,
    allow: Option<String>,
}

impl CloudCockpitError {
    fn new(status: StatusCode, kind: &'static str, description: impl Into<String>) -> Self {
        CloudCockpitError {
            status,
            kind,
            description: description.into(),
            errors: None,
            allow: None,
        }
    }

    /// 404: the customer (or reseller) is unknown to the caller.
    pub fn not_found(description: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "NotFound", description)
    }

    /// The envelope for a generic stage's refusal.
    pub fn from_rejection(rejection: &Rejection) -> Self {
        match rejection {
            Rejection::MissingCredentials
            | Rejection::MalformedCredentials(_)
            | Rejection::UnknownCredentials => Self::new(
                StatusCode::UNAUTHORIZED,
                "Unauthorized",
                "The access token or tenant is missing or invalid.",
            ),
            Rejection::Forbidden(description) => {
                Self::new(StatusCode::FORBIDDEN, "Forbidden", description.clone())
            }
            Rejection::UnknownPath => Self::not_found("The requested resource does not exist."),
            Rejection::MethodNotAllowed { .. } => {
                let mut e = Self::new(
                    StatusCode::METHOD_NOT_ALLOWED,
                    "MethodNotAllowed",
                    "The method is not allowed on this resource.",
                );
                e.allow = allow_header(rejection);
                e
            }
            Rejection::UnsupportedMediaType(_)
            | Rejection::MissingBody
            | Rejection::MalformedJson(_) => Self::new(
                StatusCode::BAD_REQUEST,
                "ValidationError",
                "The request could not be read.",
            ),
            Rejection::Invalid(violations) => {
                // ASP.NET groups the messages per property.
                let mut grouped: BTreeMap<String, Vec<String>> = BTreeMap::new();
                for v in violations {
                    grouped
                        .entry(v.dotted_path())
                        .or_default()
                        .push(v.message.clone());
                }
                let mut e = Self::new(
                    StatusCode::BAD_REQUEST,
                    "ValidationError",
                    "One or more validation errors occurred.",
                );
                e.errors = Some(
                    grouped
                        .into_iter()
                        .map(|(name, messages)| json!({"propertyName": name, "description": messages}))
                        .collect(),
                );
                e
            }
            Rejection::Internal(detail) => Self::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "InternalServerError",
                detail.clone(),
            ),
            Rejection::RateLimited => Self::new(
                StatusCode::TOO_MANY_REQUESTS,
                "TooManyRequests",
                "Too many requests",
            ),
            Rejection::CapacityExceeded => Self::new(
                StatusCode::CONFLICT,
                "Conflict",
                "The fake's limit of stored resources is reached",
            ),
            Rejection::Forced(status) => Self::new(*status, "InjectedFault", "Injected fault"),
        }
    }

    /// Renders the error; `correlationId` echoes `X-Correlation-Id` or the request id.
    pub fn reply(self, cx: &Context<'_>) -> Reply {
        let correlation = cx
            .headers
            .get("x-correlation-id")
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
            .unwrap_or_else(|| cx.request_id.clone());
        let body = json!({
            "statusCode": self.status.as_u16(),
            "type": self.kind,
            "description": self.description,
            "correlationId": correlation,
            "errors": self.errors,
        });
        Reply::json(self.status, body).with_optional_header("Allow", self.allow)
    }
}
