//! Durations: terminal timestamp minus `created_at`, per terminal status and per step type.
//!
//! Percentiles come from an HDR histogram with 3 significant digits (values below 2048 s
//! are exact, larger ones within 0.1%). Count, sum, min and max are tracked exactly, so
//! `mean`, `min` and `max` are exact, and percentiles are clamped to `[min, max]`.

use super::tally::{finish_map, merge_maps, Tally};
use super::{Accumulator, Aggregator, Merge, Overflow, Overflowed};
use crate::batch::{Batch, STATUS_CANCELLED, STATUS_COMPLETED, STATUS_EXPIRED, STATUS_FAILED};
use crate::report;
use hdrhistogram::Histogram;
use std::collections::BTreeMap;

/// Significant digits of every duration histogram.
pub const SIGNIFICANT_DIGITS: u8 = 3;

/// Upper bounds (seconds, inclusive) of the coarse histogram reports show; a last bucket
/// holds everything longer.
pub const HISTOGRAM_BOUNDS: [u64; 12] = [0, 1, 2, 5, 10, 30, 60, 120, 300, 600, 1800, 3600];

/// Duration statistics of one group of steps. The histogram is allocated on the first
/// duration recorded: most statuses of most `--group-by` groups never see one.
#[derive(Debug, Clone)]
pub struct DurationStats {
    pub(crate) hist: Option<Box<Histogram<u64>>>,
    pub(crate) missing: u64,
    pub(crate) sum: u128,
    pub(crate) min: u64,
    pub(crate) max: u64,
}

impl Default for DurationStats {
    fn default() -> Self {
        DurationStats {
            hist: None,
            missing: 0,
            sum: 0,
            min: u64::MAX,
            max: 0,
        }
    }
}

impl PartialEq for DurationStats {
    fn eq(&self, other: &Self) -> bool {
        self.count() == other.count()
            && (self.count() == 0 || self.hist == other.hist)
            && (self.missing, self.sum, self.min, self.max)
                == (other.missing, other.sum, other.min, other.max)
    }
}

impl DurationStats {
    /// Records one step: `Some(seconds)` for a usable duration, `None` (or a negative
    /// value) for a step without one, which is counted as missing.
    #[inline]
    pub fn record(&mut self, seconds: Option<i64>) {
        match seconds.and_then(|s| u64::try_from(s).ok()) {
            Some(v) if self.histogram_mut().record(v).is_ok() => {
                self.sum += u128::from(v);
                self.min = self.min.min(v);
                self.max = self.max.max(v);
            }
            _ => self.missing += 1,
        }
    }

    pub(crate) fn histogram_mut(&mut self) -> &mut Histogram<u64> {
        self.hist.get_or_insert_with(|| {
            Box::new(
                Histogram::new(SIGNIFICANT_DIGITS)
                    .expect("3 significant digits is a valid histogram"),
            )
        })
    }

    /// Whether the figures are ones recording could make (for figures read from a
    /// state): none at all, or `min ≤ max` with the sum between `count·min` and
    /// `count·max`.
    pub fn check(&self) -> Result<(), String> {
        let n = self.count();
        if n == 0 {
            return if self.sum == 0 {
                Ok(())
            } else {
                Err(format!("a sum of {} over no durations", self.sum))
            };
        }
        if self.min > self.max {
            return Err(format!("min {} above max {}", self.min, self.max));
        }
        let (lo, hi) = (
            u128::from(n) * u128::from(self.min),
            u128::from(n) * u128::from(self.max),
        );
        if self.sum < lo || self.sum > hi {
            return Err(format!(
                "sum {} is not between {n} × {} and {n} × {}",
                self.sum, self.min, self.max
            ));
        }
        Ok(())
    }

    /// Number of recorded durations.
    pub fn count(&self) -> u64 {
        self.hist.as_ref().map_or(0, |h| h.len())
    }

    /// The finished figures.
    pub fn finish(&self) -> report::DurationSummary {
        let n = self.count();
        // HDR reports a bucket's highest equivalent value, which can exceed the exact
        // maximum (3000 s reads as 3001); the true quantile is always within [min, max].
        let q = |q: f64| {
            let h = self.hist.as_ref().filter(|_| n > 0)?;
            Some(h.value_at_quantile(q).clamp(self.min, self.max))
        };
        report::DurationSummary {
            count: n,
            missing: self.missing,
            min: (n > 0).then_some(self.min),
            mean: (n > 0).then(|| self.sum as f64 / n as f64),
            p50: q(0.50),
            p90: q(0.90),
            p95: q(0.95),
            p99: q(0.99),
            p999: q(0.999),
            max: (n > 0).then_some(self.max),
            histogram: self.histogram(),
        }
    }

    /// Counts per [`HISTOGRAM_BOUNDS`] bucket (exact below 2048 s, within HDR precision
    /// above), then the rest.
    fn histogram(&self) -> Vec<report::HistogramBucket> {
        let mut out = Vec::with_capacity(HISTOGRAM_BOUNDS.len() + 1);
        let mut below = 0u64;
        let mut low = 0u64;
        for &le in &HISTOGRAM_BOUNDS {
            let n = match &self.hist {
                Some(h) if !h.is_empty() && le >= low => h.count_between(low, le),
                _ => 0,
            };
            out.push(report::HistogramBucket {
                le: Some(le),
                count: n,
            });
            below += n;
            low = le + 1;
        }
        out.push(report::HistogramBucket {
            le: None,
            count: self.count().saturating_sub(below),
        });
        out
    }
}

/// The most durations one histogram holds: HdrHistogram's standard encoding (a state
/// file's) writes counts as signed 64-bit numbers.
pub const MAX_COUNT: u64 = i64::MAX as u64;

impl Merge for DurationStats {
    fn merge(&mut self, other: &Self) -> Result<(), Overflowed> {
        let count = self.count().checked_add(other.count());
        let missing = self.missing.checked_add(other.missing);
        let sum = self.sum.checked_add(other.sum);
        let (Some(count), Some(missing), Some(sum)) = (count, missing, sum) else {
            return Err(Overflowed);
        };
        if count > MAX_COUNT {
            return Err(Overflowed);
        }
        // Both histograms auto-resize, so adding cannot run out of range.
        if let Some(theirs) = other.hist.as_deref().filter(|h| !h.is_empty()) {
            self.histogram_mut().add(theirs).map_err(|_| Overflowed)?;
        }
        self.missing = missing;
        self.sum = sum;
        self.min = self.min.min(other.min);
        self.max = self.max.max(other.max);
        Ok(())
    }
}

impl Accumulator for DurationStats {
    fn is_empty(&self) -> bool {
        self.count() == 0 && self.missing == 0
    }

    fn reset(&mut self) {
        if let Some(h) = &mut self.hist {
            h.reset();
        }
        self.missing = 0;
        self.sum = 0;
        self.min = u64::MAX;
        self.max = 0;
    }
}

/// Durations per terminal status, and of completed steps per step type.
#[derive(Debug, Clone, Default)]
pub struct Durations {
    /// Bytes of the keys of its maps.
    pub(crate) keys: usize,
    /// Indexed completed, failed, cancelled, expired.
    pub(crate) by_status: [DurationStats; 4],
    pub(crate) completed_by_type: BTreeMap<String, DurationStats>,
    type_tally: Tally<DurationStats>,
    overflow: Option<Overflow>,
}

/// The figure each status's durations are, in `by_status` order.
const FIGURES: [&str; 4] = [
    "durations_seconds.completed",
    "durations_seconds.failed",
    "durations_seconds.cancelled",
    "durations_seconds.expired",
];

/// What one step type's duration histogram holds, about (HDR at three significant
/// digits over the durations a log has: measured 33 KB).
const HISTOGRAM_BYTES: usize = 33 << 10;

impl Durations {
    /// Bytes the per-type histograms hold, about, in constant time (for the memory
    /// budget: a log with a million step types would need tens of gigabytes).
    pub fn held_bytes(&self) -> usize {
        self.completed_by_type.len() * HISTOGRAM_BYTES + self.keys
    }
}

impl Aggregator for Durations {
    type Output = report::Durations;

    fn update(&mut self, batch: &Batch) {
        for (i, &status) in batch.status.iter().enumerate() {
            let slot = match status {
                STATUS_COMPLETED => 0,
                STATUS_FAILED => 1,
                STATUS_CANCELLED => 2,
                STATUS_EXPIRED => 3,
                _ => continue,
            };
            // A terminal time before creation is no duration: counted as missing.
            let d = batch.duration(i);
            self.by_status[slot].record(d);
            if slot == 0 {
                self.type_tally.slot(batch.step_type[i]).record(d);
            }
        }
        let drained = self.type_tally.drain_into(
            &batch.dicts.step_type,
            &mut self.completed_by_type,
            "durations_seconds.completed_by_type",
            &mut self.keys,
        );
        self.overflow = self.overflow.or(drained.err());
    }

    fn merge(&mut self, other: Self) -> Result<(), Overflow> {
        for ((a, b), figure) in self.by_status.iter_mut().zip(&other.by_status).zip(FIGURES) {
            a.merge(b).map_err(|_| Overflow::of(figure))?;
        }
        merge_maps(
            &mut self.completed_by_type,
            other.completed_by_type,
            "durations_seconds.completed_by_type",
            &mut self.keys,
        )
    }

    fn overflow(&self) -> Option<Overflow> {
        self.overflow
    }

    fn finish(&self) -> report::Durations {
        let [c, f, x, e] = &self.by_status;
        report::Durations {
            completed: c.finish(),
            failed: f.finish(),
            cancelled: x.finish(),
            expired: e.finish(),
            completed_by_type: finish_map(&self.completed_by_type, DurationStats::finish),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::agg::testutil::{step, whole_and_merged};

    #[test]
    fn merges_past_the_largest_count_are_refused_and_damage_is_found() {
        let mut full = DurationStats::default();
        full.histogram_mut().record_n(5, MAX_COUNT).unwrap();
        (full.sum, full.min, full.max) = (5 * u128::from(MAX_COUNT), 5, 5);
        assert_eq!(full.check(), Ok(()));
        let mut one = DurationStats::default();
        one.record(Some(5));
        assert_eq!(full.clone().merge(&one), Err(Overflowed));
        let mut d = DurationStats::default();
        d.merge(&full).unwrap();
        assert_eq!(d.count(), MAX_COUNT);
        // What a damaged state could hold, and `check` refuses.
        let mut bad = one.clone();
        bad.sum = u128::MAX;
        assert!(bad.check().unwrap_err().contains("sum"));
        let mut bad = one.clone();
        bad.min = 9;
        assert!(bad.check().unwrap_err().contains("min 9 above max 5"));
        let bad = DurationStats {
            sum: 3,
            ..DurationStats::default()
        };
        assert!(bad.check().is_err());
    }

    #[test]
    fn exact_stats_for_small_values() {
        let mut s = DurationStats::default();
        for v in 1..=100 {
            s.record(Some(v));
        }
        s.record(None);
        s.record(Some(-3));
        let r = s.finish();
        assert_eq!(
            (r.count, r.missing, r.min, r.max),
            (100, 2, Some(1), Some(100))
        );
        assert_eq!(r.mean, Some(50.5));
        assert_eq!(
            (r.p50, r.p90, r.p99, r.p999),
            (Some(50), Some(90), Some(99), Some(100))
        );
        let h: Vec<u64> = r.histogram.iter().map(|b| b.count).collect();
        // ≤0, ≤1, ≤2, ≤5, ≤10, ≤30, ≤60, ≤120, …, more
        assert_eq!(h, vec![0, 1, 1, 3, 5, 20, 30, 40, 0, 0, 0, 0, 0]);
        assert_eq!(r.histogram.last().unwrap().le, None);
    }

    #[test]
    fn large_values_within_hdr_precision() {
        let mut s = DurationStats::default();
        s.record(Some(1_000_003));
        let r = s.finish();
        let p = r.p50.unwrap() as f64;
        assert!((p - 1_000_003.0).abs() / 1_000_003.0 < 1e-3, "{p}");
        assert_eq!(r.max, Some(1_000_003), "max is exact");
    }

    #[test]
    fn percentiles_never_exceed_the_exact_extremes() {
        let mut s = DurationStats::default();
        s.record(Some(3000));
        let r = s.finish();
        assert_eq!((r.p50, r.p999, r.max), (Some(3000), Some(3000), Some(3000)));
    }

    #[test]
    fn empty_stats_have_no_figures() {
        let r = DurationStats::default().finish();
        assert_eq!(
            (r.count, r.min, r.mean, r.p50, r.max),
            (0, None, None, None, None)
        );
    }

    #[test]
    fn per_status_with_expiry_fallback_and_negative_durations() {
        let lines = [
            step(
                "completed",
                100,
                r#""completed_at":110,"type":"tool_calls""#,
            ),
            step(
                "completed",
                100,
                r#""completed_at":100,"type":"message_creation""#,
            ),
            step("completed", 100, r#""completed_at":90"#),
            step("completed", 100, ""),
            step("failed", 100, r#""failed_at":103,"completed_at":500"#),
            step("cancelled", 100, r#""cancelled_at":101"#),
            step("expired", 100, r#""expires_at":700"#),
            step("expired", 100, r#""expired_at":600,"expires_at":700"#),
            step("in_progress", 100, r#""completed_at":500"#),
        ];
        for r in whole_and_merged::<Durations>(&lines).map(|d| d.finish()) {
            assert_eq!((r.completed.count, r.completed.missing), (2, 2));
            assert_eq!((r.completed.min, r.completed.max), (Some(0), Some(10)));
            assert_eq!(r.failed.max, Some(3));
            assert_eq!(r.cancelled.max, Some(1));
            assert_eq!(
                (r.expired.count, r.expired.min, r.expired.max),
                (2, Some(500), Some(600))
            );
            assert_eq!(r.completed_by_type["tool_calls"].max, Some(10));
            assert_eq!(r.completed_by_type["message_creation"].max, Some(0));
            assert_eq!(r.completed_by_type["(none)"].missing, 2);
        }
    }
}
