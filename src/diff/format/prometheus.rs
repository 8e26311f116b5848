//! The diff in Prometheus's text exposition format: every figure's current value, base,
//! change, ratio and p-value, labelled by figure (and by group).

use super::super::{Diff, Figures};
use crate::report::escape::label;
use std::io::{self, Write};

/// Prometheus text.
pub struct Prometheus;

const METRICS: [(&str, &str); 5] = [
    ("current", "The figure on the current side."),
    ("base", "The figure on the base side."),
    ("delta", "The figure's change: current minus base."),
    ("ratio", "The figure's ratio: current over base."),
    (
        "p_value",
        "The p-value of the test of the change (rates, durations).",
    ),
];

fn samples(
    out: &mut dyn Write,
    metric: &str,
    group: Option<&str>,
    figures: &Figures,
) -> io::Result<()> {
    for (name, f) in figures {
        let v = match metric {
            "current" => f.current,
            "base" => f.base,
            "delta" => f.delta,
            "ratio" => f.ratio,
            _ => f.p_value,
        };
        let Some(v) = v else { continue };
        let group = group.map_or(String::new(), |g| format!(",group=\"{}\"", label(g)));
        writeln!(
            out,
            "steplog_diff_{metric}{{figure=\"{}\"{group}}} {v}",
            label(name)
        )?;
    }
    Ok(())
}

impl super::DiffFormat for Prometheus {
    fn render(&self, d: &Diff, out: &mut dyn Write) -> io::Result<()> {
        for (metric, help) in METRICS {
            writeln!(out, "# HELP steplog_diff_{metric} {help}")?;
            writeln!(out, "# TYPE steplog_diff_{metric} gauge")?;
            samples(out, metric, None, &d.figures)?;
            for g in &d.groups {
                samples(out, metric, Some(&g.key.join(",")), &g.figures)?;
            }
        }
        writeln!(
            out,
            "# HELP steplog_diff_significant Whether the change is significant (1) or not (0)."
        )?;
        writeln!(out, "# TYPE steplog_diff_significant gauge")?;
        for (name, f) in &d.figures {
            if let Some(s) = f.significant {
                writeln!(
                    out,
                    "steplog_diff_significant{{figure=\"{}\"}} {}",
                    label(name),
                    u8::from(s)
                )?;
            }
        }
        Ok(())
    }
}
