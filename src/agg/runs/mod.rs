//! Runs and threads, from the steps alone: a run is the steps sharing a `run_id`, a thread
//! the steps sharing a `thread_id`.
//!
//! Runs are rows of the summary's [`RunTable`] (each run id looked up once per line, for
//! these figures and the cost ledger together); threads are this table's own, keyed by
//! their ids (see [`IdTable`]). Each run has a few fixed-size figures: steps, the earliest
//! `created_at`, the latest terminal timestamp, tool calls, tokens, and the run's last
//! step (greatest `created_at`, ties broken by the later terminal timestamp, then by the
//! greater step id), whose status is the run's outcome. Tables merge exactly (a run whose
//! steps lie in several chunks, files or states is one run), and the figures over runs
//! and threads are computed once, at the end, from the merged tables.

use super::hint::{prefetch, AHEAD};
use super::ids::{BatchKeys, IdKey, IdTable};
use super::run_table::RunTable;
use super::{add, Error};
use crate::batch::{Batch, Code, Dict, Place, NULL};
use crate::report;
use std::cmp::Ordering;

mod merge;
mod restore;
mod spread;

pub use restore::RunParts;
pub use spread::spread;

/// No thread, no assistant.
pub const NONE: u32 = u32::MAX;
/// No terminal timestamp.
const NO_TIME: i64 = i64::MIN;

/// The default most runs (and most threads) a summary holds.
pub const DEFAULT_MAX_RUNS: usize = 5_000_000;

/// More runs or threads than allowed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("more than {limit} {what}")]
pub struct TooManyRuns {
    /// `"runs"` or `"threads"`.
    pub what: &'static str,
    /// The limit.
    pub limit: usize,
}

/// One run's figures.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Run {
    /// Steps.
    pub steps: u64,
    /// The earliest `created_at` of its steps.
    pub first: i64,
    /// The latest terminal timestamp of its steps ([`NO_TIME`] for none).
    pub end: i64,
    /// Tool calls of its steps.
    pub tool_calls: u64,
    /// Total tokens of its steps.
    pub tokens: u64,
    /// Its thread (an index into the threads table), or [`NONE`].
    pub thread: u32,
    /// Its assistant (a code of [`Runs::names`]), or [`NONE`].
    pub assistant: u32,
    /// The last step: its `created_at`, terminal timestamp, status (a code of
    /// [`Runs::names`]), id (in [`Runs::ids`]) and place.
    pub last: Last,
}

/// A run's last step, as far as seen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Last {
    /// `created_at`.
    pub created: i64,
    /// The terminal timestamp, or [`NO_TIME`].
    pub terminal: i64,
    /// Its status, a code of [`Runs::names`].
    pub status: u32,
    /// Its id: `ids[id.0..id.0 + id.1]` of the table.
    pub id: (usize, usize),
    /// Where it is.
    pub place: Place,
}

/// Runs and threads of a summary.
#[derive(Debug, Clone)]
pub struct Runs {
    /// Whether runs are counted at all (else every method is a no-op).
    pub enabled: bool,
    /// The most threads.
    max: usize,
    /// Per row of the run table: its figures (a run met only through its run object, or
    /// not yet, has none: [`Run::NONE`]).
    figures: Vec<Run>,
    /// Runs with steps.
    count: usize,
    /// Last-step ids, each run's written over in place when the new one fits.
    ids: Vec<u8>,
    threads: IdTable,
    /// Steps per thread.
    thread_steps: Vec<u64>,
    /// Statuses and assistant ids the runs refer to.
    names: Dict,
    /// Steps without a `run_id`, and without a `thread_id`.
    pub without_run: u64,
    /// See `without_run`.
    pub without_thread: u64,
    /// A batch's status and assistant codes → this table's (a cache per batch).
    status_codes: Vec<u32>,
    assistant_codes: Vec<u32>,
    /// A batch's rows' threads (reused from batch to batch).
    row_threads: Vec<u32>,
}

impl Default for Runs {
    fn default() -> Self {
        Runs::new(false, DEFAULT_MAX_RUNS)
    }
}

impl Runs {
    /// Runs and threads, if `enabled`, at most `max` of each.
    pub fn new(enabled: bool, max: usize) -> Runs {
        Runs {
            enabled,
            max,
            figures: Vec::new(),
            count: 0,
            ids: Vec::new(),
            threads: IdTable::default(),
            thread_steps: Vec::new(),
            names: Dict::default(),
            without_run: 0,
            without_thread: 0,
            status_codes: Vec::new(),
            assistant_codes: Vec::new(),
            row_threads: Vec::new(),
        }
    }

    /// Number of runs (with steps).
    pub fn len(&self) -> usize {
        self.count
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// Threads held.
    pub fn threads_len(&self) -> usize {
        self.thread_steps.len()
    }

    /// The most threads allowed.
    pub fn max(&self) -> usize {
        self.max
    }

    fn too_many(&self, what: &'static str) -> Error {
        Error::TooManyRuns(TooManyRuns {
            what,
            limit: self.max,
        })
    }

    /// The row of thread `id` (whose key is `key`), added without steps if new; `Err`
    /// past the limit.
    #[inline]
    fn thread_row(&mut self, key: IdKey, id: &[u8]) -> Result<usize, Error> {
        let (k, new) = self
            .threads
            .intern(key, id, self.max)
            .ok_or_else(|| self.too_many("threads"))?;
        if new {
            self.thread_steps.push(0);
        }
        Ok(k)
    }

    /// This table's code for `name`.
    pub(crate) fn name_code(&mut self, name: &str) -> u32 {
        self.names.intern(name)
    }

    fn batch_code(cache: &mut Vec<u32>, names: &mut Dict, code: Code, dict: &Dict) -> u32 {
        batch_code(cache, names, code, dict)
    }

    /// Folds a batch in (its rows keep `run_id`, `thread_id` and ids); `keys` are its
    /// rows' id keys with their rows in `table` (see [`RunTable::rows`]).
    pub fn update(
        &mut self,
        batch: &Batch,
        table: &mut RunTable,
        keys: &mut BatchKeys,
    ) -> Result<(), Error> {
        if !self.enabled {
            return Ok(());
        }
        if keys.rows.len() != batch.len() {
            // Keys made for another batch (or none): hash this one's and find its runs.
            keys.fill(batch);
            table.rows(batch, keys)?;
        }
        self.status_codes.clear();
        self.assistant_codes.clear();
        // In phases, each a tight loop over the batch: every row's thread, then the
        // threads' step counts, then the runs' figures (the rows' runs were found before).
        // The rows of a shuffled log each touch another part of a large table: tight loops
        // let the processor wait for many of those loads at once instead of one after
        // another.
        // Steps of a run (and of a thread) mostly come together: the previous row's is
        // looked up once.
        let mut row_threads = std::mem::take(&mut self.row_threads);
        row_threads.clear();
        let mut last_thread: Option<(IdKey, u32)> = None;
        for i in 0..batch.len() {
            if let Some(&ahead) = keys.threads.get(i + AHEAD) {
                self.threads.prefetch(ahead);
            }
            let thread = match batch.thread_id.get(i) {
                None => {
                    self.without_thread += 1;
                    NONE
                }
                Some(t) => {
                    let key = keys.threads[i];
                    let k = match last_thread {
                        Some((at, k)) if at == key => k,
                        _ => self.thread_row(key, t.as_bytes())? as u32,
                    };
                    last_thread = Some((key, k));
                    k
                }
            };
            row_threads.push(thread);
        }
        for &k in &row_threads {
            if k != NONE {
                self.thread_steps[k as usize] += 1;
            }
        }
        if self.figures.len() < table.len() {
            self.figures.resize(table.len(), Run::NONE);
        }
        for (i, &thread) in row_threads.iter().enumerate() {
            if let Some(&ahead) = keys.rows.get(i + AHEAD) {
                prefetch_run(&self.figures, ahead);
            }
            let r = keys.rows[i];
            if r == NONE {
                self.without_run += 1;
                continue;
            }
            let r = r as usize;
            let new = self.figures[r].steps == 0;
            let status = Self::batch_code(
                &mut self.status_codes,
                &mut self.names,
                batch.status[i],
                &batch.dicts.status,
            );
            let assistant = Self::batch_code(
                &mut self.assistant_codes,
                &mut self.names,
                batch.assistant[i],
                &batch.dicts.assistant,
            );
            let terminal = batch.terminal_at(i).unwrap_or(NO_TIME);
            let created = batch.created_at[i];
            let id = batch.id(i).unwrap_or("");
            let tools = batch.tools(i).len() as u64;
            let tokens = batch.total_tokens.get(i).unwrap_or(0);
            let place = batch.place[i];
            if new {
                let at = self.ids.len();
                self.ids.extend_from_slice(id.as_bytes());
                self.count += 1;
                self.figures[r] = Run {
                    steps: 1,
                    first: created,
                    end: terminal,
                    tool_calls: tools,
                    tokens,
                    thread,
                    assistant,
                    last: Last {
                        created,
                        terminal,
                        status,
                        id: (at, id.len()),
                        place,
                    },
                };
                continue;
            }
            let run = &mut self.figures[r];
            run.steps += 1;
            run.first = run.first.min(created);
            run.end = run.end.max(terminal);
            run.tool_calls += tools;
            add(&mut run.tokens, tokens, "runs.tokens_per_run")?;
            if lower(run.thread, thread, |t| self.threads.get(t as usize)) {
                run.thread = thread;
            }
            if lower(run.assistant, assistant, |a| self.names.get(a).as_bytes()) {
                run.assistant = assistant;
            }
            let mine = &self.ids[run.last.id.0..][..run.last.id.1];
            if later(
                (created, terminal, id.as_bytes(), place),
                (run.last.created, run.last.terminal, mine, run.last.place),
            ) {
                let slot = write_id(&mut self.ids, run.last.id, id.as_bytes());
                run.last = Last {
                    created,
                    terminal,
                    status,
                    id: slot,
                    place,
                };
            }
        }
        self.row_threads = row_threads;
        Ok(())
    }

    /// Renumbers inputs as if `by` came before them (appending another run's summary).
    pub fn shift_files(&mut self, by: u32) {
        for r in &mut self.figures {
            r.last.place.file += by;
        }
    }

    /// Renumbers inputs: `new_index[old]` is the input's new index.
    pub fn renumber_files(&mut self, new_index: &[u32]) {
        for r in &mut self.figures {
            if let Some(&n) = new_index.get(r.last.place.file as usize) {
                r.last.place.file = n;
            }
        }
    }

    /// Bytes held on the heap, about (for doc/performance.md's bytes-per-run figure).
    pub fn heap_bytes(&self) -> usize {
        self.figures.capacity() * std::mem::size_of::<Run>()
            + self.ids.capacity()
            + self.threads.heap_bytes()
            + self.thread_steps.capacity() * 8
    }

    /// Run `r` (a row of `table`): its id and figures.
    pub fn run<'a>(&'a self, table: &'a RunTable, r: usize) -> (&'a str, &'a Run) {
        (table.id(r as u32), &self.figures[r])
    }

    /// Run `r`'s figures (a row of the run table), if it has steps.
    pub fn get(&self, r: usize) -> Option<&Run> {
        self.figures.get(r).filter(|run| run.steps > 0)
    }

    /// Empties the tables of runs and threads (they went to a spill), keeping the counts
    /// of steps without a run or a thread.
    pub fn clear_tables(&mut self) {
        *self = Runs {
            without_run: self.without_run,
            without_thread: self.without_thread,
            ..Runs::new(self.enabled, self.max)
        };
    }

    /// The rows of the runs with steps.
    pub fn rows(&self) -> impl Iterator<Item = usize> + '_ {
        self.figures
            .iter()
            .enumerate()
            .filter(|(_, r)| r.steps > 0)
            .map(|(r, _)| r)
    }

    /// The id of run `r`'s last step.
    pub fn last_id(&self, r: usize) -> &str {
        let id = self.figures[r].last.id;
        text(&self.ids[id.0..][..id.1])
    }

    /// The id of run `r`'s last step, as bytes.
    #[inline]
    pub fn last_id_bytes(&self, r: usize) -> &[u8] {
        let id = self.figures[r].last.id;
        &self.ids[id.0..][..id.1]
    }

    /// How many names (statuses and assistant ids) there are: codes are below it.
    pub fn names_len(&self) -> usize {
        self.names.len()
    }

    /// A name (status or assistant id) by its code.
    pub fn name(&self, code: u32) -> Option<&str> {
        (code != NONE).then(|| self.names.get(code))
    }

    /// Thread `t`'s id.
    pub fn thread_id(&self, t: u32) -> Option<&str> {
        (t != NONE).then(|| text(self.threads.get(t as usize)))
    }

    /// Thread `t`'s id as bytes.
    #[inline]
    pub fn thread_id_bytes(&self, t: u32) -> Option<&[u8]> {
        (t != NONE).then(|| self.threads.get(t as usize))
    }

    /// Every thread: its id and steps.
    pub fn threads(&self) -> impl Iterator<Item = (&str, u64)> {
        self.thread_steps
            .iter()
            .enumerate()
            .map(|(t, &n)| (text(self.threads.get(t)), n))
    }

    /// The figures over runs and threads.
    pub fn finish(&self) -> Option<(report::Runs, report::Threads)> {
        if !self.enabled {
            return None;
        }
        let mut by_code = vec![0u64; self.names.len()];
        let mut steps = Vec::with_capacity(self.count);
        let mut spans = Vec::new();
        let mut tools = Vec::with_capacity(self.count);
        let mut tokens = Vec::with_capacity(self.count);
        let mut runs_per_thread = vec![0u64; self.thread_steps.len()];
        for run in self.figures.iter().filter(|r| r.steps > 0) {
            by_code[run.last.status as usize] += 1;
            steps.push(run.steps);
            // Over runs whose last step is terminal, from its first step to its end.
            if run.last.terminal != NO_TIME && run.end >= run.first {
                spans.push((run.end - run.first) as u64);
            }
            tools.push(run.tool_calls);
            tokens.push(run.tokens);
            if run.thread != NONE {
                runs_per_thread[run.thread as usize] += 1;
            }
        }
        let by_outcome = by_code
            .iter()
            .enumerate()
            .filter(|(_, n)| **n > 0)
            .map(|(c, n)| (self.names.get(c as u32).to_string(), *n))
            .collect();
        let mut thread_steps = self.thread_steps.clone();
        // Each spread selects among millions of values on its own: side by side.
        let two = |a: &mut Vec<u64>, b: &mut Vec<u64>| rayon::join(|| spread(a), || spread(b));
        let (((steps, spans), (tools, tokens)), (per_thread, thread_steps)) = rayon::join(
            || {
                rayon::join(
                    || two(&mut steps, &mut spans),
                    || two(&mut tools, &mut tokens),
                )
            },
            || two(&mut runs_per_thread, &mut thread_steps),
        );
        let runs = report::Runs {
            total: self.count as u64,
            steps_without_run: self.without_run,
            by_outcome,
            steps_per_run: steps,
            span_seconds: spans,
            tool_calls_per_run: tools,
            tokens_per_run: tokens,
        };
        let threads = report::Threads {
            total: self.thread_steps.len() as u64,
            steps_without_thread: self.without_thread,
            runs_per_thread: per_thread,
            steps_per_thread: thread_steps,
        };
        Some((runs, threads))
    }

    /// The top `n` runs by `figure` (largest first, ties by run id ascending), among runs
    /// `figure` gives a value for; runs are rows of `table`.
    pub fn top(
        &self,
        table: &RunTable,
        n: usize,
        figure: impl Fn(&Run) -> Option<u64>,
    ) -> Vec<(usize, u64)> {
        let figures = self.figures.iter().enumerate();
        let runs = figures
            .filter(|(_, run)| run.steps > 0)
            .filter_map(|(r, run)| figure(run).map(|v| (r as u32, v)));
        table
            .top(n, runs)
            .into_iter()
            .map(|(r, v)| (r as usize, v))
            .collect()
    }
}

impl Run {
    /// No run: the figures of a row no step has reached.
    pub const NONE: Run = Run {
        steps: 0,
        first: 0,
        end: NO_TIME,
        tool_calls: 0,
        tokens: 0,
        thread: NONE,
        assistant: NONE,
        last: Last {
            created: 0,
            terminal: NO_TIME,
            status: NONE,
            id: (0, 0),
            place: Place {
                file: 0,
                chunk: 0,
                line: 0,
            },
        },
    };

    /// The run's span, when its last step is terminal: from its first step's creation to
    /// its latest terminal timestamp.
    pub fn span(&self) -> Option<u64> {
        (self.last.terminal != NO_TIME && self.end >= self.first)
            .then(|| (self.end - self.first) as u64)
    }

    /// The latest terminal timestamp, if any.
    pub fn end(&self) -> Option<i64> {
        (self.end != NO_TIME).then_some(self.end)
    }

    /// The last step's terminal timestamp, if any.
    pub fn last_terminal(&self) -> Option<i64> {
        (self.last.terminal != NO_TIME).then_some(self.last.terminal)
    }
}

/// Brings run `r`'s figures (two cache lines) into the cache, ahead of their use.
#[inline]
fn prefetch_run(figures: &[Run], r: u32) {
    if r != NONE {
        let run = figures.as_ptr().wrapping_add(r as usize);
        prefetch(run);
        prefetch(
            run.cast::<u8>()
                .wrapping_add(std::mem::size_of::<Run>() - 1),
        );
    }
}

/// A batch's dictionary `code` (of `dict`) as a code of `names`, or [`NONE`] for null;
/// `cache` remembers the batch's codes (cleared per batch).
pub(crate) fn batch_code(cache: &mut Vec<u32>, names: &mut Dict, code: Code, dict: &Dict) -> u32 {
    if code == NULL {
        return NONE;
    }
    let c = code as usize;
    if c >= cache.len() {
        cache.resize(c + 1, NONE);
    }
    if cache[c] == NONE {
        cache[c] = names.intern(dict.get(code));
    }
    cache[c]
}

/// Whether a run should take `new` for its thread, assistant or model instead of `mine`:
/// when its steps (or run objects) disagree (a damaged or stitched log), the name first in
/// byte order wins, so
/// the choice depends on neither the order the steps were read nor how they were split.
#[inline]
pub(crate) fn lower<'a>(mine: u32, new: u32, name: impl Fn(u32) -> &'a [u8]) -> bool {
    new != NONE && new != mine && (mine == NONE || name(new) < name(mine))
}

/// Whether step `a` comes after step `b` in a run: by `created_at`, then by terminal
/// timestamp, then by id, then by place (the same step in two inputs: the later one), so
/// any split of the input picks the same step.
#[inline]
fn later(a: (i64, i64, &[u8], Place), b: (i64, i64, &[u8], Place)) -> bool {
    let place = |p: Place| (p.file, p.chunk, p.line);
    (a.0, a.1, a.2, place(a.3)).cmp(&(b.0, b.1, b.2, place(b.3))) == Ordering::Greater
}

/// Writes `id` over the one at `slot` when it fits, else at the end; returns its slot.
fn write_id(ids: &mut Vec<u8>, slot: (usize, usize), id: &[u8]) -> (usize, usize) {
    if id.len() <= slot.1 {
        ids[slot.0..slot.0 + id.len()].copy_from_slice(id);
        (slot.0, id.len())
    } else {
        let at = ids.len();
        ids.extend_from_slice(id);
        (at, id.len())
    }
}

/// Keys and ids are the UTF-8 text they were made from.
fn text(b: &[u8]) -> &str {
    std::str::from_utf8(b).unwrap_or_default()
}
