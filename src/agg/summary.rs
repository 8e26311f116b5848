//! The summary: every aggregator of `steplog summary`, updated and merged together.

use super::{
    Aggregator, DistinctIds, Durations, Failures, FileInfo, Groups, Interval, LineStats, Series,
    Steps, TimeRange, ToolCalls, Usage,
};
use crate::batch::Batch;
use crate::report::{self, Dedup, Report, SCHEMA_VERSION};

/// The figures computed from records: what every report shows, overall and per group.
#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
pub struct Figures {
    /// Steps by status and type.
    pub steps: Steps,
    /// Tool calls.
    pub tools: ToolCalls,
    /// Failures.
    pub failures: Failures,
    /// Durations.
    pub durations: Durations,
    /// Token usage.
    pub usage: Usage,
    /// First and last `created_at`.
    pub time_range: TimeRange,
    /// Steps, failures and tokens per hour.
    pub series: Series,
}

impl Figures {
    /// Folds a batch into every aggregator.
    pub fn update(&mut self, batch: &Batch) {
        if batch.is_empty() {
            return;
        }
        self.steps.update(batch);
        self.tools.update(batch);
        self.failures.update(batch);
        self.durations.update(batch);
        self.usage.update(batch);
        self.time_range.update(batch);
        self.series.update(batch);
    }

    /// Merges another part.
    pub fn merge(&mut self, other: Figures) {
        self.steps.merge(other.steps);
        self.tools.merge(other.tools);
        self.failures.merge(other.failures);
        self.durations.merge(other.durations);
        self.usage.merge(other.usage);
        self.time_range.merge(other.time_range);
        self.series.merge(other.series);
    }

    /// The report sections, with time series in buckets of `interval`.
    pub fn finish(&self, interval: Interval) -> report::Sections {
        report::Sections {
            time_range: self.time_range.finish(),
            steps: self.steps.finish(),
            tool_calls: self.tools.finish(),
            failures: self.failures.finish(),
            durations_seconds: self.durations.finish(),
            usage: self.usage.finish(),
            time_series: self.series.finish_as(interval),
        }
    }
}

/// All aggregates of one summary. `lines` is fed by the parser loop, the rest by batches.
#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
pub struct Summary {
    /// Line accounting.
    pub lines: LineStats,
    /// The figures over all records.
    pub figures: Figures,
    /// Distinct step ids (estimated).
    pub distinct: DistinctIds,
    /// What `--dedup` folded, when it ran.
    pub dedup: Option<Dedup>,
    /// Figures per group (`--group-by`), when grouping.
    pub groups: Groups,
    /// Records left out by the time window (`--since`/`--until`).
    pub filtered_out: u64,
    /// The bucket width of the rendered time series.
    pub interval: Interval,
}

/// Below this share of distinct ids among records, repeats are no estimation noise.
const REPEATS_HINT_RATIO: f64 = 0.97;

impl Summary {
    /// An empty summary that groups along `groups`' dimensions and renders time series in
    /// buckets of `interval`.
    pub fn new(groups: Groups, interval: Interval) -> Summary {
        Summary {
            groups,
            interval,
            ..Summary::default()
        }
    }

    /// Folds a batch into every batch aggregator, and into its group's figures; `scratch`
    /// holds one group's rows at a time.
    pub fn update(&mut self, batch: &mut Batch, scratch: &mut Batch) {
        if batch.is_empty() {
            return;
        }
        self.figures.update(batch);
        self.distinct.update(batch);
        self.groups.update(batch, scratch);
    }

    /// Merges another partial summary.
    pub fn merge(&mut self, other: Summary) {
        self.lines.merge(other.lines);
        self.figures.merge(other.figures);
        self.distinct.merge(other.distinct);
        self.groups.merge(other.groups);
        self.filtered_out += other.filtered_out;
        self.dedup = match (self.dedup, other.dedup) {
            (Some(a), Some(b)) => Some(Dedup {
                snapshots: a.snapshots + b.snapshots,
                steps: a.steps + b.steps,
                folded: a.folded + b.folded,
            }),
            (a, b) => a.or(b),
        };
    }

    /// Merges the summary of later inputs: `other`'s file `i` becomes file
    /// `files_before + i`. `a.append(b, n)` with `n` inputs behind `a` equals one run over
    /// `a`'s inputs then `b`'s.
    pub fn append(&mut self, mut other: Summary, files_before: u32) {
        other.lines.shift_files(files_before);
        self.merge(other);
    }

    /// The report, given the inputs the lines came from.
    pub fn finish(&self, files: &[FileInfo]) -> Report {
        let mut input = self.lines.finish(files);
        input.filtered_out = self.filtered_out;
        let mut sections = self.figures.finish(self.interval);
        let steps = &mut sections.steps;
        steps.distinct_ids_estimate = self.distinct.finish().min(steps.total);
        let hints = self.hints(&input.counts, &sections.steps);
        Report {
            schema_version: SCHEMA_VERSION,
            input,
            sections,
            group_by: self
                .groups
                .dims()
                .iter()
                .map(|d| d.as_str().to_string())
                .collect(),
            groups: self
                .groups
                .sorted()
                .into_iter()
                .map(|(k, g)| report::Group {
                    key: k.to_vec(),
                    sections: g.finish(self.interval),
                })
                .collect(),
            dedup: self.dedup,
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
