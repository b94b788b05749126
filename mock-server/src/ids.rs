//! The one id generator every vendor draws from; seeded, it makes runs reproducible.

use std::cell::RefCell;
use std::sync::Mutex;

const ALPHANUMERIC: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

thread_local! {
    /// The generator a [`IdGenerator::scoped`] call on this thread draws from, and whose scope
    /// it is.
    static SCOPED: RefCell<Option<(usize, fastrand::Rng)>> = const { RefCell::new(None) };
}

/// Generates the ids vendors hand out (nanoids, UUIDs).
#[derive(Debug)]
pub struct IdGenerator {
    rng: Mutex<fastrand::Rng>,
}

impl IdGenerator {
    /// A generator with the given seed, or a random one.
    pub fn new(seed: Option<u64>) -> Self {
        let rng = match seed {
            Some(seed) => fastrand::Rng::with_seed(seed),
            None => fastrand::Rng::new(),
        };
        IdGenerator {
            rng: Mutex::new(rng),
        }
    }

    fn with_rng<T>(&self, f: impl FnOnce(&mut fastrand::Rng) -> T) -> T {
        let key = self.key();
        let mut f = Some(f);
        let scoped = SCOPED.with_borrow_mut(|scoped| match scoped {
            Some((owner, rng)) if *owner == key => f.take().map(|f| f(rng)),
            _ => None,
        });
        match (scoped, f) {
            (Some(value), _) => value,
            (None, Some(f)) => {
                let mut rng = self.rng.lock().unwrap_or_else(|p| p.into_inner());
                f(&mut rng)
            }
            (None, None) => unreachable!("the closure runs in one branch"),
        }
    }

    /// Which generator a scope belongs to: its address, stable while it is borrowed.
    fn key(&self) -> usize {
        std::ptr::from_ref(self) as usize
    }

    /// A seed for [`IdGenerator::scoped`], drawn from this generator (so a seeded run forks
    /// the same seeds in the same order).
    pub fn fork_seed(&self) -> u64 {
        self.with_rng(|rng| rng.u64(..))
    }

    /// Runs `f` with every id this generator hands out on this thread drawn from a generator
    /// seeded with `seed` instead. The durable log records the seed of each state change and
    /// replays it through the same scope, so the replayed change draws the same ids whatever
    /// other requests drew meanwhile.
    pub fn scoped<T>(&self, seed: u64, f: impl FnOnce() -> T) -> T {
        let previous = SCOPED.replace(Some((self.key(), fastrand::Rng::with_seed(seed))));
        // Restored on unwind too, so a panicking handler does not leave the scope behind.
        struct Restore(Option<(usize, fastrand::Rng)>);
        impl Drop for Restore {
            fn drop(&mut self) {
                SCOPED.set(self.0.take());
            }
        }
        let _restore = Restore(previous);
        f()
    }

    /// `len` random characters from `[0-9A-Za-z]`, as nanoid produces.
    pub fn alphanumeric(&self, len: usize) -> String {
        self.with_rng(|rng| {
            (0..len)
                .map(|_| ALPHANUMERIC[rng.usize(..ALPHANUMERIC.len())] as char)
                .collect()
        })
    }

    /// A random (version 4) UUID in its hyphenated lower-case form.
    pub fn uuid(&self) -> String {
        let bytes = self.with_rng(|rng| {
            let mut b = [0u8; 16];
            b.iter_mut().for_each(|x| *x = rng.u8(..));
            b
        });
        uuid::Builder::from_random_bytes(bytes)
            .into_uuid()
            .hyphenated()
            .to_string()
    }

    /// A random integer in `range`.
    pub fn int(&self, range: std::ops::Range<u64>) -> u64 {
        self.with_rng(|rng| rng.u64(range))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_ids() {
        let (a, b) = (IdGenerator::new(Some(1)), IdGenerator::new(Some(1)));
        assert_eq!(a.uuid(), b.uuid());
        assert_eq!(a.alphanumeric(24), b.alphanumeric(24));
    }

    #[test]
    fn a_scope_draws_the_same_ids_whatever_else_is_drawn() {
        let ids = IdGenerator::new(Some(3));
        let seed = ids.fork_seed();
        let first = ids.scoped(seed, || (ids.uuid(), ids.alphanumeric(8)));
        ids.uuid();
        let again = ids.scoped(seed, || (ids.uuid(), ids.alphanumeric(8)));
        assert_eq!(first, again);
        assert_ne!(
            ids.uuid(),
            first.0,
            "outside the scope the generator goes on"
        );
    }

    #[test]
    fn uuids_are_version_4() {
        let id = IdGenerator::new(None).uuid();
        assert_eq!(id.len(), 36);
        assert_eq!(&id[14..15], "4");
    }
}
