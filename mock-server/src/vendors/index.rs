//! Storage for records that grow with traffic: a list that never moves what it holds, and an
//! index from a key's hash to positions in such a list.
//!
//! Both grow a small piece at a time, never all at once: a hash table or a `Vec` doubles in
//! one go, and the request holding the lock while 30,000 entries moved took 56 ms. An index
//! entry is a hash and a position (16 bytes, no allocation) instead of a copy of the key's
//! strings, and comparing two entries compares two integers instead of reading two strings
//! from wherever the heap put them.

use std::collections::BTreeSet;
use std::hash::{BuildHasher, Hash, Hasher, RandomState};
use std::sync::LazyLock;

/// How many records one chunk of a [`Chunked`] holds.
const CHUNK: usize = 1024;

/// A list stored in chunks of a fixed capacity: pushing allocates a new chunk now and then and
/// never moves the records already stored.
#[derive(Clone, Debug)]
pub struct Chunked<T> {
    chunks: Vec<Vec<T>>,
    len: usize,
}

impl<T> Default for Chunked<T> {
    fn default() -> Self {
        Chunked {
            chunks: Vec::new(),
            len: 0,
        }
    }
}

impl<T> Chunked<T> {
    /// How many records there are.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Appends `record`; returns its position.
    ///
    /// # Panics
    /// Past `u32::MAX` records (the resource cap stops far below).
    pub fn push(&mut self, record: T) -> u32 {
        let at = u32::try_from(self.len).expect("fewer than 2^32 records");
        if self.len % CHUNK == 0 {
            self.chunks.push(Vec::with_capacity(CHUNK));
        }
        if let Some(chunk) = self.chunks.last_mut() {
            chunk.push(record);
        }
        self.len += 1;
        at
    }

    /// The record at `at`.
    pub fn get(&self, at: u32) -> Option<&T> {
        let at = at as usize;
        self.chunks.get(at / CHUNK)?.get(at % CHUNK)
    }

    /// The record at `at`, to change.
    pub fn get_mut(&mut self, at: u32) -> Option<&mut T> {
        let at = at as usize;
        self.chunks.get_mut(at / CHUNK)?.get_mut(at % CHUNK)
    }

    /// Every record, in the order they were pushed.
    pub fn iter(&self) -> impl Iterator<Item = &T> {
        self.chunks.iter().flatten()
    }

    /// Every record with its position.
    pub fn positions(&self) -> impl Iterator<Item = (u32, &T)> {
        // Positions fit in u32: `push` refuses more.
        (0..).zip(self.iter())
    }
}

impl<T: PartialEq> PartialEq for Chunked<T> {
    fn eq(&self, other: &Self) -> bool {
        self.len == other.len && self.iter().eq(other.iter())
    }
}

/// The process's hash keys: random, so no client can choose keys that all share a hash
/// (indexes are never saved, so their order need not repeat between runs).
static KEYS: LazyLock<RandomState> = LazyLock::new(RandomState::new);

/// The hash an [`Index`] files `key` under.
pub fn hash_of(key: &impl Hash) -> u64 {
    KEYS.hash_one(key)
}

/// A string hashed as if it were in ASCII lower case, without copying it.
#[derive(Clone, Copy, Debug)]
pub struct AsciiLowercase<'a>(pub &'a str);

impl Hash for AsciiLowercase<'_> {
    fn hash<H: Hasher>(&self, state: &mut H) {
        // Hashed like the lower-cased `str` itself (its bytes, then 0xff), a piece at a time.
        let mut piece = [0u8; 64];
        for chunk in self.0.as_bytes().chunks(piece.len()) {
            let piece = &mut piece[..chunk.len()];
            piece.copy_from_slice(chunk);
            piece.make_ascii_lowercase();
            state.write(piece);
        }
        state.write_u8(0xff);
    }
}

/// Positions of records by the hash of a key ([`hash_of`]). Keys of different records may
/// share a hash, so a lookup checks each candidate against the key it wanted.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Index {
    entries: BTreeSet<(u64, u32)>,
}

impl Index {
    /// Files position `at` under `hash`.
    pub fn insert(&mut self, hash: u64, at: u32) {
        self.entries.insert((hash, at));
    }

    /// Removes position `at` from under `hash`.
    pub fn remove(&mut self, hash: u64, at: u32) {
        self.entries.remove(&(hash, at));
    }

    /// The positions filed under `hash`, lowest first.
    pub fn candidates(&self, hash: u64) -> impl DoubleEndedIterator<Item = u32> + '_ {
        self.entries
            .range((hash, 0)..=(hash, u32::MAX))
            .map(|e| e.1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunked_keeps_every_record_at_its_position_across_chunks() {
        let mut list = Chunked::default();
        for i in 0..(2 * CHUNK + 5) {
            assert_eq!(list.push(i) as usize, i);
        }
        assert_eq!(list.len(), 2 * CHUNK + 5);
        assert_eq!(list.get(CHUNK as u32), Some(&CHUNK));
        assert_eq!(list.get((2 * CHUNK + 5) as u32), None);
        *list.get_mut(3).unwrap() = 300;
        assert_eq!(list.iter().nth(3), Some(&300));
        assert!(list.positions().all(|(at, v)| at == 3 || *v == at as usize));
    }

    #[test]
    fn an_index_finds_every_position_filed_under_a_hash() {
        let mut index = Index::default();
        index.insert(7, 3);
        index.insert(7, 1);
        index.insert(8, 2);
        assert_eq!(index.candidates(7).collect::<Vec<_>>(), [1, 3]);
        index.remove(7, 1);
        assert_eq!(index.candidates(7).collect::<Vec<_>>(), [3]);
        assert_eq!(index.candidates(9).count(), 0);
        assert_eq!(index.candidates(8).collect::<Vec<_>>(), [2]);
    }

    #[test]
    fn ascii_lowercase_hashes_as_the_lower_cased_string() {
        let long = "MiXeD".repeat(40);
        for text in ["Ada@Example.COM", "", long.as_str()] {
            assert_eq!(
                hash_of(&AsciiLowercase(text)),
                hash_of(&text.to_ascii_lowercase())
            );
        }
    }
}
