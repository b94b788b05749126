//! Rewrites OpenAPI 3.0 schema dialect into JSON Schema draft 2020-12, so one validator engine
//! serves both the 3.0 and the 3.1 documents.

use serde_json::{Map, Value, json};

/// Rewrites every schema object in an OpenAPI 3.0 document in place.
///
/// - `nullable: true` becomes a type array with `"null"` (and `null` joins an `enum`), or, when
///   the schema has no `type` (a `$ref` wrapper, `allOf`, …), an `anyOf` with `{"type":"null"}`.
/// - Boolean `exclusiveMinimum`/`exclusiveMaximum` become the numeric 2020-12 forms.
///
/// Keys are matched only with the value type they have in 3.0 (`nullable` must be a boolean), so
/// a *property* that happens to be called `nullable` is left alone.
pub fn openapi30_to_2020_12(value: &mut Value) {
    match value {
        Value::Object(map) => {
            for child in map.values_mut() {
                openapi30_to_2020_12(child);
            }
            rewrite_exclusive(map, "exclusiveMinimum", "minimum");
            rewrite_exclusive(map, "exclusiveMaximum", "maximum");
            if map.get("nullable") == Some(&Value::Bool(true)) {
                map.remove("nullable");
                make_nullable(map);
            } else if map.get("nullable") == Some(&Value::Bool(false)) {
                map.remove("nullable");
            }
        }
        Value::Array(items) => items.iter_mut().for_each(openapi30_to_2020_12),
        _ => {}
    }
}

fn rewrite_exclusive(map: &mut Map<String, Value>, exclusive: &str, bound: &str) {
    match map.get(exclusive) {
        Some(Value::Bool(true)) => {
            map.remove(exclusive);
            if let Some(limit) = map.remove(bound) {
                map.insert(exclusive.to_string(), limit);
            }
        }
        Some(Value::Bool(false)) => {
            map.remove(exclusive);
        }
        _ => {}
    }
}

fn make_nullable(map: &mut Map<String, Value>) {
    if let Some(Value::String(ty)) = map.get("type").cloned() {
        map.insert("type".into(), json!([ty, "null"]));
        if let Some(Value::Array(options)) = map.get_mut("enum")
            && !options.contains(&Value::Null)
        {
            options.push(Value::Null);
        }
        return;
    }
    // No simple type to widen: accept null beside whatever the rest of the schema accepts.
    let rest = std::mem::take(map);
    map.insert(
        "anyOf".into(),
        json!([Value::Object(rest), {"type": "null"}]),
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nullable_string_becomes_type_array_and_enum_gains_null() {
        let mut v = json!({"type": "string", "nullable": true, "enum": ["a"]});
        openapi30_to_2020_12(&mut v);
        assert_eq!(v, json!({"type": ["string", "null"], "enum": ["a", null]}));
    }

    #[test]
    fn nullable_ref_wrapper_becomes_any_of() {
        let mut v = json!({"allOf": [{"$ref": "#/x"}], "nullable": true});
        openapi30_to_2020_12(&mut v);
        assert_eq!(
            v,
            json!({"anyOf": [{"allOf": [{"$ref": "#/x"}]}, {"type": "null"}]})
        );
    }

    #[test]
    fn property_named_nullable_is_untouched() {
        let mut v = json!({"properties": {"nullable": {"type": "boolean"}}});
        openapi30_to_2020_12(&mut v);
        assert_eq!(v, json!({"properties": {"nullable": {"type": "boolean"}}}));
    }

    #[test]
    fn boolean_exclusive_bounds_become_numeric() {
        let mut v = json!({"type": "integer", "minimum": 0, "exclusiveMinimum": true});
        openapi30_to_2020_12(&mut v);
        assert_eq!(v, json!({"type": "integer", "exclusiveMinimum": 0}));
    }
}
