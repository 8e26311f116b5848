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
