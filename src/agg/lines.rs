//! Line accounting: every input line is a record, a run, a blank line, a delta, framing,
//! or malformed.
//!
//! Workers see chunks, not files, so a malformed line's position is kept as (input index,
//! chunk, line within chunk) and turned into a line number at the end, once every chunk's
//! line count is known. Only the first [`MAX_EXAMPLES`] malformed lines (in input order)
//! keep a message. Inputs are indexes here: what they are called is the caller's business.

use super::{add, Overflow};
use crate::parse::{Malformed, Reason};
use crate::report;
use std::collections::BTreeMap;

/// How many malformed lines are reported in full.
pub const MAX_EXAMPLES: usize = 10;

/// Lines by kind: every line is exactly one of records, runs, blank, deltas, framing or
/// malformed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LineCounts {
    /// Lines read.
    pub lines: u64,
    /// Run-step records.
    pub records: u64,
    /// Run objects (`thread.run`).
    pub runs: u64,
    /// Empty or whitespace-only lines.
    pub blank_lines: u64,
    /// `thread.run.step.delta` events.
    pub deltas: u64,
    /// Event-stream plumbing.
    pub framing: u64,
    /// Lines that are not a valid record.
    pub malformed: u64,
}

impl LineCounts {
    /// Adds `other` into `self`, or says which count would not hold the total.
    pub fn add(&mut self, other: &LineCounts) -> Result<(), Overflow> {
        add(&mut self.lines, other.lines, "input.lines")?;
        add(&mut self.records, other.records, "input.records")?;
        add(&mut self.runs, other.runs, "input.runs")?;
        add(
            &mut self.blank_lines,
            other.blank_lines,
            "input.blank_lines",
        )?;
        add(&mut self.deltas, other.deltas, "input.deltas")?;
        add(&mut self.framing, other.framing, "input.framing")?;
        add(&mut self.malformed, other.malformed, "input.malformed")
    }

    /// The count of each kind of line (all but `lines`), in report order.
    pub fn kinds(&self) -> [u64; 6] {
        [
            self.records,
            self.runs,
            self.blank_lines,
            self.deltas,
            self.framing,
            self.malformed,
        ]
    }

    /// The report's form.
    pub fn finish(&self) -> report::LineCounts {
        self.into()
    }
}

same_fields!(LineCounts => report::LineCounts {
    lines, records, runs, blank_lines, deltas, framing, malformed
});

/// Adds `n` lines to chunk `c` of a per-chunk count, growing it as needed.
fn add_at(per_chunk: &mut Vec<u64>, c: usize, n: u64) -> Result<(), Overflow> {
    if c >= per_chunk.len() {
        per_chunk.resize(c + 1, 0);
    }
    add(&mut per_chunk[c], n, "input.lines")
}

/// Where a line is, as a worker knows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct LinePos {
    /// Input file index.
    pub file: u32,
    /// Chunk index within the file.
    pub chunk: u64,
    /// Line index within the chunk, from 0.
    pub line: u64,
    /// Byte offset of the line's start in the file.
    pub offset: u64,
}

/// The line accounting of one input.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FileCounts {
    /// Lines by kind.
    pub totals: LineCounts,
    /// Lines per chunk index, to turn chunk-relative positions into line numbers.
    pub chunk_lines: Vec<u64>,
    /// For a JSON document, whose entries are not its lines: the physical lines each
    /// chunk covers (positions in its chunks are physical lines too). Empty for JSONL.
    pub chunk_spans: Vec<u64>,
}

/// A malformed line kept with its message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Example {
    /// Where it is.
    pub pos: LinePos,
    /// Why it is malformed.
    pub reason: Reason,
    /// The field at fault, if any.
    pub field: Option<String>,
    /// The human explanation.
    pub message: String,
}

/// Mergeable line accounting for any number of inputs.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LineStats {
    pub(crate) files: Vec<FileCounts>,
    pub(crate) by_reason: BTreeMap<Reason, u64>,
    /// The earliest malformed lines seen, sorted by position, at most [`MAX_EXAMPLES`]
    /// (more while merges may still renumber inputs).
    pub(crate) examples: Vec<Example>,
}

impl LineStats {
    fn file(&mut self, file: u32) -> &mut FileCounts {
        let i = file as usize;
        if i >= self.files.len() {
            self.files.resize_with(i + 1, FileCounts::default);
        }
        &mut self.files[i]
    }

    /// Adds a parsed chunk's counts. (Counts of lines read cannot pass 2^64 − 1, as every
    /// line is at least a byte; the checks are for counts read from state files.)
    pub fn add_chunk(
        &mut self,
        file: u32,
        chunk: u64,
        counts: &LineCounts,
    ) -> Result<(), Overflow> {
        self.add_chunk_spanning(file, chunk, counts, None)
    }

    /// [`Self::add_chunk`] for a chunk of a JSON document that covers `span` physical
    /// lines.
    pub fn add_chunk_spanning(
        &mut self,
        file: u32,
        chunk: u64,
        counts: &LineCounts,
        span: Option<u64>,
    ) -> Result<(), Overflow> {
        let f = self.file(file);
        f.totals.add(counts)?;
        let c = chunk as usize;
        if let Some(span) = span {
            add_at(&mut f.chunk_spans, c, span)?;
        }
        add_at(&mut f.chunk_lines, c, counts.lines)
    }

    /// Counts a malformed line (its chunk's totals still go through [`Self::add_chunk`]);
    /// `message` explains it, called only if the line is kept as an example.
    pub fn add_malformed(&mut self, pos: LinePos, m: &Malformed, message: impl FnOnce() -> String) {
        let n = self.by_reason.entry(m.reason).or_default();
        *n = n.saturating_add(1); // bounded by the lines read, like them
        let full = self.examples.len() >= MAX_EXAMPLES;
        if full && self.examples.last().is_some_and(|e| e.pos < pos) {
            return;
        }
        let at = self.examples.partition_point(|e| e.pos < pos);
        self.examples.insert(
            at,
            Example {
                pos,
                reason: m.reason,
                field: m.field.map(str::to_string),
                message: message(),
            },
        );
        self.examples.truncate(MAX_EXAMPLES);
    }

    /// Merges another worker's (or another run's) accounting, or says which count
    /// would not hold the total; the totals over all files must fit too.
    pub fn merge(&mut self, other: LineStats) -> Result<(), Overflow> {
        for (i, f) in other.files.into_iter().enumerate() {
            let mine = self.file(i as u32);
            mine.totals.add(&f.totals)?;
            for (c, n) in f.chunk_lines.into_iter().enumerate() {
                add_at(&mut mine.chunk_lines, c, n)?;
            }
            for (c, n) in f.chunk_spans.into_iter().enumerate() {
                add_at(&mut mine.chunk_spans, c, n)?;
            }
        }
        for (r, n) in other.by_reason {
            add(
                self.by_reason.entry(r).or_default(),
                n,
                "input.malformed_by_reason",
            )?;
        }
        self.checked_totals()?;
        // Not truncated here: a merge that renumbers files (state files sorted by path)
        // must choose the earliest examples after renumbering. `finish` shows the first
        // `MAX_EXAMPLES`; `reorder_files` trims.
        self.examples.extend(other.examples);
        self.examples.sort_by_key(|e| e.pos);
        Ok(())
    }

    /// Renumbers the files as if `by` inputs came before them (to append the accounting
    /// of one run after another's).
    pub fn shift_files(&mut self, by: u32) {
        if by == 0 {
            return;
        }
        let mut files = vec![FileCounts::default(); by as usize];
        files.append(&mut self.files);
        self.files = files;
        for e in &mut self.examples {
            e.pos.file += by;
        }
    }

    /// What tells file `i`'s accounting apart from another's (for a stable order of
    /// inputs with the same name).
    pub fn file_key(&self, i: usize) -> (u64, [u64; 6], Vec<u64>) {
        let f = self.files.get(i).cloned().unwrap_or_default();
        (f.totals.lines, f.totals.kinds(), f.chunk_lines)
    }

    /// Renumbers the files: file `order[n]` becomes file `n`.
    pub fn reorder_files(&mut self, order: &[usize]) {
        let mut new_index = vec![0u32; order.len().max(self.files.len())];
        for (new, &old) in order.iter().enumerate() {
            new_index[old] = new as u32;
        }
        self.place_files(&new_index, order.len().max(self.files.len()));
    }

    /// Keeps only the first [`MAX_EXAMPLES`] examples, once the files are numbered for
    /// good.
    pub fn trim_examples(&mut self) {
        self.examples.truncate(MAX_EXAMPLES);
    }

    /// Renumbers the files into `total` of them: file `i` becomes file `new_index[i]`
    /// (the others stay empty, for another part's files to merge into).
    pub fn place_files(&mut self, new_index: &[u32], total: usize) {
        let mut files = vec![FileCounts::default(); total];
        for (old, f) in std::mem::take(&mut self.files).into_iter().enumerate() {
            files[new_index[old] as usize] = f;
        }
        self.files = files;
        for e in &mut self.examples {
            e.pos.file = new_index[e.pos.file as usize];
        }
        self.examples.sort_by_key(|e| e.pos);
        self.examples.truncate(MAX_EXAMPLES);
    }

    /// Whether the accounting is one reading could make, over `files` inputs (for one
    /// read from a state): every line of each input one kind, the chunks' lines adding up
    /// to the input's, reasons to the malformed lines, totals within 64 bits, and each
    /// example inside its input.
    pub fn check(&self, files: usize) -> Result<(), String> {
        if self.files.len() > files {
            return Err(format!(
                "line counts for {} inputs of {files}",
                self.files.len()
            ));
        }
        for (i, f) in self.files.iter().enumerate() {
            let t = &f.totals;
            let kinds = t.kinds().iter().try_fold(0u64, |a, n| a.checked_add(*n));
            let chunks = f
                .chunk_lines
                .iter()
                .try_fold(0u64, |a, n| a.checked_add(*n));
            if kinds != Some(t.lines) || chunks != Some(t.lines) {
                return Err(format!(
                    "input {}: {} lines do not add up by kind and by chunk",
                    i + 1,
                    t.lines
                ));
            }
        }
        let totals = self.checked_totals().map_err(|o| o.to_string())?;
        let by_reason = self
            .by_reason
            .values()
            .try_fold(0u64, |a, n| a.checked_add(*n));
        if by_reason != Some(totals.malformed) {
            return Err("malformed lines by reason do not add up".into());
        }
        if self.examples.len() > MAX_EXAMPLES.min(totals.malformed as usize) {
            return Err(format!("{} malformed-line examples", self.examples.len()));
        }
        for e in &self.examples {
            let inside = self
                .files
                .get(e.pos.file as usize)
                .and_then(|f| f.chunk_lines.get(e.pos.chunk as usize))
                .is_some_and(|&n| e.pos.line < n);
            if !inside || self.by_reason.get(&e.reason).is_none_or(|&n| n == 0) {
                return Err(format!(
                    "a malformed-line example (input {}, chunk {}, line {}) is not in the counts",
                    u64::from(e.pos.file) + 1,
                    e.pos.chunk,
                    e.pos.line
                ));
            }
        }
        if !self.examples.windows(2).all(|w| w[0].pos < w[1].pos) {
            return Err("malformed-line examples out of order".into());
        }
        Ok(())
    }

    /// Totals over all files, or which of them would not fit.
    pub fn checked_totals(&self) -> Result<LineCounts, Overflow> {
        let mut t = LineCounts::default();
        for f in &self.files {
            t.add(&f.totals)?;
        }
        Ok(t)
    }

    /// Totals over all files. They fit: every way counts come in ([`Self::add_chunk`],
    /// [`Self::merge`], a state read) checks [`Self::checked_totals`].
    pub fn totals(&self) -> LineCounts {
        self.checked_totals().unwrap_or_else(|_| {
            let mut t = LineCounts::default();
            for f in &self.files {
                for (a, b) in [
                    (&mut t.lines, f.totals.lines),
                    (&mut t.records, f.totals.records),
                    (&mut t.runs, f.totals.runs),
                    (&mut t.blank_lines, f.totals.blank_lines),
                    (&mut t.deltas, f.totals.deltas),
                    (&mut t.framing, f.totals.framing),
                    (&mut t.malformed, f.totals.malformed),
                ] {
                    *a = a.saturating_add(b);
                }
            }
            t
        })
    }

    /// The 1-based line number of `pos` in its file. Exact once every chunk before
    /// `pos.chunk` of that file has been added.
    pub fn line_number(&self, pos: LinePos) -> u64 {
        let before: u64 = self
            .files
            .get(pos.file as usize)
            .map(|f| {
                let per_chunk = if f.chunk_spans.is_empty() {
                    &f.chunk_lines
                } else {
                    &f.chunk_spans
                };
                per_chunk
                    .iter()
                    .take(pos.chunk as usize)
                    .fold(0u64, |a, &b| a.saturating_add(b))
            })
            .unwrap_or(0);
        // Within the file's line count, which fits (checked as counts come in).
        before.saturating_add(pos.line).saturating_add(1)
    }

    /// The earliest malformed line seen, with its reason and message.
    pub fn first_malformed(&self) -> Option<(LinePos, Reason, &str)> {
        self.examples
            .first()
            .map(|e| (e.pos, e.reason, e.message.as_str()))
    }

    /// The `input` section of the report, given each input's name, size and compression
    /// (as reports write them), in input order.
    pub fn finish(&self, files: &[report::FileInput]) -> report::Input {
        let name = |i: u32| {
            files
                .get(i as usize)
                .map_or_else(|| format!("#{i}"), |f| f.path.clone())
        };
        let per_file: Vec<report::FileInput> = files
            .iter()
            .enumerate()
            .map(|(i, f)| report::FileInput {
                counts: self
                    .files
                    .get(i)
                    .map(|c| c.totals.finish())
                    .unwrap_or_default(),
                ..f.clone()
            })
            .collect();
        report::Input {
            filtered_out: 0,
            window: None,
            outside_window: None,
            bytes: files.iter().map(|f| f.bytes).sum(),
            files: per_file,
            counts: self.totals().finish(),
            malformed_by_reason: Reason::ALL
                .iter()
                .map(|r| {
                    (
                        r.as_str().to_string(),
                        self.by_reason.get(r).copied().unwrap_or(0),
                    )
                })
                .collect(),
            malformed_examples: self
                .examples
                .iter()
                .take(MAX_EXAMPLES)
                .map(|e| report::MalformedLine {
                    file: name(e.pos.file),
                    line: self.line_number(e.pos),
                    offset: e.pos.offset,
                    reason: e.reason.as_str().to_string(),
                    field: e.field.clone(),
                    message: e.message.clone(),
                })
                .collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse::Malformed;

    fn pos(file: u32, chunk: u64, line: u64) -> LinePos {
        LinePos {
            file,
            chunk,
            line,
            offset: line * 10,
        }
    }

    #[test]
    fn line_numbers_resolve_across_chunks_and_merges() {
        let mut a = LineStats::default();
        let mut b = LineStats::default();
        // file 0: chunk 0 has 5 lines, chunk 1 has 3; the bad line is chunk 1, line 2
        b.add_chunk(
            0,
            1,
            &LineCounts {
                lines: 3,
                records: 2,
                malformed: 1,
                ..Default::default()
            },
        )
        .unwrap();
        b.add_malformed(pos(0, 1, 2), &Malformed::missing("id"), String::new);
        a.add_chunk(
            0,
            0,
            &LineCounts {
                lines: 5,
                records: 4,
                blank_lines: 1,
                ..Default::default()
            },
        )
        .unwrap();
        a.merge(b).unwrap();
        let files = [report::FileInput::header("x.jsonl", 80, None, None)];
        let r = a.finish(&files);
        assert_eq!(
            (
                r.counts.lines,
                r.counts.records,
                r.counts.blank_lines,
                r.counts.malformed
            ),
            (8, 6, 1, 1)
        );
        assert_eq!(r.malformed_examples[0].line, 8);
        assert_eq!(r.malformed_examples[0].file, "x.jsonl");
        assert_eq!(r.malformed_examples[0].field.as_deref(), Some("id"));
        assert_eq!(r.malformed_by_reason["missing_field"], 1);
        assert_eq!(r.malformed_by_reason["invalid_json"], 0);
        assert_eq!(r.files[0].counts.records, 6);
    }

    #[test]
    fn counts_that_would_wrap_are_an_error_naming_them() {
        let big = LineCounts {
            lines: u64::MAX,
            records: u64::MAX,
            ..Default::default()
        };
        let mut a = LineStats::default();
        a.add_chunk(0, 0, &big).unwrap();
        let mut b = LineStats::default();
        b.add_chunk(
            0,
            0,
            &LineCounts {
                lines: 1,
                ..Default::default()
            },
        )
        .unwrap();
        assert_eq!(a.clone().merge(b.clone()), Err(Overflow::of("input.lines")));
        // Two files that fit alone but not together: the totals are checked too.
        b.shift_files(1);
        assert_eq!(a.merge(b), Err(Overflow::of("input.lines")));
    }

    #[test]
    fn keeps_the_earliest_examples_whatever_the_order() {
        let mut fwd = LineStats::default();
        let mut parts: Vec<LineStats> = Vec::new();
        for i in 0..25u64 {
            fwd.add_malformed(pos(0, 0, i), &Malformed::not_an_object(), String::new);
        }
        for i in (0..25u64).rev() {
            let mut p = LineStats::default();
            p.add_malformed(pos(0, 0, i), &Malformed::not_an_object(), String::new);
            parts.push(p);
        }
        let mut rev = LineStats::default();
        for p in parts {
            rev.merge(p).unwrap();
        }
        let files = [report::FileInput::header("x", 0, None, None)];
        assert_eq!(fwd.finish(&files), rev.finish(&files));
        assert_eq!(fwd.examples.len(), MAX_EXAMPLES);
        // Merges keep every example until files are renumbered for good.
        rev.reorder_files(&[0]);
        assert_eq!(fwd.examples, rev.examples);
        assert_eq!(fwd.first_malformed().unwrap().0, pos(0, 0, 0));
        assert_eq!(fwd.by_reason[&Reason::NotAnObject], 25);
    }
}
