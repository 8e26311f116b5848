//! Usage: token sums overall and per assistant.

use super::tally::{finish_map, merge_maps, Tally};
use super::{add, Accumulator, Aggregator, Merge, Overflow, Overflowed};
use crate::batch::Batch;
use crate::report;
use std::collections::BTreeMap;

/// Token sums of a set of steps.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct UsageSums {
    /// Steps with usage.
    pub steps_with_usage: u64,
    /// Sum of `prompt_tokens`.
    pub prompt_tokens: u64,
    /// Sum of `completion_tokens`.
    pub completion_tokens: u64,
    /// Sum of `total_tokens`.
    pub total_tokens: u64,
    /// Sum of cached tokens.
    pub cached_tokens: u64,
    /// Sum of reasoning tokens.
    pub reasoning_tokens: u64,
}

impl UsageSums {
    /// The report's form.
    pub fn finish(&self) -> report::UsageSums {
        self.into()
    }
}

same_fields!(UsageSums => report::UsageSums {
    steps_with_usage, prompt_tokens, completion_tokens, total_tokens, cached_tokens,
    reasoning_tokens
});

impl UsageSums {
    /// Adds `o`, or names the first sum that would not fit.
    pub fn add(&mut self, o: &Self) -> Result<(), Overflow> {
        let mut next = *self;
        add(
            &mut next.steps_with_usage,
            o.steps_with_usage,
            "usage.steps_with_usage",
        )?;
        add(
            &mut next.prompt_tokens,
            o.prompt_tokens,
            "usage.prompt_tokens",
        )?;
        add(
            &mut next.completion_tokens,
            o.completion_tokens,
            "usage.completion_tokens",
        )?;
        add(&mut next.total_tokens, o.total_tokens, "usage.total_tokens")?;
        add(
            &mut next.cached_tokens,
            o.cached_tokens,
            "usage.cached_tokens",
        )?;
        add(
            &mut next.reasoning_tokens,
            o.reasoning_tokens,
            "usage.reasoning_tokens",
        )?;
        *self = next;
        Ok(())
    }
}

impl Merge for UsageSums {
    fn merge(&mut self, o: &Self) -> Result<(), Overflowed> {
        self.add(o).map_err(|_| Overflowed)
    }
}

impl Accumulator for UsageSums {
    fn is_empty(&self) -> bool {
        *self == UsageSums::default()
    }
    fn reset(&mut self) {
        *self = UsageSums::default();
    }
}

/// Token usage: steps with and without `usage`, sums, and `total_tokens` mismatches.
#[derive(Debug, Clone, Default)]
pub struct Usage {
    /// Bytes of the keys of its maps.
    pub(crate) keys: usize,
    pub(crate) records: u64,
    pub(crate) sums: UsageSums,
    pub(crate) total_mismatch: u64,
    pub(crate) by_assistant: BTreeMap<String, UsageSums>,
    tally: Tally<UsageSums>,
    overflow: Option<Overflow>,
}

impl Aggregator for Usage {
    type Output = report::Usage;

    fn update(&mut self, batch: &Batch) {
        self.records += batch.len() as u64;
        let (p, c, t) = (
            &batch.prompt_tokens,
            &batch.completion_tokens,
            &batch.total_tokens,
        );
        for i in 0..batch.len() {
            if !batch.has_usage.get(i) {
                continue;
            }
            // Nulls read as zero in `values()`, which is what a sum wants.
            let row = UsageSums {
                steps_with_usage: 1,
                prompt_tokens: p.values()[i],
                completion_tokens: c.values()[i],
                total_tokens: t.values()[i],
                cached_tokens: batch.cached_tokens.values()[i],
                reasoning_tokens: batch.reasoning_tokens.values()[i],
            };
            // A mismatch needs all three figures; a missing one is not evidence.
            if let (Some(p), Some(c), Some(t)) = (p.get(i), c.get(i), t.get(i)) {
                if p.checked_add(c) != Some(t) {
                    self.total_mismatch += 1;
                }
            }
            let added = self.sums.add(&row).and(
                self.tally
                    .slot(batch.assistant[i])
                    .add(&row)
                    .map_err(|_| Overflow::of("usage.by_assistant")),
            );
            if let Err(e) = added {
                self.overflow = self.overflow.or(Some(e));
            }
        }
        let drained = self.tally.drain_into(
            &batch.dicts.assistant,
            &mut self.by_assistant,
            "usage.by_assistant",
            &mut self.keys,
        );
        self.overflow = self.overflow.or(drained.err());
    }

    fn merge(&mut self, other: Self) -> Result<(), Overflow> {
        add(
            &mut self.records,
            other.records,
            "usage.steps_without_usage",
        )?;
        self.sums.add(&other.sums)?;
        add(
            &mut self.total_mismatch,
            other.total_mismatch,
            "usage.total_mismatch",
        )?;
        merge_maps(
            &mut self.by_assistant,
            other.by_assistant,
            "usage.by_assistant",
            &mut self.keys,
        )
    }

    fn overflow(&self) -> Option<Overflow> {
        self.overflow
    }

    fn finish(&self) -> report::Usage {
        let s = &self.sums;
        report::Usage {
            steps_with_usage: s.steps_with_usage,
            steps_without_usage: self.records - s.steps_with_usage,
            prompt_tokens: s.prompt_tokens,
            completion_tokens: s.completion_tokens,
            total_tokens: s.total_tokens,
            cached_tokens: s.cached_tokens,
            reasoning_tokens: s.reasoning_tokens,
            total_mismatch: self.total_mismatch,
            by_assistant: finish_map(&self.by_assistant, UsageSums::finish),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::agg::testutil::{step, whole_and_merged};

    #[test]
    fn sums_tokens_and_counts_mismatches() {
        let lines = [
            step(
                "completed",
                1,
                r#""assistant_id":"a","usage":{"prompt_tokens":10,"completion_tokens":5,"total_tokens":15,"prompt_token_details":{"cached_tokens":4},"completion_tokens_details":{"reasoning_tokens":2}}"#,
            ),
            step(
                "completed",
                1,
                r#""assistant_id":"a","usage":{"prompt_tokens":1,"completion_tokens":1,"total_tokens":3}"#,
            ),
            step(
                "failed",
                1,
                r#""assistant_id":"b","usage":{"prompt_tokens":0,"completion_tokens":16}"#,
            ),
            step("in_progress", 1, r#""assistant_id":"b","usage":null"#),
            step("in_progress", 1, ""),
        ];
        for r in whole_and_merged::<Usage>(&lines).map(|u| u.finish()) {
            assert_eq!((r.steps_with_usage, r.steps_without_usage), (3, 2));
            assert_eq!(
                (r.prompt_tokens, r.completion_tokens, r.total_tokens),
                (11, 22, 18)
            );
            assert_eq!((r.cached_tokens, r.reasoning_tokens), (4, 2));
            assert_eq!(r.total_mismatch, 1, "only the complete, wrong line");
            assert_eq!(r.by_assistant["a"].total_tokens, 18);
            assert_eq!(r.by_assistant["a"].steps_with_usage, 2);
            assert_eq!(r.by_assistant["b"].completion_tokens, 16);
            assert!(!r.by_assistant.contains_key("(none)"));
        }
    }
}
