//! The tool calls of responses that carry a fee of their own, beside their tokens: web
//! and file searches (priced per call where the price table has the fee), and
//! code-interpreter and image-generation calls (billed by container or by image, which
//! no record says: counted as unpriced, never as $0). Counted by kind and hour, so that
//! each is priced with the fee in force when it was made.
//!
//! Run steps' tool calls are not here: the Assistants API billed file search by storage
//! and code interpreter by session, neither per call.

use super::{add, Overflow};
use crate::batch::{Api, Batch, ToolKind};
use std::collections::BTreeMap;

/// The kinds of calls with a fee of their own, by the name reports use.
pub const FEE_KINDS: [ToolKind; 4] = [
    ToolKind::WebSearch,
    ToolKind::FileSearch,
    ToolKind::CodeInterpreter,
    ToolKind::ImageGeneration,
];

/// Calls with a fee, by kind and hour since the epoch.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FeeCalls {
    pub(crate) calls: BTreeMap<(ToolKind, u32), u64>,
}

impl FeeCalls {
    /// Counts the fee-bearing calls of `batch`'s responses.
    pub fn update(&mut self, batch: &Batch) -> Result<(), Overflow> {
        if !batch.api.contains(&Api::Responses) {
            return Ok(());
        }
        for i in 0..batch.len() {
            if batch.api[i] != Api::Responses || batch.undated(i) {
                continue;
            }
            let hour = super::ledger::cost_hour(batch.created_at[i]);
            for t in batch.tools(i) {
                let kind = batch.tool_kind[t];
                if FEE_KINDS.contains(&kind) {
                    add(
                        self.calls.entry((kind, hour)).or_default(),
                        1,
                        "cost.tool_fees.calls",
                    )?;
                }
            }
        }
        Ok(())
    }

    /// Merges another part's counts.
    pub fn merge(&mut self, other: FeeCalls) -> Result<(), Overflow> {
        for (k, n) in other.calls {
            add(self.calls.entry(k).or_default(), n, "cost.tool_fees.calls")?;
        }
        Ok(())
    }

    /// Every count: kind, hour, calls.
    pub fn entries(&self) -> impl Iterator<Item = (ToolKind, u32, u64)> + '_ {
        self.calls.iter().map(|(&(k, h), &n)| (k, h, n))
    }

    /// Adds a count read back from a state; `Err` for a kind without a fee.
    pub fn insert(&mut self, kind: &str, hour: u32, calls: u64) -> Result<(), String> {
        let Some(&k) = FEE_KINDS.iter().find(|k| k.as_str() == kind) else {
            return Err(format!("tool fee calls of kind {kind:?}, which has no fee"));
        };
        add(
            self.calls.entry((k, hour)).or_default(),
            calls,
            "cost.tool_fees.calls",
        )
        .map_err(|o| o.to_string())
    }

    /// Bytes held, about.
    pub fn held_bytes(&self) -> usize {
        self.calls.len() * 48
    }
}
