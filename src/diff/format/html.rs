//! The diff as one self-contained HTML page: each changed figure as a pair of bars, base
//! and current, with the change and its p-value; then the groups.

use super::super::{Diff, Figure};
use super::{change, changed_and_same, one_sided, p_value, ratio, side, value, SHOWN_GROUPS};
use crate::report::escape::html as h;
use std::io::{self, Write};

/// The HTML page.
pub struct Html;

const STYLE: &str = "body{font:14px system-ui,sans-serif;margin:2em;color:#222;background:#fff}\
table{border-collapse:collapse}td,th{padding:3px 8px;text-align:right}td:first-child,th:first-child{text-align:left}\
tr:nth-child(even){background:#f4f4f4}.sig{font-weight:bold;color:#b00}svg{vertical-align:middle}\
@media(prefers-color-scheme:dark){body{color:#ddd;background:#111}tr:nth-child(even){background:#222}.sig{color:#f66}}";

/// Two bars, base (grey) and current (blue), on one scale.
fn bars(f: &Figure) -> String {
    let (b, c) = (
        f.base.unwrap_or(0.0).max(0.0),
        f.current.unwrap_or(0.0).max(0.0),
    );
    let top = b.max(c);
    let w = |v: f64| {
        if top > 0.0 {
            (v / top * 160.0).round()
        } else {
            0.0
        }
    };
    format!(
        "<svg width=\"164\" height=\"22\" role=\"img\"><title>base {}, current {}</title>\
         <rect x=\"2\" y=\"2\" width=\"{}\" height=\"8\" fill=\"#999\"/>\
         <rect x=\"2\" y=\"12\" width=\"{}\" height=\"8\" fill=\"#3b7dd8\"/></svg>",
        h(&value(f.unit, f.base)),
        h(&value(f.unit, f.current)),
        w(b),
        w(c)
    )
}

fn row(out: &mut dyn Write, name: &str, f: &Figure) -> io::Result<()> {
    let class = if f.significant == Some(true) {
        " class=\"sig\""
    } else {
        ""
    };
    writeln!(
        out,
        "<tr{class}><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
        h(name),
        bars(f),
        h(&value(f.unit, f.base)),
        h(&value(f.unit, f.current)),
        h(&change(f)),
        h(&ratio(f)),
        h(&p_value(f)),
    )
}

const HEAD: &str =
    "<th></th><th>base</th><th>current</th><th>change</th><th>ratio</th><th>p</th></tr>";

impl super::DiffFormat for Html {
    fn render(&self, d: &Diff, out: &mut dyn Write) -> io::Result<()> {
        writeln!(
            out,
            "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">"
        )?;
        writeln!(
            out,
            "<title>steplog diff</title><style>{STYLE}</style></head><body>"
        )?;
        writeln!(out, "<h1>What changed</h1>")?;
        writeln!(
            out,
            "<p>base: {}<br>current: {}</p>",
            h(&side(&d.base)),
            h(&side(&d.current))
        )?;
        writeln!(out, "<table><tr><th>figure</th>{HEAD}")?;
        let (changed, same) = changed_and_same(&d.figures);
        for (name, f) in changed {
            row(out, name, f)?;
        }
        let same: Vec<String> = same.into_iter().map(h).collect();
        writeln!(out, "</table>")?;
        writeln!(
            out,
            "<p>Bars: grey the base, blue the current. Bold: significant at p &lt; {} (z-test for rates, chi-square of the histograms for durations).</p>",
            d.alpha
        )?;
        if !same.is_empty() {
            writeln!(out, "<p>Unchanged: {}.</p>", same.join(", "))?;
        }
        if !d.group_by.is_empty() {
            writeln!(
                out,
                "<h2>Groups by {}, ranked by the change in {}</h2>",
                h(&d.group_by.join(",")),
                h(&d.groups_ranked_by)
            )?;
            writeln!(out, "<table><tr><th>group</th>{HEAD}")?;
            for g in d.groups.iter().take(SHOWN_GROUPS) {
                if let Some(f) = g.figures.get(&d.groups_ranked_by) {
                    row(out, &g.key.join(","), f)?;
                }
            }
            writeln!(out, "</table>")?;
            for list in one_sided(d, h) {
                writeln!(out, "<p>{}: {}.</p>", list.title, list.names.join(", "))?;
            }
        }
        writeln!(out, "</body></html>")
    }
}
