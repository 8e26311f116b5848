//! The plan of a run, made before any line is read: which inputs (standard input when
//! none is named; directories expanded; this shard's share), what reports call them,
//! advice about what the expansion left out, and the worker pool.

use super::{Config, Error};
use crate::batch::pos;
use crate::input::{self, InputSpec};

/// The span of `created_at` a summary covers: `since <= created_at < until`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Window {
    /// Earliest `created_at` kept (Unix seconds, inclusive).
    pub since: Option<i64>,
    /// `created_at` from which records are left out (Unix seconds, exclusive).
    pub until: Option<i64>,
}

impl Window {
    /// Whether `t` lies in the window.
    #[inline]
    pub fn contains(&self, t: i64) -> bool {
        self.since.is_none_or(|s| t >= s) && self.until.is_none_or(|u| t < u)
    }

    /// Whether the window leaves anything out.
    pub fn is_open(&self) -> bool {
        self.since.is_none() && self.until.is_none()
    }
}

/// One process's share of the inputs: the files whose path hashes to `index` modulo
/// `count` (xxh3-64 of the path as given or expanded). `count` processes with indexes
/// `0..count` cover every file exactly once, whatever order they list them in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    /// This share, below `count`.
    pub index: u64,
    /// Number of shares.
    pub count: u64,
}

impl Shard {
    /// Whether `path` belongs to this share.
    pub fn owns(&self, path: &std::path::Path) -> bool {
        xxhash_rust::xxh3::xxh3_64(path.as_os_str().as_encoded_bytes()) % self.count == self.index
    }
}

/// What every run needs before its passes.
pub(super) struct Plan {
    /// The inputs to read, in order.
    pub inputs: Vec<InputSpec>,
    /// Their report names, by index.
    pub names: Vec<String>,
    /// Advice about the inputs themselves (directory entries not read).
    pub hints: Vec<String>,
    /// The workers.
    pub pool: rayon::ThreadPool,
    /// How many.
    pub threads: usize,
}

/// `n` and a noun with the right ending: `count(2, "entr", "y", "ies")` is `2 entries`.
fn count(n: usize, stem: &str, one: &str, many: &str) -> String {
    format!("{n} {stem}{}", if n == 1 { one } else { many })
}

impl Plan {
    /// Plans a run of `inputs` under `cfg`. With `positions`, the inputs must fit the line
    /// positions of [`pos`] (deduplication and export key lines by input and offset).
    pub fn new(inputs: &[InputSpec], cfg: &Config, positions: bool) -> Result<Plan, Error> {
        let stdin = [InputSpec::Stdin];
        let inputs = if inputs.is_empty() {
            &stdin[..]
        } else {
            inputs
        };
        let mut expanded = input::expand(inputs, cfg.recursive)?;
        if let Some(shard) = cfg.shard {
            if expanded.inputs.contains(&InputSpec::Stdin) {
                return Err(Error::ShardStdin);
            }
            expanded.inputs.retain(|i| match i {
                InputSpec::Path(p) => shard.owns(p),
                InputSpec::Stdin => false,
            });
        }
        let mut hints = Vec::new();
        if !expanded.skipped_dirs.is_empty() {
            hints.push(format!(
                "{} not read (-r reads subdirectories, not links to them): {}",
                count(expanded.skipped_dirs.len(), "subdirector", "y", "ies"),
                expanded.skipped_dirs.join(", ")
            ));
        }
        if expanded.skipped_special > 0 {
            hints.push(format!(
                "{} in directories neither files nor directories (sockets, FIFOs, broken links) not read",
                count(expanded.skipped_special as usize, "entr", "y", "ies")
            ));
        }
        if expanded.skipped_hidden > 0 {
            hints.push(format!(
                "{} (names starting with '.') in directories not read",
                count(expanded.skipped_hidden as usize, "hidden entr", "y", "ies")
            ));
        }
        let names: Vec<String> = expanded.inputs.iter().map(InputSpec::name).collect();
        if positions && names.len() as u64 > pos::MAX_FILES {
            return Err(Error::PositionLimit {
                path: names.last().cloned().unwrap_or_default(),
                max_files: pos::MAX_FILES,
            });
        }
        let threads = cfg.worker_threads();
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .thread_name(|i| format!("steplog-worker-{i}"))
            .build()
            .map_err(|source| Error::Threads { threads, source })?;
        Ok(Plan {
            inputs: expanded.inputs,
            names,
            hints,
            pool,
            threads,
        })
    }
}
