//! The report's runs, threads and exemplars: plain data, like the rest of the report.

use super::Usd;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// How a figure spreads over runs or threads: nearest-rank percentiles (⌈n·q⌉-th
/// smallest), exact. Null fields when there are none.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Spread {
    /// How many runs (or threads) have the figure.
    pub count: u64,
    /// Smallest.
    pub min: Option<u64>,
    /// Mean.
    pub mean: Option<f64>,
    /// Median.
    pub p50: Option<u64>,
    /// 90th percentile.
    pub p90: Option<u64>,
    /// 99th percentile.
    pub p99: Option<u64>,
    /// Largest.
    pub max: Option<u64>,
}

/// Figures over runs: a run is the steps sharing a `run_id`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Runs {
    /// Distinct `run_id`s.
    pub total: u64,
    /// Steps without a `run_id` (in no run).
    pub steps_without_run: u64,
    /// Runs by outcome: the status of the run's last step (greatest `created_at`, ties
    /// broken by the later terminal timestamp, then by the greater step id).
    pub by_outcome: BTreeMap<String, u64>,
    /// Steps per run.
    pub steps_per_run: Spread,
    /// Over runs whose last step is terminal: seconds from the earliest `created_at` of
    /// its steps to the latest terminal timestamp of its steps.
    pub span_seconds: Spread,
    /// Tool calls per run.
    pub tool_calls_per_run: Spread,
    /// Total tokens per run.
    pub tokens_per_run: Spread,
}

/// Figures over threads: a thread is the steps sharing a `thread_id`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Threads {
    /// Distinct `thread_id`s.
    pub total: u64,
    /// Steps without a `thread_id`.
    pub steps_without_thread: u64,
    /// Runs per thread (a run is in the thread of its steps).
    pub runs_per_thread: Spread,
    /// Steps per thread.
    pub steps_per_thread: Spread,
}

/// The steps and runs behind the figures (`--exemplars N` of each).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Exemplars {
    /// The slowest steps: largest duration (terminal timestamp − `created_at`) first,
    /// ties by `id` ascending.
    pub slowest_steps: Vec<Exemplar>,
    /// The slowest runs, by `span_seconds` (ties by `run_id`); `id` is the run's last step.
    pub slowest_runs: Vec<Exemplar>,
    /// The costliest runs: by the cost of their priced steps when any run was priced
    /// (`figure` `cost_usd`), else by total tokens (`total_tokens`); ties by `run_id`.
    pub costliest_runs: Vec<Exemplar>,
    /// The latest failed steps: latest `created_at` first, ties by `id` ascending; with
    /// their error code and message.
    pub recent_failures: Vec<Exemplar>,
}

/// One step (or run) behind a figure, and where it is.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Exemplar {
    /// The step's id (for a run, its last step's).
    pub id: String,
    /// `run_id`.
    pub run_id: Option<String>,
    /// `thread_id`.
    pub thread_id: Option<String>,
    /// `assistant_id`.
    pub assistant_id: Option<String>,
    /// The step's status (for a run, its outcome).
    pub status: String,
    /// The step's type (null for a run).
    #[serde(rename = "type")]
    pub step_type: Option<String>,
    /// The figure it was picked for: `duration_seconds`, `span_seconds`, `total_tokens`,
    /// `cost_usd` or `created_at`.
    pub figure: String,
    /// Its value (for `cost_usd`, the run's total tokens; the cost is `cost_usd`).
    pub value: i64,
    /// What the run's priced steps cost (runs ranked by cost; null otherwise).
    #[serde(default)]
    pub cost_usd: Option<Usd>,
    /// Steps (for a run; null for a step).
    pub steps: Option<u64>,
    /// `created_at` (for a run, of its first step).
    pub created_at: i64,
    /// `created_at`, RFC 3339 UTC.
    pub created_at_utc: String,
    /// `last_error.code` (failures).
    pub code: Option<String>,
    /// `last_error.message` (failures).
    pub message: Option<String>,
    /// The input the step is in.
    pub file: String,
    /// Its line, from 1.
    pub line: u64,
}
