//! Where bytes come from: inputs opened as [`Source`]s that yield newline-aligned chunks.
//!
//! A regular file is memory-mapped ([`mmap::MmapSource`]) and cut into chunks of about
//! `chunk_size` bytes, each extended to the next `\n`; the chunks borrow the mapping.
//! Standard input, pipes, and files under `--no-mmap` are read ([`read::ReadSource`]) into
//! owned, recycled buffers cut after their last `\n`, the remainder carried to the next
//! chunk, so memory stays bounded however long the stream. Either way a chunk holds whole
//! lines, and workers never see a line split across chunks.
//!
//! gzip and zstd inputs (files or stdin) are recognised by their magic bytes and read as
//! decompressed streams ([`decompress`]). Directories expand to the files inside them
//! ([`expand`]). A line longer than the line limit is never buffered: sources skip it and
//! yield its length as [`ChunkData::Oversized`].

pub mod decompress;
pub mod document;
mod error;
mod expand;
pub mod mmap;
pub mod read;

pub use decompress::Compression;
pub use document::{Shape, Spans};
pub use error::Error;
pub use expand::{expand, Expanded};

use std::fs::File;
use std::io::{self, Read};
use std::ops::Range;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
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

/// One input as it was read: what reports and state files say of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileInfo {
    /// The name shown in reports (`-` for stdin).
    pub name: String,
    /// Bytes read (after decompression).
    pub bytes: u64,
    /// The compression it was read through.
    pub compression: Option<Compression>,
    /// The document shape it was read as (`None`: JSONL).
    pub shape: Option<Shape>,
}

/// The bytes of a chunk.
pub enum ChunkData {
    /// A range of a shared memory map.
    Mapped(Arc<mmap::Mapping>, Range<usize>),
    /// A buffer read from a stream; give it back with [`BufferPool::give`] when done.
    Owned(Vec<u8>),
    /// One line longer than the line limit, skipped: its length without the newline.
    Oversized(u64),
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
    /// For a chunk of a JSON document: where its entries are in the file.
    pub spans: Option<Spans>,
    /// Whether the reader already counted the chunk's progress (a compressed input's,
    /// in compressed bytes).
    pub progress_counted: bool,
}

impl Chunk {
    /// The chunk's bytes.
    pub fn bytes(&self) -> &[u8] {
        match &self.data {
            ChunkData::Mapped(m, r) => &m[r.clone()],
            ChunkData::Owned(v) => v,
            ChunkData::Oversized(_) => &[],
        }
    }
}

/// An opened input that yields chunks in order.
pub trait Source: Send {
    /// The next chunk's offset and bytes, or `None` at the end.
    fn next_chunk(&mut self, pool: &BufferPool) -> io::Result<Option<(u64, ChunkData)>>;
    /// Bytes yielded so far (decompressed bytes for a compressed input).
    fn bytes_read(&self) -> u64;
    /// Whether the input shrank under a read (a mapped file truncated while mapped): the
    /// bytes yielded after that point are not the file's.
    fn truncated(&self) -> bool {
        false
    }
    /// The compression the input was read through, if any.
    fn compression(&self) -> Option<Compression> {
        None
    }
    /// Where the entries of the chunk just yielded are, for a JSON document (call after
    /// each [`Source::next_chunk`]).
    fn take_spans(&mut self) -> Option<Spans> {
        None
    }
    /// The document shape read, if the input is not JSONL.
    fn shape(&self) -> Option<Shape> {
        None
    }
    /// For a compressed input, the compressed bytes read so far (what a progress bar
    /// measures against the file's size).
    fn compressed_bytes(&self) -> Option<u64> {
        None
    }
}

/// A reader that counts the bytes read through it.
struct Counting<R> {
    inner: R,
    count: Arc<AtomicU64>,
}

impl<R: Read> Read for Counting<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.count.fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }
}

/// A source read through a decompressor.
struct Decompressed {
    inner: Box<dyn Source>,
    format: Compression,
    /// Compressed bytes read.
    raw: Arc<AtomicU64>,
}

impl Source for Decompressed {
    fn next_chunk(&mut self, pool: &BufferPool) -> io::Result<Option<(u64, ChunkData)>> {
        self.inner.next_chunk(pool)
    }
    fn bytes_read(&self) -> u64 {
        self.inner.bytes_read()
    }
    fn compression(&self) -> Option<Compression> {
        Some(self.format)
    }
    fn take_spans(&mut self) -> Option<Spans> {
        self.inner.take_spans()
    }
    fn shape(&self) -> Option<Shape> {
        self.inner.shape()
    }
    fn compressed_bytes(&self) -> Option<u64> {
        Some(self.raw.load(Ordering::Relaxed))
    }
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
    /// Lines longer than this many bytes are skipped ([`ChunkData::Oversized`]).
    pub max_line_bytes: u64,
}

/// Default line limit: 64 MiB.
pub const DEFAULT_MAX_LINE_BYTES: u64 = 64 << 20;

/// Opens an input: compressed data (by magic bytes) is decompressed as a stream; regular
/// files are mapped unless `mmap` is off (or mapping fails, in which case they are read);
/// everything else is read as a stream.
pub fn open(spec: &InputSpec, opts: OpenOptions) -> Result<Box<dyn Source>, Error> {
    let chunk_size = opts.chunk_size.max(1);
    let max_line = opts.max_line_bytes;
    let name = || spec.name();
    let path = match spec {
        InputSpec::Stdin => {
            let mut stdin = io::stdin();
            let read_err = |source| Error::Read {
                path: name(),
                offset: 0,
                source,
            };
            let head = read_head(&mut stdin, Compression::MAGIC_LEN).map_err(read_err)?;
            return stream(head, stdin, chunk_size, max_line).map_err(read_err);
        }
        InputSpec::Path(p) => p,
    };
    let open_err = |source| Error::Open {
        path: name(),
        source,
    };
    let mut file = File::open(path).map_err(open_err)?;
    let meta = file.metadata().map_err(open_err)?;
    if meta.is_dir() {
        return Err(Error::IsDirectory { path: name() });
    }
    // Pipes and devices too are read as they come; only regular files are mapped.
    // Up to the first line: a FIFO is not waited on for more than a line.
    let head = read_first_line(&mut file, DOCUMENT_HEAD).map_err(open_err)?;
    let plain = Compression::detect(&head).is_none() && !document::detect(&head);
    if opts.mmap && meta.is_file() && meta.len() > 0 && plain {
        if let Ok(src) = mmap::MmapSource::new(&file, chunk_size, max_line) {
            return Ok(Box::new(src));
        }
    }
    // Decompressing the first bytes to look at them is reading already.
    stream(head, file, chunk_size, max_line).map_err(|source| Error::Read {
        path: name(),
        offset: 0,
        source,
    })
}

/// Bytes looked at to tell a JSON document from JSONL.
const DOCUMENT_HEAD: usize = 64 << 10;

/// A stream whose first bytes, `head` (at least [`Compression::MAGIC_LEN`] unless the
/// stream is shorter), were already read to recognise compression: read as JSONL or, if
/// its (decompressed) content starts a JSON document, as one.
fn stream<R: Read + Send + 'static>(
    head: Vec<u8>,
    rest: R,
    chunk_size: usize,
    max_line: u64,
) -> io::Result<Box<dyn Source>> {
    let format = Compression::detect(&head);
    let bytes = io::Cursor::new(head).chain(rest);
    let Some(format) = format else {
        return plain(bytes, chunk_size, max_line);
    };
    let raw = Arc::new(AtomicU64::new(0));
    let counted = Counting {
        inner: bytes,
        count: Arc::clone(&raw),
    };
    Ok(Box::new(Decompressed {
        inner: plain(format.decoder(counted), chunk_size, max_line)?,
        format,
        raw,
    }))
}

/// Uncompressed bytes as JSONL or a JSON document, by their first bytes.
fn plain<R: Read + Send + 'static>(
    mut bytes: R,
    chunk_size: usize,
    max_line: u64,
) -> io::Result<Box<dyn Source>> {
    let head = read_first_line(&mut bytes, DOCUMENT_HEAD)?;
    let document = document::detect(&head);
    let bytes = io::Cursor::new(head).chain(bytes);
    Ok(if document {
        Box::new(document::DocumentSource::new(bytes, chunk_size, max_line))
    } else {
        Box::new(read::ReadSource::new(bytes, chunk_size, max_line))
    })
}

/// The bytes of a stream up to the end of its first line that is not blank, or its first
/// `n` bytes, whichever is shorter (fewer at its end): enough to tell a document from JSONL
/// without waiting on a slow pipe for more than a line.
fn read_first_line(r: &mut impl Read, n: usize) -> io::Result<Vec<u8>> {
    let mut head = Vec::new();
    let mut block = [0u8; 4096];
    while head.len() < n {
        let want = block.len().min(n - head.len());
        let got = match r.read(&mut block[..want]) {
            Ok(0) => break,
            Ok(got) => got,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        head.extend_from_slice(&block[..got]);
        let text = head.iter().position(|b| !b.is_ascii_whitespace());
        if text.is_some_and(|t| head[t..].contains(&b'\n')) {
            break;
        }
    }
    Ok(head)
}

/// The first `n` bytes of a stream (fewer at its end).
fn read_head(r: &mut impl Read, n: usize) -> io::Result<Vec<u8>> {
    let mut head = Vec::with_capacity(n);
    r.by_ref().take(n as u64).read_to_end(&mut head)?;
    Ok(head)
}
