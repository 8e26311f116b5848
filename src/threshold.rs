//! `--fail-if`: conditions on a report's figures that make a run fail (exit 3), for cron
//! jobs and CI checks.
//!
//! A condition is `METRIC OP NUMBER`, with `OP` one of `>`, `>=`, `<`, `<=`, `==`, `!=`.
//! Metrics:
//!
//! | metric | figure |
//! |---|---|
//! | `steps`, `failures`, `failure_rate` | steps summarised, failed steps, failed / terminal |
//! | `records`, `runs_read`, `malformed`, `malformed_rate`, `deltas`, `framing`, `blank_lines`, `lines`, `filtered_out` | line accounting (`malformed_rate` = malformed / lines) |
//! | `p50`, `p90`, `p95`, `p99`, `p999`, `max`, `mean`, `min` | completed-step durations, seconds |
//! | `failed.p99`, `cancelled.max`, … | the same for another terminal status |
//! | `status.NAME` | steps with that status (`status.in_progress>100`) |
//! | `code.NAME` | failed steps with that error code (`code.rate_limit_exceeded>0`) |
//! | `prompt_tokens`, `completion_tokens`, `total_tokens`, `cached_tokens`, `reasoning_tokens` | token sums |
//! | `cost`, `cost.model.NAME`, `cost.assistant.NAME` | dollars of the priced steps (all, one model's, one assistant's) |
//! | `unpriced_steps`, `unpriced_tokens` | steps with usage that could not be priced, and their tokens |
//!
//! A condition on a figure the report does not have (a percentile without completed
//! steps, a rate without terminal steps) cannot be breached.

use crate::report::{DurationSummary, Report};
use std::fmt;

/// A comparison.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    /// `>`
    Gt,
    /// `>=`
    Ge,
    /// `<`
    Lt,
    /// `<=`
    Le,
    /// `==`
    Eq,
    /// `!=`
    Ne,
}

impl Op {
    pub fn as_str(self) -> &'static str {
        match self {
            Op::Gt => ">",
            Op::Ge => ">=",
            Op::Lt => "<",
            Op::Le => "<=",
            Op::Eq => "==",
            Op::Ne => "!=",
        }
    }

    pub fn holds(self, a: f64, b: f64) -> bool {
        match self {
            Op::Gt => a > b,
            Op::Ge => a >= b,
            Op::Lt => a < b,
            Op::Le => a <= b,
            Op::Eq => a == b,
            Op::Ne => a != b,
        }
    }
}

/// One `--fail-if` condition.
#[derive(Debug, Clone, PartialEq)]
pub struct Threshold {
    /// The metric name, as written.
    pub metric: String,
    /// The comparison.
    pub op: Op,
    /// The number compared with.
    pub value: f64,
}

impl fmt::Display for Threshold {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}{}{}", self.metric, self.op.as_str(), self.value)
    }
}

/// A condition that held: the run fails.
#[derive(Debug, Clone, PartialEq)]
pub struct Breach {
    /// The condition.
    pub threshold: Threshold,
    /// The figure's value.
    pub actual: f64,
}

impl fmt::Display for Breach {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} (it is {})",
            self.threshold,
            if self.actual.fract() == 0.0 {
                format!("{}", self.actual as i64)
            } else {
                format!("{:.6}", self.actual)
                    .trim_end_matches('0')
                    .to_string()
            }
        )
    }
}

/// Why a `--fail-if` condition cannot be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ParseError {
    /// No operator.
    #[error("`{0}` has no comparison: write it like failure_rate>0.05")]
    NoComparison(String),
    /// An operator steplog does not know.
    #[error("`{0}`: the comparison must be one of > >= < <= == !=")]
    BadOperator(String),
    /// The right-hand side is not a finite number.
    #[error("`{condition}`: `{number}` is not a number")]
    NotANumber {
        /// The whole condition.
        condition: String,
        /// What stood where the number should be.
        number: String,
    },
    /// A metric steplog does not know.
    #[error(
        "`{condition}`: unknown metric `{metric}` (see `steplog summary --help` for the list)"
    )]
    UnknownMetric {
        /// The whole condition.
        condition: String,
        /// The metric as written.
        metric: String,
    },
}

const DURATION_FIELDS: [&str; 8] = ["p50", "p90", "p95", "p99", "p999", "max", "mean", "min"];
const STATUSES: [&str; 4] = ["completed", "failed", "cancelled", "expired"];

/// The statuses of run steps in the API.
const API_STATUSES: [&str; 5] = ["in_progress", "cancelled", "failed", "completed", "expired"];

/// The error codes the API documents for runs and run steps.
const API_CODES: [&str; 3] = ["server_error", "rate_limit_exceeded", "invalid_prompt"];

/// The name of `known` that `name` most likely meant to be: one it begins or ends, or one
/// a few edits away.
fn nearest<'a>(name: &str, known: &[&'a str]) -> Option<&'a str> {
    let lower = name.to_lowercase();
    let by_part = known
        .iter()
        .filter(|k| {
            lower.len() >= 3 && (k.starts_with(&lower) || k.ends_with(&lower) || **k == lower)
        })
        .min_by_key(|k| k.len());
    let by_edits = known
        .iter()
        .map(|k| (strsim::levenshtein(&lower, k), *k))
        .filter(|&(d, k)| d <= (k.len() / 3).max(1))
        .min();
    by_part.copied().or(by_edits.map(|(_, k)| k))
}

/// Why a condition could not be split (see [`split`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Unsplit<'a> {
    /// No `>`, `<`, `=` or `!` in it.
    NoComparison,
    /// An operator that is none of the six.
    BadOperator,
    /// What stands after the operator, not a finite number.
    NotANumber(&'a str),
}

/// `LEFT OP NUMBER` (spaces allowed around the operator): the left side trimmed, the
/// operator and the number. `--fail-if` of reports and of diffs both read conditions so.
pub(crate) fn split(s: &str) -> Result<(&str, Op, f64), Unsplit<'_>> {
    let at = s.find(['>', '<', '=', '!']).ok_or(Unsplit::NoComparison)?;
    let (left, rest) = (s[..at].trim(), &s[at..]);
    let (op, number) = [
        (">=", Op::Ge),
        ("<=", Op::Le),
        ("==", Op::Eq),
        ("!=", Op::Ne),
        (">", Op::Gt),
        ("<", Op::Lt),
    ]
    .into_iter()
    .find_map(|(tok, op)| rest.strip_prefix(tok).map(|r| (op, r.trim())))
    .ok_or(Unsplit::BadOperator)?;
    let value: f64 = number
        .parse()
        .ok()
        .filter(|v: &f64| v.is_finite())
        .ok_or(Unsplit::NotANumber(number))?;
    Ok((left, op, value))
}

impl Threshold {
    /// Parses `METRIC OP NUMBER` (spaces allowed around the operator).
    pub fn parse(s: &str) -> Result<Threshold, ParseError> {
        let (metric, op, value) = split(s).map_err(|e| match e {
            Unsplit::NoComparison => ParseError::NoComparison(s.to_string()),
            Unsplit::BadOperator => ParseError::BadOperator(s.to_string()),
            Unsplit::NotANumber(number) => ParseError::NotANumber {
                condition: s.to_string(),
                number: number.to_string(),
            },
        })?;
        let t = Threshold {
            metric: metric.to_string(),
            op,
            value,
        };
        if !t.is_known() {
            return Err(ParseError::UnknownMetric {
                condition: s.to_string(),
                metric: metric.to_string(),
            });
        }
        Ok(t)
    }

    fn is_known(&self) -> bool {
        let m = self.metric.as_str();
        matches!(
            m,
            "steps"
                | "failures"
                | "failure_rate"
                | "records"
                | "malformed"
                | "malformed_rate"
                | "deltas"
                | "framing"
                | "runs_read"
                | "blank_lines"
                | "lines"
                | "filtered_out"
                | "prompt_tokens"
                | "completion_tokens"
                | "total_tokens"
                | "cached_tokens"
                | "reasoning_tokens"
                | "cost"
                | "unpriced_steps"
                | "unpriced_tokens"
        ) || DURATION_FIELDS.contains(&m)
            || m.strip_prefix("cost.model.")
                .or_else(|| m.strip_prefix("cost.assistant."))
                .is_some_and(|n| !n.is_empty())
            || m.split_once('.').is_some_and(|(a, b)| {
                (STATUSES.contains(&a) && DURATION_FIELDS.contains(&b))
                    || ((a == "status" || a == "code") && !b.is_empty())
            })
    }

    /// The figure in `r`, if the report has one.
    pub fn actual(&self, r: &Report) -> Option<f64> {
        let c = &r.input.counts;
        let n = |v: u64| Some(v as f64);
        let m = self.metric.as_str();
        match m {
            "steps" => n(r.sections.steps.total),
            "failures" => n(r.sections.failures.total),
            "failure_rate" => r.sections.failures.rate,
            "records" => n(c.records),
            "malformed" => n(c.malformed),
            "malformed_rate" => (c.lines > 0).then(|| c.malformed as f64 / c.lines as f64),
            "deltas" => n(c.deltas),
            "framing" => n(c.framing),
            "runs_read" => n(c.runs),
            "blank_lines" => n(c.blank_lines),
            "lines" => n(c.lines),
            "filtered_out" => n(r.input.filtered_out),
            "prompt_tokens" => n(r.sections.usage.prompt_tokens),
            "completion_tokens" => n(r.sections.usage.completion_tokens),
            "total_tokens" => n(r.sections.usage.total_tokens),
            "cached_tokens" => n(r.sections.usage.cached_tokens),
            "reasoning_tokens" => n(r.sections.usage.reasoning_tokens),
            // Without costs kept (--no-cost, an old state), a cost condition cannot hold.
            "cost" => r.cost.as_ref().map(|c| c.total_usd.dollars()),
            "unpriced_steps" => r.cost.as_ref().map(|c| c.unpriced.steps as f64),
            "unpriced_tokens" => r.cost.as_ref().map(|c| c.unpriced.tokens as f64),
            _ if m.starts_with("cost.model.") || m.starts_with("cost.assistant.") => {
                let c = r.cost.as_ref()?;
                Some(match m.strip_prefix("cost.model.") {
                    Some(model) => c.by_model.get(model).map_or(0.0, |x| x.usd.dollars()),
                    None => {
                        let a = &m["cost.assistant.".len()..];
                        c.by_assistant.get(a).map_or(0.0, |x| x.dollars())
                    }
                })
            }
            _ => {
                let (scope, field) = m.split_once('.').unwrap_or(("completed", m));
                let d = &r.sections.durations_seconds;
                let ds: Option<&DurationSummary> = match scope {
                    "completed" => Some(&d.completed),
                    "failed" => Some(&d.failed),
                    "cancelled" => Some(&d.cancelled),
                    "expired" => Some(&d.expired),
                    "status" => {
                        return n(r.sections.steps.by_status.get(field).copied().unwrap_or(0))
                    }
                    "code" => {
                        return n(r.sections.failures.by_code.get(field).copied().unwrap_or(0))
                    }
                    _ => None,
                };
                let ds = ds?;
                let u = |v: Option<u64>| v.map(|v| v as f64);
                match field {
                    "p50" => u(ds.p50),
                    "p90" => u(ds.p90),
                    "p95" => u(ds.p95),
                    "p99" => u(ds.p99),
                    "p999" => u(ds.p999),
                    "max" => u(ds.max),
                    "min" => u(ds.min),
                    "mean" => ds.mean,
                    _ => None,
                }
            }
        }
    }

    /// What the condition names that neither `r` nor the API has, as a mistake to stop
    /// at (`Err`, with the nearest name `r` or the API has) or a note (`Ok(Some)`): a
    /// condition on a name nothing has never holds, and a cron job would never learn its
    /// alert is dead. Statuses are the API's five (and any the report has); an error
    /// code, model or assistant the report lacks is a mistake when a name it has is
    /// near (`code.rate_limit`), else a note (it may appear another day).
    pub fn unknown_name(&self, r: &Report) -> Result<Option<String>, String> {
        let m = self.metric.as_str();
        let costs = r.cost.as_ref();
        let (what, name, known, closed): (&str, &str, Vec<&str>, bool) =
            if let Some(n) = m.strip_prefix("cost.model.") {
                let seen = costs.map(|c| c.by_model.keys().map(String::as_str).collect());
                ("model", n, seen.unwrap_or_default(), false)
            } else if let Some(n) = m.strip_prefix("cost.assistant.") {
                let seen = costs.map(|c| c.by_assistant.keys().map(String::as_str).collect());
                ("assistant", n, seen.unwrap_or_default(), false)
            } else if let Some(n) = m.strip_prefix("status.") {
                let mut known: Vec<&str> = r
                    .sections
                    .steps
                    .by_status
                    .keys()
                    .map(String::as_str)
                    .collect();
                known.extend(API_STATUSES);
                ("status", n, known, true)
            } else if let Some(n) = m.strip_prefix("code.") {
                let mut known: Vec<&str> = r
                    .sections
                    .failures
                    .by_code
                    .keys()
                    .map(String::as_str)
                    .collect();
                known.extend(API_CODES);
                ("error code", n, known, false)
            } else {
                return Ok(None);
            };
        if known.contains(&name) {
            return Ok(None);
        }
        let prefix = &m[..m.len() - name.len()];
        let near = nearest(name, &known);
        let mut listed: Vec<&str> = known.clone();
        listed.sort_unstable();
        listed.dedup();
        let listed = match listed.len() {
            0 => "none".to_string(),
            n if n > 8 => format!("{}, … ({n} in all)", listed[..8].join(", ")),
            _ => listed.join(", "),
        };
        let said =
            format!("--fail-if {self}: no step has the {what} `{name}` (those known: {listed})");
        match near {
            Some(near) => Err(format!("{said}: did you mean {prefix}{near}?")),
            None if closed => Err(format!("{said}; a condition on it could never hold")),
            None => Ok(Some(format!("{said}, so it cannot hold today"))),
        }
    }

    /// The breach, if the condition holds on `r`.
    pub fn check(&self, r: &Report) -> Option<Breach> {
        let actual = self.actual(r)?;
        self.op.holds(actual, self.value).then(|| Breach {
            threshold: self.clone(),
            actual,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_rejects() {
        let t = Threshold::parse("failure_rate>0.05").unwrap();
        assert_eq!(
            (t.metric.as_str(), t.op, t.value),
            ("failure_rate", Op::Gt, 0.05)
        );
        assert_eq!(Threshold::parse("p99 >= 30").unwrap().op, Op::Ge);
        assert_eq!(Threshold::parse("malformed!=0").unwrap().op, Op::Ne);
        assert!(Threshold::parse("failed.p99<5").is_ok());
        assert!(Threshold::parse("status.in_progress>1").is_ok());
        assert!(Threshold::parse("code.server_error>0").is_ok());
        assert!(Threshold::parse("cost>250").is_ok());
        assert!(Threshold::parse("cost.model.gpt-4o>100").is_ok());
        assert!(Threshold::parse("cost.assistant.asst_1>=1.5").is_ok());
        assert!(Threshold::parse("cost.model.>1").is_err());
        for bad in [
            "failure_rate",
            "p99>>3",
            "p99>x",
            "bogus>1",
            "p99>inf",
            "status.>1",
            "nope.p99>1",
        ] {
            assert!(Threshold::parse(bad).is_err(), "{bad}");
        }
        assert_eq!(Threshold::parse("p99>30").unwrap().to_string(), "p99>30");
    }
}
