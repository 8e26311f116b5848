//! The figures over spilled runs, one partition at a time: first the runs (each
//! partition's pieces merged, then its runs' values, outcomes, top runs and cost entries
//! taken), then the threads (each partition's threads with the runs that named them).

use super::codec::{self, Get, Part};
use super::select::Values;
use super::{partition, Error, GroupTable, Slice, Spill, PARTITIONS};
use crate::agg::ids::{IdKey, IdTable};
use crate::agg::ledger::Entry;
use crate::agg::runs::{TooManyRuns, NONE};
use crate::agg::{add, Ledger, RunTable, Runs};
use crate::batch::Place;
use crate::report::{self, Usd};
use rayon::prelude::*;
use std::collections::BTreeMap;

/// A run behind a figure (the slowest, the costliest), as the report shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunRow {
    /// Run id.
    pub id: String,
    /// The id of its last step.
    pub last_id: String,
    /// Its thread.
    pub thread_id: Option<String>,
    /// Its assistant.
    pub assistant_id: Option<String>,
    /// Its last step's status: the run's outcome.
    pub status: String,
    /// Steps.
    pub steps: u64,
    /// Its first step's `created_at`.
    pub first: i64,
    /// The figure it ranks by.
    pub value: u64,
    /// Where its last step is.
    pub place: Place,
    /// What its priced steps cost, when it is ranked by that.
    pub cost: Option<Usd>,
}

impl RunRow {
    /// Run `r` (a row of `table`) of `runs`, ranked by `value`.
    pub fn of(runs: &Runs, table: &RunTable, r: usize, value: u64) -> RunRow {
        let (id, run) = runs.run(table, r);
        RunRow {
            id: id.to_string(),
            last_id: runs.last_id(r).to_string(),
            thread_id: runs.thread_id(run.thread).map(str::to_string),
            assistant_id: runs.name(run.assistant).map(str::to_string),
            status: runs.name(run.last.status).unwrap_or_default().to_string(),
            steps: run.steps,
            first: run.first,
            value,
            place: run.last.place,
            cost: None,
        }
    }

    /// Run `r` of `runs`, ranked by `cost` (its value is its tokens); `None` when it has
    /// no steps (or runs are not counted).
    pub fn priced(runs: &Runs, table: &RunTable, r: usize, cost: Usd) -> Option<RunRow> {
        let tokens = runs.get(r)?.tokens;
        Some(RunRow {
            cost: Some(cost),
            ..RunRow::of(runs, table, r, tokens)
        })
    }

    /// What it is ranked by: its cost when priced, else its value.
    fn rank(&self) -> u128 {
        self.cost.map_or(u128::from(self.value), |c| c.0)
    }
}

/// What a report needs of spilled runs.
#[derive(Debug, Clone)]
pub struct Finished {
    /// The figures over runs and threads (when runs are counted).
    pub runs: Option<(report::Runs, report::Threads)>,
    /// The runs with the longest spans, and with the most tokens, as
    /// [`Runs::top`] ranks them.
    pub slowest: Vec<RunRow>,
    /// See `slowest`.
    pub costliest: Vec<RunRow>,
    /// The runs whose priced steps cost the most (empty when none was priced).
    pub priciest: Vec<RunRow>,
    /// One row per model, named by it, with it as its model.
    pub models: RunTable,
    /// The cost entries, each filed under its run's model's row of `models` (or none
    /// when its run names no model): what pricing needs of runs.
    pub ledger: Ledger,
    /// How many times the tables were written out, and the bytes written.
    pub times: usize,
    /// See `times`.
    pub bytes: u64,
}

/// Keeps the first `n` of `list` and `more`, as [`Runs::top`] orders them.
fn keep_top(list: &mut Vec<RunRow>, more: impl IntoIterator<Item = RunRow>, n: usize) {
    list.extend(more);
    list.sort_by(|a, b| {
        b.rank()
            .cmp(&a.rank())
            .then_with(|| a.id.as_bytes().cmp(b.id.as_bytes()))
    });
    list.truncate(n);
}

/// What one partition of runs gives the report.
struct Partition {
    /// Rows (runs met through steps or run objects), and runs with steps.
    rows: usize,
    count: u64,
    outcomes: BTreeMap<String, u64>,
    /// Steps, spans, tool calls and tokens per run.
    values: [Vec<u64>; 4],
    /// Per thread partition: the keys of the threads its runs are in.
    refs: Vec<Vec<u8>>,
    slowest: Vec<RunRow>,
    costliest: Vec<RunRow>,
    /// `None` when pricing a run overflowed.
    priciest: Option<Vec<RunRow>>,
    /// Its cost entries filed under their runs' models, by bucket (see [`bucket`]):
    /// per bucket, its models (a row each, named by itself) and the entries.
    collapsed: Vec<(RunTable, Ledger)>,
}

/// What the figures over runs and threads are made from, partition by partition.
struct Figures {
    rows: usize,
    count: u64,
    outcomes: BTreeMap<String, u64>,
    values: [Values; 4],
    slowest: Vec<RunRow>,
    costliest: Vec<RunRow>,
    priciest: Option<Vec<RunRow>>,
}

/// The `n` runs of a table whose priced steps cost the most, and that cost, as
/// [`crate::cost::Pricing::costliest_runs`] finds them; `None` when a sum overflows.
pub type PriceRuns<'a> = dyn Fn(&RunTable, &Ledger, usize) -> Option<Vec<(u32, Usd)>> + Sync + 'a;

/// How the spilled tables were made.
#[derive(Clone, Copy)]
struct Shape {
    runs: bool,
    cost: bool,
    max: usize,
    exemplars: usize,
}

impl Spill {
    /// Writes out what `table`, `runs` and `ledger` still hold, reads every partition
    /// back, and keeps what the report needs (with the `exemplars` top runs of each
    /// kind, the costliest priced by `price`). Partitions are read side by side, a few at
    /// a time, in the current thread pool. Cost entries are filed under the groups of
    /// `groups` with the keys they were spilled with (at most `max_groups`).
    #[allow(clippy::too_many_arguments)]
    pub fn finish(
        mut self,
        table: RunTable,
        runs: Runs,
        mut ledger: Ledger,
        groups: &mut GroupTable,
        max_groups: usize,
        exemplars: usize,
        price: &PriceRuns<'_>,
    ) -> Result<Finished, Error> {
        self.write(&table, &runs, &ledger, groups)?;
        self.flush()?;
        let to_groups = self.groups_in(groups, max_groups).ok_or_else(|| {
            Error::Agg(crate::agg::Error::TooManyGroups(
                crate::agg::TooManyGroups {
                    limit: max_groups,
                    seen: groups.len() + 1,
                },
            ))
        })?;
        let shape = Shape {
            runs: runs.enabled,
            cost: ledger.enabled,
            max: table.max(),
            exemplars,
        };
        drop(table);
        ledger.clear_runs().map_err(crate::agg::Error::from)?;
        // The cost entries, filed under their runs' models by bucket: each bucket's table
        // stays small, and the buckets are filled side by side.
        let mut buckets = collapsed_buckets(shape.cost);
        let mut figures = Figures {
            rows: 0,
            count: 0,
            outcomes: BTreeMap::new(),
            values: [
                Values::new()?,
                Values::new()?,
                Values::new()?,
                Values::new()?,
            ],
            slowest: Vec::new(),
            costliest: Vec::new(),
            priciest: Some(Vec::new()),
        };
        let mut refs: Vec<Vec<Slice>> = vec![Vec::new(); PARTITIONS];
        let wave = 2 * rayon::current_num_threads().max(1);
        let all: Vec<usize> = (0..PARTITIONS).collect();
        for ps in all.chunks(wave) {
            let done: Vec<Result<Partition, Error>> = ps
                .par_iter()
                .map(|&p| self.partition(p, shape, price, &to_groups))
                .collect();
            let mut parts = done
                .into_iter()
                .collect::<Result<Vec<Partition>, Error>>()?;
            // Each bucket's pieces from every partition of the wave, filed side by side.
            let mut theirs: Vec<Vec<(RunTable, Ledger)>> = (0..BUCKETS)
                .map(|_| Vec::with_capacity(parts.len()))
                .collect();
            for part in &mut parts {
                for (k, piece) in std::mem::take(&mut part.collapsed).into_iter().enumerate() {
                    theirs[k].push(piece);
                }
            }
            buckets
                .par_iter_mut()
                .zip(theirs)
                .try_for_each(|(mine, pieces)| {
                    let mine = std::slice::from_mut(mine);
                    pieces
                        .iter()
                        .try_for_each(|(table, ledger)| collapse(mine, table, ledger, |_| 0))
                })?;
            for part in parts {
                figures.rows += part.rows;
                if figures.rows > shape.max {
                    return Err(too_many("runs", shape.max));
                }
                figures.count += part.count;
                for (status, n) in part.outcomes {
                    *figures.outcomes.entry(status).or_default() += n;
                }
                for (values, theirs) in figures.values.iter_mut().zip(part.values) {
                    for v in theirs {
                        values.push(v)?;
                    }
                }
                for (q, bytes) in part.refs.iter().enumerate() {
                    if !bytes.is_empty() {
                        let slice = self.put(bytes)?;
                        refs[q].push(slice);
                    }
                }
                keep_top(&mut figures.slowest, part.slowest, exemplars);
                keep_top(&mut figures.costliest, part.costliest, exemplars);
                figures.priciest = match (figures.priciest.take(), part.priciest) {
                    (Some(mut list), Some(more)) => {
                        keep_top(&mut list, more, exemplars);
                        Some(list)
                    }
                    _ => None,
                };
            }
        }
        // The buckets hold no entry in common: together, one ledger.
        let mut all = [(RunTable::new(usize::MAX), ledger)];
        for (table, part) in buckets {
            collapse(&mut all, &table, &part, |_| 0)?;
        }
        let [(models, ledger)] = all;
        self.flush()?;
        let Figures {
            count,
            outcomes,
            values: [steps, spans, tools, tokens],
            slowest,
            costliest,
            priciest,
            ..
        } = figures;
        let figures = match shape.runs {
            false => None,
            true => {
                let threads = self.threads(&refs, shape.max, runs.without_thread)?;
                let runs = report::Runs {
                    total: count,
                    steps_without_run: runs.without_run,
                    by_outcome: outcomes,
                    steps_per_run: steps.spread()?,
                    span_seconds: spans.spread()?,
                    tool_calls_per_run: tools.spread()?,
                    tokens_per_run: tokens.spread()?,
                };
                Some((runs, threads))
            }
        };
        Ok(Finished {
            runs: figures,
            slowest,
            costliest,
            priciest: priciest.unwrap_or_default(),
            models,
            ledger,
            times: self.times,
            bytes: self.bytes(),
        })
    }

    /// Partition `p`'s runs: its slices read back and merged, then reduced.
    fn partition(
        &self,
        p: usize,
        shape: Shape,
        price: &PriceRuns<'_>,
        groups: &[Vec<u32>],
    ) -> Result<Partition, Error> {
        let mut all = Part::new(shape.runs, shape.cost, shape.max);
        let mut buf = Vec::new();
        // Every slice into one part: a run met again is folded into its row.
        for &slice in &self.runs[p] {
            self.get(slice, &mut buf)?;
            let codes = groups
                .get(slice.file as usize)
                .ok_or(Error::Damaged("a slice of no file"))?;
            all.read(&buf, codes)?;
        }
        let mut out = Partition {
            rows: all.table.len(),
            count: 0,
            outcomes: BTreeMap::new(),
            values: Default::default(),
            refs: vec![Vec::new(); PARTITIONS],
            slowest: Vec::new(),
            costliest: Vec::new(),
            priciest: Some(Vec::new()),
            collapsed: Vec::new(),
        };
        if shape.runs {
            for r in all.runs.rows() {
                let Some(run) = all.runs.get(r) else { continue };
                out.count += 1;
                let status = all.runs.name(run.last.status).unwrap_or_default();
                match out.outcomes.get_mut(status) {
                    Some(n) => *n += 1,
                    None => {
                        out.outcomes.insert(status.to_string(), 1);
                    }
                }
                let [steps, spans, tools, tokens] = &mut out.values;
                steps.push(run.steps);
                spans.extend(run.span());
                tools.push(run.tool_calls);
                tokens.push(run.tokens);
                if let Some(t) = all.runs.thread_id(run.thread) {
                    let t = t.as_bytes();
                    codec::put_key(&mut out.refs[partition(t)], IdKey::of(t));
                }
            }
            let row = |(r, v)| RunRow::of(&all.runs, &all.table, r, v);
            let n = shape.exemplars;
            out.slowest = all
                .runs
                .top(&all.table, n, |r| r.span())
                .into_iter()
                .map(row)
                .collect();
            out.costliest = all
                .runs
                .top(&all.table, n, |r| Some(r.tokens))
                .into_iter()
                .map(row)
                .collect();
            if shape.cost {
                out.priciest = price(&all.table, &all.ledger, n).map(|top| {
                    top.into_iter()
                        .filter_map(|(r, usd)| {
                            RunRow::priced(&all.runs, &all.table, r as usize, usd)
                        })
                        .collect()
                });
            }
        }
        // Its cost entries filed under their run's model here, side by side with the
        // other partitions: what is left to add up is an entry per model, bucket by
        // bucket.
        out.collapsed = collapsed_buckets(all.ledger.enabled);
        collapse(&mut out.collapsed, &all.table, &all.ledger, bucket)?;
        Ok(out)
    }

    /// The figures over threads: each partition's threads, their steps added up, and the
    /// runs `refs` name them for.
    fn threads(
        &mut self,
        refs: &[Vec<Slice>],
        max: usize,
        without_thread: u64,
    ) -> Result<report::Threads, Error> {
        let mut runs_per = Values::new()?;
        let mut steps_per = Values::new()?;
        let mut total = 0usize;
        let wave = 2 * rayon::current_num_threads().max(1);
        let all: Vec<usize> = (0..PARTITIONS).collect();
        for qs in all.chunks(wave) {
            let done: Vec<Result<Vec<(u64, u64)>, Error>> = qs
                .par_iter()
                .map(|&q| self.threads_of(q, &refs[q], max))
                .collect();
            for threads in done {
                let threads = threads?;
                total += threads.len();
                if total > max {
                    return Err(too_many("threads", max));
                }
                for (runs, steps) in threads {
                    runs_per.push(runs)?;
                    steps_per.push(steps)?;
                }
            }
        }
        Ok(report::Threads {
            total: total as u64,
            steps_without_thread: without_thread,
            runs_per_thread: runs_per.spread()?,
            steps_per_thread: steps_per.spread()?,
        })
    }

    /// Partition `q`'s threads: each one's runs (from `refs`) and steps.
    fn threads_of(&self, q: usize, refs: &[Slice], max: usize) -> Result<Vec<(u64, u64)>, Error> {
        let mut ids = IdTable::default();
        let mut steps: Vec<u64> = Vec::new();
        let mut buf = Vec::new();
        for &slice in &self.threads[q] {
            self.get(slice, &mut buf)?;
            let mut g = Get::new(&buf);
            while !g.is_empty() {
                let id = g.str()?.as_bytes();
                let n = g.var()?;
                let (t, new) = ids
                    .intern(IdKey::of(id), id, max.saturating_add(1))
                    .ok_or_else(|| too_many("threads", max))?;
                if new {
                    steps.push(0);
                }
                add(&mut steps[t], n, "threads.steps_per_thread")
                    .map_err(crate::agg::Error::from)?;
            }
        }
        let mut runs = vec![0u64; ids.len()];
        for &slice in refs {
            self.get(slice, &mut buf)?;
            let mut g = Get::new(&buf);
            while !g.is_empty() {
                let t = ids
                    .find(IdKey(g.u128()?))
                    .ok_or(Error::Damaged("a run's thread is in no partition"))?;
                runs[t] += 1;
            }
        }
        Ok(runs.into_iter().zip(steps).collect())
    }
}

/// Buckets of collapsed cost entries: a table each of entries apart from every other's
/// (see [`bucket`]).
const BUCKETS: usize = 16;

/// The bucket of an entry: by its hour and group (what an entry is keyed by, apart from
/// its model and assistant, which each table codes its own way), so that two entries
/// with the same key are in the same bucket, and a summary's entries spread out whether
/// they span years or one hour of many groups.
fn bucket(e: &Entry) -> usize {
    let key = (u64::from(e.hour) << 32) | u64::from(e.group);
    (key.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 60) as usize % BUCKETS
}

/// Empty buckets of collapsed entries (see [`collapse`]).
fn collapsed_buckets(cost: bool) -> Vec<(RunTable, Ledger)> {
    (0..BUCKETS)
        .map(|_| (RunTable::new(usize::MAX), Ledger::new(cost)))
        .collect()
}

/// Files the cost entries of `part` (whose runs are rows of `table`) in the ledger of
/// `into[pick(entry)]`, each under its run's model's row of that ledger's table (a row
/// per model, named by itself) instead of its run (or no run, when its run names no
/// model): pricing reads nothing else of a run.
fn collapse(
    into: &mut [(RunTable, Ledger)],
    table: &RunTable,
    part: &Ledger,
    pick: impl Fn(&Entry) -> usize,
) -> Result<(), Error> {
    const UNSEEN: u32 = NONE - 1;
    // Per target: the row of each of `table`'s models, and the code of each of `part`'s
    // names, once looked up.
    let mut rows = vec![Vec::new(); into.len()];
    let mut names = vec![Vec::new(); into.len()];
    for i in 0..part.len() {
        let (e, t) = part.entry(i);
        let k = pick(e);
        let (models, ledger) = &mut into[k];
        let run = match table.model_code(e.run) {
            None => NONE,
            Some(c) => {
                let rows = &mut rows[k];
                if rows.is_empty() {
                    rows.resize(table.models_len(), UNSEEN);
                }
                match rows[c as usize] {
                    UNSEEN => {
                        let m = table.model_name(c);
                        let row = models.row(m)?;
                        models.set_model(row, m);
                        rows[c as usize] = row;
                        row
                    }
                    row => row,
                }
            }
        };
        let assistant = match part.name(e.assistant) {
            None => NONE,
            Some(a) => {
                let names = &mut names[k];
                if names.is_empty() {
                    names.resize(part.names_len(), UNSEEN);
                }
                match names[e.assistant as usize] {
                    UNSEEN => {
                        let code = ledger.name_code(a);
                        names[e.assistant as usize] = code;
                        code
                    }
                    code => code,
                }
            }
        };
        let entry = Entry {
            run,
            assistant,
            ..*e
        };
        ledger.file(entry, t).map_err(crate::agg::Error::from)?;
    }
    Ok(())
}

fn too_many(what: &'static str, limit: usize) -> Error {
    Error::Agg(crate::agg::Error::TooManyRuns(TooManyRuns { what, limit }))
}
