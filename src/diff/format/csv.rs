//! The diff as tidy CSV: a row per scope (the whole input, or a group) and figure.

use super::super::{Diff, Figures};
use std::io::{self, Write};

/// Tidy CSV.
pub struct Csv;

fn number(v: Option<f64>) -> String {
    v.and_then(serde_json::Number::from_f64)
        .map_or_else(String::new, |n| n.to_string())
}

fn io_error(e: ::csv::Error) -> io::Error {
    match e.into_kind() {
        ::csv::ErrorKind::Io(e) => e,
        other => io::Error::other(format!("{other:?}")),
    }
}

fn rows(
    w: &mut ::csv::Writer<&mut dyn Write>,
    scope: &str,
    key: &[String],
    figures: &Figures,
) -> io::Result<()> {
    for (name, f) in figures {
        let unit = serde_json::to_value(f.unit)
            .ok()
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_default();
        let significant = f.significant.map_or(String::new(), |s| s.to_string());
        let cells = [
            number(f.base),
            number(f.current),
            number(f.delta),
            number(f.ratio),
            number(f.p_value),
            significant,
        ];
        let record = std::iter::once(scope.to_string())
            .chain(key.iter().cloned())
            .chain([name.clone(), unit])
            .chain(cells);
        w.write_record(record).map_err(io_error)?;
    }
    Ok(())
}

impl super::DiffFormat for Csv {
    fn render(&self, d: &Diff, out: &mut dyn Write) -> io::Result<()> {
        let mut w = ::csv::WriterBuilder::new()
            .terminator(::csv::Terminator::Any(b'\n'))
            .from_writer(out);
        let head = [
            "figure",
            "unit",
            "base",
            "current",
            "delta",
            "ratio",
            "p_value",
            "significant",
        ];
        w.write_record(
            std::iter::once("scope")
                .chain(d.group_by.iter().map(String::as_str))
                .chain(head),
        )
        .map_err(io_error)?;
        let all = vec!["(all)".to_string(); d.group_by.len()];
        rows(&mut w, "all", &all, &d.figures)?;
        for g in &d.groups {
            rows(&mut w, "group", &g.key, &g.figures)?;
        }
        w.flush()
    }
}
