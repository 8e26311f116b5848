//! Sinks: where a worker sends the records it parsed, one full batch at a time.
//!
//! Every worker owns one sink for the length of a pass; the pass returns them all and the
//! caller combines them. What a sink asks of the rows (their line positions, their ids as
//! text, whether records outside the time window reach it) is stated by constants, so the
//! worker's loop is compiled once per sink with those branches decided.

use super::dedup::{Seen, SnapshotIndex};
use super::find::{Found, Match, Ordered};
use super::{Config, Error};
use crate::agg::groups::Models;
use crate::agg::spill::Spill;
use crate::agg::{Aggregates, Groups, Ledger, RunTable, Runs};
use crate::batch::{is_terminal, Batch, Keep, StepFields};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicU8, Ordering};
use std::sync::{Arc, Mutex};

/// A consumer of full batches.
pub(crate) trait Sink: Send {
    /// Rows carry their line positions ([`Batch::pos`]).
    const POSITIONS: bool = false;
    /// Records outside the time window reach the sink too (they are not counted as
    /// filtered out: the window is applied later).
    const UNWINDOWED: bool = false;

    /// The sink sees each chunk once it is parsed ([`Sink::chunk`]), with its records'
    /// lines as read.
    const CHUNKS: bool = false;

    /// The optional fields rows must keep for this sink.
    fn keep(&self) -> Keep {
        Keep::default()
    }

    /// Takes one batch; the worker clears it afterwards.
    fn take(&mut self, batch: &mut Batch) -> Result<(), Error>;

    /// Bytes its tables hold that grow with the input (runs, costs, groups), about, in
    /// constant time: the worker adds them up across workers for the memory budget.
    fn held_bytes(&self) -> usize {
        0
    }

    /// After each chunk (with [`Sink::CHUNKS`]), once its rows went to [`Sink::take`]:
    /// the chunk and its records' lines. Returns false to end the pass early, without
    /// an error.
    fn chunk(&mut self, _chunk: Chunk<'_>) -> bool {
        true
    }
}

/// A parsed chunk, as [`Sink::chunk`] sees it.
pub(crate) struct Chunk<'a> {
    /// Its position among all chunks.
    pub seq: u64,
    /// Its input.
    pub file: u32,
    /// Lines in it.
    pub lines: u64,
    /// Its records that reached the sink: line index within the chunk, and the line as
    /// read.
    pub records: &'a [(u32, &'a [u8])],
}

/// `steplog find`: hands each chunk's matching lines (and their fields, when wanted) to
/// the ordered writer.
pub(crate) struct Find<'a, 'w> {
    /// Where matches go, in input order.
    pub out: &'a Ordered<'w>,
    /// Whether matches carry their fields (for the table and JSON forms).
    pub fields: bool,
    /// Fields of the rows taken since the last chunk.
    pub pending: Vec<StepFields>,
}

impl Sink for Find<'_, '_> {
    const CHUNKS: bool = true;

    fn keep(&self) -> Keep {
        Keep {
            ids: self.fields,
            runs: self.fields,
            threads: self.fields,
            metadata: Vec::new(),
        }
    }

    fn take(&mut self, batch: &mut Batch) -> Result<(), Error> {
        if self.fields {
            self.pending
                .extend((0..batch.len()).map(|i| batch.step_fields(i)));
        }
        Ok(())
    }

    fn chunk(&mut self, chunk: Chunk<'_>) -> bool {
        let mut fields = std::mem::take(&mut self.pending).into_iter();
        let matches = chunk
            .records
            .iter()
            .map(|&(line, raw)| Match {
                line,
                raw: raw.to_vec(),
                fields: fields.next(),
            })
            .collect();
        self.out.submit(Found {
            seq: chunk.seq,
            file: chunk.file,
            lines: chunk.lines,
            matches,
        })
    }
}

/// Summarises: folds batches into the aggregates of a report.
pub(crate) struct Summarize {
    /// What the batches were folded into.
    pub aggregates: Aggregates,
    /// Where they go once large, if anywhere; and empty aggregates to go on with.
    merged: Option<(Arc<Merged>, Aggregates)>,
    /// Runs this worker wrote out itself, once the merged tables spill (see
    /// [`Merged::spilling`]).
    pub spill: Option<Spill>,
}

impl Summarize {
    /// Aggregates for a run with `cfg` (its grouping), with the steps' `models` for
    /// `--group-by model`.
    pub fn new(cfg: &Config, models: Option<Arc<Models>>) -> Summarize {
        let mut groups = Groups::new(&cfg.group_by, cfg.max_groups);
        groups.models = models;
        Summarize {
            aggregates: Aggregates::new(
                groups,
                Runs::new(cfg.runs, cfg.max_runs),
                Ledger::new(cfg.cost),
                cfg.exemplars,
            ),
            merged: None,
            spill: None,
        }
    }

    /// As [`Summarize::new`], handing its aggregates to `merged` whenever they grow past
    /// its bounds.
    pub fn merging(cfg: &Config, models: Option<Arc<Models>>, merged: &Arc<Merged>) -> Summarize {
        let s = Summarize::new(cfg, models);
        Summarize {
            merged: Some((merged.clone(), s.aggregates.clone())),
            ..s
        }
    }
}

impl Sink for Summarize {
    fn keep(&self) -> Keep {
        self.aggregates.keep()
    }

    fn take(&mut self, batch: &mut Batch) -> Result<(), Error> {
        self.aggregates.update(batch)?;
        if let Some((merged, empty)) = &self.merged {
            if merged.due(&self.aggregates) {
                let mut part = std::mem::replace(&mut self.aggregates, empty.clone());
                // Once the merged runs spill, this worker's go straight to its own file,
                // outside the lock: the partitions are merged when read back anyway.
                if merged.spilling() && part.run_bytes() > 0 {
                    let spill = match &mut self.spill {
                        Some(s) => s,
                        None => self.spill.insert(Spill::new()?),
                    };
                    part.spill(spill)?;
                }
                merged.absorb(part)?;
            }
        }
        Ok(())
    }

    /// This worker's tables, and its share of the merged ones.
    fn held_bytes(&self) -> usize {
        let merged = self.merged.as_ref().map_or(0, |(m, _)| m.share());
        self.aggregates.held_bytes() + merged
    }
}

/// The aggregates of summarising sinks, and the runs they spilled themselves.
pub(crate) fn aggregates(sinks: Vec<Summarize>) -> (Vec<Aggregates>, Vec<Spill>) {
    let mut spills = Vec::new();
    let all = sinks
        .into_iter()
        .map(|s| {
            spills.extend(s.spill);
            s.aggregates
        })
        .collect();
    (all, spills)
}

/// The aggregates the workers of a summarising pass hand over while it goes on, once
/// theirs reach a bound: so the process holds one merged table and each worker's recent
/// runs and groups, not every worker's whole table, and `--max-runs` and `--max-groups`
/// bound the process (the merged table holds each run and group once), not each worker.
/// Past a quarter of the memory limit, the merged tables of runs, threads and cost
/// entries are spilled to disk (when `cfg.spill`), and start again empty.
pub(crate) struct Merged {
    merged: Mutex<(Option<Aggregates>, Option<Spill>)>,
    /// Whether the merged tables have spilled (then workers spill their own).
    spilled: AtomicBool,
    /// What the merged aggregates hold, in bytes.
    held: AtomicU64,
    threads: u64,
    /// A worker hands over at this many runs (or threads), groups, or bytes of tables.
    runs: usize,
    groups: usize,
    bytes: usize,
    /// The merged tables of runs spill past this many bytes, if they may.
    spill: Option<usize>,
}

impl Merged {
    /// For `threads` workers under `cfg`'s limits: together, the workers' own tables stay
    /// within `--max-runs`, `--max-groups` and a quarter of the memory limit. (Handing
    /// over sooner does not pay: a run whose steps are spread out is then merged once per
    /// hand-over, under a lock, and the memory a worker frees is not returned at once.)
    pub fn new(cfg: &Config, threads: usize) -> Merged {
        let share = |limit: usize| (limit / threads.max(1)).max(1);
        let quarter = usize::try_from(cfg.memory_limit / 4).unwrap_or(usize::MAX);
        Merged {
            merged: Mutex::new((None, None)),
            spilled: AtomicBool::new(false),
            held: AtomicU64::new(0),
            threads: threads.max(1) as u64,
            runs: share(cfg.max_runs),
            groups: share(cfg.max_groups),
            bytes: share(quarter),
            spill: cfg.spill.then_some(quarter),
        }
    }

    /// Whether the merged runs have spilled: then a worker writes its own out.
    fn spilling(&self) -> bool {
        self.spilled.load(Ordering::Relaxed)
    }

    /// Whether `a` should be handed over.
    fn due(&self, a: &Aggregates) -> bool {
        a.table.len() >= self.runs
            || a.runs.threads_len() >= self.runs
            || a.groups.table.len() >= self.groups
            || a.held_bytes() >= self.bytes
    }

    /// A worker's share of the merged aggregates' bytes (for the memory budget).
    fn share(&self) -> usize {
        (self.held.load(Ordering::Relaxed) / self.threads) as usize
    }

    /// Merges `part` in, and spills the merged runs when they pass their share.
    fn absorb(&self, part: Aggregates) -> Result<(), Error> {
        let mut slot = self.merged.lock().unwrap_or_else(|e| e.into_inner());
        let (merged, spill) = &mut *slot;
        let merged = match merged {
            Some(m) => {
                m.merge(part)?;
                m
            }
            None => merged.insert(part),
        };
        if let Some(at) = self.spill {
            if merged.held_bytes() > at && merged.run_bytes() > 0 {
                let file = match spill {
                    Some(f) => f,
                    None => spill.insert(Spill::new()?),
                };
                merged.spill(file)?;
                self.spilled.store(true, Ordering::Relaxed);
            }
        }
        self.held
            .store(merged.held_bytes() as u64, Ordering::Relaxed);
        Ok(())
    }

    /// What was handed over, if anything, and what was spilled.
    pub fn take(&self) -> Option<(Aggregates, Option<Spill>)> {
        let mut slot = self.merged.lock().unwrap_or_else(|e| e.into_inner());
        let (merged, spill) = std::mem::take(&mut *slot);
        merged.map(|m| (m, spill))
    }
}

/// The pass before the steps' for `--group-by model`: the models the run objects name.
pub(crate) struct RunModels {
    pub models: RunTable,
}

impl Sink for RunModels {
    const UNWINDOWED: bool = true;

    fn take(&mut self, batch: &mut Batch) -> Result<(), Error> {
        Ok(self.models.add_objects(batch)?)
    }
}

/// The first pass of deduplication: offers every snapshot to the shared index, and
/// notes the models of the run objects.
///
/// It also summarises as it goes, so that the second pass can be skipped or narrowed:
/// `all` takes every record until some worker meets a step it has seen (then, if none
/// ever repeats, it is the answer); `terminal` takes the terminal snapshots until some
/// worker meets a step with two of them (then, if none has, each terminal snapshot is
/// its step's winner, and the second pass reads only the steps that never finished).
/// `seen` is the most any worker's offer has seen ([`Seen`] as a number).
pub(crate) struct Index<'a> {
    pub index: &'a SnapshotIndex,
    pub models: RunTable,
    /// Whether the run objects' models are kept (for the cost, `--group-by model`).
    pub read_models: bool,
    pub all: Option<Summarize>,
    pub terminal: Option<Summarize>,
    pub seen: &'a AtomicU8,
}

impl Sink for Index<'_> {
    const POSITIONS: bool = true;
    const UNWINDOWED: bool = true;

    fn held_bytes(&self) -> usize {
        let summary = |s: &Option<Summarize>| s.as_ref().map_or(0, Summarize::held_bytes);
        summary(&self.all) + summary(&self.terminal) + self.models.heap_bytes()
    }

    fn keep(&self) -> Keep {
        self.terminal
            .as_ref()
            .map_or_else(Keep::default, Summarize::keep)
    }

    fn take(&mut self, batch: &mut Batch) -> Result<(), Error> {
        let offered = self.index.offer_batch(batch) as u8;
        let seen = self.seen.fetch_max(offered, Ordering::Relaxed).max(offered);
        if seen > Seen::New as u8 {
            self.all = None;
        }
        if seen > Seen::Again as u8 {
            self.terminal = None;
        }
        if let Some(s) = &mut self.all {
            if s.take(batch).is_err() {
                // A later pass meets the error again if it is real.
                self.all = None;
                self.seen.fetch_max(Seen::Again as u8, Ordering::Relaxed);
            }
        }
        // The run objects' models, for a second pass that reads every winner.
        if self.read_models {
            self.models.add_objects(batch)?;
        }
        if let Some(s) = &mut self.terminal {
            batch.retain_rows(|b, i| is_terminal(b.status[i]));
            if s.take(batch).is_err() {
                self.terminal = None;
                self.seen
                    .fetch_max(Seen::TerminalAgain as u8, Ordering::Relaxed);
            }
        }
        Ok(())
    }
}

/// Where [`crate::engine::export`] sends full batches: rows with their step ids
/// ([`Batch::id`]) and positions ([`Batch::pos`]). Called from several workers at once.
pub trait RowSink: Sync {
    /// Writes the rows of `batch`; `names` are the inputs' report names, by index.
    fn write(
        &self,
        batch: &Batch,
        names: &[String],
    ) -> Result<(), Box<dyn std::error::Error + Send + Sync>>;
}

/// Export: hands every record to a [`RowSink`].
pub(crate) struct Export<'a> {
    pub rows: &'a dyn RowSink,
    pub names: &'a [String],
}

impl Sink for Export<'_> {
    const POSITIONS: bool = true;

    fn keep(&self) -> Keep {
        Keep {
            ids: true,
            ..Keep::default()
        }
    }

    fn take(&mut self, batch: &mut Batch) -> Result<(), Error> {
        if batch.is_empty() {
            return Ok(());
        }
        self.rows
            .write(batch, self.names)
            .map_err(|source| Error::Export { source })
    }
}

#[cfg(test)]
mod tests {
    use super::{Merged, Sink, Summarize};
    use crate::agg::testutil::batch;
    use crate::engine::Config;
    use std::sync::Arc;

    fn steps(runs: std::ops::Range<u32>) -> Vec<String> {
        runs.map(|r| {
            format!(
                r#"{{"id":"s{r}","created_at":{},"status":"completed","completed_at":{},"run_id":"run_{r}","thread_id":"t{}"}}"#,
                1_700_000_000 + r,
                1_700_000_010 + r,
                r % 3
            )
        })
        .collect()
    }

    /// Two workers at `--max-runs 10` each hand their runs over at 5, and what they hand
    /// over and keep merges into what one worker alone makes.
    #[test]
    fn workers_hand_their_runs_over_at_their_share_of_the_limit() {
        let cfg = Config {
            max_runs: 10,
            ..Config::default()
        };
        let merged = Arc::new(Merged::new(&cfg, 2));
        let mut a = Summarize::merging(&cfg, None, &merged);
        let mut b = Summarize::merging(&cfg, None, &merged);
        let lines = steps(0..8);
        let refs: Vec<&str> = lines.iter().map(String::as_str).collect();
        for chunk in refs.chunks(2) {
            a.take(&mut batch(chunk)).unwrap();
            b.take(&mut batch(chunk)).unwrap();
        }
        // Each worker handed over once it held 5 runs, and counts its share of the
        // merged tables in the budget.
        assert!(a.aggregates.table.len() < 5 && b.aggregates.table.len() < 5);
        assert!(a.held_bytes() > a.aggregates.held_bytes());
        let (mut all, _) = merged.take().expect("handed over");
        all.merge(a.aggregates).unwrap();
        all.merge(b.aggregates).unwrap();
        // Both workers read every step (as two copies of a log would be).
        let mut one = Summarize::new(&cfg, None);
        one.take(&mut batch(&refs)).unwrap();
        one.take(&mut batch(&refs)).unwrap();
        assert_eq!(all.runs.finish(), one.aggregates.runs.finish());
        assert_eq!(all.table.len(), 8);
        // Past the limit, the merged table says so.
        let many = steps(0..11);
        let refs: Vec<&str> = many.iter().map(String::as_str).collect();
        let merged = Arc::new(Merged::new(&cfg, 2));
        let mut c = Summarize::merging(&cfg, None, &merged);
        let result = refs.chunks(2).try_for_each(|ch| c.take(&mut batch(ch)));
        assert!(result.is_err(), "11 distinct runs pass --max-runs 10");
    }

    /// Once the merged runs have spilled, a worker writes its own out when it hands over
    /// (outside the lock), and everything read back is what one worker alone makes.
    #[test]
    fn workers_spill_on_their_own_once_the_merged_runs_have_spilled() {
        let cfg = Config {
            memory_limit: 64 << 10,
            spill: true,
            ..Config::default()
        };
        let merged = Arc::new(Merged::new(&cfg, 2));
        let mut a = Summarize::merging(&cfg, None, &merged);
        let mut b = Summarize::merging(&cfg, None, &merged);
        let lines = steps(0..3000);
        let refs: Vec<&str> = lines.iter().map(String::as_str).collect();
        for (i, chunk) in refs.chunks(50).enumerate() {
            let worker = if i % 2 == 0 { &mut a } else { &mut b };
            worker.take(&mut batch(chunk)).unwrap();
        }
        assert!(merged.spilling());
        assert!(a.spill.is_some() && b.spill.is_some(), "each wrote its own");
        let (mut all, spill) = merged.take().expect("handed over");
        let mut spill = spill.expect("the merged runs spilled");
        for s in [a.spill.take(), b.spill.take()].into_iter().flatten() {
            spill.absorb(s).unwrap();
        }
        all.merge(a.aggregates).unwrap();
        all.merge(b.aggregates).unwrap();
        all.finish_spill(spill, &|_, _, _| None).unwrap();
        let mut one = Summarize::new(&cfg, None);
        one.take(&mut batch(&refs)).unwrap();
        let spilled = all.spilled.as_ref().unwrap();
        assert_eq!(spilled.runs, one.aggregates.runs.finish());
        assert_eq!(spilled.runs.as_ref().unwrap().0.total, 3000);
    }
}
