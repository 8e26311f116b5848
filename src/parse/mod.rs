//! One line of bytes in, one row of a [`Batch`] (or a counted non-record) out.
//!
//! simd-json parses in place, so the caller hands [`LineParser::parse_line`] a mutable
//! buffer holding the line followed by at least [`PADDING`] more bytes (the next lines of
//! the chunk serve, and the chunk buffer ends with [`PADDING`] spaces). The parser reuses
//! one [`simd_json::Buffers`] and one tape for every line, then walks the tape for the
//! fields steplog reads and skips every other subtree; strings stay borrowed until they are
//! interned into the batch's dictionaries. Nothing here allocates per line.
//!
//! [`LineIndex`] cuts a chunk into lines (any `\n` ends a record), strips `\r` and a leading
//! UTF-8 byte-order mark, and tells blank lines apart.
//!
//! Lines captured from a server-sent event stream are understood too ([`sse`]): `data: {…}`
//! is read as its payload, and the stream's plumbing (`event:`, `id:`, `retry:`, comments,
//! `data: [DONE]`, payloads of other event objects) is [`LineKind::Framing`].

mod explain;
mod malformed;
mod record;
pub mod sse;
mod value;

pub use malformed::{Malformed, Reason};
pub use value::MAX_TIMESTAMP;

use crate::batch::Batch;
use simd_json::{Buffers, Tape};

/// Bytes that must follow the last line of a chunk buffer (see [`simd_json::INPUT_PADDING`]).
pub const PADDING: usize = simd_json::INPUT_PADDING;

/// What a well-formed line was.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LineKind {
    /// A run step; a row was appended to the batch.
    Record,
    /// A `thread.run.step.delta` event: recognised, counted, not summarised.
    Delta,
    /// Event-stream plumbing: an `event:`, `id:` or `retry:` field, a comment, the
    /// `data: [DONE]` sentinel, or the `data:` payload of another event object
    /// (`thread.message.delta`, …). Counted, not summarised.
    Framing,
    /// A run (`thread.run`, from a list-runs export or a run event's payload): its id and
    /// model were appended to the batch's run objects.
    Run,
}

/// Reusable per-worker parser state.
pub struct LineParser {
    buffers: Buffers,
    /// Always empty between calls; `'static` because it borrows nothing then.
    tape: Tape<'static>,
    /// The strings of the last line that failed, to explain it.
    failed: explain::Strings,
}

impl Default for LineParser {
    fn default() -> Self {
        LineParser::new()
    }
}

impl LineParser {
    /// A parser with buffers sized for typical lines; they grow on demand and are kept.
    pub fn new() -> LineParser {
        LineParser {
            buffers: Buffers::new(16 * 1024),
            tape: Tape(Vec::with_capacity(1024)),
            failed: explain::Strings::default(),
        }
    }

    /// Parses `buf[..len]` (one line, without its newline) and appends a row to `batch` if
    /// it is a run step. `buf[len..]` must hold at least [`PADDING`] bytes; they are read
    /// but left unchanged. `buf[..len]` is overwritten (strings are unescaped in place).
    /// A server-sent-event line is read as its `data:` payload, or is [`LineKind::Framing`].
    pub fn parse_line(
        &mut self,
        buf: &mut [u8],
        len: usize,
        batch: &mut Batch,
    ) -> Result<LineKind, Malformed> {
        let (skip, event) = match buf.first() {
            Some(b'{') => (0, false),
            _ => match sse::classify(&buf[..len]) {
                sse::Line::Json => (0, false),
                sse::Line::Data(at) => (at, true),
                sse::Line::Framing => return Ok(LineKind::Framing),
            },
        };
        let (line, len) = (&mut buf[skip..], len - skip);
        let base = line.as_ptr();
        // Reuse the tape's allocation for this line's lifetime, and hand it back emptied.
        let mut tape: Tape<'_> = std::mem::replace(&mut self.tape, Tape(Vec::new())).reset();
        let result = match simd_json::fill_tape_padded(line, len, &mut self.buffers, &mut tape) {
            Ok(()) => Ok(record::walk(&tape.0, batch)),
            Err(e) => {
                self.failed.note(&tape.0, base);
                Err(e)
            }
        };
        self.tape = tape.reset();
        match result {
            Ok(Ok(kind)) => Ok(kind),
            // In an event stream, other objects (messages, threads) are the stream's business.
            Ok(Err(m)) if event && m.reason == Reason::NotARunStep => Ok(LineKind::Framing),
            Ok(Err(m)) => Err(m),
            Err(e) => {
                let line = &buf[skip..skip + len];
                self.failed.resolve(line, self.buffers.structural_indexes());
                Err(Malformed::invalid_json(e, skip))
            }
        }
    }

    /// The explanation of `m`, the last line parsed, whose bytes (as the parser left them)
    /// are `line`: for invalid JSON, what was expected, at which byte, and what was found.
    pub fn explain(&self, m: &Malformed, line: &[u8]) -> String {
        match m.json_error() {
            Some((e, skip)) => {
                explain::explain(line.get(skip..).unwrap_or_default(), &self.failed, e)
            }
            // The most common wrong file: a state given to `summary`.
            None if line.starts_with(b"{\"format\":\"steplog-state\"") => {
                STATE_FILE_LINE.to_string()
            }
            None => m.message(),
        }
    }
}

/// How a state file's line is explained (reports look for it to say what to run).
pub const STATE_FILE_LINE: &str = "a steplog state file, not a run step";

/// One line of a chunk, as [`LineIndex::line`] gives it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Line {
    /// Offset of the first content byte in the chunk buffer (after a BOM, if any).
    pub start: usize,
    /// Content length, without `\n` or a trailing `\r`.
    pub len: usize,
    /// Whether the line holds only JSON whitespace.
    pub blank: bool,
}

/// The lines of a chunk, found in one pass. Every `\n` ends a line; a last line without
/// `\n` counts; a trailing `\r` is dropped; with `at_file_start`, a UTF-8 BOM at the very
/// start is skipped. The index holds offsets, not a borrow of the data, so the caller may
/// parse each line in place (which rewrites only that line) before reading the next.
#[derive(Debug, Clone, Default)]
pub struct LineIndex {
    /// The first line's start, then the end (the `\n`, or the end of data) of each line.
    bounds: Vec<usize>,
}

impl LineIndex {
    /// An empty index; its allocation is reused by every [`LineIndex::build`].
    pub fn new() -> LineIndex {
        LineIndex::default()
    }

    /// Indexes the lines of `data`.
    pub fn build(&mut self, data: &[u8], at_file_start: bool) {
        let first = if at_file_start && data.starts_with(b"\xEF\xBB\xBF") {
            3
        } else {
            0
        };
        self.bounds.clear();
        self.bounds.push(first);
        self.bounds
            .extend(memchr::memchr_iter(b'\n', &data[first..]).map(|i| first + i));
        let last_start = match self.bounds.len() {
            1 => first,
            n => self.bounds[n - 1] + 1,
        };
        if last_start < data.len() {
            self.bounds.push(data.len());
        }
    }

    /// Number of lines.
    #[inline]
    pub fn len(&self) -> usize {
        self.bounds.len().saturating_sub(1)
    }

    /// Whether there are no lines.
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Line `i` of `data`, which must be the bytes the index was built from (lines before
    /// `i` may have been rewritten since).
    #[inline]
    pub fn line(&self, i: usize, data: &[u8]) -> Line {
        let start = if i == 0 {
            self.bounds[0]
        } else {
            self.bounds[i] + 1
        };
        let mut end = self.bounds[i + 1];
        if end > start && data[end - 1] == b'\r' {
            end -= 1;
        }
        // A record starts with `{`, so `all` stops at the first byte of nearly every line.
        let blank = data[start..end]
            .iter()
            .all(|b| matches!(b, b' ' | b'\t' | b'\r'));
        Line {
            start,
            len: end - start,
            blank,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(s: &[u8], bom: bool) -> Vec<(usize, usize, bool)> {
        let mut index = LineIndex::new();
        index.build(s, bom);
        (0..index.len())
            .map(|i| index.line(i, s))
            .map(|l| (l.start, l.len, l.blank))
            .collect()
    }

    #[test]
    fn splits_lines_like_a_jsonl_reader() {
        assert_eq!(lines(b"", false), vec![]);
        assert_eq!(lines(b"a\n", false), vec![(0, 1, false)]);
        assert_eq!(lines(b"a\nbc", false), vec![(0, 1, false), (2, 2, false)]);
        assert_eq!(
            lines(b"a\r\n\r\n \t\n", false),
            vec![(0, 1, false), (3, 0, true), (5, 2, true)]
        );
        assert_eq!(lines(b"\n\n", false), vec![(0, 0, true), (1, 0, true)]);
    }

    #[test]
    fn bom_only_at_file_start() {
        assert_eq!(lines(b"\xEF\xBB\xBF{}\n", true), vec![(3, 2, false)]);
        assert_eq!(lines(b"\xEF\xBB\xBF{}\n", false), vec![(0, 5, false)]);
        assert_eq!(lines(b"\xEF\xBB\xBF", true), vec![]);
        assert_eq!(lines(b"\xEF\xBB\xBF\n", true), vec![(3, 0, true)]);
    }

    fn parse(line: &str) -> (Result<LineKind, Reason>, Batch) {
        let mut batch = Batch::new();
        let mut buf = line.as_bytes().to_vec();
        buf.extend_from_slice(&[b' '; PADDING]);
        let mut p = LineParser::new();
        let r = p
            .parse_line(&mut buf, line.len(), &mut batch)
            .map_err(|m| m.reason);
        (r, batch)
    }

    #[test]
    fn parses_a_minimal_record() {
        let (r, b) =
            parse(r#"{"id":"step_1","created_at":5,"status":"completed","completed_at":9}"#);
        assert_eq!(r, Ok(LineKind::Record));
        assert_eq!(b.len(), 1);
        assert_eq!(b.terminal_at(0), Some(9));
    }

    #[test]
    fn classifies_bad_lines() {
        assert_eq!(parse("{").0, Err(Reason::InvalidJson));
        assert_eq!(parse("[1,2]").0, Err(Reason::NotAnObject));
        assert_eq!(
            parse(r#"{"id":"s","status":"failed"}"#).0,
            Err(Reason::MissingField)
        );
        assert_eq!(
            parse(r#"{"id":1,"created_at":1,"status":"x"}"#).0,
            Err(Reason::WrongType)
        );
    }

    #[test]
    fn parser_is_reusable_across_lines() {
        let mut batch = Batch::new();
        let mut p = LineParser::new();
        for (i, line) in [
            "{\"id\":\"a\",\"created_at\":1,\"status\":\"failed\"}",
            "nope",
            "{\"object\":\"thread.run.step.delta\",\"id\":\"a\"}",
        ]
        .iter()
        .enumerate()
        {
            let mut buf = line.as_bytes().to_vec();
            buf.extend_from_slice(&[b' '; PADDING]);
            let r = p.parse_line(&mut buf, line.len(), &mut batch);
            match i {
                0 => assert_eq!(r, Ok(LineKind::Record)),
                1 => assert!(r.is_err()),
                _ => assert_eq!(r, Ok(LineKind::Delta)),
            }
        }
        assert_eq!(batch.len(), 1);
    }
}
