//! The diff as Markdown, for pull requests and wikis: what changed most first.

use super::super::{leading, Diff, Figure};
use super::{change, changed, p_value, ratio, side, value, SHOWN_GROUPS};
use crate::report::escape::markdown as md;
use std::io::{self, Write};

/// Markdown tables.
pub struct Markdown;

fn row(out: &mut dyn Write, name: &str, f: &Figure) -> io::Result<()> {
    writeln!(
        out,
        "| {} | {} | {} | {} | {} | {} |",
        md(name),
        md(&value(f.unit, f.base)),
        md(&value(f.unit, f.current)),
        md(&change(f)),
        ratio(f),
        md(&p_value(f)),
    )
}

const HEAD: &str = "| base | current | change | ratio | p |\n|---|---:|---:|---:|---:|---:|";

impl super::DiffFormat for Markdown {
    fn render(&self, d: &Diff, out: &mut dyn Write) -> io::Result<()> {
        writeln!(out, "## What changed\n")?;
        writeln!(out, "- base: {}", md(&side(&d.base)))?;
        writeln!(out, "- current: {}\n", md(&side(&d.current)))?;
        writeln!(out, "| figure {HEAD}")?;
        let mut same = Vec::new();
        for (name, f) in leading(&d.figures) {
            if changed(f) {
                row(out, name, f)?;
            } else {
                same.push(md(name));
            }
        }
        writeln!(
            out,
            "\n\\* significant at p < {} (z-test for rates, chi-square of the histograms for durations).",
            d.alpha
        )?;
        if !same.is_empty() {
            writeln!(out, "Unchanged: {}.", same.join(", "))?;
        }
        if !d.group_by.is_empty() {
            writeln!(
                out,
                "\n### Groups by {}, ranked by the change in {}\n",
                md(&d.group_by.join(",")),
                md(&d.groups_ranked_by)
            )?;
            writeln!(out, "| group {HEAD}")?;
            for g in d.groups.iter().take(SHOWN_GROUPS) {
                if let Some(f) = g.figures.get(&d.groups_ranked_by) {
                    row(out, &g.key.join(","), f)?;
                }
            }
            for (label, list) in [
                ("New groups", &d.groups_new),
                ("Gone groups", &d.groups_gone),
            ] {
                if !list.is_empty() {
                    let names: Vec<String> = list
                        .iter()
                        .take(SHOWN_GROUPS)
                        .map(|g| format!("{} ({} steps)", md(&g.key.join(",")), g.steps))
                        .collect();
                    writeln!(out, "\n{label}: {}.", names.join(", "))?;
                }
            }
        }
        Ok(())
    }
}
