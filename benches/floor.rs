//! What parsing a chunk costs at best on one core, beside what it costs today: the
//! measurements issue "Parse only what is used" asks for before a parser is chosen.
//!
//! On one 512 KiB chunk of generated lines (the size that keeps a chunk and its index in
//! this machine's 1 MiB L2), in bytes/s:
//! - `newlines`: finding the lines (memchr), the floor of any path;
//! - `stage1_chunk`: simd-json's stage 1 over the whole chunk in one call (every
//!   structural character indexed, UTF-8 and control characters checked), reached through
//!   its public API: a sentinel document `0` first, so that stage 2 stops at once with
//!   trailing data and leaves the index of the chunk behind;
//! - `tape_lines`: today's path, every line copied, indexed, taped and walked into a batch;
//! - `stage1_and_walk`: stage 1 as above, then a walk over its index that finds each
//!   line's top-level keys and matches them against the dozen a summary reads, passing
//!   over every other value by counting brackets: the mechanical cost of an on-demand
//!   parser over simd-json's index, before it validates or converts anything;
//! - `skip_step_details`: a byte loop that skips each line's `step_details` object by
//!   counting brackets outside strings (no validation): what a JSONSki-style skip costs
//!   without SIMD, over the part of the line a summary never reads.
//!
//! Run with `cargo bench --bench floor`; CI only builds it.

mod common;

use criterion::{black_box, criterion_group, criterion_main, Criterion, Throughput};
use simd_json::value::tape::Tape;
use simd_json::{Buffers, ErrorType};
use steplog::generate::Generator;
use steplog::parse::{LineIndex, PADDING};

/// Whole generated lines, about `bytes` of them.
fn chunk(bytes: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(bytes + 4096);
    let mut g = Generator::new(11);
    while out.len() < bytes {
        g.line(&mut out);
    }
    out
}

/// The end of the container opening at `data[at]`, by counting brackets outside strings.
fn skip_container(data: &[u8], mut at: usize) -> usize {
    let mut depth = 0usize;
    let mut in_string = false;
    while at < data.len() {
        let b = data[at];
        if in_string {
            match b {
                b'\\' => at += 1,
                b'"' => in_string = false,
                _ => {}
            }
        } else {
            match b {
                b'"' => in_string = true,
                b'{' | b'[' => depth += 1,
                b'}' | b']' => {
                    depth -= 1;
                    if depth == 0 {
                        return at + 1;
                    }
                }
                _ => {}
            }
        }
        at += 1;
    }
    at
}

/// simd-json's stage 1 over a whole chunk, reused: the chunk behind a sentinel document
/// `0`, so that stage 2 stops at once with trailing data and leaves the chunk's index.
struct Stage1 {
    buf: Vec<u8>,
    len: usize,
    buffers: Buffers,
    tape: Tape<'static>,
}

impl Stage1 {
    fn new(data: &[u8]) -> Stage1 {
        let mut buf = Vec::with_capacity(data.len() + 2 + PADDING);
        buf.extend_from_slice(b"0\n");
        buf.extend_from_slice(data);
        buf.extend_from_slice(&[b' '; PADDING]);
        Stage1 {
            buffers: Buffers::new(buf.len()),
            len: data.len() + 2,
            buf,
            tape: Tape::null(),
        }
    }

    /// Indexes the chunk: its bytes (behind the sentinel) and their structural index
    /// (without the sentinel's).
    fn index(&mut self) -> (&[u8], &[u32]) {
        let mut t = std::mem::replace(&mut self.tape, Tape::null()).reset();
        let r = simd_json::fill_tape_padded(&mut self.buf, self.len, &mut self.buffers, &mut t);
        self.tape = t.reset();
        match r {
            Err(e) if *e.error() == ErrorType::TrailingData && e.index() == 0 => {}
            other => panic!("the sentinel did not stop stage 2: {other:?}"),
        }
        (&self.buf, &self.buffers.structural_indexes()[1..])
    }
}

/// The keys a summary reads at the top of a line.
const WANTED: [&[u8]; 12] = [
    b"id",
    b"object",
    b"created_at",
    b"run_id",
    b"assistant_id",
    b"thread_id",
    b"type",
    b"status",
    b"completed_at",
    b"failed_at",
    b"last_error",
    b"usage",
];

/// Walks the structural index `index` of `buf` (lines of objects): per line, every
/// top-level key is matched against [`WANTED`] and every value passed over by depth.
/// Returns the keys matched.
fn walk(buf: &[u8], index: &[u32]) -> usize {
    let mut found = 0;
    let mut depth = 0u32;
    let mut i = 0;
    while i < index.len() {
        let at = index[i] as usize;
        match buf[at] {
            b'{' | b'[' => depth += 1,
            b'}' | b']' => depth -= 1,
            b'"' if depth == 1 && index.get(i + 1).is_some_and(|&n| buf[n as usize] == b':') => {
                // A key: its bytes run to the quote before the colon.
                let colon = index[i + 1] as usize;
                let end = buf[at + 1..colon].iter().rposition(|&c| c == b'"');
                if let Some(end) = end {
                    let key = &buf[at + 1..at + 1 + end];
                    if WANTED.contains(&key) {
                        found += 1;
                    }
                }
                i += 1;
            }
            _ => {}
        }
        i += 1;
    }
    found
}

fn floor(c: &mut Criterion) {
    let data = chunk(512 << 10);
    let len = data.len();
    let mut group = c.benchmark_group("parse_floor");
    group.throughput(Throughput::Bytes(len as u64));

    group.bench_function("newlines", |b| {
        let mut lines = LineIndex::new();
        b.iter(|| {
            lines.build(black_box(&data), true);
            black_box(lines.len())
        })
    });

    group.bench_function("stage1_chunk", |b| {
        let mut stage1 = Stage1::new(&data);
        b.iter(|| black_box(stage1.index().1.len()))
    });

    group.bench_function("stage1_and_walk", |b| {
        let mut stage1 = Stage1::new(&data);
        b.iter(|| {
            let (buf, index) = stage1.index();
            black_box(walk(buf, index))
        })
    });

    group.bench_function("tape_lines", |b| {
        let mut tape = common::TapePath::default();
        b.iter(|| black_box(tape.parse_chunk(&data)))
    });

    group.bench_function("skip_step_details", |b| {
        let key = memchr::memmem::Finder::new(b"\"step_details\":");
        let mut lines = LineIndex::new();
        lines.build(&data, true);
        b.iter(|| {
            let mut skipped = 0usize;
            for i in 0..lines.len() {
                let line = lines.line(i, &data);
                let bytes = &data[line.start..line.start + line.len];
                if let Some(k) = key.find(bytes) {
                    let open = k + b"\"step_details\":".len();
                    skipped += skip_container(bytes, open) - open;
                }
            }
            black_box(skipped)
        })
    });
    group.finish();
}

criterion_group!(benches, floor);
criterion_main!(benches);
