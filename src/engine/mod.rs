//! Orchestration: inputs → chunks → parallel parse → sinks → merge → summary.
//!
//! A run is planned first ([`plan`]: inputs expanded and sharded, the pool started), then
//! read in one or two passes ([`scheduler`]): the calling thread sends newline-aligned
//! chunks down a bounded channel, and each [`worker`] parses its chunks into batches and
//! hands full batches to its own [`Sink`](sink::Sink): the summary's aggregates, the
//! deduplication index, or an export. At the end the workers' sinks are merged. Merging
//! is exact and order-free, so results do not depend on scheduling.
//!
//! With `dedup` the inputs are read twice ([`dedup`]; standard input is first saved to a
//! temporary file): every line is accounted for in the first pass, and only the winning
//! snapshots are summarised in the second.

pub mod dedup;
mod error;
pub mod find;
mod plan;
mod scheduler;
mod sink;
mod spool;
mod worker;

pub use error::Error;
pub use plan::{Shard, Window};
pub use sink::RowSink;

use crate::agg::groups::Models;
use crate::agg::spill::Spill;
use crate::agg::{Aggregates, Dim, Ledger, RunTable, DEFAULT_MAX_GROUPS};
use crate::input::{FileInfo, InputSpec, OpenOptions, DEFAULT_CHUNK_SIZE, DEFAULT_MAX_LINE_BYTES};
use crate::report::Report;
use crate::summary::{Summary, View};
use dedup::Winners;
use plan::Plan;
use scheduler::Scheduler;
use sink::{Export, Summarize};
use std::sync::atomic::AtomicU64;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// How a run reads and summarises.
#[derive(Debug, Clone)]
pub struct Config {
    /// Worker threads. By default (0), one per available core; at most
    /// [`Config::max_threads`] (more would only wait for each other).
    pub threads: usize,
    /// Target chunk size in bytes (at most [`MAX_CHUNK_SIZE`]). By default,
    /// [`DEFAULT_CHUNK_SIZE`].
    pub chunk_size: usize,
    /// Memory-map regular files instead of reading them. By default, false.
    ///
    /// Mapping is faster, but a mapped file that another process truncates would kill the
    /// process with `SIGBUS`; so the first mapping installs steplog's process-wide `SIGBUS`
    /// handler (see [`crate::input::mmap`]), which turns such a read into zeros and the run
    /// into [`Error::Truncated`]. Opt in where this process may own `SIGBUS` (the
    /// `steplog` binary does).
    pub mmap: bool,
    /// Stop at the first malformed line with [`Error::Malformed`]. By default, false.
    pub strict: bool,
    /// Lines longer than this are counted as malformed (`too_long`) without being
    /// buffered. By default, [`DEFAULT_MAX_LINE_BYTES`].
    pub max_line_bytes: u64,
    /// Count each step id once, from its most advanced snapshot. By default, false.
    pub dedup: bool,
    /// Expand directories recursively (else only the files directly inside them).
    pub recursive: bool,
    /// Summarise only records created in this window; the others are counted as
    /// `filtered_out`.
    pub window: Window,
    /// Also compute figures per group of these dimensions.
    pub group_by: Vec<Dim>,
    /// Stop with [`Error::TooManyGroups`] past this many groups. By default,
    /// [`DEFAULT_MAX_GROUPS`].
    pub max_groups: usize,
    /// Take only records matching this expression (`--where`); the others are counted as
    /// `filtered_out`. By default, none.
    pub filter: Option<std::sync::Arc<crate::filter::Filter>>,
    /// Count runs and threads. By default, true.
    pub runs: bool,
    /// Stop with [`Error::TooManyRuns`] past this many runs, or threads. By default,
    /// [`crate::agg::DEFAULT_MAX_RUNS`].
    pub max_runs: usize,
    /// Keep the cost ledger (tokens by run, assistant, group and hour; the runs'
    /// models). By default, true.
    pub cost: bool,
    /// Keep this many exemplar steps (and runs) of each kind (0: none). By default,
    /// [`DEFAULT_EXEMPLARS`].
    pub exemplars: usize,
    /// How the summary is shown (time-series buckets, order and number of groups).
    pub view: View,
    /// How steps are priced in the report. By default, the bundled list prices.
    pub pricing: std::sync::Arc<crate::cost::Pricing>,
    /// If set, workers add the bytes of every chunk they finish (for a progress bar).
    pub progress: Option<std::sync::Arc<AtomicU64>>,
    /// Read only this share of the (expanded) input files.
    pub shard: Option<Shard>,
    /// The most bytes the tables of runs, threads, costs and groups may hold together
    /// (all workers, and while merging them); past it the run stops with
    /// [`Error::MemoryLimit`] rather than meet the operating system's out-of-memory
    /// killer. By default, [`default_memory_limit`].
    pub memory_limit: u64,
    /// Past a quarter of `memory_limit`, write the tables of runs, threads and cost
    /// entries to a temporary file and go on (see [`crate::agg::spill`]) rather than
    /// stop; the report is the same. By default, true. Off where the whole tables are
    /// wanted in memory (a state file holds every run).
    pub spill: bool,
}

/// The memory budget unless told otherwise: half of the memory this process may use (the
/// machine's, or its control group's limit when lower), and at least 256 MiB. Half,
/// because the input's pages, the batches, and the report need room too, and a machine
/// running a nightly job is seldom running nothing else.
pub fn default_memory_limit() -> u64 {
    static LIMIT: std::sync::OnceLock<u64> = std::sync::OnceLock::new();
    *LIMIT.get_or_init(memory_limit_of_this_machine)
}

/// Half of the machine's memory or its control group's limit (see
/// [`default_memory_limit`]), read from the system.
fn memory_limit_of_this_machine() -> u64 {
    let physical = {
        // SAFETY: sysconf only reads system configuration; it has no memory effects.
        let (pages, size) = unsafe {
            (
                libc::sysconf(libc::_SC_PHYS_PAGES),
                libc::sysconf(libc::_SC_PAGESIZE),
            )
        };
        if pages > 0 && size > 0 {
            (pages as u64).saturating_mul(size as u64)
        } else {
            8 << 30
        }
    };
    // cgroup v2, then v1: a container's limit is what the kernel enforces.
    let cgroup = [
        "/sys/fs/cgroup/memory.max",
        "/sys/fs/cgroup/memory/memory.limit_in_bytes",
    ]
    .iter()
    .filter_map(|p| std::fs::read_to_string(p).ok())
    .filter_map(|t| t.trim().parse::<u64>().ok())
    .min();
    let usable = cgroup.map_or(physical, |c| c.min(physical));
    (usable / 2).max(256 << 20)
}

/// [`Error::MemoryLimit`] when tables holding `held` bytes pass `limit`.
pub fn check_memory(held: u64, limit: u64) -> Result<(), Error> {
    if held > limit {
        return Err(Error::MemoryLimit { limit, held });
    }
    Ok(())
}

impl Default for Config {
    fn default() -> Self {
        Config {
            threads: 0,
            chunk_size: DEFAULT_CHUNK_SIZE,
            mmap: false,
            strict: false,
            max_line_bytes: DEFAULT_MAX_LINE_BYTES,
            dedup: false,
            recursive: false,
            window: Window::default(),
            group_by: Vec::new(),
            max_groups: DEFAULT_MAX_GROUPS,
            filter: None,
            runs: true,
            cost: true,
            max_runs: crate::agg::DEFAULT_MAX_RUNS,
            exemplars: DEFAULT_EXEMPLARS,
            view: View::default(),
            pricing: Default::default(),
            progress: None,
            shard: None,
            memory_limit: default_memory_limit(),
            spill: true,
        }
    }
}

impl Config {
    /// The worker count this config resolves to.
    pub fn worker_threads(&self) -> usize {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        if self.threads > 0 {
            self.threads.min(Config::max_threads())
        } else {
            cores
        }
    }

    /// The most worker threads a run starts: four per core.
    pub fn max_threads() -> usize {
        4 * std::thread::available_parallelism().map_or(1, |n| n.get())
    }

    fn open_options(&self) -> OpenOptions {
        OpenOptions {
            // Every worker holds a chunk, and lines within one are counted in 32 bits.
            chunk_size: self.chunk_size.clamp(1, MAX_CHUNK_SIZE),
            mmap: self.mmap,
            max_line_bytes: self.max_line_bytes,
        }
    }
}

/// Exemplars of each kind a report shows by default.
pub const DEFAULT_EXEMPLARS: usize = 10;

/// The largest chunk a worker holds.
pub const MAX_CHUNK_SIZE: usize = 1 << 30;

/// A finished run.
#[derive(Debug, Clone)]
pub struct Outcome {
    /// What was read and computed.
    pub summary: Summary,
    /// Where the time went.
    pub timings: Timings,
    /// Advice about the inputs themselves (directory entries not read).
    pub hints: Vec<String>,
}

impl Outcome {
    /// The report.
    pub fn report(&self) -> Report {
        let mut r = self.summary.report();
        r.hints.extend(self.hints.iter().cloned());
        r
    }

    /// What the report's hints say of the inputs, without computing the report: inputs
    /// that gave no step, directory entries not read.
    pub fn notes(&self) -> Vec<String> {
        let mut notes = self.summary.input_notes();
        notes.extend(self.hints.iter().cloned());
        notes
    }
}

/// Time spent in each stage of a run. `read` is the producing thread's wall time in the
/// input (read(2) for streams; for maps, only cutting them into chunks); the other
/// stages are summed over the workers, so with N workers they add up to about N times
/// the wall time. Measured per chunk and per batch, never per line.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Timings {
    /// Reading or mapping inputs and cutting them into chunks (producer thread).
    pub read: Duration,
    /// Copying each chunk into a worker's buffer and finding its lines.
    pub split: Duration,
    /// Parsing lines into batches (simd-json plus the tape walk).
    pub parse: Duration,
    /// Feeding full batches to the aggregators, and merging the workers' aggregates.
    pub aggregate: Duration,
}

impl Timings {
    fn add(&mut self, other: &Timings) {
        self.read += other.read;
        self.split += other.split;
        self.parse += other.parse;
        self.aggregate += other.aggregate;
    }
}

/// Which lines of each chunk a pass reads.
#[derive(Clone, Copy)]
pub(crate) enum Lines<'a> {
    /// Every line, each accounted for.
    Every,
    /// Only the winning snapshots of deduplication; nothing is accounted for.
    Winners(&'a Winners),
}

/// Summarises `inputs` into a report.
pub fn summarize(inputs: &[InputSpec], cfg: &Config) -> Result<Report, Error> {
    run(inputs, cfg).map(|o| o.report())
}

/// Runs the pipeline over `inputs` (stdin when empty; directories expand to their files)
/// and returns the summary.
pub fn run(inputs: &[InputSpec], cfg: &Config) -> Result<Outcome, Error> {
    let plan = Plan::new(inputs, cfg, cfg.dedup)?;
    let scheduler = Scheduler {
        pool: &plan.pool,
        threads: plan.threads,
        names: &plan.names,
        cfg,
    };
    // What the workers of a summarising pass hand over while reading (see `Merged`).
    let merged = Arc::new(sink::Merged::new(cfg, plan.threads));
    let (summary, timings) = if cfg.dedup {
        dedup::run(&scheduler, &plan.inputs)?
    } else if cfg.group_by.contains(&Dim::Model) {
        // The run objects first (they may come after their steps), then the steps.
        let (specs, _spooled) = spool::once_only(&plan.inputs)?;
        let (models, first) = run_models(&scheduler, &specs)?;
        let passed = scheduler.pass(&specs, Lines::Every, &|| {
            Summarize::merging(cfg, Some(models.clone()), &merged)
        })?;
        same_inputs(&first.files, &passed.files)?;
        let mut timings = first.timings;
        timings.add(&passed.timings);
        summarized(&plan.pool, passed, merged.take(), timings, cfg)?
    } else {
        let passed = scheduler.pass(&plan.inputs, Lines::Every, &|| {
            Summarize::merging(cfg, None, &merged)
        })?;
        let timings = passed.timings;
        summarized(&plan.pool, passed, merged.take(), timings, cfg)?
    };
    Ok(Outcome {
        summary,
        timings,
        hints: plan.hints,
    })
}

/// What a pass read, as a summary without aggregates: the inputs, their line accounting,
/// what the time window (or `--where`) left out, and how the run shows and prices it.
pub(super) fn read_summary(
    files: Vec<crate::input::FileInfo>,
    lines: crate::agg::LineStats,
    filtered_out: u64,
    outside: crate::agg::TimeRange,
    cfg: &Config,
) -> Summary {
    Summary {
        files,
        lines,
        filtered_out,
        window: (cfg.window.since, cfg.window.until),
        outside,
        view: cfg.view,
        pricing: cfg.pricing.clone(),
        ..Summary::default()
    }
}

/// The summary of a summarising pass (its sinks and what they handed over, `merged`,
/// merged), and the timings with the merge.
fn summarized(
    pool: &rayon::ThreadPool,
    passed: scheduler::Passed<Summarize>,
    merged: Option<(Aggregates, Option<Spill>)>,
    mut timings: Timings,
    cfg: &Config,
) -> Result<(Summary, Timings), Error> {
    let (merged, spill) = merged.unzip();
    let (sinks, spills) = sink::aggregates(passed.sinks);
    let mut spill = spill.flatten();
    for s in spills {
        match &mut spill {
            Some(all) => all.absorb(s)?,
            None => spill = Some(s),
        }
    }
    let parts = merged.into_iter().chain(sinks);
    let aggregates = merge_sinks(pool, parts, spill, &mut timings, cfg)?;
    let summary = Summary {
        aggregates,
        ..read_summary(
            passed.files,
            passed.lines,
            passed.filtered_out,
            passed.outside,
            cfg,
        )
    };
    Ok((summary, timings))
}

/// A pass over `specs` that reads only the run objects: the steps' models, as
/// `--group-by model` needs them before the steps (and the pass, for its files and
/// timings).
fn run_models(
    scheduler: &Scheduler<'_>,
    specs: &[InputSpec],
) -> Result<(Arc<Models>, scheduler::Passed<sink::RunModels>), Error> {
    let cfg = scheduler.cfg;
    let mut passed = scheduler.pass(specs, Lines::Every, &|| sink::RunModels {
        models: RunTable::new(cfg.max_runs),
    })?;
    let mut all = RunTable::new(cfg.max_runs);
    for s in std::mem::take(&mut passed.sinks) {
        all.merge(s.models)?;
    }
    Ok((Arc::new(models_of(&all, cfg)), passed))
}

/// The steps' models from the run objects in `table` and the pricing flags of `cfg`.
pub(crate) fn models_of(table: &RunTable, cfg: &Config) -> Models {
    Models::new(table, cfg.pricing.models.clone())
}

/// The second pass read what the first did (a file replaced in between would not be).
pub(crate) fn same_inputs(first: &[FileInfo], second: &[FileInfo]) -> Result<(), Error> {
    match first.iter().zip(second).find(|(a, b)| a.bytes != b.bytes) {
        Some((f, _)) => Err(Error::InputChanged {
            path: f.name.clone(),
        }),
        None => Ok(()),
    }
}

/// The workers' aggregates, merged, with what was spilled while reading (if anything);
/// the time it takes counts as aggregation.
fn merge_sinks(
    pool: &rayon::ThreadPool,
    parts: impl IntoIterator<Item = Aggregates>,
    mut spill: Option<Spill>,
    timings: &mut Timings,
    cfg: &Config,
) -> Result<Aggregates, Error> {
    let merging = Instant::now();
    let limit = cfg.memory_limit;
    // The largest first: merging into it moves the fewest groups and runs.
    let mut all: Vec<Aggregates> = parts.into_iter().collect();
    all.sort_by_key(|a| std::cmp::Reverse(a.groups.table.len() + a.table.len()));
    let mut all = all.into_iter();
    let mut merged = all.next().unwrap_or_default();
    let mut rest: u64 = all.as_slice().iter().map(|a| a.held_bytes() as u64).sum();
    for part in all {
        rest -= part.held_bytes() as u64;
        pool.install(|| merged.merge(part))?;
        let held = merged.held_bytes() as u64 + rest;
        if cfg.spill && held > limit / 2 && merged.run_bytes() > 0 {
            merged.spill(spill.get_or_insert(Spill::new()?))?;
        }
        check_memory(merged.held_bytes() as u64 + rest, limit)?;
    }
    pool.install(|| merged.resolve_chains(spill.is_some()))?;
    if let Some(spill) = spill {
        let pricing = &cfg.pricing;
        let price = |table: &RunTable, ledger: &Ledger, n: usize| {
            pricing.costliest_runs(ledger, table, n).ok()
        };
        pool.install(|| merged.finish_spill(spill, &price))?;
    }
    timings.aggregate += merging.elapsed();
    Ok(merged)
}

/// `steplog find`: writes the records `cfg.filter` matches (every record without one) to
/// `out`, in input order, at most `limit` of them, with their fields when `fields`. The
/// outcome holds the line accounting of what was read (all of it, unless the limit
/// stopped the pass early) and how many were written.
pub fn find(
    inputs: &[InputSpec],
    cfg: &Config,
    limit: u64,
    fields: bool,
    out: &mut dyn find::FoundSink,
) -> Result<(Outcome, u64), Error> {
    let plan = Plan::new(inputs, cfg, false)?;
    let scheduler = Scheduler {
        pool: &plan.pool,
        threads: plan.threads,
        names: &plan.names,
        cfg,
    };
    let ordered = find::Ordered::new(out, limit, &plan.names);
    let passed = scheduler
        .pass(&plan.inputs, Lines::Every, &|| sink::Find {
            out: &ordered,
            fields,
            pending: Vec::new(),
        })
        .map(|p| (p.files, p.lines, p.filtered_out, p.outside, p.timings));
    let (written, error) = ordered.finish();
    if let Some(source) = error {
        return Err(Error::Output { source });
    }
    let (files, lines, filtered_out, outside, timings) = passed?;
    let summary = read_summary(files, lines, filtered_out, outside, cfg);
    Ok((
        Outcome {
            summary,
            timings,
            hints: plan.hints,
        },
        written,
    ))
}

/// Parses `inputs` and hands every record, as batches, to `rows` instead of summarising
/// them (`steplog export`). The outcome holds the line accounting. Rows reach the sink in
/// no particular order; each carries its input and byte offset.
pub fn export(inputs: &[InputSpec], cfg: &Config, rows: &dyn RowSink) -> Result<Outcome, Error> {
    let plan = Plan::new(inputs, cfg, true)?;
    let scheduler = Scheduler {
        pool: &plan.pool,
        threads: plan.threads,
        names: &plan.names,
        cfg,
    };
    let names = &plan.names[..];
    let passed = scheduler.pass(&plan.inputs, Lines::Every, &|| Export { rows, names })?;
    let summary = read_summary(
        passed.files,
        passed.lines,
        passed.filtered_out,
        passed.outside,
        cfg,
    );
    Ok(Outcome {
        summary,
        timings: passed.timings,
        hints: plan.hints,
    })
}
