//! `--group-by`: figures per group of steps, for a handful of groups or millions.
//!
//! A group is a combination of values of the chosen dimensions: assistant, step type,
//! status, tool kind, function name, error code, day, hour, run, thread, or any
//! `metadata` key. Each worker keeps one [`Table`] from the group's key (the values as
//! bytes, interned once) to a compact [`GroupFigures`]: counts by status, failures by
//! code, token sums, the time range, and a duration [`Sketch`] that is exact for small
//! groups. A row costs one hash of its key; at the end the workers' tables merge once.
//! `tool` and `function` are multi-valued: a step that called two kinds of tool is in
//! both tool groups (and in `(none)` if it called none), so group counts along those
//! dimensions can add up to more than the steps.

mod figures;
mod key;
mod models;
pub mod sketch;
pub(crate) mod table;

pub use figures::{GroupFigures, NO_CODE, STATUSES};
pub use key::{decode as decode_key, encode as encode_key};
pub use models::{ModelFlags, ModelFrom, Models};
pub use sketch::{Hist, Sketch};
pub use table::Table;

use super::hint::AHEAD;
use super::ids::IdKey;
use super::Error;
use crate::batch::{Batch, Keep, MAX_METADATA};
use crate::report::{self, Usd};

/// A dimension to group by.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Dim {
    /// `assistant_id`
    Assistant,
    /// step type
    Type,
    /// `status`
    Status,
    /// tool kind called (multi-valued)
    Tool,
    /// function name called (multi-valued)
    Function,
    /// `last_error.code`
    ErrorCode,
    /// UTC day of `created_at`
    Day,
    /// UTC hour of `created_at`
    Hour,
    /// `run_id`
    Run,
    /// `thread_id`
    Thread,
    /// The record's model: a response's own, a step's run object's, else `--model`'s or
    /// `--default-model`'s.
    Model,
    /// The API a record comes from: `assistants` or `responses`.
    Api,
    /// A response's `service_tier`.
    ServiceTier,
    /// A response's prompt template (`prompt.id`).
    Prompt,
    /// The value of one `metadata` key.
    Metadata(String),
}

impl Dim {
    /// Every dimension but `metadata.KEY`, by name.
    pub const NAMED: [Dim; 14] = [
        Dim::Assistant,
        Dim::Type,
        Dim::Status,
        Dim::Tool,
        Dim::Function,
        Dim::ErrorCode,
        Dim::Day,
        Dim::Hour,
        Dim::Run,
        Dim::Thread,
        Dim::Model,
        Dim::Api,
        Dim::ServiceTier,
        Dim::Prompt,
    ];

    /// The name used on the command line and in reports (`metadata.team`).
    pub fn name(&self) -> String {
        match self {
            Dim::Metadata(k) => format!("metadata.{k}"),
            other => other.simple_name().to_string(),
        }
    }

    fn simple_name(&self) -> &'static str {
        match self {
            Dim::Assistant => "assistant",
            Dim::Type => "type",
            Dim::Status => "status",
            Dim::Tool => "tool",
            Dim::Function => "function",
            Dim::ErrorCode => "error_code",
            Dim::Day => "day",
            Dim::Hour => "hour",
            Dim::Run => "run",
            Dim::Thread => "thread",
            Dim::Model => "model",
            Dim::Api => "api",
            Dim::ServiceTier => "service_tier",
            Dim::Prompt => "prompt",
            Dim::Metadata(_) => "metadata",
        }
    }

    /// Dimensions as written on the command line: `assistant,day`.
    pub fn list(dims: &[Dim]) -> String {
        dims.iter().map(Dim::name).collect::<Vec<_>>().join(",")
    }

    /// The dimension called `name`; `metadata.KEY` for any non-empty key.
    pub fn parse(name: &str) -> Option<Dim> {
        if let Some(key) = name.strip_prefix("metadata.") {
            return (!key.is_empty()).then(|| Dim::Metadata(key.to_string()));
        }
        // A response's conversation is its thread.
        if name == "conversation" {
            return Some(Dim::Thread);
        }
        Dim::NAMED.into_iter().find(|d| d.simple_name() == name)
    }

    /// Whether its values are unbounded in number (one per run or thread): a series per
    /// value is no use to a monitoring system.
    pub fn is_unbounded(&self) -> bool {
        matches!(self, Dim::Run | Dim::Thread)
    }
}

/// At most this many dimensions at once.
pub const MAX_DIMS: usize = 8;

/// The default of `--max-groups`: at about 300 bytes a group (more for the few large
/// ones), a few gigabytes at most, far below the memory of the machines steplog runs on.
pub const DEFAULT_MAX_GROUPS: usize = 5_000_000;

/// How groups are ordered in reports (largest first, ties by key; `Key` ascending).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Sort {
    /// Most steps first.
    #[default]
    Steps,
    /// Most failed steps first.
    Failures,
    /// Highest failure rate first (groups without terminal steps last).
    FailureRate,
    /// Slowest median completed duration first.
    P50,
    /// Slowest 99th-percentile completed duration first.
    P99,
    /// Most total tokens first.
    Tokens,
    /// Costliest first (by the priced steps; groups without cost figures last).
    Cost,
    /// By key, ascending.
    Key,
}

impl Sort {
    /// Every order, by name.
    pub const ALL: [Sort; 8] = [
        Sort::Steps,
        Sort::Failures,
        Sort::FailureRate,
        Sort::P50,
        Sort::P99,
        Sort::Tokens,
        Sort::Cost,
        Sort::Key,
    ];

    /// The name used on the command line and in reports.
    pub fn as_str(self) -> &'static str {
        match self {
            Sort::Steps => "steps",
            Sort::Failures => "failures",
            Sort::FailureRate => "failure_rate",
            Sort::P50 => "p50",
            Sort::P99 => "p99",
            Sort::Tokens => "tokens",
            Sort::Cost => "cost",
            Sort::Key => "key",
        }
    }

    /// The order called `name`.
    pub fn parse(name: &str) -> Option<Sort> {
        Sort::ALL.into_iter().find(|s| s.as_str() == name)
    }

    /// The figure a group is ranked by (larger first); `None` ranks last.
    fn figure(self, g: &GroupFigures, cost: Option<Usd>) -> Option<f64> {
        match self {
            Sort::Cost => cost.map(|c| c.0 as f64),
            Sort::Steps => Some(g.steps as f64),
            Sort::Failures => Some(g.failed() as f64),
            Sort::FailureRate => g.failure_rate(),
            Sort::P50 => g.durations.stats(0).p50.map(|v| v as f64),
            Sort::P99 => g.durations.stats(0).p99.map(|v| v as f64),
            Sort::Tokens => Some(g.usage[3] as f64),
            Sort::Key => None,
        }
    }
}

/// More groups than allowed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("more than {limit} groups (at least {seen} seen)")]
pub struct TooManyGroups {
    /// The limit.
    pub limit: usize,
    /// Groups seen when it was reached.
    pub seen: usize,
}

/// A key of a batch's row, made and hashed before its group is looked up.
#[derive(Debug, Clone, Copy)]
struct Keyed {
    row: u32,
    code: u32,
    /// Its bytes end here in [`Groups::keyed`] (and start where the one before ends).
    end: usize,
    hash: IdKey,
    /// The same key as the one before (its group is that one's).
    same: bool,
}

/// The groups of a summary, along fixed dimensions.
#[derive(Debug, Clone)]
pub struct Groups {
    dims: Vec<Dim>,
    /// For each dimension, its column among the batch's metadata columns.
    meta: Vec<usize>,
    /// The groups.
    pub table: Table,
    max: usize,
    /// Scratch space for one key.
    key: Vec<u8>,
    /// Scratch space for a batch's keys: their bytes, one after another, and each one's
    /// row, error code, end and hash.
    keyed: Vec<u8>,
    pending: Vec<Keyed>,
    /// The group of the last row seen.
    last: Option<usize>,
    /// Whether [`Groups::rows`] is filled (for the cost ledger).
    pub track_rows: bool,
    /// The last batch's (row, group) pairs, in row order, when `track_rows`.
    pub rows: Vec<(u32, u32)>,
    /// The steps' models, for [`Dim::Model`] (read before the steps).
    pub models: Option<std::sync::Arc<Models>>,
}

impl Default for Groups {
    fn default() -> Self {
        Groups::new(&[], DEFAULT_MAX_GROUPS)
    }
}

impl Groups {
    /// Groups along `dims` (at most [`MAX_DIMS`], duplicates ignored), at most `max` of
    /// them.
    pub fn new(dims: &[Dim], max: usize) -> Groups {
        let mut d: Vec<Dim> = Vec::new();
        for dim in dims {
            if !d.contains(dim) && d.len() < MAX_DIMS {
                d.push(dim.clone());
            }
        }
        let mut keys: Vec<&str> = Vec::new();
        let meta = d
            .iter()
            .map(|dim| match dim {
                Dim::Metadata(k) => keys.iter().position(|x| x == k).unwrap_or_else(|| {
                    keys.push(k);
                    keys.len() - 1
                }),
                _ => 0,
            })
            .collect();
        Groups {
            dims: d,
            meta,
            table: Table::default(),
            max,
            key: Vec::new(),
            keyed: Vec::new(),
            pending: Vec::new(),
            last: None,
            track_rows: false,
            rows: Vec::new(),
            models: None,
        }
    }

    /// The dimensions.
    pub fn dims(&self) -> &[Dim] {
        &self.dims
    }

    /// Whether every group is one a run could make ([`GroupFigures::check`]) and the
    /// groups' steps add up to `steps`, the steps of the whole run (when grouped).
    pub fn check(&self, steps: u64) -> Result<(), String> {
        if self.dims.is_empty() {
            return match self.table.len() {
                0 => Ok(()),
                n => Err(format!("{n} groups without --group-by")),
            };
        }
        let mut total = 0u64;
        for (i, f) in self.table.figures.iter().enumerate() {
            f.check().map_err(|e| format!("group {}: {e}", i + 1))?;
            total = total
                .checked_add(f.steps)
                .ok_or("the groups' steps pass 2^64")?;
        }
        if total != steps {
            return Err(format!(
                "the groups hold {total} steps, the summary {steps}"
            ));
        }
        Ok(())
    }

    /// The most groups allowed.
    pub fn max(&self) -> usize {
        self.max
    }

    /// Whether grouping is on.
    pub fn is_enabled(&self) -> bool {
        !self.dims.is_empty()
    }

    /// What rows must keep for these dimensions.
    pub fn keep(&self) -> Keep {
        let mut metadata: Vec<String> = Vec::new();
        for d in &self.dims {
            if let Dim::Metadata(k) = d {
                if !metadata.contains(k) && metadata.len() < MAX_METADATA {
                    metadata.push(k.clone());
                }
            }
        }
        Keep {
            ids: false,
            runs: self.dims.contains(&Dim::Run) || self.dims.contains(&Dim::Model),
            threads: self.dims.contains(&Dim::Thread),
            metadata,
        }
    }

    /// Adds every row of `batch` to its groups.
    pub fn update(&mut self, batch: &Batch) -> Result<(), Error> {
        if self.dims.is_empty() {
            return Ok(());
        }
        let Groups {
            dims,
            meta,
            table,
            max,
            key,
            keyed,
            pending,
            last,
            track_rows,
            rows,
            models,
        } = self;
        rows.clear();
        let models = models.as_deref();
        // First every row's keys, made and hashed; then their groups, each asked for a few
        // keys ahead (see `crate::agg::hint`). Steps of one run, one assistant, one hour
        // come in bursts: a key equal to the one before is not hashed again, and its
        // group is found without a lookup.
        keyed.clear();
        pending.clear();
        let mut last_start = 0;
        for i in 0..batch.len() {
            let code = table.code(batch.error_code[i], &batch.dicts.error_code);
            key::each_key(batch, i, dims, meta, models, key, &mut |k| {
                let start = keyed.len();
                let (same, hash) = match pending.last() {
                    Some(p) if &keyed[last_start..] == k => (true, p.hash),
                    _ => (false, IdKey::of(k)),
                };
                last_start = start;
                keyed.extend_from_slice(k);
                pending.push(Keyed {
                    row: i as u32,
                    code,
                    end: keyed.len(),
                    hash,
                    same,
                });
            });
        }
        let mut start = 0;
        for (j, p) in pending.iter().enumerate() {
            if let Some(ahead) = pending.get(j + AHEAD).filter(|a| !a.same) {
                table.prefetch(ahead.hash);
            }
            let k = &keyed[start..p.end];
            start = p.end;
            let g = match *last {
                Some(g) if p.same || (j == 0 && table.key(g) == k) => Some(g),
                _ => table.group_hashed(p.hash, k, *max),
            };
            let Some(g) = g else {
                return Err(TooManyGroups {
                    limit: *max,
                    seen: *max + 1,
                }
                .into());
            };
            let i = p.row as usize;
            table.figures[g].add_row(batch, i, p.code)?;
            if *track_rows {
                rows.push((p.row, g as u32));
            }
            *last = Some(g);
        }
        Ok(())
    }

    /// Merges another part's groups (same dimensions); returns where each of its groups
    /// went (`[g]` is this table's index of the other's group `g`).
    pub fn merge(&mut self, other: Groups) -> Result<Vec<u32>, Error> {
        self.last = None;
        self.track_rows |= other.track_rows;
        if self.dims.is_empty() {
            self.dims = other.dims.clone();
            self.meta = other.meta.clone();
        }
        self.table.merge(other.table, self.max)
    }

    /// The report's groups, ordered by `sort` (ties by key), the first `top` of them (all
    /// without), and how many groups there are.
    /// `costs[g]` is group `g`'s cost and unpriced steps, when costs are kept.
    pub fn finish(
        &self,
        sort: Sort,
        top: Option<usize>,
        costs: Option<&[(Usd, u64)]>,
    ) -> (Vec<report::Group>, usize) {
        let t = &self.table;
        let n = t.len();
        let both = |g: usize| costs.and_then(|c| c.get(g).copied());
        let cost = |g: usize| both(g).map(|(u, _)| u);
        let figures: Vec<Option<f64>> = t
            .figures
            .iter()
            .enumerate()
            .map(|(i, g)| sort.figure(g, cost(i)))
            .collect();
        let mut order: Vec<usize> = (0..n).collect();
        let cmp = |a: &usize, b: &usize| {
            let by_figure = match (figures[*a], figures[*b]) {
                (Some(x), Some(y)) => y.total_cmp(&x),
                (Some(_), None) => std::cmp::Ordering::Less,
                (None, Some(_)) => std::cmp::Ordering::Greater,
                (None, None) => std::cmp::Ordering::Equal,
            };
            // Keys compare as their values do (the encoding keeps the order).
            by_figure.then_with(|| t.key(*a).cmp(t.key(*b)))
        };
        let keep = top.unwrap_or(n).min(n);
        if keep < n && keep > 0 {
            order.select_nth_unstable_by(keep - 1, cmp);
            order.truncate(keep);
        }
        order.truncate(keep);
        // Millions of groups (`--group-by run` written out whole) are sorted and finished
        // on every thread.
        use rayon::prelude::*;
        order.par_sort_unstable_by(cmp);
        let groups = order
            .into_par_iter()
            .map(|g| {
                let names = key::names(t.key(g), &self.dims).unwrap_or_default();
                let mut group = t.figures[g].finish(names, |c| t.codes.get(c).to_string());
                group.cost_usd = cost(g);
                group.unpriced_steps = both(g).map(|(_, n)| n);
                group
            })
            .collect();
        (groups, n)
    }
}
