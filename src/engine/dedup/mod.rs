//! Deduplication as a strategy of the engine: count every step once, from its most
//! advanced snapshot, by reading the inputs twice.
//!
//! The first pass accounts for every line and offers each record to a [`SnapshotIndex`]
//! (see [`index`]); the index becomes the [`Winners`], the sorted positions of the chosen
//! snapshots' lines; the second pass parses only those lines and summarises them. The
//! summary keeps the first pass's line accounting and the second pass's figures.
//!
//! Most logs given `--dedup` to be safe hold each step once. The first pass therefore
//! also summarises, as a plain run would, until a worker meets a step it has seen: when
//! none repeats, that summary is the answer and the second pass is skipped.

pub mod index;

pub use index::{SnapshotIndex, Winners};

use super::scheduler::Scheduler;
use super::sink::{Index, Summarize};
use super::{spool, Error, Lines, Timings};
use crate::agg::Ledger;
use crate::input::InputSpec;
use crate::summary::{Folded, Summary};
use std::sync::atomic::{AtomicBool, Ordering};

/// Runs both passes over `inputs`.
pub(super) fn run(
    scheduler: &Scheduler<'_>,
    inputs: &[InputSpec],
) -> Result<(Summary, Timings), Error> {
    let cfg = scheduler.cfg;
    let (specs, _spooled) = spool::once_only(inputs)?;
    let index = SnapshotIndex::new();
    // A plain summary in the first pass serves when no step repeats. Not when the window
    // or `--where` leaves records out (the first pass must see them all), nor for
    // `--group-by model` (the models are known only once the pass is over).
    let speculate = cfg.window.is_open()
        && cfg.filter.is_none()
        && !cfg.group_by.contains(&crate::agg::Dim::Model);
    let folded = AtomicBool::new(!speculate);
    let first = {
        let sink = || Index {
            index: &index,
            models: Ledger::new(cfg.cost, cfg.max_runs),
            speculative: speculate.then(|| Summarize::new(cfg, None)),
            folded: &folded,
        };
        let mut passed = scheduler.pass(&specs, Lines::Every, &sink)?;
        let mut models = Ledger::new(cfg.cost, cfg.max_runs);
        let mut speculative = Vec::with_capacity(passed.sinks.len());
        for s in std::mem::take(&mut passed.sinks) {
            models.merge(s.models, &[])?;
            speculative.extend(s.speculative);
        }
        (passed, models, speculative)
    };
    let (first, models, speculative) = first;
    let steps = index.len() as u64;
    let snapshots = first.lines.totals().records;
    if !folded.load(Ordering::Relaxed) && snapshots == steps {
        // Every record was its step's only snapshot: the first pass's summary is exact.
        let mut timings = first.timings;
        let aggregates = super::merge_sinks(speculative, &mut timings)?;
        let summary = Summary {
            dedup: Some(Folded { snapshots, steps }),
            aggregates,
            ..super::read_summary(first.files, first.lines, 0, first.outside, cfg)
        };
        return Ok((summary, timings));
    }
    drop(speculative);
    let (first_lines, first_files, first_timings) = (first.lines, first.files, first.timings);
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
    if aggregates.figures.steps.total() + second.filtered_out != steps {
        return Err(Error::InputChanged {
            path: scheduler.names.join(", "),
        });
    }
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
