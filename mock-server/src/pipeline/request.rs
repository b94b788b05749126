//! Request validation: the stage that reads parameters and body as the operation declares them
//! and rejects anything its schemas do not accept.

use std::borrow::Cow;
use std::collections::BTreeMap;

use axum::http::{HeaderMap, header};
use serde_json::Value;

use super::Rejection;
use crate::spec::{Operation, ParamLocation, Place, Violation};

/// A request that passed validation: parameters are typed JSON values, the body is parsed.
/// (Headers are read from the handler's `Context`, not copied here.)
#[derive(Clone, Debug, Default)]
pub struct ValidatedRequest {
    /// Path parameters by name.
    pub path: BTreeMap<String, Value>,
    /// Declared query parameters that were sent, by name.
    pub query: BTreeMap<String, Value>,
    /// The parsed JSON body, when one was sent.
    pub body: Option<Value>,
}

impl ValidatedRequest {
    /// A path parameter as text.
    pub fn path_str(&self, name: &str) -> &str {
        self.path
            .get(name)
            .and_then(Value::as_str)
            .unwrap_or_default()
    }

    /// A body field, or `Null` when absent.
    pub fn field(&self, name: &str) -> &Value {
        self.body
            .as_ref()
            .and_then(|b| b.get(name))
            .unwrap_or(&Value::Null)
    }

    /// A body field as text, when it is a string.
    pub fn field_str(&self, name: &str) -> Option<&str> {
        self.field(name).as_str()
    }
}

/// The raw parts of a request the validator reads.
pub struct RawRequest<'a> {
    /// Path parameters captured by the router.
    pub path: &'a [(String, String)],
    /// The query string, without `?`.
    pub query: Option<&'a str>,
    /// Request headers.
    pub headers: &'a HeaderMap,
    /// The body bytes.
    pub body: &'a [u8],
}

/// Validates a request against its operation.
pub fn validate(op: &Operation, raw: RawRequest<'_>) -> Result<ValidatedRequest, Rejection> {
    let query_pairs = raw.query.map(query_pairs).unwrap_or_default();
    let cookies = cookies(raw.headers);
    let mut out = ValidatedRequest::default();
    let mut violations = Vec::new();

    for param in &op.parameters {
        let (place, values): (Place, Vec<&str>) = match param.location {
            ParamLocation::Path => (
                Place::Path,
                raw.path
                    .iter()
                    .filter(|(k, _)| *k == param.name)
                    .map(|(_, v)| v.as_str())
                    .collect(),
            ),
            ParamLocation::Query => (
                Place::Query,
                query_pairs
                    .iter()
                    .filter(|(k, _)| *k == param.name.as_str())
                    .map(|(_, v)| v.as_ref())
                    .collect(),
            ),
            ParamLocation::Header => (
                Place::Header,
                raw.headers
                    .get_all(param.name.as_str())
                    .iter()
                    .filter_map(|v| v.to_str().ok())
                    .collect(),
            ),
            ParamLocation::Cookie => (
                Place::Cookie,
                cookies
                    .iter()
                    .filter(|(k, _)| *k == param.name)
                    .map(|(_, v)| *v)
                    .collect(),
            ),
        };
        if values.is_empty() {
            if param.required {
                violations.push(Violation::new(
                    place,
                    Some(&param.name),
                    "required",
                    "is required",
                ));
            }
            continue;
        }
        let value = param.kind.coerce(&values);
        let found = param.schema.violations(&value, place, Some(&param.name));
        if found.is_empty() {
            match param.location {
                ParamLocation::Path => {
                    out.path.insert(param.name.clone(), value);
                }
                ParamLocation::Query => {
                    out.query.insert(param.name.clone(), value);
                }
                ParamLocation::Header | ParamLocation::Cookie => {}
            }
        }
        violations.extend(found);
    }
    // Path segments the spec does not declare still reach the handler as text.
    for (name, value) in raw.path {
        out.path
            .entry(name.clone())
            .or_insert_with(|| Value::String(value.clone()));
    }
    if !violations.is_empty() {
        return Err(Rejection::Invalid(violations));
    }

    if let Some(spec) = &op.body {
        if raw.body.iter().all(u8::is_ascii_whitespace) {
            if spec.required {
                return Err(Rejection::MissingBody);
            }
        } else {
            if let Some(content_type) = raw.headers.get(header::CONTENT_TYPE) {
                let content_type = content_type
                    .to_str()
                    .unwrap_or_default()
                    .to_ascii_lowercase();
                if !content_type.contains("json") {
                    return Err(Rejection::UnsupportedMediaType(content_type));
                }
            }
            let body: Value = serde_json::from_slice(raw.body)
                .map_err(|e| Rejection::MalformedJson(e.to_string()))?;
            let found = spec.schema.violations(&body, Place::Body, None);
            if !found.is_empty() {
                return Err(Rejection::Invalid(found));
            }
            out.body = Some(body);
        }
    }
    Ok(out)
}

/// The `name=value` pairs of a query string, decoded as a form. A query with nothing to decode
/// (no `%`, no `+`), which is nearly every query, is split in place: the decoder walks every byte
/// and was the larger part of validating a request with one parameter.
fn query_pairs(query: &str) -> Vec<(Cow<'_, str>, Cow<'_, str>)> {
    if query.contains(['%', '+']) {
        return url::form_urlencoded::parse(query.as_bytes()).collect();
    }
    query
        .split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
            (Cow::Borrowed(name), Cow::Borrowed(value))
        })
        .collect()
}

/// `name=value` pairs of every `Cookie` header.
pub fn cookies(headers: &HeaderMap) -> Vec<(&str, &str)> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The in-place split agrees with the form decoder on every query it takes.
    #[test]
    fn query_pairs_agree_with_the_form_decoder() {
        for query in [
            "",
            "a=1",
            "a=1&b=2",
            "a=1&&b=2&",
            "flag",
            "a=&=b",
            "a=1=2",
            "providerInstanceId=5b0e6a52-3c1f-4f0e-9d47-2a9c8e1f7b30",
            "a=%41+b&c=d",
            "q=x%2By",
        ] {
            let decoded: Vec<(Cow<str>, Cow<str>)> =
                url::form_urlencoded::parse(query.as_bytes()).collect();
            assert_eq!(query_pairs(query), decoded, "{query:?}");
        }
    }
}
