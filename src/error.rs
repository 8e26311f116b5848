//! The library's typed errors. The binary adds context and maps them to exit codes.

use crate::parse::Reason;
use std::io;

/// Everything that can stop a summary.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// An input could not be opened.
    #[error("cannot open {path}")]
    Open {
        /// The input as given.
        path: String,
        /// The cause.
        #[source]
        source: io::Error,
    },
    /// An input is a directory.
    #[error("{path} is a directory; name the files inside it")]
    IsDirectory {
        /// The input as given.
        path: String,
    },
    /// Reading an input failed part-way.
    #[error("cannot read {path} (at byte {offset})")]
    Read {
        /// The input as given.
        path: String,
        /// Bytes read before the failure.
        offset: u64,
        /// The cause.
        #[source]
        source: io::Error,
    },
    /// `--strict` met a malformed line.
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
    /// An input read twice (by `--dedup`) was not the same the second time.
    #[error("{path} changed between --dedup's two passes; deduplicate files that stay still")]
    InputChanged {
        /// The input as given.
        path: String,
    },
    /// `--dedup` and `export` position lines in 40 bits of offset and 24 bits of file index.
    #[error("--dedup and export handle up to {max_files} inputs of up to 1 TiB each; {path} is beyond that")]
    DedupLimit {
        /// The input at fault.
        path: String,
        /// Inputs `--dedup` can tell apart.
        max_files: u64,
    },
    /// Standard input could not be saved for `--dedup`'s second pass.
    #[error("cannot save standard input to a temporary file for --dedup")]
    Spool {
        /// The cause.
        #[source]
        source: io::Error,
    },
    /// `steplog export` could not write its output.
    #[error("cannot export: {message}")]
    Export {
        /// What went wrong.
        message: String,
    },
    /// Sharding splits files; standard input is not one.
    #[error("--shard-index/--shard-count split input files; standard input cannot be sharded")]
    ShardStdin,
    /// `steplog bench` was given standard input, which cannot be read twice.
    #[error("bench reads its inputs several times: give files, not standard input")]
    BenchStdin,
    /// An input changed size or content between benchmark runs.
    #[error("the inputs changed between benchmark runs; benchmark files that stay still")]
    BenchInputChanged,
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

impl Error {
    /// The same error, naming the input `name` (how reports call it) instead.
    pub(crate) fn renamed(self, name: &str) -> Error {
        let path = name.to_string();
        match self {
            Error::Open { source, .. } => Error::Open { path, source },
            Error::IsDirectory { .. } => Error::IsDirectory { path },
            Error::Read { offset, source, .. } => Error::Read {
                path,
                offset,
                source,
            },
            other => other,
        }
    }
}
