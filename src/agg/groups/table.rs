//! The groups of one worker (or of a merged summary): keys interned once in one byte
//! buffer, a hash table from key to group, and the groups' figures side by side. Looking
//! up a row's group hashes its key bytes; nothing is allocated unless the group is new.

use super::figures::{GroupFigures, NO_CODE};
use super::TooManyGroups;
use crate::agg::keys::Keys;
use crate::agg::Error;
use crate::batch::{Code, Dict, NULL};

/// Groups by key.
#[derive(Debug, Clone, Default)]
pub struct Table {
    /// The groups' keys; group `g` has key `g`.
    keys: Keys,
    /// The groups, in the order they were first seen.
    pub figures: Vec<GroupFigures>,
    /// Error codes, named once for all groups.
    pub codes: Dict,
    /// A batch dictionary's error code → this table's code (a cache; `NULL` = not yet).
    from_batch: Vec<Code>,
}

impl Table {
    /// Number of groups.
    pub fn len(&self) -> usize {
        self.figures.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.figures.is_empty()
    }

    /// Group `g`'s key.
    pub fn key(&self, g: usize) -> &[u8] {
        self.keys.get(g)
    }

    /// The group of `key`, added if new; `None` when it is new and the table already
    /// holds `max` groups.
    #[inline]
    pub fn group(&mut self, key: &[u8], max: usize) -> Option<usize> {
        let (g, new) = self.keys.intern(key, max)?;
        if new {
            self.figures.push(GroupFigures::default());
        }
        Some(g)
    }

    /// This table's code for error code `code` of a batch whose dictionary is `dict`.
    #[inline]
    pub fn code(&mut self, code: Code, dict: &Dict) -> u32 {
        if code == NULL {
            return NO_CODE;
        }
        let c = code as usize;
        if c >= self.from_batch.len() {
            self.from_batch.resize(c + 1, NULL);
        }
        if self.from_batch[c] == NULL {
            self.from_batch[c] = self.codes.intern(dict.get(code));
        }
        self.from_batch[c]
    }

    /// Forgets which batch codes map to which (the next batch may come from another
    /// dictionary).
    pub fn forget_batch_codes(&mut self) {
        self.from_batch.clear();
    }

    /// Merges `other` in, unless that would take it past `max` groups or a figure past
    /// what it holds. A group new to this table is moved in whole, not rebuilt.
    /// Returns where each of `other`'s groups went.
    pub fn merge(&mut self, other: Table, max: usize) -> Result<Vec<u32>, Error> {
        let codes: Vec<u32> = (0..other.codes.len() as u32)
            .map(|c| self.codes.intern(other.codes.get(c)))
            .collect();
        let code = |c: u32| {
            if c == NO_CODE {
                NO_CODE
            } else {
                codes[c as usize]
            }
        };
        let Table { keys, figures, .. } = other;
        let mut went = Vec::with_capacity(figures.len());
        for (g, mut theirs) in figures.into_iter().enumerate() {
            let key = keys.get(g);
            let before = self.len();
            let mine = self.group(key, max).ok_or(TooManyGroups {
                limit: max,
                seen: max + 1,
            })?;
            if self.len() > before {
                for f in &mut theirs.failures {
                    f.0 = code(f.0);
                }
                self.figures[mine] = theirs;
            } else {
                self.figures[mine].merge(&theirs, code)?;
            }
            went.push(mine as u32);
        }
        Ok(went)
    }

    /// Bytes the table itself holds, about, in constant time: keys and figures without
    /// what each group's figures hold beyond themselves (for the memory budget, after
    /// every batch).
    pub fn held_bytes(&self) -> usize {
        self.keys.heap_bytes() + self.figures.capacity() * std::mem::size_of::<GroupFigures>()
    }

    /// Bytes this table holds on the heap, about.
    pub fn heap_bytes(&self) -> usize {
        self.keys.heap_bytes()
            + self.figures.capacity() * std::mem::size_of::<GroupFigures>()
            + self
                .figures
                .iter()
                .map(GroupFigures::heap_bytes)
                .sum::<usize>()
    }
}
