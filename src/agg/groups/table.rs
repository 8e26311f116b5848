//! The groups of one worker (or of a merged summary): keys interned once in one byte
//! buffer, an index from their 128-bit hashes to groups (as runs are found, see
//! [`IdTable`]), and the groups' figures side by side. Looking up a row's group hashes its
//! key bytes once; nothing is allocated unless the group is new.

use super::figures::{GroupFigures, NO_CODE};
use super::TooManyGroups;
use crate::agg::ids::{IdKey, IdTable};
use crate::agg::Error;
use crate::batch::{Code, Dict, NULL};

/// Groups by key.
#[derive(Debug, Clone, Default)]
pub struct Table {
    /// The groups' keys; group `g` has key `g`.
    keys: IdTable,
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
    pub fn group(&mut self, key: &[u8], max: usize) -> Option<usize> {
        self.group_hashed(IdKey::of(key), key, max)
    }

    /// [`Table::group`] of a key whose hash was made before.
    #[inline]
    pub fn group_hashed(&mut self, hash: IdKey, key: &[u8], max: usize) -> Option<usize> {
        let (g, new) = self.keys.intern(hash, key, max)?;
        if new {
            self.figures.push(GroupFigures::default());
        }
        Some(g)
    }

    /// Brings the slot of the key whose hash is `hash` into the cache, ahead of its lookup.
    #[inline]
    pub fn prefetch(&self, hash: IdKey) {
        self.keys.prefetch(hash);
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
        let mut theirs = figures.into_iter();
        let mine = &mut self.figures;
        let mut sum = Ok(());
        let added = self.keys.merge_from(&keys, max, |_, g, new| {
            let Some(mut group) = theirs.next() else {
                return;
            };
            if new {
                for f in &mut group.failures {
                    f.0 = code(f.0);
                }
                mine.push(group);
            } else if sum.is_ok() {
                sum = mine[g].merge(&group, code);
            }
            went.push(g as u32);
        });
        added.map_err(|_| TooManyGroups {
            limit: max,
            seen: max + 1,
        })?;
        sum?;
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
