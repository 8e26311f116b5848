//! A summary: what a run (or a merge of state files) knows, and the report it gives.
//!
//! The engine builds a [`Summary`] from the line accounting its workers kept and the
//! aggregates its sinks folded; state files store one; [`Summary::report`] turns it into
//! the plain-data [`Report`] every renderer reads. Inputs appear here by name, size and
//! compression ([`FileInfo`]); the aggregates below know them only by index.

use crate::agg::{self, add, Aggregates, Interval, LineStats, Overflow, Sort};
use crate::input::FileInfo;
use crate::report::{self, Report, SCHEMA_VERSION};

/// What `--dedup` folded.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Folded {
    /// Run-step records read (every snapshot).
    pub snapshots: u64,
    /// Distinct step ids: the records summarised.
    pub steps: u64,
}

impl Folded {
    /// Adds another run's counts, or says which would not hold the total.
    pub fn add(&mut self, other: Folded) -> Result<(), Overflow> {
        add(&mut self.snapshots, other.snapshots, "dedup.snapshots")?;
        add(&mut self.steps, other.steps, "dedup.steps")
    }

    fn finish(&self) -> report::Dedup {
        report::Dedup {
            snapshots: self.snapshots,
            steps: self.steps,
            folded: self.snapshots.saturating_sub(self.steps),
        }
    }
}

/// How a summary is shown: what it computed does not depend on these.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct View {
    /// The bucket width of time series.
    pub interval: Interval,
    /// The order of groups.
    pub sort: Sort,
    /// Only the first this many groups (all without).
    pub top: Option<usize>,
}

/// Everything a summary of some inputs holds.
#[derive(Debug, Clone, Default)]
pub struct Summary {
    /// The inputs, in order: line positions and malformed examples refer to them by index.
    pub files: Vec<FileInfo>,
    /// Line accounting.
    pub lines: LineStats,
    /// Records left out by the time window (`--since`/`--until`).
    pub filtered_out: u64,
    /// The figures over all records, the distinct-id sketch and the groups.
    pub aggregates: Aggregates,
    /// What `--dedup` folded, when it ran.
    pub dedup: Option<Folded>,
    /// How it is shown by default.
    pub view: View,
}

/// Below this share of distinct ids among records, repeats are no estimation noise.
const REPEATS_HINT_RATIO: f64 = 0.97;

impl Summary {
    /// Merges the summary of later inputs: `other`'s input `i` becomes input
    /// `self.files.len() + i`. `a.append(b)` equals one run over `a`'s inputs then `b`'s.
    /// Stops, naming the figure, rather than wrap a count or sum that would not hold the
    /// total; `self` is then partly merged and should be dropped.
    pub fn append(&mut self, mut other: Summary) -> Result<(), agg::Error> {
        other.lines.shift_files(self.files.len() as u32);
        self.files.append(&mut other.files);
        self.files
            .iter()
            .try_fold(0u64, |t, f| t.checked_add(f.bytes))
            .ok_or(Overflow::of("input.bytes"))?;
        self.lines.merge(other.lines)?;
        add(
            &mut self.filtered_out,
            other.filtered_out,
            "input.filtered_out",
        )?;
        self.aggregates.merge(other.aggregates)?;
        self.dedup = match (self.dedup, other.dedup) {
            (Some(mut a), Some(b)) => {
                a.add(b)?;
                Some(a)
            }
            (a, b) => a.or(b),
        };
        Ok(())
    }

    /// Whether the summary is one a run could make: every invariant the reports and
    /// merges rely on (for one read from a state). Says what is off.
    pub fn check(&self) -> Result<(), String> {
        self.files
            .iter()
            .try_fold(0u64, |t, f| t.checked_add(f.bytes))
            .ok_or("the inputs' sizes pass 2^64")?;
        self.lines.check(self.files.len())?;
        let f = &self.aggregates.figures;
        f.check()?;
        self.aggregates.groups.check(f.steps.total)?;
        let records = self
            .lines
            .checked_totals()
            .map_err(|o| o.to_string())?
            .records;
        let summarised = f
            .steps
            .total
            .checked_add(self.filtered_out)
            .ok_or("steps and filtered-out records pass 2^64")?;
        match self.dedup {
            None if records != summarised => Err(format!(
                "{records} records read, {summarised} summarised or filtered out"
            )),
            Some(d) if d.snapshots != records || d.steps > d.snapshots || summarised != d.steps => {
                Err(format!(
                    "deduplication of {} snapshots to {} steps, of {records} records read and \
                     {summarised} summarised or filtered out",
                    d.snapshots, d.steps
                ))
            }
            _ => Ok(()),
        }
    }

    /// The report, shown as [`Summary::view`] says.
    pub fn report(&self) -> Report {
        self.report_as(self.view)
    }

    /// The report, shown as `view` says.
    pub fn report_as(&self, view: View) -> Report {
        let headers: Vec<report::FileInput> = self
            .files
            .iter()
            .map(|f| {
                report::FileInput::header(
                    &f.name,
                    f.bytes,
                    f.compression.map(|c| c.as_str().to_string()),
                )
            })
            .collect();
        let mut input = self.lines.finish(&headers);
        input.filtered_out = self.filtered_out;
        let a = &self.aggregates;
        let mut sections = a.figures.finish(view.interval);
        let steps = &mut sections.steps;
        steps.distinct_ids_estimate = a.distinct.estimate().min(steps.total);
        let hints = self.hints(&input.counts, &sections.steps);
        let (groups, total) = a.groups.finish(view.sort, view.top);
        Report {
            schema_version: SCHEMA_VERSION,
            input,
            sections,
            group_by: a.groups.dims().iter().map(|d| d.name()).collect(),
            groups_total: total as u64,
            groups_top: view.top.map(|t| t as u64),
            groups_sorted_by: view.sort.as_str().to_string(),
            groups,
            dedup: self.dedup.map(|d| d.finish()),
            hints,
        }
    }

    /// Advice derived from the figures: an event stream summarised snapshot by snapshot.
    fn hints(&self, counts: &report::LineCounts, steps: &report::Steps) -> Vec<String> {
        if self.dedup.is_some() {
            return Vec::new();
        }
        // Estimation noise is well under 3% (and under 2 ids for small inputs).
        let margin = (steps.total as f64 * (1.0 - REPEATS_HINT_RATIO)).max(2.0);
        let repeats = steps.distinct_ids_estimate as f64 + margin <= steps.total as f64;
        let mut why = Vec::new();
        if counts.deltas > 0 {
            why.push(format!("{} delta events", counts.deltas));
        }
        if repeats {
            why.push(format!(
                "about {} distinct step ids in {} records",
                steps.distinct_ids_estimate, steps.total
            ));
        }
        if why.is_empty() {
            return Vec::new();
        }
        vec![format!(
            "this looks like an event stream or overlapping exports ({}): counts are per snapshot; \
             --dedup counts each step once, from its most advanced snapshot",
            why.join(", ")
        )]
    }
}
