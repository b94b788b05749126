//! Response validation: every reply is checked against the operation's declared response for
//! its status before it leaves, so a contract bug in the fake cannot pass silently.

use axum::http::HeaderMap;
use serde_json::Value;

use super::Reply;
use super::conforming::ConformingBodies;
use crate::spec::{Operation, Place, Violation};

/// The header carrying the diagnosis when strict mode replaces a non-conforming reply.
pub const VIOLATION_HEADER: &str = "x-understudy-contract-violation";

/// Every way `reply` breaks what `op` documents for its status.
pub fn check(op: &Operation, reply: &Reply) -> Vec<Violation> {
    check_remembering(op, reply, None)
}

/// [`check`], skipping the schema check of a body `memo` knows has passed it before, and
/// remembering bodies that pass.
pub fn check_remembering(
    op: &Operation,
    reply: &Reply,
    memo: Option<&ConformingBodies>,
) -> Vec<Violation> {
    let status = reply.status.as_u16();
    let Some(spec) = op.response_for(status) else {
        return vec![Violation::new(
            Place::ResponseBody,
            None,
            "status",
            format!("status {status} is not documented for {}", op.operation_id),
        )];
    };
    let mut violations = header_violations(spec, &reply.headers);
    match (&spec.body, &reply.body) {
        (Some(media), Some(body)) => {
            let key = memo.and_then(|m| m.key(op, status, body));
            let known = memo
                .zip(key.as_ref())
                .is_some_and(|(memo, key)| memo.knows(key, body));
            if !known {
                let found = media.schema.violations(body, Place::ResponseBody, None);
                if let (Some(memo), Some(key), true) = (memo, key, found.is_empty()) {
                    memo.remember(key, body);
                }
                violations.extend(found);
            }
        }
        (Some(_), None) => violations.push(Violation::new(
            Place::ResponseBody,
            None,
            "content",
            format!("status {status} documents a body but none was sent"),
        )),
        (None, Some(_)) => violations.push(Violation::new(
            Place::ResponseBody,
            None,
            "content",
            format!("status {status} documents no body but one was sent"),
        )),
        (None, None) => {}
    }
    violations
}

fn header_violations(spec: &crate::spec::ResponseSpec, headers: &HeaderMap) -> Vec<Violation> {
    let mut violations = Vec::new();
    for declared in &spec.headers {
        let values: Vec<&str> = headers
            .get_all(declared.name.as_str())
            .iter()
            .filter_map(|v| v.to_str().ok())
            .collect();
        if values.is_empty() {
            if declared.required {
                violations.push(Violation::new(
                    Place::ResponseHeader,
                    Some(&declared.name),
                    "required",
                    "is required",
                ));
            }
            continue;
        }
        let value: Value = declared.kind.coerce(&values);
        violations.extend(declared.schema.violations(
            &value,
            Place::ResponseHeader,
            Some(&declared.name),
        ));
    }
    violations
}

#[cfg(test)]
#[path = "response_tests.rs"]
mod tests;
