//! Deduplication as a strategy of the engine: count every step once, from its most
//! advanced snapshot, by reading the inputs twice (or once, when the first pass serves).
//!
//! The first pass accounts for every line and offers each record to a [`SnapshotIndex`]
//! (see [`index`]); the index becomes the [`Winners`], the sorted positions of the chosen
//! snapshots' lines; the second pass parses only those lines and summarises them. The
//! summary keeps the first pass's line accounting and the second pass's figures.
//!
//! The first pass also summarises as it goes (the `Index` sink), so the second often has
//! less to do or nothing: most logs given `--dedup` to be safe hold each step once, and
//! then the summary of every record is the answer; in an event stream each step finishes
//! once, and then the summary of the terminal snapshots is exact for the steps that
//! finished, leaving the second pass only the steps that never did.

pub mod index;

pub use index::{Seen, SnapshotIndex, Winners};

use super::scheduler::Scheduler;
use super::sink::{aggregates, Index, Summarize};
use super::{spool, Config, Error, Lines, Timings};
use crate::agg::RunTable;
use crate::input::InputSpec;
use crate::summary::{Folded, Summary};
use std::sync::atomic::{AtomicU8, Ordering};

/// Runs both passes over `inputs` (or only the first, when its summaries serve).
pub(super) fn run(
    scheduler: &Scheduler<'_>,
    inputs: &[InputSpec],
) -> Result<(Summary, Timings), Error> {
    let cfg = scheduler.cfg;
    let (specs, _spooled) = spool::once_only(inputs)?;
    let index = SnapshotIndex::new();
    // The first pass summarises as it goes (see `Index`), except when the window or
    // `--where` leaves records out (the first pass must see them all) and for
    // `--group-by model` (the models are known only once the pass is over).
    // The run objects' models serve the cost and `--group-by model`.
    let read_models = cfg.cost || cfg.group_by.contains(&crate::agg::Dim::Model);
    let speculate = cfg.window.is_open()
        && cfg.filter.is_none()
        && !cfg.group_by.contains(&crate::agg::Dim::Model);
    // The most any worker's index offer has seen (`Seen` as a number): how far the
    // first pass's summaries still serve.
    let seen = AtomicU8::new(if speculate {
        Seen::New as u8
    } else {
        Seen::TerminalAgain as u8
    });
    let super::scheduler::Passed {
        lines,
        outside,
        sinks,
        files,
        timings: first_timings,
        ..
    } = {
        let sink = || Index {
            index: &index,
            models: RunTable::new(cfg.max_runs),
            read_models,
            all: speculate.then(|| Summarize::new(cfg, None)),
            terminal: speculate.then(|| Summarize::new(cfg, None)),
            seen: &seen,
        };
        scheduler.pass(&specs, Lines::Every, &sink)?
    };
    let mut models = RunTable::new(cfg.max_runs);
    let (mut all, mut terminal) = (Vec::new(), Vec::new());
    for s in sinks {
        models.merge(s.models)?;
        all.extend(s.all);
        terminal.extend(s.terminal);
    }
    let steps = index.len() as u64;
    let snapshots = lines.totals().records;
    let seen = seen.load(Ordering::Relaxed);
    let mut timings = first_timings;
    // Deduplication keeps its tables in memory (its index of snapshots is already there).
    let no_spill = Config {
        spill: false,
        ..cfg.clone()
    };
    let (aggregates, filtered_out, outside) = if seen == Seen::New as u8 && snapshots == steps {
        // Every record was its step's only snapshot: the plain summary is exact.
        (
            super::merge_sinks(
                scheduler.pool,
                aggregates(all).0,
                None,
                &mut timings,
                &no_spill,
            )?,
            0,
            outside,
        )
    } else {
        drop(all);
        // With no step twice terminal, every terminal snapshot won and is summarised: the
        // second pass reads the best snapshots of the steps that never finished, if any.
        let unfinished_only = seen == Seen::Again as u8;
        if !unfinished_only {
            // Some workers may not have heard in time; none of these serve.
            terminal.clear();
        }
        let winners = index.into_winners(specs.len(), unfinished_only);
        if unfinished_only && winners.is_empty() {
            (
                super::merge_sinks(
                    scheduler.pool,
                    aggregates(terminal).0,
                    None,
                    &mut timings,
                    &no_spill,
                )?,
                0,
                outside,
            )
        } else {
            // The run objects were all read in the first pass: `--group-by model` has them.
            let by_model = cfg
                .group_by
                .contains(&crate::agg::Dim::Model)
                .then(|| std::sync::Arc::new(super::models_of(&models, cfg)));
            let second = scheduler.pass(&specs, Lines::Winners(&winners), &|| {
                Summarize::new(cfg, by_model.clone())
            })?;
            timings.add(&second.timings);
            super::same_inputs(&files, &second.files)?;
            let mut sinks = second.sinks;
            let read_runs = !terminal.is_empty();
            sinks.extend(terminal);
            let mut aggregates = super::merge_sinks(
                scheduler.pool,
                aggregates(sinks).0,
                None,
                &mut timings,
                &no_spill,
            )?;
            // The terminal summaries read the run objects with their steps.
            if !read_runs && aggregates.ledger.enabled {
                aggregates.table.merge(models)?;
            }
            (aggregates, second.filtered_out, second.outside)
        }
    };
    if aggregates.figures.steps.total() + filtered_out != steps {
        return Err(Error::InputChanged {
            path: scheduler.names.join(", "),
        });
    }
    let summary = Summary {
        dedup: Some(Folded { snapshots, steps }),
        aggregates,
        ..super::read_summary(files, lines, filtered_out, outside, cfg)
    };
    Ok((summary, timings))
}
