//! Confluent's error envelope: `{"errors": [Error, …]}`, one constructor per status.

use axum::http::StatusCode;
use serde_json::{Value, json};

use super::super::Context;
use crate::pipeline::{Rejection, Reply};
use crate::spec::Place;

/// One Confluent failure, rendered as a `Failure` body with the right status and headers.
#[derive(Clone, Debug, PartialEq)]
pub struct ConfluentError {
    status: StatusCode,
    errors: Vec<Value>,
    headers: Vec<(String, String)>,
    body: bool,
}

impl ConfluentError {
    fn new(status: StatusCode, code: &str, title: &str, detail: impl Into<String>) -> Self {
        ConfluentError {
            status,
            errors: vec![
                json!({"status": status.as_str(), "code": code, "title": title, "detail": detail.into()}),
            ],
            headers: Vec::new(),
            body: true,
        }
    }

    /// 400: the request body or a parameter is invalid.
    pub fn bad_request(detail: impl Into<String>) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "invalid_request_body",
            "Invalid Request Body",
            detail,
        )
    }

    /// 400 about one member of the body: a rule (not the schema) refused it, so `source.pointer`
    /// names the member and `code` says which rule.
    pub fn refused_member(
        code: &str,
        title: &str,
        detail: impl Into<String>,
        pointer: &str,
    ) -> Self {
        Self::new(StatusCode::BAD_REQUEST, code, title, detail).at_pointer(pointer)
    }

    /// 401: no usable access token; carries the Bearer challenge.
    pub fn unauthenticated(detail: impl Into<String>) -> Self {
        let mut e = Self::new(
            StatusCode::UNAUTHORIZED,
            "user_unauthenticated",
            "Authentication Required",
            detail,
        );
        e.headers.push((
            "WWW-Authenticate".into(),
            r#"Bearer realm="Confluent Cloud", error="invalid_token", error_description="The access token is missing, expired or invalid""#.into(),
        ));
        e
    }

    /// 403: the token lacks the partner right.
    pub fn forbidden(detail: impl Into<String>) -> Self {
        Self::new(
            StatusCode::FORBIDDEN,
            "user_unauthorized",
            "User Access Unauthorized",
            detail,
        )
    }

    /// 409: the request collides with an existing resource, named by `location`.
    pub fn conflict(code: &str, title: &str, detail: impl Into<String>, location: &str) -> Self {
        let mut e = Self::new(StatusCode::CONFLICT, code, title, detail);
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
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal_error",
            "Internal Server Error",
            detail,
        )
    }

    /// Points the (first) error at a body location.
    pub fn at_pointer(mut self, pointer: &str) -> Self {
        if let Some(e) = self.errors.first_mut() {
            e["source"] = json!({"pointer": pointer});
        }
        self
    }

    /// The error Confluent sends with `status`: 429 has no body, 409 names a resource.
    pub fn for_status(status: StatusCode) -> Self {
        match status.as_u16() {
            400 => Self::bad_request("the request was refused (injected fault)"),
            401 => Self::unauthenticated("the access token is not valid"),
            403 => Self::forbidden("the token lacks the right for this operation"),
            409 => Self::conflict(
                "resource_already_exists",
                "Resource Already Exists",
                "the resource already exists (injected fault)",
                "https://api.confluent.cloud/partner/v2/organizations/00000000-0000-4000-8000-000000000000",
            ),
            429 => {
                let mut e = Self::new(status, "too_many_requests", "Too Many Requests", "");
                e.body = false;
                e
            }
            _ => Self::internal("injected fault"),
        }
    }

    /// The envelope for a generic stage's refusal.
    pub fn from_rejection(rejection: &Rejection) -> Self {
        match rejection {
            Rejection::MissingCredentials => Self::unauthenticated("a valid Bearer access token must accompany this request"),
            Rejection::MalformedCredentials(detail) => Self::unauthenticated(detail.clone()),
            Rejection::UnknownCredentials => Self::unauthenticated("the access token is not valid"),
            Rejection::Forbidden(detail) => Self::forbidden(detail.clone()),
            Rejection::UnknownPath => Self::new(StatusCode::NOT_FOUND, "not_found", "Not Found", "no such resource"),
            Rejection::MethodNotAllowed { .. } => Self::new(StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed", "Method Not Allowed", "this method is not supported on this resource"),
            Rejection::UnsupportedMediaType(ct) => Self::bad_request(format!("unsupported content type {ct}; send application/json")),
            Rejection::MissingBody => Self::bad_request("a JSON request body is required"),
            Rejection::MalformedJson(detail) => Self::bad_request(format!("the request body is not valid JSON: {detail}")),
            Rejection::BodyTooLarge => Self::bad_request("the request body is too large"),
            Rejection::UnreadableBody(detail) => Self::bad_request(detail.clone()),
            Rejection::Invalid(violations) => ConfluentError {
                status: StatusCode::BAD_REQUEST,
                errors: violations
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
                        json!({"status": "400", "code": "invalid_request_body", "title": "Invalid Request Body", "detail": detail, "source": source})
                    })
                    .collect(),
                headers: Vec::new(),
                body: true,
            },
            Rejection::Internal(detail) => Self::internal(detail.clone()),
            Rejection::RateLimited => Self::for_status(StatusCode::TOO_MANY_REQUESTS),
            Rejection::CapacityExceeded => Self::new(
                StatusCode::FORBIDDEN,
                "quota_exceeded",
                "Quota Exceeded",
                "the fake's limit of stored organizations is reached",
            ),
            Rejection::Forced(status) => Self::for_status(*status),
        }
    }

    /// Renders the error; every error id is the request id so logs and bodies correlate.
    pub fn reply(self, cx: &Context<'_>) -> Reply {
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
