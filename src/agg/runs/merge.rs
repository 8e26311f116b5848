//! Merging another part's runs and threads: runs and threads with the same id become one,
//! their figures added, their last steps compared.

use super::{later, lower, write_id, Last, Run, Runs, NONE};
use crate::agg::hint::AHEAD;
use crate::agg::{add, Error};

impl Runs {
    /// Merges another part's threads, first of the two halves of a merge (it needs no run
    /// rows, so it can go on beside
    /// [`RunTable::merge`](crate::agg::RunTable::merge)): adds the other part's threads
    /// and their steps, and the steps without a run or a thread; returns each of its
    /// threads' index here. Then [`Runs::merge_runs`] folds its runs in.
    pub fn merge_threads(&mut self, other: &Runs) -> Result<Vec<u32>, Error> {
        if !other.enabled {
            return Ok(Vec::new());
        }
        self.enabled = true;
        add(
            &mut self.without_run,
            other.without_run,
            "runs.steps_without_run",
        )?;
        add(
            &mut self.without_thread,
            other.without_thread,
            "threads.steps_without_thread",
        )?;
        let mut threads = Vec::with_capacity(other.threads.len());
        let steps = &mut self.thread_steps;
        let mut sum = Ok(());
        let added = self
            .threads
            .merge_from(&other.threads, self.max, |t, k, new| {
                if new {
                    steps.push(0);
                }
                if sum.is_ok() {
                    sum = add(
                        &mut steps[k],
                        other.thread_steps[t],
                        "threads.steps_per_thread",
                    );
                }
                threads.push(k as u32);
            });
        added.map_err(|_| self.too_many("threads"))?;
        sum?;
        Ok(threads)
    }

    /// The second half of a merge, once [`Runs::merge_threads`] gave `threads` (the other
    /// part's threads' indexes here) and the run table gave `rows` (`rows[r]`: this side's
    /// row of the other's run `r`): runs with the same id become one, their figures added,
    /// their last steps compared.
    pub fn merge_runs(&mut self, other: Runs, rows: &[u32], threads: &[u32]) -> Result<(), Error> {
        if !other.enabled {
            return Ok(());
        }
        let names: Vec<u32> = (0..other.names.len() as u32)
            .map(|c| self.name_code(other.names.get(c)))
            .collect();
        let code = |c: u32| if c == NONE { NONE } else { names[c as usize] };
        let thread = |t: u32| if t == NONE { NONE } else { threads[t as usize] };
        let rows_len = rows.iter().map(|&r| r as usize + 1).max().unwrap_or(0);
        if self.figures.len() < rows_len {
            self.figures.resize(rows_len, Run::NONE);
        }
        for (r, theirs) in other.figures.iter().enumerate() {
            if let Some(&ahead) = rows.get(r + AHEAD) {
                super::prefetch_run(&self.figures, ahead);
            }
            if theirs.steps == 0 {
                continue;
            }
            let their_id = &other.ids[theirs.last.id.0..][..theirs.last.id.1];
            let theirs = Run {
                thread: thread(theirs.thread),
                assistant: code(theirs.assistant),
                last: Last {
                    status: code(theirs.last.status),
                    ..theirs.last
                },
                ..*theirs
            };
            self.fold(rows[r] as usize, &theirs, their_id)?;
        }
        let bytes = other.heap_bytes();
        crate::agg::drop_aside(other, bytes);
        Ok(())
    }

    /// Folds `theirs` (whose thread, assistant and status are this table's codes, and
    /// whose last step's id is `their_id`) into row `k`: as its first steps, or added to
    /// those it has.
    pub(super) fn fold(&mut self, k: usize, theirs: &Run, their_id: &[u8]) -> Result<(), Error> {
        if self.figures.len() <= k {
            self.figures.resize(k + 1, Run::NONE);
        }
        if self.figures[k].steps == 0 {
            let at = self.ids.len();
            self.ids.extend_from_slice(their_id);
            self.count += 1;
            self.figures[k] = Run {
                last: Last {
                    id: (at, their_id.len()),
                    ..theirs.last
                },
                ..*theirs
            };
            return Ok(());
        }
        let run = &mut self.figures[k];
        add(&mut run.steps, theirs.steps, "runs.steps_per_run")?;
        add(
            &mut run.tool_calls,
            theirs.tool_calls,
            "runs.tool_calls_per_run",
        )?;
        add(&mut run.tokens, theirs.tokens, "runs.tokens_per_run")?;
        run.first = run.first.min(theirs.first);
        run.end = run.end.max(theirs.end);
        if lower(run.thread, theirs.thread, |t| self.threads.get(t as usize)) {
            run.thread = theirs.thread;
        }
        if lower(run.assistant, theirs.assistant, |a| {
            self.names.get(a).as_bytes()
        }) {
            run.assistant = theirs.assistant;
        }
        let mine = &self.ids[run.last.id.0..][..run.last.id.1];
        let l = &theirs.last;
        if later(
            (l.created, l.terminal, their_id, l.place),
            (run.last.created, run.last.terminal, mine, run.last.place),
        ) {
            let slot = write_id(&mut self.ids, run.last.id, their_id);
            run.last = Last { id: slot, ..*l };
        }
        Ok(())
    }

    /// Counts each run of `roots` (a row of `table`, its root's row) as part of its
    /// root's: its figures folded into the root's, its own row left without steps.
    pub fn fold_roots(&mut self, roots: &[(u32, u32)]) -> Result<(), Error> {
        if !self.enabled {
            return Ok(());
        }
        let mut id = Vec::new();
        for &(r, root) in roots {
            let (r, root) = (r as usize, root as usize);
            let Some(theirs) = self.figures.get(r).copied().filter(|f| f.steps > 0) else {
                continue;
            };
            id.clear();
            id.extend_from_slice(&self.ids[theirs.last.id.0..][..theirs.last.id.1]);
            self.figures[r] = Run::NONE;
            self.count -= 1;
            self.fold(root, &theirs, &id)?;
        }
        Ok(())
    }
}
