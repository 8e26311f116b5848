//! JSON documents: the shapes people saved besides JSONL, turned into one entry per line.
//!
//! A list-steps page (`{"object":"list","data":[…],"has_more":…}`, one per line or one per
//! file, compact or pretty-printed), a JSON array of steps or runs (or of pages), and
//! pretty-printed objects one after another are read as a stream by a small scanner that
//! knows strings and brackets and nothing else, so memory stays bounded by the chunk size
//! and the line limit however large the document. Each element it finds (a page's `data`
//! element, an array's element, a top-level object) is written on a line of its own in a
//! chunk, without the whitespace between its tokens, and parsed like a JSONL line:
//! elements are accounted for as lines are. What is not an element (a page's `first_id`,
//! `has_more`, the brackets) is framing of the document and not kept.
//!
//! An element cut short (a truncated write, a hand edit) does not swallow the ones after
//! it: where an object of the element expects a key and an object or array opens instead,
//! which no JSON allows, the element ends there (a malformed entry, as cut short) and the
//! opening bracket starts the next element. A cut inside a string is not caught this way:
//! that element and the next are one malformed entry.
//!
//! Positions stay the file's: each chunk carries [`Spans`], the physical line where each of
//! its entries starts, so reports name the line where an element's object starts.
//!
//! Written by hand rather than with a streaming JSON crate: all it needs is where values
//! start and end, and the elements' bytes go on to simd-json untouched.

mod detect;

pub use detect::detect;
use detect::KeyBuf;

use super::{BufferPool, ChunkData, Source};
use std::io::{self, Read};

/// Where a document chunk's entries are in the file.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Spans {
    /// Physical lines the chunk covers (newlines from its start to the next chunk's).
    pub lines: u64,
    /// For each entry, its first physical line, counted from the chunk's first line.
    pub starts: Vec<u32>,
    /// For each entry, the byte offset of its first byte in the (decompressed) input.
    pub offsets: Vec<u64>,
}

/// What a document turned out to hold, for reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    /// List-endpoint pages (`"data"` arrays).
    ListPages,
    /// JSON arrays of elements.
    Array,
    /// Whole objects spanning lines, one after another.
    Documents,
}

impl Shape {
    /// The name reports use.
    pub fn as_str(self) -> &'static str {
        match self {
            Shape::ListPages => "list pages",
            Shape::Array => "JSON array",
            Shape::Documents => "JSON documents",
        }
    }

    /// The shape called `name` (as [`Shape::as_str`] writes it).
    pub fn parse(name: &str) -> Option<Shape> {
        [Shape::ListPages, Shape::Array, Shape::Documents]
            .into_iter()
            .find(|s| s.as_str() == name)
    }
}

/// Where the scanner is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// Between top-level values.
    Between,
    /// Inside a top-level array, between its elements.
    TopArray,
    /// Inside a page's `data` array (at `depth`), between elements; the page object
    /// itself opened at depth `page`.
    PageData { page: usize },
    /// Past a page's `data` array: skipping to the end of the page object.
    PageRest { page: usize },
    /// In an element that started at depth `base`.
    Entry(EntryKind),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum EntryKind {
    /// An object or array (`may_be_page`: an object that becomes a page if it has a
    /// `"data"` array at its top level).
    Nested { base: usize, may_be_page: bool },
    /// A string element.
    Str,
    /// A number, literal, or bytes that are not JSON: ends at a delimiter (or, at the top
    /// level, at the end of the line).
    Bare { base: usize },
}

/// A JSON document read as chunks of one-line entries.
pub struct DocumentSource<R> {
    reader: R,
    chunk_size: usize,
    max_line: usize,
    block: Vec<u8>,
    at: usize,
    eof: bool,
    /// Bytes read from the input.
    consumed: u64,
    /// Bytes of a byte-order mark skipped at the start (0 to 3).
    bom: u8,
    /// Entry bytes yielded (the chunks' offsets).
    offset: u64,
    /// Physical line of the next byte, from 0.
    line: u64,
    /// Physical line where the current chunk starts.
    chunk_line: u64,
    mode: Mode,
    /// Where the current entry ends up when it ends.
    container: Mode,
    depth: usize,
    in_string: bool,
    escaped: bool,
    /// In a nested entry: whether each open container (from the entry's own) is an
    /// object, and whether the scanner is where an object expects a key.
    objects: Vec<bool>,
    expect_key: bool,
    key: KeyBuf,
    after_data_key: bool,
    /// The chunk being filled, its entries' starts.
    out: Vec<u8>,
    starts: Vec<u32>,
    /// The current entry: where it starts in `out`, its physical line, its length when it
    /// is over the limit and no longer kept.
    entry_start: usize,
    entry_line: u64,
    entry_offset: u64,
    skipped: Option<u64>,
    offsets: Vec<u64>,
    /// The length of an oversized entry to yield after the current chunk.
    pending: Option<u64>,
    /// The physical lines where the pending entry starts and where it ends.
    pending_lines: (u64, u64),
    /// Bytes of `out` that hold whole entries.
    committed: usize,
    /// Spans of the chunk just yielded.
    spans: Option<Spans>,
    pages: u64,
    arrays: u64,
}

const BLOCK: usize = 256 * 1024;

impl<R: Read + Send> DocumentSource<R> {
    /// Chunks of about `chunk_size` bytes of entries; an entry over `max_line` bytes is
    /// read past and yielded as [`ChunkData::Oversized`].
    pub fn new(reader: R, chunk_size: usize, max_line: u64) -> DocumentSource<R> {
        DocumentSource {
            reader,
            chunk_size: chunk_size.max(1),
            max_line: usize::try_from(max_line).unwrap_or(usize::MAX),
            block: Vec::new(),
            at: 0,
            eof: false,
            consumed: 0,
            bom: 0,
            offset: 0,
            line: 0,
            chunk_line: 0,
            mode: Mode::Between,
            container: Mode::Between,
            depth: 0,
            in_string: false,
            escaped: false,
            objects: Vec::new(),
            expect_key: false,
            key: KeyBuf::default(),
            after_data_key: false,
            out: Vec::new(),
            starts: Vec::new(),
            entry_start: 0,
            entry_line: 0,
            entry_offset: 0,
            skipped: None,
            offsets: Vec::new(),
            pending: None,
            pending_lines: (0, 0),
            committed: 0,
            spans: None,
            pages: 0,
            arrays: 0,
        }
    }

    /// What the document held so far.
    pub fn shape(&self) -> Shape {
        if self.pages > 0 {
            Shape::ListPages
        } else if self.arrays > 0 {
            Shape::Array
        } else {
            Shape::Documents
        }
    }

    /// The next byte, or `None` at the end of the input.
    fn next_byte(&mut self) -> io::Result<Option<u8>> {
        if self.at == self.block.len() {
            if self.eof {
                return Ok(None);
            }
            self.block.resize(BLOCK, 0);
            let n = loop {
                match self.reader.read(&mut self.block) {
                    Ok(n) => break n,
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                    Err(e) => return Err(e),
                }
            };
            self.block.truncate(n);
            self.at = 0;
            if n == 0 {
                self.eof = true;
                return Ok(None);
            }
        }
        let b = self.block[self.at];
        self.at += 1;
        self.consumed += 1;
        Ok(Some(b))
    }

    fn begin_entry(&mut self, kind: EntryKind) {
        self.container = self.mode;
        self.mode = Mode::Entry(kind);
        self.entry_start = self.out.len();
        self.entry_line = self.line;
        self.entry_offset = self.consumed.saturating_sub(1);
        self.skipped = None;
    }

    /// Keeps a byte of the current entry (a line break as a space).
    fn keep(&mut self, b: u8) {
        // One entry, one line: a line break inside a string (which JSON does not allow)
        // becomes a space as well.
        let b = if b == b'\n' || b == b'\r' { b' ' } else { b };
        self.keep_bytes(&[b]);
    }

    /// Keeps bytes of the current entry; past the line limit, only counts them.
    fn keep_bytes(&mut self, bytes: &[u8]) {
        if let Some(n) = &mut self.skipped {
            *n += bytes.len() as u64;
            return;
        }
        self.out.extend_from_slice(bytes);
        if self.out.len() - self.entry_start > self.max_line {
            self.skipped = Some((self.out.len() - self.entry_start) as u64);
            self.out.truncate(self.entry_start);
        }
    }

    /// Ends the current entry; returns whether a chunk is ready.
    fn end_entry(&mut self) -> bool {
        self.mode = self.container;
        let start = (self.entry_line - self.chunk_line).min(u64::from(u32::MAX)) as u32;
        if let Some(len) = self.skipped.take() {
            // Yielded on its own, after the entries before it.
            self.pending = Some(len);
            self.pending_lines = (self.entry_line, self.line);
            return true;
        }
        self.out.push(b'\n');
        self.starts.push(start);
        self.offsets.push(self.entry_offset);
        self.committed = self.out.len();
        self.out.len() >= self.chunk_size
    }

    /// Scans one byte; returns whether a chunk is ready.
    fn step(&mut self, b: u8) -> bool {
        if b == b'\n' {
            self.line += 1;
        }
        let copying = matches!(self.mode, Mode::Entry(_));
        if self.in_string {
            if copying {
                self.keep(b);
            }
            if self.escaped {
                self.escaped = false;
            } else if b == b'\\' {
                self.escaped = true;
            } else if b == b'"' {
                self.in_string = false;
                if self.mode == Mode::Entry(EntryKind::Str) {
                    return self.end_entry();
                }
            } else if matches!(
                self.mode,
                Mode::Entry(EntryKind::Nested { base, may_be_page: true }) if self.depth == base + 1
            ) {
                self.key.push(b);
            }
            return false;
        }
        match self.mode {
            Mode::Between | Mode::TopArray | Mode::PageData { .. } => self.between(b),
            Mode::PageRest { page } => {
                match b {
                    b'"' => self.in_string = true,
                    b'{' | b'[' => self.depth += 1,
                    b'}' | b']' => {
                        self.depth = self.depth.saturating_sub(1);
                        if self.depth == page {
                            self.mode = if page == 0 {
                                Mode::Between
                            } else {
                                Mode::TopArray
                            };
                        }
                    }
                    _ => {}
                }
                false
            }
            Mode::Entry(kind) => self.in_entry(kind, b),
        }
    }

    fn between(&mut self, b: u8) -> bool {
        if b.is_ascii_whitespace() || (b == b',' && self.mode != Mode::Between) {
            return false;
        }
        // A UTF-8 byte-order mark before the first value (as some editors and exporters
        // save files) is skipped like white space: the first byte is read as byte 1.
        const BOM: &[u8; 3] = b"\xEF\xBB\xBF";
        let at = self.consumed as usize;
        if self.mode == Mode::Between
            && at == usize::from(self.bom) + 1
            && at <= 3
            && BOM[at - 1] == b
        {
            self.bom += 1;
            return false;
        }
        match (self.mode, b) {
            (Mode::Between, b'[') => {
                self.depth = 1;
                self.arrays += 1;
                self.mode = Mode::TopArray;
                false
            }
            (Mode::TopArray, b']') => {
                self.depth = 0;
                self.mode = Mode::Between;
                false
            }
            (Mode::PageData { page }, b']') => {
                self.depth -= 1;
                self.mode = Mode::PageRest { page };
                false
            }
            (mode, b'{' | b'[') => {
                let may_be_page = b == b'{' && !matches!(mode, Mode::PageData { .. });
                self.begin_entry(EntryKind::Nested {
                    base: self.depth,
                    may_be_page,
                });
                self.keep(b);
                self.depth += 1;
                self.objects.clear();
                self.objects.push(b == b'{');
                self.expect_key = b == b'{';
                false
            }
            (_, b'"') => {
                self.begin_entry(EntryKind::Str);
                self.keep(b);
                self.in_string = true;
                false
            }
            _ => {
                self.begin_entry(EntryKind::Bare { base: self.depth });
                self.keep(b);
                false
            }
        }
    }
}

impl<R: Read + Send> DocumentSource<R> {
    /// A byte of an element that is an object, an array or a bare value.
    fn in_entry(&mut self, kind: EntryKind, b: u8) -> bool {
        match kind {
            // Strings end in `step`, at their closing quote.
            EntryKind::Str => false,
            EntryKind::Bare { base } => {
                let ends = if base == 0 {
                    b == b'\n'
                } else {
                    matches!(b, b',' | b']' | b'}') || b.is_ascii_whitespace()
                };
                if !ends {
                    self.keep(b);
                    return false;
                }
                let ready = self.end_entry();
                // The delimiter belongs to the container (a `]` closes it).
                if base > 0 {
                    self.between(b);
                }
                ready
            }
            EntryKind::Nested { base, may_be_page } => {
                let keys = may_be_page && self.depth == base + 1;
                let data_value = std::mem::take(&mut self.after_data_key);
                let expect_key = std::mem::take(&mut self.expect_key);
                match b {
                    b'{' | b'[' if expect_key => {
                        // An object wants a key here: the element was cut short, and this
                        // bracket opens the next one.
                        let ready = self.end_entry();
                        self.depth = base;
                        self.between(b);
                        return ready;
                    }
                    b'"' => {
                        self.in_string = true;
                        if keys {
                            self.key.clear();
                        }
                    }
                    b'[' if keys && data_value => {
                        // A page: what was kept of it is framing; its elements are entries.
                        self.out.truncate(self.entry_start);
                        self.skipped = None;
                        self.pages += 1;
                        self.depth += 1;
                        self.mode = Mode::PageData { page: base };
                        return false;
                    }
                    b'{' | b'[' => {
                        self.depth += 1;
                        self.objects.push(b == b'{');
                        self.expect_key = b == b'{';
                    }
                    b'}' | b']' => {
                        self.keep(b);
                        self.depth -= 1;
                        self.objects.pop();
                        return self.depth == base && self.end_entry();
                    }
                    b',' => self.expect_key = self.objects.last() == Some(&true),
                    b':' if keys => self.after_data_key = self.key.is(b"data"),
                    // Whitespace between tokens is not kept: the entry is the same JSON,
                    // and simd-json has less to read.
                    _ if b.is_ascii_whitespace() => {
                        self.after_data_key = data_value;
                        self.expect_key = expect_key;
                        return false;
                    }
                    _ => {}
                }
                self.keep(b);
                false
            }
        }
    }

    /// Inside a string: moves past the bytes of the block up to the next quote, backslash or
    /// line break (which [`Self::step`] takes one at a time), copying them if the string
    /// is part of an entry. Most of a document's bytes are in strings.
    fn skim_string(&mut self) {
        // Taken for the while (a pointer swap) so that its bytes can be kept.
        let block = std::mem::take(&mut self.block);
        let rest = &block[self.at..];
        let n = memchr::memchr3(b'"', b'\\', b'\n', rest).unwrap_or(rest.len());
        if n == 0 {
            self.block = block;
            return;
        }
        let keys = matches!(
            self.mode,
            Mode::Entry(EntryKind::Nested { base, may_be_page: true }) if self.depth == base + 1
        );
        if keys {
            for &b in &rest[..n] {
                self.key.push(b);
            }
        }
        if let Mode::Entry(_) = self.mode {
            self.keep_bytes(&rest[..n]);
        }
        self.block = block;
        self.at += n;
        self.consumed += n as u64;
    }

    /// Takes the chunk of entries kept so far, up to the last whole one.
    fn take_chunk(&mut self, end_line: u64, pool: &BufferPool) -> (u64, ChunkData) {
        let mut buf = pool.take();
        buf.extend_from_slice(&self.out[..self.committed]);
        self.out.drain(..self.committed);
        self.entry_start = self.entry_start.saturating_sub(self.committed);
        self.committed = 0;
        self.spans = Some(Spans {
            lines: end_line - self.chunk_line,
            starts: std::mem::take(&mut self.starts),
            offsets: std::mem::take(&mut self.offsets),
        });
        self.chunk_line = end_line;
        let offset = self.offset;
        self.offset += buf.len() as u64;
        (offset, ChunkData::Owned(buf))
    }
}

impl<R: Read + Send> Source for DocumentSource<R> {
    fn next_chunk(&mut self, pool: &BufferPool) -> io::Result<Option<(u64, ChunkData)>> {
        if self.pending.is_none() {
            loop {
                if self.at < self.block.len() {
                    if self.in_string && !self.escaped {
                        self.skim_string();
                    } else if !matches!(self.mode, Mode::Entry(EntryKind::Bare { .. })) {
                        // Indentation: nothing to keep or track (line breaks go through
                        // `step`, which counts them).
                        let rest = &self.block[self.at..];
                        let n = rest
                            .iter()
                            .position(|&b| b != b' ' && b != b'\t')
                            .unwrap_or(rest.len());
                        self.at += n;
                        self.consumed += n as u64;
                    }
                    if self.at == self.block.len() {
                        continue;
                    }
                }
                let Some(b) = self.next_byte()? else {
                    // An element the input ends inside is an entry too (a malformed one).
                    if let Mode::Entry(_) = self.mode {
                        self.in_string = false;
                        self.end_entry();
                    }
                    break;
                };
                if self.step(b) {
                    break;
                }
            }
        }
        if self.committed > 0 {
            let end = match self.pending {
                Some(_) => self.pending_lines.0,
                None => self.line,
            };
            return Ok(Some(self.take_chunk(end, pool)));
        }
        if let Some(len) = self.pending.take() {
            let (start, end) = self.pending_lines;
            self.spans = Some(Spans {
                lines: end - self.chunk_line,
                starts: vec![(start - self.chunk_line).min(u64::from(u32::MAX)) as u32],
                offsets: vec![self.entry_offset],
            });
            self.chunk_line = end;
            let offset = self.offset;
            self.offset += len + 1;
            return Ok(Some((offset, ChunkData::Oversized(len))));
        }
        Ok(None)
    }

    fn bytes_read(&self) -> u64 {
        self.consumed
    }

    fn take_spans(&mut self) -> Option<Spans> {
        self.spans.take()
    }

    fn shape(&self) -> Option<Shape> {
        Some(DocumentSource::shape(self))
    }
}

#[cfg(test)]
mod tests;
