//! One vendor's state behind a lock, with the seeded state kept aside so the admin API can
//! reset, export and import it without knowing the vendor.

use std::any::Any;
use std::io::Write;
use std::ops::{Deref, DerefMut};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

/// Why an imported state was refused.
#[derive(Debug, thiserror::Error)]
#[error("state does not fit the vendor's shape: {0}")]
pub struct ImportError(String);

impl From<serde_json::Error> for ImportError {
    fn from(error: serde_json::Error) -> Self {
        ImportError(error.to_string())
    }
}

impl From<erased_serde::Error> for ImportError {
    fn from(error: erased_serde::Error) -> Self {
        ImportError(error.to_string())
    }
}

/// A vendor state parsed by [`StateStore::stage`] and not yet installed: an import parses every
/// vendor first and installs only when all of them fit, so a refused import changes nothing
/// without keeping a copy of the old state.
pub struct Staged(Box<dyn Any + Send>);

/// A vendor's state as the admin API sees it: opaque JSON plus a resource count.
pub trait StateStore: Send + Sync {
    /// The whole state as JSON; importing it again restores exactly this state.
    fn export(&self) -> Value;
    /// Writes the state as JSON to `out` straight from the locked state, without building a
    /// JSON tree of it first (a large state would otherwise be in memory several times over).
    fn export_to(&self, out: &mut dyn Write) -> Result<(), serde_json::Error>;
    /// Replaces the state with `state`; on error the current state is unchanged.
    fn import(&self, state: Value) -> Result<(), ImportError>;
    /// Parses a state from `input` (streamed: no JSON tree is built) for [`StateStore::install`].
    fn stage(&self, input: &mut dyn erased_serde::Deserializer<'_>) -> Result<Staged, ImportError>;
    /// Replaces the state with one [`StateStore::stage`] of this store parsed.
    fn install(&self, staged: Staged) -> Result<(), ImportError>;
    /// Restores the state the configuration seeded.
    fn reset(&self);
    /// How many resources are stored (the quantity the resource cap bounds).
    fn resources(&self) -> usize;
    /// How many times the state may have changed: it moves on every release of a mutable
    /// borrow, so an equal number means the state is unchanged (snapshots skip such vendors).
    fn generation(&self) -> u64;
}

/// What a vendor's state must say about itself to be capped.
pub trait Resources {
    /// How many resources this state holds.
    fn count(&self) -> usize;
}

/// A vendor that keeps nothing yet.
impl Resources for () {
    fn count(&self) -> usize {
        0
    }
}

/// A vendor's state `S`, with the seed it started from.
///
/// The seed is shared, and so is the state until it first changes: a store [`Store::fork`]ed
/// for a new world costs a pointer, and a world pays for its own copy of the seed only when a
/// request first changes that vendor's state (copy on write, by [`Arc::make_mut`]).
#[derive(Debug)]
pub struct Store<S> {
    seed: Arc<S>,
    current: Mutex<Arc<S>>,
    /// The current state's resource count as last taken, and whether the state may have
    /// changed since: reads never recount (counting can walk the whole state), and the cap
    /// check recounts only after a change.
    resources: AtomicUsize,
    stale: AtomicBool,
    generation: AtomicU64,
}

/// The locked current state of a [`Store`]. Releasing it after a mutable borrow marks the
/// store's resource count stale.
pub struct StateGuard<'a, S: Resources> {
    state: MutexGuard<'a, Arc<S>>,
    stale: &'a AtomicBool,
    generation: &'a AtomicU64,
    changed: bool,
}

impl<S: Resources> Deref for StateGuard<'_, S> {
    type Target = S;

    fn deref(&self) -> &S {
        &self.state
    }
}

impl<S: Resources + Clone> DerefMut for StateGuard<'_, S> {
    fn deref_mut(&mut self) -> &mut S {
        self.changed = true;
        Arc::make_mut(&mut self.state)
    }
}

impl<S: Resources> StateGuard<'_, S> {
    /// Replaces the whole state without copying the old one first.
    fn replace(&mut self, state: Arc<S>) {
        self.changed = true;
        *self.state = state;
    }
}

impl<S: Resources> Drop for StateGuard<'_, S> {
    fn drop(&mut self) {
        // Runs before the mutex guard is released, so a recount waits for this change.
        if self.changed {
            self.stale.store(true, Ordering::Release);
            self.generation.fetch_add(1, Ordering::AcqRel);
        }
    }
}

impl<S: Clone + Resources> Store<S> {
    /// A store whose current and seeded states are both `seed`.
    pub fn new(seed: S) -> Self {
        let seed = Arc::new(seed);
        Store {
            resources: AtomicUsize::new(seed.count()),
            stale: AtomicBool::new(false),
            generation: AtomicU64::new(0),
            current: Mutex::new(seed.clone()),
            seed,
        }
    }

    /// A store for another world: the same seed, shared, and the seeded state as its current
    /// state, whatever this store's current state is.
    pub fn fork(&self) -> Self {
        Store {
            resources: AtomicUsize::new(self.seed.count()),
            stale: AtomicBool::new(false),
            generation: AtomicU64::new(0),
            current: Mutex::new(self.seed.clone()),
            seed: self.seed.clone(),
        }
    }

    /// Locks the current state. A poisoned lock is taken over: handlers validate before they
    /// mutate, so a panic never leaves half-applied changes behind.
    pub fn lock(&self) -> StateGuard<'_, S> {
        StateGuard {
            state: self.current.lock().unwrap_or_else(|p| p.into_inner()),
            stale: &self.stale,
            generation: &self.generation,
            changed: false,
        }
    }
}

impl<S> StateStore for Store<S>
where
    S: Clone + Serialize + DeserializeOwned + Resources + Send + Sync + 'static,
{
    fn export(&self) -> Value {
        serde_json::to_value(&*self.lock()).expect("vendor state serialises to JSON")
    }

    fn export_to(&self, out: &mut dyn Write) -> Result<(), serde_json::Error> {
        serde_json::to_writer(out, &*self.lock())
    }

    fn import(&self, state: Value) -> Result<(), ImportError> {
        let state: S = serde_json::from_value(state)?;
        self.lock().replace(Arc::new(state));
        Ok(())
    }

    fn stage(&self, input: &mut dyn erased_serde::Deserializer<'_>) -> Result<Staged, ImportError> {
        let state: S = erased_serde::deserialize(input)?;
        Ok(Staged(Box::new(state)))
    }

    fn install(&self, staged: Staged) -> Result<(), ImportError> {
        let state = staged
            .0
            .downcast::<S>()
            .map_err(|_| ImportError("a state staged by another vendor".into()))?;
        self.lock().replace(Arc::new(*state));
        Ok(())
    }

    fn reset(&self) {
        self.lock().replace(self.seed.clone());
    }

    fn resources(&self) -> usize {
        if self.stale.swap(false, Ordering::AcqRel) {
            let state = self.current.lock().unwrap_or_else(|p| p.into_inner());
            self.resources.store(state.count(), Ordering::Relaxed);
        }
        self.resources.load(Ordering::Relaxed)
    }

    fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
    struct Names(Vec<String>);

    impl Resources for Names {
        fn count(&self) -> usize {
            self.0.len()
        }
    }

    #[test]
    fn export_import_round_trips_and_reset_restores_the_seed() {
        let store = Store::new(Names(vec!["seeded".into()]));
        store.lock().0.push("created".into());
        assert_eq!(
            store.resources(),
            2,
            "a change is counted at the next check"
        );
        let _read = store.lock().0.len();
        assert!(
            !store.stale.load(Ordering::Relaxed),
            "a read leaves the count as it is"
        );
        let exported = store.export();
        store.reset();
        assert_eq!(store.resources(), 1);
        store.import(exported.clone()).unwrap();
        assert_eq!(store.export(), exported);
        assert_eq!(store.resources(), 2);
    }

    #[test]
    fn a_misshapen_import_leaves_the_state_alone() {
        let store = Store::new(Names(vec!["seeded".into()]));
        assert!(store.import(serde_json::json!({"not": "a list"})).is_err());
        assert_eq!(store.resources(), 1);
    }
}
