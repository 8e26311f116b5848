//! The figures computed from records, overall and per group, and the aggregates a worker
//! keeps: those figures, the distinct-id sketch and the groups.

use super::{
    Aggregator, DistinctIds, Durations, Error, Failures, Groups, Interval, Overflow, Series, Steps,
    TimeRange, ToolCalls, Usage,
};
use crate::batch::Batch;
use crate::report;

/// The figures computed from records: what every report shows, overall and per group.
#[derive(Debug, Clone, Default)]
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
    /// Folds a batch into every aggregator; stops at the first figure that would not
    /// hold its sum.
    pub fn update(&mut self, batch: &Batch) -> Result<(), Overflow> {
        if batch.is_empty() {
            return Ok(());
        }
        self.steps.update(batch);
        self.tools.update(batch);
        self.failures.update(batch);
        self.durations.update(batch);
        self.usage.update(batch);
        self.time_range.update(batch);
        self.series.update(batch);
        let overflow = self
            .steps
            .overflow()
            .or(self.tools.overflow())
            .or(self.failures.overflow())
            .or(self.durations.overflow())
            .or(self.usage.overflow())
            .or(self.series.overflow());
        overflow.map_or(Ok(()), Err)
    }

    /// Merges another part.
    pub fn merge(&mut self, other: Figures) -> Result<(), Overflow> {
        self.steps.merge(other.steps)?;
        self.tools.merge(other.tools)?;
        self.failures.merge(other.failures)?;
        self.durations.merge(other.durations)?;
        self.usage.merge(other.usage)?;
        self.time_range.merge(other.time_range)?;
        self.series.merge(other.series)
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

/// Everything a worker folds batches into: the figures over all records, the sketch of
/// distinct step ids, and the figures per group.
#[derive(Debug, Clone, Default)]
pub struct Aggregates {
    /// The figures over all records.
    pub figures: Figures,
    /// Distinct step ids (estimated).
    pub distinct: DistinctIds,
    /// Figures per group (`--group-by`), when grouping.
    pub groups: Groups,
}

impl Aggregates {
    /// Empty aggregates that group along `groups`' dimensions.
    pub fn new(groups: Groups) -> Aggregates {
        Aggregates {
            groups,
            ..Aggregates::default()
        }
    }

    /// Folds a batch in.
    pub fn update(&mut self, batch: &Batch) -> Result<(), Error> {
        if batch.is_empty() {
            return Ok(());
        }
        self.figures.update(batch)?;
        self.distinct.update(batch);
        self.groups.update(batch)
    }

    /// Merges another part.
    pub fn merge(&mut self, other: Aggregates) -> Result<(), Error> {
        self.figures.merge(other.figures)?;
        self.distinct.merge(other.distinct)?;
        self.groups.merge(other.groups)
    }
}
