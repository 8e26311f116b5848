//! Orchestration: inputs → chunks → parallel parse and aggregate → merge → report.
//!
//! The calling thread opens the inputs in order and sends their chunks down a bounded
//! channel; `threads` rayon workers each take chunks, copy or adopt them into a padded
//! buffer, parse every line into their own batch, and feed full batches to their own
//! [`Summary`]. At the end the workers' summaries are merged. Merging is exact and
//! order-free, so the report does not depend on scheduling.

use crate::agg::{FileInfo, LinePos, Summary};
use crate::batch::Batch;
use crate::error::Error;
use crate::input::{
    self, BufferPool, Chunk, ChunkData, InputSpec, OpenOptions, DEFAULT_CHUNK_SIZE,
};
use crate::parse::{LineIndex, LineKind, LineParser, PADDING};
use crate::report::{LineCounts, Report};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{mpsc, Mutex};
use std::time::{Duration, Instant};

/// How a summary runs.
#[derive(Debug, Clone, Copy)]
pub struct Config {
    /// Worker threads. By default (0), one per available core.
    pub threads: usize,
    /// Target chunk size in bytes. By default, [`DEFAULT_CHUNK_SIZE`].
    pub chunk_size: usize,
    /// Memory-map regular files. By default, true; false reads them instead.
    pub mmap: bool,
    /// Stop at the first malformed line with [`Error::Malformed`]. By default, false.
    pub strict: bool,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            threads: 0,
            chunk_size: DEFAULT_CHUNK_SIZE,
            mmap: true,
            strict: false,
        }
    }
}

impl Config {
    /// The worker count this config resolves to.
    pub fn worker_threads(&self) -> usize {
        if self.threads > 0 {
            self.threads
        } else {
            std::thread::available_parallelism().map_or(1, |n| n.get())
        }
    }
}

/// A finished run: the merged aggregates and the inputs they came from.
#[derive(Debug, Clone)]
pub struct Outcome {
    /// Merged aggregates.
    pub summary: Summary,
    /// The inputs, in order.
    pub files: Vec<FileInfo>,
    /// Where the time went.
    pub timings: Timings,
}

/// Time spent in each stage of a run. `read` is the producing thread's wall time in the
/// input (read(2) for streams; for maps, only cutting them into chunks); the other
/// stages are summed over the workers, so with N workers they add up to about N times
/// the wall time. Measured per chunk and per batch, never per line.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Timings {
    /// Reading or mapping inputs and cutting them into chunks (producer thread).
    pub read: Duration,
    /// Copying each chunk into a worker's buffer and finding its lines.
    pub split: Duration,
    /// Parsing lines into batches (simd-json plus the tape walk).
    pub parse: Duration,
    /// Feeding full batches to the aggregators, and merging the workers' aggregates.
    pub aggregate: Duration,
}

impl Timings {
    fn add(&mut self, other: &Timings) {
        self.read += other.read;
        self.split += other.split;
        self.parse += other.parse;
        self.aggregate += other.aggregate;
    }
}

impl Outcome {
    /// The report.
    pub fn report(&self) -> Report {
        self.summary.finish(&self.files)
    }
}

/// Summarises `inputs` into a report.
pub fn summarize(inputs: &[InputSpec], cfg: &Config) -> Result<Report, Error> {
    run(inputs, cfg).map(|o| o.report())
}

/// Runs the pipeline over `inputs` (stdin when empty) and returns the merged aggregates.
pub fn run(inputs: &[InputSpec], cfg: &Config) -> Result<Outcome, Error> {
    let stdin = [InputSpec::Stdin];
    let inputs = if inputs.is_empty() {
        &stdin[..]
    } else {
        inputs
    };
    let threads = cfg.worker_threads();
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .thread_name(|i| format!("steplog-worker-{i}"))
        .build()
        .map_err(|source| Error::Threads { threads, source })?;
    let opts = OpenOptions {
        chunk_size: cfg.chunk_size,
        mmap: cfg.mmap,
    };
    let buffers = BufferPool::default();
    let gate = StrictGate::new(cfg.strict);
    let (tx, rx) = mpsc::sync_channel::<Chunk>(threads * 2);
    let rx = Mutex::new(rx);
    let results = Mutex::new(Vec::with_capacity(threads));

    let produced = pool.in_place_scope(|scope| {
        for _ in 0..threads {
            scope.spawn(|_| {
                let mut worker = Worker::default();
                loop {
                    let next = rx.lock().unwrap_or_else(|e| e.into_inner()).recv();
                    let Ok(chunk) = next else { break };
                    worker.process(chunk, &gate, &buffers);
                }
                let done = worker.finish();
                results.lock().unwrap_or_else(|e| e.into_inner()).push(done);
            });
        }
        // The calling thread reads; dropping `tx` (on return) lets the workers finish.
        produce(inputs, opts, &buffers, &gate, tx)
    });
    let (files, read) = produced?;

    let mut timings = Timings {
        read,
        ..Timings::default()
    };
    let mut summary = Summary::default();
    let merging = Instant::now();
    for (part, worker_timings) in results.into_inner().unwrap_or_else(|e| e.into_inner()) {
        summary.merge(part);
        timings.add(&worker_timings);
    }
    timings.aggregate += merging.elapsed();
    if let Some((pos, reason, message)) = gate
        .enabled
        .then(|| summary.lines.first_malformed())
        .flatten()
    {
        return Err(Error::Malformed {
            path: files
                .get(pos.file as usize)
                .map_or_else(String::new, |f| f.name.clone()),
            line: summary.lines.line_number(pos),
            offset: pos.offset,
            reason,
            message: message.to_string(),
        });
    }
    Ok(Outcome {
        summary,
        files,
        timings,
    })
}

/// Opens each input in order and sends its chunks to the workers. Returns the inputs and
/// the time spent reading them (not waiting for workers).
fn produce(
    inputs: &[InputSpec],
    opts: OpenOptions,
    buffers: &BufferPool,
    gate: &StrictGate,
    tx: mpsc::SyncSender<Chunk>,
) -> Result<(Vec<FileInfo>, Duration), Error> {
    let mut reading = Duration::ZERO;
    let mut files = Vec::with_capacity(inputs.len());
    let mut seq = 0u64;
    for (file, spec) in inputs.iter().enumerate() {
        let started = Instant::now();
        let mut source = input::open(spec, opts)?;
        reading += started.elapsed();
        let mut index = 0u64;
        while !gate.tripped() {
            let started = Instant::now();
            let next = source
                .next_chunk(buffers)
                .map_err(|source_err| Error::Read {
                    path: spec.name(),
                    offset: source.bytes_read(),
                    source: source_err,
                })?;
            reading += started.elapsed();
            let Some((offset, data)) = next else { break };
            let chunk = Chunk {
                file: file as u32,
                index,
                seq,
                offset,
                data,
            };
            if tx.send(chunk).is_err() {
                break; // every worker is gone; the scope will report why
            }
            index += 1;
            seq += 1;
        }
        files.push(FileInfo {
            name: spec.name(),
            bytes: source.bytes_read(),
        });
        if gate.tripped() {
            break;
        }
    }
    Ok((files, reading))
}

/// `--strict`: the lowest chunk sequence number holding a malformed line. Chunks after it
/// are skipped; chunks before it are still parsed, so the first malformed line found is
/// the first in input order.
struct StrictGate {
    enabled: bool,
    first_bad: AtomicU64,
}

impl StrictGate {
    fn new(enabled: bool) -> StrictGate {
        StrictGate {
            enabled,
            first_bad: AtomicU64::new(u64::MAX),
        }
    }

    fn trip(&self, seq: u64) {
        if self.enabled {
            self.first_bad.fetch_min(seq, Ordering::Relaxed);
        }
    }

    fn tripped(&self) -> bool {
        self.first_bad.load(Ordering::Relaxed) != u64::MAX
    }

    fn skips(&self, seq: u64) -> bool {
        seq > self.first_bad.load(Ordering::Relaxed)
    }
}

/// One worker's reusable state.
#[derive(Default)]
struct Worker {
    parser: LineParser,
    lines: LineIndex,
    batch: Batch,
    /// Padded copy of the current mapped chunk.
    scratch: Vec<u8>,
    summary: Summary,
    timings: Timings,
}

impl Worker {
    fn process(&mut self, chunk: Chunk, gate: &StrictGate, buffers: &BufferPool) {
        let Chunk {
            file,
            index,
            seq,
            offset,
            data,
        } = chunk;
        if gate.skips(seq) {
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
                buf.extend_from_slice(&map[range]);
                drop(map);
                self.timings.split += started.elapsed();
                self.parse_chunk(file, index, seq, offset, &mut buf, gate);
                self.scratch = buf;
            }
            ChunkData::Owned(mut buf) => {
                self.parse_chunk(file, index, seq, offset, &mut buf, gate);
                buffers.give(buf);
            }
        }
    }

    /// Parses every line of `buf` (the chunk's bytes; padding is added and removed here).
    fn parse_chunk(
        &mut self,
        file: u32,
        index: u64,
        seq: u64,
        offset: u64,
        buf: &mut Vec<u8>,
        gate: &StrictGate,
    ) {
        let started = Instant::now();
        let len = buf.len();
        buf.extend_from_slice(&[b' '; PADDING]);
        self.lines.build(&buf[..len], offset == 0);
        let parsing = Instant::now();
        self.timings.split += parsing - started;
        let mut aggregating = Duration::ZERO;
        let mut counts = LineCounts::default();
        for line_index in 0..self.lines.len() {
            let line = self.lines.line(line_index, &buf[..len]);
            counts.lines += 1;
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
                    if self.batch.is_full() {
                        let t = Instant::now();
                        self.summary.update(&self.batch);
                        self.batch.clear();
                        aggregating += t.elapsed();
                    }
                }
                Ok(LineKind::Delta) => counts.deltas += 1,
                Err(m) => {
                    counts.malformed += 1;
                    let pos = LinePos {
                        file,
                        chunk: index,
                        line: line_index as u64,
                        offset: offset + line.start as u64,
                    };
                    self.summary.lines.add_malformed(pos, &m);
                    gate.trip(seq);
                }
            }
        }
        self.summary.lines.add_chunk(file, index, &counts);
        buf.truncate(len);
        self.timings.parse += parsing.elapsed() - aggregating;
        self.timings.aggregate += aggregating;
    }

    fn finish(mut self) -> (Summary, Timings) {
        let t = Instant::now();
        self.summary.update(&self.batch);
        self.timings.aggregate += t.elapsed();
        (self.summary, self.timings)
    }
}
