//! `steplog diff --fail-if`: conditions on changes, such as `failure_rate.delta>0.02`,
//! `p95.ratio>1.5`, `cost_per_run.ratio>1.2@significant`.
//!
//! A condition is `FIGURE.FIELD OP NUMBER`, optionally followed by `@significant`: then it
//! holds only when the figure's test found the change significant (figures without a
//! test never are). `FIELD` is `delta`, `ratio`, `base`, `current` or `p_value`; `OP` one
//! of `>`, `>=`, `<`, `<=`, `==`, `!=`. A figure the diff lacks on either side, or a ratio
//! over a base of 0, cannot hold.

use super::{Diff, Figure};
use crate::threshold::{split, Op, Unsplit};
use std::fmt;

/// Which number of a figure a condition reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    /// `current − base`.
    Delta,
    /// `current / base`.
    Ratio,
    /// The base value.
    Base,
    /// The current value.
    Current,
    /// The test's p-value.
    PValue,
}

impl Field {
    const ALL: [(&'static str, Field); 5] = [
        ("delta", Field::Delta),
        ("ratio", Field::Ratio),
        ("base", Field::Base),
        ("current", Field::Current),
        ("p_value", Field::PValue),
    ];

    fn name(self) -> &'static str {
        Field::ALL
            .iter()
            .find(|(_, f)| *f == self)
            .map_or("", |(n, _)| n)
    }

    fn of(self, f: &Figure) -> Option<f64> {
        match self {
            Field::Delta => f.delta,
            Field::Ratio => f.ratio,
            Field::Base => f.base,
            Field::Current => f.current,
            Field::PValue => f.p_value,
        }
    }
}

/// One condition on a change.
#[derive(Debug, Clone, PartialEq)]
pub struct Change {
    /// The figure's name.
    pub figure: String,
    /// Which of its numbers.
    pub field: Field,
    /// The comparison.
    pub op: Op,
    /// The number compared with.
    pub value: f64,
    /// Whether it holds only for a significant change.
    pub significant: bool,
}

impl fmt::Display for Change {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}.{}{}{}{}",
            self.figure,
            self.field.name(),
            self.op.as_str(),
            self.value,
            if self.significant { "@significant" } else { "" }
        )
    }
}

/// A condition that held, and the figure's number.
#[derive(Debug, Clone, PartialEq)]
pub struct Held {
    /// The condition.
    pub change: Change,
    /// The number it read.
    pub actual: f64,
    /// The figure's p-value, if tested.
    pub p_value: Option<f64>,
}

impl fmt::Display for Held {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} (it is {}", self.change, trim(self.actual))?;
        if let Some(p) = self.p_value {
            write!(f, ", p = {}", format_p(p))?;
        }
        write!(f, ")")
    }
}

/// A number without trailing zeros.
fn trim(v: f64) -> String {
    if v.fract() == 0.0 && v.abs() < 1e15 {
        format!("{}", v as i64)
    } else {
        let s = format!("{v:.6}");
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    }
}

/// A p-value as people read it: `0.031`, `<0.0001`.
pub fn format_p(p: f64) -> String {
    if p < 1e-4 {
        "<0.0001".to_string()
    } else {
        format!("{p:.4}")
    }
}

impl Change {
    /// Parses `FIGURE.FIELD OP NUMBER[@significant]`.
    pub fn parse(s: &str) -> Result<Change, String> {
        let (body, significant) = match s.trim().strip_suffix("@significant") {
            Some(b) => (b, true),
            None => (s.trim(), false),
        };
        let (left, op, value) = split(body).map_err(|e| match e {
            Unsplit::NoComparison => {
                format!("`{s}` has no comparison: write it like failure_rate.delta>0.02")
            }
            Unsplit::BadOperator => {
                format!("`{s}`: the comparison must be one of > >= < <= == !=")
            }
            Unsplit::NotANumber(number) => format!("`{s}`: `{number}` is not a number"),
        })?;
        let fields = || {
            Field::ALL
                .iter()
                .map(|(n, _)| *n)
                .collect::<Vec<_>>()
                .join(", ")
        };
        let (figure, field) = left.rsplit_once('.').ok_or_else(|| {
            format!(
                "`{s}`: name the figure and which of its numbers, like failure_rate.delta or \
                 p95.ratio ({})",
                fields()
            )
        })?;
        let field = Field::ALL
            .iter()
            .find(|(n, _)| *n == field)
            .map(|(_, f)| *f)
            .ok_or_else(|| format!("`{s}`: `{field}` is not one of {}", fields()))?;
        let known = super::NAMES.iter().any(|k| {
            if k.ends_with('.') {
                figure.len() > k.len() && figure.starts_with(k)
            } else {
                figure == *k
            }
        });
        if !known {
            return Err(format!(
                "`{s}`: unknown figure `{figure}` (see `steplog diff --help` for the list)"
            ));
        }
        Ok(Change {
            figure: figure.to_string(),
            field,
            op,
            value,
            significant,
        })
    }

    /// The figure's number, if the diff has it (on both sides, for a change).
    pub fn actual(&self, d: &Diff) -> Option<f64> {
        d.figures.get(&self.figure).and_then(|f| self.field.of(f))
    }

    /// Whether it holds on `d`.
    pub fn check(&self, d: &Diff) -> Option<Held> {
        let f = d.figures.get(&self.figure)?;
        let actual = self.field.of(f)?;
        if self.significant && f.significant != Some(true) {
            return None;
        }
        self.op.holds(actual, self.value).then(|| Held {
            change: self.clone(),
            actual,
            p_value: f.p_value,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diff::{Figure, Unit};

    fn diff_with(name: &str, f: Figure) -> Diff {
        let side = crate::diff::Side {
            inputs: vec![],
            window: None,
            steps: 0,
            noun: "steps",
            time_range: Default::default(),
        };
        Diff {
            base: side.clone(),
            current: side,
            alpha: 0.01,
            figures: [(name.to_string(), f)].into_iter().collect(),
            group_by: vec![],
            groups_ranked_by: "failure_rate".into(),
            groups: vec![],
            groups_total: 0,
            groups_new: vec![],
            groups_gone: vec![],
        }
    }

    #[test]
    fn conditions_read_and_hold_as_written() {
        let c = Change::parse("failure_rate.delta>0.02").unwrap();
        assert_eq!(
            (c.figure.as_str(), c.field, c.op, c.value, c.significant),
            ("failure_rate", Field::Delta, Op::Gt, 0.02, false)
        );
        let c = Change::parse(" code.rate_limit_exceeded.delta > 0 @significant").unwrap();
        assert_eq!(c.figure, "code.rate_limit_exceeded");
        assert!(c.significant);
        assert_eq!(
            c.to_string(),
            "code.rate_limit_exceeded.delta>0@significant"
        );
        for bad in [
            "failure_rate>0.02",
            "failure_rate.size>1",
            "nope.delta>1",
            "p95.ratio>x",
            "p95.ratio",
            "code..delta>1",
        ] {
            assert!(Change::parse(bad).is_err(), "{bad}");
        }
        let fig = Figure::new(Unit::Rate, Some(0.05), Some(0.10), Some(0.001), 0.01);
        let d = diff_with("failure_rate", fig.clone());
        let held = Change::parse("failure_rate.delta>0.02")
            .unwrap()
            .check(&d)
            .unwrap();
        assert!((held.actual - 0.05).abs() < 1e-12);
        assert_eq!(
            held.to_string(),
            "failure_rate.delta>0.02 (it is 0.05, p = 0.0010)"
        );
        assert!(Change::parse("failure_rate.ratio>=2@significant")
            .unwrap()
            .check(&d)
            .is_some());
        assert!(Change::parse("failure_rate.ratio>2")
            .unwrap()
            .check(&d)
            .is_none());
        // Not significant: a condition asking for significance does not hold.
        let weak = diff_with(
            "failure_rate",
            Figure::new(Unit::Rate, Some(0.05), Some(0.10), Some(0.2), 0.01),
        );
        assert!(Change::parse("failure_rate.delta>0.02@significant")
            .unwrap()
            .check(&weak)
            .is_none());
        assert!(Change::parse("failure_rate.delta>0.02")
            .unwrap()
            .check(&weak)
            .is_some());
        // A figure on one side only has no change.
        let new = diff_with(
            "code.x",
            Figure::new(Unit::Rate, None, Some(0.1), None, 0.01),
        );
        assert!(Change::parse("code.x.delta>0")
            .unwrap()
            .check(&new)
            .is_none());
        assert!(Change::parse("code.x.current>0")
            .unwrap()
            .check(&new)
            .is_some());
    }
}
