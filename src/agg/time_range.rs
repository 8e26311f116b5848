//! Time range: the first and last `created_at`.

use super::{Aggregator, Overflow};
use crate::batch::{Batch, UNDATED};
use crate::report;

/// Earliest and latest `created_at` seen.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TimeRange {
    pub(crate) bounds: Option<(i64, i64)>,
}

impl TimeRange {
    /// Takes in `t`.
    pub(crate) fn include(&mut self, t: i64) {
        self.widen(Some((t, t)));
    }

    pub(crate) fn widen(&mut self, other: Option<(i64, i64)>) {
        self.bounds = match (self.bounds, other) {
            (Some((a, b)), Some((c, d))) => Some((a.min(c), b.max(d))),
            (x, None) | (None, x) => x,
        };
    }
}

impl Aggregator for TimeRange {
    type Output = report::TimeRange;

    fn update(&mut self, batch: &Batch) {
        // Undated rows (failed batch requests) are below every date: not in the range.
        let dated = || batch.created_at.iter().filter(|&&c| c != UNDATED);
        let (Some(&lo), Some(&hi)) = (dated().min(), dated().max()) else {
            return;
        };
        self.widen(Some((lo, hi)));
    }

    fn merge(&mut self, other: Self) -> Result<(), Overflow> {
        self.widen(other.bounds);
        Ok(())
    }

    fn finish(&self) -> report::TimeRange {
        report::TimeRange::new(self.bounds.map(|b| b.0), self.bounds.map(|b| b.1))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::agg::testutil::{batch, step};

    #[test]
    fn tracks_min_and_max_across_merges() {
        let mut a = TimeRange::default();
        assert_eq!(a.finish().first_created_at, None);
        a.update(&batch(&[
            &step("completed", 50, ""),
            &step("completed", 10, ""),
        ]));
        let mut b = TimeRange::default();
        b.update(&batch(&[&step("failed", 70, "")]));
        a.merge(b).unwrap();
        a.merge(TimeRange::default()).unwrap();
        let r = a.finish();
        assert_eq!(
            (r.first_created_at, r.last_created_at),
            (Some(10), Some(70))
        );
        assert_eq!(
            r.first_created_at_utc.as_deref(),
            Some("1970-01-01T00:00:10Z")
        );
    }
}
