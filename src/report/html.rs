//! `--format html`: one self-contained page (inline CSS, inline SVG, no script, nothing
//! fetched from the network) with four charts: steps by status, the duration distribution
//! per terminal status, failures by error code over time, and tokens over time (and a
//! fifth, cost over time, when costs are kept); then the figures as tables.

use super::cells::{
    self, Style, COST_MODEL_HEAD, DURATION_COMPACT, DURATION_HEAD, EXEMPLAR_HEAD, SPREAD_HEAD,
};
use super::{Format, Report};
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::{self, Write};

/// The HTML renderer.
#[derive(Debug, Clone, Copy, Default)]
pub struct Html;

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

const PALETTE: [&str; 8] = [
    "#4269d0", "#efb118", "#ff725c", "#6cc5b0", "#3ca951", "#ff8ab7", "#a463f2", "#97bbf5",
];

fn status_color(status: &str) -> &'static str {
    match status {
        "completed" => "#3ca951",
        "failed" => "#e8453c",
        "cancelled" => "#9c9c9c",
        "expired" => "#efb118",
        "in_progress" => "#4269d0",
        _ => "#a463f2",
    }
}

/// Escapes text for HTML and SVG.
fn esc(s: &str) -> String {
    super::escape::html(s)
}

fn num(n: u64) -> String {
    STYLE.count(n)
}

/// Compact axis numbers: 1.2k, 3.4M.
fn short(v: f64) -> String {
    let a = v.abs();
    if a >= 1e9 {
        format!("{:.1}G", v / 1e9)
    } else if a >= 1e6 {
        format!("{:.1}M", v / 1e6)
    } else if a >= 1e3 {
        format!("{:.1}k", v / 1e3)
    } else {
        format!("{v:.0}")
    }
}

/// Horizontal bars: one labelled bar per entry.
fn hbars(title: &str, entries: &[(String, u64, &str)]) -> String {
    let max = entries.iter().map(|e| e.1).max().unwrap_or(0).max(1) as f64;
    let (label_w, bar_w, row_h) = (150.0, 420.0, 26.0);
    let h = 40.0 + row_h * entries.len() as f64;
    let mut s = format!(
        r#"<figure><figcaption>{}</figcaption><svg role="img" viewBox="0 0 {w} {h}" width="{w}" height="{h}">"#,
        esc(title),
        w = label_w + bar_w + 110.0,
        h = h
    );
    for (i, (label, v, color)) in entries.iter().enumerate() {
        let y = 20.0 + row_h * i as f64;
        let w = (*v as f64 / max * bar_w).max(if *v > 0 { 1.0 } else { 0.0 });
        let _ = write!(
            s,
            r#"<text x="{lx}" y="{ty}" text-anchor="end">{label}</text><rect x="{x}" y="{y}" width="{w:.1}" height="18" fill="{color}"><title>{label}: {n}</title></rect><text x="{vx:.1}" y="{ty}">{n}</text>"#,
            lx = label_w - 8.0,
            ty = y + 14.0,
            label = esc(label),
            x = label_w,
            vx = label_w + w + 6.0,
            n = num(*v),
        );
    }
    s.push_str("</svg></figure>");
    s
}

/// Vertical (stacked) bars over time: one column per bucket, one layer per series.
fn columns(
    title: &str,
    labels: &[String],
    layers: &[(String, Vec<u64>, &str)],
    unit: &str,
) -> String {
    let n = labels.len().max(1);
    let totals: Vec<u64> = (0..labels.len())
        .map(|i| layers.iter().map(|l| l.1[i]).sum())
        .collect();
    let max = totals.iter().copied().max().unwrap_or(0).max(1) as f64;
    let (left, top, plot_w, plot_h) = (60.0, 16.0, 640.0, 220.0);
    let col_w = plot_w / n as f64;
    let legend_h = if layers.len() > 1 {
        22.0 * layers.len().div_ceil(3) as f64
    } else {
        0.0
    };
    let h = top + plot_h + 60.0 + legend_h;
    let mut s = format!(
        r#"<figure><figcaption>{}</figcaption><svg role="img" viewBox="0 0 {w} {h}" width="{w}" height="{h}">"#,
        esc(title),
        w = left + plot_w + 20.0,
    );
    for k in 0..=4 {
        let v = max * k as f64 / 4.0;
        let y = top + plot_h - plot_h * k as f64 / 4.0;
        let _ = write!(
            s,
            r##"<line x1="{left}" x2="{x2}" y1="{y:.1}" y2="{y:.1}" stroke="#ddd"/><text x="{tx}" y="{ty:.1}" text-anchor="end" class="axis">{v}</text>"##,
            x2 = left + plot_w,
            tx = left - 6.0,
            ty = y + 4.0,
            v = short(v),
        );
    }
    for (i, label) in labels.iter().enumerate() {
        let x = left + col_w * i as f64;
        let mut y = top + plot_h;
        for (name, values, color) in layers {
            let v = values[i];
            if v == 0 {
                continue;
            }
            let hgt = v as f64 / max * plot_h;
            y -= hgt;
            let _ = write!(
                s,
                r#"<rect x="{x:.1}" y="{y:.1}" width="{w:.1}" height="{hgt:.1}" fill="{color}"><title>{label} {name}: {v} {unit}</title></rect>"#,
                w = (col_w * 0.8).max(1.0),
                label = esc(label),
                name = esc(name),
                v = num(v),
            );
        }
        // Label every bucket when few, else about eight of them.
        let every = n.div_ceil(8).max(1);
        if i % every == 0 {
            let _ = write!(
                s,
                r#"<text x="{tx:.1}" y="{ty}" class="axis" text-anchor="middle">{l}</text>"#,
                tx = x + col_w * 0.4,
                ty = top + plot_h + 16.0,
                l = esc(label),
            );
        }
    }
    if layers.len() > 1 {
        for (k, (name, _, color)) in layers.iter().enumerate() {
            let x = left + 210.0 * (k % 3) as f64;
            let y = top + plot_h + 40.0 + 22.0 * (k / 3) as f64;
            let _ = write!(
                s,
                r#"<rect x="{x}" y="{y}" width="12" height="12" fill="{color}"/><text x="{tx}" y="{ty}">{n}</text>"#,
                tx = x + 18.0,
                ty = y + 11.0,
                n = esc(name),
            );
        }
    }
    if labels.is_empty() {
        let _ = write!(
            s,
            r#"<text x="{left}" y="{y}">no data</text>"#,
            y = top + 20.0
        );
    }
    s.push_str("</svg></figure>");
    s
}

/// The duration histogram of each terminal status, side by side on shared buckets.
fn duration_chart(d: &super::Durations) -> String {
    let statuses = [
        ("completed", &d.completed),
        ("failed", &d.failed),
        ("cancelled", &d.cancelled),
        ("expired", &d.expired),
    ];
    let labels: Vec<String> = d
        .completed
        .histogram
        .iter()
        .map(|b| {
            b.le.map_or_else(|| "longer".to_string(), |le| format!("≤{le}s"))
        })
        .collect();
    let mut s = String::from(
        r#"<figure><figcaption>Duration distribution per terminal status (steps per bucket; each status scaled to its own largest bucket)</figcaption><div class="grid">"#,
    );
    for (name, ds) in statuses {
        let values: Vec<u64> = ds.histogram.iter().map(|b| b.count).collect();
        let title = format!(
            "{name}: {} steps, p50 {}, p99 {}",
            num(ds.count),
            ds.p50.map_or_else(|| "–".into(), |v| format!("{v}s")),
            ds.p99.map_or_else(|| "–".into(), |v| format!("{v}s"))
        );
        s.push_str(&columns(
            &title,
            &labels,
            &[(name.to_string(), values, status_color(name))],
            "steps",
        ));
    }
    s.push_str("</div></figure>");
    s
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

const CSS: &str = "body{font:14px/1.4 system-ui,-apple-system,'Segoe UI',sans-serif;margin:24px;color:#222;max-width:1500px}\
h1{font-size:22px}h2{font-size:17px;margin-top:28px;border-bottom:1px solid #ddd}\
figure{margin:12px 0}figcaption{font-weight:600;margin-bottom:4px}\
svg text{font-size:12px;fill:#333}svg .axis{fill:#777;font-size:11px}\
.grid{display:grid;grid-template-columns:repeat(2,minmax(0,1fr));gap:8px}.grid svg{width:100%;height:auto}\
.cards{display:flex;gap:12px;flex-wrap:wrap}.card{border:1px solid #ddd;border-radius:6px;padding:8px 14px}\
.card b{display:block;font-size:20px}table{border-collapse:collapse;margin:8px 16px 8px 0;display:inline-table;vertical-align:top}\
td,th{border:1px solid #ddd;padding:3px 8px;text-align:right}td:first-child,th:first-child{text-align:left}\
.hint{background:#fff6d6;border:1px solid #efb118;padding:6px 10px}";

impl Format for Html {
    fn render(&self, r: &Report, out: &mut dyn Write) -> io::Result<()> {
        let i = &r.input;
        let mut s = String::new();
        let _ = write!(
            s,
            "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>steplog summary</title><style>{CSS}</style></head><body>"
        );
        let names: Vec<String> = i.files.iter().map(|f| esc(&f.path)).collect();
        let _ = write!(s, "<h1>steplog summary</h1><p>{}</p>", names.join(", "));
        if let (Some(a), Some(b)) = (
            &r.sections.time_range.first_created_at_utc,
            &r.sections.time_range.last_created_at_utc,
        ) {
            let _ = write!(s, "<p>Steps created from {} to {}.</p>", esc(a), esc(b));
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
            "<div class=cards><div class=card>steps<b>{}</b></div><div class=card>failed<b>{}</b></div><div class=card>failure rate<b>{rate}</b></div><div class=card>p50 completed<b>{}</b></div><div class=card>p99 completed<b>{}</b></div><div class=card>total tokens<b>{}</b></div><div class=card>lines<b>{}</b></div><div class=card>malformed<b>{}</b></div></div>",
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
                    "<div class=card>unpriced steps<b>{}</b></div>",
                    num(c.unpriced.steps)
                );
            }
            s.push_str("</div>");
        }
        for h in &r.hints {
            let _ = write!(s, "<p class=hint>{}</p>", esc(h));
        }

        s.push_str("<h2>Steps</h2>");
        let mut by_status: Vec<(String, u64, &str)> = r
            .sections
            .steps
            .by_status
            .iter()
            .map(|(k, v)| (k.clone(), *v, status_color(k)))
            .collect();
        by_status.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        s.push_str(&hbars("Steps by status", &by_status));

        s.push_str("<h2>Durations</h2>");
        s.push_str(&duration_chart(&r.sections.durations_seconds));
        let durations: Vec<Vec<String>> = cells::duration_rows(&r.sections.durations_seconds)
            .iter()
            .map(|row| DURATION_COMPACT.map(|c| STYLE.cell(&row[c])).to_vec())
            .collect();
        let _ = write!(
            s,
            "<table>{}{}</table>",
            head(DURATION_COMPACT.map(|c| DURATION_HEAD[c])),
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
            &format!("Failed steps per {} by error code", ts.interval),
            &labels,
            &layers,
            "failed steps",
        ));
        s.push_str(&map_table("error code", &r.sections.failures.by_code));
        s.push_str(&map_table("assistant", &r.sections.failures.by_assistant));
        s.push_str(&map_table("tool", &r.sections.failures.by_tool));
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

        if let Some(c) = &r.cost {
            s.push_str("<h2>Cost</h2>");
            let cents: Vec<u64> = ts
                .buckets
                .iter()
                .map(|b| {
                    let pico = b.cost_usd.map_or(0, |u| u.0);
                    u64::try_from(pico / (super::Usd::PER_DOLLAR / 100)).unwrap_or(u64::MAX)
                })
                .collect();
            s.push_str(&columns(
                &format!("Cost per {} (US cents, priced steps)", ts.interval),
                &labels,
                &[("cost".into(), cents, PALETTE[0])],
                "cents",
            ));
            let _ = write!(s, "<p>{}</p>", esc(&cells::cost_sentence(c, &STYLE)));
            if let Some(u) = cells::unpriced_sentence(c, &STYLE) {
                let _ = write!(s, "<p class=hint>{u}</p>");
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
            let _ = write!(
                s,
                "<table>{}{}</table><table>{}{}</table>",
                head(COST_MODEL_HEAD),
                rows(&models),
                head(["assistant", "cost"]),
                rows(&assistants)
            );
        }

        if let Some(runs) = &r.runs {
            let outcomes: Vec<String> = runs
                .by_outcome
                .iter()
                .map(|(k, n)| format!("{} {}", num(*n), esc(k)))
                .collect();
            let threads = r
                .threads
                .as_ref()
                .map_or_else(String::new, |t| format!(" {} threads.", num(t.total)));
            let spread: Vec<Vec<String>> = cells::spread_rows(runs, r.threads.as_ref())
                .iter()
                .map(|row| STYLE.row(row))
                .collect();
            let _ = write!(
                s,
                "<h2>Runs</h2><p>{} runs; by outcome (the status of the last step): {}.{threads}</p>\
                 <table>{}{}</table>",
                num(runs.total),
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
                "<h2>{title}</h2><table>{}{}</table>",
                head(std::iter::once(figure).chain(EXEMPLAR_HEAD)),
                rows(&list)
            );
        }

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

        let kinds: Vec<String> = i
            .counts
            .kinds()
            .iter()
            .map(|(k, n)| format!("{} {k}", num(*n)))
            .collect();
        let _ = write!(
            s,
            "<h2>Input</h2><p>{} bytes, {} lines: {}.</p>",
            num(i.bytes),
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
