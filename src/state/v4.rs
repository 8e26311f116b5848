//! Version 4 of the state file: version 3 ([`super::v3`]) with the cost ledger, a `runs`
//! line count (`thread.run` objects read) and a `cost` setting. The summary gains:
//!
//! ```text
//! "cost": { "runs": [ [RUN_ID, MODEL|null] ],                    sorted by id
//!           "names": [ASSISTANT_ID],                              sorted
//!           "entries": [ [RUN|null, ASSISTANT|null, GROUP|null, HOUR,
//!                         STEPS, PROMPT, CACHED, COMPLETION, REASONING] ] }   sorted
//! ```
//!
//! `RUN` is an index into `runs`, `ASSISTANT` into `names`, `GROUP` into the state's
//! groups (as written, sorted by key); `HOUR` counts hours since the epoch. An entry is
//! the token sums of the steps with usage of one run, assistant, group and hour; nothing
//! is priced in a state, so a state is priced at `report` time with whatever table and
//! `--model` flags are given then. A run takes about 50 bytes here, an entry about 60.

use crate::agg::ledger::{Entry, Ledger, Tokens};
use crate::agg::runs::NONE;
use crate::agg::RunTable;
use serde::{Deserialize, Serialize};
use std::borrow::Cow;

/// One entry, as a list.
type EntryRow = (
    Option<u32>,
    Option<u32>,
    Option<u32>,
    u32,
    u64,
    u64,
    u64,
    u64,
    u64,
);

/// The ledger of a summary, as a state file writes it; `group_rank[g]` is group `g`'s
/// position among the groups as written.
pub(super) struct CostOut<'a> {
    pub ledger: &'a Ledger,
    /// The runs the entries name, with their models.
    pub table: &'a RunTable,
    pub group_rank: Vec<u32>,
}

impl Serialize for CostOut<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let (l, table) = (self.ledger, self.table);
        // The runs with a model or named by an entry (a run of steps without usage has
        // nothing to price).
        let mut listed = vec![false; table.len()];
        for (e, _) in l.entries() {
            if let Some(x) = listed.get_mut(e.run as usize) {
                *x = true;
            }
        }
        let mut runs: Vec<u32> = (0..table.len() as u32)
            .filter(|&r| listed[r as usize] || table.model_code(r).is_some())
            .collect();
        runs.sort_unstable_by_key(|&r| table.id_bytes(r));
        let mut run_rank = vec![0u32; table.len()];
        for (i, &r) in runs.iter().enumerate() {
            run_rank[r as usize] = i as u32;
        }
        let run_rows: Vec<(&str, Option<&str>)> = runs
            .iter()
            .map(|&r| (table.id(r), table.model(r)))
            .collect();
        // The assistants the entries name, sorted, and each one's place.
        let mut names: Vec<&str> = l
            .entries()
            .filter_map(|(e, _)| l.name(e.assistant))
            .collect();
        names.sort_unstable();
        names.dedup();
        let rank = |a: u32| {
            l.name(a)
                .and_then(|n| names.binary_search(&n).ok())
                .map(|i| i as u32)
        };
        let opt = |v: u32, f: &dyn Fn(u32) -> Option<u32>| if v == NONE { None } else { f(v) };
        let mut rows: Vec<EntryRow> = l
            .entries()
            .map(|(e, t)| {
                (
                    opt(e.run, &|r| Some(run_rank[r as usize])),
                    opt(e.assistant, &rank),
                    opt(e.group, &|g| self.group_rank.get(g as usize).copied()),
                    e.hour,
                    t.steps,
                    t.prompt,
                    t.cached,
                    t.completion,
                    t.reasoning,
                )
            })
            .collect();
        rows.sort_unstable();
        let mut st = s.serialize_struct("cost", 3)?;
        st.serialize_field("runs", &run_rows)?;
        st.serialize_field("names", &names)?;
        st.serialize_field("entries", &rows)?;
        st.end()
    }
}

/// The ledger as read, before it is checked.
#[derive(Deserialize)]
pub(super) struct CostIn<'a> {
    #[serde(borrow)]
    runs: Vec<(Cow<'a, str>, Option<Cow<'a, str>>)>,
    #[serde(borrow)]
    names: Vec<Cow<'a, str>>,
    entries: Vec<EntryRow>,
}

impl CostIn<'_> {
    /// The ledger, its runs added to `table`; indexes out of range are refused (the
    /// summary's check then tests the rest against the groups and steps).
    pub fn into_ledger(self, table: &mut RunTable) -> Result<Ledger, String> {
        let mut l = Ledger::new(true);
        let mut runs = Vec::with_capacity(self.runs.len());
        for (i, (id, model)) in self.runs.iter().enumerate() {
            if i > 0 && self.runs[i - 1].0 >= *id {
                return Err(format!("cost.runs are not sorted and distinct at {id:?}"));
            }
            let r = table
                .row(id)
                .map_err(|_| format!("cost.runs: more than --max-runs {}", table.max()))?;
            if let Some(m) = model {
                table.set_model(r, m);
            }
            runs.push(r);
        }
        let names: Vec<u32> = self.names.iter().map(|n| l.name_code(n)).collect();
        for row in &self.entries {
            let at = |v: Option<u32>, list: &[u32], what: &str| match v {
                None => Ok(NONE),
                Some(i) => list
                    .get(i as usize)
                    .copied()
                    .ok_or_else(|| format!("a cost entry names {what} {i}, of {}", list.len())),
            };
            let entry = Entry {
                run: at(row.0, &runs, "run")?,
                assistant: at(row.1, &names, "assistant")?,
                group: row.2.unwrap_or(NONE),
                hour: row.3,
            };
            let tokens = Tokens {
                steps: row.4,
                prompt: row.5,
                cached: row.6,
                completion: row.7,
                reasoning: row.8,
            };
            let before = l.len();
            l.file(entry, &tokens).map_err(|o| o.to_string())?;
            if l.len() == before {
                return Err(format!("two cost entries for {entry:?}"));
            }
        }
        Ok(l)
    }
}
