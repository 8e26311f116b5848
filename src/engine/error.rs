//! Why a run stopped.

use crate::input;
use crate::parse::Reason;
use std::io;

impl From<crate::agg::Error> for Error {
    fn from(e: crate::agg::Error) -> Error {
        match e {
            crate::agg::Error::Overflow(o) => Error::Overflow(o),
            crate::agg::Error::TooManyGroups(g) => Error::TooManyGroups(g),
            crate::agg::Error::TooManyRuns(r) => Error::TooManyRuns(r),
            e @ crate::agg::Error::ChainsSpilled(_) => Error::Chains(e),
        }
    }
}

impl From<crate::agg::spill::Error> for Error {
    fn from(e: crate::agg::spill::Error) -> Error {
        match e {
            crate::agg::spill::Error::Agg(a) => a.into(),
            other => Error::Spill(other),
        }
    }
}

/// Everything that can stop a run of the engine.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// An input could not be opened or read.
    #[error(transparent)]
    Input(#[from] input::Error),
    /// A malformed line, in a strict run.
    #[error("{path}:{line}: malformed line ({reason}): {message}")]
    Malformed {
        /// The input it is in.
        path: String,
        /// 1-based line number.
        line: u64,
        /// Byte offset of the line.
        offset: u64,
        /// Why it is malformed.
        reason: Reason,
        /// A human explanation.
        message: String,
    },
    /// A mapped input shrank while it was read (logrotate's `copytruncate`).
    #[error(
        "{path} was truncated while steplog read it (log rotation with copytruncate?); \
         the rest of it is gone, so no report was made: run again on a stable copy"
    )]
    Truncated {
        /// The input as given.
        path: String,
    },
    /// An input read twice (to deduplicate) was not the same the second time.
    #[error(
        "{path} changed between the two passes of deduplication; deduplicate files that stay still"
    )]
    InputChanged {
        /// The input as given.
        path: String,
    },
    /// Line positions (for deduplication and export) hold 24 bits of input index and 40
    /// bits of byte offset.
    #[error("deduplication and export handle up to {max_files} inputs of up to 1 TiB each; {path} is beyond that")]
    PositionLimit {
        /// The input at fault.
        path: String,
        /// Inputs positions can tell apart.
        max_files: u64,
    },
    /// A stream that must be read twice could not be saved to a temporary file.
    #[error("cannot save {path} to a temporary file to read it twice")]
    Spool {
        /// The input as given (`-` for standard input).
        path: String,
        /// The cause.
        #[source]
        source: io::Error,
    },
    /// Runs could not be spilled to disk, or read back.
    #[error(transparent)]
    Spill(crate::agg::spill::Error),
    /// A row sink (export) failed.
    #[error("cannot export")]
    Export {
        /// The cause.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// Grouping met more groups than allowed.
    #[error(transparent)]
    TooManyGroups(#[from] crate::agg::TooManyGroups),
    /// More runs or threads than allowed.
    #[error(transparent)]
    TooManyRuns(#[from] crate::agg::TooManyRuns),
    /// Chains of responses met spilled runs (see [`crate::agg::Error::ChainsSpilled`]).
    #[error(transparent)]
    Chains(crate::agg::Error),
    /// The tables that grow with the input (runs, threads, costs, groups, and the figures
    /// keyed by step types, error codes and messages, functions, assistants and hours)
    /// grew past the memory budget.
    #[error("the tables that grow with the input (runs, threads, costs, groups, and figures by step types, error codes and messages, functions, assistants and hours) need more than the memory limit of {}: {} held", crate::report::binary_bytes(*limit), crate::report::binary_bytes(*held))]
    MemoryLimit {
        /// The budget, in bytes.
        limit: u64,
        /// What the tables held when they passed it.
        held: u64,
    },
    /// A count or sum would not hold its total.
    #[error(transparent)]
    Overflow(#[from] crate::agg::Overflow),
    /// `find` could not write what it found.
    #[error("cannot write the records found")]
    Output {
        /// The cause.
        #[source]
        source: io::Error,
    },
    /// Sharding splits files; standard input is not one.
    #[error("shards split input files; standard input cannot be sharded")]
    ShardStdin,
    /// The worker pool could not start.
    #[error("cannot start {threads} worker threads")]
    Threads {
        /// Threads asked for.
        threads: usize,
        /// The cause.
        #[source]
        source: rayon::ThreadPoolBuildError,
    },
}
