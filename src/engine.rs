//! Orchestration: inputs → chunks → parallel parse and aggregate → merge → report.
//!
//! The calling thread opens the inputs in order and sends their chunks down a bounded
//! channel; `threads` rayon workers each take chunks, copy or adopt them into a padded
//! buffer, parse every line into their own batch, and feed full batches to their own
//! [`Summary`]. At the end the workers' summaries are merged. Merging is exact and
//! order-free, so the report does not depend on scheduling.
//!
//! With `dedup`, the inputs are read twice (standard input is first saved to a temporary
//! file): the first pass accounts for every line and offers each record to a
//! [`SnapshotIndex`]; the second parses only the winning snapshots' lines and summarises
//! them (see [`crate::dedup`]).

use crate::agg::{Dim, FileInfo, Groups, Interval, LinePos, Summary};
use crate::batch::Batch;
use crate::dedup::{self, SnapshotIndex, Winners};
use crate::error::Error;
use crate::input::{
    self, BufferPool, Chunk, ChunkData, InputSpec, OpenOptions, DEFAULT_CHUNK_SIZE,
    DEFAULT_MAX_LINE_BYTES,
};
use crate::parse::{LineIndex, LineKind, LineParser, Malformed, PADDING};
use crate::report::{Dedup, LineCounts, Report};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{mpsc, Mutex};
use std::time::{Duration, Instant};

/// The span of `created_at` a summary covers: `since <= created_at < until`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Window {
    /// Earliest `created_at` kept (Unix seconds, inclusive).
    pub since: Option<i64>,
    /// `created_at` from which records are left out (Unix seconds, exclusive).
    pub until: Option<i64>,
}

impl Window {
    /// Whether `t` lies in the window.
    #[inline]
    pub fn contains(&self, t: i64) -> bool {
        self.since.is_none_or(|s| t >= s) && self.until.is_none_or(|u| t < u)
    }

    /// Whether the window leaves anything out.
    pub fn is_open(&self) -> bool {
        self.since.is_none() && self.until.is_none()
    }
}

/// One process's share of the inputs: the files whose path hashes to `index` modulo
/// `count` (xxh3-64 of the path as given or expanded). `count` processes with indexes
/// `0..count` cover every file exactly once, whatever order they list them in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    /// This share, below `count`.
    pub index: u64,
    /// Number of shares.
    pub count: u64,
}

impl Shard {
    /// Whether `path` belongs to this share.
    pub fn owns(&self, path: &std::path::Path) -> bool {
        xxhash_rust::xxh3::xxh3_64(path.as_os_str().as_encoded_bytes()) % self.count == self.index
    }
}

/// How a summary runs.
#[derive(Debug, Clone)]
pub struct Config {
    /// Worker threads. By default (0), one per available core.
    pub threads: usize,
    /// Target chunk size in bytes. By default, [`DEFAULT_CHUNK_SIZE`].
    pub chunk_size: usize,
    /// Memory-map regular files. By default, true; false reads them instead.
    pub mmap: bool,
    /// Stop at the first malformed line with [`Error::Malformed`]. By default, false.
    pub strict: bool,
    /// Lines longer than this are counted as malformed (`too_long`) without being
    /// buffered. By default, [`DEFAULT_MAX_LINE_BYTES`].
    pub max_line_bytes: u64,
    /// Count each step id once, from its most advanced snapshot. By default, false.
    pub dedup: bool,
    /// Expand directories recursively (else only the files directly inside them).
    pub recursive: bool,
    /// Summarise only records created in this window; the others are counted as
    /// `filtered_out`.
    pub window: Window,
    /// Also compute every figure per group of these dimensions.
    pub group_by: Vec<Dim>,
    /// The bucket width of time series.
    pub interval: Interval,
    /// If set, workers add the bytes of every chunk they finish (for a progress bar).
    pub progress: Option<std::sync::Arc<AtomicU64>>,
    /// Read only this share of the (expanded) input files.
    pub shard: Option<Shard>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            threads: 0,
            chunk_size: DEFAULT_CHUNK_SIZE,
            mmap: true,
            strict: false,
            max_line_bytes: DEFAULT_MAX_LINE_BYTES,
            dedup: false,
            recursive: false,
            window: Window::default(),
            group_by: Vec::new(),
            interval: Interval::Day,
            progress: None,
            shard: None,
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

    fn open_options(&self) -> OpenOptions {
        OpenOptions {
            chunk_size: self.chunk_size,
            mmap: self.mmap,
            max_line_bytes: self.max_line_bytes,
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
    /// Advice about the inputs themselves (directory entries not read).
    pub hints: Vec<String>,
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
        let mut r = self.summary.finish(&self.files);
        r.hints.extend(self.hints.iter().cloned());
        r
    }
}

/// Summarises `inputs` into a report.
pub fn summarize(inputs: &[InputSpec], cfg: &Config) -> Result<Report, Error> {
    run(inputs, cfg).map(|o| o.report())
}

/// What every run needs before its passes: the inputs (stdin when none; directories
/// expanded; this shard's share), their report names, advice about what expansion left
/// out, and the worker pool.
struct Prepared {
    inputs: Vec<InputSpec>,
    names: Vec<String>,
    hints: Vec<String>,
    pool: rayon::ThreadPool,
    threads: usize,
}

/// With `positions`, the inputs must fit [`dedup::pos`] (lines positioned by file and
/// offset, for `--dedup` and export).
fn prepare(inputs: &[InputSpec], cfg: &Config, positions: bool) -> Result<Prepared, Error> {
    let stdin = [InputSpec::Stdin];
    let inputs = if inputs.is_empty() {
        &stdin[..]
    } else {
        inputs
    };
    let mut expanded = input::expand(inputs, cfg.recursive)?;
    if let Some(shard) = cfg.shard {
        if expanded.inputs.contains(&InputSpec::Stdin) {
            return Err(Error::ShardStdin);
        }
        expanded.inputs.retain(|i| match i {
            InputSpec::Path(p) => shard.owns(p),
            InputSpec::Stdin => false,
        });
    }
    let mut hints = Vec::new();
    if !expanded.skipped_dirs.is_empty() {
        hints.push(format!(
            "{} subdirector{} not read (-r reads subdirectories, not links to them): {}",
            expanded.skipped_dirs.len(),
            if expanded.skipped_dirs.len() == 1 {
                "y"
            } else {
                "ies"
            },
            expanded.skipped_dirs.join(", ")
        ));
    }
    if expanded.skipped_special > 0 {
        hints.push(format!(
            "{} entr{} in directories neither files nor directories (sockets, FIFOs, broken links) not read",
            expanded.skipped_special,
            if expanded.skipped_special == 1 { "y" } else { "ies" }
        ));
    }
    if expanded.skipped_hidden > 0 {
        hints.push(format!(
            "{} hidden entr{} (names starting with '.') in directories not read",
            expanded.skipped_hidden,
            if expanded.skipped_hidden == 1 {
                "y"
            } else {
                "ies"
            }
        ));
    }
    let names: Vec<String> = expanded.inputs.iter().map(InputSpec::name).collect();
    if positions && names.len() as u64 > dedup::MAX_FILES {
        return Err(Error::DedupLimit {
            path: names.last().cloned().unwrap_or_default(),
            max_files: dedup::MAX_FILES,
        });
    }
    let threads = cfg.worker_threads();
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .thread_name(|i| format!("steplog-worker-{i}"))
        .build()
        .map_err(|source| Error::Threads { threads, source })?;
    Ok(Prepared {
        inputs: expanded.inputs,
        names,
        hints,
        pool,
        threads,
    })
}

/// Runs the pipeline over `inputs` (stdin when empty; directories expand to their files)
/// and returns the merged aggregates.
pub fn run(inputs: &[InputSpec], cfg: &Config) -> Result<Outcome, Error> {
    let Prepared {
        inputs,
        names,
        hints,
        pool,
        threads,
    } = prepare(inputs, cfg, cfg.dedup)?;
    let run = Run {
        pool: &pool,
        threads,
        names: &names,
        cfg,
    };
    if !cfg.dedup {
        let (summary, files, timings) = run.pass(&inputs, Mode::Summarize)?;
        return Ok(Outcome {
            summary,
            files,
            timings,
            hints,
        });
    }

    // --dedup: two passes over inputs that can be read twice.
    let (specs, _spooled) = spool_stdin(&inputs)?;
    let index = SnapshotIndex::new();
    let (first, files, mut timings) = run.pass(&specs, Mode::Index(&index))?;
    let winners = index.into_winners(specs.len());
    let (mut summary, again, second_timings) = run.pass(&specs, Mode::Winners(&winners))?;
    timings.add(&second_timings);
    if let Some((f, _)) = files.iter().zip(&again).find(|(a, b)| a.bytes != b.bytes) {
        return Err(Error::InputChanged {
            path: f.name.clone(),
        });
    }
    let steps = winners.len() as u64;
    if summary.figures.steps.total() + summary.filtered_out != steps {
        return Err(Error::InputChanged {
            path: names.join(", "),
        });
    }
    let snapshots = first.lines.totals().records;
    summary.lines = first.lines;
    summary.dedup = Some(Dedup {
        snapshots,
        steps,
        folded: snapshots - steps,
    });
    Ok(Outcome {
        summary,
        files,
        timings,
        hints,
    })
}

/// Where [`export`] sends full batches: rows with their step ids (`Batch::keep_ids`) and
/// positions (`Batch::pos`). Called from several workers at once.
pub trait RowSink: Sync {
    /// Writes the rows of `batch`; `names` are the inputs' report names, by file index.
    fn write(&self, batch: &Batch, names: &[String]) -> Result<(), String>;
}

/// Parses `inputs` and hands every record, as batches, to `sink` instead of summarising
/// them (`steplog export`). The outcome holds the line accounting. Rows reach the sink in
/// no particular order; each carries its file and byte offset.
pub fn export(inputs: &[InputSpec], cfg: &Config, sink: &dyn RowSink) -> Result<Outcome, Error> {
    let Prepared {
        inputs,
        names,
        hints,
        pool,
        threads,
    } = prepare(inputs, cfg, true)?;
    let run = Run {
        pool: &pool,
        threads,
        names: &names,
        cfg,
    };
    let (summary, files, timings) = run.pass(&inputs, Mode::Export(sink))?;
    Ok(Outcome {
        summary,
        files,
        timings,
        hints,
    })
}

/// Saves standard input to a temporary file, for inputs that must be read twice. The
/// file is deleted when the returned guard drops; its name in reports stays `-`.
fn spool_stdin(
    inputs: &[InputSpec],
) -> Result<(Vec<InputSpec>, Option<tempfile::TempPath>), Error> {
    if !inputs.contains(&InputSpec::Stdin) {
        return Ok((inputs.to_vec(), None));
    }
    let spool = || -> std::io::Result<tempfile::TempPath> {
        let mut file = tempfile::NamedTempFile::new()?;
        std::io::copy(&mut std::io::stdin().lock(), file.as_file_mut())?;
        Ok(file.into_temp_path())
    };
    let path = spool().map_err(|source| Error::Spool { source })?;
    let specs = inputs
        .iter()
        .map(|s| match s {
            InputSpec::Stdin => InputSpec::Path(path.to_path_buf()),
            other => other.clone(),
        })
        .collect();
    Ok((specs, Some(path)))
}

/// What the workers of one pass do with the records they parse.
#[derive(Clone, Copy)]
enum Mode<'a> {
    /// Summarise every record.
    Summarize,
    /// Account for every line; offer records to the index instead of summarising them.
    Index(&'a SnapshotIndex),
    /// Parse and summarise only the winning lines; account for nothing else.
    Winners(&'a Winners),
    /// Account for every line; hand records to the sink instead of summarising them.
    Export(&'a dyn RowSink),
}

/// Settings shared by the passes of one run.
struct Run<'a> {
    pool: &'a rayon::ThreadPool,
    threads: usize,
    /// Report names of the inputs, in order.
    names: &'a [String],
    cfg: &'a Config,
}

impl Run<'_> {
    /// One pass over `inputs`: the merged summary, the inputs as read, the timings.
    fn pass(
        &self,
        inputs: &[InputSpec],
        mode: Mode<'_>,
    ) -> Result<(Summary, Vec<FileInfo>, Timings), Error> {
        let threads = self.threads;
        let buffers = BufferPool::default();
        let shared = Shared {
            gate: StrictGate::new(self.cfg.strict && !matches!(mode, Mode::Winners(_))),
            failed: AtomicBool::new(false),
            failure: Mutex::new(None),
            names: self.names,
            max_line: self.cfg.max_line_bytes,
            mode,
            progress: self.cfg.progress.as_deref(),
        };
        let (tx, rx) = mpsc::sync_channel::<Chunk>(threads * 2);
        let rx = Mutex::new(rx);
        let results = Mutex::new(Vec::with_capacity(threads));

        let produced = self.pool.in_place_scope(|scope| {
            for _ in 0..threads {
                scope.spawn(|_| {
                    let mut worker = Worker::new(self.cfg, matches!(mode, Mode::Export(_)));
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
            produce(inputs, self.cfg.open_options(), &buffers, &shared, tx)
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
        let mut summary = Summary::new(Groups::new(&self.cfg.group_by), self.cfg.interval);
        let merging = Instant::now();
        for (part, worker_timings) in results.into_inner().unwrap_or_else(|e| e.into_inner()) {
            summary.merge(part);
            timings.add(&worker_timings);
        }
        timings.aggregate += merging.elapsed();
        if let Some((pos, reason, message)) = shared
            .gate
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
        Ok((summary, files, timings))
    }
}

/// State the producer and the workers of one pass share.
struct Shared<'a> {
    gate: StrictGate,
    /// Set with `failure`, read without a lock.
    failed: AtomicBool,
    /// The first error a worker met.
    failure: Mutex<Option<Error>>,
    names: &'a [String],
    max_line: u64,
    mode: Mode<'a>,
    progress: Option<&'a AtomicU64>,
}

impl Shared<'_> {
    fn fail(&self, e: Error) {
        let mut slot = self.failure.lock().unwrap_or_else(|e| e.into_inner());
        if slot.is_none() {
            *slot = Some(e);
        }
        self.failed.store(true, Ordering::Release);
    }

    fn stopped(&self) -> bool {
        self.gate.tripped() || self.failed.load(Ordering::Acquire)
    }

    fn name(&self, file: u32) -> String {
        self.names.get(file as usize).cloned().unwrap_or_default()
    }
}

/// Opens each input in order and sends its chunks to the workers. Returns the inputs and
/// the time spent reading them (not waiting for workers).
fn produce(
    inputs: &[InputSpec],
    opts: OpenOptions,
    buffers: &BufferPool,
    shared: &Shared<'_>,
    tx: mpsc::SyncSender<Chunk>,
) -> Result<(Vec<FileInfo>, Duration), Error> {
    let mut reading = Duration::ZERO;
    let mut files = Vec::with_capacity(inputs.len());
    let mut seq = 0u64;
    for (file, spec) in inputs.iter().enumerate() {
        let name = shared.name(file as u32);
        let started = Instant::now();
        let mut source = input::open(spec, opts).map_err(|e| e.renamed(&name))?;
        reading += started.elapsed();
        let mut index = 0u64;
        while !shared.stopped() {
            let started = Instant::now();
            let next = source
                .next_chunk(buffers)
                .map_err(|source_err| Error::Read {
                    path: name.clone(),
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
        if source.truncated() {
            return Err(Error::Truncated { path: name });
        }
        files.push(FileInfo {
            name,
            bytes: source.bytes_read(),
            compression: source.compression(),
        });
        if shared.stopped() {
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
struct Worker {
    parser: LineParser,
    lines: LineIndex,
    batch: Batch,
    /// One group's rows at a time (`--group-by`).
    group_rows: Batch,
    /// Padded copy of the current mapped chunk.
    scratch: Vec<u8>,
    summary: Summary,
    timings: Timings,
    window: Window,
}

impl Worker {
    fn new(cfg: &Config, keep_ids: bool) -> Worker {
        let mut batch = Batch::new();
        batch.keep_ids = keep_ids;
        Worker {
            parser: LineParser::new(),
            lines: LineIndex::new(),
            batch,
            group_rows: Batch::new(),
            scratch: Vec::new(),
            summary: Summary::new(Groups::new(&cfg.group_by), cfg.interval),
            timings: Timings::default(),
            window: cfg.window,
        }
    }

    /// After a record was pushed: drops it again if it lies outside the time window.
    #[inline]
    fn keep_in_window(&mut self) {
        if !self.window.is_open()
            && !self
                .batch
                .created_at
                .last()
                .is_some_and(|t| self.window.contains(*t))
        {
            self.batch.pop_row();
            self.summary.filtered_out += 1;
        }
    }

    fn process(&mut self, chunk: Chunk, shared: &Shared<'_>, buffers: &BufferPool) {
        let Chunk {
            file,
            index,
            seq,
            offset,
            data,
        } = chunk;
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
        if let Some(p) = shared.progress {
            p.fetch_add(len, Ordering::Relaxed);
        }
        let nothing_to_do = shared.gate.skips(seq)
            || shared.failed.load(Ordering::Relaxed)
            || matches!(shared.mode, Mode::Winners(w) if w.within(file, offset, offset + len).is_empty());
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
                buf.extend_from_slice(&map[range]);
                let truncated = map.faulted();
                drop(map);
                self.timings.split += started.elapsed();
                if truncated {
                    shared.fail(Error::Truncated {
                        path: shared.name(file),
                    });
                } else {
                    self.parse_chunk(at, &mut buf, shared);
                }
                self.scratch = buf;
            }
            ChunkData::Owned(mut buf) => {
                self.parse_chunk(at, &mut buf, shared);
                buffers.give(buf);
            }
            ChunkData::Oversized(len) => {
                if matches!(shared.mode, Mode::Winners(_)) {
                    return;
                }
                let m = Malformed::too_long(len, shared.max_line);
                self.malformed(at, 0, offset, &m, shared);
                let counts = LineCounts {
                    lines: 1,
                    malformed: 1,
                    ..LineCounts::default()
                };
                self.summary.lines.add_chunk(file, index, &counts);
            }
        }
    }

    fn malformed(
        &mut self,
        at: ChunkAt,
        line: u64,
        offset: u64,
        m: &Malformed<'_>,
        shared: &Shared<'_>,
    ) {
        let pos = LinePos {
            file: at.file,
            chunk: at.index,
            line,
            offset,
        };
        self.summary.lines.add_malformed(pos, m);
        shared.gate.trip(at.seq);
    }

    /// Hands the full batch on: to the summary, to the index (first `--dedup` pass), or
    /// to the export sink.
    fn flush(&mut self, shared: &Shared<'_>) {
        let t = Instant::now();
        match shared.mode {
            Mode::Index(index) => index.offer_batch(&self.batch),
            Mode::Export(sink) => {
                if !self.batch.is_empty() {
                    if let Err(message) = sink.write(&self.batch, shared.names) {
                        shared.fail(Error::Export { message });
                    }
                }
            }
            Mode::Summarize | Mode::Winners(_) => {
                self.summary.update(&mut self.batch, &mut self.group_rows)
            }
        }
        self.batch.clear();
        self.timings.aggregate += t.elapsed();
    }

    /// Parses the lines of `buf` (the chunk's bytes; padding is added and removed here).
    fn parse_chunk(&mut self, at: ChunkAt, buf: &mut Vec<u8>, shared: &Shared<'_>) {
        let started = Instant::now();
        let len = buf.len();
        buf.extend_from_slice(&[b' '; PADDING]);
        if let Mode::Winners(w) = shared.mode {
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
        let indexing = matches!(shared.mode, Mode::Index(_) | Mode::Export(_));
        for line_index in 0..self.lines.len() {
            let line = self.lines.line(line_index, &buf[..len]);
            counts.lines += 1;
            let offset = at.offset + line.start as u64;
            // Before the blank test: sources skip a long line without looking inside.
            if line.len as u64 > shared.max_line {
                counts.malformed += 1;
                let m = Malformed::too_long(line.len as u64, shared.max_line);
                self.malformed(at, line_index as u64, offset, &m, shared);
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
                    if indexing {
                        if offset > dedup::MAX_OFFSET {
                            shared.fail(Error::DedupLimit {
                                path: shared.name(at.file),
                                max_files: dedup::MAX_FILES,
                            });
                            break;
                        }
                        self.batch.set_pos(dedup::pos(at.file, offset));
                    }
                    if !matches!(shared.mode, Mode::Index(_)) {
                        self.keep_in_window();
                    }
                    if self.batch.is_full() {
                        self.flush(shared);
                    }
                }
                Ok(LineKind::Delta) => counts.deltas += 1,
                Ok(LineKind::Framing) => counts.framing += 1,
                Err(m) => {
                    counts.malformed += 1;
                    self.malformed(at, line_index as u64, offset, &m, shared);
                }
            }
        }
        self.summary.lines.add_chunk(at.file, at.index, &counts);
        buf.truncate(len);
        let aggregating = self.timings.aggregate - aggregated_before;
        self.timings.parse += parsing.elapsed() - aggregating;
    }

    /// Second `--dedup` pass: parses only the winning lines of the chunk.
    fn parse_winners(
        &mut self,
        at: ChunkAt,
        winners: &Winners,
        buf: &mut [u8],
        len: usize,
        shared: &Shared<'_>,
    ) {
        let wins = winners.within(at.file, at.offset, at.offset + len as u64);
        for &o in wins {
            let start = (o - at.offset) as usize;
            let mut end = memchr::memchr(b'\n', &buf[start..len]).map_or(len, |p| start + p);
            if end > start && buf[end - 1] == b'\r' {
                end -= 1;
            }
            match self
                .parser
                .parse_line(&mut buf[start..], end - start, &mut self.batch)
            {
                Ok(LineKind::Record) => {
                    self.keep_in_window();
                    if self.batch.is_full() {
                        self.flush(shared);
                    }
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

    fn finish(mut self, shared: &Shared<'_>) -> (Summary, Timings) {
        self.flush(shared);
        (self.summary, self.timings)
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
