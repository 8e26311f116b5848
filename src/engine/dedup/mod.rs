//! Deduplication as a strategy of the engine: count every step once, from its most
//! advanced snapshot, by reading the inputs twice.
//!
//! The first pass accounts for every line and offers each record to a [`SnapshotIndex`]
//! (see [`index`]); the index becomes the [`Winners`], the sorted positions of the chosen
//! snapshots' lines; the second pass parses only those lines and summarises them. The
//! summary keeps the first pass's line accounting and the second pass's figures.

pub mod index;

pub use index::{SnapshotIndex, Winners};

use super::scheduler::Scheduler;
use super::sink::{Index, Summarize};
use super::{spool, Error, Lines, Timings};
use crate::agg::Ledger;
use crate::input::InputSpec;
use crate::summary::{Folded, Summary};

/// Runs both passes over `inputs`.
pub(super) fn run(
    scheduler: &Scheduler<'_>,
    inputs: &[InputSpec],
) -> Result<(Summary, Timings), Error> {
    let cfg = scheduler.cfg;
    let (specs, _spooled) = spool::once_only(inputs)?;
    let index = SnapshotIndex::new();
    let first = {
        let sink = || Index {
            index: &index,
            models: Ledger::new(cfg.cost, cfg.max_runs),
        };
        let passed = scheduler.pass(&specs, Lines::Every, &sink)?;
        let mut models = Ledger::new(cfg.cost, cfg.max_runs);
        for s in passed.sinks {
            models.merge(s.models, &[])?;
        }
        (passed.lines, passed.files, passed.timings, models)
    };
    let (first_lines, first_files, first_timings, models) = first;
    let winners = index.into_winners(specs.len());
    // The run objects were all read in the first pass: `--group-by model` has them.
    let by_model = cfg
        .group_by
        .contains(&crate::agg::Dim::Model)
        .then(|| std::sync::Arc::new(super::models_of(&models, cfg)));
    let second = scheduler.pass(&specs, Lines::Winners(&winners), &|| {
        Summarize::new(cfg, by_model.clone())
    })?;
    let mut timings = first_timings;
    timings.add(&second.timings);
    super::same_inputs(&first_files, &second.files)?;
    let mut aggregates = super::merge_sinks(second.sinks, &mut timings)?;
    aggregates.ledger.merge(models, &[])?;
    let steps = winners.len() as u64;
    if aggregates.figures.steps.total() + second.filtered_out != steps {
        return Err(Error::InputChanged {
            path: scheduler.names.join(", "),
        });
    }
    let snapshots = first_lines.totals().records;
    let summary = Summary {
        dedup: Some(Folded { snapshots, steps }),
        aggregates,
        ..super::read_summary(
            first_files,
            first_lines,
            second.filtered_out,
            second.outside,
            cfg,
        )
    };
    Ok((summary, timings))
}
