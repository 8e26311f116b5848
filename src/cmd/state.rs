//! `steplog partial`, `merge` and `report`: state files made, merged and rendered.

use super::deliver::{deliver, write_state};
use super::summary::{config, execute};
use crate::cli::{MergeArgs, PartialArgs, ReportArgs};
use anyhow::Result;
use std::path::PathBuf;
use std::time::{SystemTime, UNIX_EPOCH};
use steplog::agg::Dim;
use steplog::state::State;
use steplog::summary::View;

/// `steplog partial`: the run's state, written atomically.
pub fn partial(args: &PartialArgs) -> Result<()> {
    super::deliver::check_outputs(
        &[Some(args.output.as_path())],
        &args.select.input_paths(),
        args.select.engine.recursive,
    )?;
    let mut cfg = config(&args.select, View::default())?;
    // A state holds every run: they stay in memory.
    cfg.spill = false;
    let outcome = execute(&args.select, cfg.clone())?;
    super::summary::nothing_read(&outcome, &args.select.files, !args.select.sharded())?;
    if !args.select.quiet {
        for note in outcome.notes() {
            eprintln!("steplog: note: {note}");
        }
    }
    write_state(&args.output, &State::of(outcome, &cfg))
}

/// `steplog merge`: the merged state, written atomically.
pub fn merge(args: &MergeArgs) -> Result<()> {
    let state = read_merged(
        &args.states,
        args.limits.limits(),
        args.limits.memory_limit(),
    )?;
    write_state(&args.output, &state)
}

/// `steplog report`: the merged states, rendered.
pub fn report(args: &ReportArgs) -> Result<()> {
    // A report written over a state it reads would replace the state.
    super::deliver::check_outputs(&[args.render.output.as_deref()], &args.states, false)?;
    let pricing = super::prices::pricing(&args.render.prices)?;
    let mut state = read_merged(
        &args.states,
        args.limits.limits(),
        args.limits.memory_limit(),
    )?;
    check_report_flags(args, &state)?;
    args.render
        .check_groups(!state.settings.group_by.is_empty())?;
    state.summary.pricing = std::sync::Arc::new(pricing);
    deliver(&state.report(args.render.view()), &args.render, args.quiet)
}

/// `report` takes the selection flags of `summary` only where the state already holds
/// their answer, and says so plainly where it does not.
fn check_report_flags(args: &ReportArgs, state: &State) -> Result<()> {
    let settings = &state.settings;
    if let Some(dims) = &args.group_by {
        if *dims != settings.group_by {
            anyhow::bail!(
                "these states were made with --group-by '{}', and a state holds only the groups \
                 it was made with: run `steplog partial --group-by {}` on the logs for '{}'",
                Dim::list(&settings.group_by),
                Dim::list(dims),
                Dim::list(dims)
            );
        }
    }
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64);
    for (flag, given, held) in [
        ("--since", &args.since, settings.since),
        ("--until", &args.until, settings.until),
    ] {
        let Some(text) = given else { continue };
        let t = steplog::report::parse_instant(text, now)?;
        if Some(t) != held {
            anyhow::bail!(
                "{flag} {text} is not the window these states were made with ({}); a state \
                 holds whole steps only for its own window: run `steplog partial {flag} {text}` \
                 on the logs",
                held.map_or_else(|| "none".to_string(), steplog::report::format_utc)
            );
        }
    }
    Ok(())
}

/// The states at `paths`, merged in order; stops (exit 2) when the merged tables of runs,
/// threads, costs and groups pass `memory_limit` bytes.
pub(super) fn read_merged(
    paths: &[PathBuf],
    limits: steplog::state::Limits,
    memory_limit: u64,
) -> Result<State> {
    use steplog::state::Error as E;
    let mut merged: Option<State> = None;
    for p in paths {
        let s = State::read(p, limits).map_err(|e| match e {
            E::TooManyGroups(g) => anyhow::Error::new(e).context(super::summary::limit(g)),
            E::TooManyRuns(r) => anyhow::Error::new(e).context(super::summary::run_limit(r)),
            other => other.into(),
        })?;
        match &mut merged {
            None => merged = Some(s),
            Some(m) => m.merge(s).map_err(|e| match e {
                E::TooManyGroups(g) => anyhow::Error::new(e).context(super::summary::limit(g)),
                E::TooManyRuns(r) => anyhow::Error::new(e).context(super::summary::run_limit(r)),
                other => anyhow::Error::new(other).context(format!("cannot merge {}", p.display())),
            })?,
        }
        let held = merged
            .as_ref()
            .map_or(0, |m| m.summary.aggregates.held_bytes()) as u64;
        steplog::engine::check_memory(held, memory_limit).map_err(super::summary::explain)?;
    }
    merged.ok_or_else(|| anyhow::anyhow!("no state files given"))
}
