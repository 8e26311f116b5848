//! One worker: takes chunks, copies or adopts them into a padded buffer, finds their
//! lines, parses every line into its batch, accounts for each line, and hands full
//! batches to its sink. All of its state is reused from chunk to chunk; nothing here
//! allocates per line.

use super::scheduler::Shared;
use super::sink::Sink;
use super::{Config, Error, Lines, Timings, Window};
use crate::agg::{LineCounts, LinePos, LineStats, Overflow, TimeRange};
use crate::batch::{pos, Batch, Place};
use crate::filter::Matcher;
use crate::input::{BufferPool, Chunk, ChunkData, Spans};
use crate::parse::{LineIndex, LineKind, LineParser, Malformed, PADDING};
use std::sync::atomic::Ordering;
use std::time::Instant;

/// What a worker counts besides what its sink sees: every line by kind, and the records
/// the time window left out.
#[derive(Debug, Default)]
pub(super) struct Accounting {
    pub lines: LineStats,
    pub filtered_out: u64,
    /// The `created_at` range of the records the time window left out.
    pub outside: TimeRange,
}

impl Accounting {
    pub fn merge(&mut self, other: Accounting) -> Result<(), Overflow> {
        self.lines.merge(other.lines)?;
        self.outside.widen(other.outside.bounds);
        crate::agg::add(
            &mut self.filtered_out,
            other.filtered_out,
            "input.filtered_out",
        )
    }
}

/// Where a chunk is, as the worker reports lines in it.
#[derive(Debug, Clone, Copy)]
struct ChunkAt {
    file: u32,
    index: u64,
    seq: u64,
    offset: u64,
}

/// One worker's reusable state.
pub(super) struct Worker<S> {
    parser: LineParser,
    lines: LineIndex,
    batch: Batch,
    /// Padded copy of the current mapped chunk.
    scratch: Vec<u8>,
    sink: S,
    accounting: Accounting,
    timings: Timings,
    window: Window,
    /// `--where`, when set (and the sink takes only matching records).
    filter: Option<Matcher>,
    /// With [`Sink::CHUNKS`]: the chunk as read (a stream's, before parsing rewrites it),
    /// and its records that reached the sink (line index, start, length).
    original: Vec<u8>,
    records: Vec<(u32, usize, usize)>,
    /// Where the current chunk's entries are in its file, for a JSON document's chunk.
    spans: Option<Spans>,
    /// The sink's table bytes as last added to the shared count (the memory budget).
    held: u64,
}

impl<S: Sink> Worker<S> {
    pub fn new(cfg: &Config, sink: S) -> Worker<S> {
        let mut batch = Batch::new();
        let mut keep = sink.keep();
        let filter = cfg.filter.as_ref().filter(|_| !S::UNWINDOWED);
        if let Some(f) = filter {
            keep.add(&f.keep());
        }
        let filter = filter.map(|f| f.matcher(&keep.metadata));
        batch.set_keep(keep);
        Worker {
            parser: LineParser::new(),
            lines: LineIndex::new(),
            batch,
            scratch: Vec::new(),
            sink,
            accounting: Accounting::default(),
            timings: Timings::default(),
            window: if S::UNWINDOWED {
                Window::default()
            } else {
                cfg.window
            },
            filter,
            original: Vec::new(),
            records: Vec::new(),
            spans: None,
            held: 0,
        }
    }

    /// After a record was pushed: drops it again if it lies outside the time window, or
    /// does not match `--where`.
    #[inline]
    fn keep_in_window(&mut self) {
        let Some(last) = self.batch.len().checked_sub(1) else {
            return;
        };
        let outside = !self.window.is_open() && !self.window.contains(self.batch.created_at[last]);
        let unmatched = |w: &mut Self| {
            w.filter
                .as_mut()
                .is_some_and(|f| !f.matches(&w.batch, last))
        };
        // An undated row (a failed batch request) is in no window, and in no range.
        if outside && !self.batch.undated(last) {
            self.accounting.outside.include(self.batch.created_at[last]);
        }
        if outside || unmatched(self) {
            self.batch.pop_row();
            self.accounting.filtered_out += 1;
        }
    }

    pub fn process(&mut self, chunk: Chunk, shared: &Shared<'_>, buffers: &BufferPool) {
        let Chunk {
            file,
            index,
            seq,
            offset,
            data,
            spans,
            progress_counted,
        } = chunk;
        self.spans = spans;
        let at = ChunkAt {
            file,
            index,
            seq,
            offset,
        };
        // Bytes the chunk covers (an oversized line's are skipped, not held).
        let len = match &data {
            ChunkData::Mapped(_, r) => r.len() as u64,
            ChunkData::Owned(v) => v.len() as u64,
            ChunkData::Oversized(n) => *n,
        };
        if let (Some(p), false) = (shared.progress, progress_counted) {
            p.fetch_add(len, Ordering::Relaxed);
        }
        let nothing_to_do = shared.gate.skips(seq)
            || shared.failed.load(Ordering::Relaxed)
            || shared.halted.load(Ordering::Relaxed)
            || matches!(shared.lines, Lines::Winners(w) if w.within(file, offset, offset + len).is_empty());
        if nothing_to_do {
            if let ChunkData::Owned(buf) = data {
                buffers.give(buf);
            }
            return;
        }
        match data {
            ChunkData::Mapped(map, range) => {
                // simd-json parses in place: one copy of the chunk into a reused buffer.
                let started = Instant::now();
                let mut buf = std::mem::take(&mut self.scratch);
                buf.clear();
                buf.extend_from_slice(&map[range.clone()]);
                let truncated = map.faulted();
                self.timings.split += started.elapsed();
                if truncated {
                    shared.fail(Error::Truncated {
                        path: shared.name(file),
                    });
                } else {
                    self.parse_chunk(at, &mut buf, shared);
                    if S::CHUNKS {
                        // The mapped bytes are the chunk as read.
                        self.chunk_done(at, &map[range], shared);
                    }
                }
                crate::input::mmap::Mapping::release(map);
                self.scratch = buf;
            }
            ChunkData::Owned(mut buf) => {
                if S::CHUNKS {
                    self.original.clear();
                    self.original.extend_from_slice(&buf);
                }
                self.parse_chunk(at, &mut buf, shared);
                buffers.give(buf);
                if S::CHUNKS {
                    let original = std::mem::take(&mut self.original);
                    self.chunk_done(at, &original, shared);
                    self.original = original;
                }
            }
            ChunkData::Oversized(len) => {
                if let Lines::Winners(_) = shared.lines {
                    return;
                }
                let m = Malformed::too_long(len, shared.max_line);
                let line = self.line_of(0);
                let place = self.offset_of(0, offset);
                self.malformed(at, line, place, &m, &[], shared);
                let counts = LineCounts {
                    lines: 1,
                    malformed: 1,
                    ..LineCounts::default()
                };
                self.add_chunk(at, &counts, shared);
                if S::CHUNKS {
                    self.records.clear();
                    let lines = self.spans.as_ref().map_or(1, |s| s.lines);
                    self.chunk_done_lines(at, lines, &[], shared);
                }
            }
        }
    }

    /// With [`Sink::CHUNKS`]: hands the chunk's rows, then the chunk, to the sink.
    fn chunk_done(&mut self, at: ChunkAt, original: &[u8], shared: &Shared<'_>) {
        let lines = match &self.spans {
            Some(s) => s.lines,
            None => self.lines.len() as u64,
        };
        self.chunk_done_lines(at, lines, original, shared);
    }

    fn chunk_done_lines(&mut self, at: ChunkAt, lines: u64, original: &[u8], shared: &Shared<'_>) {
        self.flush(shared);
        // A record of an event stream is its `data:` line's JSON, without the framing (so
        // that `find`'s lines are JSON lines, as `jq` reads them).
        let records: Vec<(u32, &[u8])> = self
            .records
            .iter()
            .map(|&(line, start, len)| {
                let raw = original.get(start..start + len).unwrap_or_default();
                match crate::parse::sse::classify(raw) {
                    crate::parse::sse::Line::Data(at) => (line, &raw[at..]),
                    _ => (line, raw),
                }
            })
            .collect();
        let more = self.sink.chunk(super::sink::Chunk {
            seq: at.seq,
            file: at.file,
            lines,
            records: &records,
        });
        self.records.clear();
        if !more {
            shared.halted.store(true, Ordering::Release);
        }
    }

    fn malformed(
        &mut self,
        at: ChunkAt,
        line: u64,
        offset: u64,
        m: &Malformed,
        text: &[u8],
        shared: &Shared<'_>,
    ) {
        let pos = LinePos {
            file: at.file,
            chunk: at.index,
            line,
            offset,
        };
        let parser = &self.parser;
        self.accounting
            .lines
            .add_malformed(pos, m, || parser.explain(m, text));
        shared.gate.trip(at.seq);
    }

    /// Hands the full batch to the sink.
    fn flush(&mut self, shared: &Shared<'_>) {
        let t = Instant::now();
        if let Err(e) = self.sink.take(&mut self.batch) {
            shared.fail(e);
        }
        let held = self.sink.held_bytes() as u64;
        if held != self.held {
            shared.hold(self.held, held);
            self.held = held;
        }
        self.batch.clear();
        self.timings.aggregate += t.elapsed();
    }

    /// Parses the lines of `buf` (the chunk's bytes; padding is added and removed here).
    fn parse_chunk(&mut self, at: ChunkAt, buf: &mut Vec<u8>, shared: &Shared<'_>) {
        let started = Instant::now();
        let len = buf.len();
        buf.extend_from_slice(&[b' '; PADDING]);
        if let Lines::Winners(w) = shared.lines {
            self.parse_winners(at, w, buf, len, shared);
            buf.truncate(len);
            self.timings.parse += started.elapsed();
            return;
        }
        self.lines.build(&buf[..len], at.offset == 0);
        let parsing = Instant::now();
        self.timings.split += parsing - started;
        let aggregated_before = self.timings.aggregate;
        let mut counts = LineCounts::default();
        for line_index in 0..self.lines.len() {
            let line = self.lines.line(line_index, &buf[..len]);
            counts.lines += 1;
            let offset = at.offset + line.start as u64;
            // Where the line is in the file (a document's element, not its chunk line).
            let place = self.offset_of(line_index, offset);
            // Before the blank test: sources skip a long line without looking inside.
            if line.len as u64 > shared.max_line {
                counts.malformed += 1;
                let m = Malformed::too_long(line.len as u64, shared.max_line);
                let line = self.line_of(line_index as u64);
                self.malformed(at, line, place, &m, &[], shared);
                continue;
            }
            if line.blank {
                counts.blank_lines += 1;
                continue;
            }
            match self
                .parser
                .parse_line(&mut buf[line.start..], line.len, &mut self.batch)
            {
                Ok(LineKind::Record) => {
                    counts.records += 1;
                    if S::POSITIONS {
                        if offset > pos::MAX_OFFSET {
                            shared.fail(Error::PositionLimit {
                                path: shared.name(at.file),
                                max_files: pos::MAX_FILES,
                            });
                            break;
                        }
                        self.batch.set_pos(pos::pack(at.file, offset));
                    }
                    let at_line = self.line_of(line_index as u64) as u32;
                    self.batch.set_place(Place {
                        file: at.file,
                        chunk: at.index,
                        line: at_line,
                    });
                    let before = self.batch.len();
                    self.keep_in_window();
                    if S::CHUNKS && self.batch.len() == before {
                        self.records.push((at_line, line.start, line.len));
                    }
                    if self.batch.is_full() {
                        self.flush(shared);
                    }
                }
                Ok(LineKind::Run) => {
                    counts.runs += 1;
                    if self.batch.is_full() {
                        self.flush(shared);
                    }
                }
                Ok(LineKind::Delta) => counts.deltas += 1,
                Ok(LineKind::Framing) => counts.framing += 1,
                Err(m) => {
                    counts.malformed += 1;
                    let text = &buf[line.start..line.start + line.len];
                    let line = self.line_of(line_index as u64);
                    self.malformed(at, line, place, &m, text, shared);
                }
            }
        }
        self.add_chunk(at, &counts, shared);
        buf.truncate(len);
        let aggregating = self.timings.aggregate - aggregated_before;
        self.timings.parse += parsing.elapsed() - aggregating;
    }

    /// Second pass of deduplication: parses only the winning lines of the chunk.
    fn parse_winners(
        &mut self,
        at: ChunkAt,
        winners: &super::dedup::Winners,
        buf: &mut [u8],
        len: usize,
        shared: &Shared<'_>,
    ) {
        let wins = winners.within(at.file, at.offset, at.offset + len as u64);
        // Line numbers of the winners, counted on from one to the next (in offset order),
        // only over bytes not parsed yet: parsing unescapes a line's strings in place, and
        // an escaped `\n` becomes a newline byte.
        let (mut line, mut counted) = (0u32, 0usize);
        for &o in wins {
            let start = (o - at.offset) as usize;
            let from = counted.min(start);
            line += memchr::memchr_iter(b'\n', &buf[from..start]).count() as u32;
            let newline = memchr::memchr(b'\n', &buf[start..len]).map_or(len, |p| start + p);
            let mut end = newline;
            if end > start && buf[end - 1] == b'\r' {
                end -= 1;
            }
            match self
                .parser
                .parse_line(&mut buf[start..], end - start, &mut self.batch)
            {
                Ok(LineKind::Record) => {
                    let place = self.line_of(u64::from(line)) as u32;
                    self.batch.set_place(Place {
                        file: at.file,
                        chunk: at.index,
                        line: place,
                    });
                    self.keep_in_window();
                    if self.batch.is_full() {
                        self.flush(shared);
                    }
                    // On past this line and its newline, which are counted here.
                    counted = (newline + 1).min(len);
                    line += u32::from(newline < len);
                }
                _ => {
                    shared.fail(Error::InputChanged {
                        path: shared.name(at.file),
                    });
                    return;
                }
            }
        }
    }

    /// The line of entry `i` of the chunk as positions count it: its index in a JSONL
    /// chunk, its physical line from the chunk's first in a document's.
    fn line_of(&self, i: u64) -> u64 {
        match &self.spans {
            Some(s) => s.starts.get(i as usize).map_or(i, |&l| u64::from(l)),
            None => i,
        }
    }

    /// The byte offset in its input of entry `i` of the chunk, at `offset` in the chunks:
    /// the same for JSONL, the element's own for a document.
    fn offset_of(&self, i: usize, offset: u64) -> u64 {
        match &self.spans {
            Some(s) => s.offsets.get(i).copied().unwrap_or(offset),
            None => offset,
        }
    }

    /// Adds the chunk's line counts (and a document chunk's physical lines).
    fn add_chunk(&mut self, at: ChunkAt, counts: &LineCounts, shared: &Shared<'_>) {
        let span = self.spans.as_ref().map(|s| s.lines);
        if let Err(o) = self
            .accounting
            .lines
            .add_chunk_spanning(at.file, at.index, counts, span)
        {
            shared.fail(o.into());
        }
    }

    /// Flushes the last batch; returns the sink, the accounting and the timings.
    pub fn finish(mut self, shared: &Shared<'_>) -> (S, Accounting, Timings) {
        self.flush(shared);
        (self.sink, self.accounting, self.timings)
    }
}
