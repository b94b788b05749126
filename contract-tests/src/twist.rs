//! The generic negative steps: which operations each [`Twist`] applies to, what it does to a
//! request, and the status a vendor's [`Refusals`] predict for it. Vendors contribute only their
//! refusal statuses and, where one of their own operations is refused before its body is read,
//! that status ([`Scenario::refused_early`]).

use serde_json::{Value, json};
use understudy::spec::{Operation, VendorSpec};

use crate::exchange::{RawBody, Request};
use crate::scenario::{Prediction, Refusals, Scenario, Stage, Step, Twist};

/// One byte beyond the request bodies the fake reads (`MAX_BODY_BYTES` in its router, 1 MiB):
/// the smallest body every vendor refuses as too large.
pub const OVERSIZED_BYTES: usize = (1 << 20) + 1;

/// The credential an unknown-credential step sends: no backend knows it.
const UNKNOWN: &str = "understudy_unknown_credential";

/// Whether `twist` applies to `operation` by the spec alone (see [`Scenario::applies`]).
pub fn applies_by_spec(refusals: &Refusals, operation: &Operation, twist: Twist) -> bool {
    match twist {
        Twist::None | Twist::NoCredential | Twist::UnknownCredential | Twist::Forced(_) => true,
        Twist::WrongScheme => refusals.wrong_scheme.is_some(),
        Twist::MalformedJson | Twist::WrongContentType | Twist::InvalidBody => {
            operation.body.is_some()
        }
        Twist::Oversized => refusals.oversized.is_some() && operation.body.is_none(),
        Twist::WrongMethod => operation.documented_statuses().contains(&405),
    }
}

/// The status `S`'s vendor answers `steps[index]`'s twist with. A twisted step is refused by a
/// generic stage before the vendor's rules run, so the model's state does not matter.
pub fn predict<S: Scenario>(model: &S::Model, steps: &[Step<S::Op>], index: usize) -> Prediction {
    let refusals = &S::REFUSALS;
    let early = || S::refused_early(model, steps, index);
    Prediction::Known(match steps[index].twist {
        Twist::Forced(status) => status,
        Twist::WrongMethod => 405,
        Twist::NoCredential | Twist::UnknownCredential | Twist::None => refusals.unauthenticated,
        Twist::WrongScheme => refusals.wrong_scheme.unwrap_or(refusals.unauthenticated),
        // The body is read after the credentials are checked, before the parameters are.
        Twist::Oversized => match early() {
            Some((Stage::Credentials, status)) => status,
            _ => refusals.oversized.unwrap_or(refusals.malformed),
        },
        Twist::MalformedJson | Twist::WrongContentType => {
            early().map_or(refusals.malformed, |(_, status)| status)
        }
        Twist::InvalidBody => early().map_or(refusals.invalid, |(_, status)| status),
    })
}

/// `request` with `twist` applied. `spec` gives the methods the path serves, for
/// [`Twist::WrongMethod`].
pub fn apply(request: Request, twist: Twist, refusals: &Refusals, spec: &VendorSpec) -> Request {
    let mut request = request;
    let credential = |name: &str| {
        refusals
            .credential_headers
            .iter()
            .any(|c| c.eq_ignore_ascii_case(name))
    };
    match twist {
        Twist::None => {}
        Twist::NoCredential => {
            request.headers.retain(|(name, _)| !credential(name));
            request.fixed_credentials = true;
        }
        Twist::UnknownCredential => {
            for (name, value) in request.headers.iter_mut() {
                if credential(name) {
                    *value = unknown_credential(name, value);
                }
            }
            request.fixed_credentials = true;
        }
        Twist::WrongScheme => {
            for (name, value) in request.headers.iter_mut() {
                if name.eq_ignore_ascii_case("authorization") {
                    // base64("understudy:unknown"): well formed, just not a bearer token.
                    *value = "Basic dW5kZXJzdHVkeTp1bmtub3du".into();
                }
            }
            request.fixed_credentials = true;
        }
        Twist::MalformedJson => {
            // No recorder can redact a body it cannot parse: the secrets go first. Cut before
            // the closing brace, `{"a": 1` does not parse.
            let mut body = request.body.take().unwrap_or(json!({}));
            elide_secrets(&mut body);
            let mut text = body.to_string();
            text.pop();
            request.raw_body = Some(RawBody::new("application/json", text));
        }
        Twist::WrongContentType => {
            let text = body_text(&request);
            request.raw_body = Some(RawBody::new("text/plain", text));
        }
        Twist::InvalidBody => {
            let mut body = request.body.take().unwrap_or(json!(7));
            retype_first_member(&mut body);
            request.body = Some(body);
        }
        Twist::Oversized => {
            let text = " ".repeat(OVERSIZED_BYTES);
            request.raw_body = Some(RawBody::new("application/json", text));
        }
        Twist::WrongMethod => {
            let served: Vec<String> = spec
                .operations
                .iter()
                .filter(|op| op.path == template(&request, spec))
                .map(|op| op.method.to_string())
                .collect();
            request.method = ["GET", "POST", "PUT", "PATCH", "DELETE"]
                .into_iter()
                .find(|m| !served.iter().any(|s| s == m))
                .unwrap_or("DELETE");
        }
        Twist::Forced(status) => {
            request = request.header("Prefer", format!("code={status}"));
        }
    }
    request
}

/// The spec path of the operation `request` calls.
fn template<'s>(request: &Request, spec: &'s VendorSpec) -> &'s str {
    spec.operation(request.operation_id)
        .map_or("", |op| op.path.as_str())
}

/// A credential of the same shape no backend knows: the same scheme for `Authorization`, the
/// same cookie names for `Cookie`.
fn unknown_credential(name: &str, value: &str) -> String {
    if name.eq_ignore_ascii_case("authorization") {
        let scheme = value.split_once(' ').map_or("Bearer", |(s, _)| s);
        return format!("{scheme} {UNKNOWN}");
    }
    if name.eq_ignore_ascii_case("cookie") {
        return value
            .split(';')
            .map(|pair| match pair.trim().split_once('=') {
                Some((cookie, _)) => format!("{cookie}={UNKNOWN}"),
                None => pair.trim().to_string(),
            })
            .collect::<Vec<_>>()
            .join("; ");
    }
    UNKNOWN.to_string()
}

/// The request's JSON body as text (`{}` when it has none).
fn body_text(request: &Request) -> String {
    request
        .body
        .as_ref()
        .map_or_else(|| "{}".to_string(), Value::to_string)
}

/// Replaces every secret-keyed string (a linking token, a key) with a stand-in, the way the
/// fixtures' redaction would if it could parse the body.
fn elide_secrets(value: &mut Value) {
    match value {
        Value::Object(map) => {
            for (key, member) in map.iter_mut() {
                match member {
                    Value::String(secret) if understudy::redaction::is_secret_key(key) => {
                        *secret = "elided".into();
                    }
                    other => elide_secrets(other),
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(elide_secrets),
        _ => {}
    }
}

/// Gives the first member of an object (or the value itself) a value of another JSON type, so
/// the body breaks its schema however permissive the other members are.
fn retype_first_member(body: &mut Value) {
    match body {
        Value::Object(map) => match map.values_mut().next() {
            Some(first) => *first = other_type(first),
            None => *body = json!([]),
        },
        other => *other = json!({"unexpected": true}),
    }
}

fn other_type(value: &Value) -> Value {
    match value {
        Value::String(_) => json!(7),
        Value::Number(_) | Value::Bool(_) | Value::Null => json!("seven"),
        Value::Array(_) | Value::Object(_) => json!("not an object"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_credentials_keep_their_shape() {
        assert_eq!(
            unknown_credential("Authorization", "Bearer dub_x"),
            format!("Bearer {UNKNOWN}")
        );
        assert_eq!(
            unknown_credential("Cookie", "id0=abc; other=1"),
            format!("id0={UNKNOWN}; other={UNKNOWN}")
        );
        assert_eq!(unknown_credential("x-api-key", "k"), UNKNOWN);
    }

    #[test]
    fn a_malformed_body_carries_no_secret() {
        let request = Request::new("signupPartnerV2Link", "POST", "/partner/v2/signup/link")
            .json(json!({"token": "confluent_link_understudy", "entitlement": {"name": "P"}}));
        let refusals = Refusals {
            unauthenticated: 401,
            wrong_scheme: None,
            malformed: 400,
            invalid: 400,
            oversized: None,
            credential_headers: &[],
        };
        let spec = understudy::spec::SpecSet::embedded().unwrap();
        let spec = spec.vendor(understudy::VendorId::Confluent);
        let twisted = apply(request, Twist::MalformedJson, &refusals, spec);
        let raw = twisted.raw_body.expect("a raw body");
        assert!(!raw.text.contains("confluent_link"), "{}", raw.text);
        assert!(
            serde_json::from_str::<Value>(&raw.text).is_err(),
            "{}",
            raw.text
        );
        assert!(raw.text.contains("\"entitlement\""), "{}", raw.text);
    }

    #[test]
    fn the_first_member_changes_type() {
        let mut body = json!({"email": "a@b.example", "name": "A"});
        retype_first_member(&mut body);
        assert_eq!(body, json!({"email": 7, "name": "A"}));
        let mut number = json!({"planId": 3});
        retype_first_member(&mut number);
        assert_eq!(number, json!({"planId": "seven"}));
    }
}
