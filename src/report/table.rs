//! `--format table` (the default): aligned text for a person at a terminal.
//!
//! Long maps (assistants, functions, messages) show their largest entries and say how
//! many more there are; `--format json` has them all.

use super::cells::{self, Breakdown, Style, DURATION_HEAD, EXEMPLAR_HEAD, SPREAD_HEAD};
use super::escape::visible;
use super::grid::Grid;
use super::{Format, Report};
use anstyle::{AnsiColor, Style as Paint};
use std::collections::BTreeMap;
use std::io::{self, Write};

/// Plain text: numbers grouped in thousands, `-` for a missing value.
const STYLE: Style = Style {
    missing: "-",
    thousands: true,
    value: visible,
    text: visible,
};

/// Exemplar columns left out first when narrow: run, then status.
const EXEMPLAR_OPTIONAL: [usize; 2] = [2, 3];

/// How many entries of a long map the table shows.
const TOP: usize = 10;

/// The human-readable table renderer.
#[derive(Debug, Clone, Copy, Default)]
pub struct Table {
    /// Colour headings, failures and hints with ANSI escapes (for a terminal).
    pub color: bool,
    /// Fit tables within this many columns (a terminal's width); `None`: as wide as the
    /// cells are (a file).
    pub width: Option<usize>,
    /// One screen (the command line's default, see [`super::brief`]) rather than every
    /// section.
    pub brief: bool,
}

impl Table {
    /// `s` in bold (headings), when colouring.
    pub(super) fn bold(&self, s: &str) -> String {
        self.paint(Paint::new().bold(), s)
    }

    /// A sentence wrapped to the width (when there is one), each line after `indent`.
    pub(super) fn prose(&self, out: &mut dyn Write, indent: &str, text: &str) -> io::Result<()> {
        let Some(width) = self.width else {
            return writeln!(out, "{indent}{text}");
        };
        let options = textwrap::Options::new(width)
            .initial_indent(indent)
            .subsequent_indent(if indent.is_empty() { "  " } else { indent });
        for line in textwrap::wrap(text, options) {
            writeln!(out, "{line}")?;
        }
        Ok(())
    }

    /// `hint:`, in yellow when colouring.
    pub(super) fn hint(&self) -> String {
        self.paint(
            Paint::new().fg_color(Some(AnsiColor::Yellow.into())),
            "hint:",
        )
    }

    fn paint(&self, style: Paint, s: &str) -> String {
        if self.color {
            format!("{}{s}{}", style.render(), style.render_reset())
        } else {
            s.to_string()
        }
    }
}

/// Bucket labels of the duration histogram, 4 columns each.
const HIST_LABELS: [&str; 13] = [
    "0s", "1s", "2s", "5s", "10s", "30s", "1m", "2m", "5m", "10m", "30m", "1h", ">1h",
];

/// A one-line histogram: a block per bucket, as tall as its share of the largest.
fn sparkline(counts: &[u64]) -> String {
    spark_columns(counts)
        .chars()
        .map(|c| format!("{:>4}", c.to_string().repeat(3)))
        .collect()
}

fn num(n: u64) -> String {
    STYLE.count(n)
}

fn bytes(n: u64) -> String {
    super::binary_bytes(n)
}

/// A breakdown: title, then one row per entry with count and share of `whole`; with
/// `limit`, only the largest entries.
fn breakdown(
    out: &mut dyn Write,
    width: Option<usize>,
    title: &str,
    map: &BTreeMap<String, u64>,
    whole: u64,
    limit: bool,
) -> io::Result<()> {
    let b = if limit {
        Breakdown::top(map, whole, TOP)
    } else {
        Breakdown::all(map, whole)
    };
    if b.rows.is_empty() {
        return Ok(());
    }
    writeln!(out, "  {title}")?;
    let mut g = Grid::default();
    for r in &b.rows {
        g.row(STYLE.row(r));
    }
    g.write(out, "    ", width)?;
    more(out, b.more)
}

/// The entries of `map` that are not 0.
fn nonzero(map: &BTreeMap<String, u64>) -> BTreeMap<String, u64> {
    map.iter()
        .filter(|(_, n)| **n > 0)
        .map(|(k, n)| (k.clone(), *n))
        .collect()
}

/// Says how many entries were left out.
fn more(out: &mut dyn Write, rest: usize) -> io::Result<()> {
    if rest > 0 {
        writeln!(out, "    … and {rest} more (see --format json)")?;
    }
    Ok(())
}

impl Format for Table {
    fn render(&self, r: &Report, out: &mut dyn Write) -> io::Result<()> {
        if self.brief {
            return super::brief::render(self, r, out);
        }
        let i = &r.input;
        let inputs = if i.files.len() == 1 {
            visible(&i.files[0].path)
        } else {
            format!("{} inputs", i.files.len())
        };
        // A JSON document's elements count as its lines.
        let documents = i.files.iter().any(|f| f.shape.is_some());
        let unit = match (documents, i.counts.lines) {
            (true, 1) => "element",
            (true, _) => "elements",
            (false, 1) => "line",
            (false, _) => "lines",
        };
        let title = format!(
            "steplog summary of {inputs}: {}, {} {unit}",
            bytes(i.bytes),
            num(i.counts.lines)
        );
        writeln!(out, "{}", self.bold(&title))?;
        let framing = if i.counts.framing > 0 {
            format!(" · framing {}", num(i.counts.framing))
        } else {
            String::new()
        };
        let runs = if i.counts.runs > 0 {
            format!(" · runs {}", num(i.counts.runs))
        } else {
            String::new()
        };
        writeln!(
            out,
            "  records {}{runs} · blank {} · deltas {}{framing} · malformed {}",
            num(i.counts.records),
            num(i.counts.blank_lines),
            num(i.counts.deltas),
            num(i.counts.malformed)
        )?;
        if let Some(w) = &i.window {
            writeln!(out, "  window   {}", w.text())?;
        }
        if let Some(line) = cells::left_out(i, &STYLE) {
            writeln!(out, "  {line}")?;
        }
        if let Some(d) = &r.dedup {
            writeln!(
                out,
                "  dedup: {} snapshots → {} {} ({} folded)",
                num(d.snapshots),
                num(d.steps),
                r.sections.steps.noun(),
                num(d.folded)
            )?;
        }
        if let (Some(a), Some(b)) = (
            &r.sections.time_range.first_created_at_utc,
            &r.sections.time_range.last_created_at_utc,
        ) {
            writeln!(out, "  created  {a} … {b}")?;
        }
        if i.files.len() > 1 {
            // Framing, deltas, blank lines, runs and bytes go first when narrow.
            let mut g = Grid::default().optional(&[7, 6, 5, 4, 1]);
            g.row(
                [
                    "file",
                    "bytes",
                    "lines",
                    "records",
                    "runs",
                    "blank",
                    "deltas",
                    "framing",
                    "malformed",
                ]
                .map(String::from),
            );
            for f in &i.files {
                let how: Vec<&str> = [f.compression.as_deref(), f.shape.as_deref()]
                    .into_iter()
                    .flatten()
                    .collect();
                let path = match how.is_empty() {
                    false => format!("{} ({})", visible(&f.path), how.join(", ")),
                    true => visible(&f.path),
                };
                let mut row = vec![path, bytes(f.bytes), num(f.counts.lines)];
                row.extend(f.counts.kinds().map(|(_, n)| num(n)));
                g.row(row);
            }
            g.write(out, "  ", self.width)?;
        }

        let s = &r.sections.steps;
        let heading = format!("{} {} {}", s.title(), num(s.total), s.split(num));
        writeln!(out, "\n{}", self.bold(heading.trim_end()))?;
        breakdown(
            out,
            self.width,
            "by api",
            &nonzero(&s.by_api),
            s.total,
            false,
        )?;
        if s.undated > 0 {
            let line = format!(
                "{} undated: failed batch requests, which have no created_at (in no time figure)",
                num(s.undated)
            );
            self.prose(out, "  ", &line)?;
        }
        breakdown(out, self.width, "by status", &s.by_status, s.total, false)?;
        breakdown(out, self.width, "by type", &s.by_type, s.total, false)?;

        let t = &r.sections.tool_calls;
        let reasoning = match t.reasoning_items {
            0 => String::new(),
            n => format!(" (and {} reasoning items)", num(n)),
        };
        writeln!(
            out,
            "\n{}",
            self.bold(&format!("Tool calls {}{reasoning}", num(t.total)))
        )?;
        breakdown(
            out,
            self.width,
            "by kind",
            &nonzero(&t.by_kind),
            t.total,
            false,
        )?;
        let fn_total = t.by_kind.get("function").copied().unwrap_or(0);
        breakdown(out, self.width, "functions", &t.functions, fn_total, true)?;
        let mcp_total = t.by_kind.get("mcp").copied().unwrap_or(0);
        breakdown(out, self.width, "mcp tools", &t.mcp, mcp_total, true)?;

        let f = &r.sections.failures;
        let rate = STYLE.rate(f.rate);
        let heading = format!(
            "Failures {} ({rate} of {} terminal {})",
            num(f.total),
            num(f.terminal_steps),
            s.noun()
        );
        let heading = if f.total > 0 {
            self.paint(
                Paint::new().bold().fg_color(Some(AnsiColor::Red.into())),
                &heading,
            )
        } else {
            self.bold(&heading)
        };
        writeln!(out, "\n{heading}")?;
        breakdown(out, self.width, "by error code", &f.by_code, f.total, true)?;
        breakdown(
            out,
            self.width,
            "by assistant",
            &f.by_assistant,
            f.total,
            true,
        )?;
        breakdown(
            out,
            self.width,
            "by step type",
            &f.by_step_type,
            f.total,
            true,
        )?;
        breakdown(out, self.width, "by tool", &f.by_tool, f.total, true)?;
        if !f.top_messages.is_empty() {
            writeln!(out, "  top messages")?;
            let counts: Vec<String> = f.top_messages.iter().map(|m| num(m.count)).collect();
            let w = counts.iter().map(String::len).max().unwrap_or(0);
            // Count first, right-aligned, then as much of the message as fits.
            let room = self
                .width
                .map_or(100, |t| t.saturating_sub(6 + w).clamp(20, 100));
            for (m, n) in f.top_messages.iter().zip(&counts) {
                let mut msg: String = m.message.chars().take(room).collect();
                if msg.chars().count() < m.message.chars().count() {
                    msg.pop();
                    msg.push('…');
                }
                writeln!(
                    out,
                    "    {n:>w$}  {}",
                    visible(&msg.replace(['\n', '\r'], " "))
                )?;
            }
        }

        over_time(self, r, out)?;

        let d = &r.sections.durations_seconds;
        writeln!(out, "\n{}", self.bold("Durations (seconds)"))?;
        // missing, p99.9, p95, mean and min go first when narrow.
        let mut g = Grid::default().optional(&[2, 9, 7, 4, 3]);
        g.row(DURATION_HEAD.map(String::from));
        for row in cells::duration_rows(d) {
            g.row(STYLE.row(&row));
        }
        g.write(out, "  ", self.width)?;
        let with_data: Vec<_> = d
            .by_status()
            .into_iter()
            .filter(|(_, ds)| ds.count > 0)
            .collect();
        if !with_data.is_empty() {
            let labels: String = HIST_LABELS.iter().map(|l| format!("{l:>4}")).collect();
            writeln!(out, "  {:<10}{labels}", "up to")?;
            for (name, ds) in with_data {
                let counts: Vec<u64> = ds.histogram.iter().map(|b| b.count).collect();
                writeln!(out, "  {name:<10}{}", sparkline(&counts).trim_end())?;
            }
        }

        let u = &r.sections.usage;
        let heading = format!(
            "Usage: {} {} with usage, {} without",
            num(u.steps_with_usage),
            s.noun(),
            num(u.steps_without_usage)
        );
        writeln!(out, "\n{}", self.bold(&heading))?;
        let mut g = Grid::default();
        for (k, v) in u.tokens() {
            g.row([format!("{k} tokens"), num(v)]);
        }
        g.write(out, "  ", self.width)?;
        if u.total_mismatch > 0 {
            writeln!(
                out,
                "  {} {} where total_tokens != prompt_tokens + completion_tokens",
                num(u.total_mismatch),
                s.noun()
            )?;
        }
        let (entries, rest) = cells::ranked(&u.by_assistant, TOP, |s| s.total_tokens);
        if !entries.is_empty() {
            writeln!(out, "  by assistant (most total tokens first)")?;
            // reasoning, cached, steps, prompt and completion go first when narrow.
            let mut g = Grid::default().optional(&[6, 5, 1, 2, 3]);
            let mut head = vec!["assistant".to_string(), s.noun().to_string()];
            head.extend(u.tokens().map(|(k, _)| k.to_string()));
            g.row(head);
            for (k, a) in entries {
                let mut row = vec![visible(k), num(a.steps_with_usage)];
                row.extend(a.tokens().map(num));
                g.row(row);
            }
            g.write(out, "    ", self.width)?;
            more(out, rest)?;
        }

        if let Some(c) = &r.cost {
            let heading = format!("Cost {}", cells::cost_heading(c));
            writeln!(out, "\n{}", self.bold(&heading))?;
            self.prose(out, "  ", &cells::cost_sentence(r, c, &STYLE))?;
            if let Some(s) = cells::unpriced_sentence(r, c, &STYLE) {
                self.prose(out, "  ", &s)?;
            }
            if let Some(s) = cells::tool_fees_sentence(c, &STYLE) {
                self.prose(out, "  ", &s)?;
            }
            for n in &c.notes {
                self.prose(out, "  ", &format!("note: {}", visible(n)))?;
            }
            if !c.by_model.is_empty() {
                let mut g = Grid::default().optional(&[6, 4, 3, 5, 2]);
                g.row(super::words::cost_model_head(r));
                for row in cells::cost_model_rows(c) {
                    g.row(STYLE.row(&row));
                }
                g.write(out, "  ", self.width)?;
            }
            let (rows, rest) = cells::cost_assistant_rows(c, TOP);
            if !rows.is_empty() {
                writeln!(out, "  by assistant (costliest first)")?;
                let mut g = Grid::default();
                for row in rows {
                    g.row(STYLE.row(&row));
                }
                g.write(out, "    ", self.width)?;
                more(out, rest)?;
            }
        }

        if let Some(runs) = &r.runs {
            let outcomes: Vec<String> = cells::ranked(&runs.by_outcome, TOP, |n| *n)
                .0
                .into_iter()
                .map(|(k, n)| format!("{} {}", visible(k), num(*n)))
                .collect();
            let heading = format!("Runs {}", num(runs.total));
            writeln!(out, "\n{}", self.bold(&heading))?;
            if !outcomes.is_empty() {
                let line = format!("by outcome (last {}): {}", s.noun1(), outcomes.join(" · "));
                self.prose(out, "  ", &line)?;
            }
            if runs.steps_without_run > 0 {
                writeln!(
                    out,
                    "  {} {} without a run_id",
                    num(runs.steps_without_run),
                    s.noun()
                )?;
            }
            if let Some(t) = &r.threads {
                writeln!(out, "  {} {}", super::words::thread_noun(r).1, num(t.total))?;
            }
            let mut g = Grid::default();
            g.row(SPREAD_HEAD.map(String::from));
            for row in cells::spread_rows(r, runs, r.threads.as_ref()) {
                g.row(STYLE.row(&row));
            }
            g.write(out, "  ", self.width)?;
        }
        for (title, figure, list) in cells::exemplar_lists(r) {
            writeln!(out, "\n{}", self.bold(title))?;
            // Past the figure: step, run, thread, assistant, …; thread and assistant go
            // first when the width is short.
            let mut g = Grid::with_text_from(1)
                .optional(&EXEMPLAR_OPTIONAL)
                .flexible(EXEMPLAR_HEAD.len())
                .fixed(&[0]);
            let mut head = vec![figure.to_string()];
            head.extend(super::words::exemplar_head(r));
            g.row(head);
            for e in list {
                g.row(STYLE.row(&cells::exemplar_row(e)));
            }
            g.write(out, "  ", self.width)?;
        }

        if i.counts.malformed > 0 {
            let reasons: Vec<String> = i
                .malformed_by_reason
                .iter()
                .filter(|(_, n)| **n > 0)
                .map(|(k, n)| format!("{k} {}", num(*n)))
                .collect();
            writeln!(out)?;
            let heading = format!(
                "Malformed lines {} ({})",
                num(i.counts.malformed),
                reasons.join(", ")
            );
            self.prose(out, "", &heading)?;
            for m in &i.malformed_examples {
                let line = format!(
                    "{}:{}: {}: {}",
                    visible(&m.file),
                    m.line,
                    m.reason,
                    visible(&m.message)
                );
                self.prose(out, "  ", &line)?;
            }
            if (i.malformed_examples.len() as u64) < i.counts.malformed {
                writeln!(
                    out,
                    "  … the first {} are shown",
                    i.malformed_examples.len()
                )?;
            }
        }
        if !r.groups.is_empty() {
            writeln!(out)?;
            let heading = self.bold(&format!("By {}", r.group_by.join(", ")));
            self.prose(
                out,
                "",
                &format!("{heading} ({})", cells::groups_note(r, &STYLE)),
            )?;
            // p50, tokens and failed go first when narrow.
            let d = r.group_by.len();
            let mut g = Grid::default().optional(&[d + 3, d + 5, d + 1]);
            let mut head: Vec<String> = r.group_by.clone();
            head.extend(cells::group_head(r, true));
            g.row(head);
            for row in cells::group_rows(r) {
                g.row(STYLE.row(&row));
            }
            g.write(out, "  ", self.width)?;
        }
        if !r.hints.is_empty() {
            writeln!(out)?;
            for h in &r.hints {
                let text = format!("{} {}", self.hint(), visible(h));
                self.prose(out, "", &text)?;
            }
        }
        Ok(())
    }
}

/// Columns of the time-series sparklines: buckets beyond it are summed in pairs, threes…
const SERIES_COLUMNS: usize = 64;

/// The time series (`--interval`) as sparklines of steps, failed steps and tokens.
fn over_time(t: &Table, r: &Report, out: &mut dyn Write) -> io::Result<()> {
    let ts = &r.sections.time_series;
    let (Some(first), Some(last)) = (ts.buckets.first(), ts.buckets.last()) else {
        return Ok(());
    };
    let per = ts.buckets.len().div_ceil(SERIES_COLUMNS);
    let series = |f: &dyn Fn(&super::TimeBucket) -> u64| -> Vec<u64> {
        ts.buckets
            .chunks(per)
            .map(|c| c.iter().map(f).fold(0u64, u64::saturating_add))
            .collect()
    };
    let each = match per {
        1 => format!("per {}", ts.interval),
        n => format!("each column {n} {}s", ts.interval),
    };
    let title = format!(
        "Over time ({each}; {} … {})",
        first.start_utc, last.start_utc
    );
    writeln!(out, "\n{}", t.bold(&title))?;
    let rows: [(&str, Vec<u64>); 3] = [
        (r.sections.steps.noun(), series(&|b| b.steps)),
        ("failed", series(&|b| b.failed)),
        ("tokens", series(&|b| b.total_tokens)),
    ];
    for (name, values) in rows {
        let max = values.iter().copied().max().unwrap_or(0);
        writeln!(
            out,
            "  {name:<7} {}  max {}",
            spark_columns(&values),
            num(max)
        )?;
    }
    Ok(())
}

/// One block per value, as tall as its share of the largest (a space for none); the
/// duration histogram's [`sparkline`] widens each to three.
fn spark_columns(values: &[u64]) -> String {
    const BLOCKS: [char; 8] = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];
    let max = values.iter().copied().max().unwrap_or(0);
    values
        .iter()
        .map(|&n| match (n, max) {
            (0, _) | (_, 0) => ' ',
            (n, max) => BLOCKS[((n as f64 / max as f64) * 7.0).round() as usize],
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes() {
        assert_eq!(bytes(512), "512 B");
        assert_eq!(bytes(1536), "1.50 KiB");
        assert_eq!(bytes(3 << 30), "3.00 GiB");
    }
}
