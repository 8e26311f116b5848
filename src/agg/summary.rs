//! The summary: every aggregator of `steplog summary`, updated and merged together.

use super::{
    Aggregator, Durations, Failures, FileInfo, LineStats, Steps, TimeRange, ToolCalls, Usage,
};
use crate::batch::Batch;
use crate::report::{Report, SCHEMA_VERSION};

/// All aggregates of one summary. `lines` is fed by the parser loop, the rest by batches.
#[derive(Debug, Clone, Default)]
pub struct Summary {
    /// Line accounting.
    pub lines: LineStats,
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
}

impl Summary {
    /// Folds a batch into every batch aggregator.
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
    }

    /// Merges another partial summary.
    pub fn merge(&mut self, other: Summary) {
        self.lines.merge(other.lines);
        self.steps.merge(other.steps);
        self.tools.merge(other.tools);
        self.failures.merge(other.failures);
        self.durations.merge(other.durations);
        self.usage.merge(other.usage);
        self.time_range.merge(other.time_range);
    }

    /// The report, given the inputs the lines came from.
    pub fn finish(&self, files: &[FileInfo]) -> Report {
        Report {
            schema_version: SCHEMA_VERSION,
            input: self.lines.finish(files),
            time_range: self.time_range.finish(),
            steps: self.steps.finish(),
            tool_calls: self.tools.finish(),
            failures: self.failures.finish(),
            durations_seconds: self.durations.finish(),
            usage: self.usage.finish(),
        }
    }
}
