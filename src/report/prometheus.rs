//! `--format prometheus`: the text exposition format, for node_exporter's textfile
//! collector (write it with `--output /var/lib/node_exporter/steplog.prom`).
//!
//! Every family has `# HELP` and `# TYPE`. Counts and sums are counters (`_total`), or
//! gauges without the suffix when the report covers a window (`--since 24h`: the counts
//! fall as the window moves on, which a counter must not);
//! durations are a summary per terminal status (quantiles 0.5 to 0.999, `_sum`, `_count`;
//! for groups 0.5, 0.9 and 0.99);
//! the failure rate and the newest `created_at` are gauges. With `--group-by`, each group
//! adds samples to the `steplog_group_*` families, labelled with its dimensions; a
//! breakdown along a dimension the groups already have (steps by status when grouping by
//! status) is left out there, since the group label says it.

use super::{Format, Group, Report, Sections, Usd, STATUSES};
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::{self, Write};

/// The Prometheus renderer.
#[derive(Debug, Clone, Copy, Default)]
pub struct Prometheus {
    /// When the report is made (Unix seconds), for `steplog_report_timestamp_seconds`;
    /// left out when `None`.
    pub generated_at: Option<i64>,
}

/// Families in order, each with its samples.
#[derive(Default)]
struct Families {
    order: Vec<&'static str>,
    families: BTreeMap<&'static str, (&'static str, &'static str, Vec<String>)>,
    /// The report covers a window (`--since`, `--until`): its counts of records are
    /// what the window holds, which goes down as the window moves on. They are gauges
    /// (without `_total`), or `rate()` would read every fall as a counter reset.
    windowed: bool,
    /// The report counts responses too: the help texts say records, not run steps.
    responses: bool,
}

impl Families {
    fn sample(
        &mut self,
        name: &'static str,
        kind: &'static str,
        help: &'static str,
        suffix: &str,
        labels: &[(String, String)],
        value: impl Into<Value>,
    ) {
        // The lines of the inputs are read whole, window or not: they stay counters.
        let input = name.starts_with("steplog_input_") || name == "steplog_malformed_lines_total";
        let (name, kind) = match (
            self.windowed && kind == "counter" && !input,
            name.strip_suffix("_total"),
        ) {
            (true, Some(base)) => (base, "gauge"),
            (true, None) => (name, "gauge"),
            _ => (name, kind),
        };
        if !self.families.contains_key(name) {
            self.order.push(name);
        }
        let entry = self
            .families
            .entry(name)
            .or_insert_with(|| (kind, help, Vec::new()));
        let mut line = format!("{name}{suffix}");
        if !labels.is_empty() {
            line.push('{');
            for (i, (k, v)) in labels.iter().enumerate() {
                if i > 0 {
                    line.push(',');
                }
                let _ = write!(line, "{k}=\"{}\"", super::escape::label(v));
            }
            line.push('}');
        }
        match value.into() {
            Value::Float(v) => {
                let _ = write!(line, " {}", number(v));
            }
            Value::Exact(v) => {
                let _ = write!(line, " {v}");
            }
        }
        entry.2.push(line);
    }

    /// One sample of a counter family.
    fn counter(
        &mut self,
        name: &'static str,
        help: &'static str,
        labels: &[(String, String)],
        v: u64,
    ) {
        self.sample(name, "counter", help, "", labels, v);
    }

    fn write(&self, out: &mut dyn Write) -> io::Result<()> {
        for name in &self.order {
            let (kind, help, samples) = &self.families[name];
            let help = match self.responses {
                true => help
                    .replace("Run steps", "Records (run steps and responses)")
                    .replace("run steps", "records"),
                false => help.to_string(),
            };
            writeln!(out, "# HELP {name} {help}")?;
            writeln!(out, "# TYPE {name} {kind}")?;
            for s in samples {
                writeln!(out, "{s}")?;
            }
        }
        Ok(())
    }
}

/// A sample's value: a measurement, or an exact decimal (counts, dollars), printed with
/// every digit.
enum Value {
    Float(f64),
    Exact(String),
}

impl From<f64> for Value {
    fn from(v: f64) -> Value {
        Value::Float(v)
    }
}

impl From<u64> for Value {
    fn from(v: u64) -> Value {
        Value::Exact(v.to_string())
    }
}

impl From<Usd> for Value {
    fn from(v: Usd) -> Value {
        Value::Exact(v.decimal())
    }
}

fn number(v: f64) -> String {
    if v.is_nan() {
        "NaN".into()
    } else if v.fract() == 0.0 && v.abs() < 1e15 {
        format!("{}", v as i64)
    } else {
        format!("{v}")
    }
}

fn with(base: &[(String, String)], k: &str, v: &str) -> Vec<(String, String)> {
    let mut l = base.to_vec();
    l.push((k.to_string(), v.to_string()));
    l
}

/// A label name for dimension `d`: label names allow only letters, digits and `_`
/// (`metadata.team` becomes `metadata_team`).
fn label_name(d: &str) -> String {
    d.chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect()
}

/// One terminal status's duration summary: its status, the quantiles, the count and the
/// mean.
type Summary = (
    &'static str,
    Vec<(&'static str, Option<u64>)>,
    u64,
    Option<f64>,
);

/// The figures every scope has (the whole input, or one group), as the families show them.
struct Figures<'a> {
    steps: u64,
    by_status: Vec<(&'a str, u64)>,
    /// Tool calls by kind (the whole input only).
    tool_calls: Option<&'a BTreeMap<String, u64>>,
    failures: u64,
    by_code: Vec<(&'a str, u64)>,
    rate: Option<f64>,
    /// Per terminal status: the quantiles, the count and the mean.
    durations: Vec<Summary>,
    tokens: [(&'static str, u64); 5],
    last_created: Option<i64>,
}

impl<'a> Figures<'a> {
    fn of_sections(s: &'a Sections) -> Figures<'a> {
        let d = &s.durations_seconds;
        Figures {
            steps: s.steps.total,
            by_status: pairs(s.steps.by_status.iter()),
            tool_calls: Some(&s.tool_calls.by_kind),
            failures: s.failures.total,
            by_code: pairs(s.failures.by_code.iter()),
            rate: s.failures.rate,
            durations: d
                .by_status()
                .into_iter()
                .map(|(st, ds)| {
                    let q = ds.quantiles().into_iter().map(|(_, q, v)| (q, v)).collect();
                    (st, q, ds.count, ds.mean)
                })
                .collect(),
            tokens: s.usage.tokens(),
            last_created: s.time_range.last_created_at,
        }
    }

    fn of_group(g: &'a Group) -> Figures<'a> {
        let u = &g.usage;
        Figures {
            steps: g.steps,
            by_status: pairs(g.by_status.iter()),
            tool_calls: None,
            failures: g.failures.total,
            by_code: pairs(g.failures.by_code.iter()),
            rate: g.failures.rate,
            durations: g
                .durations_seconds
                .iter()
                .map(|(st, d)| {
                    let q = vec![("0.5", d.p50), ("0.9", d.p90), ("0.99", d.p99)];
                    (st, q, d.count, d.mean)
                })
                .collect(),
            tokens: [
                ("prompt", u.prompt_tokens),
                ("completion", u.completion_tokens),
                ("total", u.total_tokens),
                ("cached", u.cached_tokens),
                ("reasoning", u.reasoning_tokens),
            ],
            last_created: g.time_range.last_created_at,
        }
    }
}

/// Map entries as label values and counts.
fn pairs<'a>(m: impl Iterator<Item = (&'a String, &'a u64)>) -> Vec<(&'a str, u64)> {
    m.map(|(k, n)| (k.as_str(), *n)).collect()
}

/// Where a scope's samples go: its family prefix, labels, and the dimensions its labels
/// already carry.
struct Scope<'a> {
    prefix: &'static str,
    labels: Vec<(String, String)>,
    dims: &'a [String],
}

macro_rules! fam {
    ($scope:expr, $name:literal) => {
        if $scope.prefix.is_empty() {
            concat!("steplog_", $name)
        } else {
            concat!("steplog_group_", $name)
        }
    };
}

fn figures(f: &mut Families, s: &Scope<'_>, x: &Figures<'_>) {
    let has = |d: &str| s.dims.iter().any(|x| x == d);
    let help = "Run steps summarised, by status.";
    if has("status") {
        f.counter(fam!(s, "steps_total"), help, &s.labels, x.steps);
    } else {
        // The whole input always has the five statuses of the spec, so the series exist
        // (at 0) before the first failure; other statuses seen are added.
        let known: &[&str] = if s.prefix.is_empty() { &STATUSES } else { &[] };
        let mut counts: BTreeMap<&str, u64> = known.iter().map(|k| (*k, 0)).collect();
        for &(k, v) in &x.by_status {
            counts.insert(k, v);
        }
        for (k, v) in counts {
            let l = with(&s.labels, "status", k);
            f.counter(fam!(s, "steps_total"), help, &l, v);
        }
    }
    if let (Some(kinds), false) = (x.tool_calls, has("tool")) {
        for (k, v) in kinds {
            let l = with(&s.labels, "kind", k);
            let help = "Tool calls made by run steps, by kind.";
            f.counter(fam!(s, "tool_calls_total"), help, &l, *v);
        }
    }
    let help = "Failed run steps, by last_error.code.";
    if has("error_code") {
        f.counter(fam!(s, "failures_total"), help, &s.labels, x.failures);
    } else {
        for &(k, v) in &x.by_code {
            let l = with(&s.labels, "code", k);
            f.counter(fam!(s, "failures_total"), help, &l, v);
        }
    }
    let help = "Failed steps over steps in a terminal status (NaN without terminal steps).";
    let rate = x.rate.unwrap_or(f64::NAN);
    f.sample(fam!(s, "failure_rate"), "gauge", help, "", &s.labels, rate);
    let name = fam!(s, "step_duration_seconds");
    let help = "Step duration (terminal timestamp minus created_at) by terminal status.";
    for (status, quantiles, count, mean) in &x.durations {
        if has("status") && *count == 0 {
            continue;
        }
        let base = if has("status") {
            s.labels.clone()
        } else {
            with(&s.labels, "status", status)
        };
        for (q, v) in quantiles {
            let v = v.map_or(f64::NAN, |v| v as f64);
            f.sample(name, "summary", help, "", &with(&base, "quantile", q), v);
        }
        let sum = mean.map_or(0.0, |m| (m * *count as f64).round());
        f.sample(name, "summary", help, "_sum", &base, sum);
        f.sample(name, "summary", help, "_count", &base, *count);
    }
    // Prompt and completion add up to the total (sum() over `kind` is the total); cached
    // and reasoning tokens are parts of them, in metrics of their own so no sum counts a
    // token twice.
    for (kind, v) in x.tokens {
        let (name, l, help) = match kind {
            "prompt" | "completion" => (
                fam!(s, "tokens_total"),
                with(&s.labels, "kind", kind),
                "Tokens used by run steps: prompt and completion (summed over kind, the total).",
            ),
            "cached" => (
                fam!(s, "cached_tokens_total"),
                s.labels.clone(),
                "Prompt tokens read from the prompt cache (part of kind=\"prompt\").",
            ),
            "reasoning" => (
                fam!(s, "reasoning_tokens_total"),
                s.labels.clone(),
                "Completion tokens spent on reasoning (part of kind=\"completion\").",
            ),
            _ => continue,
        };
        f.counter(name, help, &l, v);
    }
    if let Some(t) = x.last_created {
        let help = "created_at of the newest step summarised (Unix seconds).";
        let name = fam!(s, "last_created_timestamp_seconds");
        f.sample(name, "gauge", help, "", &s.labels, t as f64);
    }
}

impl Format for Prometheus {
    fn render(&self, r: &Report, out: &mut dyn Write) -> io::Result<()> {
        let mut f = Families {
            windowed: r.input.window.is_some(),
            responses: !r.sections.steps.by_api.is_empty(),
            ..Families::default()
        };
        let i = &r.input;
        // Label values in the singular, as Prometheus names kinds.
        let singular = ["record", "run", "blank", "delta", "framing", "malformed"];
        for (kind, (_, v)) in singular.into_iter().zip(i.counts.kinds()) {
            let help = "Input lines read, by kind.";
            let l = vec![("kind".to_string(), kind.to_string())];
            f.counter("steplog_input_lines_total", help, &l, v);
        }
        for (reason, v) in &i.malformed_by_reason {
            let help = "Malformed input lines, by reason.";
            let l = vec![("reason".to_string(), reason.clone())];
            f.counter("steplog_malformed_lines_total", help, &l, *v);
        }
        let help = "Input bytes read (after decompression).";
        f.counter("steplog_input_bytes_total", help, &[], i.bytes);
        let whole = Scope {
            prefix: "",
            labels: Vec::new(),
            dims: &[],
        };
        for (api, v) in &r.sections.steps.by_api {
            let help = "Records summarised, by API: assistants for the Assistants API, \
                        responses for the Responses API (the other families count both; \
                        --group-by api splits them).";
            let l = vec![("api".to_string(), api.clone())];
            f.counter("steplog_records_total", help, &l, *v);
        }
        figures(&mut f, &whole, &Figures::of_sections(&r.sections));
        runs(&mut f, r);
        cost(&mut f, r);
        for g in &r.groups {
            group(&mut f, r, g);
        }
        if let Some(t) = self.generated_at {
            let help = "When this report was made (Unix seconds).";
            f.sample(
                "steplog_report_timestamp_seconds",
                "gauge",
                help,
                "",
                &[],
                t as f64,
            );
        }
        f.write(out)
    }
}

/// Runs and threads: counts, outcomes, and summaries of the figures spread over runs.
fn runs(f: &mut Families, r: &Report) {
    let Some(runs) = &r.runs else { return };
    let help = "Runs (steps sharing a run_id), by outcome: the status of the last step.";
    for (outcome, n) in &runs.by_outcome {
        let l = vec![("outcome".to_string(), outcome.clone())];
        f.counter("steplog_runs_total", help, &l, *n);
    }
    let spreads = [
        ("steplog_run_steps", "Steps per run.", &runs.steps_per_run),
        (
            "steplog_run_span_seconds",
            "Seconds from a run's first step to its last terminal timestamp, over runs whose last step is terminal.",
            &runs.span_seconds,
        ),
        ("steplog_run_tool_calls", "Tool calls per run.", &runs.tool_calls_per_run),
        ("steplog_run_tokens", "Total tokens per run.", &runs.tokens_per_run),
    ];
    let threads = r.threads.as_ref().map(|t| {
        [
            (
                "steplog_thread_runs",
                "Runs per thread.",
                &t.runs_per_thread,
            ),
            (
                "steplog_thread_steps",
                "Steps per thread.",
                &t.steps_per_thread,
            ),
        ]
    });
    for (name, help, x) in spreads.iter().chain(threads.iter().flatten()) {
        for (q, v) in [("0.5", x.p50), ("0.9", x.p90), ("0.99", x.p99)] {
            let v = v.map_or(f64::NAN, |v| v as f64);
            let l = vec![("quantile".to_string(), q.to_string())];
            f.sample(name, "summary", help, "", &l, v);
        }
        let sum = x.mean.map_or(0.0, |m| (m * x.count as f64).round());
        f.sample(name, "summary", help, "_sum", &[], sum);
        f.sample(name, "summary", help, "_count", &[], x.count);
    }
    if let Some(t) = &r.threads {
        let help = "Threads (steps sharing a thread_id).";
        f.sample("steplog_threads", "gauge", help, "", &[], t.total);
    }
}

fn group(f: &mut Families, r: &Report, g: &Group) {
    let labels = r
        .group_by
        .iter()
        .zip(&g.key)
        .map(|(d, v)| (label_name(d), v.clone()))
        .collect();
    let s = Scope {
        prefix: "group",
        labels,
        dims: &r.group_by,
    };
    figures(f, &s, &Figures::of_group(g));
    if let Some(u) = g.cost_usd {
        let help = "Cost of the group's priced run steps, US dollars.";
        f.sample(
            "steplog_group_cost_usd_total",
            "counter",
            help,
            "",
            &s.labels,
            u,
        );
    }
}

/// What the steps cost: per model and assistant, and the steps that could not be priced.
fn cost(f: &mut Families, r: &Report) {
    let Some(c) = &r.cost else { return };
    let help =
        "Cost of the priced run steps (list prices; tool fees not included), US dollars, by model.";
    for (model, m) in &c.by_model {
        let l = vec![("model".to_string(), model.clone())];
        f.sample("steplog_cost_usd_total", "counter", help, "", &l, m.usd);
    }
    let help = "Cost of the priced run steps, US dollars, by assistant.";
    for (a, u) in &c.by_assistant {
        let l = vec![("assistant".to_string(), a.clone())];
        f.sample(
            "steplog_assistant_cost_usd_total",
            "counter",
            help,
            "",
            &l,
            *u,
        );
    }
    let help =
        "Run steps with usage that could not be priced, by reason (no_model, unknown_model).";
    for (reason, n) in &c.unpriced.by_reason {
        let l = vec![("reason".to_string(), reason.clone())];
        f.counter("steplog_unpriced_steps_total", help, &l, n.steps);
    }
}
