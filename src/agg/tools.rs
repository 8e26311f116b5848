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
    pub(crate) by_kind: [u64; ToolKind::ALL.len()],
    pub(crate) functions: BTreeMap<String, u64>,
    /// A response's MCP calls by `server.tool`.
    pub(crate) mcp: BTreeMap<String, u64>,
    /// Responses' reasoning items (no tool calls: counted apart).
    pub(crate) reasoning_items: u64,
    function_tally: Tally<u64>,
    mcp_tally: Tally<u64>,
    overflow: Option<Overflow>,
}

impl Aggregator for ToolCalls {
    type Output = report::ToolCalls;

    fn update(&mut self, batch: &Batch) {
        let reasoning: u64 = batch.reasoning_items.iter().map(|&n| u64::from(n)).sum();
        if let Err(o) = add(
            &mut self.reasoning_items,
            reasoning,
            "tool_calls.reasoning_items",
        ) {
            self.overflow = self.overflow.or(Some(o));
        }
        for (&kind, &name) in batch.tool_kind.iter().zip(&batch.tool_function) {
            self.by_kind[kind as usize] += 1;
            match kind {
                ToolKind::Function => *self.function_tally.slot(name) += 1,
                ToolKind::Mcp => *self.mcp_tally.slot(name) += 1,
                _ => {}
            }
        }
        let drained = self
            .function_tally
            .drain_into(
                &batch.dicts.function,
                &mut self.functions,
                "tool_calls.functions",
                &mut self.keys,
            )
            .and(self.mcp_tally.drain_into(
                &batch.dicts.function,
                &mut self.mcp,
                "tool_calls.mcp",
                &mut self.keys,
            ));
        self.overflow = self.overflow.or(drained.err());
    }

    fn merge(&mut self, other: Self) -> Result<(), Overflow> {
        for (a, b) in self.by_kind.iter_mut().zip(other.by_kind) {
            add(a, b, "tool_calls.by_kind")?;
        }
        add(
            &mut self.reasoning_items,
            other.reasoning_items,
            "tool_calls.reasoning_items",
        )?;
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
        )?;
        merge_maps(&mut self.mcp, other.mcp, "tool_calls.mcp", &mut self.keys)
    }

    fn overflow(&self) -> Option<Overflow> {
        self.overflow
    }

    fn finish(&self) -> report::ToolCalls {
        report::ToolCalls {
            total: self.by_kind.iter().sum(),
            // A run step's five kinds always; a response's only when it made some, so
            // reports of run steps read as before.
            by_kind: ToolKind::ALL
                .iter()
                .map(|&k| (k, self.by_kind[k as usize]))
                .filter(|&(k, n)| (k as usize) < ToolKind::STEP_KINDS || n > 0)
                .map(|(k, n)| (k.as_str().to_string(), n))
                .collect(),
            functions: self.functions.clone(),
            mcp: self.mcp.clone(),
            reasoning_items: self.reasoning_items,
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
