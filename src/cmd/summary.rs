//! `steplog summary`, `partial`, `merge` and `report`: run the engine or read states,
//! render the report to stdout or a file, check the `--fail-if` conditions.

use crate::cli::{
    ExportArgs, MergeArgs, PartialArgs, RenderArgs, ReportArgs, ReportFormat, SelectArgs,
    SummaryArgs, When,
};
use anyhow::{Context, Result};
use std::io::{self, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use steplog::agg::Interval;
use steplog::engine;
use steplog::input::InputSpec;
use steplog::report::{Csv, Format, Html, Json, Markdown, Prometheus, Report, Table};
use steplog::state::State;
use steplog::threshold::Breach;

/// `--fail-if` conditions that held: the binary exits 3.
#[derive(Debug)]
pub struct Breached(pub Vec<Breach>);

impl std::fmt::Display for Breached {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let all: Vec<String> = self.0.iter().map(ToString::to_string).collect();
        write!(f, "--fail-if held: {}", all.join("; "))
    }
}

impl std::error::Error for Breached {}

/// Inputs at least this large get a progress bar on a terminal.
const PROGRESS_MIN_BYTES: u64 = 256 << 20;

/// Runs the summary and writes it.
pub fn run(args: &SummaryArgs) -> Result<()> {
    let cfg = config(&args.select, args.render.interval())?;
    let outcome = execute(&args.select, cfg.clone())?;
    if let Some(path) = &args.save_state {
        let state = State::of(&outcome, &cfg);
        write_state(path, &state)?;
    }
    deliver(&outcome.report(), &args.render, args.select.quiet)
}

/// `steplog partial`: the run's state, written atomically.
pub fn partial(args: &PartialArgs) -> Result<()> {
    let cfg = config(&args.select, Interval::Day)?;
    let outcome = execute(&args.select, cfg.clone())?;
    write_state(&args.output, &State::of(&outcome, &cfg))
}

/// `steplog merge`: the merged state, written atomically.
pub fn merge(args: &MergeArgs) -> Result<()> {
    let state = read_merged(&args.states)?;
    write_state(&args.output, &state)
}

/// `steplog report`: the merged states, rendered.
pub fn report(args: &ReportArgs) -> Result<()> {
    let state = read_merged(&args.states)?;
    check_report_flags(args, &state)?;
    deliver(
        &state.report(args.render.interval()),
        &args.render,
        args.quiet,
    )
}

/// `steplog export`: every record as a Parquet row, written atomically.
pub fn export(args: &ExportArgs) -> Result<()> {
    let cfg = config(&args.select, Interval::Day)?;
    if !cfg.group_by.is_empty() || cfg.dedup {
        anyhow::bail!("export writes every record: --group-by and --dedup do not apply");
    }
    export_parquet(args, &cfg)
}

#[cfg(feature = "parquet")]
fn export_parquet(args: &ExportArgs, cfg: &engine::Config) -> Result<()> {
    let mut outcome = None;
    let mut failure = None;
    let written = write_atomically(&args.output, |out| {
        let sink = steplog::export::ParquetSink::new(out).map_err(io::Error::other)?;
        match engine::export(&args.select.inputs(), cfg, &sink) {
            Ok(o) => outcome = Some(o),
            Err(e) => {
                // Abandon the temporary file: a failed export leaves the old output.
                failure = Some(e);
                return Err(io::Error::other("export failed"));
            }
        }
        sink.finish().map_err(io::Error::other)?;
        Ok(())
    });
    if let Some(e) = failure {
        return Err(e.into());
    }
    written.with_context(|| format!("cannot write {}", args.output.display()))?;
    let Some(outcome) = outcome else {
        anyhow::bail!("export produced nothing");
    };
    if !args.select.quiet {
        let c = outcome.summary.lines.totals();
        eprintln!(
            "steplog: exported {} records from {} lines ({} malformed, {} outside the time window) to {}",
            c.records - outcome.summary.filtered_out,
            c.lines,
            c.malformed,
            outcome.summary.filtered_out,
            args.output.display()
        );
    }
    Ok(())
}

#[cfg(not(feature = "parquet"))]
fn export_parquet(_args: &ExportArgs, _cfg: &engine::Config) -> Result<()> {
    anyhow::bail!(
        "this steplog was built without Parquet support; build it with \
         `cargo build --release --features parquet`"
    )
}

/// `report` takes the selection flags of `summary` only where the state already holds
/// their answer, and says so plainly where it does not.
fn check_report_flags(args: &ReportArgs, state: &State) -> Result<()> {
    let settings = &state.settings;
    if let Some(dims) = &args.group_by {
        if *dims != settings.group_by {
            let names = |d: &[steplog::agg::Dim]| {
                d.iter().map(|d| d.as_str()).collect::<Vec<_>>().join(",")
            };
            anyhow::bail!(
                "these states were made with --group-by '{}', and a state holds only the groups \
                 it was made with: run `steplog partial --group-by {}` on the logs for '{}'",
                names(&settings.group_by),
                names(dims),
                names(dims)
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
        let t = steplog::report::parse_instant(text, now).map_err(anyhow::Error::msg)?;
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

fn read_merged(paths: &[PathBuf]) -> Result<State> {
    let mut merged: Option<State> = None;
    for p in paths {
        let s = State::read(p)?;
        match &mut merged {
            None => merged = Some(s),
            Some(m) => m
                .merge(s)
                .with_context(|| format!("cannot merge {}", p.display()))?,
        }
    }
    merged.ok_or_else(|| anyhow::anyhow!("no state files given"))
}

fn write_state(path: &Path, state: &State) -> Result<()> {
    write_atomically(path, |out| out.write_all(state.to_json().as_bytes()))
        .with_context(|| format!("cannot write {}", path.display()))
}

/// The engine settings of a run; relative times count back from now.
fn config(select: &SelectArgs, interval: Interval) -> Result<engine::Config> {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64);
    select.config(now, interval).map_err(anyhow::Error::msg)
}

/// Runs the engine with a progress bar when one is wanted.
fn execute(select: &SelectArgs, mut cfg: engine::Config) -> Result<engine::Outcome> {
    let inputs = select.inputs();
    let bar = progress(select, &inputs);
    if let Some((_, counter, _)) = &bar {
        cfg.progress = Some(Arc::clone(counter));
    }
    let result = engine::run(&inputs, &cfg);
    if let Some((handle, _, done)) = bar {
        done.store(true, Ordering::Release);
        let _ = handle.join();
    }
    Ok(result?)
}

/// Renders `report` to stdout or `--output`, then checks `--fail-if`.
fn deliver(report: &Report, args: &RenderArgs, quiet: bool) -> Result<()> {
    let color = match args.color {
        When::Always => true,
        When::Never => false,
        When::Auto => {
            args.output.is_none()
                && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
                && io::stdout().is_terminal()
        }
    };
    let table = Table { color };
    let format: &dyn Format = match args.format {
        ReportFormat::Table => &table,
        ReportFormat::Json => &Json,
        ReportFormat::Csv => &Csv,
        ReportFormat::Markdown => &Markdown,
        ReportFormat::Prometheus => &Prometheus,
        ReportFormat::Html => &Html,
    };
    match &args.output {
        Some(path) => write_atomically(path, |out| format.render(report, out))
            .with_context(|| format!("cannot write {}", path.display()))?,
        None => {
            let stdout = io::stdout();
            let mut out = io::BufWriter::new(stdout.lock());
            format.render(report, &mut out)?;
            out.flush()?;
        }
    }
    let breaches: Vec<Breach> = args
        .fail_if
        .iter()
        .filter_map(|t| t.check(report))
        .collect();
    if !quiet {
        for t in &args.fail_if {
            if t.actual(report).is_none() {
                eprintln!("steplog: note: --fail-if {t}: the report has no such figure, so it cannot hold");
            }
        }
    }
    if breaches.is_empty() {
        Ok(())
    } else {
        Err(Breached(breaches).into())
    }
}

/// Writes to a temporary file beside `path`, flushes it to disk, and renames it over
/// `path`: readers (cron consumers, node_exporter's textfile collector, a merge) see the
/// old file or the new one, never a part; a killed run leaves no partial file behind.
fn write_atomically(
    path: &Path,
    write: impl FnOnce(&mut (dyn Write + Send)) -> io::Result<()>,
) -> io::Result<()> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let mut tmp = tempfile::Builder::new()
        .prefix(&format!(".{name}."))
        .suffix(".tmp")
        .tempfile_in(dir)?;
    {
        let mut out = io::BufWriter::new(tmp.as_file_mut());
        write(&mut out)?;
        out.flush()?;
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        tmp.as_file()
            .set_permissions(std::fs::Permissions::from_mode(0o644))?;
    }
    tmp.as_file().sync_all()?;
    tmp.persist(path).map_err(|e| e.error)?;
    Ok(())
}

type Bar = (std::thread::JoinHandle<()>, Arc<AtomicU64>, Arc<AtomicBool>);

/// Starts a progress bar on stderr when it is wanted: `--progress`, or a terminal and
/// more than [`PROGRESS_MIN_BYTES`] of files (not with `--quiet`).
fn progress(args: &SelectArgs, inputs: &[InputSpec]) -> Option<Bar> {
    if args.quiet {
        return None;
    }
    let total: u64 = inputs
        .iter()
        .filter_map(|i| match i {
            InputSpec::Path(p) => std::fs::metadata(p).ok().filter(|m| m.is_file()),
            InputSpec::Stdin => None,
        })
        .map(|m| m.len())
        .sum();
    let tty = io::stderr().is_terminal();
    let wanted = args.progress || (tty && total >= PROGRESS_MIN_BYTES);
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
        "{bar:40} {bytes}/{total_bytes} {binary_bytes_per_sec} eta {eta}",
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
        100
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
