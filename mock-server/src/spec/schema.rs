//! A compiled JSON schema taken from a spec, and the violations it reports.

use std::fmt;
use std::sync::{Arc, OnceLock};

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

/// A schema taken from a spec, compiled at most once: at start-up, or (for the embedded specs,
/// which `cargo test` compiles in full) the first time a request needs it, so a fake starts
/// without compiling validators its clients never reach. Validation never builds a validator.
pub struct Schema {
    validator: OnceLock<Result<jsonschema::Validator, String>>,
    /// How to compile it, while it is not compiled yet.
    recipe: Option<Recipe>,
    /// The schema as written in the normalised spec (refs unresolved), for generators and coercion.
    pub source: Value,
}

/// What compiling a schema needs: its document's registry and a reference into it.
#[derive(Clone)]
pub(crate) struct Recipe {
    /// Every schema of one document, resolvable by `$ref`.
    pub(crate) registry: Arc<jsonschema::Registry<'static>>,
    /// `{"$ref": "<document>#<pointer>"}`.
    pub(crate) wrapper: Value,
}

impl Recipe {
    /// Compiles the schema: formats checked, int64 bounds as the spec's integers need.
    pub(crate) fn compile(&self) -> Result<jsonschema::Validator, String> {
        jsonschema::options()
            .with_draft(jsonschema::Draft::Draft202012)
            .should_validate_formats(true)
            .with_keyword(super::integers::KEYWORD, super::integers::factory)
            .with_registry(&self.registry)
            .build(&self.wrapper)
            .map_err(|e| e.to_string())
    }
}

impl fmt::Debug for Schema {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Schema")
            .field("source", &self.source)
            .finish()
    }
}

impl Schema {
    /// A schema compiled already.
    pub(crate) fn new(validator: jsonschema::Validator, source: Value) -> Self {
        Schema {
            validator: OnceLock::from(Ok(validator)),
            recipe: None,
            source,
        }
    }

    /// A schema compiled the first time it is used.
    pub(crate) fn lazy(recipe: Recipe, source: Value) -> Self {
        Schema {
            validator: OnceLock::new(),
            recipe: Some(recipe),
            source,
        }
    }

    /// The validator, compiled now if it was not yet; `Err` says why it does not compile.
    pub fn compiled(&self) -> Result<&jsonschema::Validator, &str> {
        self.validator
            .get_or_init(|| match &self.recipe {
                Some(recipe) => recipe.compile(),
                None => Err("no schema to compile".into()),
            })
            .as_ref()
            .map_err(String::as_str)
    }

    /// Whether the validator has been compiled (or found not to compile).
    #[cfg(test)]
    pub(crate) fn is_compiled(&self) -> bool {
        self.validator.get().is_some()
    }

    /// True when the value satisfies the schema (never, when the schema does not compile).
    pub fn is_valid(&self, value: &Value) -> bool {
        self.compiled().is_ok_and(|v| v.is_valid(value))
    }

    /// Every violation of the schema by `value`, attributed to `place`/`name`.
    pub fn violations(&self, value: &Value, place: Place, name: Option<&str>) -> Vec<Violation> {
        // Nearly every value is valid: the short-circuiting check costs a fraction of
        // collecting errors, which only a failure needs.
        let validator = match self.compiled() {
            Ok(validator) => validator,
            // Only an edited spec could get here (start-up compiles those in full, and the
            // embedded ones are compiled in full by the tests): report it, never panic.
            Err(message) => {
                return vec![Violation::new(
                    place,
                    name,
                    "schema",
                    format!("the spec's schema does not compile: {message}"),
                )];
            }
        };
        if validator.is_valid(value) {
            return Vec::new();
        }
        validator
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
