//! The model of each step, for `--group-by model`: run ids to the models their
//! `thread.run` objects name (read in a pass before the steps), then the assistant's
//! `--model`, then `--default-model` — the order costs are priced in.

use crate::agg::Ledger;
use std::collections::{BTreeMap, HashMap};

/// Models by run, and the fallbacks.
#[derive(Debug, Clone, Default)]
pub struct Models {
    /// Run id → index into `names`.
    runs: HashMap<Box<str>, u32>,
    names: Vec<Box<str>>,
    by_assistant: BTreeMap<String, String>,
    default: Option<String>,
}

impl Models {
    /// The models `ledger`'s run objects name, with `by_assistant` and `default` for the
    /// runs without one.
    pub fn new(
        ledger: &Ledger,
        by_assistant: BTreeMap<String, String>,
        default: Option<String>,
    ) -> Models {
        let mut names: Vec<Box<str>> = Vec::new();
        let mut code: HashMap<&str, u32> = HashMap::new();
        let mut runs = HashMap::new();
        for r in 0..ledger.runs() as u32 {
            let Some(m) = ledger.model(r) else { continue };
            let c = *code.entry(m).or_insert_with(|| {
                names.push(m.into());
                names.len() as u32 - 1
            });
            runs.insert(ledger.run_id(r).into(), c);
        }
        Models {
            runs,
            names,
            by_assistant,
            default,
        }
    }

    /// The model of a step of `run` and `assistant`, if any rule gives one.
    pub fn of(&self, run: Option<&str>, assistant: Option<&str>) -> Option<&str> {
        if let Some(&c) = run.and_then(|r| self.runs.get(r)) {
            return Some(&self.names[c as usize]);
        }
        assistant
            .and_then(|a| self.by_assistant.get(a))
            .or(self.default.as_ref())
            .map(String::as_str)
    }
}
