//! The rows and cells the markup renderers (table, Markdown, HTML) share, built once from
//! the report; each renderer only lays them out and writes each [`Cell`] in its own
//! [`Style`]: how numbers are grouped, what marks a missing value, how a value seen in
//! the data is escaped.

use super::words::{say, thread_noun};
use super::{
    Cost, DurationSummary, Durations, Exemplar, Group, Input, Report, Runs, Spread, Threads, Usd,
};
use std::collections::BTreeMap;
use std::fmt::Display;

/// One cell of a row.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Cell {
    /// Words of steplog's own (a heading, a status name it lists).
    Label(String),
    /// A value seen in the data (an assistant id, an error code, a step type).
    Value(String),
    /// Free text seen in the data (an error message): escaped like a value, but shown as
    /// running text.
    Text(String),
    /// A label followed by a value seen in the data: `completed tool_calls`.
    Tagged(&'static str, String),
    /// A count.
    Count(u64),
    /// `part` as a share of `whole`, in percent with one decimal.
    Share(u64, u64),
    /// A rate in percent with two decimals; missing when unknown.
    Rate(Option<f64>),
    /// Whole seconds; missing when unknown.
    Seconds(Option<u64>),
    /// A mean with one decimal; missing when unknown.
    Mean(Option<f64>),
    /// An amount of dollars; missing when unknown.
    Usd(Option<Usd>),
    /// The cost of a group and how many of its steps with usage were unpriced: missing
    /// when none was priced, marked `+` when some were not (the cost is then a floor).
    Cost(Option<Usd>, u64),
}

/// How one renderer writes cells.
pub(super) struct Style {
    /// What stands for a missing value.
    pub missing: &'static str,
    /// Whether counts are grouped in thousands (`1,234`).
    pub thousands: bool,
    /// How a value seen in the data is written.
    pub value: fn(&str) -> String,
    /// How free text seen in the data is written.
    pub text: fn(&str) -> String,
}

impl Style {
    /// A count.
    pub fn count(&self, n: u64) -> String {
        if self.thousands {
            thousands(n)
        } else {
            n.to_string()
        }
    }

    /// `part / whole` in percent, one decimal.
    pub fn share(&self, part: u64, whole: u64) -> String {
        if whole == 0 {
            self.missing.to_string()
        } else {
            format!("{:.1}%", part as f64 * 100.0 / whole as f64)
        }
    }

    /// A rate in percent, two decimals.
    pub fn rate(&self, r: Option<f64>) -> String {
        r.map_or_else(
            || self.missing.to_string(),
            |x| format!("{:.2}%", x * 100.0),
        )
    }

    /// A value, or the missing mark.
    pub fn opt<T: Display>(&self, v: Option<T>) -> String {
        v.map_or_else(|| self.missing.to_string(), |v| v.to_string())
    }

    /// A mean, one decimal.
    pub fn mean(&self, m: Option<f64>) -> String {
        m.map_or_else(|| self.missing.to_string(), |m| format!("{m:.1}"))
    }

    /// Any cell.
    pub fn cell(&self, c: &Cell) -> String {
        match c {
            Cell::Label(s) => s.clone(),
            Cell::Value(s) => (self.value)(s),
            Cell::Text(s) => (self.text)(s),
            Cell::Tagged(label, v) => format!("{label} {}", (self.value)(v)),
            Cell::Count(n) => self.count(*n),
            Cell::Share(part, whole) => self.share(*part, *whole),
            Cell::Rate(r) => self.rate(*r),
            Cell::Seconds(s) => self.opt(*s),
            Cell::Mean(m) => self.mean(*m),
            Cell::Usd(u) => u.map_or_else(|| self.missing.to_string(), Usd::display),
            Cell::Cost(u, unpriced) => match u {
                Some(u) if *unpriced == 0 || u.0 > 0 => {
                    let floor = if *unpriced > 0 { "+" } else { "" };
                    format!("{}{floor}", u.display())
                }
                _ => self.missing.to_string(),
            },
        }
    }

    /// A row of cells.
    pub fn row(&self, cells: &[Cell]) -> Vec<String> {
        cells.iter().map(|c| self.cell(c)).collect()
    }
}

/// `1234567` → `1,234,567`.
pub(super) fn thousands(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::with_capacity(s.len() + s.len() / 3);
    for (i, ch) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(ch);
    }
    out
}

/// The entries of `map`, largest `weight` first (ties by key), the first `limit` of them,
/// and how many were left out.
pub(super) fn ranked<V, W: Ord>(
    map: &BTreeMap<String, V>,
    limit: usize,
    weight: impl Fn(&V) -> W,
) -> (Vec<(&String, &V)>, usize) {
    let mut v: Vec<_> = map.iter().collect();
    v.sort_by(|a, b| weight(b.1).cmp(&weight(a.1)).then_with(|| a.0.cmp(b.0)));
    let rest = v.len().saturating_sub(limit);
    v.truncate(limit);
    (v, rest)
}

/// A breakdown of counts: one row per entry (its key, count and share of `whole`).
pub(super) struct Breakdown {
    /// `[Value(key), Count, Share]` per entry.
    pub rows: Vec<[Cell; 3]>,
    /// Entries left out.
    pub more: usize,
}

impl Breakdown {
    /// The largest `limit` entries of `map`, largest first.
    pub fn top(map: &BTreeMap<String, u64>, whole: u64, limit: usize) -> Breakdown {
        let (entries, more) = ranked(map, limit, |v| *v);
        Breakdown {
            rows: entries
                .into_iter()
                .map(|(k, v)| row(k, *v, whole))
                .collect(),
            more,
        }
    }

    /// Every entry of `map`, largest first (ties by key), as every format orders them.
    pub fn all(map: &BTreeMap<String, u64>, whole: u64) -> Breakdown {
        Breakdown::top(map, whole, usize::MAX)
    }
}

fn row(key: &str, n: u64, whole: u64) -> [Cell; 3] {
    [
        Cell::Value(key.to_string()),
        Cell::Count(n),
        Cell::Share(n, whole),
    ]
}

/// The headings of [`duration_rows`]' columns.
pub(super) const DURATION_HEAD: [&str; 11] = [
    "status", "count", "missing", "min", "mean", "p50", "p90", "p95", "p99", "p99.9", "max",
];

/// One row per terminal status, then one per step type of completed steps.
pub(super) fn duration_rows(d: &Durations) -> Vec<[Cell; 11]> {
    let mut rows: Vec<[Cell; 11]> = d
        .by_status()
        .into_iter()
        .map(|(name, ds)| duration_row(Cell::Label(name.to_string()), ds))
        .collect();
    for (ty, ds) in &d.completed_by_type {
        rows.push(duration_row(Cell::Tagged("completed", ty.clone()), ds));
    }
    rows
}

fn duration_row(name: Cell, d: &DurationSummary) -> [Cell; 11] {
    [
        name,
        Cell::Count(d.count),
        Cell::Count(d.missing),
        Cell::Seconds(d.min),
        Cell::Mean(d.mean),
        Cell::Seconds(d.p50),
        Cell::Seconds(d.p90),
        Cell::Seconds(d.p95),
        Cell::Seconds(d.p99),
        Cell::Seconds(d.p999),
        Cell::Seconds(d.max),
    ]
}

/// The per-group figures every markup renderer shows after the group's key: a narrow
/// heading (for a terminal) and a full one.
pub(super) const GROUP_FIGURES: [(&str, &str); 6] = [
    ("steps", "steps"),
    ("failed", "failed"),
    ("rate", "failure rate"),
    ("p50", "p50 s"),
    ("p99", "p99 s"),
    ("tokens", "total tokens"),
];

/// Groups the table and the markup renderers show when `--top` does not say (the
/// one-screen table the first few of them).
pub const GROUPS_SHOWN: usize = 20;

/// The groups a markup renderer shows: `--top`'s, else the first [`GROUPS_SHOWN`].
pub(super) fn shown_groups(r: &Report) -> &[Group] {
    let n = match r.groups_top {
        Some(_) => r.groups.len(),
        None => r.groups.len().min(GROUPS_SHOWN),
    };
    &r.groups[..n]
}

/// The records the window or `--where` left out, and when they were created, in a
/// sentence; `None` when none were.
pub(super) fn left_out(i: &Input, style: &Style) -> Option<String> {
    if i.filtered_out == 0 {
        return None;
    }
    let range = match &i.outside_window {
        Some(o) => format!(
            " (created {} … {})",
            o.first_created_at_utc.as_deref().unwrap_or("?"),
            o.last_created_at_utc.as_deref().unwrap_or("?")
        ),
        None => String::new(),
    };
    Some(format!(
        "{} records outside the window or --where{range}, not summarised",
        style.count(i.filtered_out)
    ))
}

/// What the group table shows of how many: `3 groups` or `142,331 groups; the 20 with
/// the most steps`.
pub(super) fn groups_note(r: &Report, style: &Style) -> String {
    let shown = shown_groups(r).len() as u64;
    let total = r.groups_total;
    let noun = if total == 1 { "group" } else { "groups" };
    if shown == total {
        return format!("{} {noun}", style.count(total));
    }
    let by = match r.groups_sorted_by.as_str() {
        "steps" => "with the most steps",
        "failures" => "with the most failures",
        "failure_rate" => "with the highest failure rate",
        "p50" => "with the slowest median",
        "p99" => "with the slowest 99th percentile",
        "tokens" => "with the most tokens",
        "cost" => "that cost the most",
        _ => "first by key",
    };
    say(
        r,
        &format!(
            "{} {noun}; the {} {by} (--top and --sort choose others; JSON and CSV have all)",
            style.count(total),
            style.count(shown)
        ),
    )
}

/// The headings after the group's key: [`GROUP_FIGURES`] (narrow or full), and `cost`
/// when costs are kept.
pub(super) fn group_head(r: &Report, narrow: bool) -> Vec<String> {
    let mut head: Vec<String> = GROUP_FIGURES
        .iter()
        .map(|(n, f)| say(r, if narrow { n } else { f }))
        .collect();
    if r.cost.is_some() {
        head.push("cost".into());
    }
    head
}

/// One row per shown group: its key, then [`group_head`]'s figures.
pub(super) fn group_rows(r: &Report) -> Vec<Vec<Cell>> {
    shown_groups(r)
        .iter()
        .map(|g| {
            let mut row = group_row(g);
            if r.cost.is_some() {
                row.push(Cell::Cost(g.cost_usd, g.unpriced_steps.unwrap_or(0)));
            }
            row
        })
        .collect()
}

/// The cost in a sentence: `$12.34 for 1,234 steps on 2 models (bundled list prices …)`,
/// with the unpriced steps and why, in words.
pub(super) fn cost_sentence(r: &Report, c: &Cost, style: &Style) -> String {
    say(r, &cost_sentence_of_steps(c, style))
}

fn cost_sentence_of_steps(c: &Cost, style: &Style) -> String {
    let priced: u64 = c.by_model.values().map(|m| m.steps).sum();
    let models = c.by_model.len();
    if priced == 0 {
        return if c.unpriced.steps == 0 {
            "No step has usage: there is nothing to price.".into()
        } else {
            format!("No step could be priced ({}).", c.prices)
        };
    }
    format!(
        "{} for {} priced steps on {} model{} ({}; tool fees not included).",
        c.total_usd.display(),
        style.count(priced),
        style.count(models as u64),
        if models == 1 { "" } else { "s" },
        c.prices
    )
}

/// Responses' tool fees in a sentence, when there are any: `Tool fees $0.0400 for 4
/// web_search calls (apart from the total); unpriced: 6 code_interpreter calls.`
pub(super) fn tool_fees_sentence(c: &Cost, style: &Style) -> Option<String> {
    let f = c.tool_fees.as_ref()?;
    let list = |priced: bool| -> Vec<String> {
        f.by_kind
            .iter()
            .filter(|(_, k)| k.usd.is_some() == priced)
            .map(|(name, k)| format!("{} {name}", style.count(k.calls)))
            .collect()
    };
    let (priced, unpriced) = (list(true), list(false));
    let mut s = match priced.is_empty() {
        true => "Tool fees: none priced".to_string(),
        false => format!(
            "Tool fees {} for {} calls (apart from the total)",
            f.usd.display(),
            priced.join(", ")
        ),
    };
    if !unpriced.is_empty() {
        s.push_str(&format!(
            "; unpriced: {} calls (billed by container or image, which records do not say)",
            unpriced.join(", ")
        ));
    }
    s.push('.');
    Some(s)
}

/// The cost as a heading: `$12.34`, `$12.34 or more` when some steps are unpriced,
/// `unknown` when none could be priced.
pub(super) fn cost_heading(c: &Cost) -> String {
    match (c.by_model.is_empty(), c.unpriced.steps) {
        (true, n) if n > 0 => "unknown".into(),
        (_, 0) | (true, _) => c.total_usd.display(),
        _ => format!("{} or more", c.total_usd.display()),
    }
}

/// The unpriced steps in words, or `None` when every step with usage was priced.
pub(super) fn unpriced_sentence(r: &Report, c: &Cost, style: &Style) -> Option<String> {
    unpriced_sentence_of_steps(c, style).map(|s| say(r, &s))
}

fn unpriced_sentence_of_steps(c: &Cost, style: &Style) -> Option<String> {
    let u = &c.unpriced;
    if u.steps == 0 {
        return None;
    }
    let mut why = Vec::new();
    if let Some(n) = u.by_reason.get("no_model").filter(|n| n.steps > 0) {
        why.push(format!(
            "{} without a model (no thread.run object for their run: add the runs file, or \
             --model ASSISTANT=MODEL, or --default-model)",
            style.count(n.steps)
        ));
    }
    if let Some(n) = u.by_reason.get("unknown_model").filter(|n| n.steps > 0) {
        let names: Vec<String> = u.unknown_models.keys().map(|k| (style.value)(k)).collect();
        why.push(format!(
            "{} on models not in the price table ({}; --prices FILE adds them)",
            style.count(n.steps),
            names.join(", ")
        ));
    }
    Some(format!(
        "Unpriced: {} steps with {} tokens: {}.",
        style.count(u.steps),
        style.count(u.tokens),
        why.join("; ")
    ))
}

/// The headings of [`cost_model_rows`]' columns.
pub(super) const COST_MODEL_HEAD: [&str; 7] = [
    "model",
    "cost",
    "steps",
    "prompt",
    "cached",
    "completion",
    "reasoning",
];

/// One row per model, costliest first (ties by name).
pub(super) fn cost_model_rows(c: &Cost) -> Vec<[Cell; 7]> {
    let (entries, _) = ranked(&c.by_model, usize::MAX, |m| m.usd.0);
    entries
        .into_iter()
        .map(|(k, m)| {
            [
                Cell::Value(k.clone()),
                Cell::Usd(Some(m.usd)),
                Cell::Count(m.steps),
                Cell::Count(m.prompt_tokens),
                Cell::Count(m.cached_tokens),
                Cell::Count(m.completion_tokens),
                Cell::Count(m.reasoning_tokens),
            ]
        })
        .collect()
}

/// The costliest assistants (at most `limit`), and how many were left out.
pub(super) fn cost_assistant_rows(c: &Cost, limit: usize) -> (Vec<[Cell; 2]>, usize) {
    let (entries, rest) = ranked(&c.by_assistant, limit, |u| u.0);
    let rows = entries
        .into_iter()
        .map(|(k, u)| [Cell::Value(k.clone()), Cell::Usd(Some(*u))])
        .collect();
    (rows, rest)
}

fn group_row(g: &Group) -> Vec<Cell> {
    let mut row: Vec<Cell> = g.key.iter().map(|k| Cell::Value(k.clone())).collect();
    let completed = g.completed();
    row.extend([
        Cell::Count(g.steps),
        Cell::Count(g.failures.total),
        Cell::Rate(g.failures.rate),
        Cell::Seconds(completed.and_then(|d| d.p50)),
        Cell::Seconds(completed.and_then(|d| d.p99)),
        Cell::Count(g.usage.total_tokens),
    ]);
    row
}

/// The headings of [`spread_rows`]' columns.
pub(super) const SPREAD_HEAD: [&str; 8] = [
    "per run", "count", "min", "mean", "p50", "p90", "p99", "max",
];

/// One row per figure spread over runs, then over threads: its name, then
/// [`SPREAD_HEAD`]'s columns.
pub(super) fn spread_rows(r: &Report, runs: &Runs, threads: Option<&Threads>) -> Vec<[Cell; 8]> {
    let mut rows = vec![
        spread_row(r.sections.steps.noun(), &runs.steps_per_run),
        spread_row("span (s)", &runs.span_seconds),
        spread_row("tool calls", &runs.tool_calls_per_run),
        spread_row("tokens", &runs.tokens_per_run),
    ];
    if let Some(t) = threads {
        let thread = thread_noun(r).0;
        rows.push(spread_row(
            &format!("runs per {thread}"),
            &t.runs_per_thread,
        ));
        rows.push(spread_row(
            &say(r, &format!("steps per {thread}")),
            &t.steps_per_thread,
        ));
    }
    rows
}

fn spread_row(name: &str, s: &Spread) -> [Cell; 8] {
    [
        Cell::Label(name.to_string()),
        Cell::Count(s.count),
        Cell::Seconds(s.min),
        Cell::Mean(s.mean),
        Cell::Seconds(s.p50),
        Cell::Seconds(s.p90),
        Cell::Seconds(s.p99),
        Cell::Seconds(s.max),
    ]
}

/// The exemplar lists, each with its title and the heading of its figure.
pub(super) fn exemplar_lists(r: &Report) -> Vec<(&'static str, &'static str, &[Exemplar])> {
    let Some(e) = &r.exemplars else {
        return Vec::new();
    };
    let slowest = match r.sections.steps.noun() {
        "steps" => "Slowest steps",
        "responses" => "Slowest responses",
        _ => "Slowest records",
    };
    [
        (slowest, "seconds", &e.slowest_steps[..]),
        ("Slowest runs", "span (s)", &e.slowest_runs[..]),
        costliest_title(e),
        ("Latest failures", "created", &e.recent_failures[..]),
    ]
    .into_iter()
    .filter(|(_, _, list)| !list.is_empty())
    .collect()
}

/// The costliest runs, with the title and heading that say what they are ranked by:
/// dollars when priced, else tokens.
pub(super) fn costliest_title(
    e: &super::runs::Exemplars,
) -> (&'static str, &'static str, &[Exemplar]) {
    let list = &e.costliest_runs[..];
    match list.first().is_some_and(|x| x.cost_usd.is_some()) {
        true => ("Costliest runs", "cost", list),
        false => ("Runs with the most tokens", "tokens", list),
    }
}

/// The headings of [`exemplar_row`]'s columns, after the figure's.
pub(super) const EXEMPLAR_HEAD: [&str; 5] = ["step", "run", "status", "where", "error"];

/// An exemplar as cells: its figure, step id, run id, status, `file:line`, and the error
/// (`code: message`, failures only).
pub(super) fn exemplar_row(e: &Exemplar) -> [Cell; 6] {
    let figure = if e.figure == "created_at" {
        Cell::Label(e.created_at_utc.clone())
    } else if let Some(usd) = e.cost_usd {
        Cell::Usd(Some(usd))
    } else {
        Cell::Count(u64::try_from(e.value).unwrap_or(0))
    };
    let error = match (&e.code, &e.message) {
        (None, None) => String::new(),
        (c, m) => format!(
            "{}{}{}",
            c.as_deref().unwrap_or(""),
            if c.is_some() && m.is_some() { ": " } else { "" },
            m.as_deref()
                .unwrap_or("")
                .chars()
                .take(80)
                .collect::<String>()
        ),
    };
    [
        figure,
        Cell::Value(e.id.clone()),
        Cell::Value(e.run_id.clone().unwrap_or_default()),
        Cell::Value(e.status.clone()),
        Cell::Value(format!("{}:{}", e.file, e.line)),
        Cell::Text(error),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn styles_write_cells_their_way() {
        let plain = Style {
            missing: "-",
            thousands: true,
            value: |s| s.to_string(),
            text: |s| s.to_string(),
        };
        let md = Style {
            missing: "–",
            thousands: false,
            value: |s| format!("`{s}`"),
            text: |s| s.to_string(),
        };
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1_234_567), "1,234,567");
        assert_eq!(plain.cell(&Cell::Count(1234)), "1,234");
        assert_eq!(md.cell(&Cell::Count(1234)), "1234");
        assert_eq!(plain.cell(&Cell::Share(1, 3)), "33.3%");
        assert_eq!(plain.cell(&Cell::Share(1, 0)), "-");
        assert_eq!(md.cell(&Cell::Rate(None)), "–");
        assert_eq!(md.cell(&Cell::Rate(Some(0.5))), "50.00%");
        assert_eq!(
            md.cell(&Cell::Tagged("completed", "x".into())),
            "completed `x`"
        );
        assert_eq!(plain.cell(&Cell::Mean(Some(2.25))), "2.2");
    }

    #[test]
    fn ranked_orders_by_weight_then_key_and_counts_the_rest() {
        let m: BTreeMap<String, u64> = [("b", 2), ("a", 2), ("c", 5), ("d", 1)]
            .map(|(k, v)| (k.to_string(), v))
            .into();
        let (top, rest) = ranked(&m, 3, |v| *v);
        let keys: Vec<&str> = top.iter().map(|e| e.0.as_str()).collect();
        assert_eq!((keys, rest), (vec!["c", "a", "b"], 1));
    }
}
