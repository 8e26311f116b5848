//! What one group keeps: the counters and sums a group reports and its durations, in
//! about 170 bytes plus its few exact durations.

use super::sketch::{Sketch, SLOTS};
use crate::agg::{add, Overflow, UsageSums};
use crate::batch::{
    is_failure, Batch, STATUS_CANCELLED, STATUS_COMPLETED, STATUS_EXPIRED, STATUS_FAILED,
    STATUS_INCOMPLETE, STATUS_IN_PROGRESS,
};
use crate::report;
use std::collections::BTreeMap;

/// The statuses a group counts in place, in batch-code order.
pub const STATUSES: [&str; 7] = crate::batch::KNOWN_STATUSES;

/// The figures of [`GroupFigures::usage`], in order.
const USAGE: [&str; 6] = [
    "groups[].usage.steps_with_usage",
    "groups[].usage.prompt_tokens",
    "groups[].usage.completion_tokens",
    "groups[].usage.total_tokens",
    "groups[].usage.cached_tokens",
    "groups[].usage.reasoning_tokens",
];

/// The code a group uses for a failure without `last_error.code`.
pub const NO_CODE: u32 = u32::MAX;

/// The figures of one group.
#[derive(Debug, Clone, Default)]
pub struct GroupFigures {
    /// Steps in the group.
    pub steps: u64,
    /// Steps by status, indexed as [`STATUSES`].
    pub statuses: [u64; 7],
    /// Steps with any other status, verbatim.
    pub other_statuses: Option<Box<BTreeMap<String, u64>>>,
    /// Failed steps by error code: the table's code (see [`super::table::Table`]) or
    /// [`NO_CODE`], and the count.
    pub failures: Vec<(u32, u64)>,
    /// Steps with usage, then the sums of prompt, completion, total, cached and
    /// reasoning tokens.
    pub usage: [u64; 6],
    /// Earliest and latest `created_at`.
    pub first: i64,
    /// See `first`.
    pub last: i64,
    /// Durations by terminal status.
    pub durations: Sketch,
}

/// The duration slot of a status code, if it is terminal.
#[inline]
pub fn slot(status: u32) -> Option<usize> {
    match status {
        STATUS_COMPLETED => Some(0),
        STATUS_FAILED => Some(1),
        STATUS_CANCELLED => Some(2),
        STATUS_EXPIRED => Some(3),
        _ => None,
    }
}

/// The status code of duration slot `s`.
fn status_of_slot(s: usize) -> usize {
    [
        STATUS_COMPLETED,
        STATUS_FAILED,
        STATUS_CANCELLED,
        STATUS_EXPIRED,
    ][s] as usize
}

impl GroupFigures {
    /// Adds row `i` of `batch`; `code` is the group table's code for its error code.
    #[inline]
    pub fn add_row(&mut self, batch: &Batch, i: usize, code: u32) -> Result<(), Overflow> {
        let created = batch.created_at[i];
        if batch.undated(i) {
            // No time: a group of undated rows alone has the empty range (MAX, MIN).
            if self.steps == 0 {
                (self.first, self.last) = (i64::MAX, i64::MIN);
            }
        } else if self.steps == 0 {
            self.first = created;
            self.last = created;
        } else {
            self.first = self.first.min(created);
            self.last = self.last.max(created);
        }
        self.steps += 1;
        let status = batch.status[i];
        if (status as usize) < STATUSES.len() {
            self.statuses[status as usize] += 1;
        } else {
            let name = batch.dicts.status.get(status);
            *self
                .other_statuses
                .get_or_insert_with(Box::default)
                .entry(name.to_string())
                .or_default() += 1;
        }
        if is_failure(status) {
            self.add_failures(code, 1)?;
        }
        if let Some(s) = slot(status) {
            // A terminal time before creation is no duration (counted as missing).
            if let Some(d) = batch.duration(i).and_then(|d| u64::try_from(d).ok()) {
                self.durations
                    .record(s, d)
                    .map_err(|_| Overflow::of("groups[].durations_seconds"))?;
            }
        }
        if batch.has_usage.get(i) {
            let tokens = [
                1,
                batch.prompt_tokens.values()[i],
                batch.completion_tokens.values()[i],
                batch.total_tokens.values()[i],
                batch.cached_tokens.values()[i],
                batch.reasoning_tokens.values()[i],
            ];
            for ((sum, t), figure) in self.usage.iter_mut().zip(tokens).zip(USAGE) {
                add(sum, t, figure)?;
            }
        }
        Ok(())
    }

    /// Adds `n` failures with error code `code`.
    pub fn add_failures(&mut self, code: u32, n: u64) -> Result<(), Overflow> {
        match self.failures.iter_mut().find(|(c, _)| *c == code) {
            Some((_, count)) => add(count, n, "groups[].failures.by_code")?,
            None => self.failures.push((code, n)),
        }
        Ok(())
    }

    /// Merges another group's figures; `code` maps its error codes to this table's
    /// ([`NO_CODE`] to itself).
    pub fn merge(
        &mut self,
        other: &GroupFigures,
        code: impl Fn(u32) -> u32,
    ) -> Result<(), Overflow> {
        if other.steps == 0 {
            return Ok(());
        }
        if self.steps == 0 {
            (self.first, self.last) = (other.first, other.last);
        } else {
            self.first = self.first.min(other.first);
            self.last = self.last.max(other.last);
        }
        add(&mut self.steps, other.steps, "groups[].steps")?;
        for (a, b) in self.statuses.iter_mut().zip(other.statuses) {
            add(a, b, "groups[].by_status")?;
        }
        if let Some(theirs) = &other.other_statuses {
            let mine = self.other_statuses.get_or_insert_with(Box::default);
            for (k, n) in theirs.iter() {
                add(mine.entry(k.clone()).or_default(), *n, "groups[].by_status")?;
            }
        }
        for &(c, n) in &other.failures {
            self.add_failures(code(c), n)?;
        }
        for ((a, b), figure) in self.usage.iter_mut().zip(other.usage).zip(USAGE) {
            add(a, b, figure)?;
        }
        self.durations
            .merge(&other.durations)
            .map_err(|_| Overflow::of("groups[].durations_seconds"))
    }

    /// Steps in a terminal status.
    pub fn terminal(&self) -> u64 {
        self.statuses[1..=STATUS_INCOMPLETE as usize].iter().sum()
    }

    /// Failed steps, and incomplete responses.
    pub fn failed(&self) -> u64 {
        self.statuses[STATUS_FAILED as usize] + self.statuses[STATUS_INCOMPLETE as usize]
    }

    /// Failed steps over terminal steps.
    pub fn failure_rate(&self) -> Option<f64> {
        let t = self.terminal();
        (t > 0).then(|| self.failed() as f64 / t as f64)
    }

    /// Whether the figures are ones a run could make (for a group read from a state):
    /// statuses adding up to the steps, failures to the failed ones, durations within
    /// the terminal steps of their status, usage within the steps, a time range.
    pub fn check(&self) -> Result<(), String> {
        let others = self.other_statuses.iter().flat_map(|o| o.values());
        let by_status = self
            .statuses
            .iter()
            .chain(others)
            .try_fold(0u64, |t, n| t.checked_add(*n));
        if by_status != Some(self.steps) || self.steps == 0 {
            return Err(format!(
                "a group of {} steps whose statuses do not add up",
                self.steps
            ));
        }
        let failures = self
            .failures
            .iter()
            .try_fold(0u64, |t, (_, n)| t.checked_add(*n));
        if failures != Some(self.failed()) {
            return Err("a group's failures by code do not add up to its failed steps".into());
        }
        for (s, name) in SLOTS.iter().enumerate() {
            if self.durations.count(s) > self.statuses[status_of_slot(s)] {
                return Err(format!("a group has more {name} durations than steps"));
            }
        }
        if self.usage[0] > self.steps {
            return Err("a group has more steps with usage than steps".into());
        }
        let max = crate::parse::MAX_TIMESTAMP;
        let undated_only = (self.first, self.last) == (i64::MAX, i64::MIN);
        let dated = 0 <= self.first && self.first <= self.last && self.last <= max;
        if !(undated_only || dated) {
            return Err(format!(
                "a group's time range {}..{}",
                self.first, self.last
            ));
        }
        Ok(())
    }

    /// Steps by status, for the statuses the group has.
    pub fn status_counts(&self) -> BTreeMap<String, u64> {
        let mut by_status: BTreeMap<String, u64> = STATUSES
            .iter()
            .zip(self.statuses)
            .filter(|(_, n)| *n > 0)
            .map(|(s, n)| (s.to_string(), n))
            .collect();
        if let Some(o) = &self.other_statuses {
            by_status.extend(o.iter().map(|(k, v)| (k.clone(), *v)));
        }
        by_status
    }

    /// The token sums.
    pub fn usage_sums(&self) -> UsageSums {
        let [steps_with_usage, prompt_tokens, completion_tokens, total_tokens, cached_tokens, reasoning_tokens] =
            self.usage;
        UsageSums {
            steps_with_usage,
            prompt_tokens,
            completion_tokens,
            total_tokens,
            cached_tokens,
            reasoning_tokens,
        }
    }

    /// The report's group, with `key` and the table's error code names.
    pub fn finish(&self, key: Vec<String>, code_name: impl Fn(u32) -> String) -> report::Group {
        let by_status = self.status_counts();
        let mut by_code = BTreeMap::new();
        for &(c, n) in &self.failures {
            let name = if c == NO_CODE {
                crate::agg::NONE_KEY.to_string()
            } else {
                code_name(c)
            };
            *by_code.entry(name).or_default() += n;
        }
        let mut durations = report::GroupDurations::default();
        for (s, name) in SLOTS.iter().enumerate() {
            let steps = self.statuses[status_of_slot(s)];
            if steps == 0 {
                continue;
            }
            let mut d = self.durations.stats(s);
            d.missing = steps - d.count;
            *durations.get_mut(name).expect("a terminal status") = Some(d);
        }
        report::Group {
            key,
            steps: self.steps,
            by_status: by_status.into(),
            failures: report::GroupFailures {
                total: self.failed(),
                terminal_steps: self.terminal(),
                rate: self.failure_rate(),
                by_code: by_code.into(),
            },
            durations_seconds: durations,
            usage: self.usage_sums().finish(),
            time_range: match self.first <= self.last {
                true => report::TimeRange::new(Some(self.first), Some(self.last)),
                false => report::TimeRange::new(None, None),
            },
            cost_usd: None,
            unpriced_steps: None,
        }
    }

    /// Heap bytes beyond the struct itself.
    pub fn heap_bytes(&self) -> usize {
        self.failures.capacity() * 16
            + self.other_statuses.as_ref().map_or(0, |o| o.len() * 48)
            + self.durations.heap_bytes()
    }
}

/// `in_progress` is counted but neither terminal nor a duration.
const _: () = assert!(STATUS_IN_PROGRESS == 0 && STATUS_EXPIRED == 4 && STATUS_INCOMPLETE == 5);
