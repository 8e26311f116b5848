//! Where bytes come from: inputs opened as [`Source`]s that yield newline-aligned chunks.
//!
//! A regular file is memory-mapped ([`mmap::MmapSource`]) and cut into chunks of about
//! `chunk_size` bytes, each extended to the next `\n`; the chunks borrow the mapping.
//! Standard input, pipes, and files under `--no-mmap` are read ([`read::ReadSource`]) into
//! owned, recycled buffers cut after their last `\n`, the remainder carried to the next
//! chunk, so memory stays bounded however long the stream. Either way a chunk holds whole
//! lines, and workers never see a line split across chunks.

pub mod mmap;
pub mod read;

use crate::error::Error;
use std::fs::File;
use std::io;
use std::ops::Range;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

/// Default chunk size: large enough to amortise scheduling, small enough that two workers
/// each hold one in L3-ish distance and the work divides evenly.
pub const DEFAULT_CHUNK_SIZE: usize = 4 << 20;

/// One input named on the command line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InputSpec {
    /// Standard input (`-`, or no input named).
    Stdin,
    /// A path.
    Path(PathBuf),
}

impl InputSpec {
    /// `-` is stdin; anything else a path.
    pub fn parse(arg: &str) -> InputSpec {
        if arg == "-" {
            InputSpec::Stdin
        } else {
            InputSpec::Path(PathBuf::from(arg))
        }
    }

    /// The name reports use.
    pub fn name(&self) -> String {
        match self {
            InputSpec::Stdin => "-".to_string(),
            InputSpec::Path(p) => p.display().to_string(),
        }
    }
}

/// The bytes of a chunk.
pub enum ChunkData {
    /// A range of a shared memory map.
    Mapped(Arc<memmap2::Mmap>, Range<usize>),
    /// A buffer read from a stream; give it back with [`BufferPool::give`] when done.
    Owned(Vec<u8>),
}

/// A newline-aligned piece of one input.
pub struct Chunk {
    /// Index of the input.
    pub file: u32,
    /// Index of the chunk within its input.
    pub index: u64,
    /// Position among all chunks of all inputs, in input order.
    pub seq: u64,
    /// Byte offset of the chunk in its input.
    pub offset: u64,
    /// The bytes.
    pub data: ChunkData,
}

impl Chunk {
    /// The chunk's bytes.
    pub fn bytes(&self) -> &[u8] {
        match &self.data {
            ChunkData::Mapped(m, r) => &m[r.clone()],
            ChunkData::Owned(v) => v,
        }
    }
}

/// An opened input that yields chunks in order.
pub trait Source: Send {
    /// The next chunk's offset and bytes, or `None` at the end.
    fn next_chunk(&mut self, pool: &BufferPool) -> io::Result<Option<(u64, ChunkData)>>;
    /// Bytes yielded so far.
    fn bytes_read(&self) -> u64;
}

/// Recycles read buffers between the reader and the workers.
#[derive(Default)]
pub struct BufferPool {
    free: Mutex<Vec<Vec<u8>>>,
}

impl BufferPool {
    /// A cleared buffer, reused if one is free.
    pub fn take(&self) -> Vec<u8> {
        let mut v = self
            .free
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .pop()
            .unwrap_or_default();
        v.clear();
        v
    }

    /// Returns a buffer for reuse.
    pub fn give(&self, buf: Vec<u8>) {
        self.free
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(buf);
    }
}

/// How inputs are opened.
#[derive(Debug, Clone, Copy)]
pub struct OpenOptions {
    /// Target chunk size in bytes (chunks end at the first `\n` at or after it).
    pub chunk_size: usize,
    /// Memory-map regular files (else read them).
    pub mmap: bool,
}

/// Opens an input: regular files are mapped unless `mmap` is off (or mapping fails, in
/// which case they are read); everything else is read as a stream.
pub fn open(spec: &InputSpec, opts: OpenOptions) -> Result<Box<dyn Source>, Error> {
    let chunk_size = opts.chunk_size.max(1);
    let path = match spec {
        InputSpec::Stdin => return Ok(Box::new(read::ReadSource::new(io::stdin(), chunk_size))),
        InputSpec::Path(p) => p,
    };
    let name = || spec.name();
    let file = File::open(path).map_err(|source| Error::Open {
        path: name(),
        source,
    })?;
    let meta = file.metadata().map_err(|source| Error::Open {
        path: name(),
        source,
    })?;
    if meta.is_dir() {
        return Err(Error::IsDirectory { path: name() });
    }
    if opts.mmap && meta.is_file() && meta.len() > 0 {
        if let Ok(src) = mmap::MmapSource::new(&file, chunk_size) {
            return Ok(Box::new(src));
        }
    }
    Ok(Box::new(read::ReadSource::new(file, chunk_size)))
}
