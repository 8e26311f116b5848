//! The figures computed from records, overall and per group, and the aggregates a worker
//! keeps: those figures, the distinct-id sketch and the groups.

use super::chains::Chains;
use super::fees::FeeCalls;
use super::ids::BatchKeys;
use super::spill::{self, Finished, Spill};
use super::{
    Aggregator, DistinctIds, Durations, Error, Exemplars, Failures, Groups, Interval, Ledger,
    Overflow, RunTable, Runs, Series, Steps, TimeRange, ToolCalls, Usage,
};
use crate::batch::{Batch, Keep};
use crate::report;

/// The figures computed from records: what every report shows, overall and per group.
#[derive(Debug, Clone, Default)]
pub struct Figures {
    /// Steps by status and type.
    pub steps: Steps,
    /// Tool calls.
    pub tools: ToolCalls,
    /// Failures.
    pub failures: Failures,
    /// Durations.
    pub durations: Durations,
    /// Token usage.
    pub usage: Usage,
    /// First and last `created_at`.
    pub time_range: TimeRange,
    /// Steps, failures and tokens per hour.
    pub series: Series,
    /// Responses' tool calls with a fee of their own, by kind and hour.
    pub fees: FeeCalls,
}

impl Figures {
    /// Folds a batch into every aggregator; stops at the first figure that would not
    /// hold its sum.
    pub fn update(&mut self, batch: &Batch) -> Result<(), Overflow> {
        if batch.is_empty() {
            return Ok(());
        }
        self.steps.update(batch);
        self.tools.update(batch);
        self.failures.update(batch);
        self.durations.update(batch);
        self.usage.update(batch);
        self.time_range.update(batch);
        self.series.update(batch);
        self.fees.update(batch)?;
        let overflow = self
            .steps
            .overflow()
            .or(self.tools.overflow())
            .or(self.failures.overflow())
            .or(self.durations.overflow())
            .or(self.usage.overflow())
            .or(self.series.overflow());
        overflow.map_or(Ok(()), Err)
    }

    /// Merges another part.
    pub fn merge(&mut self, other: Figures) -> Result<(), Overflow> {
        self.steps.merge(other.steps)?;
        self.tools.merge(other.tools)?;
        self.failures.merge(other.failures)?;
        self.durations.merge(other.durations)?;
        self.usage.merge(other.usage)?;
        self.time_range.merge(other.time_range)?;
        self.fees.merge(other.fees)?;
        self.series.merge(other.series)
    }

    /// Bytes the figures keyed by what the log says hold (statuses, types, error codes,
    /// messages, assistants, functions, the hours of the time series and their codes, the
    /// duration histograms of step types), about: what the memory budget counts. Constant
    /// time.
    pub fn held_bytes(&self) -> usize {
        use super::tally::map_bytes;
        let (s, f, u) = (&self.steps, &self.failures, &self.usage);
        map_bytes(s.by_status.len() + s.by_type.len(), s.keys, 8)
            + map_bytes(
                f.by_code.len()
                    + f.by_assistant.len()
                    + f.by_step_type.len()
                    + f.by_tool.len()
                    + f.messages.len(),
                f.keys,
                8,
            )
            + map_bytes(
                self.tools.functions.len() + self.tools.mcp.len(),
                self.tools.keys,
                8,
            )
            + map_bytes(
                u.by_assistant.len(),
                u.keys,
                std::mem::size_of::<super::UsageSums>(),
            )
            + self.durations.held_bytes()
            + self.series.held_bytes()
            + self.fees.held_bytes()
    }

    /// Counts the keys of figures read back from a state (which the memory budget
    /// counts).
    pub(crate) fn recount(&mut self) {
        use super::tally::key_bytes;
        let s = &mut self.steps;
        s.keys = key_bytes(&s.by_status) + key_bytes(&s.by_type);
        let f = &mut self.failures;
        f.keys = key_bytes(&f.by_code)
            + key_bytes(&f.by_assistant)
            + key_bytes(&f.by_step_type)
            + key_bytes(&f.by_tool)
            + key_bytes(&f.messages);
        self.tools.keys = key_bytes(&self.tools.functions) + key_bytes(&self.tools.mcp);
        self.usage.keys = key_bytes(&self.usage.by_assistant);
        self.durations.keys = key_bytes(&self.durations.completed_by_type);
        self.series.recount();
    }

    /// Whether these figures are ones a run could make: what the reports and merges rely
    /// on (for figures read from a state). Says which figure is off, and how.
    pub fn check(&self) -> Result<(), String> {
        let sum = |m: &std::collections::BTreeMap<String, u64>| {
            m.values().try_fold(0u64, |t, n| t.checked_add(*n))
        };
        let (steps, x, u) = (&self.steps, &self.failures, &self.usage);
        let same = |what: &str, got: Option<u64>, want: u64| match got {
            Some(n) if n == want => Ok(()),
            got => Err(format!(
                "{what} add up to {}, not {want}",
                got.map_or_else(|| "more than 2^64".into(), |n| n.to_string())
            )),
        };
        same("steps.by_status", sum(&steps.by_status), steps.total)?;
        same("steps.by_type", sum(&steps.by_type), steps.total)?;
        same(
            "failed and incomplete records by status",
            ["failed", "incomplete"].iter().try_fold(0u64, |t, s| {
                t.checked_add(*steps.by_status.get(*s).unwrap_or(&0))
            }),
            x.total,
        )?;
        if x.total > x.terminal || x.terminal > steps.total {
            return Err(format!(
                "{} failures among {} terminal steps of {}",
                x.total, x.terminal, steps.total
            ));
        }
        same("failures.by_code", sum(&x.by_code), x.total)?;
        same("failures.by_assistant", sum(&x.by_assistant), x.total)?;
        same("failures.by_step_type", sum(&x.by_step_type), x.total)?;
        if sum(&x.messages).is_none_or(|n| n > x.total) {
            return Err("failures.top_messages count more than the failures".into());
        }
        for (i, d) in self.durations.by_status.iter().enumerate() {
            d.check().map_err(|e| format!("durations[{i}]: {e}"))?;
        }
        for (ty, d) in &self.durations.completed_by_type {
            d.check().map_err(|e| format!("durations of {ty}: {e}"))?;
        }
        same("usage.records", Some(u.records), steps.total)?;
        if u.sums.steps_with_usage > u.records || u.total_mismatch > u.sums.steps_with_usage {
            return Err(format!(
                "{} steps with usage ({} mismatched) among {} records",
                u.sums.steps_with_usage, u.total_mismatch, u.records
            ));
        }
        let per_assistant = u
            .by_assistant
            .values()
            .try_fold(0u64, |t, s| t.checked_add(s.steps_with_usage));
        same("usage.by_assistant", per_assistant, u.sums.steps_with_usage)?;
        let max = crate::parse::MAX_TIMESTAMP;
        match self.time_range.bounds {
            None if steps.total == steps.undated => {}
            Some((a, b)) if steps.total > 0 && 0 <= a && a <= b && b <= max => {}
            bounds => return Err(format!("time range {bounds:?} for {} steps", steps.total)),
        }
        let (mut n, mut failed, mut tokens) = (0u64, 0u64, [0u64; 3]);
        for (&hour, b) in &self.series.hours {
            // Keyed by hours since the epoch.
            if !(0..=max / 3600).contains(&hour) || b.failed > b.steps {
                return Err(format!(
                    "time series bucket {hour} ({} steps, {} failed)",
                    b.steps, b.failed
                ));
            }
            let add = |t: &mut u64, v: u64| {
                *t = t.checked_add(v).ok_or("time series sums pass 2^64")?;
                Ok::<(), String>(())
            };
            add(&mut n, b.steps)?;
            add(&mut failed, b.failed)?;
            add(&mut tokens[0], b.prompt_tokens)?;
            add(&mut tokens[1], b.completion_tokens)?;
            add(&mut tokens[2], b.total_tokens)?;
        }
        // Undated records (failed batch requests) are failures in no hour.
        let undated = steps.undated;
        same("time series steps", n.checked_add(undated), steps.total)?;
        same("time series failures", failed.checked_add(undated), x.total)?;
        let s = &u.sums;
        if tokens != [s.prompt_tokens, s.completion_tokens, s.total_tokens] {
            return Err("time series tokens do not add up to usage".into());
        }
        Ok(())
    }

    /// The report sections, with time series in buckets of `interval` (and their costs,
    /// per hour, when kept).
    pub fn finish(
        &self,
        interval: Interval,
        costs: Option<&std::collections::BTreeMap<u32, (report::Usd, u64)>>,
    ) -> report::Sections {
        report::Sections {
            time_range: self.time_range.finish(),
            steps: self.steps.finish(),
            tool_calls: self.tools.finish(),
            failures: self.failures.finish(),
            durations_seconds: self.durations.finish(),
            usage: self.usage.finish(),
            time_series: self.series.finish_as(interval, costs),
        }
    }
}

/// Everything a worker folds batches into: the figures over all records, the sketch of
/// distinct step ids, and the figures per group.
#[derive(Debug, Clone, Default)]
pub struct Aggregates {
    /// The figures over all records.
    pub figures: Figures,
    /// Distinct step ids (estimated).
    pub distinct: DistinctIds,
    /// Figures per group (`--group-by`), when grouping.
    pub groups: Groups,
    /// Every run met, by id, with its model: the rows `runs` and `ledger` file under.
    pub table: RunTable,
    /// The links between responses, resolved into runs at the end.
    pub chains: Chains,
    /// Runs and threads.
    pub runs: Runs,
    /// The steps behind the figures.
    pub exemplars: Exemplars,
    /// Tokens by run, assistant, group and hour: what costs are priced from (with the
    /// runs' models in `table`).
    pub ledger: Ledger,
    /// The current batch's id keys, hashed once for the run table and the ledger.
    pub(crate) keys: BatchKeys,
    /// What the report needs of the runs, threads and cost entries, when they were
    /// spilled to disk (`table`, `runs` and `ledger` are then empty).
    pub spilled: Option<Box<Finished>>,
}

impl Aggregates {
    /// Empty aggregates that group along `groups`' dimensions, count `runs` (when
    /// enabled), keep `exemplars` steps of each kind and a cost `ledger` (when enabled).
    /// They hold as many runs as `runs` may threads.
    pub fn new(mut groups: Groups, runs: Runs, ledger: Ledger, exemplars: usize) -> Aggregates {
        groups.track_rows = ledger.enabled;
        Aggregates {
            table: RunTable::new(runs.max()),
            chains: Chains::new(runs.max()),
            groups,
            runs,
            exemplars: Exemplars::new(exemplars),
            ledger,
            ..Aggregates::default()
        }
    }

    /// The optional fields rows must keep for these aggregates.
    pub fn keep(&self) -> Keep {
        let mut keep = self.groups.keep();
        let steps = self.runs.enabled || self.exemplars.n > 0;
        keep.runs |= steps || self.ledger.enabled;
        keep.threads |= steps;
        keep.ids |= steps;
        keep
    }

    /// Folds a batch in.
    pub fn update(&mut self, batch: &Batch) -> Result<(), Error> {
        if self.ledger.enabled {
            // The models, for pricing.
            self.table.add_objects(batch)?;
        }
        if batch.is_empty() {
            return Ok(());
        }
        self.figures.update(batch)?;
        self.distinct.update(batch);
        if self.runs.enabled || self.ledger.enabled {
            self.keys.fill(batch);
            self.table.rows(batch, &mut self.keys)?;
        }
        self.runs.update(batch, &mut self.table, &mut self.keys)?;
        if self.runs.enabled {
            self.chains.update(batch)?;
        }
        self.exemplars.update(batch);
        self.groups.update(batch)?;
        let groups = self.groups.is_enabled().then_some(&self.groups.rows[..]);
        self.ledger.update(batch, &self.keys.rows, groups)
    }

    /// Merges another part.
    pub fn merge(&mut self, other: Aggregates) -> Result<(), Error> {
        self.figures.merge(other.figures)?;
        self.distinct.merge(other.distinct)?;
        self.exemplars.merge(other.exemplars);
        self.chains.merge(other.chains)?;
        let went = self.groups.merge(other.groups)?;
        // Side by side (in the current pool): the runs' ids and the threads' ids; then the
        // figures over runs and the ledger.
        let (table, runs, ledger) = (&mut self.table, &mut self.runs, &mut self.ledger);
        let (rows, threads) = rayon::join(
            || table.merge(other.table),
            || runs.merge_threads(&other.runs),
        );
        let (rows, threads) = (rows?, threads?);
        let (a, b) = rayon::join(
            || runs.merge_runs(other.runs, &rows, &threads),
            || ledger.merge(other.ledger, &rows, &went),
        );
        a.and(b)
    }

    /// Counts the responses that continue another's run as part of that run (see
    /// [`Chains`]): when every part is merged, and again when states merge (a run
    /// already folded has no steps left to fold; the links stay for the next merge).
    /// `spilled` says whether runs were written to disk, where chains cannot be
    /// followed.
    pub fn resolve_chains(&mut self, spilled: bool) -> Result<(), Error> {
        if self.chains.is_empty() {
            return Ok(());
        }
        if spilled {
            // The rows are on disk: the links are followed by hash only to say how many
            // would have been.
            return match self.chains.resolve().len() {
                0 => Ok(()),
                n => Err(Error::ChainsSpilled(n)),
            };
        }
        let rows = self.chains.resolve_in(&self.table);
        self.runs.fold_roots(&rows)?;
        self.table.set_roots(&rows);
        Ok(())
    }

    /// Bytes the tables of runs, threads and cost entries hold, about: what a spill
    /// frees.
    pub fn run_bytes(&self) -> usize {
        self.table.heap_bytes() + self.runs.heap_bytes() + self.ledger.heap_bytes()
    }

    /// Writes the runs, threads and cost entries of runs to `spill` and empties their
    /// tables (the counts of steps without a run or thread, and the cost entries of
    /// steps without a run, stay).
    pub fn spill(&mut self, spill: &mut Spill) -> Result<(), spill::Error> {
        spill.write(&self.table, &self.runs, &self.ledger, &self.groups.table)?;
        self.table = RunTable::new(self.table.max());
        self.runs.clear_tables();
        self.ledger.clear_runs().map_err(Error::from)?;
        Ok(())
    }

    /// Writes what the tables still hold to `spill`, then reads it all back, one
    /// partition at a time, into what the report needs ([`Aggregates::spilled`]).
    pub fn finish_spill(
        &mut self,
        spill: Spill,
        price: &spill::PriceRuns<'_>,
    ) -> Result<(), spill::Error> {
        let max = self.table.max();
        let table = std::mem::replace(&mut self.table, RunTable::new(max));
        let empty = Runs::new(self.runs.enabled, self.runs.max());
        let runs = std::mem::replace(&mut self.runs, empty);
        let empty = Ledger::new(self.ledger.enabled);
        let ledger = std::mem::replace(&mut self.ledger, empty);
        let n = self.exemplars.n;
        let max_groups = self.groups.max();
        let finished = spill.finish(
            table,
            runs,
            ledger,
            &mut self.groups.table,
            max_groups,
            n,
            price,
        )?;
        self.spilled = Some(Box::new(finished));
        Ok(())
    }

    /// Bytes the tables that grow with the input's cardinality hold (runs, threads, the
    /// cost ledger, groups, the duration histograms of step types), about: what the
    /// memory budget counts. Constant time.
    pub fn held_bytes(&self) -> usize {
        self.table.heap_bytes()
            + self.runs.heap_bytes()
            + self.ledger.heap_bytes()
            + self.groups.table.held_bytes()
            + self.figures.held_bytes()
            + self.chains.heap_bytes()
    }

    /// Renumbers inputs as if `by` came before them.
    pub fn shift_files(&mut self, by: u32) {
        self.runs.shift_files(by);
        for p in self.exemplars.places_mut() {
            p.file += by;
        }
    }

    /// Renumbers inputs: `new_index[old]` is the input's new index.
    pub fn renumber_files(&mut self, new_index: &[u32]) {
        self.runs.renumber_files(new_index);
        for p in self.exemplars.places_mut() {
            if let Some(&n) = new_index.get(p.file as usize) {
                p.file = n;
            }
        }
    }
}
