//! CloudCockpit's `ErrorResponse` envelope, one constructor per status, and the bare 401
//! challenge ASP.NET Core's JWT bearer authentication answers before the API's own code runs.

use std::collections::BTreeMap;

use axum::http::StatusCode;
use serde_json::{Value, json};

use super::CloudCockpitMutant;
use crate::pipeline::{Envelope, Rejection, Reply};
use crate::spec::{Place, Violation};
use crate::vendors::Context;

/// The tenant header, which the vendor documents as a required header.
pub const TENANT_HEADER: &str = "X-Tenant";

crate::error_codes! {
    /// The `type` of an `ErrorResponse`.
    pub enum CloudCockpitKind {
        ValidationError = "ValidationError",
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

/// One CloudCockpit failure.
#[derive(Clone, Debug, PartialEq)]
pub struct CloudCockpitError {
    status: StatusCode,
    kind: CloudCockpitKind,
    description: String,
    errors: Option<Vec<Value>>,
    challenge: Option<&'static str>,
}

impl CloudCockpitError {
    /// 400 `ValidationError` with ASP.NET's per-property messages.
    pub fn validation(errors: BTreeMap<String, Vec<String>>) -> Self {
        let errors = errors
            .into_iter()
            .map(|(name, messages)| json!({"propertyName": name, "description": messages}))
            .collect();
        CloudCockpitError {
            errors: Some(errors),
            ..Self::new(
                StatusCode::BAD_REQUEST,
                CloudCockpitKind::ValidationError,
                "One or more validation errors occurred.".into(),
            )
        }
    }

    /// 401: no usable bearer token. ASP.NET Core's JWT bearer handler answers it with an empty
    /// body and a `WWW-Authenticate` challenge; `error="invalid_token"` when a token was sent
    /// and refused.
    pub fn unauthorized(token_refused: bool) -> Self {
        let challenge = if token_refused {
            r#"Bearer error="invalid_token""#
        } else {
            "Bearer"
        };
        CloudCockpitError {
            challenge: Some(challenge),
            ..Self::new(
                StatusCode::UNAUTHORIZED,
                CloudCockpitKind::Unauthorized,
                String::new(),
            )
        }
    }

    /// 403: the caller may not make this request.
    pub fn forbidden(description: impl Into<String>) -> Self {
        let kind = CloudCockpitKind::Forbidden;
        Self::new(StatusCode::FORBIDDEN, kind, description.into())
    }

    /// 404: the tenant, customer or reseller is unknown to the caller.
    pub fn not_found(description: impl Into<String>) -> Self {
        let kind = CloudCockpitKind::NotFound;
        Self::new(StatusCode::NOT_FOUND, kind, description.into())
    }

    /// 400 for schema violations: ASP.NET groups the messages per property, and a missing
    /// `X-Tenant` (in `cx`'s headers) joins them, as a required header would.
    fn invalid(violations: &[Violation], cx: &Context<'_>) -> Self {
        let mut grouped: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for v in violations {
            let messages = grouped.entry(v.dotted_path()).or_default();
            messages.push(aspnet_message(v));
        }
        if cx.headers.get(TENANT_HEADER).is_none() {
            let messages = grouped.entry(TENANT_HEADER.into()).or_default();
            messages.push(required_message(TENANT_HEADER));
        }
        Self::validation(grouped)
    }
}

impl Envelope for CloudCockpitError {
    type Code = CloudCockpitKind;

    fn new(status: StatusCode, kind: CloudCockpitKind, description: String) -> Self {
        CloudCockpitError {
            status,
            kind,
            description,
            errors: None,
            challenge: None,
        }
    }

    fn refused(r: &Rejection, cx: &Context<'_>) -> Self {
        use CloudCockpitKind::*;
        match r {
            Rejection::MissingCredentials | Rejection::MalformedCredentials(_) => {
                Self::unauthorized(false)
            }
            Rejection::UnknownCredentials | Rejection::Forced(StatusCode::UNAUTHORIZED) => {
                Self::unauthorized(true)
            }
            Rejection::Forbidden(description) => Self::forbidden(description),
            Rejection::UnknownPath => Self::not_found("The requested resource does not exist."),
            Rejection::MethodNotAllowed { .. } => r.error(
                MethodNotAllowed,
                "The method is not allowed on this resource.",
            ),
            Rejection::UnsupportedMediaType(_)
            | Rejection::MissingBody
            | Rejection::MalformedJson(_)
            | Rejection::BodyTooLarge
            | Rejection::UnreadableBody(_) => {
                r.error(ValidationError, "The request could not be read.")
            }
            Rejection::Invalid(violations) => Self::invalid(violations, cx),
            Rejection::Internal(detail) => r.error(InternalServerError, detail),
            Rejection::RateLimited => r.error(TooManyRequests, "Too many requests"),
            Rejection::CapacityExceeded => {
                r.error(Conflict, "The fake's limit of stored resources is reached")
            }
            Rejection::Forced(_) => r.error(InjectedFault, "Injected fault"),
        }
    }

    /// `correlationId` echoes a well-formed `X-Correlation-Id`, or else the request id (always
    /// the request id under the mutant `cloudcockpit.correlation-id-dropped`).
    fn reply(self, cx: &Context<'_>) -> Reply {
        if let Some(challenge) = self.challenge {
            return Reply::empty(self.status).with_header("WWW-Authenticate", challenge);
        }
        let sent = cx
            .headers
            .get("x-correlation-id")
            .and_then(|v| v.to_str().ok())
            .filter(|v| uuid::Uuid::parse_str(v).is_ok())
            .filter(|_| !cx.mutant(CloudCockpitMutant::CorrelationIdDropped));
        let correlation = sent.map_or_else(|| cx.request_id().to_string(), str::to_string);
        let body = json!({
            "statusCode": self.status.as_u16(),
            "type": self.kind.as_str(),
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
