//! Keeping some rows of a batch: what `--dedup`'s first pass does to summarise the
//! terminal snapshots apart from the others.

use super::Batch;

impl Batch {
    /// Keeps the rows for which `keep` is true (with their tool calls and kept text), in
    /// order, and drops the others; run objects and dictionaries stay as they are. Per
    /// batch, not per row: the columns are rebuilt, so the cost is one copy of the batch.
    pub fn retain_rows(&mut self, keep: impl Fn(&Batch, usize) -> bool) {
        let rows: Vec<usize> = (0..self.len()).filter(|&i| keep(self, i)).collect();
        if rows.len() == self.len() {
            return;
        }
        let mut offsets = Vec::with_capacity(self.tool_offsets.capacity());
        offsets.push(0u32);
        let (mut kinds, mut functions) = (
            Vec::with_capacity(self.tool_kind.capacity()),
            Vec::with_capacity(self.tool_function.capacity()),
        );
        for &i in &rows {
            for t in self.tools(i) {
                kinds.push(self.tool_kind[t]);
                functions.push(self.tool_function[t]);
            }
            offsets.push(kinds.len() as u32);
        }
        self.tool_offsets = offsets;
        self.tool_kind = kinds;
        self.tool_function = functions;
        self.select_rows(&rows);
    }
}

#[cfg(test)]
mod tests {
    use crate::agg::testutil::batch;

    #[test]
    fn retained_rows_keep_their_fields_and_tool_calls() {
        let lines = [
            r#"{"id":"a","created_at":1,"status":"completed","completed_at":3,"usage":{"prompt_tokens":1,"completion_tokens":2,"total_tokens":3},"step_details":{"type":"tool_calls","tool_calls":[{"type":"function","function":{"name":"f"}}]}}"#,
            r#"{"id":"b","created_at":2,"status":"in_progress","step_details":{"type":"tool_calls","tool_calls":[{"type":"code_interpreter"},{"type":"file_search"}]}}"#,
            r#"{"id":"c","created_at":4,"status":"failed","failed_at":9,"last_error":{"code":"server_error","message":"m"},"step_details":{"type":"tool_calls","tool_calls":[{"type":"function","function":{"name":"g"}},{"type":"retrieval"}]}}"#,
        ];
        let mut b = batch(&lines);
        let whole = b.clone();
        b.retain_rows(|b, i| b.terminal_at(i).is_some());
        assert_eq!(b.len(), 2);
        for (kept, was) in [(0, 0), (1, 2)] {
            assert_eq!(b.step_fields(kept), whole.step_fields(was));
            assert_eq!(b.id_hash[kept], whole.id_hash[was]);
            assert_eq!(b.terminal_at(kept), whole.terminal_at(was));
            assert_eq!(b.total_tokens.get(kept), whole.total_tokens.get(was));
            assert_eq!(b.error_code[kept], whole.error_code[was]);
            let tools = |x: &crate::batch::Batch, i: usize| {
                x.tools(i)
                    .map(|t| (x.tool_kind[t], x.tool_function[t]))
                    .collect::<Vec<_>>()
            };
            assert_eq!(tools(&b, kept), tools(&whole, was));
        }
        assert_eq!(b.tool_kind.len(), 3);
        b.retain_rows(|_, _| false);
        assert!(b.is_empty());
        assert_eq!(b.tool_offsets, vec![0]);
    }
}
