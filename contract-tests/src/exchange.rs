//! One step's request, which may refer to earlier results, and the response a backend gave.

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::Value;

/// A request as a scenario describes it. Any string in the path, query or body may hold
/// `{@N/pointer}`: the value at that JSON pointer in the body step N answered on the same
/// backend (each backend has its own ids, so references resolve per backend).
#[derive(Clone, Debug, Serialize)]
pub struct Request {
    /// The spec's operation id.
    pub operation_id: &'static str,
    /// The HTTP method.
    pub method: &'static str,
    /// The path below the vendor's base URL.
    pub path: String,
    /// Query parameters.
    pub query: Vec<(String, String)>,
    /// Headers (credentials included; a backend may replace them).
    pub headers: Vec<(String, String)>,
    /// The JSON body.
    pub body: Option<Value>,
    /// A body sent as it is instead of `body` (malformed JSON, another media type, an
    /// oversized body), with its content type.
    pub raw_body: Option<RawBody>,
    /// The credential headers were chosen on purpose (none, an unknown one, another scheme): a
    /// backend with its own credentials must send them as they are.
    pub fixed_credentials: bool,
}

/// A body sent byte for byte, with the content type it is declared as.
#[derive(Clone, Debug, Serialize)]
pub struct RawBody {
    /// The `Content-Type` header.
    pub content_type: &'static str,
    /// The body text.
    #[serde(skip)]
    pub text: String,
    /// How many bytes the body has (the text itself is left out of reports).
    pub bytes: usize,
}

impl RawBody {
    /// `text` declared as `content_type`.
    pub fn new(content_type: &'static str, text: String) -> Self {
        RawBody {
            content_type,
            bytes: text.len(),
            text,
        }
    }
}

impl Request {
    /// A request without query, headers or body.
    pub fn new(operation_id: &'static str, method: &'static str, path: impl Into<String>) -> Self {
        Request {
            operation_id,
            method,
            path: path.into(),
            query: Vec::new(),
            headers: Vec::new(),
            body: None,
            raw_body: None,
            fixed_credentials: false,
        }
    }

    /// The value of header `name` (any letter case), if the request carries it.
    pub fn header_value(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// Adds a header.
    pub fn header(mut self, name: &str, value: impl Into<String>) -> Self {
        self.headers.push((name.to_string(), value.into()));
        self
    }

    /// Adds a query parameter.
    pub fn query(mut self, name: &str, value: impl Into<String>) -> Self {
        self.query.push((name.to_string(), value.into()));
        self
    }

    /// Sets the JSON body.
    pub fn json(mut self, body: Value) -> Self {
        self.body = Some(body);
        self
    }

    /// The request with every `{@N/pointer}` resolved against `transcript`.
    pub fn resolve(&self, transcript: &[Exchange]) -> Request {
        let mut resolved = self.clone();
        resolved.path = resolve_text(&self.path, transcript);
        for (_, value) in resolved.query.iter_mut().chain(resolved.headers.iter_mut()) {
            *value = resolve_text(value, transcript);
        }
        if let Some(body) = resolved.body.as_mut() {
            resolve_value(body, transcript);
        }
        resolved
    }

    /// Every string the request carries, so normalisation can keep values a backend echoed.
    pub fn strings(&self) -> Vec<String> {
        let mut strings: Vec<String> = self
            .query
            .iter()
            .chain(self.headers.iter())
            .map(|(_, v)| v.clone())
            .collect();
        strings.extend(self.path.split('/').map(str::to_string));
        if let Some(body) = &self.body {
            collect_strings(body, &mut strings);
        }
        strings
    }
}

fn collect_strings(value: &Value, into: &mut Vec<String>) {
    match value {
        Value::String(s) => into.push(s.clone()),
        Value::Array(items) => items.iter().for_each(|v| collect_strings(v, into)),
        Value::Object(map) => map.values().for_each(|v| collect_strings(v, into)),
        _ => {}
    }
}

fn resolve_value(value: &mut Value, transcript: &[Exchange]) {
    match value {
        Value::String(s) => *s = resolve_text(s, transcript),
        Value::Array(items) => items.iter_mut().for_each(|v| resolve_value(v, transcript)),
        Value::Object(map) => map.values_mut().for_each(|v| resolve_value(v, transcript)),
        _ => {}
    }
}

/// Replaces each `{@N/pointer}` in `text`; a reference to a step that did not answer the value
/// becomes `missing-N`, the same on every backend, so both see the same unknown id.
fn resolve_text(text: &str, transcript: &[Exchange]) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(start) = rest.find("{@") {
        out.push_str(&rest[..start]);
        let Some(end) = rest[start..].find('}') else {
            break;
        };
        let reference = &rest[start + 2..start + end];
        let (step, pointer) = reference.split_once('/').unwrap_or((reference, ""));
        let found = step
            .parse::<usize>()
            .ok()
            .and_then(|n| transcript.get(n))
            .and_then(|e| e.body.pointer(&format!("/{pointer}")))
            .and_then(Value::as_str);
        match found {
            Some(value) => out.push_str(value),
            None => out.push_str(&format!("missing-{step}")),
        }
        rest = &rest[start + end + 1..];
    }
    out.push_str(rest);
    out
}

/// What a backend answered.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Exchange {
    /// The status code.
    pub status: u16,
    /// Headers, names lower-case.
    pub headers: BTreeMap<String, String>,
    /// The JSON body; `Null` when empty or not JSON.
    pub body: Value,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn references_resolve_per_transcript_and_misses_are_named() {
        let transcript = vec![Exchange {
            status: 201,
            headers: BTreeMap::new(),
            body: json!({"id": "pn_1"}),
        }];
        let request = Request::new("x", "POST", "/a/{@0/id}/b")
            .json(json!({"partnerId": "{@0/id}", "other": "{@3/id}"}));
        let resolved = request.resolve(&transcript);
        assert_eq!(resolved.path, "/a/pn_1/b");
        assert_eq!(
            resolved.body,
            Some(json!({"partnerId": "pn_1", "other": "missing-3"}))
        );
    }
}
