//! A bounded memo of response bodies already found to conform to their operation's schema.
//!
//! Checking a body against its schema is a pure function of the two, and a fake sends the same
//! body again and again (a read of unchanged state, a listing page, a seeded error). Once a
//! body has passed for an operation and status, the same body (compared in full, not by hash
//! alone) is not checked again. Only passing bodies are remembered, so every violation is still
//! reported every time it happens. A body is kept only when it passes a second time: the first
//! pass records its hash alone, so a body never sent again (a create's answer, with its new
//! id) costs a hash, not a copy.

use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::sync::Mutex;

use rustc_hash::FxHasher;
use serde_json::Value;

use crate::spec::Operation;

/// Bodies with more text than this are always checked: remembering them would cost more
/// memory than the check costs time.
const MAX_REMEMBERED_TEXT: usize = 64 * 1024;

/// Which body, for which operation and status: a hash for the lookup, then the parts compared
/// in full.
pub struct BodyKey {
    hash: u64,
    operation: usize,
    status: u16,
}

struct Remembered {
    operation: usize,
    status: u16,
    /// `None` after the first pass: only the hash is known.
    body: Option<Value>,
}

/// Response bodies known to conform, at most `capacity` of them.
pub struct ConformingBodies {
    capacity: usize,
    entries: Mutex<HashMap<u64, Remembered>>,
}

impl ConformingBodies {
    /// An empty memo holding at most `capacity` bodies (0 remembers nothing).
    pub fn new(capacity: usize) -> Self {
        ConformingBodies {
            capacity,
            entries: Mutex::new(HashMap::new()),
        }
    }

    /// The key of `body` sent by `op` with `status`, or `None` when the body is too large to
    /// remember (or the memo holds nothing).
    pub fn key(&self, op: &Operation, status: u16, body: &Value) -> Option<BodyKey> {
        if self.capacity == 0 {
            return None;
        }
        let operation = std::ptr::from_ref(op) as usize;
        let mut hasher = FxHasher::default();
        (operation, status).hash(&mut hasher);
        let mut budget = MAX_REMEMBERED_TEXT;
        hash_value(body, &mut hasher, &mut budget).then(|| BodyKey {
            hash: hasher.finish(),
            operation,
            status,
        })
    }

    /// Whether `body` under `key` has passed the check before.
    pub fn knows(&self, key: &BodyKey, body: &Value) -> bool {
        let entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        entries.get(&key.hash).is_some_and(|known| {
            known.operation == key.operation
                && known.status == key.status
                && known.body.as_ref() == Some(body)
        })
    }

    /// Remembers that `body` under `key` passed. A full memo is emptied first: simpler than
    /// tracking use, and the next request refills it with what is actually being sent.
    pub fn remember(&self, key: BodyKey, body: &Value) {
        let mut entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        let seen_before = entries
            .get(&key.hash)
            .is_some_and(|known| known.operation == key.operation && known.status == key.status);
        if !seen_before && entries.len() >= self.capacity {
            entries.clear();
        }
        entries.insert(
            key.hash,
            Remembered {
                operation: key.operation,
                status: key.status,
                body: seen_before.then(|| body.clone()),
            },
        );
    }

    /// How many bodies are remembered (or, after one pass, their hashes).
    pub fn len(&self) -> usize {
        self.entries.lock().unwrap_or_else(|p| p.into_inner()).len()
    }

    /// Whether nothing is remembered.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Feeds `value` to `hasher`, each kind tagged so that different values rarely collide.
/// Returns `false` once more than `budget` bytes of text have been seen.
fn hash_value(value: &Value, hasher: &mut FxHasher, budget: &mut usize) -> bool {
    match value {
        Value::Null => 0u8.hash(hasher),
        Value::Bool(b) => (1u8, *b).hash(hasher),
        Value::Number(n) => match (n.as_i64(), n.as_u64()) {
            (Some(i), _) => (2u8, i).hash(hasher),
            (None, Some(u)) => (6u8, u).hash(hasher),
            _ => (7u8, n.as_f64().unwrap_or_default().to_bits()).hash(hasher),
        },
        Value::String(s) => {
            3u8.hash(hasher);
            return hash_text(s, hasher, budget);
        }
        Value::Array(items) => {
            (4u8, items.len()).hash(hasher);
            return items.iter().all(|item| hash_value(item, hasher, budget));
        }
        Value::Object(map) => {
            (5u8, map.len()).hash(hasher);
            return map.iter().all(|(key, item)| {
                hash_text(key, hasher, budget) && hash_value(item, hasher, budget)
            });
        }
    }
    true
}

/// Feeds `text` to `hasher` and takes its length from `budget`; `false` once it is spent.
fn hash_text(text: &str, hasher: &mut FxHasher, budget: &mut usize) -> bool {
    text.hash(hasher);
    *budget = budget.saturating_sub(text.len() + 1);
    *budget > 0
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::SpecSet;
    use serde_json::json;

    fn operation(specs: &SpecSet) -> &Operation {
        &specs.vendor(crate::VendorId::Cloudcockpit).operations[0]
    }

    #[test]
    fn a_remembered_body_is_known_only_for_its_operation_status_and_exact_value() {
        let specs = SpecSet::embedded().unwrap();
        let op = operation(&specs);
        let other = &specs.vendor(crate::VendorId::Dub).operations[0];
        let memo = ConformingBodies::new(8);
        let body = json!({"a": [1, "two", null, true], "b": {"c": 2.5}});
        let key = memo.key(op, 200, &body).unwrap();
        assert!(!memo.knows(&key, &body));
        memo.remember(key, &body);
        // The first pass keeps the hash alone; the second keeps the body.
        assert!(!memo.knows(&memo.key(op, 200, &body).unwrap(), &body));
        memo.remember(memo.key(op, 200, &body).unwrap(), &body);
        assert!(memo.knows(&memo.key(op, 200, &body).unwrap(), &body));
        assert!(!memo.knows(&memo.key(op, 201, &body).unwrap(), &body));
        assert!(!memo.knows(&memo.key(other, 200, &body).unwrap(), &body));
        let changed = json!({"a": [1, "two", null, false], "b": {"c": 2.5}});
        assert!(!memo.knows(&memo.key(op, 200, &changed).unwrap(), &changed));
    }

    #[test]
    fn a_colliding_hash_is_not_taken_for_the_same_body() {
        let specs = SpecSet::embedded().unwrap();
        let op = operation(&specs);
        let memo = ConformingBodies::new(8);
        let body = json!("remembered");
        for _ in 0..2 {
            memo.remember(memo.key(op, 200, &body).unwrap(), &body);
        }
        assert!(memo.knows(&memo.key(op, 200, &body).unwrap(), &body));
        // Forge a key with the remembered hash for a different body.
        let forged = BodyKey {
            hash: memo.key(op, 200, &body).unwrap().hash,
            operation: std::ptr::from_ref(op) as usize,
            status: 200,
        };
        assert!(!memo.knows(&forged, &json!("another")));
    }

    #[test]
    fn the_memo_stays_within_its_capacity_and_skips_large_bodies() {
        let specs = SpecSet::embedded().unwrap();
        let op = operation(&specs);
        let memo = ConformingBodies::new(4);
        for i in 0..10 {
            let body = json!({ "i": i });
            memo.remember(memo.key(op, 200, &body).unwrap(), &body);
            assert!(memo.len() <= 4);
        }
        let large = json!("x".repeat(MAX_REMEMBERED_TEXT + 1));
        assert!(memo.key(op, 200, &large).is_none());
        assert!(ConformingBodies::new(0).key(op, 200, &json!(1)).is_none());
    }
}
