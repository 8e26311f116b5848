//! `steplog summary`: run the engine (with a progress bar when one is wanted), render
//! the report, optionally save its state.

use super::deliver::{deliver, write_state};
use crate::cli::{SelectArgs, SummaryArgs};
use anyhow::Result;
use std::io::{self, IsTerminal};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use steplog::engine;
use steplog::input::InputSpec;
use steplog::state::State;
use steplog::summary::View;

/// Inputs at least this large get a progress bar on a terminal.
const PROGRESS_MIN_BYTES: u64 = 256 << 20;

/// Runs the summary and writes it.
pub fn run(args: &SummaryArgs) -> Result<()> {
    super::deliver::check_outputs(
        &[args.render.output.as_deref(), args.save_state.as_deref()],
        &args.select.input_paths(),
        args.select.engine.recursive,
    )?;
    let mut cfg = config(&args.select, args.render.view())?;
    args.render.check_groups(!cfg.group_by.is_empty())?;
    cfg.pricing = Arc::new(super::prices::pricing(&args.render.prices)?);
    // A state holds every run: they stay in memory.
    cfg.spill = args.save_state.is_none();
    let outcome = execute(&args.select, cfg.clone())?;
    nothing_read(&outcome, &args.select.files, !args.select.sharded())?;
    if let (Some(spilled), false) = (&outcome.summary.aggregates.spilled, args.select.quiet) {
        // Not in the report: it is the report an unlimited run makes.
        eprintln!(
            "steplog: note: the runs passed a quarter of --memory-limit ({}), so they were \
             spilled {} times ({} in all) to a temporary file in {} and read back",
            steplog::report::binary_bytes(cfg.memory_limit),
            spilled.times,
            steplog::report::binary_bytes(spilled.bytes),
            std::env::temp_dir().display()
        );
    }
    let report = outcome.report();
    match &args.save_state {
        Some(path) => write_state(path, &State::of(outcome, &cfg))?,
        // Its tables can hold gigabytes of runs: they are given back on another thread
        // while the report is written (and with the process, if it ends first).
        None => drop(std::thread::spawn(move || drop(outcome))),
    }
    deliver(&report, &args.render, args.select.quiet)
}

/// Stops (exit 2) when an input named on the command line had lines but gave nothing to
/// check, or when nothing at all was read from inputs that had lines: a report of zeros
/// would pass for a quiet day. A file found in a directory that holds no step (a README
/// beside the logs) is a note, as before. `whole` is false for one shard of the input
/// files: a shard that drew only the README is a part of a whole that has records, so its
/// empty state is no report of zeros.
pub fn nothing_read(outcome: &engine::Outcome, named: &[String], whole: bool) -> Result<()> {
    let unread = outcome.summary.unread_inputs();
    let none_read = whole && outcome.summary.lines.totals().records == 0;
    let stdin = |p: &str| p == "-" && named.is_empty();
    let refused: Vec<&str> = unread
        .iter()
        .filter(|(path, _)| none_read || stdin(path) || named.iter().any(|n| n == path))
        .map(|(_, note)| note.as_str())
        .collect();
    if refused.is_empty() {
        return Ok(());
    }
    anyhow::bail!(
        "nothing was read from {} of the inputs, so no report was made:\n  {}",
        refused.len(),
        refused.join("\n  ")
    )
}

/// The engine settings of a run; relative times count back from now.
pub fn config(select: &SelectArgs, view: View) -> Result<engine::Config> {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64);
    select.config(now, view)
}

/// Says which flag raises a limit the run met.
pub fn explain(e: engine::Error) -> anyhow::Error {
    match e {
        engine::Error::TooManyGroups(g) => anyhow::Error::new(e).context(limit(g)),
        engine::Error::TooManyRuns(r) => anyhow::Error::new(e).context(run_limit(r)),
        engine::Error::MemoryLimit { .. } => anyhow::Error::new(e).context(
            "stopped before running out of memory: give a larger --memory-limit, leave runs \
             and costs out (--no-runs --no-cost), or group by fewer values",
        ),
        other => other.into(),
    }
}

/// The message for a group limit: what was seen, and the flag.
pub fn limit(g: steplog::agg::TooManyGroups) -> String {
    format!(
        "stopped at {} groups: --max-groups is {}; raise it (a group takes about 300 bytes) \
         or group by fewer values",
        g.seen, g.limit
    )
}

/// The message for the run limit, and the flags.
pub fn run_limit(r: steplog::agg::TooManyRuns) -> String {
    format!(
        "stopped at {} {}: --max-runs is {}; raise it (a run takes about 400 bytes with its costs) or \
         leave runs out with --no-runs",
        r.limit, r.what, r.limit
    )
}

/// Refuses to read standard input from a terminal: no one types run steps, and a
/// command that waits in silence looks hung.
pub fn not_a_terminal(inputs: &[InputSpec]) -> Result<()> {
    let stdin = inputs.is_empty() || inputs.iter().any(|i| matches!(i, InputSpec::Stdin));
    if stdin && io::stdin().is_terminal() {
        anyhow::bail!(
            "no input: name a file or directory (steplog summary steps.jsonl), or pipe the \
             steps in (zcat steps.jsonl.gz | steplog summary -)"
        );
    }
    Ok(())
}

/// Runs the engine with a progress bar when one is wanted.
pub fn execute(select: &SelectArgs, mut cfg: engine::Config) -> Result<engine::Outcome> {
    let inputs = select.inputs();
    not_a_terminal(&inputs)?;
    let bar = progress(select, &inputs);
    if let Some((_, counter, _)) = &bar {
        cfg.progress = Some(Arc::clone(counter));
    }
    let result = engine::run(&inputs, &cfg);
    if let Some((handle, _, done)) = bar {
        done.store(true, Ordering::Release);
        let _ = handle.join();
    }
    result.map_err(explain)
}

/// Whether the file at `path` starts with a compression format's magic bytes.
fn compressed(path: &std::path::Path) -> bool {
    use std::io::Read;
    let mut head = [0u8; steplog::input::Compression::MAGIC_LEN];
    std::fs::File::open(path)
        .and_then(|mut f| f.read_exact(&mut head))
        .is_ok_and(|()| steplog::input::Compression::detect(&head).is_some())
}

type Bar = (std::thread::JoinHandle<()>, Arc<AtomicU64>, Arc<AtomicBool>);

/// Starts a progress bar on stderr when it is wanted: `--progress`, or a terminal and
/// more than [`PROGRESS_MIN_BYTES`] of files (not with `--quiet`).
fn progress(args: &SelectArgs, inputs: &[InputSpec]) -> Option<Bar> {
    let tty = io::stderr().is_terminal();
    // Off a terminal, only `--progress` asks for one: the files need not be looked at.
    if args.quiet || !(tty || args.progress) {
        return None;
    }
    // The bar measures files by their size on disk (a compressed file's progress is its
    // compressed bytes); the work of a compressed byte is about that of four plain ones.
    let sizes: Vec<(u64, bool)> = inputs
        .iter()
        .filter_map(|i| match i {
            InputSpec::Path(p) => std::fs::metadata(p)
                .ok()
                .filter(|m| m.is_file())
                .map(|m| (m.len(), compressed(p))),
            InputSpec::Stdin => None,
        })
        .collect();
    let total: u64 = sizes.iter().map(|s| s.0).sum();
    let work: u64 = sizes
        .iter()
        .map(|&(n, z)| if z { n.saturating_mul(4) } else { n })
        .fold(0, u64::saturating_add);
    let wanted = args.progress || (tty && work >= PROGRESS_MIN_BYTES);
    if !wanted {
        return None;
    }
    let bar = indicatif::ProgressBar::with_draw_target(
        Some(total),
        if tty {
            indicatif::ProgressDrawTarget::stderr()
        } else {
            // Forced off a terminal: plain lines, a few per second.
            indicatif::ProgressDrawTarget::term_like_with_hz(Box::new(PlainLines), 2)
        },
    );
    let style = indicatif::ProgressStyle::with_template(
        // The bar takes what the figures leave of the terminal's width.
        "{wide_bar} {bytes}/{total_bytes} {binary_bytes_per_sec} eta {eta}",
    )
    .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar());
    bar.set_style(style);
    let counter = Arc::new(AtomicU64::new(0));
    let done = Arc::new(AtomicBool::new(false));
    let (c, d) = (Arc::clone(&counter), Arc::clone(&done));
    let handle = std::thread::spawn(move || {
        while !d.load(Ordering::Acquire) {
            bar.set_position(c.load(Ordering::Relaxed).min(total.max(1)));
            std::thread::sleep(Duration::from_millis(100));
        }
        bar.set_position(c.load(Ordering::Relaxed));
        bar.finish_and_clear();
    });
    Some((handle, counter, done))
}

/// A progress target for a non-terminal stderr: each redraw as a line.
#[derive(Debug)]
struct PlainLines;

impl indicatif::TermLike for PlainLines {
    fn width(&self) -> u16 {
        80
    }
    fn move_cursor_up(&self, _n: usize) -> io::Result<()> {
        Ok(())
    }
    fn move_cursor_down(&self, _n: usize) -> io::Result<()> {
        Ok(())
    }
    fn move_cursor_right(&self, _n: usize) -> io::Result<()> {
        Ok(())
    }
    fn move_cursor_left(&self, _n: usize) -> io::Result<()> {
        Ok(())
    }
    fn write_line(&self, s: &str) -> io::Result<()> {
        eprintln!("{s}");
        Ok(())
    }
    fn write_str(&self, s: &str) -> io::Result<()> {
        if !s.trim().is_empty() {
            eprintln!("{}", s.trim_end());
        }
        Ok(())
    }
    fn clear_line(&self) -> io::Result<()> {
        Ok(())
    }
    fn flush(&self) -> io::Result<()> {
        Ok(())
    }
}
