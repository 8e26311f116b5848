//! One pass over the inputs: reader threads open them (a few at once, so archives
//! decompress in parallel) and the calling thread sends their chunks, in input order, down
//! a bounded channel; the pool's workers parse them and feed their sinks. A pass
//! returns every worker's sink and line accounting, the inputs as read, and the timings.
//!
//! With `strict`, the first malformed line in input order stops the pass: the
//! [`StrictGate`] remembers the lowest chunk holding one, later chunks are skipped, and
//! earlier ones are still parsed so that the line reported really is the first.

use super::sink::Sink;
use super::worker::{Accounting, Worker};
use super::{Config, Error, Lines, Timings};
use crate::agg::LineStats;
use crate::input::{self, BufferPool, Chunk, ChunkData, FileInfo, InputSpec, OpenOptions};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{mpsc, Mutex};
use std::time::{Duration, Instant};

/// What one pass returns.
pub(crate) struct Passed<S> {
    /// Line accounting of all workers, merged.
    pub lines: LineStats,
    /// Records left out by the time window.
    pub filtered_out: u64,
    /// Their `created_at` range (of those the window left out).
    pub outside: crate::agg::TimeRange,
    /// Every worker's sink.
    pub sinks: Vec<S>,
    /// The inputs as read, in order.
    pub files: Vec<FileInfo>,
    /// Where the time went.
    pub timings: Timings,
}

/// Settings shared by the passes of one run.
pub(super) struct Scheduler<'a> {
    pub pool: &'a rayon::ThreadPool,
    pub threads: usize,
    /// Report names of the inputs, in order.
    pub names: &'a [String],
    pub cfg: &'a Config,
}

impl Scheduler<'_> {
    /// Reads `inputs` once, sending the `lines` of every chunk through a worker into a
    /// sink made by `sink`.
    pub fn pass<S: Sink>(
        &self,
        inputs: &[InputSpec],
        lines: Lines<'_>,
        sink: &(dyn Fn() -> S + Sync),
    ) -> Result<Passed<S>, Error> {
        let threads = self.threads;
        let buffers = BufferPool::default();
        let shared = Shared {
            gate: StrictGate::new(self.cfg.strict && matches!(lines, Lines::Every)),
            failed: AtomicBool::new(false),
            halted: AtomicBool::new(false),
            failure: Mutex::new(None),
            names: self.names,
            max_line: self.cfg.max_line_bytes,
            lines,
            progress: self.cfg.progress.as_deref(),
            held: AtomicU64::new(0),
            memory_limit: self.cfg.memory_limit,
        };
        let (tx, rx) = mpsc::sync_channel::<Chunk>(threads * 2);
        let rx = Mutex::new(rx);
        let results = Mutex::new(Vec::with_capacity(threads));

        let produced = self.pool.in_place_scope(|scope| {
            for _ in 0..threads {
                scope.spawn(|_| {
                    let mut worker = Worker::new(self.cfg, sink());
                    loop {
                        let next = rx.lock().unwrap_or_else(|e| e.into_inner()).recv();
                        let Ok(chunk) = next else { break };
                        worker.process(chunk, &shared, &buffers);
                    }
                    let done = worker.finish(&shared);
                    results.lock().unwrap_or_else(|e| e.into_inner()).push(done);
                });
            }
            // The calling thread reads; dropping `tx` (on return) lets the workers finish.
            produce(
                inputs,
                self.cfg.open_options(),
                threads,
                &buffers,
                &shared,
                tx,
            )
        });
        if let Some(e) = shared
            .failure
            .into_inner()
            .unwrap_or_else(|e| e.into_inner())
        {
            return Err(e);
        }
        let (files, read) = produced?;

        let mut timings = Timings {
            read,
            ..Timings::default()
        };
        let mut accounting = Accounting::default();
        let mut sinks = Vec::with_capacity(threads);
        for (sink, part, worker_timings) in results.into_inner().unwrap_or_else(|e| e.into_inner())
        {
            let merging = Instant::now();
            accounting.merge(part)?;
            timings.aggregate += merging.elapsed();
            timings.add(&worker_timings);
            sinks.push(sink);
        }
        let lines = accounting.lines;
        if let Some((pos, reason, message)) = shared
            .gate
            .enabled
            .then(|| lines.first_malformed())
            .flatten()
        {
            return Err(Error::Malformed {
                path: files
                    .get(pos.file as usize)
                    .map_or_else(String::new, |f| f.name.clone()),
                line: lines.line_number(pos),
                offset: pos.offset,
                reason,
                message: message.to_string(),
            });
        }
        Ok(Passed {
            lines,
            filtered_out: accounting.filtered_out,
            outside: accounting.outside,
            sinks,
            files,
            timings,
        })
    }
}

/// State the producer and the workers of one pass share.
pub(super) struct Shared<'a> {
    pub gate: StrictGate,
    /// Set with `failure`, read without a lock.
    pub failed: AtomicBool,
    /// Set when a sink wants no more (`find --limit`): the pass ends early, without error.
    pub halted: AtomicBool,
    /// The first error a worker met.
    failure: Mutex<Option<Error>>,
    names: &'a [String],
    pub max_line: u64,
    pub lines: Lines<'a>,
    pub progress: Option<&'a AtomicU64>,
    /// What the workers' tables hold together, and the most they may.
    pub held: AtomicU64,
    pub memory_limit: u64,
}

impl Shared<'_> {
    /// Records that a worker's tables went from `before` to `now` bytes; stops the pass
    /// when all workers' together pass the memory limit.
    pub fn hold(&self, before: u64, now: u64) {
        let held = if now >= before {
            let grew = now - before;
            self.held
                .fetch_add(grew, Ordering::Relaxed)
                .saturating_add(grew)
        } else {
            let shrank = before - now;
            self.held
                .fetch_sub(shrank, Ordering::Relaxed)
                .saturating_sub(shrank)
        };
        if let Err(e) = super::check_memory(held, self.memory_limit) {
            self.fail(e);
        }
    }

    /// Stops the pass with `e` (the first error wins).
    pub fn fail(&self, e: Error) {
        let mut slot = self.failure.lock().unwrap_or_else(|e| e.into_inner());
        if slot.is_none() {
            *slot = Some(e);
        }
        self.failed.store(true, Ordering::Release);
    }

    fn stopped(&self) -> bool {
        self.gate.tripped()
            || self.failed.load(Ordering::Acquire)
            || self.halted.load(Ordering::Acquire)
    }

    /// The report name of input `file`.
    pub fn name(&self, file: u32) -> String {
        self.names.get(file as usize).cloned().unwrap_or_default()
    }
}

/// What a reader thread sends of one input: its chunks (with their spans and the
/// compressed bytes read so far), then how it ended.
enum Read {
    Chunk(u64, ChunkData, Option<input::Spans>, Option<u64>),
    Done(Result<(FileInfo, Duration), Error>),
}

/// Chunks a reader thread keeps ready for one input before the producer takes them.
const READ_AHEAD_CHUNKS: usize = 2;

/// Opens the inputs and sends their chunks to the workers, in input order. Each input is
/// read (and decompressed) by a thread of its own, up to `ahead` inputs at once, each
/// keeping [`READ_AHEAD_CHUNKS`] chunks ready: several archives decompress at once while
/// the chunks still go out file by file, numbered as one reader would number them.
/// Returns the inputs and the time spent reading them (summed over the readers).
fn produce(
    inputs: &[InputSpec],
    opts: OpenOptions,
    ahead: usize,
    buffers: &BufferPool,
    shared: &Shared<'_>,
    tx: mpsc::SyncSender<Chunk>,
) -> Result<(Vec<FileInfo>, Duration), Error> {
    std::thread::scope(|scope| {
        let mut readers = std::collections::VecDeque::new();
        let mut opened = 0;
        let mut files = Vec::with_capacity(inputs.len());
        let mut reading = Duration::ZERO;
        let mut seq = 0u64;
        for file in 0..inputs.len() {
            while opened < inputs.len() && opened < file + ahead.max(1) {
                let (rtx, rrx) = mpsc::sync_channel(READ_AHEAD_CHUNKS);
                let spec = &inputs[opened];
                let name = shared.name(opened as u32);
                scope.spawn(move || read_one(spec, name, opts, buffers, shared, &rtx));
                readers.push_back(rrx);
                opened += 1;
            }
            let rx = readers.pop_front().expect("a reader per input");
            let mut index = 0u64;
            let mut compressed_before = 0u64;
            let mut ended = None;
            // A reader that stopped early (the run is stopping) sends no `Done`.
            while let Ok(message) = rx.recv() {
                match message {
                    Read::Chunk(offset, data, spans, compressed) => {
                        // A compressed input's progress is its compressed bytes, as its
                        // size is.
                        if let (Some(now), Some(p)) = (compressed, shared.progress) {
                            p.fetch_add(now - compressed_before, Ordering::Relaxed);
                            compressed_before = now;
                        }
                        let chunk = Chunk {
                            file: file as u32,
                            index,
                            seq,
                            offset,
                            data,
                            spans,
                            progress_counted: compressed.is_some(),
                        };
                        if tx.send(chunk).is_err() {
                            break; // every worker is gone; the scope will report why
                        }
                        index += 1;
                        seq += 1;
                    }
                    Read::Done(result) => ended = Some(result),
                }
            }
            match ended {
                Some(Ok((info, took))) => {
                    reading += took;
                    files.push(info);
                }
                Some(Err(e)) => return Err(e),
                None => break,
            }
            if shared.stopped() {
                break;
            }
        }
        // Leaving the scope drops the receivers, so readers still sending stop.
        Ok((files, reading))
    })
}

/// Reads one input into `tx`: its chunks, then its [`FileInfo`] (or the error that
/// stopped it).
fn read_one(
    spec: &InputSpec,
    name: String,
    opts: OpenOptions,
    buffers: &BufferPool,
    shared: &Shared<'_>,
    tx: &mpsc::SyncSender<Read>,
) {
    let started = Instant::now();
    let mut source = match input::open(spec, opts) {
        Ok(s) => s,
        Err(e) => {
            let _ = tx.send(Read::Done(Err(e.renamed(&name).into())));
            return;
        }
    };
    let mut reading = started.elapsed();
    while !shared.stopped() {
        let started = Instant::now();
        let next = source.next_chunk(buffers);
        reading += started.elapsed();
        match next {
            Ok(Some((offset, data))) => {
                let spans = source.take_spans();
                let chunk = Read::Chunk(offset, data, spans, source.compressed_bytes());
                if tx.send(chunk).is_err() {
                    return;
                }
            }
            Ok(None) => break,
            Err(e) => {
                let err = input::Error::Read {
                    path: name,
                    offset: source.bytes_read(),
                    source: e,
                };
                let _ = tx.send(Read::Done(Err(err.into())));
                return;
            }
        }
    }
    // Stopped or not, what was read of it is said (a stopped run reports no further).
    let done = if source.truncated() {
        Err(Error::Truncated { path: name })
    } else {
        Ok((
            FileInfo {
                name,
                bytes: source.bytes_read(),
                compression: source.compression(),
                shape: source.shape(),
            },
            reading,
        ))
    };
    let _ = tx.send(Read::Done(done));
}

/// `--strict`: the lowest chunk sequence number holding a malformed line. Chunks after it
/// are skipped; chunks before it are still parsed, so the first malformed line found is
/// the first in input order.
pub(super) struct StrictGate {
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

    /// Notes a malformed line in chunk `seq`.
    pub fn trip(&self, seq: u64) {
        if self.enabled {
            self.first_bad.fetch_min(seq, Ordering::Relaxed);
        }
    }

    fn tripped(&self) -> bool {
        self.first_bad.load(Ordering::Relaxed) != u64::MAX
    }

    /// Whether chunk `seq` comes after a malformed line and need not be read.
    pub fn skips(&self, seq: u64) -> bool {
        seq > self.first_bad.load(Ordering::Relaxed)
    }
}
