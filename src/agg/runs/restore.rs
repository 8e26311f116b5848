//! Runs read back from a state file: each run and thread added from its parts, and the
//! table checked against every invariant the reports and merges rely on.

use super::{Last, Run, Runs, NONE, NO_TIME};
use crate::agg::ids::IdKey;
use crate::agg::{Error, RunTable};
use crate::batch::Place;

/// The inputs of [`Runs::push_run`].
#[derive(Debug, Clone, Copy)]
pub struct RunParts<'a> {
    /// Its thread's id.
    pub thread: Option<&'a str>,
    /// Its assistant's id.
    pub assistant: Option<&'a str>,
    /// Steps.
    pub steps: u64,
    /// Earliest `created_at`.
    pub first: i64,
    /// Latest terminal timestamp.
    pub end: Option<i64>,
    /// Tool calls.
    pub tool_calls: u64,
    /// Total tokens.
    pub tokens: u64,
    /// The last step's `created_at`, terminal timestamp, status, id and place.
    pub last_created: i64,
    /// See `last_created`.
    pub last_terminal: Option<i64>,
    /// See `last_created`.
    pub status: &'a str,
    /// See `last_created`.
    pub last_id: &'a str,
    /// See `last_created`.
    pub place: Place,
}

impl Runs {
    /// Adds a run read from a state, as a row of `table` (or fails past the limit, on a
    /// repeated id, or for a run without steps).
    pub fn push_run(
        &mut self,
        table: &mut RunTable,
        id: &str,
        run: RunParts<'_>,
    ) -> Result<(), String> {
        let r = table
            .row(id)
            .map_err(|_| format!("more than {} runs", table.max()))? as usize;
        if self.figures.len() <= r {
            self.figures.resize(r + 1, Run::NONE);
        }
        if self.figures[r].steps > 0 {
            return Err(format!("run `{id}` is listed twice"));
        }
        if run.steps == 0 {
            return Err(format!("run `{id}` has no steps"));
        }
        let thread = match run.thread {
            None => NONE,
            Some(t) => self
                .threads
                .find(IdKey::of(t.as_bytes()))
                .ok_or_else(|| format!("run `{id}` is in thread `{t}`, which is not listed"))?
                as u32,
        };
        let assistant = run.assistant.map_or(NONE, |a| self.name_code(a));
        let status = self.name_code(run.status);
        let figures = self.figures_of(&run, thread, assistant, status);
        // A new row: the fold places it, its last step's id and all.
        self.fold(r, &figures, run.last_id.as_bytes())
            .map_err(|e| e.to_string())
    }

    /// Folds a run read back from a spill into row `r` of the run table: its first steps,
    /// or more steps of a run met before (as [`Runs::merge_runs`] folds them). Its thread is
    /// added (without steps) when new.
    /// `assistant` and `status` are the codes of `run`'s assistant and status here
    /// ([`Runs::name_code`]): a spill's slice names them by its own codes, looked up once.
    pub(crate) fn fold_parts(
        &mut self,
        r: usize,
        run: RunParts<'_>,
        assistant: u32,
        status: u32,
    ) -> Result<(), Error> {
        let thread = match run.thread {
            None => NONE,
            Some(t) => self.thread_row(IdKey::of(t.as_bytes()), t.as_bytes())? as u32,
        };
        let figures = self.figures_of(&run, thread, assistant, status);
        self.fold(r, &figures, run.last_id.as_bytes())
    }

    /// The figures of `run`, in thread `thread` (a row of the threads table, or
    /// [`NONE`]), with its assistant and status by their codes; its last step's id is
    /// placed by [`Runs::fold`].
    fn figures_of(&self, run: &RunParts<'_>, thread: u32, assistant: u32, status: u32) -> Run {
        Run {
            steps: run.steps,
            first: run.first,
            end: run.end.unwrap_or(NO_TIME),
            tool_calls: run.tool_calls,
            tokens: run.tokens,
            thread,
            assistant,
            last: Last {
                created: run.last_created,
                terminal: run.last_terminal.unwrap_or(NO_TIME),
                status,
                id: (0, 0),
                place: run.place,
            },
        }
    }

    /// Adds a thread read from a state.
    pub fn push_thread(&mut self, id: &str, steps: u64) -> Result<(), String> {
        let (_, new) = self
            .threads
            .intern(IdKey::of(id.as_bytes()), id.as_bytes(), self.max)
            .ok_or_else(|| format!("more than {} threads", self.max))?;
        if !new {
            return Err(format!("thread `{id}` is listed twice"));
        }
        self.thread_steps.push(steps);
        Ok(())
    }

    /// Whether the runs (rows of `table`) are ones reading could make, over `steps` steps
    /// created within `range` (the summary's time range) holding `tokens` total tokens,
    /// and `files` inputs (for runs read from a state).
    pub fn check(
        &self,
        table: &RunTable,
        steps: u64,
        range: Option<(i64, i64)>,
        tokens: u64,
        files: usize,
    ) -> Result<(), String> {
        if !self.enabled {
            return Ok(());
        }
        if self.figures.len() > table.len() {
            return Err("runs outside the run table".into());
        }
        let (from, to) = range.unwrap_or((0, -1));
        let time = |t: i64| (0..=crate::parse::MAX_TIMESTAMP).contains(&t);
        let (mut in_runs, mut run_tokens) = (0u64, 0u64);
        for (r, run) in self.figures.iter().enumerate() {
            if run.steps == 0 {
                continue;
            }
            let id = table.id(r as u32);
            let last = &run.last;
            // Steps are created within the summary's range, and end within the times a
            // log can hold.
            let bad = run.first < from
                || last.created > to
                || (run.end != NO_TIME && !time(run.end))
                || (last.terminal != NO_TIME && !time(last.terminal))
                || last.created < run.first
                || (run.end != NO_TIME && run.end < last.terminal)
                || (last.terminal != NO_TIME && run.end == NO_TIME)
                || last.place.file as usize >= files;
            if bad {
                return Err(format!("run `{id}` is not one a log could make"));
            }
            in_runs = in_runs
                .checked_add(run.steps)
                .ok_or("runs hold more than 2^64 steps")?;
            run_tokens = run_tokens
                .checked_add(run.tokens)
                .filter(|&t| t <= tokens)
                .ok_or_else(|| format!("runs hold more than the {tokens} tokens of the steps"))?;
        }
        let in_threads = self
            .thread_steps
            .iter()
            .try_fold(0u64, |t, n| t.checked_add(*n))
            .ok_or("threads hold more than 2^64 steps")?;
        let run_total = in_runs.checked_add(self.without_run);
        let thread_total = in_threads.checked_add(self.without_thread);
        if run_total != Some(steps) || thread_total != Some(steps) {
            return Err(format!(
                "runs hold {in_runs} steps (+{} without a run) and threads {in_threads} \
                 (+{} without a thread), of {steps} steps",
                self.without_run, self.without_thread
            ));
        }
        if self.thread_steps.contains(&0) {
            return Err("a thread without steps".into());
        }
        Ok(())
    }
}
