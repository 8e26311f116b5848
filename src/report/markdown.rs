//! `--format markdown`: GitHub-flavoured Markdown for wikis and pull requests.
//!
//! The same sections as the table, as Markdown tables; long maps show their largest
//! entries (like the table) and say how many more there are. With `--group-by`, a table
//! with one row per group; with several time buckets, the time series.

use super::{DurationSummary, Format, Report};
use std::collections::BTreeMap;
use std::io::{self, Write};

/// The Markdown renderer.
#[derive(Debug, Clone, Copy, Default)]
pub struct Markdown;

const TOP: usize = 10;

/// Escapes a table cell.
fn cell(s: &str) -> String {
    s.replace('\\', "\\\\")
        .replace('|', "\\|")
        .replace(['\n', '\r'], " ")
}

fn opt<T: ToString>(v: Option<T>) -> String {
    v.map_or_else(|| "–".to_string(), |v| v.to_string())
}

fn pct(part: u64, whole: u64) -> String {
    if whole == 0 {
        "–".into()
    } else {
        format!("{:.1}%", part as f64 * 100.0 / whole as f64)
    }
}

fn table(out: &mut dyn Write, head: &[&str], rows: &[Vec<String>]) -> io::Result<()> {
    writeln!(out, "| {} |", head.join(" | "))?;
    let align: Vec<&str> = head
        .iter()
        .enumerate()
        .map(|(i, _)| if i == 0 { "---" } else { "---:" })
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
    let mut v: Vec<_> = map.iter().collect();
    v.sort_by(|a, b| b.1.cmp(a.1).then_with(|| a.0.cmp(b.0)));
    let rest = v.len().saturating_sub(TOP);
    let rows: Vec<Vec<String>> = v
        .iter()
        .take(TOP)
        .map(|(k, n)| vec![format!("`{}`", cell(k)), n.to_string(), pct(**n, whole)])
        .collect();
    table(out, &[title, "count", "share"], &rows)?;
    if rest > 0 {
        writeln!(out, "…and {rest} more (see `--format json`).\n")?;
    }
    Ok(())
}

fn duration_row(name: &str, d: &DurationSummary) -> Vec<String> {
    vec![
        name.to_string(),
        d.count.to_string(),
        d.missing.to_string(),
        opt(d.min),
        d.mean.map_or_else(|| "–".into(), |m| format!("{m:.1}")),
        opt(d.p50),
        opt(d.p90),
        opt(d.p99),
        opt(d.max),
    ]
}

impl Format for Markdown {
    fn render(&self, r: &Report, out: &mut dyn Write) -> io::Result<()> {
        let i = &r.input;
        writeln!(out, "# steplog summary\n")?;
        let files: Vec<String> = i
            .files
            .iter()
            .map(|f| format!("`{}`", cell(&f.path)))
            .collect();
        writeln!(
            out,
            "{} input{} ({}), {} bytes, {} lines: {} records, {} blank, {} deltas, {} framing, {} malformed{}.\n",
            i.files.len(),
            if i.files.len() == 1 { "" } else { "s" },
            files.join(", "),
            i.bytes,
            i.counts.lines,
            i.counts.records,
            i.counts.blank_lines,
            i.counts.deltas,
            i.counts.framing,
            i.counts.malformed,
            if i.filtered_out > 0 {
                format!("; {} records outside the time window", i.filtered_out)
            } else {
                String::new()
            }
        )?;
        if let (Some(a), Some(b)) = (
            &r.sections.time_range.first_created_at_utc,
            &r.sections.time_range.last_created_at_utc,
        ) {
            writeln!(out, "Created from {a} to {b}.\n")?;
        }
        if let Some(d) = &r.dedup {
            writeln!(
                out,
                "Deduplicated: {} snapshots → {} steps ({} folded).\n",
                d.snapshots, d.steps, d.folded
            )?;
        }

        writeln!(out, "## Steps: {}\n", r.sections.steps.total)?;
        breakdown(
            out,
            "status",
            &r.sections.steps.by_status,
            r.sections.steps.total,
        )?;
        breakdown(
            out,
            "type",
            &r.sections.steps.by_type,
            r.sections.steps.total,
        )?;

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

        let f = &r.sections.failures;
        let rate = f
            .rate
            .map_or_else(|| "–".into(), |x| format!("{:.2}%", x * 100.0));
        writeln!(
            out,
            "## Failures: {} ({rate} of {} terminal steps)\n",
            f.total, f.terminal_steps
        )?;
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
        let d = &r.sections.durations_seconds;
        let mut rows = vec![
            duration_row("completed", &d.completed),
            duration_row("failed", &d.failed),
            duration_row("cancelled", &d.cancelled),
            duration_row("expired", &d.expired),
        ];
        for (t, ds) in &d.completed_by_type {
            rows.push(duration_row(&format!("completed `{}`", cell(t)), ds));
        }
        table(
            out,
            &[
                "status", "count", "missing", "min", "mean", "p50", "p90", "p99", "max",
            ],
            &rows,
        )?;

        let u = &r.sections.usage;
        writeln!(
            out,
            "## Usage: {} steps with usage, {} without\n",
            u.steps_with_usage, u.steps_without_usage
        )?;
        table(
            out,
            &["prompt", "completion", "total", "cached", "reasoning"],
            &[vec![
                u.prompt_tokens.to_string(),
                u.completion_tokens.to_string(),
                u.total_tokens.to_string(),
                u.cached_tokens.to_string(),
                u.reasoning_tokens.to_string(),
            ]],
        )?;

        if !r.groups.is_empty() {
            writeln!(out, "## By {}\n", r.group_by.join(", "))?;
            let mut head: Vec<&str> = r.group_by.iter().map(String::as_str).collect();
            head.extend([
                "steps",
                "failed",
                "failure rate",
                "p50 s",
                "p99 s",
                "total tokens",
            ]);
            let rows: Vec<Vec<String>> = r
                .groups
                .iter()
                .map(|g| {
                    let mut row: Vec<String> =
                        g.key.iter().map(|k| format!("`{}`", cell(k))).collect();
                    row.extend([
                        g.sections.steps.total.to_string(),
                        g.sections.failures.total.to_string(),
                        g.sections
                            .failures
                            .rate
                            .map_or_else(|| "–".into(), |x| format!("{:.2}%", x * 100.0)),
                        opt(g.sections.durations_seconds.completed.p50),
                        opt(g.sections.durations_seconds.completed.p99),
                        g.sections.usage.total_tokens.to_string(),
                    ]);
                    row
                })
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
                    vec![
                        b.start_utc.clone(),
                        b.steps.to_string(),
                        b.failed.to_string(),
                        b.total_tokens.to_string(),
                    ]
                })
                .collect();
            table(
                out,
                &[ts.interval.as_str(), "steps", "failed", "total tokens"],
                &rows,
            )?;
        }

        if i.counts.malformed > 0 {
            writeln!(out, "## Malformed lines: {}\n", i.counts.malformed)?;
            let rows: Vec<Vec<String>> = i
                .malformed_examples
                .iter()
                .map(|m| {
                    vec![
                        format!("`{}:{}`", cell(&m.file), m.line),
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
