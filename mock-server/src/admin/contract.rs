//! The admin API's own contract, enforced: every admin request's query and JSON body are
//! validated against `admin-openapi.yaml` before a handler runs, the way vendor requests are
//! validated against their specs, so a value the document forbids (a rate limit of 0, a
//! negative journal limit) is a 400 in the documented shape and never reaches the state.

use std::collections::BTreeMap;
use std::sync::LazyLock;

use axum::body::{Body, Bytes};
use axum::extract::{MatchedPath, Request};
use axum::http::Method;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::{AdminError, OPENAPI_YAML, PREFIX};
use crate::spec::{Place, ScalarKind, Schema, Violation, openapi30_to_2020_12};

/// The largest admin body that is read whole for validation. State imports, which can be far
/// larger, are not buffered here (their operations take `{}`-shaped bodies that the document
/// does not constrain beyond what the import itself checks).
pub const MAX_CHECKED_BODY_BYTES: usize = 1 << 20;

/// Operations whose body this stage does not read: the state imports, whose bodies are only
/// bounded by the import itself.
const UNBUFFERED: [&str; 2] = ["importState", "importVendorState"];

/// One admin operation's compiled request schemas.
struct AdminOperation {
    operation_id: String,
    query: Vec<(String, ScalarKind, Schema)>,
    body: Option<Schema>,
}

/// The admin document's operations, keyed by method and path template (without the prefix).
pub struct AdminContract {
    operations: BTreeMap<(String, String), AdminOperation>,
}

/// Why the embedded admin document could not be compiled.
#[derive(Debug, thiserror::Error)]
#[error("admin-openapi.yaml: {0}")]
pub struct ContractError(String);

/// The admin document `yaml` with its `VendorName` listing the vendors the registry has, so a
/// vendor added there is named by the admin API without editing the YAML.
fn with_registry_vendors(yaml: &str) -> Result<Value, ContractError> {
    let mut document: Value =
        serde_norway::from_str(yaml).map_err(|e| ContractError(e.to_string()))?;
    if let Some(names) = document.pointer_mut("/components/schemas/VendorName/enum") {
        *names = crate::VendorId::ALL
            .iter()
            .map(|v| json!(v.name()))
            .collect();
    }
    Ok(document)
}

static CONTRACT: LazyLock<Result<AdminContract, ContractError>> =
    LazyLock::new(|| AdminContract::compile(OPENAPI_YAML));

/// The keys of a path item that are operations.
const HTTP_METHODS: [&str; 8] = [
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

static DOCUMENT: LazyLock<Result<Value, ContractError>> =
    LazyLock::new(|| with_world_routes(OPENAPI_YAML));

/// The embedded admin document as served: every route written once in the file, and each
/// world-scoped one again under `/worlds/{world}` (see [`with_world_routes`]).
pub fn document() -> Result<&'static Value, &'static ContractError> {
    DOCUMENT.as_ref()
}

/// Parses `yaml` and adds, for every path not marked `x-understudy-world-scoped: false`, the
/// same path under `/worlds/{world}`: the same operations with the `World` parameter first,
/// the operation id suffixed `InWorld`, and the world selector's errors (400 for a bad name,
/// 503 when no world can make room) documented. The routes are one set of handlers behind a
/// path rewrite, so the document derives them the same way rather than repeating 17 paths.
///
/// Its `VendorName` lists the vendors the registry has (a vendor added there is named by the
/// admin API without editing the YAML).
pub fn with_world_routes(yaml: &str) -> Result<Value, ContractError> {
    let mut document = with_registry_vendors(yaml)?;
    let paths = document["paths"]
        .as_object()
        .ok_or_else(|| ContractError("no paths".into()))?;
    let mut scoped = Vec::new();
    for (path, item) in paths {
        if item.get("x-understudy-world-scoped") == Some(&Value::Bool(false)) {
            continue;
        }
        let mut item = item.clone();
        for (method, op) in item.as_object_mut().into_iter().flatten() {
            let Some(op) = op
                .as_object_mut()
                .filter(|_| HTTP_METHODS.contains(&method.as_str()))
            else {
                continue;
            };
            if let Some(Value::String(id)) = op.get_mut("operationId") {
                id.push_str("InWorld");
            }
            let parameters = op
                .entry("parameters")
                .or_insert_with(|| Value::Array(Vec::new()));
            if let Value::Array(list) = parameters {
                list.insert(0, json!({"$ref": "#/components/parameters/World"}));
            }
            if let Some(Value::Object(responses)) = op.get_mut("responses") {
                responses
                    .entry("400")
                    .or_insert_with(|| json!({"$ref": "#/components/responses/BadRequest"}));
                responses.insert(
                    "503".into(),
                    json!({"$ref": "#/components/responses/WorldsFull"}),
                );
            }
        }
        scoped.push((format!("/worlds/{{world}}{path}"), item));
    }
    let paths = document["paths"]
        .as_object_mut()
        .ok_or_else(|| ContractError("no paths".into()))?;
    for (path, item) in scoped {
        paths.insert(path, item);
    }
    Ok(document)
}

impl AdminContract {
    /// The embedded document's contract, compiled once.
    pub fn embedded() -> Result<&'static AdminContract, &'static ContractError> {
        CONTRACT.as_ref()
    }

    /// Compiles `yaml` (an OpenAPI 3.0 document) as served (see [`with_world_routes`]).
    pub fn compile(yaml: &str) -> Result<Self, ContractError> {
        let mut document = with_world_routes(yaml)?;
        openapi30_to_2020_12(&mut document);
        let base = "https://understudy.invalid/admin-openapi.json";
        let registry = jsonschema::Registry::new()
            .draft(jsonschema::Draft::Draft202012)
            .add(base, &document)
            .and_then(|b| b.prepare())
            .map_err(|e| ContractError(e.to_string()))?;
        let schema = |pointer: &str| -> Result<Schema, ContractError> {
            let source = document
                .pointer(pointer)
                .cloned()
                .unwrap_or(Value::Bool(true));
            let wrapper = json!({ "$ref": format!("{base}#{}", crate::spec::fragment(pointer)) });
            let validator = jsonschema::options()
                .with_draft(jsonschema::Draft::Draft202012)
                .should_validate_formats(true)
                .with_registry(&registry)
                .build(&wrapper)
                .map_err(|e| ContractError(format!("{pointer}: {e}")))?;
            Ok(Schema::new(validator, source))
        };
        let resolve = |value: &Value| -> Value {
            match value.get("$ref").and_then(Value::as_str) {
                Some(r) => r
                    .strip_prefix('#')
                    .and_then(|p| document.pointer(p))
                    .cloned()
                    .unwrap_or(Value::Null),
                None => value.clone(),
            }
        };
        let mut operations = BTreeMap::new();
        let paths = document["paths"]
            .as_object()
            .ok_or_else(|| ContractError("no paths".into()))?;
        for (path, item) in paths {
            let escaped = path.replace('~', "~0").replace('/', "~1");
            for (method, op) in item.as_object().into_iter().flatten() {
                let Ok(parsed) = method.to_ascii_uppercase().parse::<Method>() else {
                    continue;
                };
                if method == "parameters" || method.starts_with("x-") || !op.is_object() {
                    continue;
                }
                let operation_id = op["operationId"]
                    .as_str()
                    .ok_or_else(|| ContractError(format!("{method} {path}: no operationId")))?
                    .to_string();
                let mut query = Vec::new();
                for (index, parameter) in op["parameters"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .enumerate()
                {
                    let parameter = resolve(parameter);
                    if parameter["in"] != "query" {
                        continue;
                    }
                    let name = parameter["name"].as_str().unwrap_or_default().to_string();
                    let kind = match parameter.pointer("/schema/type").and_then(Value::as_str) {
                        Some("integer") => ScalarKind::Integer,
                        Some("number") => ScalarKind::Number,
                        Some("boolean") => ScalarKind::Boolean,
                        _ => ScalarKind::String,
                    };
                    let pointer = format!("/paths/{escaped}/{method}/parameters/{index}");
                    let pointer = match op["parameters"][index].get("$ref").and_then(Value::as_str)
                    {
                        Some(r) => r.trim_start_matches('#').to_string(),
                        None => pointer,
                    };
                    query.push((name, kind, schema(&format!("{pointer}/schema"))?));
                }
                let body_pointer = format!(
                    "/paths/{escaped}/{method}/requestBody/content/application~1json/schema"
                );
                let body = if document.pointer(&body_pointer).is_some() {
                    Some(schema(&body_pointer)?)
                } else {
                    None
                };
                operations.insert(
                    (parsed.to_string(), path.clone()),
                    AdminOperation {
                        operation_id,
                        query,
                        body,
                    },
                );
            }
        }
        Ok(AdminContract { operations })
    }

    /// How many operations the document has.
    pub fn len(&self) -> usize {
        self.operations.len()
    }

    /// Whether the document has no operations.
    pub fn is_empty(&self) -> bool {
        self.operations.is_empty()
    }

    /// The operation id routed at `method` and `path` (a template without the prefix).
    pub fn operation_id(&self, method: &Method, path: &str) -> Option<&str> {
        self.operations
            .get(&(method.to_string(), path.to_string()))
            .map(|o| o.operation_id.as_str())
    }

    fn operation(&self, method: &Method, path: &str) -> Option<&AdminOperation> {
        self.operations.get(&(method.to_string(), path.to_string()))
    }
}

/// The first violation as the error message, with how many more there were.
fn refusal(violations: Vec<Violation>) -> AdminError {
    let more = violations.len().saturating_sub(1);
    let first = violations
        .into_iter()
        .next()
        .map(|v| v.to_string())
        .unwrap_or_default();
    AdminError::BadRequest(match more {
        0 => first,
        n => format!("{first} (and {n} more)"),
    })
}

/// Middleware over the admin routes: validates the query and the JSON body of the matched
/// operation against the admin document, answering a 400 in the admin error shape when either
/// does not fit.
pub async fn conform(request: Request, next: Next) -> Response {
    let Ok(contract) = AdminContract::embedded() else {
        return AdminError::BadRequest("the admin document does not compile".into())
            .into_response();
    };
    let template = request.extensions().get::<MatchedPath>().map(|m| {
        m.as_str()
            .strip_prefix(PREFIX)
            .unwrap_or(m.as_str())
            .to_string()
    });
    let Some(op) = template
        .as_deref()
        .and_then(|t| contract.operation(request.method(), t))
    else {
        return next.run(request).await;
    };
    if let Err(error) = check_query(op, request.uri().query()) {
        return error.into_response();
    }
    let Some(schema) = op
        .body
        .as_ref()
        .filter(|_| !UNBUFFERED.contains(&op.operation_id.as_str()))
    else {
        return next.run(request).await;
    };
    let (parts, body) = request.into_parts();
    let bytes = match axum::body::to_bytes(body, MAX_CHECKED_BODY_BYTES).await {
        Ok(bytes) => bytes,
        Err(error) => return body_read_error(error).into_response(),
    };
    if let Err(error) = check_body(schema, &bytes) {
        return error.into_response();
    }
    next.run(Request::from_parts(parts, Body::from(bytes)))
        .await
}

/// A body that could not be read: beyond the limit, or broken on the wire.
pub fn body_read_error(error: axum::Error) -> AdminError {
    let too_large = std::error::Error::source(&error)
        .is_some_and(|s| s.is::<http_body_util::LengthLimitError>());
    if too_large {
        AdminError::BadRequest(format!(
            "the body is larger than {MAX_CHECKED_BODY_BYTES} bytes"
        ))
    } else {
        AdminError::BadRequest(format!("the body could not be read: {error}"))
    }
}

fn check_query(op: &AdminOperation, query: Option<&str>) -> Result<(), AdminError> {
    let pairs: Vec<(String, String)> = query
        .map(|q| {
            url::form_urlencoded::parse(q.as_bytes())
                .into_owned()
                .collect()
        })
        .unwrap_or_default();
    let mut violations = Vec::new();
    for (name, kind, schema) in &op.query {
        let values: Vec<&str> = pairs
            .iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .collect();
        if values.is_empty() {
            continue;
        }
        let value = kind.coerce(&values);
        violations.extend(schema.violations(&value, Place::Query, Some(name)));
    }
    if violations.is_empty() {
        Ok(())
    } else {
        Err(refusal(violations))
    }
}

fn check_body(schema: &Schema, bytes: &Bytes) -> Result<(), AdminError> {
    // An absent body is the handler's business (an action may take none).
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(());
    }
    let value: Value = serde_json::from_slice(bytes)
        .map_err(|e| AdminError::BadRequest(format!("the body is not JSON: {e}")))?;
    let violations = schema.violations(&value, Place::Body, None);
    if violations.is_empty() {
        Ok(())
    } else {
        Err(refusal(violations))
    }
}

/// A JSON object of `pairs`, for tests that build queries.
#[cfg(test)]
fn object(pairs: &[(&str, Value)]) -> Value {
    Value::Object(
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.clone()))
            .collect::<serde_json::Map<_, _>>(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn contract() -> &'static AdminContract {
        AdminContract::embedded().expect("the embedded admin document compiles")
    }

    #[test]
    fn every_body_taking_operation_has_a_schema() {
        let contract = contract();
        assert!(contract.len() >= 18, "{} operations", contract.len());
        let op = contract
            .operation(&Method::PUT, "/rate-limits/{vendor}")
            .unwrap();
        assert_eq!(op.operation_id, "setRateLimit");
        assert!(op.body.is_some());
    }

    #[test]
    fn bodies_and_queries_outside_the_document_are_refused() {
        let contract = contract();
        let limit = contract
            .operation(&Method::PUT, "/rate-limits/{vendor}")
            .unwrap();
        let config = |limit: u64, window: u64| {
            object(&[
                ("algorithm", json!("fixed_window")),
                ("limit", json!(limit)),
                ("window_seconds", json!(window)),
                ("reset", json!("epoch_ms")),
                ("retry_after", json!("seconds")),
            ])
            .to_string()
        };
        let schema = limit.body.as_ref().unwrap();
        assert!(check_body(schema, &Bytes::from(config(1, 1))).is_ok());
        assert!(check_body(schema, &Bytes::from(config(0, 1))).is_err());
        assert!(check_body(schema, &Bytes::from(config(1, 0))).is_err());
        assert!(
            check_body(schema, &Bytes::from("null")).is_ok(),
            "null removes the limit"
        );
        assert!(check_body(schema, &Bytes::from("{")).is_err());
        let journal = contract.operation(&Method::GET, "/journal").unwrap();
        assert!(check_query(journal, Some("limit=5")).is_ok());
        assert!(check_query(journal, Some("limit=-1")).is_err());
        assert!(check_query(journal, Some("vendor=nobody")).is_err());
    }
}
