//! The formats of a diff, one file each, from the one model ([`super::Diff`]): the table
//! and Markdown lead with what changed most; JSON is the stable contract; CSV is tidy (a
//! row per scope and figure); Prometheus exposes the current values with the changes;
//! HTML draws base and current side by side.

mod csv;
mod html;
mod json;
mod markdown;
mod prometheus;
mod table;

pub use self::csv::Csv;
pub use html::Html;
pub use json::Json;
pub use markdown::Markdown;
pub use prometheus::Prometheus;
pub use table::Table;

use super::{Diff, Figure, Unit};
use std::io;

/// An output format of a diff.
pub trait DiffFormat {
    /// Writes the diff.
    fn render(&self, diff: &Diff, out: &mut dyn io::Write) -> io::Result<()>;
}

/// How many groups the table, Markdown and HTML show without `--top`.
pub const SHOWN_GROUPS: usize = 10;

/// A value of `unit` as people read it.
pub(crate) fn value(unit: Unit, v: Option<f64>) -> String {
    let Some(v) = v else {
        return "-".to_string();
    };
    match unit {
        Unit::Rate => format!("{:.2}%", v * 100.0),
        Unit::Usd if v.abs() < 1.0 && v != 0.0 => format!("${v:.4}"),
        Unit::Usd => format!("${v:.2}"),
        Unit::Seconds if v.fract() == 0.0 => format!("{v:.0} s"),
        Unit::Seconds => format!("{v:.1} s"),
        Unit::Count | Unit::Tokens if v.fract() == 0.0 => thousands(v),
        Unit::Count | Unit::Tokens => format!("{v:.2}"),
    }
}

/// An integer with thin separators every three digits: `12,345`.
fn thousands(v: f64) -> String {
    let digits = format!("{:.0}", v.abs());
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    if v < 0.0 {
        format!("-{out}")
    } else {
        out
    }
}

/// A figure's change as people read it: `+5.00 pp` for rates, `+12 s`, `new`, `gone`.
pub(crate) fn change(f: &Figure) -> String {
    if let Some(side) = f.one_sided() {
        return side.to_string();
    }
    let Some(d) = f.delta else {
        return "-".to_string();
    };
    if d == 0.0 {
        return "=".to_string();
    }
    let sign = if d > 0.0 { "+" } else { "-" };
    let size = match f.unit {
        Unit::Rate => format!("{:.2} pp", d.abs() * 100.0),
        unit => value(unit, Some(d.abs())),
    };
    format!("{sign}{size}")
}

/// A ratio as people read it: `×1.52`.
pub(crate) fn ratio(f: &Figure) -> String {
    f.ratio
        .map_or_else(|| "-".to_string(), |r| format!("×{r:.2}"))
}

/// A p-value as people read it, marked when significant: `0.0012*`.
pub(crate) fn p_value(f: &Figure) -> String {
    match (f.p_value, f.significant) {
        (Some(p), Some(true)) => format!("{}*", super::gate::format_p(p)),
        (Some(p), _) => super::gate::format_p(p),
        _ => String::new(),
    }
}

/// A side's one-line description: its steps, inputs and window.
pub(crate) fn side(s: &super::Side) -> String {
    let inputs = match s.inputs.len() {
        0 => "standard input".to_string(),
        1 => s.inputs[0].clone(),
        n => format!("{} and {} more", s.inputs[0], n - 1),
    };
    let window = s.window.as_ref().map_or(String::new(), |w| {
        format!(
            ", {} to {}",
            w.since_utc.as_deref().unwrap_or("the start"),
            w.until_utc.as_deref().unwrap_or("the end")
        )
    });
    format!(
        "{} {}, {}{}",
        thousands(s.steps as f64),
        s.noun,
        crate::report::visible(&inputs),
        window
    )
}

/// Whether a figure changed at all.
fn changed(f: &Figure) -> bool {
    f.one_sided().is_some() || f.delta.is_some_and(|d| d != 0.0)
}

/// The figures as every format lists them: those that changed, what changed most first
/// (see [`super::leading`]), and the names of those that did not.
pub(crate) fn changed_and_same(figures: &super::Figures) -> (Vec<(&String, &Figure)>, Vec<&str>) {
    let (changed, same): (Vec<_>, Vec<_>) = super::leading(figures)
        .into_iter()
        .partition(|(_, f)| changed(f));
    (changed, same.into_iter().map(|(n, _)| n.as_str()).collect())
}

/// The groups only one side has, as the formats list them apart.
pub(crate) struct OneSided {
    /// `new groups` or `gone groups`.
    pub label: &'static str,
    /// The same, capitalised.
    pub title: &'static str,
    /// The first [`SHOWN_GROUPS`], as `KEY (N steps)`, each key as `show` writes it.
    pub names: Vec<String>,
    /// How many more there are.
    pub more: usize,
}

/// The new groups, then the gone ones, where there are any.
pub(crate) fn one_sided(d: &Diff, show: impl Fn(&str) -> String) -> Vec<OneSided> {
    [
        ("new groups", "New groups", &d.groups_new),
        ("gone groups", "Gone groups", &d.groups_gone),
    ]
    .into_iter()
    .filter(|(_, _, list)| !list.is_empty())
    .map(|(label, title, list)| OneSided {
        label,
        title,
        names: list
            .iter()
            .take(SHOWN_GROUPS)
            .map(|g| format!("{} ({} steps)", show(&g.key.join(",")), g.steps))
            .collect(),
        more: list.len().saturating_sub(SHOWN_GROUPS),
    })
    .collect()
}
