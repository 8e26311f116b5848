//! Failures: steps whose status is `failed`, and what they have in common.

use super::tally::{merge_maps, Tally};
use super::{add, Aggregator, Overflow, NONE_KEY};
use crate::batch::{is_failure, is_terminal, Batch, ToolKind};
use crate::report;
use std::collections::BTreeMap;

/// How many messages `top_messages` lists.
pub const TOP_MESSAGES: usize = 10;

/// Failed steps: total, rate among terminal steps, and breakdowns by `last_error.code`,
/// assistant, step type, tool kind and message.
#[derive(Debug, Clone, Default)]
pub struct Failures {
    /// Bytes of the keys of its maps.
    pub(crate) keys: usize,
    pub(crate) total: u64,
    pub(crate) terminal: u64,
    pub(crate) by_code: BTreeMap<String, u64>,
    pub(crate) by_assistant: BTreeMap<String, u64>,
    pub(crate) by_step_type: BTreeMap<String, u64>,
    pub(crate) by_tool: BTreeMap<String, u64>,
    pub(crate) messages: BTreeMap<String, u64>,
    tallies: [Tally<u64>; 4],
    overflow: Option<Overflow>,
}

impl Aggregator for Failures {
    type Output = report::Failures;

    fn update(&mut self, batch: &Batch) {
        let [codes, assistants, types, messages] = &mut self.tallies;
        let mut by_tool = [0u64; ToolKind::ALL.len()];
        let mut no_tool = 0u64;
        for (i, &status) in batch.status.iter().enumerate() {
            self.terminal += is_terminal(status) as u64;
            if !is_failure(status) {
                continue;
            }
            self.total += 1;
            *codes.slot(batch.error_code[i]) += 1;
            *assistants.slot(batch.assistant[i]) += 1;
            *types.slot(batch.step_type[i]) += 1;
            if batch.error_message[i] != crate::batch::NULL {
                *messages.slot(batch.error_message[i]) += 1;
            }
            // Each failed step counts once per distinct tool kind it called.
            let mut seen = 0u16;
            for t in batch.tools(i) {
                seen |= 1 << batch.tool_kind[t] as u16;
            }
            if seen == 0 {
                no_tool += 1;
            }
            for (k, n) in by_tool.iter_mut().enumerate() {
                *n += u64::from(seen >> k & 1);
            }
        }
        let d = &batch.dicts;
        let drained = codes
            .drain_into(
                &d.error_code,
                &mut self.by_code,
                "failures.by_code",
                &mut self.keys,
            )
            .and(assistants.drain_into(
                &d.assistant,
                &mut self.by_assistant,
                "failures.by_assistant",
                &mut self.keys,
            ))
            .and(types.drain_into(
                &d.step_type,
                &mut self.by_step_type,
                "failures.by_step_type",
                &mut self.keys,
            ))
            .and(messages.drain_into(
                &d.error_message,
                &mut self.messages,
                "failures.top_messages",
                &mut self.keys,
            ));
        self.overflow = self.overflow.or(drained.err());
        let tool_counts = ToolKind::ALL
            .iter()
            .map(|k| (k.as_str(), by_tool[*k as usize]));
        for (key, n) in tool_counts.chain(std::iter::once((NONE_KEY, no_tool))) {
            if n == 0 {
                continue;
            }
            match self.by_tool.get_mut(key) {
                Some(acc) => *acc += n,
                None => {
                    self.by_tool.insert(key.to_string(), n);
                }
            }
        }
    }

    fn merge(&mut self, other: Self) -> Result<(), Overflow> {
        add(&mut self.total, other.total, "failures.total")?;
        add(
            &mut self.terminal,
            other.terminal,
            "failures.terminal_steps",
        )?;
        merge_maps(
            &mut self.by_code,
            other.by_code,
            "failures.by_code",
            &mut self.keys,
        )?;
        merge_maps(
            &mut self.by_assistant,
            other.by_assistant,
            "failures.by_assistant",
            &mut self.keys,
        )?;
        merge_maps(
            &mut self.by_step_type,
            other.by_step_type,
            "failures.by_step_type",
            &mut self.keys,
        )?;
        merge_maps(
            &mut self.by_tool,
            other.by_tool,
            "failures.by_tool",
            &mut self.keys,
        )?;
        merge_maps(
            &mut self.messages,
            other.messages,
            "failures.top_messages",
            &mut self.keys,
        )
    }

    fn overflow(&self) -> Option<Overflow> {
        self.overflow
    }

    fn finish(&self) -> report::Failures {
        let mut top: Vec<(&String, u64)> = self.messages.iter().map(|(m, &n)| (m, n)).collect();
        // Most frequent first; ties by message so the order is deterministic.
        top.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(b.0)));
        top.truncate(TOP_MESSAGES);
        report::Failures {
            total: self.total,
            terminal_steps: self.terminal,
            rate: (self.terminal > 0).then(|| self.total as f64 / self.terminal as f64),
            by_code: self.by_code.clone(),
            by_assistant: self.by_assistant.clone(),
            by_step_type: self.by_step_type.clone(),
            by_tool: self.by_tool.clone(),
            top_messages: top
                .into_iter()
                .map(|(m, n)| report::MessageCount {
                    message: m.clone(),
                    count: n,
                })
                .collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::agg::testutil::{batch, step};

    fn failed(code: &str, msg: &str, tools: &str) -> String {
        step(
            "failed",
            1,
            &format!(
                r#""assistant_id":"asst_a","type":"tool_calls","last_error":{{"code":{code},"message":{msg}}},"step_details":{{"tool_calls":[{tools}]}}"#
            ),
        )
    }

    #[test]
    fn breaks_failures_down() {
        let lines = [
            failed(
                r#""server_error""#,
                r#""boom""#,
                r#"{"type":"function"},{"type":"function"},{"type":"file_search"}"#,
            ),
            failed(r#""server_error""#, r#""boom""#, ""),
            failed("null", r#""other""#, r#"{"type":"code_interpreter"}"#),
            failed(r#""quota_gone""#, "null", ""),
            step("completed", 1, ""),
            step("cancelled", 1, ""),
            step("in_progress", 1, ""),
            step("mystery", 1, ""),
        ];
        let refs: Vec<&str> = lines.iter().map(String::as_str).collect();
        let mut seq = Failures::default();
        seq.update(&batch(&refs));
        let mut merged = Failures::default();
        for chunk in refs.chunks(3) {
            let mut part = Failures::default();
            part.update(&batch(chunk));
            merged.merge(part).unwrap();
        }
        for r in [seq.finish(), merged.finish()] {
            assert_eq!(r.total, 4);
            assert_eq!(r.terminal_steps, 6);
            assert_eq!(r.rate, Some(4.0 / 6.0));
            assert_eq!(r.by_code["server_error"], 2);
            assert_eq!(r.by_code["(none)"], 1);
            assert_eq!(r.by_code["quota_gone"], 1);
            assert_eq!(r.by_assistant["asst_a"], 4);
            assert_eq!(r.by_step_type["tool_calls"], 4);
            assert_eq!(r.by_tool["function"], 1, "once per step, not per call");
            assert_eq!(r.by_tool["file_search"], 1);
            assert_eq!(r.by_tool["code_interpreter"], 1);
            assert_eq!(r.by_tool["(none)"], 2);
            assert_eq!(r.top_messages.len(), 2);
            assert_eq!(
                (r.top_messages[0].message.as_str(), r.top_messages[0].count),
                ("boom", 2)
            );
            assert_eq!(
                (r.top_messages[1].message.as_str(), r.top_messages[1].count),
                ("other", 1)
            );
        }
    }

    #[test]
    fn no_terminal_steps_means_no_rate() {
        let mut f = Failures::default();
        f.update(&batch(&[&step("in_progress", 1, "")]));
        assert_eq!(f.finish().rate, None);
    }

    #[test]
    fn top_messages_keep_ten_ordered_by_count_then_text() {
        let lines: Vec<String> = (0..12)
            .flat_map(|i| {
                std::iter::repeat_n(failed("null", &format!(r#""m{i:02}""#), ""), 1 + (i % 3))
            })
            .collect();
        let refs: Vec<&str> = lines.iter().map(String::as_str).collect();
        let mut f = Failures::default();
        f.update(&batch(&refs));
        let top = f.finish().top_messages;
        assert_eq!(top.len(), TOP_MESSAGES);
        let got: Vec<(&str, u64)> = top.iter().map(|m| (m.message.as_str(), m.count)).collect();
        assert_eq!(
            &got[..5],
            &[("m02", 3), ("m05", 3), ("m08", 3), ("m11", 3), ("m01", 2)]
        );
    }
}
