//! Mutants: deliberate contract faults the fake can be told to commit, so the contract-test
//! harness can prove it notices them. Off unless named; a vendor checks
//! [`Mutants::active`] at the point where its rule would be broken.

use std::collections::BTreeSet;
use std::sync::RwLock;

/// A mutant name the catalogue does not have.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("no mutant named {0:?}")]
pub struct UnknownMutant(pub String);

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

    /// Activates exactly the mutants in `names` (an empty list turns them all off), unless one
    /// of them is not in the catalogue: then nothing changes.
    pub fn activate<I, S>(&self, names: I) -> Result<(), UnknownMutant>
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let names: Vec<String> = names.into_iter().map(Into::into).collect();
        let catalogue = crate::vendors::mutant_catalogue();
        if let Some(unknown) = names
            .iter()
            .find(|name| !catalogue.iter().any(|(known, _)| known == name))
        {
            return Err(UnknownMutant(unknown.clone()));
        }
        self.set(names);
        Ok(())
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
