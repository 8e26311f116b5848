//! The steps behind the figures: the slowest steps and the latest failures, `N` of each,
//! kept in bounded lists ordered by a total order (the figure, then the step id), so
//! merging two lists and keeping the first `N` is exact whatever the split.

use crate::batch::{is_failure, Batch, Place, StepFields};
use std::cmp::Ordering;

/// One step kept as an exemplar, with what reports show of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    /// What it was picked for (a duration in seconds, or `created_at`).
    pub value: i64,
    /// Its id, run, thread, assistant, status, type and `created_at`.
    pub step: StepFields,
    /// `last_error.code`.
    pub code: Option<String>,
    /// `last_error.message`.
    pub message: Option<String>,
    /// Where it is.
    pub place: Place,
}

impl Step {
    /// Row `i` of `batch`, picked for `value`.
    fn of(batch: &Batch, i: usize, value: i64) -> Step {
        let d = &batch.dicts;
        Step {
            value,
            step: batch.step_fields(i),
            code: d
                .error_code
                .get_opt(batch.error_code[i])
                .map(str::to_string),
            message: d
                .error_message
                .get_opt(batch.error_message[i])
                .map(str::to_string),
            place: batch.place[i],
        }
    }
}

/// First the largest value, then the smallest id, then the earliest place (the same
/// step in two inputs), so that any split of the input ranks steps alike.
fn rank(a: (i64, &str, Place), b: (i64, &str, Place)) -> Ordering {
    b.0.cmp(&a.0)
        .then_with(|| a.1.cmp(b.1))
        .then_with(|| place_key(a.2).cmp(&place_key(b.2)))
}

/// Places in input order.
fn place_key(p: Place) -> (u32, u64, u32) {
    (p.file, p.chunk, p.line)
}

impl Step {
    fn key(&self) -> (i64, &str, Place) {
        (self.value, &self.step.id, self.place)
    }
}

/// The first `n` steps by [`rank`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Top {
    /// In rank order, at most `n`.
    pub steps: Vec<Step>,
}

impl Top {
    /// Whether a step with `value` and `id` would be kept among the first `n`.
    #[inline]
    fn admits(&self, n: usize, value: i64, id: &str, place: Place) -> bool {
        match self
            .steps
            .get(n.wrapping_sub(1))
            .filter(|_| self.steps.len() >= n)
        {
            None => n > 0,
            Some(last) => rank((value, id, place), last.key()) == Ordering::Less,
        }
    }

    fn insert(&mut self, n: usize, s: Step) {
        let at = self
            .steps
            .partition_point(|x| rank(x.key(), s.key()) == Ordering::Less);
        self.steps.insert(at, s);
        self.steps.truncate(n);
    }

    fn merge(&mut self, n: usize, other: Top) {
        self.steps.extend(other.steps);
        self.steps.sort_by(|a, b| rank(a.key(), b.key()));
        self.steps.truncate(n);
    }
}

/// The exemplar steps of a summary.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Exemplars {
    /// How many of each are kept (0: none).
    pub n: usize,
    /// The slowest steps.
    pub slowest: Top,
    /// The latest failed steps.
    pub failures: Top,
}

impl Exemplars {
    /// Exemplars of `n` steps each.
    pub fn new(n: usize) -> Exemplars {
        Exemplars {
            n,
            ..Exemplars::default()
        }
    }

    /// Folds a batch in (its rows keep their ids, runs and threads).
    pub fn update(&mut self, batch: &Batch) {
        let n = self.n;
        if n == 0 {
            return;
        }
        for i in 0..batch.len() {
            let id = batch.id(i).unwrap_or("");
            if let Some(d) = batch.duration(i) {
                if self.slowest.admits(n, d, id, batch.place[i]) {
                    self.slowest.insert(n, Step::of(batch, i, d));
                }
            }
            // The latest failures by time: an undated one has none.
            if is_failure(batch.status[i]) && !batch.undated(i) {
                let t = batch.created_at[i];
                if self.failures.admits(n, t, id, batch.place[i]) {
                    self.failures.insert(n, Step::of(batch, i, t));
                }
            }
        }
    }

    /// Merges another part (of the same `n`).
    pub fn merge(&mut self, other: Exemplars) {
        self.n = self.n.max(other.n);
        self.slowest.merge(self.n, other.slowest);
        self.failures.merge(self.n, other.failures);
    }

    /// Every exemplar step, to renumber their inputs.
    pub fn places_mut(&mut self) -> impl Iterator<Item = &mut Place> {
        self.slowest
            .steps
            .iter_mut()
            .chain(self.failures.steps.iter_mut())
            .map(|s| &mut s.place)
    }

    /// Whether the lists are ones reading could make (for exemplars read from a state):
    /// at most `n` each, in rank order, inside the inputs.
    pub fn check(&self, files: usize) -> Result<(), String> {
        for (what, top) in [
            ("slowest steps", &self.slowest),
            ("recent failures", &self.failures),
        ] {
            let ordered = top
                .steps
                .windows(2)
                .all(|w| rank(w[0].key(), w[1].key()) == Ordering::Less);
            if top.steps.len() > self.n || !ordered {
                return Err(format!(
                    "the {what} exemplars are not the first {} in order",
                    self.n
                ));
            }
            if top.steps.iter().any(|s| s.place.file as usize >= files) {
                return Err(format!("a {what} exemplar is outside the inputs"));
            }
            // A duration or `created_at`: both within the times a log can hold.
            let time = |t: i64| (0..=crate::parse::MAX_TIMESTAMP).contains(&t);
            if let Some(s) = top
                .steps
                .iter()
                .find(|s| !time(s.value) || !time(s.step.created_at))
            {
                return Err(format!(
                    "a {what} exemplar has an impossible time ({} at {})",
                    s.value, s.step.created_at
                ));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::agg::testutil::batch;

    fn step(id: &str, created: i64, done: i64, status: &str) -> String {
        format!(
            r#"{{"id":"{id}","object":"thread.run.step","created_at":{created},"status":"{status}","{status}_at":{done},"run_id":"run_{id}"}}"#
        )
    }

    #[test]
    fn keeps_the_first_n_by_figure_then_id_whatever_the_split() {
        let lines: Vec<String> = (0..40)
            .map(|i| {
                let status = if i % 3 == 0 { "failed" } else { "completed" };
                step(
                    &format!("s{:02}", 39 - i),
                    1000 + i,
                    1000 + i + (i % 7) * 10,
                    status,
                )
            })
            .collect();
        let refs: Vec<&str> = lines.iter().map(String::as_str).collect();
        let mut whole = Exemplars::new(5);
        whole.update(&batch(&refs));
        let mut parts = Exemplars::new(5);
        for chunk in refs.chunks(7).rev() {
            let mut p = Exemplars::new(5);
            p.update(&batch(chunk));
            parts.merge(p);
        }
        assert_eq!(whole, parts);
        // Durations are (i % 7) * 10: 60 is the largest, for i = 6, 13, 20, 27, 34, whose
        // ids are s33, s26, s19, s12, s05; ties go to the smaller id.
        let ids: Vec<&str> = whole
            .slowest
            .steps
            .iter()
            .map(|s| s.step.id.as_str())
            .collect();
        assert_eq!(ids, ["s05", "s12", "s19", "s26", "s33"]);
        assert!(whole.slowest.steps.iter().all(|s| s.value == 60));
        // The latest failures: i = 39, 36, 33, 30, 27 (created 1039, …).
        let latest: Vec<i64> = whole
            .failures
            .steps
            .iter()
            .map(|s| s.step.created_at)
            .collect();
        assert_eq!(latest, [1039, 1036, 1033, 1030, 1027]);
        assert_eq!(
            whole.failures.steps[0].step.run_id.as_deref(),
            Some("run_s00")
        );
        assert!(Exemplars::new(0).slowest.steps.is_empty());
    }
}
