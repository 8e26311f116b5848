//! `--format csv`: tidy data, one row per group and figure (or, with `--csv-layout wide`,
//! one row per group: see [`Csv::wide`]).
//!
//! Columns: one per `--group-by` dimension (`(all)` on the rows of the whole input), then
//! `bucket` (the start of a time-series bucket, else empty), `metric` (a dotted path of
//! the JSON contract, such as `steps.by_status` or `durations_seconds.completed.p99`),
//! `key` (the map key, such as the status, error code or assistant, else empty; a key
//! inside a keyed entry, like the histogram bucket of one step type, is joined to it with
//! `|`: `tool_calls|30`) and `value`. Every figure of the JSON report is a row, except the
//! malformed-line examples (text, not figures); nulls are empty values. Within a group,
//! rows are sorted by metric path (then by key, in the order the JSON has them). Fields
//! are quoted as RFC 4180 says.

use super::{
    Cost, Dedup, DurationSummary, Exemplar, Failures, Format, Group, Input, Report, Sections,
    Spread, Steps, TimeRange, TimeSeries, ToolCalls, Usage, UsageSums, Usd,
};
use std::collections::BTreeMap;
use std::io::{self, Write};

/// The CSV renderer.
#[derive(Debug, Clone, Copy, Default)]
pub struct Csv {
    /// One row per group (`--csv-layout wide`): the dimensions, then the figures a
    /// spreadsheet compares groups by, a column each (see [`WIDE_HEAD`]); the whole input
    /// first, its dimensions `(all)`. By default, tidy (the module's description).
    pub wide: bool,
}

/// The figures of a wide row, after the dimensions (then `cost_usd` and
/// `unpriced_steps` when costs are kept). A rate is a fraction; an unknown value is empty.
pub const WIDE_HEAD: [&str; 9] = [
    "steps",
    "failed",
    "failure_rate",
    "p50_seconds",
    "p90_seconds",
    "p99_seconds",
    "prompt_tokens",
    "completion_tokens",
    "total_tokens",
];

/// A wide row's figures: steps, failures, rate, completed p50/p90/p99, tokens, cost.
struct Wide<'a> {
    steps: u64,
    failed: u64,
    rate: Option<f64>,
    quantiles: [Option<u64>; 3],
    tokens: [u64; 3],
    cost: Option<(Option<Usd>, u64)>,
    key: &'a [String],
}

impl Wide<'_> {
    fn cells(&self) -> Vec<String> {
        let opt = |v: Option<u64>| v.map_or_else(String::new, |v| v.to_string());
        let mut row: Vec<String> = self.key.to_vec();
        row.extend([
            self.steps.to_string(),
            self.failed.to_string(),
            self.rate.map_or_else(String::new, float),
        ]);
        row.extend(self.quantiles.map(opt));
        row.extend(self.tokens.map(|t| t.to_string()));
        if let Some((usd, unpriced)) = self.cost {
            row.push(usd.map_or_else(String::new, |u| u.decimal()));
            row.push(unpriced.to_string());
        }
        row
    }
}

/// `--csv-layout wide`: a header, the whole input, then a row per group.
fn render_wide(r: &Report, out: &mut dyn Write) -> io::Result<()> {
    let mut w = writer(out);
    let mut head: Vec<&str> = r.group_by.iter().map(String::as_str).collect();
    head.extend(WIDE_HEAD);
    if r.cost.is_some() {
        head.extend(["cost_usd", "unpriced_steps"]);
    }
    w.write_record(&head).map_err(io_error)?;
    let s = &r.sections;
    let d = &s.durations_seconds.completed;
    let u = &s.usage;
    let all = vec!["(all)".to_string(); r.group_by.len()];
    let whole = Wide {
        steps: s.steps.total,
        failed: s.failures.total,
        rate: s.failures.rate,
        quantiles: [d.p50, d.p90, d.p99],
        tokens: [u.prompt_tokens, u.completion_tokens, u.total_tokens],
        cost: r
            .cost
            .as_ref()
            .map(|c| (Some(c.total_usd), c.unpriced.steps)),
        key: &all,
    };
    w.write_record(whole.cells()).map_err(io_error)?;
    for g in &r.groups {
        let d = g.completed();
        let q = |f: fn(&super::GroupDuration) -> Option<u64>| d.and_then(f);
        let u = &g.usage;
        let row = Wide {
            steps: g.steps,
            failed: g.failures.total,
            rate: g.failures.rate,
            quantiles: [q(|d| d.p50), q(|d| d.p90), q(|d| d.p99)],
            tokens: [u.prompt_tokens, u.completion_tokens, u.total_tokens],
            cost: r
                .cost
                .as_ref()
                .map(|_| (g.cost_usd, g.unpriced_steps.unwrap_or(0))),
            key: &g.key,
        };
        w.write_record(row.cells()).map_err(io_error)?;
    }
    w.flush()
}

/// A number or text as the JSON report writes it (`9.0`, `0.25`, `12`).
fn float(v: f64) -> String {
    serde_json::Number::from_f64(v).map_or_else(String::new, |n| n.to_string())
}

/// The rows of one scope (the whole input, or one group), in metric order.
#[derive(Default)]
struct Rows {
    rows: Vec<[String; 4]>,
}

impl Rows {
    fn push(&mut self, bucket: &str, metric: &str, key: &str, value: String) {
        self.rows
            .push([bucket.into(), metric.into(), key.into(), value]);
    }

    fn n(&mut self, metric: &str, key: &str, v: u64) {
        self.push("", metric, key, v.to_string());
    }

    fn float(&mut self, metric: &str, v: Option<f64>) {
        self.push("", metric, "", v.map_or_else(String::new, float));
    }

    fn opt(&mut self, metric: &str, key: &str, v: Option<impl ToString>) {
        self.push(
            "",
            metric,
            key,
            v.map_or_else(String::new, |v| v.to_string()),
        );
    }

    fn map(&mut self, metric: &str, outer: &str, m: &BTreeMap<String, u64>) {
        for (k, v) in m {
            self.n(metric, &nest(outer, k), *v);
        }
    }

    fn dedup(&mut self, d: &Option<Dedup>) {
        match d {
            None => self.push("", "dedup", "", String::new()),
            Some(d) => {
                self.n("dedup.folded", "", d.folded);
                self.n("dedup.snapshots", "", d.snapshots);
                self.n("dedup.steps", "", d.steps);
            }
        }
    }

    fn duration(&mut self, path: &str, key: &str, d: &DurationSummary) {
        let m = |f: &str| format!("{path}.{f}");
        self.n(&m("count"), key, d.count);
        for h in &d.histogram {
            let le = h.le.map_or_else(|| "+Inf".to_string(), |n| n.to_string());
            self.n(&m("histogram"), &nest(key, &le), h.count);
        }
        self.opt(&m("max"), key, d.max);
        self.push("", &m("mean"), key, d.mean.map_or_else(String::new, float));
        self.opt(&m("min"), key, d.min);
        self.n(&m("missing"), key, d.missing);
        for (f, _, v) in d.quantiles() {
            self.opt(&m(f), key, v);
        }
    }

    fn spread(&mut self, path: &str, x: &Spread) {
        let m = |f: &str| format!("{path}.{f}");
        self.n(&m("count"), "", x.count);
        self.opt(&m("max"), "", x.max);
        self.push("", &m("mean"), "", x.mean.map_or_else(String::new, float));
        self.opt(&m("min"), "", x.min);
        self.opt(&m("p50"), "", x.p50);
        self.opt(&m("p90"), "", x.p90);
        self.opt(&m("p99"), "", x.p99);
    }

    /// Runs, threads and exemplars (an exemplar is a row keyed by its step id, or its run
    /// id, with the figure's value; JSON has the rest of it).
    fn runs(&mut self, r: &Report) {
        let list = |rows: &mut Rows, path: &str, list: &[Exemplar], key: fn(&Exemplar) -> &str| {
            for e in list {
                rows.push(
                    "",
                    &format!("{path}.{}", e.figure),
                    key(e),
                    e.cost_usd
                        .map_or_else(|| e.value.to_string(), |u| u.decimal()),
                );
            }
        };
        if let Some(e) = &r.exemplars {
            fn run(e: &Exemplar) -> &str {
                e.run_id.as_deref().unwrap_or("")
            }
            fn step(e: &Exemplar) -> &str {
                &e.id
            }
            list(self, "exemplars.costliest_runs", &e.costliest_runs, run);
            list(self, "exemplars.recent_failures", &e.recent_failures, step);
            list(self, "exemplars.slowest_runs", &e.slowest_runs, run);
            list(self, "exemplars.slowest_steps", &e.slowest_steps, step);
        }
        if let Some(x) = &r.runs {
            self.map("runs.by_outcome", "", &x.by_outcome);
            self.spread("runs.span_seconds", &x.span_seconds);
            self.spread("runs.steps_per_run", &x.steps_per_run);
            self.n("runs.steps_without_run", "", x.steps_without_run);
            self.spread("runs.tokens_per_run", &x.tokens_per_run);
            self.spread("runs.tool_calls_per_run", &x.tool_calls_per_run);
            self.n("runs.total", "", x.total);
        }
        if let Some(t) = &r.threads {
            self.spread("threads.runs_per_thread", &t.runs_per_thread);
            self.spread("threads.steps_per_thread", &t.steps_per_thread);
            self.n("threads.steps_without_thread", "", t.steps_without_thread);
            self.n("threads.total", "", t.total);
        }
    }

    fn failures(&mut self, f: &Failures) {
        self.map("failures.by_assistant", "", &f.by_assistant);
        self.map("failures.by_code", "", &f.by_code);
        self.map("failures.by_step_type", "", &f.by_step_type);
        self.map("failures.by_tool", "", &f.by_tool);
        self.float("failures.rate", f.rate);
        self.n("failures.terminal_steps", "", f.terminal_steps);
        for m in &f.top_messages {
            self.n("failures.top_messages", &m.message, m.count);
        }
        self.n("failures.total", "", f.total);
    }

    fn input(&mut self, i: &Input) {
        let c = &i.counts;
        self.n("input.blank_lines", "", c.blank_lines);
        self.n("input.bytes", "", i.bytes);
        self.n("input.deltas", "", c.deltas);
        for f in &i.files {
            let (k, c) = (f.path.as_str(), &f.counts);
            self.n("input.files.blank_lines", k, c.blank_lines);
            self.n("input.files.bytes", k, f.bytes);
            self.opt("input.files.compression", k, f.compression.as_deref());
            self.n("input.files.deltas", k, c.deltas);
            self.n("input.files.framing", k, c.framing);
            self.n("input.files.lines", k, c.lines);
            self.n("input.files.malformed", k, c.malformed);
            self.n("input.files.records", k, c.records);
            self.n("input.files.runs", k, c.runs);
            if let Some(shape) = &f.shape {
                self.opt("input.files.shape", k, Some(shape));
            }
        }
        self.n("input.filtered_out", "", i.filtered_out);
        self.n("input.framing", "", c.framing);
        self.n("input.lines", "", c.lines);
        self.n("input.malformed", "", c.malformed);
        self.map("input.malformed_by_reason", "", &i.malformed_by_reason);
        if let Some(o) = &i.outside_window {
            self.opt(
                "input.outside_window.first_created_at_utc",
                "",
                o.first_created_at_utc.as_ref(),
            );
            self.opt(
                "input.outside_window.last_created_at_utc",
                "",
                o.last_created_at_utc.as_ref(),
            );
        }
        self.n("input.records", "", c.records);
        self.n("input.runs", "", c.runs);
        if let Some(w) = &i.window {
            self.opt("input.window.since_utc", "", w.since_utc.as_ref());
            self.opt("input.window.until_utc", "", w.until_utc.as_ref());
        }
    }

    fn steps(&mut self, s: &Steps) {
        self.map("steps.by_api", "", &s.by_api);
        self.map("steps.by_status", "", &s.by_status);
        self.map("steps.by_type", "", &s.by_type);
        self.n("steps.distinct_ids_estimate", "", s.distinct_ids_estimate);
        self.n("steps.total", "", s.total);
    }

    fn time_range(&mut self, t: &TimeRange) {
        self.opt("time_range.first_created_at", "", t.first_created_at);
        self.opt(
            "time_range.first_created_at_utc",
            "",
            t.first_created_at_utc.as_deref(),
        );
        self.opt("time_range.last_created_at", "", t.last_created_at);
        self.opt(
            "time_range.last_created_at_utc",
            "",
            t.last_created_at_utc.as_deref(),
        );
    }

    fn time_series(&mut self, t: &TimeSeries) {
        for b in &t.buckets {
            let at = b.start_utc.as_str();
            let n =
                |rows: &mut Rows, m: &str, key: &str, v: u64| rows.push(at, m, key, v.to_string());
            n(
                self,
                "time_series.completion_tokens",
                "",
                b.completion_tokens,
            );
            if let Some(u) = b.cost_usd {
                self.usd(at, "time_series.cost_usd", "", u);
            }
            n(self, "time_series.failed", "", b.failed);
            for (k, v) in &b.failures_by_code {
                n(self, "time_series.failures_by_code", k, *v);
            }
            n(self, "time_series.prompt_tokens", "", b.prompt_tokens);
            n(self, "time_series.steps", "", b.steps);
            n(self, "time_series.total_tokens", "", b.total_tokens);
            if let Some(u) = b.unpriced_steps {
                n(self, "time_series.unpriced_steps", "", u);
            }
        }
        self.push("", "time_series.interval", "", t.interval.clone());
    }

    fn usd(&mut self, bucket: &str, metric: &str, key: &str, v: Usd) {
        self.push(bucket, metric, key, v.decimal());
    }

    fn cost(&mut self, c: &Option<Cost>) {
        let Some(c) = c else { return };
        for (k, v) in &c.by_assistant {
            self.usd("", "cost.by_assistant", k, *v);
        }
        for (k, m) in &c.by_model {
            self.n("cost.by_model.cached_tokens", k, m.cached_tokens);
            self.n("cost.by_model.completion_tokens", k, m.completion_tokens);
            self.n("cost.by_model.prompt_tokens", k, m.prompt_tokens);
            self.n("cost.by_model.reasoning_tokens", k, m.reasoning_tokens);
            self.n("cost.by_model.steps", k, m.steps);
            self.usd("", "cost.by_model.usd", k, m.usd);
        }
        self.map("cost.model_from", "", &c.model_from);
        for (i, n) in c.notes.iter().enumerate() {
            self.push("", "cost.notes", &i.to_string(), n.clone());
        }
        self.push("", "cost.prices", "", c.prices.clone());
        self.usd("", "cost.total_usd", "", c.total_usd);
        let u = &c.unpriced;
        for (k, r) in &u.by_reason {
            self.n("cost.unpriced.by_reason.steps", k, r.steps);
        }
        for (k, r) in &u.by_reason {
            self.n("cost.unpriced.by_reason.tokens", k, r.tokens);
        }
        self.n("cost.unpriced.steps", "", u.steps);
        self.n("cost.unpriced.tokens", "", u.tokens);
        for (k, r) in &u.unknown_models {
            self.n("cost.unpriced.unknown_models.steps", k, r.steps);
        }
        for (k, r) in &u.unknown_models {
            self.n("cost.unpriced.unknown_models.tokens", k, r.tokens);
        }
        if let Some(f) = &c.tool_fees {
            for (k, v) in &f.by_kind {
                self.n("cost.tool_fees.by_kind.calls", k, v.calls);
                if let Some(usd) = v.usd {
                    self.usd("", "cost.tool_fees.by_kind.usd", k, usd);
                }
            }
            self.n("cost.tool_fees.unpriced_calls", "", f.unpriced_calls);
            self.usd("", "cost.tool_fees.usd", "", f.usd);
        }
    }

    fn tool_calls(&mut self, t: &ToolCalls) {
        self.map("tool_calls.by_kind", "", &t.by_kind);
        self.map("tool_calls.functions", "", &t.functions);
        self.map("tool_calls.mcp", "", &t.mcp);
        self.n("tool_calls.total", "", t.total);
    }

    fn sums(&mut self, path: &str, key: &str, s: &UsageSums) {
        let m = |f: &str| format!("{path}.{f}");
        self.n(&m("cached_tokens"), key, s.cached_tokens);
        self.n(&m("completion_tokens"), key, s.completion_tokens);
        self.n(&m("prompt_tokens"), key, s.prompt_tokens);
        self.n(&m("reasoning_tokens"), key, s.reasoning_tokens);
        self.n(&m("steps_with_usage"), key, s.steps_with_usage);
        self.n(&m("total_tokens"), key, s.total_tokens);
    }

    fn usage(&mut self, u: &Usage) {
        for (k, s) in &u.by_assistant {
            self.sums("usage.by_assistant", k, s);
        }
        self.n("usage.cached_tokens", "", u.cached_tokens);
        self.n("usage.completion_tokens", "", u.completion_tokens);
        self.n("usage.prompt_tokens", "", u.prompt_tokens);
        self.n("usage.reasoning_tokens", "", u.reasoning_tokens);
        self.n("usage.steps_with_usage", "", u.steps_with_usage);
        self.n("usage.steps_without_usage", "", u.steps_without_usage);
        self.n("usage.total_mismatch", "", u.total_mismatch);
        self.n("usage.total_tokens", "", u.total_tokens);
    }

    /// One group's figures, in metric order.
    fn group(&mut self, g: &Group) {
        if let Some(u) = g.cost_usd {
            self.usd("", "cost_usd", "", u);
        }
        let mut durations: Vec<_> = g.durations_seconds.iter().collect();
        durations.sort_by_key(|(status, _)| *status);
        for (status, d) in durations {
            let m = |f: &str| format!("durations_seconds.{status}.{f}");
            self.n(&m("count"), "", d.count);
            self.opt(&m("max"), "", d.max);
            self.push("", &m("mean"), "", d.mean.map_or_else(String::new, float));
            self.opt(&m("min"), "", d.min);
            self.n(&m("missing"), "", d.missing);
            for (f, v) in [("p50", d.p50), ("p90", d.p90), ("p99", d.p99)] {
                self.opt(&m(f), "", v);
            }
        }
        let f = &g.failures;
        self.map("failures.by_code", "", &f.by_code.to_map());
        self.float("failures.rate", f.rate);
        self.n("failures.terminal_steps", "", f.terminal_steps);
        self.n("failures.total", "", f.total);
        self.map("steps.by_status", "", &g.by_status.to_map());
        self.n("steps.total", "", g.steps);
        self.time_range(&g.time_range);
        if let Some(n) = g.unpriced_steps {
            self.n("unpriced_steps", "", n);
        }
        self.sums("usage", "", &g.usage);
    }

    /// The whole input's figures, in metric order (what only the report has, `dedup`,
    /// `input` and `schema_version`, where it sorts).
    fn sections(&mut self, s: &Sections, whole: &Report) {
        let d = &s.durations_seconds;
        self.cost(&whole.cost);
        self.dedup(&whole.dedup);
        self.duration("durations_seconds.cancelled", "", &d.cancelled);
        self.duration("durations_seconds.completed", "", &d.completed);
        for (ty, ds) in &d.completed_by_type {
            self.duration("durations_seconds.completed_by_type", ty, ds);
        }
        self.duration("durations_seconds.expired", "", &d.expired);
        self.duration("durations_seconds.failed", "", &d.failed);
        // Runs, threads and exemplars, each where its metric path sorts.
        let mut extra = Rows::default();
        extra.runs(whole);
        let part = |prefix: &str| -> Vec<[String; 4]> {
            extra
                .rows
                .iter()
                .filter(|r| r[1].starts_with(prefix))
                .cloned()
                .collect()
        };
        self.rows.extend(part("exemplars."));
        self.failures(&s.failures);
        self.input(&whole.input);
        self.rows.extend(part("runs."));
        self.n("schema_version", "", u64::from(whole.schema_version));
        self.steps(&s.steps);
        self.rows.extend(part("threads."));
        self.time_range(&s.time_range);
        self.time_series(&s.time_series);
        self.tool_calls(&s.tool_calls);
        self.usage(&s.usage);
    }
}

/// A key under an outer key (a histogram bucket of one step type): both, joined by `|`.
fn nest(outer: &str, inner: &str) -> String {
    if outer.is_empty() {
        inner.to_string()
    } else {
        format!("{outer}|{inner}")
    }
}

/// The `csv` crate's writer: fields quoted as RFC 4180 says (when they hold a comma, a
/// quote or a line break), lines ended by `\n`.
fn writer(out: &mut dyn Write) -> csv::Writer<&mut dyn Write> {
    csv::WriterBuilder::new()
        .terminator(csv::Terminator::Any(b'\n'))
        .from_writer(out)
}

/// The I/O error itself (so a closed pipe is still one), or the CSV error as one.
fn io_error(e: csv::Error) -> io::Error {
    match e.into_kind() {
        csv::ErrorKind::Io(e) => e,
        other => io::Error::other(format!("{other:?}")),
    }
}

fn write_rows(
    w: &mut csv::Writer<&mut dyn Write>,
    group: &[String],
    rows: &Rows,
) -> io::Result<()> {
    for [bucket, metric, key, value] in &rows.rows {
        w.write_record(group.iter().chain([bucket, metric, key, value]))
            .map_err(io_error)?;
    }
    Ok(())
}

impl Format for Csv {
    fn render(&self, report: &Report, out: &mut dyn Write) -> io::Result<()> {
        if self.wide {
            return render_wide(report, out);
        }
        let mut w = writer(out);
        let head = ["bucket", "metric", "key", "value"];
        w.write_record(report.group_by.iter().map(String::as_str).chain(head))
            .map_err(io_error)?;
        let mut rows = Rows::default();
        rows.sections(&report.sections, report);
        let all = vec!["(all)".to_string(); report.group_by.len()];
        write_rows(&mut w, &all, &rows)?;
        for g in &report.groups {
            let mut rows = Rows::default();
            rows.group(g);
            write_rows(&mut w, &g.key, &rows)?;
        }
        w.flush()
    }
}
