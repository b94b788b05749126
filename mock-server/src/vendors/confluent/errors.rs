//! Confluent's error envelope: `{"errors": [Error, …]}`, one constructor per status.

use axum::http::StatusCode;
use serde_json::{Value, json};

use crate::pipeline::{Envelope, Rejection, Reply};
use crate::spec::{Place, Violation};
use crate::vendors::Context;

crate::error_codes! {
    /// The codes (and titles) of Confluent's `Error` objects.
    pub enum ConfluentCode {
        InvalidRequestBody = "invalid_request_body" => "Invalid Request Body",
        UserUnauthenticated = "user_unauthenticated" => "Authentication Required",
        UserUnauthorized = "user_unauthorized" => "User Access Unauthorized",
        QuotaExceeded = "quota_exceeded" => "Quota Exceeded",
        NotFound = "not_found" => "Not Found",
        MethodNotAllowed = "method_not_allowed" => "Method Not Allowed",
        ResourceAlreadyExists = "resource_already_exists" => "Resource Already Exists",
        TooManyRequests = "too_many_requests" => "Too Many Requests",
        InternalError = "internal_error" => "Internal Server Error",
        OrganizationNotFound = "organization_not_found" => "Organization Not Found",
        SignupAlreadyCompleted = "signup_already_completed" => "Signup Already Completed",
        InvalidLinkingToken = "invalid_linking_token" => "Invalid Linking Token",
        EntitlementNotFound = "entitlement_not_found" => "Entitlement Not Found",
    }
}

/// The challenge every Confluent 401 carries.
const CHALLENGE: &str = r#"Bearer realm="Confluent Cloud", error="invalid_token", error_description="The access token is missing, expired or invalid""#;

/// One Confluent failure, rendered as a `Failure` body with the right status and headers.
#[derive(Clone, Debug, PartialEq)]
pub struct ConfluentError {
    status: StatusCode,
    errors: Vec<Value>,
    headers: Vec<(String, String)>,
    body: bool,
}

impl ConfluentError {
    /// 400: the request body or a parameter is invalid.
    pub fn bad_request(detail: impl Into<String>) -> Self {
        let code = ConfluentCode::InvalidRequestBody;
        Self::new(StatusCode::BAD_REQUEST, code, detail.into())
    }

    /// 400 about one member of the body: a rule (not the schema) refused it, so `source.pointer`
    /// names the member and `code` says which rule.
    pub fn refused_member(code: ConfluentCode, detail: impl Into<String>, pointer: &str) -> Self {
        Self::new(StatusCode::BAD_REQUEST, code, detail.into()).at_pointer(pointer)
    }

    /// 403: the token lacks the partner right.
    fn forbidden(detail: impl Into<String>) -> Self {
        let code = ConfluentCode::UserUnauthorized;
        Self::new(StatusCode::FORBIDDEN, code, detail.into())
    }

    /// 409: the request collides with an existing resource, named by `location`.
    pub fn conflict(code: ConfluentCode, detail: impl Into<String>, location: &str) -> Self {
        let mut e = Self::new(StatusCode::CONFLICT, code, detail.into());
        e.headers.push(("Location".into(), location.to_string()));
        e
    }

    /// The same error without its `Location` header (only the mutant
    /// `confluent.conflict-without-location` wants that).
    pub fn without_location(mut self) -> Self {
        self.headers.retain(|(name, _)| name != "Location");
        self
    }

    /// 500: the fake itself failed.
    pub fn internal(detail: impl Into<String>) -> Self {
        let code = ConfluentCode::InternalError;
        Self::new(StatusCode::INTERNAL_SERVER_ERROR, code, detail.into())
    }

    /// Points the (first) error at a body location.
    pub fn at_pointer(mut self, pointer: &str) -> Self {
        if let Some(e) = self.errors.first_mut() {
            e["source"] = json!({"pointer": pointer});
        }
        self
    }

    /// 400 with one error per schema violation, each pointing at its member or parameter.
    fn invalid(violations: &[Violation]) -> Self {
        let code = ConfluentCode::InvalidRequestBody;
        let errors = violations
            .iter()
            .map(|v| {
                let source = match v.place {
                    Place::Body => json!({"pointer": v.pointer}),
                    _ => json!({"parameter": v.name.clone().unwrap_or_default()}),
                };
                let detail = if v.pointer.is_empty() {
                    v.message.clone()
                } else {
                    format!("{}: {}", v.dotted_path(), v.message)
                };
                json!({"status": "400", "code": code.as_str(), "title": code.title(), "detail": detail, "source": source})
            })
            .collect();
        ConfluentError {
            errors,
            ..Self::bad_request("")
        }
    }

    /// The error Confluent sends with `status`: 429 has no body, 409 names a resource.
    fn for_status(status: StatusCode) -> Self {
        use ConfluentCode::*;
        match status.as_u16() {
            400 => Self::bad_request("the request was refused (injected fault)"),
            401 => Self::new(
                status,
                UserUnauthenticated,
                "the access token is not valid".into(),
            ),
            403 => Self::forbidden("the token lacks the right for this operation"),
            409 => Self::conflict(
                ResourceAlreadyExists,
                "the resource already exists (injected fault)",
                "https://api.confluent.cloud/partner/v2/organizations/00000000-0000-4000-8000-000000000000",
            ),
            429 => Self::new(status, TooManyRequests, String::new()),
            _ => Self::internal("injected fault"),
        }
    }
}

impl Envelope for ConfluentError {
    type Code = ConfluentCode;

    /// Every 401 carries the Bearer challenge; a 429 has no body.
    fn new(status: StatusCode, code: ConfluentCode, detail: String) -> Self {
        let error = json!({"status": status.as_str(), "code": code.as_str(), "title": code.title(), "detail": detail});
        let mut headers = Vec::new();
        if code == ConfluentCode::UserUnauthenticated {
            headers.push(("WWW-Authenticate".into(), CHALLENGE.into()));
        }
        ConfluentError {
            status,
            errors: vec![error],
            headers,
            body: code != ConfluentCode::TooManyRequests,
        }
    }

    fn refused(r: &Rejection, _cx: &Context<'_>) -> Self {
        use ConfluentCode::*;
        match r {
            Rejection::MissingCredentials => r.error(
                UserUnauthenticated,
                "a valid Bearer access token must accompany this request",
            ),
            Rejection::MalformedCredentials(detail) => r.error(UserUnauthenticated, detail),
            Rejection::UnknownCredentials => {
                r.error(UserUnauthenticated, "the access token is not valid")
            }
            Rejection::Forbidden(detail) => Self::forbidden(detail),
            Rejection::UnknownPath => r.error(NotFound, "no such resource"),
            Rejection::MethodNotAllowed { .. } => r.error(
                MethodNotAllowed,
                "this method is not supported on this resource",
            ),
            Rejection::UnsupportedMediaType(ct) => Self::bad_request(format!(
                "unsupported content type {ct}; send application/json"
            )),
            Rejection::MissingBody => Self::bad_request("a JSON request body is required"),
            Rejection::MalformedJson(detail) => {
                Self::bad_request(format!("the request body is not valid JSON: {detail}"))
            }
            Rejection::BodyTooLarge => Self::bad_request("the request body is too large"),
            Rejection::UnreadableBody(detail) => Self::bad_request(detail),
            Rejection::Invalid(violations) => Self::invalid(violations),
            Rejection::Internal(detail) => Self::internal(detail),
            Rejection::RateLimited | Rejection::Forced(_) => Self::for_status(r.status()),
            Rejection::CapacityExceeded => Self::new(
                StatusCode::FORBIDDEN,
                QuotaExceeded,
                "the fake's limit of stored organizations is reached".into(),
            ),
        }
    }

    /// Every error id is the request id, so logs and bodies correlate.
    fn reply(self, cx: &Context<'_>) -> Reply {
        let errors: Vec<Value> = self
            .errors
            .into_iter()
            .map(|mut e| {
                e["id"] = json!(cx.request_id());
                e
            })
            .collect();
        let mut reply = if self.body {
            Reply::json(self.status, json!({ "errors": errors }))
        } else {
            Reply::empty(self.status)
        };
        for (name, value) in self.headers {
            reply.set_header(name, value);
        }
        reply
    }
}
