//! Sinks: where a worker sends the records it parsed, one full batch at a time.
//!
//! Every worker owns one sink for the length of a pass; the pass returns them all and the
//! caller combines them. What a sink asks of the rows (their line positions, their ids as
//! text, whether records outside the time window reach it) is stated by constants, so the
//! worker's loop is compiled once per sink with those branches decided.

use super::dedup::SnapshotIndex;
use super::{Config, Error};
use crate::agg::{Aggregates, Groups, Runs};
use crate::batch::{Batch, Keep};

/// A consumer of full batches.
pub(crate) trait Sink: Send {
    /// Rows carry their line positions ([`Batch::pos`]).
    const POSITIONS: bool = false;
    /// Records outside the time window reach the sink too (they are not counted as
    /// filtered out: the window is applied later).
    const UNWINDOWED: bool = false;

    /// The optional fields rows must keep for this sink.
    fn keep(&self) -> Keep {
        Keep::default()
    }

    /// Takes one batch; the worker clears it afterwards.
    fn take(&mut self, batch: &mut Batch) -> Result<(), Error>;
}

/// Summarises: folds batches into the aggregates of a report.
pub(crate) struct Summarize {
    /// What the batches were folded into.
    pub aggregates: Aggregates,
}

impl Summarize {
    /// Aggregates for a run with `cfg` (its grouping).
    pub fn new(cfg: &Config) -> Summarize {
        Summarize {
            aggregates: Aggregates::new(
                Groups::new(&cfg.group_by, cfg.max_groups),
                Runs::new(cfg.runs, cfg.max_runs),
                cfg.exemplars,
            ),
        }
    }
}

impl Sink for Summarize {
    fn keep(&self) -> Keep {
        self.aggregates.keep()
    }

    fn take(&mut self, batch: &mut Batch) -> Result<(), Error> {
        Ok(self.aggregates.update(batch)?)
    }
}

/// The first pass of deduplication: offers every snapshot to the shared index.
pub(crate) struct Index<'a>(pub &'a SnapshotIndex);

impl Sink for Index<'_> {
    const POSITIONS: bool = true;
    const UNWINDOWED: bool = true;

    fn take(&mut self, batch: &mut Batch) -> Result<(), Error> {
        self.0.offer_batch(batch);
        Ok(())
    }
}

/// Where [`crate::engine::export`] sends full batches: rows with their step ids
/// ([`Batch::id`]) and positions ([`Batch::pos`]). Called from several workers at once.
pub trait RowSink: Sync {
    /// Writes the rows of `batch`; `names` are the inputs' report names, by index.
    fn write(
        &self,
        batch: &Batch,
        names: &[String],
    ) -> Result<(), Box<dyn std::error::Error + Send + Sync>>;
}

/// Export: hands every record to a [`RowSink`].
pub(crate) struct Export<'a> {
    pub rows: &'a dyn RowSink,
    pub names: &'a [String],
}

impl Sink for Export<'_> {
    const POSITIONS: bool = true;

    fn keep(&self) -> Keep {
        Keep {
            ids: true,
            ..Keep::default()
        }
    }

    fn take(&mut self, batch: &mut Batch) -> Result<(), Error> {
        if batch.is_empty() {
            return Ok(());
        }
        self.rows
            .write(batch, self.names)
            .map_err(|source| Error::Export { source })
    }
}
