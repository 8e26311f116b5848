//! Ids by their 128-bit hash: runs, threads, the runs of the cost ledger, and the keys of
//! groups.
//!
//! A run id is hashed once per line ([`IdKey::of`]); from then on the tables find it by
//! that hash alone: a slot holds the whole 128-bit key, and beside it the row's index, so
//! a lookup reads one slot and compares two words, never the id's bytes (which a table
//! comparing bytes would fetch from a second buffer and `memcmp`). The bytes are kept
//! once, when the id is new, for the reports and states that show them.
//!
//! The index is open addressing with linear probing, written here rather than taken from
//! `hashbrown` for one thing `hashbrown` does not offer: telling the processor where a key
//! will be looked up before it is ([`IdTable::prefetch`]). Millions of runs make a table far
//! larger than the caches, and the steps of a shuffled log each touch another part of it:
//! the batch loops ask for the slots of the rows a few places ahead, so the processor waits
//! for several of them at once instead of one after another.
//!
//! Two different ids with the same 128-bit XXH3 hash would be taken for one: among a
//! billion ids the chance is about 10^-21, far below that of a memory error.

use super::hint::{prefetch, AHEAD};
use crate::batch::{Batch, TextColumn};

/// An id's 128-bit hash.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct IdKey(pub u128);

impl IdKey {
    /// The key of `id`.
    #[inline]
    pub fn of(id: &[u8]) -> IdKey {
        IdKey(xxhash_rust::xxh3::xxh3_128(id))
    }

    /// Where probing for it starts among `mask + 1` slots (its low bits: XXH3's output is
    /// uniform).
    #[inline]
    fn home(self, mask: usize) -> usize {
        self.0 as usize & mask
    }
}

/// A free slot's row.
const FREE: u32 = u32::MAX;
/// The fewest slots an index has once it has any.
const MIN_SLOTS: usize = 16;

/// Rows numbered in the order their ids were first seen, found by key.
#[derive(Debug, Clone, Default)]
pub struct IdTable {
    /// Per slot: a key, and its row ([`FREE`] for none). A power of two of slots, at most
    /// seven eighths used (as `hashbrown` fills its tables).
    keys: Vec<u128>,
    rows: Vec<u32>,
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

    /// The slot holding `key`, or the free slot where it would go.
    #[inline]
    fn slot(&self, key: IdKey) -> usize {
        let mask = self.rows.len() - 1;
        let mut i = key.home(mask);
        loop {
            if self.rows[i] == FREE || self.keys[i] == key.0 {
                return i;
            }
            i = (i + 1) & mask;
        }
    }

    /// Brings the slot where `key` is looked up into the cache, ahead of the lookup.
    #[inline]
    pub fn prefetch(&self, key: IdKey) {
        if let Some(mask) = self.rows.len().checked_sub(1) {
            let i = key.home(mask);
            prefetch(self.keys.as_ptr().wrapping_add(i));
            prefetch(self.rows.as_ptr().wrapping_add(i));
        }
    }

    /// The row of `key`, if known.
    #[inline]
    pub fn find(&self, key: IdKey) -> Option<usize> {
        if self.rows.is_empty() {
            return None;
        }
        let row = self.rows[self.slot(key)];
        (row != FREE).then_some(row as usize)
    }

    /// The row of `id` (whose key is `key`), and whether it is new; `None` when it is new
    /// and the table already holds `max` ids (or 2^32 − 1).
    #[inline]
    pub fn intern(&mut self, key: IdKey, id: &[u8], max: usize) -> Option<(usize, bool)> {
        if !self.rows.is_empty() {
            let i = self.slot(key);
            if self.rows[i] != FREE {
                return Some((self.rows[i] as usize, false));
            }
        }
        let r = self.ends.len();
        if r >= max || r >= FREE as usize {
            return None;
        }
        if 8 * (r + 1) > 7 * self.rows.len() {
            self.grow_to(r + 1);
        }
        let i = self.slot(key);
        self.keys[i] = key.0;
        self.rows[i] = r as u32;
        self.bytes.extend_from_slice(id);
        self.ends.push(self.bytes.len() as u64);
        Some((r, true))
    }

    /// Adds every id of `other`, in its row order, with room made first and each slot
    /// asked for a few ids ahead; `each(theirs, mine, new)` is told each one's row here and
    /// whether it is new. `Err(theirs)` when an id is new and the table already holds `max`
    /// ids (those before it were added).
    pub fn merge_from(
        &mut self,
        other: &IdTable,
        max: usize,
        mut each: impl FnMut(usize, usize, bool),
    ) -> Result<(), usize> {
        let n = other.len();
        self.reserve(n.min(max.saturating_sub(self.len())));
        self.bytes.reserve(other.bytes.len());
        // The keys of the next AHEAD ids, each made once, when its slot is asked for.
        let mut ring = [IdKey::default(); AHEAD];
        for (r, key) in ring.iter_mut().enumerate().take(n) {
            *key = IdKey::of(other.get(r));
            self.prefetch(*key);
        }
        for r in 0..n {
            let key = ring[r % AHEAD];
            if r + AHEAD < n {
                let ahead = IdKey::of(other.get(r + AHEAD));
                ring[r % AHEAD] = ahead;
                self.prefetch(ahead);
            }
            let (mine, new) = self.intern(key, other.get(r), max).ok_or(r)?;
            each(r, mine, new);
        }
        Ok(())
    }

    /// Makes the index large enough for `n` ids, moving every key to its new slot.
    fn grow_to(&mut self, n: usize) {
        let slots = (n.saturating_mul(8) / 7 + 1)
            .next_power_of_two()
            .max(MIN_SLOTS);
        if slots <= self.rows.len() {
            return;
        }
        let keys = std::mem::replace(&mut self.keys, vec![0; slots]);
        let rows = std::mem::replace(&mut self.rows, vec![FREE; slots]);
        for (key, row) in keys.into_iter().zip(rows) {
            if row != FREE {
                let i = self.slot(IdKey(key));
                self.keys[i] = key;
                self.rows[i] = row;
            }
        }
    }

    /// Room for `n` more ids without growing the index.
    pub fn reserve(&mut self, n: usize) {
        self.grow_to(self.len().saturating_add(n));
        self.ends.reserve(n);
    }

    /// Bytes held on the heap, about.
    pub fn heap_bytes(&self) -> usize {
        self.bytes.capacity() + self.ends.capacity() * 8 + self.rows.capacity() * (16 + 4)
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

    /// Against a `HashMap` of the ids' bytes: rows in first-seen order, through every
    /// growth of the index, with room reserved midway, with keys that share their low bits
    /// (long probe runs), and with prefetches (hints only) on keys held or not.
    #[test]
    fn gives_the_rows_a_map_of_the_bytes_gives() {
        use std::collections::HashMap;
        let mut t = IdTable::default();
        assert_eq!(t.find(IdKey::of(b"x")), None);
        t.prefetch(IdKey::of(b"x"));
        let mut reference: HashMap<Vec<u8>, usize> = HashMap::new();
        let mut state = 0x9e37_79b9_7f4a_7c15u64;
        for step in 0..60_000u64 {
            state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1);
            let id = format!("run_{}", (state >> 33) % 25_000).into_bytes();
            // Keys made to share their low 64 bits: the same home slot, and so long runs.
            let key = match id.len() % 3 {
                0 => IdKey(IdKey::of(&id).0 << 64 | 7),
                _ => IdKey::of(&id),
            };
            t.prefetch(key);
            let next = reference.len();
            let want = *reference.entry(id.clone()).or_insert(next);
            let (got, new) = t.intern(key, &id, usize::MAX).unwrap();
            assert_eq!((got, new), (want, want == next), "at step {step}");
            if step == 30_000 {
                t.reserve(50_000);
            }
        }
        assert_eq!(t.len(), reference.len());
        for (id, &r) in &reference {
            assert_eq!(t.get(r), &id[..]);
        }
        assert!(t.heap_bytes() >= t.len() * 20);
    }
}
