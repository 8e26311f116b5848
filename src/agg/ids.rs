//! Ids by their 128-bit hash: runs, threads and the runs of the cost ledger.
//!
//! A run id is hashed once per line ([`IdKey::of`]); from then on the tables find it by
//! that hash alone: a slot holds the whole 128-bit key and the row's index, so a lookup
//! reads one slot and compares two words, never the id's bytes (which [`crate::agg::Keys`]
//! had to fetch from a second buffer and `memcmp`). The bytes are kept once, when the id
//! is new, for the reports and states that show them.
//!
//! Two different ids with the same 128-bit XXH3 hash would be taken for one: among a
//! billion ids the chance is about 10^-21, far below that of a memory error. `Keys` stays
//! for the small tables keyed by arbitrary strings (groups), which compare bytes.

use crate::batch::{Batch, TextColumn};
use hashbrown::HashTable;

/// An id's 128-bit hash.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct IdKey(pub u128);

impl IdKey {
    /// The key of `id`.
    #[inline]
    pub fn of(id: &[u8]) -> IdKey {
        IdKey(xxhash_rust::xxh3::xxh3_128(id))
    }

    /// The hash the table places it by (its low 64 bits: XXH3's output is uniform).
    #[inline]
    fn place(self) -> u64 {
        self.0 as u64
    }
}

/// A slot of the index: the key and the row it names.
#[derive(Debug, Clone, Copy)]
struct Slot {
    lo: u64,
    hi: u64,
    row: u32,
}

impl Slot {
    #[inline]
    fn is(&self, key: IdKey) -> bool {
        self.lo == key.0 as u64 && self.hi == (key.0 >> 64) as u64
    }
}

/// Rows numbered in the order their ids were first seen, found by key.
#[derive(Debug, Clone, Default)]
pub struct IdTable {
    index: HashTable<Slot>,
    /// Every id, concatenated.
    bytes: Vec<u8>,
    /// Id `r` is `bytes[ends[r - 1]..ends[r]]`.
    ends: Vec<u64>,
}

impl IdTable {
    /// Number of ids.
    #[inline]
    pub fn len(&self) -> usize {
        self.ends.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    /// Id `r`'s bytes.
    #[inline]
    pub fn get(&self, r: usize) -> &[u8] {
        let start = if r == 0 { 0 } else { self.ends[r - 1] as usize };
        &self.bytes[start..self.ends[r] as usize]
    }

    /// The row of `key`, if known.
    #[inline]
    pub fn find(&self, key: IdKey) -> Option<usize> {
        self.index
            .find(key.place(), |s| s.is(key))
            .map(|s| s.row as usize)
    }

    /// The row of `id` (whose key is `key`), and whether it is new; `None` when it is new
    /// and the table already holds `max` ids (or 2^32 − 1).
    #[inline]
    pub fn intern(&mut self, key: IdKey, id: &[u8], max: usize) -> Option<(usize, bool)> {
        if let Some(s) = self.index.find(key.place(), |s| s.is(key)) {
            return Some((s.row as usize, false));
        }
        let r = self.ends.len();
        if r >= max || r >= u32::MAX as usize {
            return None;
        }
        self.bytes.extend_from_slice(id);
        self.ends.push(self.bytes.len() as u64);
        let slot = Slot {
            lo: key.0 as u64,
            hi: (key.0 >> 64) as u64,
            row: r as u32,
        };
        self.index.insert_unique(key.place(), slot, |s| s.lo);
        Some((r, true))
    }

    /// Room for `n` more ids without growing the index.
    pub fn reserve(&mut self, n: usize) {
        self.index.reserve(n, |s| s.lo);
        self.ends.reserve(n);
    }

    /// Bytes held on the heap, about.
    pub fn heap_bytes(&self) -> usize {
        self.bytes.capacity()
            + self.ends.capacity() * 8
            + self.index.capacity() * (std::mem::size_of::<Slot>() + 1)
    }
}

/// The id keys of a batch's rows: hashed once, for every table that looks the ids up.
#[derive(Debug, Clone, Default)]
pub struct BatchKeys {
    /// Each row's `run_id` key ([`IdKey::default`] for none).
    pub runs: Vec<IdKey>,
    /// Each row's `thread_id` key ([`IdKey::default`] for none).
    pub threads: Vec<IdKey>,
    /// Each row's row in the worker's run table, once [`crate::agg::Runs::update`] has
    /// found it (`u32::MAX` for none): the cost ledger files by it.
    pub rows: Vec<u32>,
}

impl BatchKeys {
    /// The keys of `batch`'s rows (of the columns it keeps).
    pub fn fill(&mut self, batch: &Batch) {
        fill(&mut self.runs, &batch.run_id, batch.len());
        fill(&mut self.threads, &batch.thread_id, batch.len());
        self.rows.clear();
        self.rows.resize(batch.len(), u32::MAX);
    }
}

fn fill(keys: &mut Vec<IdKey>, column: &TextColumn, rows: usize) {
    keys.clear();
    if column.is_empty() {
        keys.resize(rows, IdKey::default());
        return;
    }
    keys.extend((0..rows).map(|i| {
        column
            .get(i)
            .map_or(IdKey::default(), |s| IdKey::of(s.as_bytes()))
    }));
}

#[cfg(test)]
mod tests {
    use super::{IdKey, IdTable};

    #[test]
    fn finds_each_id_by_its_key_and_keeps_its_bytes() {
        let mut t = IdTable::default();
        let key = |s: &[u8]| IdKey::of(s);
        assert_eq!(t.intern(key(b"run_a"), b"run_a", 10), Some((0, true)));
        assert_eq!(t.intern(key(b"run_b"), b"run_b", 10), Some((1, true)));
        assert_eq!(t.intern(key(b"run_a"), b"run_a", 10), Some((0, false)));
        assert_eq!(t.intern(key(b""), b"", 10), Some((2, true)));
        assert_eq!(t.find(key(b"run_b")), Some(1));
        assert_eq!(t.find(key(b"run_c")), None);
        assert_eq!((t.get(1), t.get(2)), (&b"run_b"[..], &b""[..]));
        assert_eq!(t.intern(key(b"run_c"), b"run_c", 3), None);
        assert_eq!(t.intern(key(b"run_a"), b"run_a", 3), Some((0, false)));
        for i in 0..20_000u32 {
            let id = format!("run_{i:024}");
            t.intern(key(id.as_bytes()), id.as_bytes(), usize::MAX)
                .unwrap();
        }
        assert_eq!(t.len(), 20_003);
        let id = format!("run_{:024}", 777);
        assert_eq!(t.get(t.find(key(id.as_bytes())).unwrap()), id.as_bytes());
        // Keys differing in either half are different ids.
        assert_ne!(IdKey::of(b"a").0 >> 64, IdKey::of(b"b").0 >> 64);
    }
}
