//! Integers as a typed server reads them. JSON Schema calls `1.0` an integer and has no upper
//! bound, but a vendor that parses into a 64-bit integer type (Enhance's orchd, in Rust)
//! refuses `1.0`, `1e3` and anything beyond 64 bits. A document that says so at its root
//! (`x-understudy-integers: int64`) gets the keyword below on every integer schema, so the
//! validator and the handler agree on what a number is.

use jsonschema::{Keyword, ValidationError};
use serde_json::{Map, Value};

/// The document-level extension that asks for 64-bit integers.
pub const DOCUMENT_EXTENSION: &str = "x-understudy-integers";

/// The keyword added to each integer schema.
pub const KEYWORD: &str = "x-understudy-int64";

/// Adds [`KEYWORD`] to every schema of `document` whose `type` is (or includes) `integer`,
/// when the document's root asks for 64-bit integers.
pub fn mark_int64(document: &mut Value) {
    if document.get(DOCUMENT_EXTENSION).and_then(Value::as_str) != Some("int64") {
        return;
    }
    fn walk(value: &mut Value) {
        match value {
            Value::Object(map) => {
                let integer = match map.get("type") {
                    Some(Value::String(t)) => t == "integer",
                    Some(Value::Array(types)) => types.iter().any(|t| t == "integer"),
                    _ => false,
                };
                if integer {
                    map.insert(KEYWORD.into(), Value::Bool(true));
                }
                map.values_mut().for_each(walk);
            }
            Value::Array(items) => items.iter_mut().for_each(walk),
            _ => {}
        }
    }
    walk(document);
}

/// The validator of [`KEYWORD`]: a number must be written as an integer that fits 64 bits.
struct Int64;

impl<'i> Keyword<'i> for Int64 {
    fn validate(&self, instance: &'i Value) -> Result<(), ValidationError<'i>> {
        if self.is_valid(instance) {
            Ok(())
        } else {
            Err(ValidationError::custom(format!(
                "{instance} is not an integer of at most 64 bits written without a fraction or exponent"
            )))
        }
    }

    fn is_valid(&self, instance: &'i Value) -> bool {
        // Non-numbers are the `type` keyword's business.
        match instance {
            Value::Number(n) => n.is_i64() || n.is_u64(),
            _ => true,
        }
    }
}

/// The factory `jsonschema` calls for each occurrence of [`KEYWORD`].
pub fn factory<'a>(
    _parent: &'a Map<String, Value>,
    _value: &'a Value,
    _location: jsonschema::paths::Location,
) -> Result<Box<dyn for<'i> Keyword<'i>>, ValidationError<'a>> {
    Ok(Box::new(Int64))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn only_integers_written_as_such_within_64_bits_pass() {
        let mut document = json!({
            "x-understudy-integers": "int64",
            "schema": {"type": "object", "properties": {"type": {"type": "integer"}}}
        });
        mark_int64(&mut document);
        let schema = &document["schema"];
        assert_eq!(schema["properties"]["type"][KEYWORD], true);
        assert!(
            schema.get(KEYWORD).is_none(),
            "an object schema is not marked"
        );
        let validator = jsonschema::options()
            .with_keyword(KEYWORD, factory)
            .build(&schema["properties"]["type"])
            .unwrap();
        for good in ["1", "-1", "18446744073709551615", "-9223372036854775808"] {
            let value: Value = serde_json::from_str(good).unwrap();
            assert!(validator.is_valid(&value), "{good}");
        }
        for bad in ["1.0", "1e3", "18446744073709551616", "-9223372036854775809"] {
            let value: Value = serde_json::from_str(bad).unwrap();
            assert!(!validator.is_valid(&value), "{bad}");
            assert!(validator.validate(&value).is_err(), "{bad}");
        }
    }

    #[test]
    fn documents_that_do_not_ask_are_left_alone() {
        let mut document = json!({"schema": {"type": "integer"}});
        mark_int64(&mut document);
        assert!(document["schema"].get(KEYWORD).is_none());
    }
}
