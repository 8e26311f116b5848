//! Per-batch tallies keyed by dictionary code, folded into string-keyed maps.

use super::{Accumulator, Merge, Overflow, NONE_KEY};
use crate::batch::{Code, Dict, NULL};
use std::collections::BTreeMap;

/// Accumulates a value per dictionary code during one batch; [`Tally::drain_into`] merges
/// the accumulators touched since the last drain into a map keyed by the code's string and
/// empties them in place. Work per drain is proportional to the codes the batch used, not
/// to the dictionary's size, and nothing is allocated once warm.
#[derive(Debug, Clone, Default)]
pub(crate) struct Tally<T> {
    by_code: Vec<T>,
    /// Whether `by_code[i]` is in `touched`.
    marked: Vec<bool>,
    /// Codes used since the last drain, in first-use order.
    touched: Vec<Code>,
    null: T,
    null_touched: bool,
}

impl<T: Accumulator> Tally<T> {
    /// The accumulator for `code` (growing the table for new codes).
    #[inline]
    pub fn slot(&mut self, code: Code) -> &mut T {
        if code == NULL {
            self.null_touched = true;
            return &mut self.null;
        }
        let i = code as usize;
        if i >= self.by_code.len() {
            self.by_code.resize_with(i + 1, T::default);
            self.marked.resize(i + 1, false);
        }
        if !self.marked[i] {
            self.marked[i] = true;
            self.touched.push(code);
        }
        &mut self.by_code[i]
    }

    /// Merges every touched, non-empty accumulator into `map` under its string in `dict`
    /// (`(none)` for null), then empties it. `dict` must be the dictionary the codes
    /// came from. A total that does not fit is an overflow of `figure`. The bytes of the
    /// keys it adds are added to `keys`.
    pub fn drain_into(
        &mut self,
        dict: &Dict,
        map: &mut BTreeMap<String, T>,
        figure: &'static str,
        keys: &mut usize,
    ) -> Result<(), Overflow> {
        let mut result = Ok(());
        for code in self.touched.drain(..) {
            let i = code as usize;
            self.marked[i] = false;
            result = result.and(merge_entry(
                map,
                dict.get(code),
                &mut self.by_code[i],
                figure,
                keys,
            ));
        }
        if std::mem::take(&mut self.null_touched) {
            result = result.and(merge_entry(map, NONE_KEY, &mut self.null, figure, keys));
        }
        result
    }
}

fn merge_entry<T: Accumulator>(
    map: &mut BTreeMap<String, T>,
    key: &str,
    v: &mut T,
    figure: &'static str,
    keys: &mut usize,
) -> Result<(), Overflow> {
    if v.is_empty() {
        return Ok(());
    }
    let result = match map.get_mut(key) {
        Some(acc) => acc.merge(v).map_err(|_| Overflow::of(figure)),
        None => {
            *keys += key.len();
            map.insert(key.to_string(), v.clone());
            Ok(())
        }
    };
    v.reset();
    result
}

/// Each entry of `map`, finished by `finish`, under the same key.
pub(crate) fn finish_map<T, R>(
    map: &BTreeMap<String, T>,
    finish: impl Fn(&T) -> R,
) -> BTreeMap<String, R> {
    map.iter().map(|(k, v)| (k.clone(), finish(v))).collect()
}

/// Merges every entry of `from` into `into`; a total that does not fit is an overflow of
/// `figure`. The bytes of the keys it adds are added to `keys`.
pub(crate) fn merge_maps<T: Merge>(
    into: &mut BTreeMap<String, T>,
    from: BTreeMap<String, T>,
    figure: &'static str,
    keys: &mut usize,
) -> Result<(), Overflow> {
    for (k, v) in from {
        match into.get_mut(&k) {
            Some(acc) => acc.merge(&v).map_err(|_| Overflow::of(figure))?,
            None => {
                *keys += k.len();
                into.insert(k, v);
            }
        }
    }
    Ok(())
}

/// Bytes a string-keyed map of `len` entries holds, about: `keys` bytes of keys and a
/// value of `value` bytes each, with a B-tree's share of a node and a `String` apiece.
pub(crate) fn map_bytes(len: usize, keys: usize, value: usize) -> usize {
    len * (48 + value) + keys
}

/// The bytes of `map`'s keys (for maps read back from a state).
pub(crate) fn key_bytes<T>(map: &BTreeMap<String, T>) -> usize {
    map.keys().map(String::len).sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn drains_by_string_and_resets() {
        let mut d = Dict::default();
        let (a, b) = (d.intern("a"), d.intern("b"));
        let mut t: Tally<u64> = Tally::default();
        *t.slot(a) += 2;
        *t.slot(NULL) += 1;
        let mut m = BTreeMap::new();
        let mut keys = 0;
        t.drain_into(&d, &mut m, "x", &mut keys).unwrap();
        *t.slot(b) += 5;
        *t.slot(a) += 1;
        t.drain_into(&d, &mut m, "x", &mut keys).unwrap();
        t.drain_into(&d, &mut m, "x", &mut keys).unwrap();
        let want: BTreeMap<String, u64> = [
            ("(none)".to_string(), 1),
            ("a".to_string(), 3),
            ("b".to_string(), 5),
        ]
        .into();
        assert_eq!(m, want);
        assert_eq!(keys, "(none)ab".len(), "each key counted once");
    }

    #[test]
    fn merge_maps_adds() {
        let mut a: BTreeMap<String, u64> = [("x".to_string(), 1)].into();
        let mut keys = 1;
        merge_maps(
            &mut a,
            [("x".to_string(), 2), ("yy".to_string(), 3)].into(),
            "m",
            &mut keys,
        )
        .unwrap();
        assert_eq!(a, [("x".to_string(), 3), ("yy".to_string(), 3)].into());
        assert_eq!(keys, 3, "the new key's bytes only");
        let big: BTreeMap<String, u64> = [("x".to_string(), u64::MAX)].into();
        assert_eq!(
            merge_maps(&mut a, big, "m", &mut keys),
            Err(Overflow::of("m"))
        );
    }
}
