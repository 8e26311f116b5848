//! Version 1 of the state file: its own structs, field by field, and the conversions to
//! and from the aggregators. Nothing here follows a private field of an aggregator by
//! accident: renaming one changes no byte of this format, and changing this format means
//! changing these structs (and the version). This steplog reads version 1 and writes
//! version 2 ([`super::v2`]), which keeps everything but the groups as they are here.
//!
//! Layout (JSON, fields in this order):
//!
//! ```text
//! { "format": "steplog-state", "version": 1,
//!   "settings": { "group_by": [DIM], "since": SECS|null, "until": SECS|null,
//!                 "dedup": BOOL, "max_line_bytes": N },
//!   "files": [ { "name": S, "bytes": N, "compression": "gzip"|"zstd"|null,
//!                "shape"?: "list pages"|"JSON array"|"JSON documents" } ],
//!   "summary": {
//!     "lines": { "files": [ { "totals": COUNTS, "chunk_lines": [N] } ],
//!                "by_reason": { REASON: N },
//!                "examples": [ { "pos": { "file", "chunk", "line", "offset" },
//!                                "reason": REASON, "field": S|null, "message": S } ] },
//!     "figures": FIGURES,
//!     "distinct": BASE64 (2^14 HyperLogLog registers),
//!     "dedup": null | { "snapshots": N, "steps": N, "folded": N },
//!     "groups": { "dims": [DIM], "groups": [ { "key": [S], "figures": FIGURES } ] },
//!     "filtered_out": N,
//!     "interval": "day"|"hour" } }
//! ```
//!
//! `FIGURES` is `steps` (`total`, `by_status`, `by_type`), `tools` (`by_kind`: five
//! counts in the order code_interpreter, file_search, function, retrieval, other;
//! `functions`), `failures` (`total`, `terminal`, `by_code`, `by_assistant`,
//! `by_step_type`, `by_tool`, `messages`), `durations` (`by_status`: four durations in the
//! order completed, failed, cancelled, expired; `completed_by_type`), `usage` (`records`,
//! `sums`, `total_mismatch`, `by_assistant`), `time_range` (`bounds`: `[first, last]` or
//! null) and `series` (`hours`: buckets keyed by hours since the epoch). A duration is
//! `count`, `missing`, `sum`, `min`, `max` and `hdr_v2_deflate`: the histogram in
//! HdrHistogram's standard V2 encoding with DEFLATE, in base64 (null when empty).

mod convert;

pub(super) use convert::{dims, distinct, distinct_text, interval, parse_dims};

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The whole file.
#[derive(Serialize, Deserialize)]
pub(super) struct StateV1 {
    /// Always `steplog-state`.
    pub format: String,
    /// Always 1.
    pub version: u32,
    pub settings: SettingsV1,
    pub files: Vec<FileV1>,
    pub summary: SummaryV1,
}

/// `settings`: what the figures depend on besides the inputs.
#[derive(Serialize, Deserialize)]
pub(super) struct SettingsV1 {
    /// `--group-by` dimensions by name.
    pub group_by: Vec<String>,
    pub since: Option<i64>,
    pub until: Option<i64>,
    pub dedup: bool,
    pub max_line_bytes: u64,
    /// Whether runs and threads were counted (version 3; earlier states did not).
    #[serde(default)]
    pub runs: bool,
    /// Exemplars kept of each kind (version 3; earlier states kept none).
    #[serde(default)]
    pub exemplars: usize,
    /// `--where`, in its normal form (version 3).
    #[serde(default, rename = "where")]
    pub filter: Option<String>,
    /// Whether the cost ledger was kept (version 4; earlier states kept none).
    #[serde(default)]
    pub cost: bool,
}

/// One input.
#[derive(Serialize, Deserialize)]
pub(super) struct FileV1 {
    pub name: String,
    /// Bytes read, after decompression.
    pub bytes: u64,
    /// `gzip`, `zstd` or null.
    pub compression: Option<String>,
    /// `list pages`, `JSON array`, `JSON documents`; absent for JSONL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shape: Option<String>,
}

impl SummaryV1 {
    /// How many groups it holds.
    pub fn groups(&self) -> usize {
        self.groups.groups.len()
    }
}

#[derive(Serialize, Deserialize)]
pub(super) struct SummaryV1 {
    lines: LinesV1,
    figures: FiguresV1,
    /// The HyperLogLog registers, base64.
    distinct: String,
    dedup: Option<DedupV1>,
    groups: GroupsV1,
    filtered_out: u64,
    /// `day` or `hour`: how the summary renders by default.
    interval: String,
}

#[derive(Serialize, Deserialize)]
pub(in crate::state) struct LinesV1 {
    files: Vec<FileCountsV1>,
    /// Counts per malformed reason seen, in the order [`Reason::ALL`] lists them.
    by_reason: ReasonCounts,
    /// The earliest malformed lines, by position.
    examples: Vec<ExampleV1>,
}

/// A JSON object whose keys keep the order they are written in.
struct ReasonCounts(Vec<(String, u64)>);

impl Serialize for ReasonCounts {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut m = s.serialize_map(Some(self.0.len()))?;
        for (k, v) in &self.0 {
            m.serialize_entry(k, v)?;
        }
        m.end()
    }
}

impl<'de> Deserialize<'de> for ReasonCounts {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let m = BTreeMap::<String, u64>::deserialize(d)?;
        Ok(ReasonCounts(m.into_iter().collect()))
    }
}

#[derive(Serialize, Deserialize)]
struct CountsV1 {
    lines: u64,
    records: u64,
    /// Run objects (version 4; none before).
    #[serde(default)]
    runs: u64,
    blank_lines: u64,
    deltas: u64,
    framing: u64,
    malformed: u64,
}

#[derive(Serialize, Deserialize)]
struct FileCountsV1 {
    totals: CountsV1,
    /// Lines per chunk, to turn chunk-relative positions into line numbers.
    chunk_lines: Vec<u64>,
    /// For a JSON document: physical lines per chunk (its entries are not its lines).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    chunk_spans: Vec<u64>,
}

#[derive(Serialize, Deserialize)]
struct PosV1 {
    file: u32,
    chunk: u64,
    line: u64,
    offset: u64,
}

#[derive(Serialize, Deserialize)]
struct ExampleV1 {
    pos: PosV1,
    reason: String,
    field: Option<String>,
    message: String,
}

#[derive(Serialize, Deserialize)]
pub(in crate::state) struct DedupV1 {
    snapshots: u64,
    steps: u64,
    folded: u64,
}

#[derive(Serialize, Deserialize)]
struct GroupsV1 {
    dims: Vec<String>,
    /// Sorted by key.
    groups: Vec<GroupV1>,
}

#[derive(Serialize, Deserialize)]
struct GroupV1 {
    key: Vec<String>,
    figures: FiguresV1,
}

#[derive(Serialize, Deserialize)]
pub(in crate::state) struct FiguresV1 {
    steps: StepsV1,
    tools: ToolsV1,
    failures: FailuresV1,
    durations: DurationsV1,
    usage: UsageV1,
    time_range: TimeRangeV1,
    series: SeriesV1,
    /// Responses' tool calls with a fee, `[KIND, HOUR, CALLS]` (version 5, when any).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    fee_calls: Vec<(String, u32, u64)>,
}

#[derive(Serialize, Deserialize)]
struct StepsV1 {
    total: u64,
    by_status: BTreeMap<String, u64>,
    by_type: BTreeMap<String, u64>,
    /// Run steps and responses (version 5, when there are responses).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    by_api: Option<[u64; 2]>,
    /// Undated records (version 5, when there are any).
    #[serde(default, skip_serializing_if = "is_zero")]
    undated: u64,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

#[derive(Serialize, Deserialize)]
struct ToolsV1 {
    /// The five kinds of run steps' tool calls; from version 5, the four kinds of
    /// responses' after them when any was made.
    by_kind: Vec<u64>,
    /// A response's MCP calls by `server.tool` (version 5, when any).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    mcp: BTreeMap<String, u64>,
    /// Responses' reasoning items (version 5, when any).
    #[serde(default, skip_serializing_if = "is_zero")]
    reasoning_items: u64,
    functions: BTreeMap<String, u64>,
}

#[derive(Serialize, Deserialize)]
struct FailuresV1 {
    total: u64,
    terminal: u64,
    by_code: BTreeMap<String, u64>,
    by_assistant: BTreeMap<String, u64>,
    by_step_type: BTreeMap<String, u64>,
    by_tool: BTreeMap<String, u64>,
    messages: BTreeMap<String, u64>,
}

#[derive(Serialize, Deserialize)]
struct DurationsV1 {
    by_status: [DurationV1; 4],
    completed_by_type: BTreeMap<String, DurationV1>,
}

#[derive(Serialize, Deserialize)]
struct DurationV1 {
    count: u64,
    missing: u64,
    sum: u128,
    min: Option<u64>,
    max: Option<u64>,
    hdr_v2_deflate: Option<String>,
}

#[derive(Serialize, Deserialize)]
struct UsageV1 {
    records: u64,
    sums: SumsV1,
    total_mismatch: u64,
    by_assistant: BTreeMap<String, SumsV1>,
}

#[derive(Serialize, Deserialize)]
pub(in crate::state) struct SumsV1 {
    steps_with_usage: u64,
    prompt_tokens: u64,
    completion_tokens: u64,
    total_tokens: u64,
    cached_tokens: u64,
    reasoning_tokens: u64,
}

#[derive(Serialize, Deserialize)]
struct TimeRangeV1 {
    bounds: Option<(i64, i64)>,
}

#[derive(Serialize, Deserialize)]
struct SeriesV1 {
    hours: BTreeMap<i64, BucketV1>,
}

#[derive(Serialize, Deserialize)]
struct BucketV1 {
    steps: u64,
    failed: u64,
    failures_by_code: BTreeMap<String, u64>,
    prompt_tokens: u64,
    completion_tokens: u64,
    total_tokens: u64,
}

/// What is wrong with a state's content.
pub(super) type Invalid = String;

fn map<A, B>(m: &BTreeMap<String, A>, f: impl Fn(&A) -> B) -> BTreeMap<String, B> {
    m.iter().map(|(k, v)| (k.clone(), f(v))).collect()
}

fn try_map<A, B>(
    m: BTreeMap<String, A>,
    f: impl Fn(A) -> Result<B, Invalid>,
) -> Result<BTreeMap<String, B>, Invalid> {
    m.into_iter().map(|(k, v)| Ok((k, f(v)?))).collect()
}
