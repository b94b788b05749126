//! Mutants: deliberate contract faults the fake can be told to commit, so the contract-test
//! harness can prove it notices them. Off unless named; a vendor checks
//! [`Mutants::active`] at the point where its rule would be broken.

use std::collections::BTreeSet;
use std::sync::RwLock;

/// The set of active mutants, by name (`vendor.what-breaks`).
#[derive(Debug, Default)]
pub struct Mutants {
    active: RwLock<BTreeSet<String>>,
}

impl Mutants {
    /// No mutant active.
    pub fn none() -> Self {
        Self::default()
    }

    /// Whether the mutant `name` is active.
    pub fn active(&self, name: &str) -> bool {
        let active = self.active.read().unwrap_or_else(|p| p.into_inner());
        !active.is_empty() && active.contains(name)
    }

    /// Activates exactly the mutants in `names` (an empty list turns them all off).
    pub fn set<I: IntoIterator<Item = String>>(&self, names: I) {
        *self.active.write().unwrap_or_else(|p| p.into_inner()) = names.into_iter().collect();
    }

    /// The active mutants' names.
    pub fn names(&self) -> Vec<String> {
        let active = self.active.read().unwrap_or_else(|p| p.into_inner());
        active.iter().cloned().collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_named_mutants_are_active() {
        let mutants = Mutants::none();
        assert!(!mutants.active("dub.status-200"));
        mutants.set(["dub.status-200".to_string()]);
        assert!(mutants.active("dub.status-200"));
        assert!(!mutants.active("dub.other"));
        mutants.set([]);
        assert!(mutants.names().is_empty());
    }
}
