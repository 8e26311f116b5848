//! Steps: how many records, by status and by type.

use super::tally::{merge_maps, Tally};
use super::{add, Aggregator, Overflow};
use crate::batch::{Api, Batch};
use crate::report;
use std::collections::BTreeMap;

/// Counts records by `status` (verbatim, unknown values kept) and by step type.
#[derive(Debug, Clone, Default)]
pub struct Steps {
    /// Bytes of the keys of its maps.
    pub(crate) keys: usize,
    pub(crate) total: u64,
    pub(crate) by_status: BTreeMap<String, u64>,
    pub(crate) by_type: BTreeMap<String, u64>,
    /// Records by [`Api`], indexed as `Api as usize`.
    pub(crate) by_api: [u64; 2],
    /// Undated records (failed batch requests: [`crate::batch::UNDATED`]).
    pub(crate) undated: u64,
    status_tally: Tally<u64>,
    type_tally: Tally<u64>,
    overflow: Option<Overflow>,
}

impl Steps {
    /// Records counted.
    pub fn total(&self) -> u64 {
        self.total
    }
}

impl Aggregator for Steps {
    type Output = report::Steps;

    fn update(&mut self, batch: &Batch) {
        self.total += batch.len() as u64;
        let responses = batch.api.iter().filter(|&&a| a == Api::Responses).count() as u64;
        self.by_api[Api::Responses as usize] += responses;
        self.by_api[Api::Assistants as usize] += batch.len() as u64 - responses;
        if responses > 0 {
            self.undated += (0..batch.len()).filter(|&i| batch.undated(i)).count() as u64;
        }
        for &c in &batch.status {
            *self.status_tally.slot(c) += 1;
        }
        for &c in &batch.step_type {
            *self.type_tally.slot(c) += 1;
        }
        let drained = self
            .status_tally
            .drain_into(
                &batch.dicts.status,
                &mut self.by_status,
                "steps.by_status",
                &mut self.keys,
            )
            .and(self.type_tally.drain_into(
                &batch.dicts.step_type,
                &mut self.by_type,
                "steps.by_type",
                &mut self.keys,
            ));
        self.overflow = self.overflow.or(drained.err());
    }

    fn merge(&mut self, other: Self) -> Result<(), Overflow> {
        add(&mut self.total, other.total, "steps.total")?;
        for (a, b) in self.by_api.iter_mut().zip(other.by_api) {
            add(a, b, "steps.by_api")?;
        }
        add(&mut self.undated, other.undated, "steps.undated")?;
        merge_maps(
            &mut self.by_status,
            other.by_status,
            "steps.by_status",
            &mut self.keys,
        )?;
        merge_maps(
            &mut self.by_type,
            other.by_type,
            "steps.by_type",
            &mut self.keys,
        )
    }

    fn overflow(&self) -> Option<Overflow> {
        self.overflow
    }

    fn finish(&self) -> report::Steps {
        report::Steps {
            total: self.total,
            // Filled in by the summary, which holds the sketch.
            distinct_ids_estimate: 0,
            by_status: self.by_status.clone(),
            by_type: self.by_type.clone(),
            // Only when there are responses: a report of run steps alone reads as before.
            by_api: if self.by_api[Api::Responses as usize] > 0 {
                Api::ALL
                    .iter()
                    .map(|&a| (a.as_str().to_string(), self.by_api[a as usize]))
                    .collect()
            } else {
                BTreeMap::new()
            },
            undated: self.undated,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::agg::testutil::{batch, step};

    #[test]
    fn counts_by_status_and_type_and_merges() {
        let lines = [
            step("completed", 1, r#""type":"tool_calls""#),
            step("completed", 1, r#""type":"message_creation""#),
            step("failed", 1, r#""type":"tool_calls""#),
            step("brand_new", 1, ""),
        ];
        let refs: Vec<&str> = lines.iter().map(String::as_str).collect();
        let mut whole = Steps::default();
        whole.update(&batch(&refs));
        let mut a = Steps::default();
        a.update(&batch(&refs[..1]));
        let mut b = Steps::default();
        b.update(&batch(&refs[1..]));
        a.merge(b).unwrap();
        for s in [whole.finish(), a.finish()] {
            assert_eq!(s.total, 4);
            assert_eq!(s.by_status["completed"], 2);
            assert_eq!(s.by_status["brand_new"], 1);
            assert_eq!(s.by_type["tool_calls"], 2);
            assert_eq!(s.by_type["(none)"], 1);
            assert_eq!(s.by_status.values().sum::<u64>(), 4);
        }
    }
}
