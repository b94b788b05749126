//! Remembered customer-listing orders, so paging through a large tree does not filter and sort
//! every customer on every request.
//!
//! Enhance's organisations and subscriptions are only ever appended to (no operation edits or
//! removes one), so a listing's order is fixed by the state value it was computed on and the two
//! lengths. The cache lives inside the state value, and every new value (seeded, cloned for a
//! reset, imported) starts with an empty one, so an order computed on another value is never
//! used.

use std::sync::{Arc, Mutex};

/// How many listing orders are kept (the most recently computed ones).
const ENTRIES: usize = 8;

/// What a customer listing's order depends on, besides the state.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ListingKey {
    /// The organisation whose customers are listed.
    pub org_id: String,
    /// `sortBy`.
    pub sort_by: Option<String>,
    /// Whether the order is reversed.
    pub descending: bool,
    /// The `status` filter.
    pub status: Option<String>,
    /// The `planId` filter (`Some(None)`: a plan id no plan can have).
    pub plan_id: Option<Option<i64>>,
    /// How deep below the organisation customers are listed.
    pub max_depth: usize,
}

#[derive(Debug)]
struct Entry {
    key: ListingKey,
    lengths: (usize, usize),
    order: Arc<Vec<usize>>,
}

/// The remembered orders of one state value. Not part of the state: it is never exported,
/// compares equal to any other, and a clone starts empty.
#[derive(Debug, Default)]
pub struct ListingCache {
    entries: Mutex<Vec<Entry>>,
}

impl Clone for ListingCache {
    fn clone(&self) -> Self {
        ListingCache::default()
    }
}

impl PartialEq for ListingCache {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}

impl ListingCache {
    /// The order (indices into the organisations) for `key` on a state holding `lengths`
    /// organisations and subscriptions: remembered, or computed by `compute` and remembered.
    pub fn order(
        &self,
        key: &ListingKey,
        lengths: (usize, usize),
        compute: impl FnOnce() -> Vec<usize>,
    ) -> Arc<Vec<usize>> {
        let mut entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(entry) = entries
            .iter()
            .find(|e| e.lengths == lengths && e.key == *key)
        {
            return entry.order.clone();
        }
        let order = Arc::new(compute());
        // Orders for shorter states can never match again: the state only grows.
        entries.retain(|e| e.lengths == lengths);
        if entries.len() >= ENTRIES {
            entries.remove(0);
        }
        entries.push(Entry {
            key: key.clone(),
            lengths,
            order: order.clone(),
        });
        order
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(org: &str) -> ListingKey {
        ListingKey {
            org_id: org.into(),
            sort_by: Some("name".into()),
            descending: false,
            status: None,
            plan_id: None,
            max_depth: 1,
        }
    }

    #[test]
    fn an_order_is_computed_once_per_key_and_state_size() {
        let cache = ListingCache::default();
        let mut computed = 0;
        for _ in 0..3 {
            cache.order(&key("a"), (5, 1), || {
                computed += 1;
                vec![1, 0]
            });
        }
        assert_eq!(computed, 1);
        cache.order(&key("b"), (5, 1), || {
            computed += 1;
            vec![]
        });
        cache.order(&key("a"), (6, 1), || {
            computed += 1;
            vec![0]
        });
        assert_eq!(
            computed, 3,
            "another key and a grown state are computed afresh"
        );
    }

    #[test]
    fn a_clone_is_a_new_value_with_nothing_remembered() {
        let cache = ListingCache::default();
        cache.order(&key("a"), (1, 0), || vec![0]);
        let clone = cache.clone();
        let mut computed = false;
        clone.order(&key("a"), (1, 0), || {
            computed = true;
            vec![0]
        });
        assert!(computed);
    }
}
