//! What changed between two reports: `steplog diff`.
//!
//! Two [`Report`]s (of states merged, or of logs summarised with the same settings) go in;
//! a [`Diff`] comes out: for every figure both have, the base and current values, the
//! change, the ratio and, where a test fits the figure, its p-value. Rates (the failure
//! rate, a status's or an error code's share) take a two-proportion z-test; the
//! percentiles of completed-step durations take a chi-square test of the two histograms;
//! counts, sums and means per step or run take none. With groups, the same per group,
//! ranked by how much the `--sort` figure changed, with groups new or gone listed apart.
//!
//! The model is plain data: `format/` renders it, one file per format, and [`gate`]
//! checks `--fail-if` conditions on it.

pub mod format;
pub mod gate;
pub mod stats;

use crate::agg::Sort;
use crate::report::{DurationSummary, Group, Report};
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};

/// The p-value below which a change is called significant unless told otherwise: one in
/// a hundred, as a diff tests dozens of figures (and each group's) at once, and at 0.05
/// one unchanged figure in twenty would be flagged.
pub const DEFAULT_ALPHA: f64 = 0.01;

/// The names of the figures a diff has (`status.` and `code.` take any status or code):
/// what `--fail-if` may name.
pub const NAMES: [&str; 28] = [
    "steps",
    "failures",
    "failure_rate",
    "p50",
    "p90",
    "p95",
    "p99",
    "mean",
    "max",
    "tokens",
    "prompt_tokens",
    "completion_tokens",
    "cached_tokens",
    "reasoning_tokens",
    "tokens_per_step",
    "tool_calls",
    "tool_calls_per_step",
    "runs",
    "run_failure_rate",
    "steps_per_run",
    "tokens_per_run",
    "cost",
    "cost_per_step",
    "cost_per_run",
    "unpriced_steps",
    "malformed_rate",
    "status.",
    "code.",
];

/// What kind of number a figure is (how it is shown).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Unit {
    /// A count.
    Count,
    /// A share, from 0 to 1.
    Rate,
    /// Seconds.
    Seconds,
    /// Tokens.
    Tokens,
    /// US dollars.
    Usd,
}

/// One figure on both sides.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Figure {
    /// The base value; null when the base has no such figure (the figure is new).
    pub base: Option<f64>,
    /// The current value; null when the current side has none (the figure is gone).
    pub current: Option<f64>,
    /// `current − base`, when both are known.
    pub delta: Option<f64>,
    /// `current / base`, when both are known and the base is not 0.
    pub ratio: Option<f64>,
    /// The test's p-value, where one applies.
    pub p_value: Option<f64>,
    /// Whether `p_value` is below the diff's alpha; null where no test applies.
    pub significant: Option<bool>,
    /// What the numbers are.
    pub unit: Unit,
}

impl Figure {
    /// A figure of `unit` from its two sides, tested by `p_value`.
    fn new(
        unit: Unit,
        base: Option<f64>,
        current: Option<f64>,
        p_value: Option<f64>,
        alpha: f64,
    ) -> Figure {
        let both = base.zip(current);
        Figure {
            base,
            current,
            delta: both.map(|(b, c)| c - b),
            ratio: both.and_then(|(b, c)| (b != 0.0).then(|| c / b)),
            p_value: p_value.filter(|_| both.is_some()),
            significant: p_value.filter(|_| both.is_some()).map(|p| p < alpha),
            unit,
        }
    }

    /// Whether it is on one side only.
    pub fn one_sided(&self) -> Option<&'static str> {
        match (self.base, self.current) {
            (None, Some(_)) => Some("new"),
            (Some(_), None) => Some("gone"),
            _ => None,
        }
    }

    /// How much it changed, for ordering figures: the size of the relative change
    /// (infinite from a base of 0).
    pub fn magnitude(&self) -> f64 {
        match (self.delta, self.ratio) {
            (_, Some(r)) => (r - 1.0).abs(),
            (Some(d), None) if d != 0.0 => f64::INFINITY,
            _ => 0.0,
        }
    }
}

/// Figures by name (the names `--fail-if` takes).
pub type Figures = BTreeMap<String, Figure>;

/// One side of a diff, as read.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Side {
    /// What was read: state files, or logs.
    pub inputs: Vec<String>,
    /// The time window the side was cut to (Unix seconds), if any.
    pub window: Option<crate::report::Window>,
    /// Steps summarised.
    pub steps: u64,
    /// What they are: `steps`, `responses`, or `records` of both APIs (see
    /// [`crate::report::Steps::noun`]).
    #[serde(skip)]
    pub noun: &'static str,
    /// First and last `created_at` of its steps.
    pub time_range: crate::report::TimeRange,
}

/// One group on both sides.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GroupDiff {
    /// The group's value per dimension.
    pub key: Vec<String>,
    /// Its figures.
    pub figures: Figures,
}

/// A group present on one side only: its key and steps.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OneSided {
    /// The group's value per dimension.
    pub key: Vec<String>,
    /// Its steps on the side that has it.
    pub steps: u64,
}

/// Two reports compared.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Diff {
    /// The base side.
    pub base: Side,
    /// The current side.
    pub current: Side,
    /// The p-value below which a change is significant.
    pub alpha: f64,
    /// Every figure either side has.
    pub figures: Figures,
    /// `--group-by` dimensions (empty without grouping).
    pub group_by: Vec<String>,
    /// The figure groups are ranked by (the absolute change of it, largest first).
    pub groups_ranked_by: String,
    /// Groups on both sides, ranked (cut to `--top` when given).
    pub groups: Vec<GroupDiff>,
    /// Groups on both sides, before `--top`.
    pub groups_total: u64,
    /// Groups only the current side has, most steps first.
    pub groups_new: Vec<OneSided>,
    /// Groups only the base has, most steps first.
    pub groups_gone: Vec<OneSided>,
}

/// What a diff is asked for.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Options {
    /// Significance level.
    pub alpha: f64,
    /// The figure groups are ranked by.
    pub sort: Sort,
    /// Only the first `top` groups.
    pub top: Option<usize>,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            alpha: DEFAULT_ALPHA,
            sort: Sort::FailureRate,
            top: None,
        }
    }
}

/// A figure's value on one side, with what its test needs.
#[derive(Clone, Copy)]
enum Value {
    /// A plain number.
    Plain(f64),
    /// `x` of `n`, as a share.
    Share(u64, u64),
}

impl Value {
    fn number(self) -> f64 {
        match self {
            Value::Plain(v) => v,
            Value::Share(x, n) => x as f64 / n as f64,
        }
    }
}

/// Collects one side's figures: name → (unit, value).
#[derive(Default)]
struct Collected(BTreeMap<String, (Unit, Value)>);

impl Collected {
    fn put(&mut self, name: impl Into<String>, unit: Unit, v: Option<Value>) {
        if let Some(v) = v {
            self.0.insert(name.into(), (unit, v));
        }
    }
    fn plain(&mut self, name: impl Into<String>, unit: Unit, v: Option<f64>) {
        self.put(name, unit, v.map(Value::Plain));
    }
    fn share(&mut self, name: impl Into<String>, x: u64, n: u64) {
        self.put(name, Unit::Rate, (n > 0).then_some(Value::Share(x, n)));
    }
}

fn per(a: f64, b: u64) -> Option<f64> {
    (b > 0).then(|| a / b as f64)
}

/// The statuses and error codes either side has: a side without one has a share of 0 of
/// it (a measured zero, where the side has steps to measure it on).
#[derive(Default)]
struct Names {
    statuses: BTreeSet<String>,
    codes: BTreeSet<String>,
}

impl Names {
    fn of_reports(a: &Report, b: &Report) -> Names {
        let keys = |m: &BTreeMap<String, u64>| m.keys().cloned().collect::<Vec<_>>();
        let s = |r: &Report| keys(&r.sections.steps.by_status);
        let c = |r: &Report| keys(&r.sections.failures.by_code);
        Names {
            statuses: s(a).into_iter().chain(s(b)).collect(),
            codes: c(a).into_iter().chain(c(b)).collect(),
        }
    }

    fn of_groups(a: &Group, b: &Group) -> Names {
        Names {
            statuses: BTreeSet::new(),
            codes: a
                .failures
                .by_code
                .iter()
                .chain(b.failures.by_code.iter())
                .map(|(k, _)| k.clone())
                .collect(),
        }
    }
}

/// The figures of a whole report.
fn report_figures(r: &Report, names: &Names) -> Collected {
    let s = &r.sections;
    let mut c = Collected::default();
    let steps = s.steps.total;
    c.plain("steps", Unit::Count, Some(steps as f64));
    c.plain("failures", Unit::Count, Some(s.failures.total as f64));
    c.share("failure_rate", s.failures.total, s.failures.terminal_steps);
    for status in &names.statuses {
        let n = s.steps.by_status.get(status).copied().unwrap_or(0);
        c.share(format!("status.{status}"), n, steps);
    }
    for code in &names.codes {
        let n = s.failures.by_code.get(code).copied().unwrap_or(0);
        c.share(format!("code.{code}"), n, s.failures.terminal_steps);
    }
    durations(&mut c, &s.durations_seconds.completed);
    let u = &s.usage;
    c.plain("tokens", Unit::Tokens, Some(u.total_tokens as f64));
    c.plain("prompt_tokens", Unit::Tokens, Some(u.prompt_tokens as f64));
    c.plain(
        "completion_tokens",
        Unit::Tokens,
        Some(u.completion_tokens as f64),
    );
    c.plain("cached_tokens", Unit::Tokens, Some(u.cached_tokens as f64));
    c.plain(
        "reasoning_tokens",
        Unit::Tokens,
        Some(u.reasoning_tokens as f64),
    );
    c.plain(
        "tokens_per_step",
        Unit::Tokens,
        per(u.total_tokens as f64, u.steps_with_usage),
    );
    c.plain("tool_calls", Unit::Count, Some(s.tool_calls.total as f64));
    c.plain(
        "tool_calls_per_step",
        Unit::Count,
        per(s.tool_calls.total as f64, steps),
    );
    if let Some(runs) = &r.runs {
        c.plain("runs", Unit::Count, Some(runs.total as f64));
        let failed = runs.by_outcome.get("failed").copied().unwrap_or(0);
        c.share("run_failure_rate", failed, runs.total);
        c.plain("steps_per_run", Unit::Count, per(steps as f64, runs.total));
        c.plain(
            "tokens_per_run",
            Unit::Tokens,
            per(u.total_tokens as f64, runs.total),
        );
    }
    if let Some(cost) = &r.cost {
        let usd = cost.total_usd.dollars();
        c.plain("cost", Unit::Usd, Some(usd));
        c.plain("cost_per_step", Unit::Usd, per(usd, steps));
        if let Some(runs) = &r.runs {
            c.plain("cost_per_run", Unit::Usd, per(usd, runs.total));
        }
        c.plain(
            "unpriced_steps",
            Unit::Count,
            Some(cost.unpriced.steps as f64),
        );
    }
    let lines = r.input.counts.lines;
    c.share("malformed_rate", r.input.counts.malformed, lines);
    c
}

/// The completed-step duration figures of `d`.
fn durations(c: &mut Collected, d: &DurationSummary) {
    let secs = |v: Option<u64>| v.map(|v| v as f64);
    c.plain("p50", Unit::Seconds, secs(d.p50));
    c.plain("p90", Unit::Seconds, secs(d.p90));
    c.plain("p95", Unit::Seconds, secs(d.p95));
    c.plain("p99", Unit::Seconds, secs(d.p99));
    c.plain("mean", Unit::Seconds, d.mean);
    c.plain("max", Unit::Seconds, secs(d.max));
}

/// The figures of one group.
fn group_figures(g: &Group, names: &Names) -> Collected {
    let mut c = Collected::default();
    c.plain("steps", Unit::Count, Some(g.steps as f64));
    c.plain("failures", Unit::Count, Some(g.failures.total as f64));
    c.share("failure_rate", g.failures.total, g.failures.terminal_steps);
    for code in &names.codes {
        let n = g.failures.by_code.get(code).unwrap_or(0);
        c.share(format!("code.{code}"), n, g.failures.terminal_steps);
    }
    if let Some(d) = g.completed() {
        let secs = |v: Option<u64>| v.map(|v| v as f64);
        c.plain("p50", Unit::Seconds, secs(d.p50));
        c.plain("p90", Unit::Seconds, secs(d.p90));
        c.plain("p99", Unit::Seconds, secs(d.p99));
        c.plain("mean", Unit::Seconds, d.mean);
    }
    c.plain("tokens", Unit::Tokens, Some(g.usage.total_tokens as f64));
    c.plain(
        "tokens_per_step",
        Unit::Tokens,
        per(g.usage.total_tokens as f64, g.usage.steps_with_usage),
    );
    if let Some(usd) = g.cost_usd {
        c.plain("cost", Unit::Usd, Some(usd.dollars()));
        c.plain("cost_per_step", Unit::Usd, per(usd.dollars(), g.steps));
    }
    c
}

/// Both sides' figures joined, with the tests that fit; `histograms` are the two sides'
/// completed-duration histograms when the percentiles can be tested.
fn join(
    base: Collected,
    current: Collected,
    histograms: Option<(&[u64], &[u64])>,
    alpha: f64,
) -> Figures {
    let distribution = histograms.and_then(|(a, b)| stats::same_distribution(a, b));
    let mut names: Vec<&String> = base.0.keys().chain(current.0.keys()).collect();
    names.sort();
    names.dedup();
    names
        .into_iter()
        .map(|name| {
            let (b, c) = (base.0.get(name), current.0.get(name));
            let unit = b.or(c).map_or(Unit::Count, |(u, _)| *u);
            let p = match (b.map(|x| x.1), c.map(|x| x.1)) {
                (Some(Value::Share(x1, n1)), Some(Value::Share(x2, n2))) => {
                    stats::two_proportions(x1, n1, x2, n2)
                }
                _ if unit == Unit::Seconds && name.starts_with('p') => distribution,
                _ => None,
            };
            let fig = Figure::new(
                unit,
                b.map(|x| x.1.number()),
                c.map(|x| x.1.number()),
                p,
                alpha,
            );
            (name.clone(), fig)
        })
        .collect()
}

/// Compares `base` with `current` (reports of the same settings: the caller checks).
pub fn compare(
    base: &Report,
    current: &Report,
    base_inputs: Vec<String>,
    current_inputs: Vec<String>,
    opts: Options,
) -> Diff {
    let hist = |d: &DurationSummary| d.histogram.iter().map(|b| b.count).collect::<Vec<u64>>();
    let (hb, hc) = (
        hist(&base.sections.durations_seconds.completed),
        hist(&current.sections.durations_seconds.completed),
    );
    let figures = join(
        report_figures(base, &Names::of_reports(base, current)),
        report_figures(current, &Names::of_reports(base, current)),
        Some((&hb, &hc)),
        opts.alpha,
    );
    let side = |r: &Report, inputs: Vec<String>| Side {
        inputs,
        window: r.input.window.clone(),
        steps: r.sections.steps.total,
        noun: r.sections.steps.noun(),
        time_range: r.sections.time_range.clone(),
    };
    fn by_key(r: &Report) -> BTreeMap<Vec<String>, &Group> {
        r.groups.iter().map(|g| (g.key.clone(), g)).collect()
    }
    let (gb, gc) = (by_key(base), by_key(current));
    let mut groups = Vec::new();
    let mut groups_new = Vec::new();
    let mut groups_gone = Vec::new();
    for (key, g) in &gc {
        match gb.get(key) {
            Some(b) => groups.push(GroupDiff {
                key: key.clone(),
                figures: {
                    let names = Names::of_groups(b, g);
                    join(
                        group_figures(b, &names),
                        group_figures(g, &names),
                        None,
                        opts.alpha,
                    )
                },
            }),
            None => groups_new.push(OneSided {
                key: key.clone(),
                steps: g.steps,
            }),
        }
    }
    for (key, g) in &gb {
        if !gc.contains_key(key) {
            groups_gone.push(OneSided {
                key: key.clone(),
                steps: g.steps,
            });
        }
    }
    // `--sort`'s names are the figures' names (`tokens`, `cost`, …; `key` is none).
    let ranked_by = opts.sort.as_str();
    rank(&mut groups, ranked_by);
    let by_steps =
        |a: &OneSided, b: &OneSided| b.steps.cmp(&a.steps).then_with(|| a.key.cmp(&b.key));
    groups_new.sort_by(by_steps);
    groups_gone.sort_by(by_steps);
    let groups_total = groups.len() as u64;
    if let Some(top) = opts.top {
        groups.truncate(top);
    }
    Diff {
        base: side(base, base_inputs),
        current: side(current, current_inputs),
        alpha: opts.alpha,
        figures,
        group_by: current.group_by.clone(),
        groups_ranked_by: ranked_by.to_string(),
        groups,
        groups_total,
        groups_new,
        groups_gone,
    }
}

/// Orders groups by the absolute change of `figure` (largest first; groups without it
/// last), ties and `key` by key.
fn rank(groups: &mut [GroupDiff], figure: &str) {
    let size = |g: &GroupDiff| g.figures.get(figure).and_then(|f| f.delta).map(f64::abs);
    groups.sort_by(|a, b| {
        let by_size = match (size(a), size(b)) {
            (Some(x), Some(y)) => y.total_cmp(&x),
            (Some(_), None) => std::cmp::Ordering::Less,
            (None, Some(_)) => std::cmp::Ordering::Greater,
            (None, None) => std::cmp::Ordering::Equal,
        };
        by_size.then_with(|| a.key.cmp(&b.key))
    });
}

/// A p-value at the precision the formats show it.
fn shown_p(f: &Figure) -> u64 {
    let p = f.p_value.unwrap_or(1.0);
    if p < 1e-4 {
        0
    } else {
        (p * 1e4).round() as u64
    }
}

/// The figures in the order a reader wants them: significant changes first (smallest
/// p-value first), then the rest by how much they changed; unchanged last.
pub fn leading(figures: &Figures) -> Vec<(&String, &Figure)> {
    let mut all: Vec<(&String, &Figure)> = figures.iter().collect();
    all.sort_by(|(an, a), (bn, b)| {
        let sig = |f: &Figure| f.significant == Some(true);
        sig(b)
            .cmp(&sig(a))
            .then_with(|| match (sig(a), sig(b)) {
                // p-values as shown (4 places, all below 0.0001 alike): equal ones by size.
                (true, true) => shown_p(a).cmp(&shown_p(b)),
                _ => std::cmp::Ordering::Equal,
            })
            .then_with(|| b.one_sided().is_some().cmp(&a.one_sided().is_some()))
            .then_with(|| b.magnitude().total_cmp(&a.magnitude()))
            .then_with(|| an.cmp(bn))
    });
    all
}

#[cfg(test)]
mod tests;
