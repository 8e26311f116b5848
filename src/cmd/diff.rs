//! `steplog diff`: each side summarised (logs) or merged (states) into a report with the
//! same settings, the two compared, the comparison rendered, and `--fail-if` checked.

use super::deliver::{check_outputs, unbounded, write_out, Breached};
use super::state::read_merged;
use super::summary::{config, execute, nothing_read};
use crate::cli::{DiffArgs, ReportFormat};
use anyhow::{Context, Result};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};
use steplog::agg::{Dim, Sort};
use steplog::diff::format::{Csv, DiffFormat, Html, Json, Markdown, Prometheus, Table};
use steplog::diff::{self, Diff, Options};
use steplog::report::{format_utc, parse_instant, Report};
use steplog::state::Settings;
use steplog::summary::View;

/// What one side reads.
enum Inputs {
    /// State files, merged.
    States(Vec<PathBuf>),
    /// Logs, summarised, within a window.
    Logs(Vec<String>, Window),
}

/// A time window, `[since, until)`, with the text it was given as.
#[derive(Debug, Clone, Default)]
struct Window {
    since: Option<(i64, String)>,
    until: Option<(i64, String)>,
}

impl Window {
    /// Parses `SINCE..UNTIL` (either may be empty).
    fn parse(flag: &str, text: &str, now: i64) -> Result<Window> {
        let (a, b) = text.split_once("..").with_context(|| {
            format!("{flag} {text}: write the window as SINCE..UNTIL (2026-11-01..2026-11-08, 14d..7d, ..24h)")
        })?;
        let at = |s: &str| -> Result<Option<(i64, String)>> {
            let s = s.trim();
            if s.is_empty() {
                return Ok(None);
            }
            let t = parse_instant(s, now).with_context(|| format!("{flag} {text}"))?;
            Ok(Some((t, s.to_string())))
        };
        let w = Window {
            since: at(a)?,
            until: at(b)?,
        };
        if let (Some((s, _)), Some((u, _))) = (&w.since, &w.until) {
            if s >= u {
                anyhow::bail!("{flag} {text}: the window ends before it starts");
            }
        }
        Ok(w)
    }

    fn bounds(&self) -> (i64, i64) {
        (
            self.since.as_ref().map_or(i64::MIN, |s| s.0),
            self.until.as_ref().map_or(i64::MAX, |u| u.0),
        )
    }
}

/// Refuses two windows that share a moment: a step in both would count on both sides.
fn disjoint(a: (i64, i64), b: (i64, i64)) -> Result<()> {
    if a.0 < b.1 && b.0 < a.1 {
        let show = |(s, u): (i64, i64)| {
            let end = |t: i64, open: &str| {
                if t == i64::MIN || t == i64::MAX {
                    open.to_string()
                } else {
                    format_utc(t)
                }
            };
            format!("{}..{}", end(s, ""), end(u, ""))
        };
        anyhow::bail!(
            "the two sides' windows overlap (base {}, current {}): a step in both would be \
             counted on both sides; give windows that do not overlap",
            show(a),
            show(b)
        );
    }
    Ok(())
}

/// Whether `path` is a state file (by its first bytes).
fn is_state(path: &Path) -> bool {
    if !path.is_file() {
        return false;
    }
    let mut head = [0u8; 64];
    let n = std::fs::File::open(path)
        .and_then(|mut f| f.read(&mut head))
        .unwrap_or(0);
    let text = String::from_utf8_lossy(&head[..n]);
    let text: String = text.chars().filter(|c| !c.is_whitespace()).collect();
    text.starts_with(&format!("{{\"format\":\"{}\"", steplog::state::FORMAT))
}

/// The inputs of one side: all states or all logs.
fn side(name: &str, files: Vec<String>, window: Window) -> Result<Inputs> {
    if files.is_empty() {
        anyhow::bail!("the {name} side has no input");
    }
    let states: Vec<bool> = files
        .iter()
        .map(|f| f != "-" && is_state(Path::new(f)))
        .collect();
    if states.iter().all(|&s| s) {
        if window.since.is_some() || window.until.is_some() {
            anyhow::bail!(
                "--{name}-window cuts logs, and the {name} side is state files, which hold \
                 whole steps only for their own window: make the states with `steplog \
                 partial --since … --until …`"
            );
        }
        return Ok(Inputs::States(
            files.into_iter().map(PathBuf::from).collect(),
        ));
    }
    if let Some(i) = states.iter().position(|&s| s) {
        anyhow::bail!(
            "the {name} side mixes a state file ({}) with logs: give one kind per side (make \
             a state of the logs with `steplog partial`)",
            files[i]
        );
    }
    Ok(Inputs::Logs(files, window))
}

/// A side's report and its input names, with the settings it was made with (for states).
struct Made {
    report: Report,
    names: Vec<String>,
    settings: Option<Settings>,
}

fn make(args: &DiffArgs, inputs: Inputs, pricing: &Arc<steplog::cost::Pricing>) -> Result<Made> {
    let view = View {
        sort: args.sort.unwrap_or(Sort::FailureRate),
        top: None,
        ..View::default()
    };
    match inputs {
        Inputs::States(paths) => {
            let mut state = read_merged(&paths, args.limits.limits(), args.limits.memory_limit())?;
            state.summary.pricing = Arc::clone(pricing);
            let names = paths.iter().map(|p| p.display().to_string()).collect();
            Ok(Made {
                report: state.report(view),
                names,
                settings: Some(state.settings.clone()),
            })
        }
        Inputs::Logs(files, window) => {
            let text = |t: &Option<(i64, String)>| t.as_ref().map(|t| t.1.clone());
            let select = args.select(files.clone(), (text(&window.since), text(&window.until)));
            let mut cfg = config(&select, view)?;
            cfg.pricing = Arc::clone(pricing);
            let outcome = execute(&select, cfg)?;
            nothing_read(&outcome, &files, true)?;
            Ok(Made {
                report: outcome.report(),
                names: files,
                settings: None,
            })
        }
    }
}

/// Refuses sides that were not made alike: states of other groupings, filters, dedup or
/// run and cost settings, or states unlike the logs' flags.
fn comparable(args: &DiffArgs, base: &Made, current: &Made) -> Result<()> {
    let filter = args.filter.as_deref().map(|f| {
        steplog::filter::Filter::parse(f, 0)
            .map(|f| f.text().to_string())
            .unwrap_or_else(|_| f.to_string())
    });
    // Each flag: as the state was made, as given, and whether it was given at all.
    let from_flags = |s: &Settings| -> Vec<(&'static str, String, String, bool)> {
        vec![
            (
                "--group-by",
                Dim::list(&s.group_by),
                Dim::list(&args.group_by),
                !args.group_by.is_empty(),
            ),
            (
                "--where",
                s.filter.clone().unwrap_or_default(),
                filter.clone().unwrap_or_default(),
                filter.is_some(),
            ),
            (
                "--no-runs",
                (!s.runs).to_string(),
                args.no_runs.to_string(),
                args.no_runs,
            ),
            (
                "--no-cost",
                (!s.cost).to_string(),
                args.no_cost.to_string(),
                args.no_cost,
            ),
            (
                "--dedup",
                s.dedup.to_string(),
                args.engine.dedup.to_string(),
                args.engine.dedup,
            ),
        ]
    };
    match (&base.settings, &current.settings) {
        (Some(a), Some(b)) => {
            for ((flag, x, given, was_given), (_, y, _, _)) in
                from_flags(a).into_iter().zip(from_flags(b))
            {
                if x != y {
                    anyhow::bail!(
                        "the two sides were made with different {flag} ('{x}' and '{y}'), so \
                         their figures count different things: make both the same way"
                    );
                }
                // A flag given with states must be the one they were made with: a state
                // holds only the groups, steps and figures it was made with.
                if was_given && given != x {
                    anyhow::bail!(
                        "these states were made with {flag} '{x}', and a state holds only what \
                         it was made with: leave {flag} out, or make the states with it \
                         (`steplog partial {flag} …`)"
                    );
                }
            }
            disjoint(
                (a.since.unwrap_or(i64::MIN), a.until.unwrap_or(i64::MAX)),
                (b.since.unwrap_or(i64::MIN), b.until.unwrap_or(i64::MAX)),
            )
            .or_else(|e| match (a.since.or(a.until), b.since.or(b.until)) {
                // States without windows say nothing of when: two sources may share a period.
                (None, _) | (_, None) => Ok(()),
                _ => Err(e),
            })
        }
        (Some(s), None) | (None, Some(s)) => {
            for (flag, held, given, _) in from_flags(s) {
                if held != given {
                    anyhow::bail!(
                        "the state side was made with {flag} '{held}' and the logs are read \
                         with '{given}': give the logs the same flags the states were made with"
                    );
                }
            }
            Ok(())
        }
        (None, None) => Ok(()),
    }
}

/// `steplog diff`.
pub fn run(args: &DiffArgs) -> Result<()> {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64);
    let windows = match (&args.base_window, &args.current_window) {
        (Some(b), Some(c)) => Some((
            Window::parse("--base-window", b, now)?,
            Window::parse("--current-window", c, now)?,
        )),
        _ => None,
    };
    let (base, current) = match (&windows, args.base.is_empty()) {
        (Some((bw, cw)), true) => {
            if args.inputs.is_empty() {
                anyhow::bail!("name the logs both windows are cut from");
            }
            disjoint(bw.bounds(), cw.bounds())?;
            (
                side("base", args.inputs.clone(), bw.clone())?,
                side("current", args.inputs.clone(), cw.clone())?,
            )
        }
        (_, false) => {
            if !args.inputs.is_empty() {
                anyhow::bail!(
                    "with --base and --current, name every input with them (here also: {})",
                    args.inputs.join(" ")
                );
            }
            let (bw, cw) = windows.clone().unwrap_or_default();
            // Windows of the same logs must not overlap; two sources may well share a
            // period (the same week logged by two APIs).
            let shared = args.base.iter().any(|b| args.current.contains(b));
            if windows.is_some() && shared {
                disjoint(bw.bounds(), cw.bounds())?;
            }
            (
                side("base", args.base.clone(), bw)?,
                side("current", args.current.clone(), cw)?,
            )
        }
        (None, true) => match args.inputs.as_slice() {
            [b, c] => (
                side("base", vec![b.clone()], Window::default())?,
                side("current", vec![c.clone()], Window::default())?,
            ),
            other => anyhow::bail!(
                "give two inputs, BASE and CURRENT (here {}); for several on a side, use \
                 --base and --current; to cut one set of logs, --base-window and \
                 --current-window",
                other.len()
            ),
        },
    };
    if args
        .inputs
        .iter()
        .chain(&args.base)
        .chain(&args.current)
        .any(|f| f == "-")
    {
        anyhow::bail!(
            "a diff reads two sides, and standard input can be read once: give files or \
             directories"
        );
    }
    let read: Vec<PathBuf> = args
        .inputs
        .iter()
        .chain(&args.base)
        .chain(&args.current)
        .filter(|f| f.as_str() != "-")
        .map(PathBuf::from)
        .collect();
    check_outputs(&[args.output.as_deref()], &read, args.engine.recursive)?;
    let pricing = Arc::new(super::prices::pricing(&args.prices)?);
    let base = make(args, base, &pricing)?;
    let current = make(args, current, &pricing)?;
    comparable(args, &base, &current)?;
    if (args.sort.is_some() || args.top.is_some()) && current.report.group_by.is_empty() {
        anyhow::bail!(
            "--top and --sort rank the groups of --group-by, and there are none: add \
             --group-by or leave them out"
        );
    }
    let opts = Options {
        alpha: args.alpha,
        sort: args.sort.unwrap_or(Sort::FailureRate),
        top: args.top.map(|t| usize::try_from(t).unwrap_or(usize::MAX)),
    };
    let d = diff::compare(
        &base.report,
        &current.report,
        base.names,
        current.names,
        opts,
    );
    deliver(&d, args)
}

/// Writes `d` as asked, then checks `--fail-if`.
fn deliver(d: &Diff, args: &DiffArgs) -> Result<()> {
    if args.format() == ReportFormat::Prometheus && args.top.is_none() {
        let unbounded = unbounded(&d.group_by);
        if !unbounded.is_empty() {
            anyhow::bail!(
                "--format prometheus with --group-by {}: that makes series per value, {} of \
                 them here and more every day, which a monitoring system cannot keep; add \
                 --top N to export the N groups that changed most",
                unbounded.join(","),
                d.groups_total
            );
        }
    }
    let format: &dyn DiffFormat = match args.format() {
        ReportFormat::Table => &Table,
        ReportFormat::Json => &Json,
        ReportFormat::Csv => &Csv,
        ReportFormat::Markdown => &Markdown,
        ReportFormat::Prometheus => &Prometheus,
        ReportFormat::Html => &Html,
    };
    write_out(args.output.as_deref(), "the diff", |out| {
        format.render(d, out)
    })?;
    if !args.quiet {
        for c in &args.fail_if {
            if c.actual(d).is_none() {
                eprintln!(
                    "steplog: note: --fail-if {c}: the diff has no such number, so it cannot hold"
                );
            }
        }
    }
    let held: Vec<String> = args
        .fail_if
        .iter()
        .filter_map(|c| c.check(d))
        .map(|h| h.to_string())
        .collect();
    if held.is_empty() {
        Ok(())
    } else {
        Err(Breached(held).into())
    }
}
