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
#[derive(Clone, Default, Debug)]
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
                } else {
                    // Generated UUIDs anywhere (in ids the rules did not name, in generated
                    // URLs) are ids too; the ones the request sent are kept.
                    *value = json!(replace_uuids(s, echoed, ph));
                }
            }
            _ => {}
        }
    }
}

/// `text` with each UUID it contains mapped to `<uuid#k>`, except UUIDs the request sent.
fn replace_uuids(text: &str, echoed: &[String], ph: &mut Placeholders) -> String {
    let mut out = String::new();
    let mut i = 0;
    while i < text.len() {
        let candidate = text.get(i..i + 36).filter(|c| is_uuid(c));
        match candidate {
            Some(uuid) if !echoed.iter().any(|e| e.contains(uuid)) => {
                let next = ph.seen.len();
                let placeholder = ph
                    .seen
                    .entry(uuid.to_string())
                    .or_insert_with(|| format!("<uuid#{next}>"))
                    .clone();
                out.push_str(&placeholder);
                i += 36;
            }
            _ => {
                let width = text[i..].chars().next().map_or(1, char::len_utf8);
                out.push_str(&text[i..i + width]);
                i += width;
            }
        }
    }
    out
}

fn is_uuid(candidate: &str) -> bool {
    candidate.len() == 36
        && candidate.char_indices().all(|(i, c)| match i {
            8 | 13 | 18 | 23 => c == '-',
            _ => c.is_ascii_hexdigit(),
        })
}

#[cfg(test)]
mod uuid_tests {
    use super::*;

    #[test]
    fn uuids_inside_strings_are_mapped_unless_echoed() {
        let mut ph = Placeholders::default();
        let sent = "0d1e2f3a-4b5c-4d6e-8f70-8192a3b4c5d6".to_string();
        let text = format!("https://x.example/a/2ef4d915-0fcb-441f-bad3-05815dcdf823?c={sent}");
        assert_eq!(
            replace_uuids(&text, std::slice::from_ref(&sent), &mut ph),
            format!("https://x.example/a/<uuid#0>?c={sent}")
        );
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
