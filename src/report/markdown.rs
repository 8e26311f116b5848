//! `--format markdown`: GitHub-flavoured Markdown for wikis and pull requests.
//!
//! The same sections as the table, as Markdown tables; long maps show their largest
//! entries (like the table) and say how many more there are. With `--group-by`, a table
//! with one row per group; with several time buckets, the time series.

use super::cells::{self, Breakdown, Style, DURATION_HEAD, SPREAD_HEAD};
use super::escape;
use super::{Format, Report};
use std::collections::BTreeMap;
use std::io::{self, Write};

/// The Markdown renderer.
#[derive(Debug, Clone, Copy, Default)]
pub struct Markdown;

const TOP: usize = 10;

/// Plain numbers (tables align them), `–` for a missing value, values as inline code.
const STYLE: Style = Style {
    missing: "–",
    thousands: false,
    value: escape::markdown_code,
    text: cell,
};

/// Text for a table cell: on one line, markup escaped.
fn cell(s: &str) -> String {
    escape::markdown(&s.replace(['\n', '\r'], " "))
}

fn table(out: &mut dyn Write, head: &[&str], rows: &[Vec<String>]) -> io::Result<()> {
    aligned(out, head, rows, usize::MAX)
}

/// A table with its first column and those from `text_from` on left-aligned, the others
/// (numbers) right-aligned.
fn aligned(
    out: &mut dyn Write,
    head: &[&str],
    rows: &[Vec<String>],
    text_from: usize,
) -> io::Result<()> {
    writeln!(out, "| {} |", head.join(" | "))?;
    let align: Vec<&str> = head
        .iter()
        .enumerate()
        .map(|(i, _)| {
            if i == 0 || i >= text_from {
                "---"
            } else {
                "---:"
            }
        })
        .collect();
    writeln!(out, "| {} |", align.join(" | "))?;
    for r in rows {
        writeln!(out, "| {} |", r.join(" | "))?;
    }
    writeln!(out)
}

fn breakdown(
    out: &mut dyn Write,
    title: &str,
    map: &BTreeMap<String, u64>,
    whole: u64,
) -> io::Result<()> {
    if map.is_empty() {
        return Ok(());
    }
    let b = Breakdown::top(map, whole, TOP);
    let rows: Vec<Vec<String>> = b.rows.iter().map(|r| STYLE.row(r)).collect();
    table(out, &[title, "count", "share"], &rows)?;
    if b.more > 0 {
        writeln!(out, "…and {} more (see `--format json`).\n", b.more)?;
    }
    Ok(())
}

impl Format for Markdown {
    fn render(&self, r: &Report, out: &mut dyn Write) -> io::Result<()> {
        let i = &r.input;
        writeln!(out, "# steplog summary\n")?;
        let files: Vec<String> = i
            .files
            .iter()
            .map(|f| escape::markdown_code(&f.path))
            .collect();
        let kinds: Vec<String> = i
            .counts
            .kinds()
            .iter()
            .map(|(k, n)| format!("{n} {k}"))
            .collect();
        writeln!(
            out,
            "{} input{} ({}), {}, {} lines: {}{}.\n",
            i.files.len(),
            if i.files.len() == 1 { "" } else { "s" },
            files.join(", "),
            super::binary_bytes(i.bytes),
            i.counts.lines,
            kinds.join(", "),
            if i.filtered_out > 0 {
                format!(
                    "; {} records outside the window or `--where`",
                    i.filtered_out
                )
            } else {
                String::new()
            }
        )?;
        if let Some(w) = &i.window {
            writeln!(out, "Window: {}.\n", w.text())?;
        }
        if let Some(o) = &i.outside_window {
            writeln!(
                out,
                "Records outside it were created {} … {}.\n",
                o.first_created_at_utc.as_deref().unwrap_or("?"),
                o.last_created_at_utc.as_deref().unwrap_or("?")
            )?;
        }
        if let (Some(a), Some(b)) = (
            &r.sections.time_range.first_created_at_utc,
            &r.sections.time_range.last_created_at_utc,
        ) {
            writeln!(out, "Created from {a} to {b}.\n")?;
        }
        if let Some(d) = &r.dedup {
            let line = format!(
                "Deduplicated: {} snapshots → {} steps ({} folded).",
                d.snapshots, d.steps, d.folded
            );
            writeln!(out, "{}\n", super::words::say(r, &line))?;
        }

        let steps = &r.sections.steps;
        let split = steps.split(|n| n.to_string());
        let heading = format!("## {}: {} {split}", steps.title(), steps.total);
        writeln!(out, "{}\n", heading.trim_end())?;
        breakdown(out, "api", &steps.by_api, steps.total)?;
        breakdown(out, "status", &steps.by_status, steps.total)?;
        breakdown(out, "type", &steps.by_type, steps.total)?;

        writeln!(out, "## Tool calls: {}\n", r.sections.tool_calls.total)?;
        let kinds: BTreeMap<String, u64> = r
            .sections
            .tool_calls
            .by_kind
            .iter()
            .filter(|(_, v)| **v > 0)
            .map(|(k, v)| (k.clone(), *v))
            .collect();
        breakdown(out, "kind", &kinds, r.sections.tool_calls.total)?;
        let fns = r
            .sections
            .tool_calls
            .by_kind
            .get("function")
            .copied()
            .unwrap_or(0);
        breakdown(out, "function", &r.sections.tool_calls.functions, fns)?;
        let t = &r.sections.tool_calls;
        let mcp = t.by_kind.get("mcp").copied().unwrap_or(0);
        breakdown(out, "mcp tool", &t.mcp, mcp)?;

        let f = &r.sections.failures;
        let rate = STYLE.rate(f.rate);
        let heading = format!(
            "## Failures: {} ({rate} of {} terminal steps)",
            f.total, f.terminal_steps
        );
        writeln!(out, "{}\n", super::words::say(r, &heading))?;
        breakdown(out, "error code", &f.by_code, f.total)?;
        breakdown(out, "assistant", &f.by_assistant, f.total)?;
        breakdown(out, "tool", &f.by_tool, f.total)?;
        if !f.top_messages.is_empty() {
            let rows: Vec<Vec<String>> = f
                .top_messages
                .iter()
                .map(|m| {
                    let mut s: String = m.message.chars().take(120).collect();
                    if s.len() < m.message.len() {
                        s.push('…');
                    }
                    vec![cell(&s), m.count.to_string()]
                })
                .collect();
            table(out, &["message", "count"], &rows)?;
        }

        writeln!(out, "## Durations (seconds)\n")?;
        let rows: Vec<Vec<String>> = cells::duration_rows(&r.sections.durations_seconds)
            .iter()
            .map(|row| row.iter().map(|c| STYLE.cell(c)).collect())
            .collect();
        table(out, &DURATION_HEAD, &rows)?;

        let u = &r.sections.usage;
        let heading = format!(
            "## Usage: {} steps with usage, {} without",
            u.steps_with_usage, u.steps_without_usage
        );
        writeln!(out, "{}\n", super::words::say(r, &heading))?;
        let tokens = u.tokens();
        table(
            out,
            &tokens.map(|(k, _)| k),
            &[tokens.map(|(_, n)| n.to_string()).to_vec()],
        )?;

        if let Some(c) = &r.cost {
            writeln!(out, "## Cost: {}\n", cells::cost_heading(c))?;
            writeln!(out, "{}\n", cells::cost_sentence(r, c, &STYLE))?;
            if let Some(s) = cells::unpriced_sentence(r, c, &STYLE) {
                writeln!(out, "{s}\n")?;
            }
            if let Some(s) = cells::tool_fees_sentence(c, &STYLE) {
                writeln!(out, "{s}\n")?;
            }
            for n in &c.notes {
                writeln!(out, "Note: {}\n", cell(n))?;
            }
            if !c.by_model.is_empty() {
                let rows: Vec<Vec<String>> = cells::cost_model_rows(c)
                    .iter()
                    .map(|row| STYLE.row(row))
                    .collect();
                let words = super::words::cost_model_head(r);
                let head: Vec<&str> = words.iter().map(String::as_str).collect();
                table(out, &head, &rows)?;
            }
            let (rows, rest) = cells::cost_assistant_rows(c, usize::MAX);
            if !rows.is_empty() {
                let rows: Vec<Vec<String>> = rows.iter().map(|row| STYLE.row(row)).collect();
                table(out, &["assistant", "cost"], &rows)?;
                debug_assert_eq!(rest, 0);
            }
        }

        if let Some(runs) = &r.runs {
            writeln!(out, "## Runs: {}\n", runs.total)?;
            let outcomes: Vec<String> = runs
                .by_outcome
                .iter()
                .map(|(k, n)| format!("{n} {}", cell(k)))
                .collect();
            let threads = r.threads.as_ref().map_or_else(String::new, |t| {
                format!(" {} {}.", t.total, super::words::thread_noun(r).1)
            });
            let line = super::words::say(r, "By outcome (the status of the last step):");
            writeln!(out, "{line} {}.{threads}\n", outcomes.join(", "))?;
            let rows: Vec<Vec<String>> = cells::spread_rows(r, runs, r.threads.as_ref())
                .iter()
                .map(|row| STYLE.row(row))
                .collect();
            table(out, &SPREAD_HEAD, &rows)?;
        }
        for (title, figure, list) in cells::exemplar_lists(r) {
            writeln!(out, "## {title}\n")?;
            let words = super::words::exemplar_head(r);
            let mut head = vec![figure];
            head.extend(words.iter().map(String::as_str));
            let rows: Vec<Vec<String>> = list
                .iter()
                .map(|e| STYLE.row(&cells::exemplar_row(e)))
                .collect();
            aligned(out, &head, &rows, 1)?;
        }

        if !r.groups.is_empty() {
            writeln!(out, "## By {}\n", r.group_by.join(", "))?;
            writeln!(out, "{}.\n", cells::groups_note(r, &STYLE))?;
            let mut head: Vec<&str> = r.group_by.iter().map(String::as_str).collect();
            let figures = cells::group_head(r, false);
            head.extend(figures.iter().map(String::as_str));
            let rows: Vec<Vec<String>> = cells::group_rows(r)
                .iter()
                .map(|row| STYLE.row(row))
                .collect();
            table(out, &head, &rows)?;
        }

        let ts = &r.sections.time_series;
        if ts.buckets.len() > 1 {
            writeln!(out, "## Per {}\n", ts.interval)?;
            let rows: Vec<Vec<String>> = ts
                .buckets
                .iter()
                .map(|b| {
                    let mut row = vec![
                        b.start_utc.clone(),
                        b.steps.to_string(),
                        b.failed.to_string(),
                        b.total_tokens.to_string(),
                    ];
                    if r.cost.is_some() {
                        row.push(STYLE.cell(&cells::Cell::Usd(b.cost_usd)));
                    }
                    row
                })
                .collect();
            let noun = r.sections.steps.noun();
            let mut head = vec![ts.interval.as_str(), noun, "failed", "total tokens"];
            if r.cost.is_some() {
                head.push("cost");
            }
            table(out, &head, &rows)?;
        }

        if i.counts.malformed > 0 {
            writeln!(out, "## Malformed lines: {}\n", i.counts.malformed)?;
            let rows: Vec<Vec<String>> = i
                .malformed_examples
                .iter()
                .map(|m| {
                    vec![
                        escape::markdown_code(&format!("{}:{}", m.file, m.line)),
                        m.reason.clone(),
                        cell(&m.message),
                    ]
                })
                .collect();
            table(out, &["line", "reason", "message"], &rows)?;
        }
        for h in &r.hints {
            writeln!(out, "> **Hint:** {}\n", cell(h))?;
        }
        Ok(())
    }
}
