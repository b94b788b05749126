//! A compiled JSON schema taken from a spec, and the violations it reports.

use std::fmt;

use jsonschema::error::ValidationErrorKind;
use serde::Serialize;
use serde_json::Value;

/// Where in an exchange a violation was found.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Place {
    /// A path parameter.
    Path,
    /// A query parameter.
    Query,
    /// A request header.
    Header,
    /// A request cookie.
    Cookie,
    /// The request body.
    Body,
    /// A response header.
    ResponseHeader,
    /// The response body.
    ResponseBody,
}

/// One way a value fails its schema.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Violation {
    /// Which part of the exchange.
    pub place: Place,
    /// The parameter or header name, when the place has names.
    pub name: Option<String>,
    /// JSON pointer to the offending value (for `required`, to the missing property).
    pub pointer: String,
    /// The JSON Schema keyword that failed (`required`, `type`, `format`, …).
    pub keyword: String,
    /// What the validator said.
    pub message: String,
}

impl Violation {
    /// A violation that did not come from a schema keyword (a missing parameter, bad JSON …).
    pub fn new(
        place: Place,
        name: Option<&str>,
        keyword: &str,
        message: impl Into<String>,
    ) -> Self {
        Violation {
            place,
            name: name.map(str::to_string),
            pointer: String::new(),
            keyword: keyword.to_string(),
            message: message.into(),
        }
    }

    /// The pointer as dotted object notation (`linkProps.tagIds.0`), as zod and ASP.NET report it.
    pub fn dotted_path(&self) -> String {
        let dotted = self
            .pointer
            .trim_start_matches('/')
            .split('/')
            .filter(|s| !s.is_empty())
            .map(|s| s.replace("~1", "/").replace("~0", "~"))
            .collect::<Vec<_>>()
            .join(".");
        match (&self.name, dotted.is_empty()) {
            (Some(name), true) => name.clone(),
            (Some(name), false) => format!("{name}.{dotted}"),
            (None, _) => dotted,
        }
    }
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let place = serde_json::to_value(self.place)
            .ok()
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_default();
        write!(f, "{place}")?;
        if let Some(name) = &self.name {
            write!(f, " {name}")?;
        }
        if !self.pointer.is_empty() {
            write!(f, " at {}", self.pointer)?;
        }
        write!(f, ": {} ({})", self.message, self.keyword)
    }
}

/// A schema compiled once at start-up; validation never allocates a new validator.
pub struct Schema {
    validator: jsonschema::Validator,
    /// The schema as written in the normalised spec (refs unresolved), for generators and coercion.
    pub source: Value,
}

impl fmt::Debug for Schema {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Schema")
            .field("source", &self.source)
            .finish()
    }
}

impl Schema {
    pub(crate) fn new(validator: jsonschema::Validator, source: Value) -> Self {
        Schema { validator, source }
    }

    /// True when the value satisfies the schema.
    pub fn is_valid(&self, value: &Value) -> bool {
        self.validator.is_valid(value)
    }

    /// Every violation of the schema by `value`, attributed to `place`/`name`.
    pub fn violations(&self, value: &Value, place: Place, name: Option<&str>) -> Vec<Violation> {
        // Nearly every value is valid: the short-circuiting check costs a fraction of
        // collecting errors, which only a failure needs.
        if self.validator.is_valid(value) {
            return Vec::new();
        }
        self.validator
            .iter_errors(value)
            .map(|error| {
                let mut pointer = error.instance_path().as_str().to_string();
                if let ValidationErrorKind::Required { property } = error.kind() {
                    let property = property
                        .as_str()
                        .map(str::to_string)
                        .unwrap_or_else(|| property.to_string());
                    pointer = format!(
                        "{pointer}/{}",
                        property.replace('~', "~0").replace('/', "~1")
                    );
                }
                Violation {
                    place,
                    name: name.map(str::to_string),
                    pointer,
                    keyword: error.kind().keyword().to_string(),
                    message: error.to_string(),
                }
            })
            .collect()
    }
}
