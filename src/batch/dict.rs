//! String dictionaries: each distinct string is stored once and rows hold a `u32` code.

use hashbrown::{DefaultHashBuilder, HashTable};
use std::hash::BuildHasher;

/// A dictionary code.
pub type Code = u32;

/// The code of a null (absent) string.
pub const NULL: Code = u32::MAX;

/// An interning dictionary. Codes are dense, assigned in first-seen order, and stable for
/// the dictionary's lifetime.
#[derive(Debug, Clone, Default)]
pub struct Dict {
    values: Vec<Box<str>>,
    /// Codes, hashed by the string they stand for; the strings live only in `values`.
    index: HashTable<Code>,
    hasher: DefaultHashBuilder,
    /// The last code returned: logs are bursty (one assistant, one error), and comparing
    /// against it is cheaper than hashing.
    last: Option<Code>,
}

impl Dict {
    /// A dictionary whose first codes are `seed[0]`, `seed[1]`, …
    pub fn with_seed(seed: &[&str]) -> Dict {
        let mut d = Dict::default();
        for s in seed {
            d.intern(s);
        }
        d.last = None;
        d
    }

    /// The code of `s`, inserting it if new. Allocates only for a new string.
    #[inline]
    pub fn intern(&mut self, s: &str) -> Code {
        if let Some(code) = self.last {
            if *self.values[code as usize] == *s {
                return code;
            }
        }
        let hash = self.hasher.hash_one(s);
        let values = &self.values;
        let code = match self.index.find(hash, |&c| *values[c as usize] == *s) {
            Some(&code) => code,
            None => {
                let code = Code::try_from(self.values.len())
                    .ok()
                    .filter(|&c| c != NULL)
                    .expect("more than 4 billion distinct strings in one dictionary");
                self.values.push(s.into());
                let (values, hasher) = (&self.values, &self.hasher);
                self.index
                    .insert_unique(hash, code, |&c| hasher.hash_one(&*values[c as usize]));
                code
            }
        };
        self.last = Some(code);
        code
    }

    /// [`Dict::intern`] for an optional string; `None` is [`NULL`].
    #[inline]
    pub fn intern_opt(&mut self, s: Option<&str>) -> Code {
        match s {
            Some(s) => self.intern(s),
            None => NULL,
        }
    }

    /// The code of `s`, if present.
    pub fn lookup(&self, s: &str) -> Option<Code> {
        let hash = self.hasher.hash_one(s);
        self.index
            .find(hash, |&c| *self.values[c as usize] == *s)
            .copied()
    }

    /// The string of `code`. Panics on [`NULL`] or an unknown code.
    #[inline]
    pub fn get(&self, code: Code) -> &str {
        &self.values[code as usize]
    }

    /// The string of `code`, `None` for [`NULL`].
    #[inline]
    pub fn get_opt(&self, code: Code) -> Option<&str> {
        if code == NULL {
            None
        } else {
            Some(self.get(code))
        }
    }

    /// Number of distinct strings.
    pub fn len(&self) -> usize {
        self.values.len()
    }

    /// Whether the dictionary is empty.
    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interning_is_stable_and_dense() {
        let mut d = Dict::with_seed(&["a", "b"]);
        assert_eq!(d.intern("b"), 1);
        assert_eq!(d.intern("c"), 2);
        assert_eq!(d.intern("a"), 0);
        assert_eq!(d.intern("c"), 2);
        assert_eq!(d.len(), 3);
        assert_eq!(d.get(2), "c");
        assert_eq!(d.lookup("c"), Some(2));
        assert_eq!(d.lookup("zz"), None);
        assert_eq!(d.intern_opt(None), NULL);
        assert_eq!(d.get_opt(NULL), None);
    }

    #[test]
    fn many_values_survive_rehashing() {
        let mut d = Dict::default();
        let names: Vec<String> = (0..10_000).map(|i| format!("asst_{i}")).collect();
        for (i, n) in names.iter().enumerate() {
            assert_eq!(d.intern(n) as usize, i);
        }
        for (i, n) in names.iter().enumerate().rev() {
            assert_eq!(d.intern(n) as usize, i);
            assert_eq!(d.get(i as Code), n);
        }
    }
}
