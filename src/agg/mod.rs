//! Aggregators: small types that read batches and merge with each other.
//!
//! Each aggregator implements [`Aggregator`]: `update` folds one [`Batch`] in, `merge`
//! combines two partial results (from two threads, two files, two days), and `finish`
//! turns the state into plain report data. Merging is exact (integer counts and sums,
//! HDR histogram counts), so any split of the input gives the same report.
//!
//! Inside `update`, aggregators count per dictionary code into a scratch vector and fold
//! those counts into string-keyed maps once per batch, so no string is hashed or compared
//! per row here.

pub mod chains;
mod distinct;
mod durations;
pub mod exemplars;
mod failures;
pub mod fees;
mod figures;
pub mod groups;
mod hint;
mod ids;
pub mod ledger;
mod lines;
mod run_table;
pub mod runs;
mod series;
pub mod spill;
mod steps;
mod tally;
mod time_range;
mod tools;
mod usage;

pub use distinct::DistinctIds;
pub use durations::{DurationStats, Durations, HISTOGRAM_BOUNDS, SIGNIFICANT_DIGITS};
pub use exemplars::Exemplars;
pub use failures::Failures;
pub use figures::{Aggregates, Figures};
pub use groups::{Dim, Groups, Sort, TooManyGroups, DEFAULT_MAX_GROUPS};
pub use ids::{BatchKeys, IdKey, IdTable};
pub use ledger::Ledger;
pub use lines::{Example, FileCounts, LineCounts, LinePos, LineStats, MAX_EXAMPLES};
pub use run_table::RunTable;
pub use runs::{Runs, TooManyRuns, DEFAULT_MAX_RUNS};
pub use series::{Bucket, Interval, TimeSeries as Series};
pub use steps::Steps;
pub use time_range::TimeRange;
pub use tools::ToolCalls;
pub use usage::{Usage, UsageSums};

use crate::batch::Batch;

/// A mergeable statistic over batches.
pub trait Aggregator: Default {
    /// The report section it produces.
    type Output;
    /// Folds one batch in. A sum that cannot hold what the batch adds is kept to be told
    /// by [`Aggregator::overflow`].
    fn update(&mut self, batch: &Batch);
    /// Folds another partial result in. `a.merge(b)` equals having updated `a` with every
    /// batch `b` saw, or says which figure would not hold the total.
    fn merge(&mut self, other: Self) -> Result<(), Overflow>;
    /// The finished figures.
    fn finish(&self) -> Self::Output;
    /// The first figure an update could not add to, if any.
    fn overflow(&self) -> Option<Overflow> {
        None
    }
}

/// A count or sum that would pass the largest value it holds (2^64 − 1, or 2^128 − 1 for
/// duration sums). Steplog's rule: never wrap, never saturate; stop, naming the figure.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("{figure} would pass the largest value it holds (2^64 − 1, or 2^128 − 1 for a duration sum): steplog stops rather than report a wrong figure")]
pub struct Overflow {
    /// The figure, as the JSON report names it (`usage.prompt_tokens`).
    pub figure: &'static str,
}

impl Overflow {
    /// The overflow of `figure`.
    pub fn of(figure: &'static str) -> Overflow {
        Overflow { figure }
    }
}

/// Why aggregates could not take a batch or another part.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A figure would not hold its total.
    #[error(transparent)]
    Overflow(#[from] Overflow),
    /// Grouping met more groups than allowed.
    #[error(transparent)]
    TooManyGroups(#[from] TooManyGroups),
    /// More runs or threads than allowed.
    #[error(transparent)]
    TooManyRuns(#[from] TooManyRuns),
    /// Runs were spilled to disk, and responses continue each other's runs: the chains
    /// are resolved in memory only.
    #[error(
        "{0} responses continue the runs of others, and the runs passed their share of the \
         memory budget: chains of responses are resolved in memory only (raise \
         --memory-limit, or leave runs out with --no-runs)"
    )]
    ChainsSpilled(usize),
}

/// Adds `b` to `a`, or says that `figure` overflows.
#[inline]
pub(crate) fn add(a: &mut u64, b: u64, figure: &'static str) -> Result<(), Overflow> {
    *a = a.checked_add(b).ok_or(Overflow::of(figure))?;
    Ok(())
}

/// Tables at least this large are freed on a thread of their own ([`drop_aside`]).
const ASIDE_BYTES: usize = 64 << 20;

/// Drops `tables`, which hold about `bytes` on the heap: on a short-lived thread of its own
/// when that is large. A part merged in at the end of a pass can hold hundreds of
/// megabytes, and giving them back to the system (unmapping them page by page) would
/// otherwise hold up the merge that follows and the report. Smaller parts (those handed
/// over while reading, within a share of the memory budget) are freed at once, so what
/// the budget counts is what is held.
pub(crate) fn drop_aside<T: Send + 'static>(tables: T, bytes: usize) {
    if bytes >= ASIDE_BYTES {
        // If no thread can be started, the closure, and so the tables, are dropped here.
        let _ = std::thread::Builder::new()
            .name("steplog-free".into())
            .spawn(move || drop(tables));
    } else {
        drop(tables);
    }
}

/// Values that combine by adding up (counts, sums, histograms).
pub trait Merge {
    /// Adds `other` into `self`; `Err` when a figure would not hold the total (the caller
    /// names it).
    fn merge(&mut self, other: &Self) -> Result<(), Overflowed>;
}

/// A [`Merge`] that did not fit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Overflowed;

/// A [`Merge`] value that can say it is empty and be emptied in place, so per-batch
/// accumulators are reused rather than reallocated.
pub trait Accumulator: Merge + Default + Clone {
    /// Whether nothing was added since the last reset.
    fn is_empty(&self) -> bool;
    /// Back to the empty value, keeping allocations.
    fn reset(&mut self);
}

impl Merge for u64 {
    #[inline]
    fn merge(&mut self, other: &u64) -> Result<(), Overflowed> {
        *self = self.checked_add(*other).ok_or(Overflowed)?;
        Ok(())
    }
}

impl Accumulator for u64 {
    fn is_empty(&self) -> bool {
        *self == 0
    }
    fn reset(&mut self) {
        *self = 0;
    }
}

/// The key reports use for a null string (no assistant id, no error code, …).
pub const NONE_KEY: &str = "(none)";

#[cfg(test)]
pub(crate) mod testutil {
    //! Builds batches from JSON lines for aggregator tests.
    use crate::batch::Batch;
    use crate::parse::{LineParser, PADDING};

    /// Parses every line into one batch (keeping ids, runs and threads); panics on a
    /// malformed line.
    pub fn batch(lines: &[&str]) -> Batch {
        let mut b = Batch::new();
        b.set_keep(crate::batch::Keep {
            ids: true,
            runs: true,
            threads: true,
            metadata: Vec::new(),
        });
        let mut p = LineParser::new();
        for l in lines {
            let mut buf = l.as_bytes().to_vec();
            buf.extend_from_slice(&[b' '; PADDING]);
            p.parse_line(&mut buf, l.len(), &mut b).expect(l);
        }
        b
    }

    /// `A` updated with all `lines` at once, and `A` merged from one part per line: the
    /// two must agree.
    pub fn whole_and_merged<A: crate::agg::Aggregator>(lines: &[String]) -> [A; 2] {
        let refs: Vec<&str> = lines.iter().map(String::as_str).collect();
        let mut whole = A::default();
        whole.update(&batch(&refs));
        let mut merged = A::default();
        for l in &refs {
            let mut one = A::default();
            one.update(&batch(&[l]));
            merged.merge(one).unwrap();
        }
        [whole, merged]
    }

    /// A record line with the given status, type, times and extra JSON members.
    pub fn step(status: &str, created: i64, extra: &str) -> String {
        let sep = if extra.is_empty() { "" } else { "," };
        format!(r#"{{"id":"s","created_at":{created},"status":"{status}"{sep}{extra}}}"#)
    }
}
