//! Delivering a report: render it to stdout or to a file written atomically, then check
//! `--fail-if`. Shared by `summary` and `report`; `write_state` by `partial`, `merge` and
//! `summary --save-state`.

use crate::cli::{RenderArgs, ReportFormat, When};
use anyhow::{Context, Result};
use std::io::{self, IsTerminal, Write};
use std::path::Path;
use steplog::agg::Dim;
use steplog::report::{Csv, Format, Html, Json, Markdown, Prometheus, Report, Table};
use steplog::state::State;
use steplog::threshold::Breach;

/// `--fail-if` conditions that held: the binary exits 3.
#[derive(Debug)]
pub struct Breached(pub Vec<String>);

impl std::fmt::Display for Breached {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "--fail-if held: {}", self.0.join("; "))
    }
}

impl std::error::Error for Breached {}

/// Refuses, before anything is read, outputs that would destroy data: one that is an
/// input (a file named, or one a directory named holds), or two that are one file.
pub fn check_outputs(
    outputs: &[Option<&Path>],
    inputs: &[std::path::PathBuf],
    recursive: bool,
) -> Result<()> {
    let outputs: Vec<&Path> = outputs.iter().flatten().copied().collect();
    Ok(steplog::output::check_distinct(
        &outputs, inputs, recursive,
    )?)
}

/// Renders `report` to stdout or `--output`, then checks `--fail-if`.
pub fn deliver(report: &Report, args: &RenderArgs, quiet: bool) -> Result<()> {
    let (chosen, note) = args.format();
    if let (Some(note), false) = (note, quiet) {
        eprintln!("steplog: note: {note}");
    }
    // A condition on a mistyped name would never hold: refused before anything is written.
    for t in &args.fail_if {
        match t.unknown_name(report) {
            Err(mistake) => anyhow::bail!(mistake),
            Ok(Some(note)) if !quiet => eprintln!("steplog: note: {note}"),
            Ok(_) => {}
        }
    }
    if chosen == ReportFormat::Prometheus && args.interval.is_some() {
        anyhow::bail!(
            "--interval does not apply to --format prometheus: it writes counters, which \
             Prometheus turns into series itself; leave --interval out"
        );
    }
    if chosen == ReportFormat::Prometheus && report.groups_top.is_none() {
        let unbounded = unbounded(&report.group_by);
        if !unbounded.is_empty() {
            anyhow::bail!(
                "--format prometheus with --group-by {}: that makes one series per value, \
                 {} of them here and more every day, which a monitoring system cannot keep; \
                 add --top N to export the N largest groups",
                unbounded.join(","),
                report.groups_total
            );
        }
    }
    let color = match args.color {
        When::Always => true,
        When::Never => false,
        When::Auto => {
            args.output.is_none()
                && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
                && io::stdout().is_terminal()
        }
    };
    if chosen == ReportFormat::Table && !args.full && args.interval.is_some() {
        anyhow::bail!(
            "--interval sets the buckets of the time series, which the one-screen table \
             leaves out: add --full, or choose -f json, html, markdown or csv"
        );
    }
    if args.csv_layout.is_some() && chosen != ReportFormat::Csv {
        anyhow::bail!(
            "--csv-layout is for --format csv; --format {} has one layout: leave it out",
            chosen.name()
        );
    }
    if args.full && chosen != ReportFormat::Table {
        anyhow::bail!(
            "--full is for the table, which fits one screen without it; --format {} always \
             holds everything: leave --full out",
            chosen.name()
        );
    }
    let table = Table {
        color,
        width: args.output.is_none().then(table_width).flatten(),
        brief: !args.full,
    };
    let csv = Csv {
        wide: args.csv_layout == Some(crate::cli::CsvLayout::Wide),
    };
    let made = Some(generated_at());
    let prometheus = Prometheus { generated_at: made };
    let html = Html { generated_at: made };
    let format: &dyn Format = match chosen {
        ReportFormat::Table => &table,
        ReportFormat::Json => &Json,
        ReportFormat::Csv => &csv,
        ReportFormat::Markdown => &Markdown,
        ReportFormat::Prometheus => &prometheus,
        ReportFormat::Html => &html,
    };
    write_out(args.output.as_deref(), "the report", |out| {
        format.render(report, out)
    })?;
    // Hints go to standard error too, unless the table shows them on this terminal.
    let shown =
        chosen == ReportFormat::Table && args.output.is_none() && io::stdout().is_terminal();
    if !quiet && !shown {
        for h in &report.hints {
            eprintln!("steplog: note: {}", steplog::report::visible(h));
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
        Err(Breached(breaches.iter().map(ToString::to_string).collect()).into())
    }
}

/// The dimensions of `group_by` (names as reports write them) that grow without bound
/// (run, thread, …): one Prometheus series per value is more than a monitoring system
/// keeps.
pub fn unbounded(group_by: &[String]) -> Vec<&str> {
    group_by
        .iter()
        .filter(|d| Dim::parse(d).is_some_and(|d| d.is_unbounded()))
        .map(String::as_str)
        .collect()
}

/// Writes `what` with `render` to `output`, atomically, or to standard output.
pub fn write_out(
    output: Option<&Path>,
    what: &str,
    render: impl Fn(&mut dyn Write) -> io::Result<()>,
) -> Result<()> {
    match output {
        Some(path) => Ok(steplog::output::write(path, |out| render(out))?),
        None => {
            let stdout = io::stdout();
            let mut out = io::BufWriter::new(stdout.lock());
            render(&mut out)
                .and_then(|()| out.flush())
                .with_context(|| format!("cannot write {what} to standard output"))
        }
    }
}

/// The width the table fits on standard output: `COLUMNS` when set, else the terminal's;
/// none (as wide as the cells) for a pipe or a file.
pub(super) fn table_width() -> Option<usize> {
    let columns = std::env::var("COLUMNS")
        .ok()
        .and_then(|c| c.trim().parse().ok());
    columns
        .or_else(|| terminal_size::terminal_size().map(|(w, _)| usize::from(w.0)))
        .filter(|&w| w >= 40)
}

/// When the report is made: now, or `SOURCE_DATE_EPOCH` when set (for reproducible
/// output, as reproducible builds define it).
fn generated_at() -> i64 {
    std::env::var("SOURCE_DATE_EPOCH")
        .ok()
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_secs() as i64)
        })
}

pub fn write_state(path: &Path, state: &State) -> Result<()> {
    Ok(steplog::output::write(path, |out| state.write_json(out))?)
}
