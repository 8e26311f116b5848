//! `--format table` (the default): aligned text for a person at a terminal.
//!
//! Long maps (assistants, functions, messages) show their largest entries and say how
//! many more there are; `--format json` has them all.

use super::cells::{
    self, Breakdown, Style, COST_MODEL_HEAD, DURATION_HEAD, EXEMPLAR_HEAD, SPREAD_HEAD,
};
use super::escape::visible;
use super::{Format, Report};
use std::collections::BTreeMap;
use std::io::{self, Write};

/// Plain text: numbers grouped in thousands, `-` for a missing value.
const STYLE: Style = Style {
    missing: "-",
    thousands: true,
    value: visible,
    text: visible,
};

/// How many entries of a long map the table shows.
const TOP: usize = 10;

/// The human-readable table renderer.
#[derive(Debug, Clone, Copy, Default)]
pub struct Table {
    /// Colour headings, failures and hints with ANSI escapes (for a terminal).
    pub color: bool,
}

impl Table {
    /// `s` in bold (headings), when colouring.
    fn bold(&self, s: &str) -> String {
        self.paint("1", s)
    }

    fn paint(&self, code: &str, s: &str) -> String {
        if self.color {
            format!("\x1b[{code}m{s}\x1b[0m")
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
    const BLOCKS: [char; 8] = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];
    let max = counts.iter().copied().max().unwrap_or(0);
    counts
        .iter()
        .map(|&n| {
            let c = if n == 0 || max == 0 {
                ' '
            } else {
                BLOCKS[((n as f64 / max as f64) * 7.0).round() as usize]
            };
            format!("{:>4}", c.to_string().repeat(3))
        })
        .collect()
}

/// Rows of cells, printed with the first column left-aligned and the others right-aligned
/// (numbers), except columns from `text_from` on, left-aligned too (ids, text). Thirty
/// lines of our own rather than a table crate: the layout is plain and fixed.
#[derive(Default)]
pub struct Grid {
    rows: Vec<Vec<String>>,
    text_from: Option<usize>,
}

impl Grid {
    /// A grid whose columns from `text_from` on are text (left-aligned).
    pub fn with_text_from(text_from: usize) -> Grid {
        Grid {
            rows: Vec::new(),
            text_from: Some(text_from),
        }
    }

    /// Appends a row.
    pub fn row<I: IntoIterator<Item = String>>(&mut self, cells: I) {
        self.rows.push(cells.into_iter().collect());
    }

    /// Writes the rows, each line starting with `indent`.
    pub fn write(&self, out: &mut dyn Write, indent: &str) -> io::Result<()> {
        let cols = self.rows.iter().map(Vec::len).max().unwrap_or(0);
        let width = |c: usize| {
            self.rows
                .iter()
                .filter_map(|r| r.get(c))
                .map(|s| s.chars().count())
                .max()
                .unwrap_or(0)
        };
        let widths: Vec<usize> = (0..cols).map(width).collect();
        for r in &self.rows {
            let mut line = String::from(indent);
            for (c, cell) in r.iter().enumerate() {
                if c == 0 {
                    line.push_str(&format!("{cell:<w$}", w = widths[0]));
                } else if self.text_from.is_some_and(|t| c >= t) {
                    line.push_str(&format!("  {cell:<w$}", w = widths[c]));
                } else {
                    line.push_str(&format!("  {cell:>w$}", w = widths[c]));
                }
            }
            writeln!(out, "{}", line.trim_end())?;
        }
        Ok(())
    }
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
    g.write(out, "    ")?;
    more(out, b.more)
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
        if i.filtered_out > 0 {
            let range = match &i.outside_window {
                Some(o) => format!(
                    " (created {} … {})",
                    o.first_created_at_utc.as_deref().unwrap_or("?"),
                    o.last_created_at_utc.as_deref().unwrap_or("?")
                ),
                None => String::new(),
            };
            writeln!(
                out,
                "  {} records outside the window or --where{range}, not summarised",
                num(i.filtered_out)
            )?;
        }
        if let Some(d) = &r.dedup {
            writeln!(
                out,
                "  dedup: {} snapshots → {} steps ({} folded)",
                num(d.snapshots),
                num(d.steps),
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
            let mut g = Grid::default();
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
            g.write(out, "  ")?;
        }

        let s = &r.sections.steps;
        writeln!(out, "\n{}", self.bold(&format!("Steps {}", num(s.total))))?;
        breakdown(out, "by status", &s.by_status, s.total, false)?;
        breakdown(out, "by type", &s.by_type, s.total, false)?;

        let t = &r.sections.tool_calls;
        writeln!(
            out,
            "\n{}",
            self.bold(&format!("Tool calls {}", num(t.total)))
        )?;
        let kinds: BTreeMap<String, u64> = t
            .by_kind
            .iter()
            .filter(|(_, v)| **v > 0)
            .map(|(k, v)| (k.clone(), *v))
            .collect();
        breakdown(out, "by kind", &kinds, t.total, false)?;
        let fn_total = t.by_kind.get("function").copied().unwrap_or(0);
        breakdown(out, "functions", &t.functions, fn_total, true)?;

        let f = &r.sections.failures;
        let rate = STYLE.rate(f.rate);
        let heading = format!(
            "Failures {} ({rate} of {} terminal steps)",
            num(f.total),
            num(f.terminal_steps)
        );
        let heading = if f.total > 0 {
            self.paint("1;31", &heading)
        } else {
            self.bold(&heading)
        };
        writeln!(out, "\n{heading}")?;
        breakdown(out, "by error code", &f.by_code, f.total, true)?;
        breakdown(out, "by assistant", &f.by_assistant, f.total, true)?;
        breakdown(out, "by step type", &f.by_step_type, f.total, true)?;
        breakdown(out, "by tool", &f.by_tool, f.total, true)?;
        if !f.top_messages.is_empty() {
            writeln!(out, "  top messages")?;
            let mut g = Grid::default();
            for m in &f.top_messages {
                let mut msg: String = m.message.chars().take(100).collect();
                if msg.len() < m.message.len() {
                    msg.push('…');
                }
                g.row([num(m.count), visible(&msg.replace(['\n', '\r'], " "))]);
            }
            // Count first, right-aligned: write by hand so the message column is not padded.
            let w = g.rows.iter().map(|r| r[0].len()).max().unwrap_or(0);
            for row in &g.rows {
                writeln!(out, "    {:>w$}  {}", row[0], row[1])?;
            }
        }

        let d = &r.sections.durations_seconds;
        writeln!(out, "\n{}", self.bold("Durations (seconds)"))?;
        let mut g = Grid::default();
        g.row(DURATION_HEAD.map(String::from));
        for row in cells::duration_rows(d) {
            g.row(STYLE.row(&row));
        }
        g.write(out, "  ")?;
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
            "Usage: {} steps with usage, {} without",
            num(u.steps_with_usage),
            num(u.steps_without_usage)
        );
        writeln!(out, "\n{}", self.bold(&heading))?;
        let mut g = Grid::default();
        for (k, v) in u.tokens() {
            g.row([format!("{k} tokens"), num(v)]);
        }
        g.write(out, "  ")?;
        if u.total_mismatch > 0 {
            writeln!(
                out,
                "  {} steps where total_tokens != prompt_tokens + completion_tokens",
                num(u.total_mismatch)
            )?;
        }
        let (entries, rest) = cells::ranked(&u.by_assistant, TOP, |s| s.total_tokens);
        if !entries.is_empty() {
            writeln!(out, "  by assistant (most total tokens first)")?;
            let mut g = Grid::default();
            let mut head = vec!["assistant".to_string(), "steps".to_string()];
            head.extend(u.tokens().map(|(k, _)| k.to_string()));
            g.row(head);
            for (k, s) in entries {
                let mut row = vec![visible(k), num(s.steps_with_usage)];
                row.extend(s.tokens().map(num));
                g.row(row);
            }
            g.write(out, "    ")?;
            more(out, rest)?;
        }

        if let Some(c) = &r.cost {
            let heading = format!("Cost {}", cells::cost_heading(c));
            writeln!(out, "\n{}", self.bold(&heading))?;
            writeln!(out, "  {}", cells::cost_sentence(c, &STYLE))?;
            if let Some(s) = cells::unpriced_sentence(c, &STYLE) {
                writeln!(out, "  {s}")?;
            }
            for n in &c.notes {
                writeln!(out, "  note: {}", visible(n))?;
            }
            if !c.by_model.is_empty() {
                let mut g = Grid::default();
                g.row(COST_MODEL_HEAD.map(String::from));
                for row in cells::cost_model_rows(c) {
                    g.row(STYLE.row(&row));
                }
                g.write(out, "  ")?;
            }
            let (rows, rest) = cells::cost_assistant_rows(c, TOP);
            if !rows.is_empty() {
                writeln!(out, "  by assistant (costliest first)")?;
                let mut g = Grid::default();
                for row in rows {
                    g.row(STYLE.row(&row));
                }
                g.write(out, "    ")?;
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
                writeln!(out, "  by outcome (last step): {}", outcomes.join(" · "))?;
            }
            if runs.steps_without_run > 0 {
                writeln!(
                    out,
                    "  {} steps without a run_id",
                    num(runs.steps_without_run)
                )?;
            }
            if let Some(t) = &r.threads {
                writeln!(out, "  threads {}", num(t.total))?;
            }
            let mut g = Grid::default();
            g.row(SPREAD_HEAD.map(String::from));
            for row in cells::spread_rows(runs, r.threads.as_ref()) {
                g.row(STYLE.row(&row));
            }
            g.write(out, "  ")?;
        }
        for (title, figure, list) in cells::exemplar_lists(r) {
            writeln!(out, "\n{}", self.bold(title))?;
            let mut g = Grid {
                text_from: Some(1),
                ..Grid::default()
            };
            let mut head = vec![figure.to_string()];
            head.extend(EXEMPLAR_HEAD.map(String::from));
            g.row(head);
            for e in list {
                g.row(STYLE.row(&cells::exemplar_row(e)));
            }
            g.write(out, "  ")?;
        }

        if i.counts.malformed > 0 {
            let reasons: Vec<String> = i
                .malformed_by_reason
                .iter()
                .filter(|(_, n)| **n > 0)
                .map(|(k, n)| format!("{k} {}", num(*n)))
                .collect();
            writeln!(
                out,
                "\nMalformed lines {} ({})",
                num(i.counts.malformed),
                reasons.join(", ")
            )?;
            for m in &i.malformed_examples {
                writeln!(
                    out,
                    "  {}:{}: {}: {}",
                    visible(&m.file),
                    m.line,
                    m.reason,
                    visible(&m.message)
                )?;
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
            writeln!(
                out,
                "\n{} ({})",
                self.bold(&format!("By {}", r.group_by.join(", "))),
                cells::groups_note(r, &STYLE)
            )?;
            let mut g = Grid::default();
            let mut head: Vec<String> = r.group_by.clone();
            head.extend(cells::group_head(r, true));
            g.row(head);
            for row in cells::group_rows(r) {
                g.row(STYLE.row(&row));
            }
            g.write(out, "  ")?;
        }
        if !r.hints.is_empty() {
            writeln!(out)?;
            for h in &r.hints {
                writeln!(out, "{} {}", self.paint("33", "hint:"), visible(h))?;
            }
        }
        Ok(())
    }
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
