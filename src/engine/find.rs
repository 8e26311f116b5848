//! `steplog find`: the records a `--where` expression matches, printed in input order
//! while chunks are parsed in parallel.
//!
//! Each worker hands every chunk it finishes, with its matches, to an [`Ordered`] writer,
//! which prints chunks in input order and keeps the ones that arrive early; a worker
//! whose chunk is early waits when those kept pass [`PENDING_BYTES`], so memory stays
//! bounded however skewed the chunks. The worker holding the next chunk never waits, so
//! the pass always moves on. With a limit, the writer stops the pass once it has printed
//! that many.

use crate::batch::StepFields;
use std::collections::BTreeMap;
use std::io;
use std::sync::{Condvar, Mutex};

/// Bytes of early chunks' matches the writer keeps before early workers wait.
pub const PENDING_BYTES: usize = 64 << 20;

/// One matching record: its line (raw, as read), and the fields the table and JSON forms
/// of `find` show (when asked for).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Match {
    /// Line index within its chunk (from 0).
    pub line: u32,
    /// The line as read, byte for byte (without its newline).
    pub raw: Vec<u8>,
    /// The step's fields, when wanted.
    pub fields: Option<StepFields>,
}

/// A chunk's matches, as a worker hands them over.
#[derive(Debug, Clone, Default)]
pub struct Found {
    /// The chunk's position among all chunks.
    pub seq: u64,
    /// Its input.
    pub file: u32,
    /// Lines in the chunk.
    pub lines: u64,
    /// Its matches, in line order.
    pub matches: Vec<Match>,
}

impl Found {
    fn bytes(&self) -> usize {
        self.matches.iter().map(|m| m.raw.len() + 64).sum()
    }
}

/// Where matches go, in input order: the binary's jsonl, table and JSON writers.
pub trait FoundSink: Send {
    /// Writes one match; `file` is its input's report name and `line` its 1-based line.
    fn found(&mut self, file: &str, line: u64, m: &Match) -> io::Result<()>;
}

struct Inner<'a> {
    next: u64,
    pending: BTreeMap<u64, Found>,
    pending_bytes: usize,
    /// Lines before the next chunk, per input.
    line_base: Vec<u64>,
    written: u64,
    limit: u64,
    out: &'a mut dyn FoundSink,
    error: Option<io::Error>,
    done: bool,
}

/// Writes chunks' matches in input order.
pub struct Ordered<'a> {
    inner: Mutex<Inner<'a>>,
    moved: Condvar,
    names: &'a [String],
}

impl<'a> Ordered<'a> {
    /// A writer to `out` of at most `limit` matches; `names` are the inputs' report names.
    pub fn new(out: &'a mut dyn FoundSink, limit: u64, names: &'a [String]) -> Ordered<'a> {
        Ordered {
            inner: Mutex::new(Inner {
                next: 0,
                pending: BTreeMap::new(),
                pending_bytes: 0,
                line_base: vec![0; names.len()],
                written: 0,
                limit,
                out,
                error: None,
                done: limit == 0,
            }),
            moved: Condvar::new(),
            names,
        }
    }

    /// Takes a chunk's matches; returns false once the writer wants no more (the limit
    /// was reached, or writing failed).
    pub fn submit(&self, found: Found) -> bool {
        let mut g = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        if g.done {
            return false;
        }
        let seq = found.seq;
        g.pending_bytes += found.bytes();
        g.pending.insert(seq, found);
        self.drain(&mut g);
        // An early chunk waits while too much is kept (the next one never does).
        while !g.done
            && g.pending_bytes > PENDING_BYTES
            && g.pending.contains_key(&seq)
            && seq != g.next
        {
            g = self.moved.wait(g).unwrap_or_else(|e| e.into_inner());
        }
        !g.done
    }

    fn drain(&self, g: &mut Inner<'a>) {
        let mut moved = false;
        while let Some(found) = g.pending.remove(&g.next) {
            moved = true;
            g.pending_bytes -= found.bytes();
            g.next += 1;
            let file = found.file as usize;
            if g.line_base.len() <= file {
                g.line_base.resize(file + 1, 0);
            }
            let base = g.line_base[file];
            g.line_base[file] += found.lines;
            if g.done {
                continue;
            }
            let name = self.names.get(file).map_or("", String::as_str);
            for m in &found.matches {
                if g.written >= g.limit {
                    break;
                }
                if let Err(e) = g.out.found(name, base + u64::from(m.line) + 1, m) {
                    g.error = Some(e);
                    g.done = true;
                    break;
                }
                g.written += 1;
            }
            if g.written >= g.limit {
                g.done = true;
            }
        }
        if moved || g.done {
            self.moved.notify_all();
        }
    }

    /// Whether it wants no more.
    pub fn done(&self) -> bool {
        self.inner.lock().unwrap_or_else(|e| e.into_inner()).done
    }

    /// Matches written, and the first write error.
    pub fn finish(self) -> (u64, Option<io::Error>) {
        let g = self.inner.into_inner().unwrap_or_else(|e| e.into_inner());
        (g.written, g.error)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Lines(Vec<String>);

    impl FoundSink for Lines {
        fn found(&mut self, file: &str, line: u64, m: &Match) -> io::Result<()> {
            self.0
                .push(format!("{file}:{line}:{}", String::from_utf8_lossy(&m.raw)));
            Ok(())
        }
    }

    fn chunk(seq: u64, file: u32, lines: u64, matches: &[u32]) -> Found {
        Found {
            seq,
            file,
            lines,
            matches: matches
                .iter()
                .map(|&line| Match {
                    line,
                    raw: format!("s{seq}l{line}").into_bytes(),
                    fields: None,
                })
                .collect(),
        }
    }

    #[test]
    fn writes_in_input_order_with_line_numbers_and_stops_at_the_limit() {
        let names = ["a".to_string(), "b".to_string()];
        let mut out = Lines(Vec::new());
        let ordered = Ordered::new(&mut out, u64::MAX, &names);
        for c in [
            chunk(2, 1, 4, &[0, 3]),
            chunk(0, 0, 5, &[4]),
            chunk(1, 0, 2, &[1]),
        ] {
            assert!(ordered.submit(c));
        }
        let (written, error) = ordered.finish();
        assert!(written == 4 && error.is_none());
        assert_eq!(out.0, ["a:5:s0l4", "a:7:s1l1", "b:1:s2l0", "b:4:s2l3"]);

        let mut out = Lines(Vec::new());
        let ordered = Ordered::new(&mut out, 2, &names);
        assert!(ordered.submit(chunk(1, 0, 3, &[0, 1])));
        assert!(!ordered.submit(chunk(0, 0, 3, &[2])));
        assert!(ordered.done());
        assert_eq!(ordered.finish().0, 2);
        assert_eq!(out.0, ["a:3:s0l2", "a:4:s1l0"]);
    }
}
