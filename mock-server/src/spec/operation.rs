//! One compiled operation: what a request must look like and what each response may look like.

use axum::http::Method;
use serde_json::Value;

use super::schema::Schema;
use crate::VendorId;

/// Where a parameter is carried.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ParamLocation {
    /// A templated path segment.
    Path,
    /// A query-string entry.
    Query,
    /// A request header.
    Header,
    /// A cookie.
    Cookie,
}

/// The JSON type a parameter's text is read as before it is validated.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ScalarKind {
    /// Kept as a JSON string.
    String,
    /// Read as a JSON integer when it parses.
    Integer,
    /// Read as a JSON number when it parses.
    Number,
    /// `true`/`false` become JSON booleans.
    Boolean,
    /// Repeated or comma-separated values become a JSON array of strings.
    Array,
}

impl ScalarKind {
    /// Reads a parameter's text as the JSON value its schema expects; text that does not parse
    /// stays a string so the schema reports the type error.
    pub fn coerce(self, raw: &[&str]) -> Value {
        let first = raw.first().copied().unwrap_or_default();
        match self {
            ScalarKind::String => Value::String(first.to_string()),
            // Integers beyond 64 bits are still integers to the schema: keep them as numbers.
            ScalarKind::Integer => first
                .parse::<i64>()
                .map(Value::from)
                .or_else(|_| first.parse::<u64>().map(Value::from))
                .ok()
                .or_else(|| {
                    let digits = first.strip_prefix('-').unwrap_or(first);
                    (!digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()))
                        .then(|| {
                            first
                                .parse::<f64>()
                                .ok()
                                .and_then(serde_json::Number::from_f64)
                        })
                        .flatten()
                        .map(Value::Number)
                })
                .unwrap_or_else(|| Value::String(first.to_string())),
            ScalarKind::Number => first
                .parse::<f64>()
                .ok()
                .and_then(serde_json::Number::from_f64)
                .map(Value::Number)
                .unwrap_or_else(|| Value::String(first.to_string())),
            ScalarKind::Boolean => match first {
                "true" => Value::Bool(true),
                "false" => Value::Bool(false),
                other => Value::String(other.to_string()),
            },
            ScalarKind::Array => Value::Array(
                raw.iter()
                    .flat_map(|v| v.split(','))
                    .map(|v| Value::String(v.to_string()))
                    .collect(),
            ),
        }
    }
}

/// A declared parameter with its compiled schema.
#[derive(Debug)]
pub struct Parameter {
    /// The parameter name (header names as declared; matched case-insensitively).
    pub name: String,
    /// Where it is carried.
    pub location: ParamLocation,
    /// Whether a request without it is invalid.
    pub required: bool,
    /// How its text is read.
    pub kind: ScalarKind,
    /// What its value must satisfy.
    pub schema: Schema,
}

/// The JSON request body an operation takes.
#[derive(Debug)]
pub struct RequestBodySpec {
    /// Whether a request without a body is invalid.
    pub required: bool,
    /// The declared media type (always JSON in these specs).
    pub media_type: String,
    /// What the body must satisfy.
    pub schema: Schema,
}

/// Which statuses a declared response covers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StatusMatch {
    /// One status, `"201"`.
    Exact(u16),
    /// A class, `"4XX"` (the hundreds digit).
    Class(u16),
    /// `"default"`: anything not declared otherwise.
    Default,
}

/// A declared response header.
#[derive(Debug)]
pub struct HeaderSpec {
    /// The header name as declared.
    pub name: String,
    /// Whether every response of this status must carry it.
    pub required: bool,
    /// How its text is read.
    pub kind: ScalarKind,
    /// What its value must satisfy.
    pub schema: Schema,
}

/// A declared response body.
#[derive(Debug)]
pub struct MediaSpec {
    /// The media type, e.g. `application/json`.
    pub media_type: String,
    /// What the body must satisfy.
    pub schema: Schema,
    /// The spec's example, when it gives one.
    pub example: Option<Value>,
}

/// One declared response of an operation.
#[derive(Debug)]
pub struct ResponseSpec {
    /// Which statuses it covers.
    pub status: StatusMatch,
    /// Headers it declares.
    pub headers: Vec<HeaderSpec>,
    /// Its body, or `None` when the response has no content.
    pub body: Option<MediaSpec>,
}

/// One operation of a vendor's spec, compiled.
#[derive(Debug)]
pub struct Operation {
    /// Which vendor it belongs to.
    pub vendor: VendorId,
    /// The spec's `operationId`: the name vendor handlers dispatch on.
    pub operation_id: String,
    /// The HTTP method.
    pub method: Method,
    /// The path template as the vendor writes it (`/orgs/{org_id}/customers`).
    pub path: String,
    /// Declared parameters, path-level and operation-level merged.
    pub parameters: Vec<Parameter>,
    /// The request body, when the operation takes one.
    pub body: Option<RequestBodySpec>,
    /// Declared responses.
    pub responses: Vec<ResponseSpec>,
    /// Whether the spec marks it deprecated.
    pub deprecated: bool,
}

impl Operation {
    /// The declared response for `status`: an exact match first, then its class, then `default`.
    pub fn response_for(&self, status: u16) -> Option<&ResponseSpec> {
        let find = |m: StatusMatch| self.responses.iter().find(|r| r.status == m);
        find(StatusMatch::Exact(status))
            .or_else(|| find(StatusMatch::Class(status / 100)))
            .or_else(|| find(StatusMatch::Default))
    }

    /// Every exact status the operation documents, ascending.
    pub fn documented_statuses(&self) -> Vec<u16> {
        let mut statuses: Vec<u16> = self
            .responses
            .iter()
            .filter_map(|r| match r.status {
                StatusMatch::Exact(s) => Some(s),
                _ => None,
            })
            .collect();
        statuses.sort_unstable();
        statuses
    }

    /// The first documented 2xx response (the lowest exact 2xx status).
    pub fn success(&self) -> Option<(u16, &ResponseSpec)> {
        self.responses
            .iter()
            .filter_map(|r| match r.status {
                StatusMatch::Exact(s) if (200..300).contains(&s) => Some((s, r)),
                _ => None,
            })
            .min_by_key(|(s, _)| *s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integers_beyond_64_bits_stay_numbers() {
        let big = ScalarKind::Integer.coerce(&["341506299427983917056"]);
        assert!(big.is_number(), "{big}");
        assert_eq!(ScalarKind::Integer.coerce(&["7"]), Value::from(7));
        assert!(ScalarKind::Integer.coerce(&["7x"]).is_string());
        assert!(ScalarKind::Integer.coerce(&["1e3"]).is_string());
    }
}
