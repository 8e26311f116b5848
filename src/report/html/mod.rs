//! `--format html`: one self-contained page (inline CSS, inline SVG, no script, nothing
//! fetched from the network) with four charts: steps by status, the duration distribution
//! per terminal status, failures by error code over time, and tokens over time (and a
//! fifth, cost over time, when costs are kept); then the figures as tables.

mod chart;

use super::cells::{self, Style, DURATION_HEAD, SPREAD_HEAD};
use super::{Format, Report};
use chart::{columns, duration_chart, hbars, status_color, PALETTE};
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::{self, Write};

/// The HTML renderer.
#[derive(Debug, Clone, Copy, Default)]
pub struct Html {
    /// When the page is made (Unix seconds), shown under the title; left out when `None`.
    pub generated_at: Option<i64>,
}

/// Numbers grouped in thousands, `–` for a missing value, values escaped.
const STYLE: Style = Style {
    missing: "–",
    thousands: true,
    value: esc,
    text: esc,
};

/// Rows of cells as table rows.
fn rows(rows: &[Vec<String>]) -> String {
    let mut s = String::new();
    for r in rows {
        s.push_str("<tr>");
        for c in r {
            let _ = write!(s, "<td>{c}</td>");
        }
        s.push_str("</tr>");
    }
    s
}

/// A header row.
fn head<'a>(cells: impl IntoIterator<Item = &'a str>) -> String {
    let mut s = String::from("<tr>");
    for c in cells {
        let _ = write!(s, "<th>{}</th>", esc(c));
    }
    s.push_str("</tr>");
    s
}

/// Escapes text for HTML and SVG.
fn esc(s: &str) -> String {
    super::escape::html(s)
}

fn num(n: u64) -> String {
    STYLE.count(n)
}

/// A breakdown's entries, largest first (ties by name), coloured from `colors` in turn.
fn ranked_bars(
    map: &BTreeMap<String, u64>,
    colors: &[&'static str],
) -> Vec<(String, u64, &'static str)> {
    let (top, rest) = cells::ranked(map, 12, |n| *n);
    let mut bars: Vec<(String, u64, &str)> = top
        .iter()
        .enumerate()
        .map(|(i, (k, n))| ((*k).clone(), **n, colors[i % colors.len()]))
        .collect();
    if rest > 0 {
        let others = map.values().sum::<u64>() - bars.iter().map(|b| b.1).sum::<u64>();
        bars.push((format!("{rest} others"), others, "#9c9c9c"));
    }
    bars
}

fn map_table(title: &str, map: &BTreeMap<String, u64>) -> String {
    if map.is_empty() {
        return String::new();
    }
    let (top, rest) = cells::ranked(map, 20, |n| *n);
    let mut s = format!("<table>{}", head([title, "count"]));
    let body: Vec<Vec<String>> = top.iter().map(|(k, n)| vec![esc(k), num(**n)]).collect();
    s.push_str(&rows(&body));
    if rest > 0 {
        let _ = write!(s, "<tr><td colspan=2>…and {rest} more</td></tr>");
    }
    s.push_str("</table>");
    s
}

/// Light by default, dark when the reader's system prefers it; the charts take their
/// text and rule colours from here.
const CSS: &str = ":root{color-scheme:light dark;--fg:#222;--bg:#fff;--muted:#666;--rule:#ddd;--hint:#fff6d6}\
@media (prefers-color-scheme:dark){:root{--fg:#e4e4e4;--bg:#17191e;--muted:#a0a0a0;--rule:#3a3d44;--hint:#3b3319}}\
body{font:14px/1.4 system-ui,-apple-system,'Segoe UI',sans-serif;margin:24px;color:var(--fg);background:var(--bg);max-width:1500px}\
h1{font-size:22px;margin-bottom:2px}h2{font-size:17px;margin-top:28px;border-bottom:1px solid var(--rule)}\
.meta{color:var(--muted);margin-top:0}\
figure{margin:12px 0}figcaption{font-weight:600;margin-bottom:4px}\
svg{max-width:100%;height:auto}svg text{font-size:12px;fill:var(--fg)}svg .axis{fill:var(--muted);font-size:11px}svg .rule{stroke:var(--rule)}\
.grid{display:grid;grid-template-columns:repeat(auto-fit,minmax(480px,1fr));gap:8px}.grid svg{width:100%;height:auto}\
.cards{display:flex;gap:12px;flex-wrap:wrap}.card{border:1px solid var(--rule);border-radius:6px;padding:8px 14px}\
.card b{display:block;font-size:20px}table{border-collapse:collapse;margin:8px 16px 8px 0;display:inline-table;vertical-align:top}\
td,th{border:1px solid var(--rule);padding:3px 8px;text-align:right}td:first-child,th:first-child{text-align:left}\
.hint{background:var(--hint);border:1px solid #efb118;padding:6px 10px}\
table.x td{white-space:nowrap}table.x td:not(:first-child),table.x th:not(:first-child){text-align:left}\
table.x td:last-child{white-space:normal}";

impl Format for Html {
    fn render(&self, r: &Report, out: &mut dyn Write) -> io::Result<()> {
        let i = &r.input;
        let mut s = String::new();
        let _ = write!(
            s,
            "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><title>steplog summary</title><style>{CSS}</style></head><body>"
        );
        let names: Vec<String> = i.files.iter().map(|f| esc(&f.path)).collect();
        let _ = write!(
            s,
            "<h1>steplog summary</h1><p class=meta>{}",
            names.join(", ")
        );
        if let Some(t) = self.generated_at {
            let _ = write!(s, " · made {}", esc(&super::format_utc(t)));
        }
        s.push_str("</p>");
        if let (Some(a), Some(b)) = (
            &r.sections.time_range.first_created_at_utc,
            &r.sections.time_range.last_created_at_utc,
        ) {
            let line = super::words::say(r, "Steps created from");
            let _ = write!(s, "<p>{line} {} to {}.</p>", esc(a), esc(b));
        }
        if let Some(w) = &i.window {
            let _ = write!(s, "<p>Window: {}.", esc(&w.text()));
            if let Some(o) = &i.outside_window {
                let _ = write!(
                    s,
                    " {} records outside it, created {} … {}.",
                    num(i.filtered_out),
                    esc(o.first_created_at_utc.as_deref().unwrap_or("?")),
                    esc(o.last_created_at_utc.as_deref().unwrap_or("?"))
                );
            }
            s.push_str("</p>");
        }
        let rate = STYLE.rate(r.sections.failures.rate);
        let _ = write!(
            s,
            "<div class=cards><div class=card>{}<b>{}</b></div><div class=card>failed<b>{}</b></div><div class=card>failure rate<b>{rate}</b></div><div class=card>p50 completed<b>{}</b></div><div class=card>p99 completed<b>{}</b></div><div class=card>total tokens<b>{}</b></div><div class=card>lines<b>{}</b></div><div class=card>malformed<b>{}</b></div></div>",
            r.sections.steps.noun(),
            num(r.sections.steps.total),
            num(r.sections.failures.total),
            r.sections.durations_seconds.completed.p50.map_or_else(|| "–".into(), |v| format!("{v} s")),
            r.sections.durations_seconds.completed.p99.map_or_else(|| "–".into(), |v| format!("{v} s")),
            num(r.sections.usage.total_tokens),
            num(i.counts.lines),
            num(i.counts.malformed),
        );
        if let Some(c) = &r.cost {
            // The cards' row, closed above, gains the cost (and the unpriced steps).
            s.truncate(s.len() - "</div>".len());
            let _ = write!(
                s,
                "<div class=card>cost<b>{}</b></div>",
                cells::cost_heading(c)
            );
            if c.unpriced.steps > 0 {
                let _ = write!(
                    s,
                    "<div class=card>unpriced {}<b>{}</b></div>",
                    r.sections.steps.noun(),
                    num(c.unpriced.steps)
                );
            }
            s.push_str("</div>");
        }
        for h in &r.hints {
            let _ = write!(s, "<p class=hint>{}</p>", esc(h));
        }
        // Groups, when asked for, are the answer: first, where the reader looks.
        if !r.groups.is_empty() {
            let figures = cells::group_head(r, false);
            let dims = r
                .group_by
                .iter()
                .map(String::as_str)
                .chain(figures.iter().map(String::as_str));
            let groups: Vec<Vec<String>> = cells::group_rows(r)
                .iter()
                .map(|row| STYLE.row(row))
                .collect();
            let _ = write!(
                s,
                "<h2>By {}</h2><p>{}.</p><table>{}{}</table>",
                esc(&r.group_by.join(", ")),
                esc(&cells::groups_note(r, &STYLE)),
                head(dims),
                rows(&groups)
            );
        }

        let _ = write!(
            s,
            "<h2>{}</h2>",
            esc(format!(
                "{} {}",
                r.sections.steps.title(),
                r.sections.steps.split(num)
            )
            .trim_end())
        );
        if !r.sections.steps.by_api.is_empty() {
            let by_api: Vec<(String, u64, &str)> = r
                .sections
                .steps
                .by_api
                .iter()
                .zip(PALETTE.iter())
                .map(|((k, v), c)| (k.clone(), *v, *c))
                .collect();
            s.push_str(&hbars("Records by API", &by_api));
        }
        let mut by_status: Vec<(String, u64, &str)> = r
            .sections
            .steps
            .by_status
            .iter()
            .map(|(k, v)| (k.clone(), *v, status_color(k)))
            .collect();
        by_status.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        s.push_str(&hbars(&super::words::say(r, "Steps by status"), &by_status));
        let steps = &r.sections.steps;
        s.push_str(&hbars(
            &super::words::say(r, "Steps by type"),
            &ranked_bars(&steps.by_type, &PALETTE),
        ));
        let tools = &r.sections.tool_calls;
        if tools.total > 0 {
            let _ = write!(
                s,
                "<h2>Tool calls</h2><p>{} tool calls.</p>",
                num(tools.total)
            );
            let kinds: BTreeMap<String, u64> = tools
                .by_kind
                .iter()
                .filter(|(_, n)| **n > 0)
                .map(|(k, n)| (k.clone(), *n))
                .collect();
            s.push_str(&hbars("Tool calls by kind", &ranked_bars(&kinds, &PALETTE)));
            if !tools.functions.is_empty() {
                s.push_str(&hbars(
                    "Function calls by name",
                    &ranked_bars(&tools.functions, &PALETTE[..1]),
                ));
            }
            if !tools.mcp.is_empty() {
                s.push_str(&hbars(
                    "MCP calls by server and tool",
                    &ranked_bars(&tools.mcp, &PALETTE[1..2]),
                ));
            }
        }

        s.push_str("<h2>Durations</h2>");
        s.push_str(&duration_chart(&r.sections.durations_seconds, |t| {
            super::words::say(r, t)
        }));
        let durations: Vec<Vec<String>> = cells::duration_rows(&r.sections.durations_seconds)
            .iter()
            .map(|row| row.iter().map(|c| STYLE.cell(c)).collect())
            .collect();
        let _ = write!(
            s,
            "<table>{}{}</table>",
            head(DURATION_HEAD),
            rows(&durations)
        );

        let ts = &r.sections.time_series;
        let labels: Vec<String> = ts
            .buckets
            .iter()
            .map(|b| {
                if ts.interval == "day" {
                    b.start_utc[..10].to_string()
                } else {
                    b.start_utc[..13].replace('T', " ") + "h"
                }
            })
            .collect();
        s.push_str("<h2>Failures</h2>");
        let mut code_totals: Vec<(&String, &u64)> = r.sections.failures.by_code.iter().collect();
        code_totals.sort_by(|a, b| b.1.cmp(a.1).then_with(|| a.0.cmp(b.0)));
        let top: Vec<&String> = code_totals
            .iter()
            .take(PALETTE.len() - 1)
            .map(|c| c.0)
            .collect();
        let mut layers: Vec<(String, Vec<u64>, &str)> = top
            .iter()
            .enumerate()
            .map(|(k, code)| {
                let v = ts
                    .buckets
                    .iter()
                    .map(|b| b.failures_by_code.get(*code).copied().unwrap_or(0))
                    .collect();
                ((*code).clone(), v, PALETTE[k])
            })
            .collect();
        if code_totals.len() > top.len() {
            let v = ts
                .buckets
                .iter()
                .map(|b| {
                    b.failures_by_code
                        .iter()
                        .filter(|(c, _)| !top.contains(c))
                        .map(|(_, n)| n)
                        .sum()
                })
                .collect();
            layers.push(("other codes".into(), v, PALETTE[PALETTE.len() - 1]));
        }
        s.push_str(&columns(
            &super::words::say(
                r,
                &format!("Failed steps per {} by error code", ts.interval),
            ),
            &labels,
            &layers,
            &super::words::say(r, "failed steps"),
        ));
        s.push_str(&map_table("error code", &r.sections.failures.by_code));
        s.push_str(&map_table("assistant", &r.sections.failures.by_assistant));
        s.push_str(&map_table("tool", &r.sections.failures.by_tool));
        s.push_str(&map_table("step type", &r.sections.failures.by_step_type));
        if !r.sections.failures.top_messages.is_empty() {
            s.push_str("<table><tr><th>message</th><th>count</th></tr>");
            for m in &r.sections.failures.top_messages {
                let text: String = m.message.chars().take(160).collect();
                let _ = write!(
                    s,
                    "<tr><td>{}</td><td>{}</td></tr>",
                    esc(&text),
                    num(m.count)
                );
            }
            s.push_str("</table>");
        }

        s.push_str("<h2>Tokens</h2>");
        let tokens =
            |f: fn(&super::TimeBucket) -> u64| ts.buckets.iter().map(f).collect::<Vec<u64>>();
        s.push_str(&columns(
            &format!("Tokens per {}", ts.interval),
            &labels,
            &[
                ("prompt".into(), tokens(|b| b.prompt_tokens), PALETTE[0]),
                (
                    "completion".into(),
                    tokens(|b| b.completion_tokens),
                    PALETTE[1],
                ),
            ],
            "tokens",
        ));
        let sums: Vec<Vec<String>> = r
            .sections
            .usage
            .tokens()
            .iter()
            .map(|(k, n)| vec![k.to_string(), num(*n)])
            .collect();
        let _ = write!(
            s,
            "<table>{}{}</table>",
            head(["tokens", "sum"]),
            rows(&sums)
        );
        let usage = &r.sections.usage;
        let (assistants, rest) = cells::ranked(&usage.by_assistant, 20, |u| u.total_tokens);
        if !assistants.is_empty() {
            let mut heading = vec!["assistant".to_string(), r.sections.steps.noun().to_string()];
            heading.extend(usage.tokens().map(|(k, _)| k.to_string()));
            let mut body: Vec<Vec<String>> = assistants
                .iter()
                .map(|(k, u)| {
                    let mut row = vec![esc(k), num(u.steps_with_usage)];
                    row.extend(u.tokens().map(num));
                    row
                })
                .collect();
            if rest > 0 {
                body.push(vec![format!("…and {rest} more")]);
            }
            let _ = write!(
                s,
                "<table>{}{}</table>",
                head(heading.iter().map(String::as_str)),
                rows(&body)
            );
        }

        if let Some(c) = &r.cost {
            s.push_str("<h2>Cost</h2>");
            let priced = !c.by_model.is_empty();
            let cents: Vec<u64> = ts
                .buckets
                .iter()
                .map(|b| {
                    let pico = b.cost_usd.map_or(0, |u| u.0);
                    u64::try_from(pico / (super::Usd::PER_DOLLAR / 100)).unwrap_or(u64::MAX)
                })
                .collect();
            // Whole dollars once a bucket passes $100 (an axis of 150k cents reads badly).
            let dollars = cents.iter().any(|&c| c >= 10_000);
            let (values, unit) = match dollars {
                true => (cents.iter().map(|c| c / 100).collect(), "US dollars"),
                false => (cents, "US cents"),
            };
            if priced {
                s.push_str(&columns(
                    &super::words::say(
                        r,
                        &format!("Cost per {} ({unit}, priced steps)", ts.interval),
                    ),
                    &labels,
                    &[("cost".into(), values, PALETTE[0])],
                    if dollars { "dollars" } else { "cents" },
                ));
            }
            let _ = write!(s, "<p>{}</p>", esc(&cells::cost_sentence(r, c, &STYLE)));
            if let Some(u) = cells::unpriced_sentence(r, c, &STYLE) {
                let _ = write!(s, "<p class=hint>{u}</p>");
            }
            if let Some(f) = cells::tool_fees_sentence(c, &STYLE) {
                let _ = write!(s, "<p>{}</p>", esc(&f));
            }
            for n in &c.notes {
                let _ = write!(s, "<p>Note: {}</p>", esc(n));
            }
            let models: Vec<Vec<String>> = cells::cost_model_rows(c)
                .iter()
                .map(|row| STYLE.row(row))
                .collect();
            let (assistants, _) = cells::cost_assistant_rows(c, usize::MAX);
            let assistants: Vec<Vec<String>> =
                assistants.iter().map(|row| STYLE.row(row)).collect();
            if priced {
                let _ = write!(
                    s,
                    "<table>{}{}</table><table>{}{}</table>",
                    head(super::words::cost_model_head(r).iter().map(String::as_str)),
                    rows(&models),
                    head(["assistant", "cost"]),
                    rows(&assistants)
                );
            }
        }

        if let Some(runs) = &r.runs {
            let outcomes: Vec<String> = runs
                .by_outcome
                .iter()
                .map(|(k, n)| format!("{} {}", num(*n), esc(k)))
                .collect();
            let threads = r.threads.as_ref().map_or_else(String::new, |t| {
                format!(" {} {}.", num(t.total), super::words::thread_noun(r).1)
            });
            let spread: Vec<Vec<String>> = cells::spread_rows(r, runs, r.threads.as_ref())
                .iter()
                .map(|row| STYLE.row(row))
                .collect();
            let _ = write!(
                s,
                "<h2>Runs</h2><p>{} runs; {} {}.{threads}</p><table>{}{}</table>",
                num(runs.total),
                super::words::say(r, "by outcome (the status of the last step):"),
                outcomes.join(", "),
                head(SPREAD_HEAD),
                rows(&spread)
            );
        }
        for (title, figure, list) in cells::exemplar_lists(r) {
            let list: Vec<Vec<String>> = list
                .iter()
                .map(|e| STYLE.row(&cells::exemplar_row(e)))
                .collect();
            let _ = write!(
                s,
                "<h2>{title}</h2><table class=x>{}{}</table>",
                head(
                    std::iter::once(figure)
                        .chain(super::words::exemplar_head(r).iter().map(String::as_str))
                ),
                rows(&list)
            );
        }

        let kinds: Vec<String> = i
            .counts
            .kinds()
            .iter()
            .map(|(k, n)| format!("{} {k}", num(*n)))
            .collect();
        let _ = write!(
            s,
            "<h2>Input</h2><p>{}, {} lines: {}.</p>",
            esc(&super::binary_bytes(i.bytes)),
            num(i.counts.lines),
            kinds.join(", ")
        );
        if !i.malformed_examples.is_empty() {
            s.push_str("<table><tr><th>line</th><th>reason</th><th>message</th></tr>");
            for m in &i.malformed_examples {
                let _ = write!(
                    s,
                    "<tr><td>{}:{}</td><td>{}</td><td>{}</td></tr>",
                    esc(&m.file),
                    m.line,
                    esc(&m.reason),
                    esc(&m.message)
                );
            }
            s.push_str("</table>");
        }
        s.push_str("</body></html>\n");
        out.write_all(s.as_bytes())
    }
}
