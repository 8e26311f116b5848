//! A summary: what a run (or a merge of state files) knows, and the report it gives.
//!
//! The engine builds a [`Summary`] from the line accounting its workers kept and the
//! aggregates its sinks folded; state files store one; [`Summary::report`] turns it into
//! the plain-data [`Report`] every renderer reads. Inputs appear here by name, size and
//! compression ([`FileInfo`]); the aggregates below know them only by index.

use crate::agg::spill::RunRow;
use crate::agg::{self, add, exemplars, Aggregates, Interval, LineStats, Overflow, Sort};
use crate::batch::Place;
use crate::cost::Pricing;
use crate::input::FileInfo;
use crate::report::{self, Report, SCHEMA_VERSION};
use std::sync::Arc;

/// What `--dedup` folded.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Folded {
    /// Run-step records read (every snapshot).
    pub snapshots: u64,
    /// Distinct step ids: the records summarised.
    pub steps: u64,
}

impl Folded {
    /// Adds another run's counts, or says which would not hold the total.
    pub fn add(&mut self, other: Folded) -> Result<(), Overflow> {
        add(&mut self.snapshots, other.snapshots, "dedup.snapshots")?;
        add(&mut self.steps, other.steps, "dedup.steps")
    }

    fn finish(&self) -> report::Dedup {
        report::Dedup {
            snapshots: self.snapshots,
            steps: self.steps,
            folded: self.snapshots.saturating_sub(self.steps),
        }
    }
}

/// How a summary is shown: what it computed does not depend on these.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct View {
    /// The bucket width of time series.
    pub interval: Interval,
    /// The order of groups.
    pub sort: Sort,
    /// Only the first this many groups (all without).
    pub top: Option<usize>,
    /// Only the first this many groups are made into the report when its rendering shows
    /// no more (the table and the markup formats without `--top`): the others are ranked
    /// and counted (`groups_total`), not written out, so `--group-by run` over millions
    /// of runs does not build millions of groups to show twenty. Unlike `top`, the report
    /// does not say it.
    pub shown: Option<usize>,
}

/// Everything a summary of some inputs holds.
#[derive(Debug, Clone, Default)]
pub struct Summary {
    /// The inputs, in order: line positions and malformed examples refer to them by index.
    pub files: Vec<FileInfo>,
    /// Line accounting.
    pub lines: LineStats,
    /// Records left out by the time window (`--since`/`--until`).
    pub filtered_out: u64,
    /// The time window the records were read through (`--since`, `--until`).
    pub window: (Option<i64>, Option<i64>),
    /// The `created_at` range of the records the window left out.
    pub outside: crate::agg::TimeRange,
    /// The figures over all records, the distinct-id sketch and the groups.
    pub aggregates: Aggregates,
    /// What `--dedup` folded, when it ran.
    pub dedup: Option<Folded>,
    /// How it is shown by default.
    pub view: View,
    /// How its steps are priced (by default, the bundled list prices).
    pub pricing: Arc<Pricing>,
}

/// Below this share of distinct ids among records, repeats are no estimation noise.
const REPEATS_HINT_RATIO: f64 = 0.97;

impl Summary {
    /// Merges the summary of later inputs: `other`'s input `i` becomes input
    /// `self.files.len() + i`. `a.append(b)` equals one run over `a`'s inputs then `b`'s.
    /// Stops, naming the figure, rather than wrap a count or sum that would not hold the
    /// total; `self` is then partly merged and should be dropped.
    pub fn append(&mut self, mut other: Summary) -> Result<(), agg::Error> {
        let by = self.files.len() as u32;
        other.lines.shift_files(by);
        other.aggregates.shift_files(by);
        self.files.append(&mut other.files);
        self.combine(other)
    }

    /// Merges `other` with the inputs of both in the order `order` gives (position `n`
    /// holds input `order[n]` of `self`'s inputs followed by `other`'s), so that the
    /// result does not depend on which summary came first.
    pub fn merge_ordered(&mut self, mut other: Summary, order: &[usize]) -> Result<(), agg::Error> {
        let n = self.files.len();
        let total = n + other.files.len();
        let mut new_index = vec![0u32; total];
        for (pos, &old) in order.iter().enumerate() {
            new_index[old] = pos as u32;
        }
        let mut all: Vec<Option<FileInfo>> = std::mem::take(&mut self.files)
            .into_iter()
            .chain(std::mem::take(&mut other.files))
            .map(Some)
            .collect();
        self.files = order.iter().filter_map(|&o| all[o].take()).collect();
        self.renumber(&new_index[..n], total);
        other.renumber(&new_index[n..], total);
        self.combine(other)?;
        self.lines.trim_examples();
        Ok(())
    }

    /// Puts the inputs in the order `order` gives: input `order[n]` becomes input `n`.
    pub fn reorder(&mut self, order: &[usize]) {
        let mut new_index = vec![0u32; order.len()];
        for (pos, &old) in order.iter().enumerate() {
            new_index[old] = pos as u32;
        }
        let mut all: Vec<Option<FileInfo>> = std::mem::take(&mut self.files)
            .into_iter()
            .map(Some)
            .collect();
        self.files = order.iter().filter_map(|&o| all[o].take()).collect();
        self.renumber(&new_index, order.len());
    }

    /// Renumbers what refers to inputs: input `i` becomes `new_index[i]` of `total`.
    fn renumber(&mut self, new_index: &[u32], total: usize) {
        self.lines.place_files(new_index, total);
        self.aggregates.renumber_files(new_index);
    }

    /// Adds `other`'s figures, its inputs already numbered apart from `self`'s.
    fn combine(&mut self, other: Summary) -> Result<(), agg::Error> {
        self.files
            .iter()
            .try_fold(0u64, |t, f| t.checked_add(f.bytes))
            .ok_or(Overflow::of("input.bytes"))?;
        self.lines.merge(other.lines)?;
        self.outside.widen(other.outside.bounds);
        // Summaries merge only under one window (states check it); an empty one takes it.
        if self.window == (None, None) {
            self.window = other.window;
        }
        add(
            &mut self.filtered_out,
            other.filtered_out,
            "input.filtered_out",
        )?;
        self.aggregates.merge(other.aggregates)?;
        // A response whose run began in the other part joins it now.
        self.aggregates.resolve_chains(false)?;
        self.dedup = match (self.dedup, other.dedup) {
            (Some(mut a), Some(b)) => {
                a.add(b)?;
                Some(a)
            }
            (a, b) => a.or(b),
        };
        Ok(())
    }

    /// Whether the summary is one a run could make: every invariant the reports and
    /// merges rely on (for one read from a state). Says what is off.
    pub fn check(&self) -> Result<(), String> {
        self.files
            .iter()
            .try_fold(0u64, |t, f| t.checked_add(f.bytes))
            .ok_or("the inputs' sizes pass 2^64")?;
        self.lines.check(self.files.len())?;
        let f = &self.aggregates.figures;
        f.check()?;
        self.aggregates.groups.check(f.steps.total)?;
        self.aggregates.runs.check(
            &self.aggregates.table,
            f.steps.total,
            f.time_range.bounds,
            f.usage.sums.total_tokens,
            self.files.len(),
        )?;
        self.aggregates.exemplars.check(self.files.len())?;
        let groups = &self.aggregates.groups;
        let multi = groups
            .dims()
            .iter()
            .any(|d| matches!(d, agg::Dim::Tool | agg::Dim::Function));
        self.aggregates.ledger.check(
            self.aggregates.table.len(),
            if groups.is_enabled() {
                groups.table.len().max(1)
            } else {
                0
            },
            f.usage.sums.steps_with_usage,
            !multi,
        )?;
        let records = self
            .lines
            .checked_totals()
            .map_err(|o| o.to_string())?
            .records;
        let summarised = f
            .steps
            .total
            .checked_add(self.filtered_out)
            .ok_or("steps and filtered-out records pass 2^64")?;
        match self.dedup {
            None if records != summarised => Err(format!(
                "{records} records read, {summarised} summarised or filtered out"
            )),
            Some(d) if d.snapshots != records || d.steps > d.snapshots || summarised != d.steps => {
                Err(format!(
                    "deduplication of {} snapshots to {} steps, of {records} records read and \
                     {summarised} summarised or filtered out",
                    d.snapshots, d.steps
                ))
            }
            _ => Ok(()),
        }
    }

    /// The report, shown as [`Summary::view`] says.
    pub fn report(&self) -> Report {
        self.report_as(self.view)
    }

    /// What to say of the inputs without the figures: those that gave no step.
    pub fn input_notes(&self) -> Vec<String> {
        empty_inputs(&self.input())
            .into_iter()
            .map(|(note, _)| note)
            .collect()
    }

    /// The inputs that have lines but gave nothing to check (a CSV, a state file, another
    /// API's objects, stream deltas alone), each with what [`Summary::input_notes`] says of
    /// it. A summary of such an input would be a report of zeros that looks like a quiet
    /// day.
    pub fn unread_inputs(&self) -> Vec<(String, String)> {
        let input = self.input();
        empty_inputs(&input)
            .into_iter()
            .filter_map(|(note, path)| path.map(|p| (p, note)))
            .collect()
    }

    /// The `input` section.
    fn input(&self) -> report::Input {
        let headers: Vec<report::FileInput> = self
            .files
            .iter()
            .map(|f| {
                report::FileInput::header(
                    &f.name,
                    f.bytes,
                    f.compression.map(|c| c.as_str().to_string()),
                    f.shape.map(|s| s.as_str().to_string()),
                )
            })
            .collect();
        let mut input = self.lines.finish(&headers);
        input.filtered_out = self.filtered_out;
        let (since, until) = self.window;
        input.window =
            (since.is_some() || until.is_some()).then(|| report::Window::new(since, until));
        input.outside_window = self
            .outside
            .bounds
            .is_some()
            .then(|| crate::agg::Aggregator::finish(&self.outside));
        input
    }

    /// The report, shown as `view` says.
    pub fn report_as(&self, view: View) -> Report {
        let input = self.input();
        let a = &self.aggregates;
        let groups_len = a.groups.table.len();
        let mut hints_cost = Vec::new();
        // Pricing the ledger and the figures over runs each walk a table as large as the
        // runs: side by side.
        let (priced, (runs_threads, exemplars)) = match &a.spilled {
            // Spilled runs were priced by model and finished while reading back.
            Some(f) => (
                self.pricing.price(&f.ledger, &f.models, groups_len),
                (f.runs.clone(), self.exemplars()),
            ),
            None => rayon::join(
                || self.pricing.price(&a.ledger, &a.table, groups_len),
                || (a.runs.finish(), self.exemplars()),
            ),
        };
        let mut priced = priced.unwrap_or_else(|e| {
            hints_cost.push(format!("costs are left out: {e}"));
            crate::cost::Priced::default()
        });
        if let Some(c) = priced.cost.as_mut() {
            match self.pricing.price_fees(&a.figures.fees) {
                Ok(fees) => c.tool_fees = fees,
                Err(e) => hints_cost.push(format!("tool fees are left out: {e}")),
            }
        }
        let kept = priced.cost.is_some();
        let mut sections = a
            .figures
            .finish(view.interval, kept.then_some(&priced.hours));
        let steps = &mut sections.steps;
        steps.distinct_ids_estimate = a.distinct.estimate().min(steps.total);
        let mut hints: Vec<String> = empty_inputs(&input).into_iter().map(|(n, _)| n).collect();
        hints.append(&mut self.hints(&input.counts, &sections.steps));
        hints.append(&mut hints_cost);
        let keep = match (view.top, view.shown) {
            (Some(top), Some(shown)) => Some(top.min(shown)),
            (top, shown) => top.or(shown),
        };
        let (groups, total) = a
            .groups
            .finish(view.sort, keep, kept.then_some(&priced.groups[..]));
        let (runs, threads) = runs_threads.unzip();
        Report {
            schema_version: SCHEMA_VERSION,
            input,
            sections,
            runs,
            threads,
            exemplars,
            cost: priced.cost,
            group_by: a.groups.dims().iter().map(|d| d.name()).collect(),
            groups_total: total as u64,
            groups_top: view.top.map(|t| t as u64),
            groups_sorted_by: view.sort.as_str().to_string(),
            groups,
            dedup: self.dedup.map(|d| d.finish()),
            hints,
        }
    }

    /// Where `place` is, as reports say it: the input's name and the line number.
    fn where_is(&self, place: Place) -> (String, u64) {
        let file = self
            .files
            .get(place.file as usize)
            .map_or_else(|| format!("#{}", place.file), |f| f.name.clone());
        let line = self.lines.line_number(crate::agg::LinePos {
            file: place.file,
            chunk: place.chunk,
            line: u64::from(place.line),
            offset: 0,
        });
        (file, line)
    }

    /// The steps and runs behind the figures, when kept.
    fn exemplars(&self) -> Option<report::Exemplars> {
        let a = &self.aggregates;
        let n = a.exemplars.n;
        if n == 0 {
            return None;
        }
        let step = |s: &exemplars::Step, figure: &str| {
            let (file, line) = self.where_is(s.place);
            report::Exemplar {
                id: s.step.id.clone(),
                run_id: s.step.run_id.clone(),
                thread_id: s.step.thread_id.clone(),
                assistant_id: s.step.assistant_id.clone(),
                status: s.step.status.clone(),
                step_type: s.step.step_type.clone(),
                figure: figure.to_string(),
                value: s.value,
                cost_usd: None,
                steps: None,
                created_at: s.step.created_at,
                created_at_utc: report::format_utc(s.step.created_at),
                code: s.code.clone(),
                message: s.message.clone(),
                file,
                line,
            }
        };
        let run = |row: RunRow, figure: &str| {
            let (file, line) = self.where_is(row.place);
            let figure = if row.cost.is_some() {
                "cost_usd"
            } else {
                figure
            };
            report::Exemplar {
                id: row.last_id,
                run_id: Some(row.id),
                thread_id: row.thread_id,
                assistant_id: row.assistant_id,
                status: row.status,
                step_type: None,
                figure: figure.to_string(),
                value: i64::try_from(row.value).unwrap_or(i64::MAX),
                cost_usd: row.cost,
                steps: Some(row.steps),
                created_at: row.first,
                created_at_utc: report::format_utc(row.first),
                code: None,
                message: None,
                file,
                line,
            }
        };
        let (runs, table) = (&a.runs, &a.table);
        let top = |figure: fn(&crate::agg::runs::Run) -> Option<u64>| -> Vec<RunRow> {
            runs.top(table, n, figure)
                .into_iter()
                .map(|(r, v)| RunRow::of(runs, table, r, v))
                .collect()
        };
        // The costliest in dollars when any run was priced, else by tokens.
        let (slowest, costliest) = match &a.spilled {
            Some(f) if !f.priciest.is_empty() => (f.slowest.clone(), f.priciest.clone()),
            Some(f) => (f.slowest.clone(), f.costliest.clone()),
            None => {
                let priced = match runs.enabled {
                    true => self.pricing.costliest_runs(&a.ledger, table, n),
                    false => Ok(Vec::new()),
                };
                let priced: Vec<RunRow> = priced
                    .unwrap_or_default()
                    .into_iter()
                    .filter_map(|(r, usd)| RunRow::priced(runs, table, r as usize, usd))
                    .collect();
                let costliest = match priced.is_empty() {
                    true => top(|r| Some(r.tokens)),
                    false => priced,
                };
                (top(|r| r.span()), costliest)
            }
        };
        Some(report::Exemplars {
            slowest_steps: a
                .exemplars
                .slowest
                .steps
                .iter()
                .map(|s| step(s, "duration_seconds"))
                .collect(),
            slowest_runs: slowest
                .into_iter()
                .map(|r| run(r, "span_seconds"))
                .collect(),
            costliest_runs: costliest
                .into_iter()
                .map(|r| run(r, "total_tokens"))
                .collect(),
            recent_failures: a
                .exemplars
                .failures
                .steps
                .iter()
                .map(|s| step(s, "created_at"))
                .collect(),
        })
    }

    /// Advice derived from the figures: an event stream summarised snapshot by snapshot.
    fn hints(&self, counts: &report::LineCounts, steps: &report::Steps) -> Vec<String> {
        if self.dedup.is_some() {
            return Vec::new();
        }
        // Estimation noise is well under 3% (and under 2 ids for small inputs).
        let margin = (steps.total as f64 * (1.0 - REPEATS_HINT_RATIO)).max(2.0);
        let repeats = steps.distinct_ids_estimate as f64 + margin <= steps.total as f64;
        let mut why = Vec::new();
        if counts.deltas > 0 {
            why.push(format!("{} delta events", counts.deltas));
        }
        if repeats {
            why.push(format!(
                "about {} distinct {} ids in {} records",
                steps.distinct_ids_estimate,
                steps.noun1(),
                steps.total
            ));
        }
        if why.is_empty() {
            return Vec::new();
        }
        vec![format!(
            "this looks like an event stream or overlapping exports ({}): counts are per snapshot; \
             --dedup counts each {} once, from its most advanced snapshot",
            why.join(", "),
            steps.noun1()
        )]
    }
}

/// What to say of inputs that gave no step: what they seem to hold, and what to run.
/// What to say of each input that gave no step, and its path when it had lines nothing
/// was read from.
fn empty_inputs(input: &report::Input) -> Vec<(String, Option<String>)> {
    let mut out = Vec::new();
    if input.files.is_empty() {
        out.push(("no input file was read".to_string(), None));
    }
    for f in input.files.iter().filter(|f| f.counts.records == 0) {
        let c = &f.counts;
        let path = match f.path.as_str() {
            "-" => "standard input".to_string(),
            p => crate::report::visible(p),
        };
        let first_bad = input.malformed_examples.iter().find(|e| e.file == f.path);
        // Whether the input has lines but nothing was read from them (run objects alone
        // are read: they are counted, and the note says what they are for).
        let unread = c.lines > c.blank_lines && !(c.runs > 0 && c.malformed == 0);
        let said = if c.lines == 0 {
            format!("{path} is empty")
        } else if first_bad.is_some_and(|e| e.message == crate::parse::STATE_FILE_LINE) {
            format!("{path} is a steplog state file: read it with `steplog report {path}`")
        } else if c.runs > 0 && c.malformed == 0 {
            if input.counts.records > 0 {
                continue; // the runs that price the steps of the other inputs
            }
            format!(
                "{path} holds {} run objects and no steps: they give the steps read with them \
                 their model (for costs); name the steps' files too",
                c.runs
            )
        } else if c.malformed > 0 {
            let why = first_bad.map_or_else(String::new, |e| {
                format!(" (line {}: {})", e.line, crate::report::visible(&e.message))
            });
            let none = match c.lines {
                1 => "its one line is not a run step or a response".to_string(),
                n => format!("none of its {n} lines is a run step or a response"),
            };
            format!(
                "{path}: {none}{why}; steplog reads JSONL of run steps (or of \
                 `thread.run.step` events), list-steps pages and JSON arrays, and Responses \
                 API responses (lines, streams, batch output)"
            )
        } else if c.deltas + c.framing > 0 {
            format!(
                "{path} holds {} stream deltas and framing lines but no step snapshot",
                c.deltas + c.framing
            )
        } else {
            format!("{path} holds only blank lines")
        };
        out.push((said, unread.then(|| f.path.clone())));
    }
    out
}
