//! Why an input could not be read.

use std::io;

/// An input that could not be opened or read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
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
}

impl Error {
    /// The same error, naming the input `name` (how reports call it) instead.
    pub fn renamed(self, name: &str) -> Error {
        let path = name.to_string();
        match self {
            Error::Open { source, .. } => Error::Open { path, source },
            Error::IsDirectory { .. } => Error::IsDirectory { path },
            Error::Read { offset, source, .. } => Error::Read {
                path,
                offset,
                source,
            },
        }
    }
}
