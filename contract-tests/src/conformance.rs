//! Does a response conform to the spec? The fake's own response check, applied to what any
//! backend answered.

use reqwest::StatusCode;
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use understudy::spec::VendorSpec;
use understudy::{Reply, VIOLATION_HEADER, check};

use crate::exchange::Exchange;

/// The ways `exchange` breaks `vendor`'s spec for `operation_id`, as readable lines.
pub fn violations(spec: &VendorSpec, operation_id: &str, exchange: &Exchange) -> Vec<String> {
    let Some(operation) = spec.operation(operation_id) else {
        return vec![format!("the spec has no operation {operation_id}")];
    };
    let mut headers = HeaderMap::new();
    for (name, value) in &exchange.headers {
        if let (Ok(name), Ok(value)) = (
            HeaderName::from_bytes(name.as_bytes()),
            HeaderValue::from_str(value),
        ) {
            headers.insert(name, value);
        }
    }
    let reply = Reply {
        status: StatusCode::from_u16(exchange.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
        headers,
        body: (!exchange.body.is_null()).then(|| exchange.body.clone()),
    };
    let mut found: Vec<String> = check(operation, &reply)
        .iter()
        .map(|v| format!("{} {}: {}", v.keyword, v.pointer, v.message))
        .collect();
    // A strict fake replaces a broken response by a documented 500 and names the violation.
    if let Some(named) = exchange.headers.get(VIOLATION_HEADER) {
        found.push(format!("the fake reported a contract violation: {named}"));
    }
    found
}
