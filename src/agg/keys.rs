//! Interned keys: every key once in one byte buffer, and a hash table from key to its
//! index. Groups are tables of figures indexed by such keys; looking a
//! key up hashes its bytes, and nothing is allocated unless the key is new.

use hashbrown::{DefaultHashBuilder, HashTable};
use std::hash::BuildHasher;

/// Keys by index, and indexes by key.
#[derive(Debug, Clone, Default)]
pub struct Keys {
    /// Every key, concatenated.
    bytes: Vec<u8>,
    /// Key `k` is `bytes[ends[k - 1]..ends[k]]`.
    ends: Vec<usize>,
    /// Key indexes with 32 bits of their key's hash, so that growing the table rehashes
    /// from the entries alone instead of reading every key again (each a likely cache
    /// miss in a table of millions).
    index: HashTable<(u32, u32)>,
    hasher: DefaultHashBuilder,
}

/// The table hash of a key whose 32-bit hash is `h`: spread over 64 bits (the table takes
/// its bucket from the low bits and a tag from the high ones).
#[inline]
fn spread(h: u32) -> u64 {
    u64::from(h).wrapping_mul(0x9E37_79B9_7F4A_7C15)
}

impl Keys {
    /// Key `k`.
    #[inline]
    pub fn get(&self, k: usize) -> &[u8] {
        let start = if k == 0 { 0 } else { self.ends[k - 1] };
        &self.bytes[start..self.ends[k]]
    }

    /// The 32-bit hash of `key`.
    #[inline]
    fn hash(&self, key: &[u8]) -> u32 {
        let h = self.hasher.hash_one(key);
        (h ^ (h >> 32)) as u32
    }

    /// The index of `key`, and whether it is new; `None` when it is new and the table
    /// already holds `max` keys (or 2^32 − 1).
    #[inline]
    pub fn intern(&mut self, key: &[u8], max: usize) -> Option<(usize, bool)> {
        let h = self.hash(key);
        let (bytes, ends) = (&self.bytes, &self.ends);
        if let Some(&(k, _)) = self.index.find(spread(h), |&(k, kh)| {
            kh == h && key_at(bytes, ends, k as usize) == key
        }) {
            return Some((k as usize, false));
        }
        let k = self.ends.len();
        if k >= max || k >= u32::MAX as usize {
            return None;
        }
        self.bytes.extend_from_slice(key);
        self.ends.push(self.bytes.len());
        self.index
            .insert_unique(spread(h), (k as u32, h), |&(_, kh)| spread(kh));
        Some((k, true))
    }

    /// Bytes held on the heap, about.
    pub fn heap_bytes(&self) -> usize {
        self.bytes.capacity() + self.ends.capacity() * 8 + self.index.capacity() * 9
    }
}

#[inline]
fn key_at<'a>(bytes: &'a [u8], ends: &[usize], k: usize) -> &'a [u8] {
    let start = if k == 0 { 0 } else { ends[k - 1] };
    &bytes[start..ends[k]]
}

#[cfg(test)]
mod tests {
    use super::Keys;

    #[test]
    fn interns_each_key_once_and_finds_it_again() {
        let mut k = Keys::default();
        assert_eq!(k.intern(b"run_a", 10), Some((0, true)));
        assert_eq!(k.intern(b"run_b", 10), Some((1, true)));
        assert_eq!(k.intern(b"run_a", 10), Some((0, false)));
        assert_eq!(k.intern(b"", 10), Some((2, true)));
        assert_eq!(k.intern(b"run_b", 10), Some((1, false)));
        assert_eq!(k.get(1), b"run_b");
        assert_eq!(k.get(2), b"");
        assert_eq!(k.intern(b"run_c", 3), None);
        assert_eq!(k.intern(b"run_a", 3), Some((0, false)));
        for i in 0..10_000u32 {
            k.intern(&i.to_le_bytes(), usize::MAX).unwrap();
        }
        assert_eq!(k.intern(&77u32.to_le_bytes(), 0), Some((3 + 77, false)));
    }
}
