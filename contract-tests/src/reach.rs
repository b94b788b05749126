//! Which documented (operation, status) cells a run must reach, and how: each cell is reached
//! naturally (the fake's own rules answer it), only by fault injection (`Prefer: code=…`), or
//! never, with the reason written in the spec beside the status:
//!
//! ```yaml
//! '500':
//!   $ref: '#/components/responses/InternalServerError'
//!   x-understudy-choice:
//!     reach: forced        # or: unreachable
//!     reason: Understudy never fails on its own; a client meets 500 only when one is forced.
//! ```
//!
//! A status entry without such an annotation is natural. The annotation sits beside `$ref`,
//! where OpenAPI tools ignore it and the fake's compiler does not look.

use std::collections::BTreeMap;

use serde_json::Value;
use understudy::VendorId;

/// How a documented cell is reached.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "kind", content = "reason", rename_all = "snake_case")]
pub enum Reach {
    /// By the fake's own rules, from some request the scenarios send.
    Natural,
    /// Only by fault injection; the reason says why the rules never answer it.
    Forced(String),
    /// Never; the reason says why.
    Unreachable(String),
}

impl Reach {
    /// `natural`, `forced` or `unreachable`.
    pub fn kind(&self) -> &'static str {
        match self {
            Reach::Natural => "natural",
            Reach::Forced(_) => "forced",
            Reach::Unreachable(_) => "unreachable",
        }
    }

    /// The reason written in the spec, for a forced or unreachable cell.
    pub fn reason(&self) -> Option<&str> {
        match self {
            Reach::Natural => None,
            Reach::Forced(reason) | Reach::Unreachable(reason) => Some(reason),
        }
    }
}

/// A vendor's cells: (operation id, status) → how it is reached.
pub type Cells = BTreeMap<(String, u16), Reach>;

/// Why a spec's annotations could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ReachError {
    /// The embedded spec did not parse as YAML.
    #[error("{vendor}: the spec does not parse: {message}")]
    Parse {
        /// The vendor.
        vendor: VendorId,
        /// The parser's message.
        message: String,
    },
    /// An annotation is not `{reach: forced|unreachable, reason: non-empty text}`.
    #[error("{vendor}: {operation} {status}: {message}")]
    Annotation {
        /// The vendor.
        vendor: VendorId,
        /// The operation id.
        operation: String,
        /// The status.
        status: String,
        /// What is wrong.
        message: String,
    },
}

const METHODS: [&str; 8] = [
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

/// Every exact status `vendor`'s embedded spec documents, with how it is reached.
pub fn cells(vendor: VendorId) -> Result<Cells, ReachError> {
    cells_of(vendor, understudy::spec::embedded_source(vendor))
}

/// [`cells`] of the spec text `yaml`.
pub fn cells_of(vendor: VendorId, yaml: &str) -> Result<Cells, ReachError> {
    let doc: Value = serde_norway::from_str(yaml).map_err(|e| ReachError::Parse {
        vendor,
        message: e.to_string(),
    })?;
    let mut cells = Cells::new();
    let paths = doc.get("paths").and_then(Value::as_object);
    for item in paths.into_iter().flat_map(|p| p.values()) {
        for method in METHODS {
            let Some(op) = item.get(method) else { continue };
            let id = op.get("operationId").and_then(Value::as_str).unwrap_or("");
            let responses = op.get("responses").and_then(Value::as_object);
            for (status, response) in responses.into_iter().flatten() {
                let Ok(code) = status.parse::<u16>() else {
                    continue;
                };
                let reach = annotation(response).map_err(|message| ReachError::Annotation {
                    vendor,
                    operation: id.to_string(),
                    status: status.clone(),
                    message,
                })?;
                cells.insert((id.to_string(), code), reach);
            }
        }
    }
    Ok(cells)
}

/// The reach a status entry declares. A string `x-understudy-choice` is an ordinary choice (the
/// cell is natural); a mapping must say `reach` and give a `reason`.
fn annotation(response: &Value) -> Result<Reach, String> {
    let Some(choice) = response
        .get("x-understudy-choice")
        .and_then(Value::as_object)
    else {
        return Ok(Reach::Natural);
    };
    let reason = choice
        .get("reason")
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|r| !r.is_empty())
        .ok_or("x-understudy-choice needs a non-empty reason")?
        .to_string();
    match choice.get("reach").and_then(Value::as_str) {
        Some("forced") => Ok(Reach::Forced(reason)),
        Some("unreachable") => Ok(Reach::Unreachable(reason)),
        other => Err(format!(
            "x-understudy-choice reach must be forced or unreachable, not {other:?}"
        )),
    }
}

/// The statuses of `operation` that are reached only by fault injection.
pub fn forced(cells: &Cells, operation: &str) -> Vec<u16> {
    cells
        .iter()
        .filter(|((op, _), reach)| op == operation && matches!(reach, Reach::Forced(_)))
        .map(|((_, status), _)| *status)
        .collect()
}

/// The statuses a run forces on `operation` (`Prefer: code=…`): its forced cells, and every
/// other documented error status (400 and up) the rules answer naturally but 429. The forced
/// cells are reached no other way; a natural one is forced too, because a vendor renders an
/// injected status with code of its own (Confluent's injected 409 names a resource in
/// `Location`, CloudCockpit's injected 401 is the bare challenge) that no natural step reaches.
/// A natural 429 is left to the rate limiter: its headers describe the limiter's state, which an
/// injected one does not have.
pub fn injectable(cells: &Cells, operation: &str) -> Vec<u16> {
    cells
        .iter()
        .filter(|((op, status), reach)| {
            op == operation
                && *status >= 400
                && match reach {
                    Reach::Forced(_) => true,
                    Reach::Natural => *status != 429,
                    Reach::Unreachable(_) => false,
                }
        })
        .map(|((_, status), _)| *status)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const SPEC: &str = r#"
paths:
  /a:
    get:
      operationId: getA
      responses:
        '200': {description: ok}
        '410':
          $ref: '#/components/responses/Gone'
          x-understudy-choice: {reach: unreachable, reason: never sent}
        '500':
          $ref: '#/components/responses/Internal'
          x-understudy-choice: &forced {reach: forced, reason: the fake never fails}
        default: {description: other}
    post:
      operationId: postA
      responses:
        '201': {description: made, x-understudy-choice: a plain choice}
        '500':
          $ref: '#/components/responses/Internal'
          x-understudy-choice: *forced
"#;

    #[test]
    fn each_status_is_natural_forced_or_unreachable_with_its_reason() {
        let cells = cells_of(VendorId::Dub, SPEC).unwrap();
        let get = |op: &str, s: u16| cells[&(op.to_string(), s)].clone();
        assert_eq!(get("getA", 200), Reach::Natural);
        assert_eq!(get("getA", 410), Reach::Unreachable("never sent".into()));
        assert_eq!(
            get("getA", 500),
            Reach::Forced("the fake never fails".into())
        );
        assert_eq!(get("postA", 201), Reach::Natural);
        assert_eq!(
            get("postA", 500),
            Reach::Forced("the fake never fails".into())
        );
        assert_eq!(cells.len(), 5, "default is no exact status");
        assert_eq!(forced(&cells, "getA"), vec![500]);
        assert_eq!(injectable(&cells, "getA"), vec![500], "410 is unreachable");
        assert!(injectable(&cells, "postA").contains(&500));
    }

    #[test]
    fn an_annotation_without_a_reason_is_refused() {
        let spec = SPEC.replace("reason: never sent", "reason: ''");
        let error = cells_of(VendorId::Dub, &spec).unwrap_err().to_string();
        assert!(
            error.contains("getA 410") && error.contains("reason"),
            "{error}"
        );
        let spec = SPEC.replace("reach: unreachable", "reach: sometimes");
        assert!(cells_of(VendorId::Dub, &spec).is_err());
    }
}
