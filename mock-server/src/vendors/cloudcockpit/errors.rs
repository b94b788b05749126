//! CloudCockpit's `ErrorResponse` envelope, one constructor per status, and the bare 401
//! challenge ASP.NET Core's JWT bearer authentication answers before the API's own code runs.

use std::collections::BTreeMap;

use axum::http::StatusCode;
use serde_json::{Value, json};

use super::super::Context;
use crate::pipeline::{Rejection, Reply};
use crate::spec::{Place, Violation};

/// The tenant header, which the vendor documents as a required header.
pub const TENANT_HEADER: &str = "X-Tenant";

/// One CloudCockpit failure.
#[derive(Clone, Debug, PartialEq)]
pub struct CloudCockpitError {
    status: StatusCode,
    kind: &'static str,
    description: String,
    errors: Option<Vec<Value>>,
    challenge: Option<&'static str>,
}

impl CloudCockpitError {
    fn new(status: StatusCode, kind: &'static str, description: impl Into<String>) -> Self {
        CloudCockpitError {
            status,
            kind,
            description: description.into(),
            errors: None,
            challenge: None,
        }
    }

    /// 400 `ValidationError` with ASP.NET's per-property messages.
    pub fn validation(errors: BTreeMap<String, Vec<String>>) -> Self {
        let mut e = Self::new(
            StatusCode::BAD_REQUEST,
            "ValidationError",
            "One or more validation errors occurred.",
        );
        e.errors = Some(
            errors
                .into_iter()
                .map(|(name, messages)| json!({"propertyName": name, "description": messages}))
                .collect(),
        );
        e
    }

    /// 401: no usable bearer token. ASP.NET Core's JWT bearer handler answers it with an empty
    /// body and a `WWW-Authenticate` challenge; `error="invalid_token"` when a token was sent
    /// and refused.
    pub fn unauthorized(token_refused: bool) -> Self {
        let mut e = Self::new(StatusCode::UNAUTHORIZED, "Unauthorized", "");
        e.challenge = Some(if token_refused {
            r#"Bearer error="invalid_token""#
        } else {
            "Bearer"
        });
        e
    }

    /// 403: the caller may not make this request.
    pub fn forbidden(description: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, "Forbidden", description)
    }

    /// 404: the tenant, customer or reseller is unknown to the caller.
    pub fn not_found(description: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "NotFound", description)
    }

    /// The envelope for a generic stage's refusal; `headers` are the request's (a missing
    /// `X-Tenant` joins the other validation errors, as a required header would).
    pub fn from_rejection(rejection: &Rejection, headers: &axum::http::HeaderMap) -> Self {
        match rejection {
            Rejection::MissingCredentials | Rejection::MalformedCredentials(_) => {
                Self::unauthorized(false)
            }
            Rejection::UnknownCredentials => Self::unauthorized(true),
            Rejection::Forbidden(description) => Self::forbidden(description.clone()),
            Rejection::UnknownPath => Self::not_found("The requested resource does not exist."),
            Rejection::MethodNotAllowed { .. } => Self::new(
                StatusCode::METHOD_NOT_ALLOWED,
                "MethodNotAllowed",
                "The method is not allowed on this resource.",
            ),
            Rejection::UnsupportedMediaType(_)
            | Rejection::MissingBody
            | Rejection::MalformedJson(_)
            | Rejection::BodyTooLarge
            | Rejection::UnreadableBody(_) => Self::new(
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
                        .push(aspnet_message(v));
                }
                if headers.get(TENANT_HEADER).is_none() {
                    grouped
                        .entry(TENANT_HEADER.into())
                        .or_default()
                        .push(required_message(TENANT_HEADER));
                }
                Self::validation(grouped)
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
            Rejection::Forced(StatusCode::UNAUTHORIZED) => Self::unauthorized(true),
            Rejection::Forced(status) => Self::new(*status, "InjectedFault", "Injected fault"),
        }
    }

    /// Renders the error. `correlationId` echoes a well-formed `X-Correlation-Id`, or else the
    /// request id; `echo_correlation` false (mutant) always uses the request id.
    pub fn reply(self, cx: &Context<'_>, echo_correlation: bool) -> Reply {
        if let Some(challenge) = self.challenge {
            return Reply::empty(self.status).with_header("WWW-Authenticate", challenge);
        }
        let sent = cx
            .headers
            .get("x-correlation-id")
            .and_then(|v| v.to_str().ok())
            .filter(|v| uuid::Uuid::parse_str(v).is_ok())
            .filter(|_| echo_correlation);
        let correlation = sent.map_or_else(|| cx.request_id().to_string(), str::to_string);
        let body = json!({
            "statusCode": self.status.as_u16(),
            "type": self.kind,
            "description": self.description,
            "correlationId": correlation,
            "errors": self.errors,
        });
        Reply::json(self.status, body)
    }
}

/// ASP.NET's `[Required]` message.
pub fn required_message(name: &str) -> String {
    format!("The {name} field is required.")
}

/// ASP.NET's message for a violation: the required-field text, or model binding's
/// "The value '…' is not valid." for a value it cannot convert (a malformed GUID).
fn aspnet_message(v: &Violation) -> String {
    if v.keyword == "required" {
        return required_message(&v.dotted_path());
    }
    match (v.place, offending_value(&v.message)) {
        (Place::Query | Place::Header | Place::Path, Some(value)) => {
            format!("The value '{value}' is not valid.")
        }
        _ => v.message.clone(),
    }
}

/// The offending value a validator message starts with (`"abc" is not a "uuid"`).
fn offending_value(message: &str) -> Option<String> {
    let mut stream = serde_json::Deserializer::from_str(message).into_iter::<Value>();
    match stream.next() {
        Some(Ok(Value::String(value))) => Some(value),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn malformed_guids_get_model_bindings_message() {
        let v = Violation::new(
            Place::Query,
            Some("providerInstanceId"),
            "format",
            r#""abc" is not a "uuid""#,
        );
        assert_eq!(aspnet_message(&v), "The value 'abc' is not valid.");
        let v = Violation::new(Place::Query, Some("resellerId"), "required", "is required");
        assert_eq!(aspnet_message(&v), "The resellerId field is required.");
    }
}
