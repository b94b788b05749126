//! Per-vendor normalisation: what legitimately differs between two backends (ids, timestamps,
//! request ids, generated URLs) is replaced by placeholders before the responses are compared.

use std::collections::BTreeMap;

use serde_json::{Value, json};

use crate::exchange::Exchange;

/// One vendor's rules.
#[derive(Clone, Copy, Debug)]
pub struct Normalisation {
    /// Body fields whose values are generated ids or URLs: each distinct value becomes
    /// `<field#k>` in order of first appearance, so "the same id again" still compares.
    pub ids: &'static [&'static str],
    /// Body fields holding times or other values that differ on every call: always `<field>`.
    pub opaque: &'static [&'static str],
    /// Headers compared by presence only (generated URLs such as `Location`).
    pub present_headers: &'static [&'static str],
}

/// Placeholders assigned so far in one case, per backend.
#[derive(Default, Debug)]
pub struct Placeholders {
    seen: BTreeMap<String, String>,
}

impl Normalisation {
    /// The comparable form of `exchange`. Values the request sent (`echoed`) are kept as they
    /// are: a backend that fails to echo them differs.
    pub fn apply(&self, exchange: &Exchange, echoed: &[String], ph: &mut Placeholders) -> Value {
        let headers: BTreeMap<&str, bool> = self
            .present_headers
            .iter()
            .map(|h| (*h, exchange.headers.contains_key(*h)))
            .collect();
        let mut body = exchange.body.clone();
        self.walk(&mut body, None, echoed, ph);
        json!({"status": exchange.status, "headers": headers, "body": body})
    }

    fn walk(&self, value: &mut Value, key: Option<&str>, echoed: &[String], ph: &mut Placeholders) {
        match value {
            Value::Object(map) => {
                for (k, v) in map.iter_mut() {
                    self.walk(v, Some(k), echoed, ph);
                }
            }
            Value::Array(items) => items.iter_mut().for_each(|v| self.walk(v, key, echoed, ph)),
            Value::String(s) if !echoed.contains(s) => {
                let Some(key) = key else { return };
                if self.opaque.contains(&key) {
                    *value = json!(format!("<{key}>"));
                } else if self.ids.contains(&key) {
                    let next = ph.seen.len();
                    let placeholder = ph
                        .seen
                        .entry(s.clone())
                        .or_insert_with(|| format!("<{key}#{next}>"))
                        .clone();
                    *value = json!(placeholder);
                }
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const RULES: Normalisation = Normalisation {
        ids: &["id"],
        opaque: &["createdAt"],
        present_headers: &["location"],
    };

    fn exchange(body: Value) -> Exchange {
        Exchange {
            status: 200,
            headers: BTreeMap::new(),
            body,
        }
    }

    #[test]
    fn ids_map_by_first_appearance_and_echoes_are_kept() {
        let mut a = Placeholders::default();
        let mut b = Placeholders::default();
        let left = RULES.apply(
            &exchange(json!([{"id": "x1", "createdAt": "t1"}, {"id": "x1"}, {"id": "sent"}])),
            &["sent".to_string()],
            &mut a,
        );
        let right = RULES.apply(
            &exchange(json!([{"id": "y9", "createdAt": "t2"}, {"id": "y9"}, {"id": "sent"}])),
            &["sent".to_string()],
            &mut b,
        );
        assert_eq!(left, right);
        let differs = RULES.apply(
            &exchange(json!([{"id": "y9"}, {"id": "y8"}, {"id": "sent"}])),
            &["sent".to_string()],
            &mut Placeholders::default(),
        );
        assert_ne!(left["body"], differs["body"]);
    }
}
