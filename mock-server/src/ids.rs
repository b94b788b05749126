//! The one id generator every vendor draws from; seeded, it makes runs reproducible.

use std::sync::Mutex;

const ALPHANUMERIC: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

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
        let mut rng = self.rng.lock().unwrap_or_else(|p| p.into_inner());
        f(&mut rng)
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
    fn uuids_are_version_4() {
        let id = IdGenerator::new(None).uuid();
        assert_eq!(id.len(), 36);
        assert_eq!(&id[14..15], "4");
    }
}
