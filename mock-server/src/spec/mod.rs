//! The vendors' OpenAPI documents, loaded once and compiled into an immutable operation table.
//!
//! OpenAPI 3.0 documents are checked with `openapiv3`, 3.1 documents with `oas3`; both are then
//! read as plain JSON, 3.0 schemas are rewritten into draft 2020-12 (`normalize`), and every
//! parameter, body and response schema is compiled by `jsonschema` against the whole document, so
//! `$ref`s into `components` resolve without copying.

mod integers;
mod normalize;
mod operation;
mod schema;

use std::collections::BTreeMap;
use std::path::Path;

use axum::http::Method;
use serde_json::{Value, json};

pub use normalize::openapi30_to_2020_12;
pub use operation::{
    HeaderSpec, MediaSpec, Operation, ParamLocation, Parameter, RequestBodySpec, ResponseSpec,
    ScalarKind, StatusMatch,
};
use schema::Recipe;
pub use schema::{Place, Schema, Violation};

use crate::VendorId;

/// Why a spec could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum SpecError {
    /// The file could not be read.
    #[error("reading {path}: {source}")]
    Read {
        /// The file.
        path: String,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The YAML did not parse.
    #[error("{vendor}: not valid YAML: {source}")]
    Yaml {
        /// The vendor.
        vendor: VendorId,
        /// The parser's error.
        source: serde_norway::Error,
    },
    /// The document is not a valid OpenAPI document of the version it declares.
    #[error("{vendor}: not a valid OpenAPI {version} document: {message}")]
    OpenApi {
        /// The vendor.
        vendor: VendorId,
        /// The declared version.
        version: String,
        /// What the OpenAPI model rejected.
        message: String,
    },
    /// A schema did not compile.
    #[error("{vendor}: schema at {pointer} does not compile: {message}")]
    Schema {
        /// The vendor.
        vendor: VendorId,
        /// JSON pointer into the document.
        pointer: String,
        /// The compiler's error.
        message: String,
    },
    /// The document is structurally unusable (a dangling `$ref`, an unknown method …).
    #[error("{vendor}: {message}")]
    Invalid {
        /// The vendor.
        vendor: VendorId,
        /// What is wrong.
        message: String,
    },
}

/// A vendor was named that the fake does not serve (a fake serving one vendor compiles only that
/// vendor's spec): answered wherever a vendor is named as an unknown vendor would be.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{vendor} is not served by this fake (it serves {})", names(served))]
pub struct NotServed {
    /// The vendor named.
    pub vendor: VendorId,
    /// The vendors the fake serves.
    pub served: Vec<VendorId>,
}

fn names(vendors: &[VendorId]) -> String {
    vendors
        .iter()
        .map(|v| v.name())
        .collect::<Vec<_>>()
        .join(", ")
}

/// The spec compiled into the binary for `vendor` (each vendor embeds its own), so
/// `understudy serve` needs no files.
pub fn embedded_source(vendor: VendorId) -> &'static str {
    crate::vendors::embedded_spec(vendor)
}

/// One vendor's document, compiled.
#[derive(Debug)]
pub struct VendorSpec {
    /// The vendor.
    pub vendor: VendorId,
    /// The declared `openapi` version (`3.0.3`, `3.1.0`).
    pub openapi_version: String,
    /// The document as loaded (before normalisation), for serving and tooling.
    pub document: Value,
    /// Every operation, in document order.
    pub operations: Vec<Operation>,
}

impl VendorSpec {
    /// Parses and compiles one vendor's YAML document, every schema included.
    pub fn compile(vendor: VendorId, yaml: &str) -> Result<Self, SpecError> {
        Self::load(vendor, yaml, Compile::Now)
    }

    fn load(vendor: VendorId, yaml: &str, compile: Compile) -> Result<Self, SpecError> {
        let document: Value =
            serde_norway::from_str(yaml).map_err(|source| SpecError::Yaml { vendor, source })?;
        let version = document
            .get("openapi")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string();
        // The embedded specs are checked against OpenAPI's types by the tests
        // (`compile_all`); a spec from a directory is checked as it loads.
        if compile == Compile::Now {
            check_openapi(vendor, &version, &document)?;
        }
        let mut normalised = document.clone();
        if version.starts_with("3.0.") {
            openapi30_to_2020_12(&mut normalised);
        } else if !version.starts_with("3.1.") {
            return Err(unsupported(vendor, &version));
        }
        integers::mark_int64(&mut normalised);
        let operations = Compiler::new(vendor, &normalised, compile)?.operations()?;
        Ok(VendorSpec {
            vendor,
            openapi_version: version,
            document,
            operations,
        })
    }

    /// Checks the document against OpenAPI's own types (openapiv3 for 3.0, oas3 for 3.1) and
    /// compiles every schema not compiled yet: what a load from a directory does at once.
    pub fn compile_all(&self) -> Result<(), SpecError> {
        check_openapi(self.vendor, &self.openapi_version, &self.document)?;
        for op in &self.operations {
            let params = op.parameters.iter().map(|p| (&p.schema, "parameter"));
            let body = op.body.iter().map(|b| (&b.schema, "request body"));
            let responses = op.responses.iter().flat_map(|r| {
                r.headers
                    .iter()
                    .map(|h| (&h.schema, "response header"))
                    .chain(r.body.iter().map(|b| (&b.schema, "response body")))
            });
            for (schema, what) in params.chain(body).chain(responses) {
                schema.compiled().map_err(|message| SpecError::Schema {
                    vendor: self.vendor,
                    pointer: format!("{} {what}", op.operation_id),
                    message: message.to_string(),
                })?;
            }
        }
        Ok(())
    }

    /// The operation with this `operationId`.
    pub fn operation(&self, operation_id: &str) -> Option<&Operation> {
        self.operations
            .iter()
            .find(|o| o.operation_id == operation_id)
    }
}

/// All loaded vendors' specs: the immutable table every request reads.
#[derive(Debug)]
pub struct SpecSet {
    specs: BTreeMap<VendorId, VendorSpec>,
}

impl SpecSet {
    /// Loads the specs embedded in the binary. Their schemas compile on first use (the tests
    /// compile every one, [`VendorSpec::compile_all`]); a spec from a directory compiles in
    /// full at load.
    pub fn embedded() -> Result<Self, SpecError> {
        Self::embedded_only(VendorId::ALL)
    }

    /// Compiles the embedded specs of `vendors` only: a fake serving one vendor need not pay
    /// for compiling the other four.
    pub fn embedded_only(vendors: impl IntoIterator<Item = VendorId>) -> Result<Self, SpecError> {
        Self::from_sources(
            vendors
                .into_iter()
                .map(|v| (v, embedded_source(v).to_string())),
            Compile::OnFirstUse,
        )
    }

    /// Compiles `<dir>/<vendor>.yaml` for every vendor (an edited copy of `specs/`).
    pub fn from_dir(dir: &Path) -> Result<Self, SpecError> {
        Self::from_dir_only(dir, VendorId::ALL)
    }

    /// Compiles `<dir>/<vendor>.yaml` for `vendors` only; the others' files need not exist.
    pub fn from_dir_only(
        dir: &Path,
        vendors: impl IntoIterator<Item = VendorId>,
    ) -> Result<Self, SpecError> {
        let mut sources = Vec::new();
        for vendor in vendors {
            let path = dir.join(vendor.spec_file());
            let text = std::fs::read_to_string(&path).map_err(|source| SpecError::Read {
                path: path.display().to_string(),
                source,
            })?;
            sources.push((vendor, text));
        }
        Self::from_sources(sources, Compile::Now)
    }

    fn from_sources(
        sources: impl IntoIterator<Item = (VendorId, String)>,
        compile: Compile,
    ) -> Result<Self, SpecError> {
        let mut specs = BTreeMap::new();
        for (vendor, text) in sources {
            specs.insert(vendor, VendorSpec::load(vendor, &text, compile)?);
        }
        Ok(SpecSet { specs })
    }

    /// One vendor's compiled spec.
    ///
    /// # Panics
    /// When the set was compiled without `vendor` (see [`SpecSet::embedded_only`]); code that
    /// takes a vendor from outside (a request, a rule, a log) asks [`SpecSet::get`] instead.
    pub fn vendor(&self, vendor: VendorId) -> &VendorSpec {
        &self.specs[&vendor]
    }

    /// One vendor's compiled spec, or `None` when the set was compiled without it.
    pub fn get(&self, vendor: VendorId) -> Option<&VendorSpec> {
        self.specs.get(&vendor)
    }

    /// One vendor's compiled spec, or why there is none: for a vendor named from outside.
    pub fn try_vendor(&self, vendor: VendorId) -> Result<&VendorSpec, NotServed> {
        self.get(vendor).ok_or_else(|| NotServed {
            vendor,
            served: self.vendors().collect(),
        })
    }

    /// Whether the set holds `vendor`'s spec, i.e. whether a fake built on it serves `vendor`.
    pub fn contains(&self, vendor: VendorId) -> bool {
        self.specs.contains_key(&vendor)
    }

    /// The vendors whose specs the set holds, in [`VendorId::ALL`]'s order.
    pub fn vendors(&self) -> impl Iterator<Item = VendorId> + '_ {
        self.specs.keys().copied()
    }

    /// Every vendor's compiled spec.
    pub fn iter(&self) -> impl Iterator<Item = &VendorSpec> {
        self.specs.values()
    }
}

const METHODS: [&str; 8] = [
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

/// When a spec's schemas are compiled.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Compile {
    /// All of them, before the spec is returned: a schema that does not compile fails the load.
    Now,
    /// Each the first time it is used (the embedded specs, which the tests compile in full).
    OnFirstUse,
}

/// Parses the document as the OpenAPI version it declares: a document the OpenAPI types reject
/// is no spec, whatever the schemas say.
fn check_openapi(vendor: VendorId, version: &str, document: &Value) -> Result<(), SpecError> {
    let refused = |message: String| SpecError::OpenApi {
        vendor,
        version: version.to_string(),
        message,
    };
    if version.starts_with("3.0.") {
        serde_json::from_value::<openapiv3::OpenAPI>(document.clone())
            .map(drop)
            .map_err(|e| refused(e.to_string()))
    } else if version.starts_with("3.1.") {
        serde_json::from_value::<oas3::Spec>(document.clone())
            .map(drop)
            .map_err(|e| refused(e.to_string()))
    } else {
        Err(unsupported(vendor, version))
    }
}

fn unsupported(vendor: VendorId, version: &str) -> SpecError {
    SpecError::OpenApi {
        vendor,
        version: version.to_string(),
        message: "only OpenAPI 3.0.x and 3.1.x are supported".into(),
    }
}

/// Walks a normalised document and compiles its operations.
struct Compiler<'d> {
    vendor: VendorId,
    doc: &'d Value,
    base: String,
    registry: std::sync::Arc<jsonschema::Registry<'static>>,
    compile: Compile,
}

impl<'d> Compiler<'d> {
    fn new(vendor: VendorId, doc: &'d Value, compile: Compile) -> Result<Self, SpecError> {
        let base = format!("https://understudy.invalid/specs/{}.json", vendor.name());
        // The registry owns its copy of the document, so a schema can compile after start-up.
        let registry = jsonschema::Registry::new()
            .draft(jsonschema::Draft::Draft202012)
            .add(&base, doc.clone())
            .and_then(|b| b.prepare())
            .map_err(|e| SpecError::Invalid {
                vendor,
                message: e.to_string(),
            })?;
        Ok(Compiler {
            vendor,
            doc,
            base,
            registry: std::sync::Arc::new(registry),
            compile,
        })
    }

    fn invalid(&self, message: impl Into<String>) -> SpecError {
        SpecError::Invalid {
            vendor: self.vendor,
            message: message.into(),
        }
    }

    /// Follows local `$ref`s to the object they name, returning it and its pointer.
    fn deref(&self, value: &'d Value, pointer: String) -> Result<(&'d Value, String), SpecError> {
        let mut current = (value, pointer);
        for _ in 0..16 {
            match current.0.get("$ref").and_then(Value::as_str) {
                Some(reference) => {
                    let target = reference
                        .strip_prefix('#')
                        .ok_or_else(|| self.invalid(format!("non-local $ref {reference}")))?;
                    let resolved = self
                        .doc
                        .pointer(target)
                        .ok_or_else(|| self.invalid(format!("dangling $ref {reference}")))?;
                    current = (resolved, target.to_string());
                }
                None => return Ok(current),
            }
        }
        Err(self.invalid("$ref chain too deep"))
    }

    fn schema(&self, pointer: &str) -> Result<Schema, SpecError> {
        let source = self
            .doc
            .pointer(pointer)
            .cloned()
            .unwrap_or(Value::Bool(true));
        let recipe = Recipe {
            registry: self.registry.clone(),
            wrapper: json!({ "$ref": format!("{}#{}", self.base, fragment(pointer)) }),
        };
        match self.compile {
            Compile::OnFirstUse => Ok(Schema::lazy(recipe, source)),
            Compile::Now => {
                let validator = recipe.compile().map_err(|message| SpecError::Schema {
                    vendor: self.vendor,
                    pointer: pointer.to_string(),
                    message,
                })?;
                Ok(Schema::new(validator, source))
            }
        }
    }

    /// The scalar kind of the schema at `pointer`, looking through `$ref` and nullable wrappers.
    fn kind(&self, pointer: &str) -> ScalarKind {
        let Some(mut schema) = self.doc.pointer(pointer) else {
            return ScalarKind::String;
        };
        for _ in 0..16 {
            if let Some(target) = schema
                .get("$ref")
                .and_then(Value::as_str)
                .and_then(|r| r.strip_prefix('#'))
            {
                match self.doc.pointer(target) {
                    Some(s) => schema = s,
                    None => break,
                }
                continue;
            }
            if let Some(first) = schema
                .get("anyOf")
                .or_else(|| schema.get("allOf"))
                .or_else(|| schema.get("oneOf"))
                .and_then(Value::as_array)
                .and_then(|a| a.iter().find(|s| s.get("type") != Some(&json!("null"))))
            {
                schema = first;
                continue;
            }
            break;
        }
        let ty = match schema.get("type") {
            Some(Value::String(t)) => t.as_str(),
            Some(Value::Array(types)) => types
                .iter()
                .filter_map(Value::as_str)
                .find(|t| *t != "null")
                .unwrap_or("string"),
            _ => "string",
        };
        match ty {
            "integer" => ScalarKind::Integer,
            "number" => ScalarKind::Number,
            "boolean" => ScalarKind::Boolean,
            "array" => ScalarKind::Array,
            _ => ScalarKind::String,
        }
    }

    fn operations(&self) -> Result<Vec<Operation>, SpecError> {
        let mut operations = Vec::new();
        let Some(paths) = self.doc.get("paths").and_then(Value::as_object) else {
            return Err(self.invalid("document has no paths"));
        };
        for (path, item) in paths {
            let item_pointer = format!("/paths/{}", escape(path));
            let (item, item_pointer) = self.deref(item, item_pointer)?;
            for method in METHODS {
                let Some(op) = item.get(method) else { continue };
                let op_pointer = format!("{item_pointer}/{method}");
                operations.push(self.operation(
                    path,
                    method,
                    item,
                    &item_pointer,
                    op,
                    &op_pointer,
                )?);
            }
        }
        Ok(operations)
    }

    fn operation(
        &self,
        path: &str,
        method: &str,
        item: &'d Value,
        item_pointer: &str,
        op: &'d Value,
        op_pointer: &str,
    ) -> Result<Operation, SpecError> {
        let operation_id = op
            .get("operationId")
            .and_then(Value::as_str)
            .ok_or_else(|| self.invalid(format!("{method} {path} has no operationId")))?
            .to_string();
        // Path-level parameters first; an operation-level one with the same name and place wins.
        let mut parameters: Vec<Parameter> = Vec::new();
        for (list, pointer) in [
            (item.get("parameters"), item_pointer),
            (op.get("parameters"), op_pointer),
        ] {
            let Some(list) = list.and_then(Value::as_array) else {
                continue;
            };
            for (i, param) in list.iter().enumerate() {
                let parameter = self.parameter(param, format!("{pointer}/parameters/{i}"))?;
                parameters
                    .retain(|p| !(p.name == parameter.name && p.location == parameter.location));
                parameters.push(parameter);
            }
        }
        let body = match op.get("requestBody") {
            Some(body) => self.request_body(body, format!("{op_pointer}/requestBody"))?,
            None => None,
        };
        let mut responses = Vec::new();
        if let Some(map) = op.get("responses").and_then(Value::as_object) {
            for (status, response) in map {
                let pointer = format!("{op_pointer}/responses/{}", escape(status));
                responses.push(self.response(status, response, pointer)?);
            }
        }
        Ok(Operation {
            vendor: self.vendor,
            operation_id,
            method: Method::from_bytes(method.to_ascii_uppercase().as_bytes())
                .map_err(|e| self.invalid(e.to_string()))?,
            path: path.to_string(),
            parameters,
            body,
            responses,
            deprecated: op
                .get("deprecated")
                .and_then(Value::as_bool)
                .unwrap_or(false),
        })
    }

    fn parameter(&self, param: &'d Value, pointer: String) -> Result<Parameter, SpecError> {
        let (param, pointer) = self.deref(param, pointer)?;
        let name = param
            .get("name")
            .and_then(Value::as_str)
            .ok_or_else(|| self.invalid(format!("parameter at {pointer} has no name")))?;
        let location = match param.get("in").and_then(Value::as_str) {
            Some("path") => ParamLocation::Path,
            Some("query") => ParamLocation::Query,
            Some("header") => ParamLocation::Header,
            Some("cookie") => ParamLocation::Cookie,
            other => {
                return Err(self.invalid(format!("parameter {name}: unknown location {other:?}")));
            }
        };
        let schema_pointer = format!("{pointer}/schema");
        Ok(Parameter {
            name: name.to_string(),
            location,
            required: location == ParamLocation::Path
                || param
                    .get("required")
                    .and_then(Value::as_bool)
                    .unwrap_or(false),
            kind: self.kind(&schema_pointer),
            schema: self.schema(&schema_pointer)?,
        })
    }

    fn request_body(
        &self,
        body: &'d Value,
        pointer: String,
    ) -> Result<Option<RequestBodySpec>, SpecError> {
        let (body, pointer) = self.deref(body, pointer)?;
        let Some((media_type, _)) = body
            .get("content")
            .and_then(Value::as_object)
            .and_then(|c| json_media(c))
        else {
            return Ok(None);
        };
        Ok(Some(RequestBodySpec {
            required: body
                .get("required")
                .and_then(Value::as_bool)
                .unwrap_or(false),
            media_type: media_type.clone(),
            schema: self.schema(&format!("{pointer}/content/{}/schema", escape(media_type)))?,
        }))
    }

    fn response(
        &self,
        status: &str,
        response: &'d Value,
        pointer: String,
    ) -> Result<ResponseSpec, SpecError> {
        let status_match = if status == "default" {
            StatusMatch::Default
        } else if let Some(class) = status.strip_suffix("XX").and_then(|d| d.parse().ok()) {
            StatusMatch::Class(class)
        } else {
            StatusMatch::Exact(
                status
                    .parse()
                    .map_err(|_| self.invalid(format!("bad status {status}")))?,
            )
        };
        let (response, pointer) = self.deref(response, pointer)?;
        let mut headers = Vec::new();
        if let Some(map) = response.get("headers").and_then(Value::as_object) {
            for (name, header) in map {
                let (header, header_pointer) =
                    self.deref(header, format!("{pointer}/headers/{}", escape(name)))?;
                let schema_pointer = format!("{header_pointer}/schema");
                headers.push(HeaderSpec {
                    name: name.clone(),
                    required: header
                        .get("required")
                        .and_then(Value::as_bool)
                        .unwrap_or(false),
                    kind: self.kind(&schema_pointer),
                    schema: self.schema(&schema_pointer)?,
                });
            }
        }
        let body = match response
            .get("content")
            .and_then(Value::as_object)
            .and_then(|c| json_media(c))
        {
            Some((media_type, media)) => {
                let media_pointer = format!("{pointer}/content/{}", escape(media_type));
                Some(MediaSpec {
                    media_type: media_type.clone(),
                    schema: self.schema(&format!("{media_pointer}/schema"))?,
                    example: media.get("example").cloned().or_else(|| {
                        media
                            .get("examples")
                            .and_then(Value::as_object)
                            .and_then(|e| e.values().next())
                            .and_then(|e| e.get("value").cloned())
                    }),
                })
            }
            None => None,
        };
        Ok(ResponseSpec {
            status: status_match,
            headers,
            body,
        })
    }
}

/// The JSON media type entry of a `content` map, preferring `application/json`.
fn json_media(content: &serde_json::Map<String, Value>) -> Option<(&String, &Value)> {
    content
        .iter()
        .find(|(k, _)| k.as_str() == "application/json")
        .or_else(|| content.iter().find(|(k, _)| k.contains("json")))
}

/// Percent-encodes a JSON pointer for use as a URI fragment (path templates carry `{` and `}`).
/// A JSON pointer written as a URI fragment (percent-encoding what a fragment cannot hold).
pub(crate) fn fragment(pointer: &str) -> String {
    let mut out = String::with_capacity(pointer.len());
    for c in pointer.chars() {
        match c {
            'A'..='Z'
            | 'a'..='z'
            | '0'..='9'
            | '-'
            | '.'
            | '_'
            | '~'
            | '/'
            | ':'
            | '@'
            | '!'
            | '$'
            | '&'
            | '\''
            | '('
            | ')'
            | '*'
            | '+'
            | ','
            | ';'
            | '=' => out.push(c),
            other => {
                let mut buf = [0u8; 4];
                for byte in other.encode_utf8(&mut buf).bytes() {
                    out.push_str(&format!("%{byte:02X}"));
                }
            }
        }
    }
    out
}

/// Escapes one JSON-pointer segment.
fn escape(segment: &str) -> String {
    segment.replace('~', "~0").replace('/', "~1")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_embedded_schema_compiles() {
        let set = SpecSet::embedded().unwrap();
        for spec in set.iter() {
            spec.compile_all().unwrap();
        }
    }

    #[test]
    fn an_embedded_schema_compiles_on_first_use_and_a_spec_from_a_directory_at_load() {
        let vendor = VendorId::Cloudcockpit;
        let lazy = SpecSet::embedded_only([vendor]).unwrap();
        let schema = &lazy.vendor(vendor).operations[0].parameters[0].schema;
        assert!(!schema.is_compiled(), "not compiled at load");
        assert!(schema.compiled().is_ok());
        assert!(schema.is_compiled(), "compiled once used");
        let eager = VendorSpec::compile(vendor, embedded_source(vendor)).unwrap();
        let schema = &eager.operations[0].parameters[0].schema;
        assert!(schema.is_compiled(), "compiled at load");
    }

    #[test]
    fn a_schema_that_does_not_compile_fails_a_load_from_a_directory_and_is_a_violation_later() {
        let vendor = VendorId::Cloudcockpit;
        let broken = embedded_source(vendor).replacen("format: uuid", "pattern: \"([\"", 1);
        assert_ne!(broken, embedded_source(vendor), "the edit applies");
        let error = VendorSpec::compile(vendor, &broken).unwrap_err();
        assert!(matches!(error, SpecError::Schema { .. }), "{error}");
        let lazy = VendorSpec::load(vendor, &broken, Compile::OnFirstUse).unwrap();
        let error = lazy.compile_all().unwrap_err();
        assert!(matches!(error, SpecError::Schema { .. }), "{error}");
        let broken_schema = lazy
            .operations
            .iter()
            .flat_map(|op| op.parameters.iter().map(|p| &p.schema))
            .find(|s| s.compiled().is_err())
            .expect("one parameter's schema is the broken one");
        let violations = broken_schema.violations(&serde_json::json!("x"), Place::Query, Some("p"));
        assert_eq!(violations.len(), 1);
        assert_eq!(violations[0].keyword, "schema");
        assert!(!broken_schema.is_valid(&serde_json::json!("x")));
    }
}
