//! Tool calls: how many, by kind, and function calls by name.

use super::tally::{merge_maps, Tally};
use super::{add, Aggregator, Overflow};
use crate::batch::{Batch, ToolKind};
use crate::report;
use std::collections::BTreeMap;

/// Counts tool calls (one step may make several) by kind and function name.
#[derive(Debug, Clone, Default)]
pub struct ToolCalls {
    /// Bytes of the keys of its maps.
    pub(crate) keys: usize,
    /// Indexed by [`ToolKind`] as `usize`.
    pub(crate) by_kind: [u64; 5],
    pub(crate) functions: BTreeMap<String, u64>,
    function_tally: Tally<u64>,
    overflow: Option<Overflow>,
}

impl Aggregator for ToolCalls {
    type Output = report::ToolCalls;

    fn update(&mut self, batch: &Batch) {
        for (&kind, &name) in batch.tool_kind.iter().zip(&batch.tool_function) {
            self.by_kind[kind as usize] += 1;
            if kind == ToolKind::Function {
                *self.function_tally.slot(name) += 1;
            }
        }
        let drained = self.function_tally.drain_into(
            &batch.dicts.function,
            &mut self.functions,
            "tool_calls.functions",
            &mut self.keys,
        );
        self.overflow = self.overflow.or(drained.err());
    }

    fn merge(&mut self, other: Self) -> Result<(), Overflow> {
        for (a, b) in self.by_kind.iter_mut().zip(other.by_kind) {
            add(a, b, "tool_calls.by_kind")?;
        }
        if self
            .by_kind
            .iter()
            .try_fold(0u64, |t, n| t.checked_add(*n))
            .is_none()
        {
            return Err(Overflow::of("tool_calls.total"));
        }
        merge_maps(
            &mut self.functions,
            other.functions,
            "tool_calls.functions",
            &mut self.keys,
        )
    }

    fn overflow(&self) -> Option<Overflow> {
        self.overflow
    }

    fn finish(&self) -> report::ToolCalls {
        report::ToolCalls {
            total: self.by_kind.iter().sum(),
            by_kind: ToolKind::ALL
                .iter()
                .map(|k| (k.as_str().to_string(), self.by_kind[*k as usize]))
                .collect(),
            functions: self.functions.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::agg::testutil::{batch, step};

    #[test]
    fn counts_each_call() {
        let details = r#""step_details":{"type":"tool_calls","tool_calls":[
            {"type":"function","function":{"name":"f","arguments":"{}"}},
            {"type":"function","function":{"name":"g"}},
            {"type":"function","function":{"arguments":"{}"}},
            {"type":"code_interpreter","code_interpreter":{"input":"x","outputs":[]}},
            {"type":"retrieval","retrieval":{}},{"type":"mystery"}]}"#
            .replace('\n', "");
        let l1 = step("completed", 1, &details);
        let l2 = step(
            "completed",
            1,
            r#""step_details":{"tool_calls":[{"type":"function","function":{"name":"f"}}]}"#,
        );
        let mut t = ToolCalls::default();
        t.update(&batch(&[&l1]));
        t.update(&batch(&[&l2]));
        let mut merged = ToolCalls::default();
        for l in [&l1, &l2] {
            let mut part = ToolCalls::default();
            part.update(&batch(&[l]));
            merged.merge(part).unwrap();
        }
        let r = t.finish();
        assert_eq!(merged.finish(), r, "merge equals sequential");
        assert_eq!(r.total, 7);
        assert_eq!(r.by_kind["function"], 4);
        assert_eq!(r.by_kind["code_interpreter"], 1);
        assert_eq!(r.by_kind["retrieval"], 1);
        assert_eq!(r.by_kind["other"], 1);
        assert_eq!(r.by_kind["file_search"], 0);
        assert_eq!(r.functions["f"], 2);
        assert_eq!(r.functions["g"], 1);
        assert_eq!(r.functions["(none)"], 1);
    }
}
