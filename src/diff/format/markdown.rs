//! The diff as Markdown, for pull requests and wikis: what changed most first.

use super::super::{Diff, Figure};
use super::{change, changed_and_same, one_sided, p_value, ratio, side, value, SHOWN_GROUPS};
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
        let (changed, same) = changed_and_same(&d.figures);
        for (name, f) in changed {
            row(out, name, f)?;
        }
        let same: Vec<String> = same.into_iter().map(md).collect();
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
            for list in one_sided(d, md) {
                writeln!(out, "\n{}: {}.", list.title, list.names.join(", "))?;
            }
        }
        Ok(())
    }
}
