//! The report: plain data in a deterministic order, and one renderer per output format.
//!
//! [`Report`] is what `steplog summary` computed, nothing more: maps are `BTreeMap`s keyed
//! by the value seen, so the same input gives byte-identical output whatever the thread
//! count, chunking or I/O mode. Renderers ([`Format`]) turn it into text; none of them
//! computes anything new.

mod brief;
mod cells;
mod cost;
mod csv;
pub(crate) mod escape;
pub mod grid;
mod group;
mod html;
mod json;
mod markdown;
mod prometheus;
mod runs;
mod table;
mod time;
mod words;

pub use cells::GROUPS_SHOWN;
pub use cost::{Cost, KindFees, ModelCost, StepsTokens, ToolFees, Unpriced, Usd};
pub use csv::Csv;
pub use escape::visible;
pub use grid::Grid;
pub use group::{Counts, Group, GroupDuration, GroupDurations, GroupFailures};
pub use html::Html;
pub use json::Json;
pub use markdown::Markdown;
pub use prometheus::Prometheus;
pub use runs::{Exemplar, Exemplars, Runs, Spread, Threads};
pub use table::Table;
pub use time::{format_utc, parse_instant, TimeError};

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::io;

/// The step statuses the API documents; reports may hold others, kept verbatim.
pub const STATUSES: [&str; 5] = ["in_progress", "cancelled", "failed", "completed", "expired"];

/// Version of the JSON contract. Bumped when a key changes meaning or disappears; new
/// keys may appear without a bump.
pub const SCHEMA_VERSION: u32 = 2;

/// A summary of run-step logs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Report {
    /// Version of this layout ([`SCHEMA_VERSION`]).
    pub schema_version: u32,
    /// What was read.
    pub input: Input,
    /// The figures computed from records (flattened: their keys sit at the top level).
    #[serde(flatten)]
    pub sections: Sections,
    /// Figures over runs; null when they were not computed (`--no-runs`, or a state
    /// written before steplog counted runs).
    pub runs: Option<Runs>,
    /// Figures over threads; null like `runs`.
    pub threads: Option<Threads>,
    /// The steps and runs behind the figures; null with `--exemplars 0` (or like `runs`).
    pub exemplars: Option<Exemplars>,
    /// What the steps cost; null with `--no-cost` (or from a state written before
    /// steplog priced steps).
    pub cost: Option<Cost>,
    /// The `--group-by` dimensions, in order; empty without grouping.
    pub group_by: Vec<String>,
    /// How many groups there are (`groups` may hold fewer, with `--top`).
    pub groups_total: u64,
    /// `--top`: the most groups `groups` holds; null for all.
    pub groups_top: Option<u64>,
    /// How `groups` are ordered: `steps`, `failures`, `failure_rate`, `p50`, `p99`,
    /// `tokens` (largest first, ties by key) or `key` (ascending).
    pub groups_sorted_by: String,
    /// The figures of each group, in that order; empty without grouping.
    pub groups: Vec<Group>,
    /// `--dedup`'s figures; null without `--dedup`.
    pub dedup: Option<Dedup>,
    /// Advice for the reader (an event stream summarised without `--dedup`, directories
    /// not entered); empty when there is none.
    pub hints: Vec<String>,
}

/// Time buckets of `created_at`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TimeSeries {
    /// `hour` or `day` (UTC).
    pub interval: String,
    /// Buckets with at least one step, oldest first.
    pub buckets: Vec<TimeBucket>,
}

/// One bucket of a time series.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TimeBucket {
    /// Start, Unix seconds.
    pub start: i64,
    /// Start, RFC 3339 UTC.
    pub start_utc: String,
    /// Records created in the bucket.
    pub steps: u64,
    /// Of which failed.
    pub failed: u64,
    /// Failed steps by `last_error.code`.
    pub failures_by_code: BTreeMap<String, u64>,
    /// Sum of `prompt_tokens`.
    pub prompt_tokens: u64,
    /// Sum of `completion_tokens`.
    pub completion_tokens: u64,
    /// Sum of `total_tokens`.
    pub total_tokens: u64,
    /// The cost of the bucket's priced steps; null when costs are not kept.
    pub cost_usd: Option<Usd>,
    /// The bucket's steps with usage that could not be priced; null when costs are not
    /// kept.
    pub unpriced_steps: Option<u64>,
}

/// The figures computed from records, for the whole input ([`Report`]) and for each
/// group ([`Group`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Sections {
    /// First and last `created_at`.
    pub time_range: TimeRange,
    /// Steps by status and type.
    pub steps: Steps,
    /// Tool calls by kind and function.
    pub tool_calls: ToolCalls,
    /// Failed steps.
    pub failures: Failures,
    /// Durations in seconds.
    pub durations_seconds: Durations,
    /// Token usage.
    pub usage: Usage,
    /// Steps, failures and tokens per hour or day of `created_at`.
    pub time_series: TimeSeries,
}

/// What `--dedup` folded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Dedup {
    /// Run-step records read (every snapshot).
    pub snapshots: u64,
    /// Distinct step ids: the records summarised.
    pub steps: u64,
    /// Snapshots folded into a more advanced one: `snapshots - steps`.
    pub folded: u64,
}

/// Line accounting: `lines = records + runs + blank_lines + deltas + framing + malformed`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Input {
    /// Per input, in the order given.
    pub files: Vec<FileInput>,
    /// Bytes read.
    pub bytes: u64,
    /// Lines by kind, over all inputs.
    #[serde(flatten)]
    pub counts: LineCounts,
    /// Records outside `--since`/`--until` (or not matching `--where`), not summarised.
    pub filtered_out: u64,
    /// The time window records were read through, when one was set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub window: Option<Window>,
    /// The `created_at` range of the records the window left out, when it left any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outside_window: Option<TimeRange>,
    /// Malformed lines per reason; every reason is present.
    pub malformed_by_reason: BTreeMap<String, u64>,
    /// The first malformed lines, in input order.
    pub malformed_examples: Vec<MalformedLine>,
}

/// Line accounting of one input.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FileInput {
    /// The path as given (`-` for stdin).
    pub path: String,
    /// Bytes read (after decompression).
    pub bytes: u64,
    /// `gzip` or `zstd` for a compressed input, else null.
    pub compression: Option<String>,
    /// How a JSON document was read (`list pages`, `JSON array`, `JSON documents`), in
    /// which each element counts as a line; absent for JSONL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shape: Option<String>,
    /// Lines by kind.
    #[serde(flatten)]
    pub counts: LineCounts,
}

impl LineCounts {
    /// The counts of each kind of line (all but `lines`), in report order.
    pub fn kinds(&self) -> [(&'static str, u64); 6] {
        [
            ("records", self.records),
            ("runs", self.runs),
            ("blank", self.blank_lines),
            ("deltas", self.deltas),
            ("framing", self.framing),
            ("malformed", self.malformed),
        ]
    }
}

impl FileInput {
    /// An input's entry before its lines are counted.
    pub fn header(
        path: &str,
        bytes: u64,
        compression: Option<String>,
        shape: Option<String>,
    ) -> FileInput {
        FileInput {
            path: path.to_string(),
            bytes,
            compression,
            shape,
            counts: LineCounts::default(),
        }
    }
}

/// Lines by kind: every line is exactly one of records, runs, blank, deltas, framing or
/// malformed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LineCounts {
    /// Lines read.
    pub lines: u64,
    /// Run-step records summarised.
    pub records: u64,
    /// Run objects (`thread.run`: a list-runs export, or a run event's payload), read for
    /// their model.
    #[serde(default)]
    pub runs: u64,
    /// Empty or whitespace-only lines.
    pub blank_lines: u64,
    /// `thread.run.step.delta` events, counted and not summarised.
    pub deltas: u64,
    /// Event-stream plumbing: `event:`/`id:`/`retry:` lines, comments, `data: [DONE]`, and
    /// `data:` payloads of other event objects.
    pub framing: u64,
    /// Lines that are not a valid record.
    pub malformed: u64,
}

impl LineCounts {
    /// Adds `other` into `self`.
    pub fn add(&mut self, other: &LineCounts) {
        self.lines += other.lines;
        self.records += other.records;
        self.runs += other.runs;
        self.blank_lines += other.blank_lines;
        self.deltas += other.deltas;
        self.framing += other.framing;
        self.malformed += other.malformed;
    }
}

/// One malformed line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MalformedLine {
    /// The input it is in.
    pub file: String,
    /// 1-based line number.
    pub line: u64,
    /// Byte offset of the line's start.
    pub offset: u64,
    /// The reason, as in `malformed_by_reason`.
    pub reason: String,
    /// The field at fault, if any (`usage.total_tokens`).
    pub field: Option<String>,
    /// A human explanation.
    pub message: String,
}

/// The span of `created_at`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TimeRange {
    /// Earliest `created_at`, Unix seconds.
    pub first_created_at: Option<i64>,
    /// Latest `created_at`, Unix seconds.
    pub last_created_at: Option<i64>,
    /// Earliest, as RFC 3339 UTC.
    pub first_created_at_utc: Option<String>,
    /// Latest, as RFC 3339 UTC.
    pub last_created_at_utc: Option<String>,
}

/// A time window: `--since` (inclusive) and `--until` (exclusive), Unix seconds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Window {
    /// Earliest `created_at` read.
    pub since: Option<i64>,
    /// `created_at` from which records are left out.
    pub until: Option<i64>,
    /// `since` as RFC 3339 UTC.
    pub since_utc: Option<String>,
    /// `until` as RFC 3339 UTC.
    pub until_utc: Option<String>,
}

impl Window {
    /// A window from its bounds.
    pub fn new(since: Option<i64>, until: Option<i64>) -> Window {
        Window {
            since,
            until,
            since_utc: since.map(format_utc),
            until_utc: until.map(format_utc),
        }
    }

    /// As people read it: `2024-01-05T00:00:00Z … 2024-01-06T00:00:00Z`.
    pub fn text(&self) -> String {
        let or = |s: &Option<String>, none: &str| s.clone().unwrap_or_else(|| none.to_string());
        format!(
            "{} … {}",
            or(&self.since_utc, "the start"),
            or(&self.until_utc, "the end")
        )
    }
}

impl TimeRange {
    /// A range from its bounds.
    pub fn new(first: Option<i64>, last: Option<i64>) -> TimeRange {
        TimeRange {
            first_created_at: first,
            last_created_at: last,
            first_created_at_utc: first.map(format_utc),
            last_created_at_utc: last.map(format_utc),
        }
    }
}

/// Steps by status and type.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Steps {
    /// Records.
    pub total: u64,
    /// Distinct step ids among them, estimated (HyperLogLog, about ±0.8%).
    pub distinct_ids_estimate: u64,
    /// By `status`, verbatim.
    pub by_status: BTreeMap<String, u64>,
    /// By step type (`(none)` when absent).
    pub by_type: BTreeMap<String, u64>,
    /// By API (`assistants`, `responses`), when there are responses; else empty and
    /// left out, all records being run steps.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub by_api: BTreeMap<String, u64>,
    /// Records without a `created_at` (failed Batch API requests): counted here, and
    /// among the failures, but in no time figure. Left out when none.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub undated: u64,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

/// Tool calls.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ToolCalls {
    /// Tool calls in all steps.
    pub total: u64,
    /// By kind: `code_interpreter`, `file_search`, `function`, `retrieval`, `other`.
    pub by_kind: BTreeMap<String, u64>,
    /// Function calls by `function.name`.
    pub functions: BTreeMap<String, u64>,
    /// A response's MCP calls by `server.tool` (left out when none).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub mcp: BTreeMap<String, u64>,
    /// Responses' `reasoning` output items: not tool calls, counted apart (left out
    /// when none).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub reasoning_items: u64,
}

/// Failed steps.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Failures {
    /// Steps with status `failed`.
    pub total: u64,
    /// Steps in a terminal status (completed, failed, cancelled, expired).
    pub terminal_steps: u64,
    /// `total / terminal_steps`; null without terminal steps.
    pub rate: Option<f64>,
    /// By `last_error.code` (`(none)` when absent).
    pub by_code: BTreeMap<String, u64>,
    /// By `assistant_id`.
    pub by_assistant: BTreeMap<String, u64>,
    /// By step type.
    pub by_step_type: BTreeMap<String, u64>,
    /// By tool kind called in the step (once per kind per step; `(none)` without tools).
    pub by_tool: BTreeMap<String, u64>,
    /// The most frequent `last_error.message` values.
    pub top_messages: Vec<MessageCount>,
}

/// A message and how often it occurred.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MessageCount {
    /// The message, verbatim.
    pub message: String,
    /// Occurrences.
    pub count: u64,
}

/// Duration statistics of a group of steps, in seconds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DurationSummary {
    /// Steps with a usable duration.
    pub count: u64,
    /// Steps without one (no terminal timestamp, or one before `created_at`).
    pub missing: u64,
    /// Exact minimum.
    pub min: Option<u64>,
    /// Exact mean.
    pub mean: Option<f64>,
    /// HDR `value_at_quantile(0.50)`, clamped to `[min, max]`.
    pub p50: Option<u64>,
    /// HDR `value_at_quantile(0.90)`, clamped to `[min, max]`.
    pub p90: Option<u64>,
    /// HDR `value_at_quantile(0.95)`, clamped to `[min, max]`.
    pub p95: Option<u64>,
    /// HDR `value_at_quantile(0.99)`, clamped to `[min, max]`.
    pub p99: Option<u64>,
    /// HDR `value_at_quantile(0.999)`, clamped to `[min, max]`.
    pub p999: Option<u64>,
    /// Exact maximum.
    pub max: Option<u64>,
    /// Counts per bucket: durations `<= le` seconds and above the previous bound; the
    /// last bucket (`le` null) holds the rest. Bounds 0, 1, 2, 5, 10, 30, 60, 120, 300,
    /// 600, 1800, 3600.
    pub histogram: Vec<HistogramBucket>,
}

impl DurationSummary {
    /// The percentiles: field name, quantile, value.
    pub fn quantiles(&self) -> [(&'static str, &'static str, Option<u64>); 5] {
        [
            ("p50", "0.5", self.p50),
            ("p90", "0.9", self.p90),
            ("p95", "0.95", self.p95),
            ("p99", "0.99", self.p99),
            ("p999", "0.999", self.p999),
        ]
    }
}

/// One bucket of a duration histogram.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct HistogramBucket {
    /// Upper bound in seconds, inclusive; null for the last bucket.
    pub le: Option<u64>,
    /// Durations in the bucket (not cumulative).
    pub count: u64,
}

/// Durations per terminal status.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Durations {
    /// Completed steps.
    pub completed: DurationSummary,
    /// Failed steps.
    pub failed: DurationSummary,
    /// Cancelled steps.
    pub cancelled: DurationSummary,
    /// Expired steps (`expired_at`, else `expires_at`).
    pub expired: DurationSummary,
    /// Completed steps per step type.
    pub completed_by_type: BTreeMap<String, DurationSummary>,
}

impl Durations {
    /// The four terminal statuses and their durations, in report order.
    pub fn by_status(&self) -> [(&'static str, &DurationSummary); 4] {
        [
            ("completed", &self.completed),
            ("failed", &self.failed),
            ("cancelled", &self.cancelled),
            ("expired", &self.expired),
        ]
    }
}

/// Token usage.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Usage {
    /// Records whose `usage` is an object.
    pub steps_with_usage: u64,
    /// Records whose `usage` is null or absent.
    pub steps_without_usage: u64,
    /// Sum of `prompt_tokens`.
    pub prompt_tokens: u64,
    /// Sum of `completion_tokens`.
    pub completion_tokens: u64,
    /// Sum of `total_tokens`.
    pub total_tokens: u64,
    /// Sum of `prompt_token_details.cached_tokens`.
    pub cached_tokens: u64,
    /// Sum of `completion_tokens_details.reasoning_tokens`.
    pub reasoning_tokens: u64,
    /// Records where `total_tokens != prompt_tokens + completion_tokens`.
    pub total_mismatch: u64,
    /// The same sums per `assistant_id`.
    pub by_assistant: BTreeMap<String, UsageSums>,
}

impl Usage {
    /// The five token sums, in report order.
    pub fn tokens(&self) -> [(&'static str, u64); 5] {
        [
            ("prompt", self.prompt_tokens),
            ("completion", self.completion_tokens),
            ("total", self.total_tokens),
            ("cached", self.cached_tokens),
            ("reasoning", self.reasoning_tokens),
        ]
    }
}

impl UsageSums {
    /// The five token sums, in report order.
    pub fn tokens(&self) -> [u64; 5] {
        [
            self.prompt_tokens,
            self.completion_tokens,
            self.total_tokens,
            self.cached_tokens,
            self.reasoning_tokens,
        ]
    }
}

/// Token sums of a group of steps.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct UsageSums {
    /// Steps with usage.
    pub steps_with_usage: u64,
    /// Sum of `prompt_tokens`.
    pub prompt_tokens: u64,
    /// Sum of `completion_tokens`.
    pub completion_tokens: u64,
    /// Sum of `total_tokens`.
    pub total_tokens: u64,
    /// Sum of cached tokens.
    pub cached_tokens: u64,
    /// Sum of reasoning tokens.
    pub reasoning_tokens: u64,
}

/// An output format.
pub trait Format {
    /// Writes the report.
    fn render(&self, report: &Report, out: &mut dyn io::Write) -> io::Result<()>;
}

/// Renders `report` into a string (for tests and for callers that want one).
pub fn render_to_string(format: &dyn Format, report: &Report) -> String {
    let mut out = Vec::new();
    format
        .render(report, &mut out)
        .expect("writing to a Vec cannot fail");
    String::from_utf8(out).expect("renderers write UTF-8")
}

/// A size as the reports print it, in binary units: `3.47 KiB`, `1.41 GiB`.
pub fn binary_bytes(n: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut v = n as f64;
    let mut u = 0;
    while v >= 1024.0 && u + 1 < UNITS.len() {
        v /= 1024.0;
        u += 1;
    }
    if u == 0 {
        format!("{n} B")
    } else {
        format!("{v:.2} {}", UNITS[u])
    }
}
