//! The durations of one group: exact while there are few, then a mergeable log-linear
//! histogram per terminal status.
//!
//! While a group has at most [`EXACT`] durations (and each is under 2^30 s, 34 years),
//! they are kept as they are, each packed with its status into a `u32`: percentiles are
//! exact. Beyond that, each status gets a histogram whose buckets are exact below 256 s
//! and 1/128 of a power of two wide above (a relative width under 0.8%); a percentile is
//! its bucket's midpoint, so within 0.4% of the true value, and clamped to the exact
//! minimum and maximum. Count, sum, minimum and maximum are always exact.
//!
//! Whatever order durations arrive and sketches merge in, a sketch ends up exact exactly
//! when the whole set qualifies, so results do not depend on threads or merges.

use crate::agg::Overflowed;
use crate::report::GroupDuration;
use smallvec::SmallVec;

/// At most this many durations per group are kept exactly.
pub const EXACT: usize = 64;
/// Values below this are their own histogram bucket.
const LINEAR: u64 = 256;
/// Sub-buckets per power of two above [`LINEAR`].
const SUB_BITS: u32 = 7;
/// Largest duration the exact form holds (it packs two status bits beside it).
const MAX_EXACT_VALUE: u64 = (1 << 30) - 1;

/// Terminal statuses, in the order slots are numbered.
pub const SLOTS: [&str; 4] = ["completed", "failed", "cancelled", "expired"];

/// The histogram bucket of `v`.
#[inline]
pub fn bucket(v: u64) -> u16 {
    if v < LINEAR {
        return v as u16;
    }
    let e = 63 - v.leading_zeros(); // floor(log2 v), at least 8
    let sub = (v >> (e - SUB_BITS)) & ((1 << SUB_BITS) - 1);
    (LINEAR + u64::from(e - 8) * (1 << SUB_BITS) + sub) as u16
}

/// The lowest value and the width of bucket `b`.
pub fn bucket_range(b: u16) -> (u64, u64) {
    let b = u64::from(b);
    if b < LINEAR {
        return (b, 1);
    }
    let e = 8 + (b - LINEAR) / (1 << SUB_BITS);
    let sub = (b - LINEAR) % (1 << SUB_BITS);
    let width = 1u64 << (e - u64::from(SUB_BITS));
    (((1 << SUB_BITS) + sub) * width, width)
}

/// One status's histogram.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Hist {
    /// `(bucket, count)`, sorted by bucket, counts above zero.
    pub buckets: Vec<(u16, u64)>,
    /// Durations recorded.
    pub count: u64,
    /// Their sum.
    pub sum: u128,
    /// The smallest (meaningful when `count > 0`).
    pub min: u64,
    /// The largest.
    pub max: u64,
}

impl Hist {
    fn record_n(&mut self, v: u64, n: u64) -> Result<(), Overflowed> {
        let count = self.count.checked_add(n).ok_or(Overflowed)?;
        let sum = u128::from(v)
            .checked_mul(u128::from(n))
            .and_then(|s| s.checked_add(self.sum))
            .ok_or(Overflowed)?;
        let b = bucket(v);
        match self.buckets.binary_search_by_key(&b, |e| e.0) {
            Ok(i) => self.buckets[i].1 += n, // at most `count`
            Err(i) => self.buckets.insert(i, (b, n)),
        }
        self.min = if self.count == 0 { v } else { self.min.min(v) };
        self.max = self.max.max(v);
        (self.count, self.sum) = (count, sum);
        Ok(())
    }

    fn merge(&mut self, other: &Hist) -> Result<(), Overflowed> {
        if other.count == 0 {
            return Ok(());
        }
        let count = self.count.checked_add(other.count).ok_or(Overflowed)?;
        let sum = self.sum.checked_add(other.sum).ok_or(Overflowed)?;
        for &(b, n) in &other.buckets {
            match self.buckets.binary_search_by_key(&b, |e| e.0) {
                Ok(i) => self.buckets[i].1 += n, // at most `count`
                Err(i) => self.buckets.insert(i, (b, n)),
            }
        }
        self.min = if self.count == 0 {
            other.min
        } else {
            self.min.min(other.min)
        };
        self.max = self.max.max(other.max);
        (self.count, self.sum) = (count, sum);
        Ok(())
    }

    /// Whether the histogram is one recording could make (for one read from a state):
    /// buckets in order, each with a count, adding up to `count`; `min` and `max` in the
    /// first and last bucket; `sum` between `count·min` and `count·max`.
    pub fn check(&self) -> Result<(), String> {
        if self.count == 0 {
            return match (self.buckets.is_empty(), self.sum) {
                (true, 0) => Ok(()),
                _ => Err("an empty duration histogram has buckets or a sum".into()),
            };
        }
        if !self.buckets.windows(2).all(|w| w[0].0 < w[1].0) {
            return Err("duration histogram buckets out of order".into());
        }
        let last = bucket(u64::MAX);
        let mut total = 0u64;
        for &(b, n) in &self.buckets {
            if n == 0 || b > last {
                return Err(format!("duration histogram bucket {b} of {n}"));
            }
            total = total
                .checked_add(n)
                .ok_or("duration histogram counts pass 2^64")?;
        }
        if total != self.count {
            return Err(format!(
                "duration histogram buckets hold {total} durations, its count says {}",
                self.count
            ));
        }
        let (first, end) = (self.buckets[0].0, self.buckets[self.buckets.len() - 1].0);
        if self.min > self.max || bucket(self.min) != first || bucket(self.max) != end {
            return Err(format!(
                "duration histogram min {} and max {} do not fit its buckets",
                self.min, self.max
            ));
        }
        let (n, lo, hi) = (
            u128::from(self.count),
            u128::from(self.min),
            u128::from(self.max),
        );
        if self.sum < n * lo || self.sum > n * hi {
            return Err(format!(
                "duration histogram sum {} is not between {} × {} and {} × {}",
                self.sum, self.count, self.min, self.count, self.max
            ));
        }
        Ok(())
    }

    /// The value at rank `k` (1-based): its bucket's midpoint, clamped to `[min, max]`.
    fn at_rank(&self, k: u64) -> u64 {
        let mut seen = 0;
        for &(b, n) in &self.buckets {
            seen += n;
            if seen >= k {
                let (lo, width) = bucket_range(b);
                return (lo + width / 2).clamp(self.min, self.max);
            }
        }
        self.max
    }
}

/// The durations of one group, by terminal status.
#[derive(Debug, Clone, Default)]
pub struct Sketch {
    /// The exact form: `slot << 30 | seconds`, in no particular order; the first few
    /// inline.
    exact: SmallVec<[u32; 6]>,
    /// The histogram form, once the exact one no longer fits.
    hists: Option<Box<[Hist; 4]>>,
}

/// The nearest rank of the percentile `num/den` among `n` values: ⌈n·num/den⌉, at least 1.
fn rank(n: u64, num: u64, den: u64) -> u64 {
    ((u128::from(n) * u128::from(num)).div_ceil(u128::from(den)) as u64).max(1)
}

impl Sketch {
    /// Records a duration of status `slot` (an index into [`SLOTS`]).
    #[inline]
    pub fn record(&mut self, slot: usize, seconds: u64) -> Result<(), Overflowed> {
        if let Some(h) = &mut self.hists {
            h[slot].record_n(seconds, 1)
        } else if seconds <= MAX_EXACT_VALUE && self.exact.len() < EXACT {
            self.exact.push(((slot as u32) << 30) | seconds as u32);
            Ok(())
        } else {
            self.histograms_mut()[slot].record_n(seconds, 1)
        }
    }

    /// Records `n` durations of `seconds` (reading older states, whose durations are
    /// histograms).
    pub fn record_n(&mut self, slot: usize, seconds: u64, n: u64) -> Result<(), Overflowed> {
        if self.hists.is_none() && n <= (EXACT - self.exact.len()) as u64 {
            for _ in 0..n {
                self.record(slot, seconds)?;
            }
            Ok(())
        } else {
            self.histograms_mut()[slot].record_n(seconds, n)
        }
    }

    /// Switches to the histogram form (keeping every duration), and returns it.
    fn histograms_mut(&mut self) -> &mut [Hist; 4] {
        if self.hists.is_none() {
            let mut h: Box<[Hist; 4]> = Box::default();
            for e in std::mem::take(&mut self.exact) {
                // At most 64 durations of under 2^30 s: no sum can overflow.
                let _fits =
                    h[(e >> 30) as usize].record_n(u64::from(e & MAX_EXACT_VALUE as u32), 1);
            }
            self.hists = Some(h);
        }
        self.hists.as_mut().expect("just set")
    }

    /// Merges another group's durations.
    pub fn merge(&mut self, other: &Sketch) -> Result<(), Overflowed> {
        match &other.hists {
            Some(theirs) => {
                let mine = self.histograms_mut();
                for (a, b) in mine.iter_mut().zip(theirs.iter()) {
                    a.merge(b)?;
                }
            }
            None => {
                for &e in &other.exact {
                    self.record((e >> 30) as usize, u64::from(e & MAX_EXACT_VALUE as u32))?;
                }
            }
        }
        Ok(())
    }

    /// Durations recorded for `slot`.
    pub fn count(&self, slot: usize) -> u64 {
        match &self.hists {
            Some(h) => h[slot].count,
            None => self
                .exact
                .iter()
                .filter(|e| (*e >> 30) as usize == slot)
                .count() as u64,
        }
    }

    /// Whether percentiles are exact (the group has few durations).
    pub fn is_exact(&self) -> bool {
        self.hists.is_none()
    }

    /// The exact durations, as `(slot, seconds)` sorted, when the sketch is exact.
    pub fn exact_values(&self) -> Option<Vec<(usize, u64)>> {
        if self.hists.is_some() {
            return None;
        }
        let mut v: Vec<(usize, u64)> = self
            .exact
            .iter()
            .map(|e| ((e >> 30) as usize, u64::from(e & MAX_EXACT_VALUE as u32)))
            .collect();
        v.sort_unstable();
        Some(v)
    }

    /// The histograms, when the sketch is not exact.
    pub fn histograms(&self) -> Option<&[Hist; 4]> {
        self.hists.as_deref()
    }

    /// A sketch from its histograms (reading a state), if each is one recording could make
    /// ([`Hist::check`]).
    pub fn from_histograms(h: [Hist; 4]) -> Result<Sketch, String> {
        for (slot, h) in h.iter().enumerate() {
            h.check().map_err(|e| format!("{} {e}", SLOTS[slot]))?;
        }
        Ok(Sketch {
            exact: SmallVec::new(),
            hists: Some(Box::new(h)),
        })
    }

    /// The figures of status `slot` (`missing` is the caller's to fill in).
    pub fn stats(&self, slot: usize) -> GroupDuration {
        let quantiles = [(50, 100), (90, 100), (99, 100)];
        let (count, min, max, sum, ps) = match &self.hists {
            Some(h) => {
                let h = &h[slot];
                if h.count == 0 {
                    return GroupDuration::default();
                }
                let ps = quantiles.map(|(num, den)| h.at_rank(rank(h.count, num, den)));
                (h.count, h.min, h.max, h.sum, ps)
            }
            None => {
                let mut v: Vec<u64> = self
                    .exact
                    .iter()
                    .filter(|e| (*e >> 30) as usize == slot)
                    .map(|e| u64::from(e & MAX_EXACT_VALUE as u32))
                    .collect();
                if v.is_empty() {
                    return GroupDuration::default();
                }
                v.sort_unstable();
                let n = v.len() as u64;
                let ps = quantiles.map(|(num, den)| v[(rank(n, num, den) - 1) as usize]);
                let sum = v.iter().map(|x| u128::from(*x)).sum();
                (n, v[0], v[v.len() - 1], sum, ps)
            }
        };
        GroupDuration {
            count,
            missing: 0,
            min: Some(min),
            mean: Some(sum as f64 / count as f64),
            p50: Some(ps[0]),
            p90: Some(ps[1]),
            p99: Some(ps[2]),
            max: Some(max),
        }
    }

    /// Bytes this sketch holds on the heap (for doc/groups.md's bytes-per-group figure).
    pub fn heap_bytes(&self) -> usize {
        (if self.exact.spilled() {
            self.exact.capacity() * 4
        } else {
            0
        }) + self.hists.as_ref().map_or(0, |h| {
            std::mem::size_of::<[Hist; 4]>()
                + h.iter().map(|x| x.buckets.capacity() * 16).sum::<usize>()
        })
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn histograms_a_recording_cannot_make_are_refused() {
        let mut h = Hist::default();
        for v in [3, 300, 3000, 30_000] {
            h.record_n(v, 2).unwrap();
        }
        assert_eq!(h.check(), Ok(()));
        type Damage = (&'static str, fn(&mut Hist));
        let damaged: [Damage; 6] = [
            ("out of order", |h| h.buckets.swap(0, 1)),
            ("count", |h| h.count += 1),
            ("bucket", |h| h.buckets[0].1 = 0),
            ("min", |h| h.min = 30_001),
            ("max", |h| h.max = 2),
            ("sum", |h| h.sum = 1),
        ];
        for (what, damage) in damaged {
            let mut bad = h.clone();
            damage(&mut bad);
            assert!(bad.check().is_err(), "{what}");
        }
        let mut big = Hist::default();
        big.record_n(7, u64::MAX).unwrap();
        assert!(big.record_n(7, 1).is_err());
        assert_eq!(big.check(), Ok(()));
    }

    use super::*;

    #[test]
    fn buckets_are_exact_below_256_and_narrow_above() {
        for v in 0..256 {
            assert_eq!(bucket_range(bucket(v)), (v, 1));
        }
        let mut last = 0;
        for v in (256..5_000_000u64)
            .step_by(97)
            .chain([u64::MAX / 3, u64::MAX])
        {
            let b = bucket(v);
            assert!(b >= last, "buckets grow with values");
            last = b;
            let (lo, width) = bucket_range(b);
            assert!(lo <= v && v - lo < width, "{v} in [{lo}, {lo}+{width})");
            assert!(width as f64 / lo as f64 <= 1.0 / 128.0 + 1e-12);
        }
    }

    #[test]
    fn small_groups_are_exact_and_large_ones_close() {
        let mut s = Sketch::default();
        for v in [5, 1, 3, 2, 4] {
            s.record(0, v).unwrap();
        }
        s.record(1, 9).unwrap();
        let c = s.stats(0);
        assert!(s.is_exact());
        assert_eq!(
            (c.count, c.min, c.p50, c.p90, c.p99, c.max),
            (5, Some(1), Some(3), Some(5), Some(5), Some(5))
        );
        assert_eq!(c.mean, Some(3.0));
        assert_eq!(s.count(1), 1);
        assert_eq!(s.stats(2), GroupDuration::default());

        let mut big = Sketch::default();
        let values: Vec<u64> = (0..10_000).map(|i| (i * 7919) % 5000 + 300).collect();
        for &v in &values {
            big.record(0, v).unwrap();
        }
        assert!(!big.is_exact());
        let mut sorted = values.clone();
        sorted.sort_unstable();
        let st = big.stats(0);
        for (got, q) in [(st.p50, 50), (st.p90, 90), (st.p99, 99)] {
            let want = sorted[(rank(10_000, q, 100) - 1) as usize] as f64;
            let got = got.unwrap() as f64;
            assert!((got - want).abs() / want <= 0.004, "p{q}: {got} vs {want}");
        }
        assert_eq!((st.min, st.max), (Some(300), Some(5299)), "exact extremes");
        let sum: u64 = values.iter().sum();
        assert_eq!(st.mean, Some(sum as f64 / 10_000.0));
    }

    #[test]
    fn the_form_does_not_depend_on_the_merge_order() {
        let parts: Vec<Vec<(usize, u64)>> = (0..5)
            .map(|p| (0..20).map(|i| (i % 4, (p * 20 + i) as u64)).collect())
            .collect();
        let sketch = |order: &[usize]| {
            let mut all = Sketch::default();
            for &p in order {
                let mut s = Sketch::default();
                for &(slot, v) in &parts[p] {
                    s.record(slot, v).unwrap();
                }
                all.merge(&s).unwrap();
            }
            all
        };
        let (a, b) = (sketch(&[0, 1, 2, 3, 4]), sketch(&[4, 2, 0, 3, 1]));
        assert!(
            !a.is_exact() && !b.is_exact(),
            "100 durations are past EXACT"
        );
        assert_eq!(a.histograms(), b.histograms());
        for slot in 0..4 {
            assert_eq!(a.stats(slot), b.stats(slot));
        }
        let (c, d) = (sketch(&[0, 1]), sketch(&[1, 0]));
        assert!(c.is_exact());
        assert_eq!(c.exact_values(), d.exact_values());
        // A value too large to pack goes to the histograms at once.
        let mut e = Sketch::default();
        e.record(0, 1 << 31).unwrap();
        assert!(!e.is_exact());
        assert_eq!(e.stats(0).p50, Some(1 << 31));
    }
}
