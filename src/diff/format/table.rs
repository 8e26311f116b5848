//! The diff as aligned text for a terminal: 80 columns, what changed most first.

use super::super::{Diff, Figure};
use super::{change, changed_and_same, one_sided, p_value, ratio, side, value, SHOWN_GROUPS};
use crate::report::visible;
use std::io::{self, Write};

/// The table.
pub struct Table;

/// Width of the figure name column.
const NAME: usize = 26;

fn row(out: &mut dyn Write, name: &str, cells: [String; 5]) -> io::Result<()> {
    let name = cut(name, NAME);
    let line = format!(
        "{name:<NAME$} {:>11} {:>11} {:>11} {:>7} {:>9}",
        cells[0], cells[1], cells[2], cells[3], cells[4]
    );
    writeln!(out, "{}", line.trim_end())
}

/// `s` cut to `n` characters with an ellipsis.
fn cut(s: &str, n: usize) -> String {
    let s = visible(s);
    if s.chars().count() <= n {
        s
    } else {
        let mut t: String = s.chars().take(n - 1).collect();
        t.push('…');
        t
    }
}

fn cells(f: &Figure) -> [String; 5] {
    [
        value(f.unit, f.base),
        value(f.unit, f.current),
        change(f),
        ratio(f),
        p_value(f),
    ]
}

impl super::DiffFormat for Table {
    fn render(&self, d: &Diff, out: &mut dyn Write) -> io::Result<()> {
        writeln!(out, "base     {}", side(&d.base))?;
        writeln!(out, "current  {}", side(&d.current))?;
        writeln!(out)?;
        row(
            out,
            "figure",
            ["base", "current", "change", "ratio", "p"].map(String::from),
        )?;
        let (changed, same) = changed_and_same(&d.figures);
        for (name, f) in changed {
            row(out, name, cells(f))?;
        }
        if !same.is_empty() {
            // Names of statuses and codes come from the logs: shown, never acted on.
            wrap(out, "unchanged: ", &visible(&same.join(", ")))?;
        }
        wrap(
            out,
            "* ",
            &format!(
                "significant at p < {} (z-test for rates, chi-square of the histograms for \
                 durations)",
                d.alpha
            ),
        )?;
        if !d.group_by.is_empty() {
            writeln!(out)?;
            writeln!(
                out,
                "groups by {}, ranked by the change in {} ({} in both{})",
                d.group_by.join(","),
                d.groups_ranked_by,
                d.groups_total,
                if d.groups.len() < d.groups_total as usize {
                    format!(", first {} shown", d.groups.len())
                } else {
                    String::new()
                }
            )?;
            let by = &d.groups_ranked_by;
            row(
                out,
                "group",
                ["base", "current", "change", "ratio", "p"].map(String::from),
            )?;
            for g in d.groups.iter().take(SHOWN_GROUPS) {
                let key = g.key.join(",");
                match g.figures.get(by) {
                    Some(f) => row(out, &key, cells(f))?,
                    None => row(out, &key, ["-", "-", "-", "-", ""].map(String::from))?,
                }
            }
            if d.groups.len() > SHOWN_GROUPS {
                writeln!(
                    out,
                    "… {} more (--top N, or -f json)",
                    d.groups.len() - SHOWN_GROUPS
                )?;
            }
            for list in one_sided(d, visible) {
                let mut text = list.names.join(", ");
                if list.more > 0 {
                    text.push_str(&format!(", … {} more", list.more));
                }
                wrap(out, &format!("{}: ", list.label), &text)?;
            }
        }
        Ok(())
    }
}

/// `text` after `head`, wrapped at 80 columns under itself.
fn wrap(out: &mut dyn Write, head: &str, text: &str) -> io::Result<()> {
    let indent = head.chars().count();
    let mut line = head.to_string();
    let mut width = indent;
    for word in text.split(' ') {
        let w = word.chars().count();
        if width + w > 80 && width > indent {
            writeln!(out, "{}", line.trim_end())?;
            line = " ".repeat(indent);
            width = indent;
        }
        line.push_str(word);
        line.push(' ');
        width += w + 1;
    }
    writeln!(out, "{}", line.trim_end())
}
