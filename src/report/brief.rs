//! The default table: one screen (under 40 lines at 80 columns, whatever the input) that
//! answers what ran, what failed and why, how long it took and what it cost, with the
//! runs behind the answers by their ids, whole, ready to paste into `steplog find`. What
//! it leaves out is named in one line with the flag that shows it (`--full`, or another
//! format: every other format holds everything).

use super::cells::{self, Style};
use super::escape::visible;
use super::grid::Grid;
use super::runs::Exemplar;
use super::table::Table;
use super::Report;
use std::io::{self, Write};

/// Plain text: numbers grouped in thousands, `-` for a missing value.
const STYLE: Style = Style {
    missing: "-",
    thousands: true,
    value: visible,
    text: visible,
};

/// Rows of each list at most: failure codes, runs behind a figure; groups.
const ROWS: usize = 3;
const GROUP_ROWS: usize = 6;

fn num(n: u64) -> String {
    STYLE.count(n)
}

/// `1 thread`, `2 threads`.
fn plural(n: u64, one: &str, many: &str) -> String {
    format!("{} {}", num(n), if n == 1 { one } else { many })
}

/// Seconds as people read a duration: `42s`, `3m05s`, `2h07m`.
pub(super) fn duration(s: u64) -> String {
    match s {
        0..=59 => format!("{s}s"),
        60..=3599 => format!("{}m{:02}s", s / 60, s % 60),
        _ => format!("{}h{:02}m", s / 3600, s % 3600 / 60),
    }
}

/// The most lines the report takes: a terminal of 80×24 shows it in two screens at
/// most, a larger one in one.
const LINES: usize = 40;

/// The one-screen report: with three runs behind each figure, or fewer when the notes
/// and the width take more lines than usual.
pub(super) fn render(t: &Table, r: &Report, out: &mut dyn Write) -> io::Result<()> {
    let mut text = Vec::new();
    for rows in (1..=ROWS).rev() {
        text.clear();
        header(t, r, &mut text)?;
        if !r.groups.is_empty() {
            groups(t, r, &mut text)?;
        }
        headline(t, r, &mut text)?;
        failure_codes(t, r, &mut text)?;
        behind(t, r, rows, &mut text)?;
        footer(t, r, &mut text)?;
        if text.iter().filter(|&&b| b == b'\n').count() <= LINES {
            break;
        }
    }
    out.write_all(&text)
}

/// What was read, in two or three lines.
fn header(t: &Table, r: &Report, out: &mut dyn Write) -> io::Result<()> {
    let i = &r.input;
    let inputs = match i.files.len() {
        1 => visible(&i.files[0].path),
        n => format!("{n} inputs"),
    };
    let title = format!(
        "steplog summary of {inputs}: {}",
        super::binary_bytes(i.bytes)
    );
    writeln!(out, "{}", t.bold(&title))?;
    let c = &i.counts;
    let s = &r.sections.steps;
    let mut read = vec![plural(c.lines, "line", "lines")];
    read.push(match &r.dedup {
        Some(d) => format!(
            "{} snapshots → {} {} (--dedup)",
            num(d.snapshots),
            num(d.steps),
            s.noun()
        ),
        None => plural(c.records, s.noun1(), s.noun()),
    });
    if s.undated > 0 {
        read.push(format!(
            "{} (failed batch requests, no created_at)",
            plural(s.undated, "undated", "undated")
        ));
    }
    if c.runs > 0 {
        read.push(plural(c.runs, "run object", "run objects"));
    }
    read.push(format!("{} malformed", num(c.malformed)));
    t.prose(out, "  ", &read.join(" · "))?;
    if let Some(w) = &i.window {
        writeln!(out, "  window   {}", w.text())?;
    }
    if let Some(line) = cells::left_out(i, &STYLE) {
        t.prose(out, "  ", &line)?;
    }
    let range = &r.sections.time_range;
    if let (Some(a), Some(b)) = (&range.first_created_at_utc, &range.last_created_at_utc) {
        writeln!(out, "  created {a} … {b}")?;
    }
    Ok(())
}

/// The groups first, when asked for: the largest few.
fn groups(t: &Table, r: &Report, out: &mut dyn Write) -> io::Result<()> {
    writeln!(out)?;
    let heading = t.bold(&format!("By {}", r.group_by.join(", ")));
    let order = match r.groups_sorted_by.as_str() {
        "key" => "in key order".to_string(),
        s => super::words::say(r, &format!("by {}", s.replace('_', " "))),
    };
    let note = format!("({}, {order})", plural(r.groups_total, "group", "groups"));
    t.prose(out, "", &format!("{heading} {note}"))?;
    let d = r.group_by.len();
    let mut g = Grid::default().optional(&[d + 3, d + 5, d + 1]);
    let mut head: Vec<String> = r.group_by.clone();
    head.extend(cells::group_head(r, true));
    g.row(head);
    let rows = cells::group_rows(r);
    let shown = rows.len().min(GROUP_ROWS);
    for row in rows.into_iter().take(GROUP_ROWS) {
        g.row(STYLE.row(&row));
    }
    g.write(out, "  ", t.width)?;
    let total = usize::try_from(r.groups_total).unwrap_or(usize::MAX);
    if total > shown {
        writeln!(
            out,
            "  … {} more groups: --full",
            num((total - shown) as u64)
        )?;
    }
    Ok(())
}

/// Steps, failures, durations, tokens, cost and runs: a line or two each.
fn headline(t: &Table, r: &Report, out: &mut dyn Write) -> io::Result<()> {
    let s = &r.sections;
    writeln!(out)?;
    let f = &s.failures;
    let failed = match f.rate {
        Some(rate) => format!(
            "{} failed ({:.2}% of {} that ended)",
            num(f.total),
            rate * 100.0,
            num(f.terminal_steps)
        ),
        None => "none ended".to_string(),
    };
    let steps = format!("{} {}", s.steps.title(), num(s.steps.total));
    let split = match s.steps.split(num) {
        x if x.is_empty() => x,
        x => format!(" {x}"),
    };
    t.prose(out, "", &format!("{}{split} · {failed}", t.bold(&steps)))?;
    let d = &s.durations_seconds.completed;
    if let (Some(p50), Some(p95), Some(p99), Some(max)) = (d.p50, d.p95, d.p99, d.max) {
        let line = format!(
            "completed in p50 {} · p95 {} · p99 {} · max {}",
            duration(p50),
            duration(p95),
            duration(p99),
            duration(max)
        );
        t.prose(out, "  ", &line)?;
    }
    let u = &s.usage;
    if u.steps_with_usage > 0 {
        let line = format!(
            "{} {} (prompt {} · completion {})",
            t.bold("Tokens"),
            num(u.total_tokens),
            num(u.prompt_tokens),
            num(u.completion_tokens)
        );
        t.prose(out, "", &line)?;
    }
    if let Some(c) = &r.cost {
        let models = c.by_model.len();
        let on = match models {
            0 => String::new(),
            1 => " on 1 model".to_string(),
            n => format!(" on {n} models"),
        };
        let line = format!("{} {}{on}", t.bold("Cost"), cells::cost_heading(c));
        t.prose(out, "", &line)?;
        if let Some(f) = &c.tool_fees {
            let priced: u64 = f
                .by_kind
                .values()
                .filter(|k| k.usd.is_some())
                .map(|k| k.calls)
                .sum();
            let mut line = format!(
                "tool fees {} for {} (apart)",
                f.usd.display(),
                plural(priced, "call", "calls")
            );
            if f.unpriced_calls > 0 {
                line.push_str(&format!(
                    " · {} unpriced",
                    plural(f.unpriced_calls, "call", "calls")
                ));
            }
            t.prose(out, "  ", &line)?;
        }
        let u = &c.unpriced;
        if u.steps > 0 {
            let mut why = Vec::new();
            if let Some(n) = u.by_reason.get("no_model").filter(|n| n.steps > 0) {
                why.push(format!(
                    "{} without a model (add the runs file or --default-model)",
                    num(n.steps)
                ));
            }
            if let Some(n) = u.by_reason.get("unknown_model").filter(|n| n.steps > 0) {
                why.push(format!("{} on unknown models (--prices)", num(n.steps)));
            }
            let line = format!(
                "{} unpriced: {}",
                plural(
                    u.steps,
                    &format!("{} with usage", s.steps.noun1()),
                    &format!("{} with usage", s.steps.noun())
                ),
                why.join(", ")
            );
            t.prose(out, "  ", &line)?;
        }
    }
    if let Some(runs) = &r.runs {
        let (top, rest) = cells::ranked(&runs.by_outcome, 3, |n| *n);
        let shown: u64 = top.iter().map(|(_, n)| **n).sum();
        let mut outcomes: Vec<String> = top
            .into_iter()
            .map(|(k, n)| format!("{} {}", visible(k), num(*n)))
            .collect();
        if rest > 0 {
            outcomes.push(format!("other {}", num(runs.total.saturating_sub(shown))));
        }
        let mut line = format!("{} {}", t.bold("Runs"), num(runs.total));
        if !outcomes.is_empty() {
            line = format!("{line}: {}", outcomes.join(" · "));
        }
        t.prose(out, "", &line)?;
        let mut more = Vec::new();
        if let (Some(p50), Some(p90)) = (runs.span_seconds.p50, runs.span_seconds.p90) {
            more.push(format!(
                "span p50 {} · p90 {}",
                duration(p50),
                duration(p90)
            ));
        }
        // Responses without a conversation have none to count.
        if let Some(th) = r
            .threads
            .as_ref()
            .filter(|t| t.total > 0 || s.steps.noun() == "steps")
        {
            let (one, many) = super::words::thread_noun(r);
            more.push(plural(th.total, one, many));
        }
        if !more.is_empty() {
            t.prose(out, "  ", &more.join(" · "))?;
        }
    }
    Ok(())
}

/// The commonest error codes.
fn failure_codes(t: &Table, r: &Report, out: &mut dyn Write) -> io::Result<()> {
    let f = &r.sections.failures;
    if f.by_code.is_empty() {
        return Ok(());
    }
    writeln!(out)?;
    let (top, rest) = cells::ranked(&f.by_code, ROWS, |n| *n);
    let title = t.bold("Failures by code");
    match rest {
        0 => writeln!(out, "{title}")?,
        _ => writeln!(
            out,
            "{title} (the first {} of {}: --full)",
            top.len(),
            top.len() + rest
        )?,
    }
    let mut g = Grid::default();
    for (code, n) in top {
        let share = format!("{:.1}%", *n as f64 * 100.0 / f.total.max(1) as f64);
        g.row([visible(code), num(*n), share]);
    }
    g.write(out, "  ", t.width)
}

/// The runs behind the figures: the slowest, those with the most tokens, the latest
/// failures (only these, and fewer, under the groups); each by its run id (or step id,
/// for a step without a run), never cut: where it is goes first when the width is short.
fn behind(t: &Table, r: &Report, rows: usize, out: &mut dyn Write) -> io::Result<()> {
    let Some(e) = &r.exemplars else {
        return Ok(());
    };
    let grouped = !r.groups.is_empty();
    let lists: [(&str, &str, &[Exemplar]); 3] = [
        ("Slowest runs", "span", &e.slowest_runs),
        cells::costliest_title(e),
        ("Latest failures", "created", &e.recent_failures),
    ];
    let rows = if grouped { rows.min(ROWS - 1) } else { rows };
    for (title, figure, list) in lists {
        if list.is_empty() || (grouped && figure != "created") {
            continue;
        }
        writeln!(out)?;
        writeln!(out, "{}", t.bold(title))?;
        let failures = figure == "created";
        let mut g = Grid::with_text_from(1).fixed(&[0, 1, 2, 3]);
        g = if failures {
            g.optional(&[3, 2])
        } else {
            g.optional(&[2]).number_first()
        };
        let mut head = vec![figure.to_string(), "run".to_string()];
        if failures {
            head.push("code".into());
        }
        head.push("where".into());
        g.row(head);
        for x in list.iter().take(rows) {
            let id = x.run_id.clone().unwrap_or_else(|| x.id.clone());
            let place = format!("{}:{}", visible(&x.file), x.line);
            let value = u64::try_from(x.value).unwrap_or(0);
            let figure = match x.figure.as_str() {
                "created_at" => x.created_at_utc.clone(),
                "cost_usd" => x.cost_usd.map_or_else(String::new, |u| u.display()),
                "span_seconds" | "duration_seconds" => duration(value),
                _ => num(value),
            };
            let mut row = vec![figure, visible(&id)];
            if failures {
                row.push(visible(x.code.as_deref().unwrap_or("-")));
            }
            row.push(place);
            g.row(row);
        }
        g.write(out, "  ", t.width)?;
    }
    Ok(())
}

/// What was left out and how to see it; the notes.
fn footer(t: &Table, r: &Report, out: &mut dyn Write) -> io::Result<()> {
    writeln!(out)?;
    let mut left = vec!["statuses, tools", "failure details", "durations by status"];
    if !r.sections.time_series.buckets.is_empty() {
        left.push("time series");
    }
    let slowest = format!("slowest {}", r.sections.steps.noun());
    left.extend(["cost by model", "run spreads", &slowest]);
    if r.input.counts.malformed > 0 {
        left.push("malformed lines");
    }
    let mut line = format!(
        "Also (--full, or -f json|html|markdown|csv): {}.",
        left.join(", ")
    );
    if r.exemplars.is_some() {
        line.push_str(match r.sections.steps.noun() {
            "steps" => " A run's steps: steplog find --where 'run == \"RUN\"' FILE",
            // A response's run column is its own id: find names one response, not its
            // chain.
            _ => " A run step's run, or a response: steplog find --where 'run == \"ID\"' FILE",
        });
    }
    t.prose(out, "", &line)?;
    const NOTES: usize = 2;
    for h in r.hints.iter().take(NOTES) {
        t.prose(out, "", &format!("{} {}", t.hint(), visible(h)))?;
    }
    if r.hints.len() > NOTES {
        writeln!(out, "… {} more notes: --full", r.hints.len() - NOTES)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::duration;

    #[test]
    fn durations_read_as_people_say_them() {
        assert_eq!(duration(0), "0s");
        assert_eq!(duration(59), "59s");
        assert_eq!(duration(60), "1m00s");
        assert_eq!(duration(3599), "59m59s");
        assert_eq!(duration(3600), "1h00m");
        assert_eq!(duration(7325), "2h02m");
    }
}
