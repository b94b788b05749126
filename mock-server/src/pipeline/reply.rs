//! What a stage or a vendor handler answers, before it is checked and sent.

use axum::body::{Body, Bytes};
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::Value;

/// A response under construction: status, headers and an optional JSON body.
#[derive(Clone, Debug, PartialEq)]
pub struct Reply {
    /// The status to send.
    pub status: StatusCode,
    /// Headers to send (content type is added when the body is serialised).
    pub headers: HeaderMap,
    /// The JSON body, or `None` for an empty body.
    pub body: Option<Value>,
}

impl Reply {
    /// A reply with a JSON body.
    pub fn json(status: StatusCode, body: Value) -> Self {
        Reply {
            status,
            headers: HeaderMap::new(),
            body: Some(body),
        }
    }

    /// A reply without a body.
    pub fn empty(status: StatusCode) -> Self {
        Reply {
            status,
            headers: HeaderMap::new(),
            body: None,
        }
    }

    /// Adds (or replaces) a header; values that are not valid header text are dropped.
    pub fn with_header(mut self, name: impl AsRef<str>, value: impl AsRef<str>) -> Self {
        self.set_header(name, value);
        self
    }

    /// Sets a header in place; values that are not valid header text are dropped.
    pub fn set_header(&mut self, name: impl AsRef<str>, value: impl AsRef<str>) {
        if let (Ok(name), Ok(value)) = (
            HeaderName::from_bytes(name.as_ref().as_bytes()),
            HeaderValue::from_str(value.as_ref()),
        ) {
            self.headers.insert(name, value);
        }
    }
}

impl Reply {
    /// The response to send, and its body bytes (shared with the response, not copied) for
    /// the journal: the body is serialised once.
    pub fn into_response_and_body(self) -> (Response, Bytes) {
        let (mut response, bytes) = match &self.body {
            Some(body) => {
                let bytes = Bytes::from(serde_json::to_vec(body).unwrap_or_default());
                let mut r = Response::new(Body::from(bytes.clone()));
                r.headers_mut().insert(
                    header::CONTENT_TYPE,
                    HeaderValue::from_static("application/json"),
                );
                (r, bytes)
            }
            None => (Response::new(Body::empty()), Bytes::new()),
        };
        *response.status_mut() = self.status;
        response.headers_mut().extend(self.headers);
        (response, bytes)
    }
}

impl IntoResponse for Reply {
    fn into_response(self) -> Response {
        self.into_response_and_body().0
    }
}
