//! Version 3 of the state file: version 2 ([`super::v2`]) with runs, threads and
//! exemplars, and two more settings (`runs`, `exemplars`). The summary gains:
//!
//! ```text
//! "runs": { "without_run": N, "without_thread": N,
//!           "threads": [ [THREAD_ID, STEPS] ],                       sorted by id
//!           "runs": [ [RUN_ID, THREAD_ID|null, ASSISTANT_ID|null, STEPS,
//!                      FIRST_CREATED_AT, LATEST_TERMINAL|null, TOOL_CALLS, TOKENS,
//!                      LAST_CREATED_AT, LAST_TERMINAL|null, LAST_STATUS, LAST_ID,
//!                      FILE, CHUNK, LINE] ] }                          sorted by id
//! "exemplars": { "n": N, "slowest_steps": [STEP], "recent_failures": [STEP] }
//! ```
//!
//! A run's last step is the one that decides its outcome; `FILE, CHUNK, LINE` say where it
//! is (input index, chunk index, line within the chunk: `lines.files[FILE].chunk_lines`
//! turns them into a line number). A `STEP` is an object with `value`, `id`, `run_id`,
//! `thread_id`, `assistant_id`, `status`, `type`, `created_at`, `code`, `message`, `file`,
//! `chunk`, `line`. A run takes about 220 bytes of the file (with its share of the threads).

use crate::agg::exemplars::{Exemplars, Step, Top};
use crate::agg::runs::{RunParts, Runs};
use crate::agg::RunTable;
use crate::batch::{Place, StepFields};
use serde::{Deserialize, Serialize};
use std::borrow::Cow;

/// The runs of a summary, as a state file writes them.
pub(super) struct RunsOut<'a>(pub &'a Runs, pub &'a RunTable);

/// One run, as a list (see the module's layout).
type RunRow<'a> = (
    Cow<'a, str>,
    Option<Cow<'a, str>>,
    Option<Cow<'a, str>>,
    u64,
    i64,
    Option<i64>,
    u64,
    u64,
    i64,
    Option<i64>,
    Cow<'a, str>,
    Cow<'a, str>,
    u32,
    u64,
    u32,
);

impl Serialize for RunsOut<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let (runs, table) = (self.0, self.1);
        let mut threads: Vec<(&str, u64)> = runs.threads().collect();
        threads.sort_unstable();
        let mut order: Vec<usize> = runs.rows().collect();
        order.sort_unstable_by_key(|&r| table.id_bytes(r as u32));
        let rows = Rows(order.iter().map(|&r| {
            let (id, run) = runs.run(table, r);
            let l = &run.last;
            (
                Cow::Borrowed(id),
                runs.thread_id(run.thread).map(Cow::Borrowed),
                runs.name(run.assistant).map(Cow::Borrowed),
                run.steps,
                run.first,
                run.end(),
                run.tool_calls,
                run.tokens,
                l.created,
                run.last_terminal(),
                Cow::Borrowed(runs.name(l.status).unwrap_or_default()),
                Cow::Borrowed(runs.last_id(r)),
                l.place.file,
                l.place.chunk,
                l.place.line,
            )
        }));
        let mut st = s.serialize_struct("runs", 4)?;
        st.serialize_field("without_run", &runs.without_run)?;
        st.serialize_field("without_thread", &runs.without_thread)?;
        st.serialize_field("threads", &threads)?;
        st.serialize_field("runs", &rows)?;
        st.end()
    }
}

/// A sequence written from an iterator, one element at a time.
struct Rows<I>(I);

impl<'a, I: Iterator<Item = RunRow<'a>> + Clone> Serialize for Rows<I> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.0.clone())
    }
}

/// The runs as read, before they are checked into a table.
#[derive(Deserialize)]
pub(super) struct RunsIn<'a> {
    without_run: u64,
    without_thread: u64,
    #[serde(borrow)]
    threads: Vec<(Cow<'a, str>, u64)>,
    #[serde(borrow)]
    runs: &'a serde_json::value::RawValue,
}

impl RunsIn<'_> {
    /// The runs table, as rows of `table`, at most as many threads as `table` may hold
    /// runs, read one run at a time.
    pub fn into_runs(self, table: &mut RunTable) -> Result<Runs, String> {
        let mut runs = Runs::new(true, table.max());
        runs.without_run = self.without_run;
        runs.without_thread = self.without_thread;
        for (id, steps) in &self.threads {
            runs.push_thread(id, *steps)?;
        }
        let mut failed = None;
        each::<RunRow<'_>>(self.runs.get(), |row| {
            let r = RunParts {
                thread: row.1.as_deref(),
                assistant: row.2.as_deref(),
                steps: row.3,
                first: row.4,
                end: row.5,
                tool_calls: row.6,
                tokens: row.7,
                last_created: row.8,
                last_terminal: row.9,
                status: &row.10,
                last_id: &row.11,
                place: Place {
                    file: row.12,
                    chunk: row.13,
                    line: row.14,
                },
            };
            runs.push_run(table, &row.0, r)
                .map_err(|e| failed = Some(e))
        })
        .map_err(|e| failed.take().unwrap_or(e))?;
        Ok(runs)
    }
}

/// Calls `f` on each element of the JSON array `text`, deserialised one at a time.
fn each<'de, T: Deserialize<'de>>(
    text: &'de str,
    mut f: impl FnMut(T) -> Result<(), ()>,
) -> Result<(), String> {
    use serde::de::{Error as _, SeqAccess, Visitor};
    struct List<'f, T, F>(&'f mut F, std::marker::PhantomData<T>);
    impl<'de, T: Deserialize<'de>, F: FnMut(T) -> Result<(), ()>> Visitor<'de> for List<'_, T, F> {
        type Value = ();
        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("a list")
        }
        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
            while let Some(x) = seq.next_element::<T>()? {
                (self.0)(x).map_err(|()| A::Error::custom("stopped"))?;
            }
            Ok(())
        }
    }
    let mut de = serde_json::Deserializer::from_str(text);
    serde::Deserializer::deserialize_seq(&mut de, List(&mut f, std::marker::PhantomData))
        .map_err(|e| format!("runs: {e}"))
}

/// The exemplar steps, as a state writes and reads them.
#[derive(Serialize, Deserialize)]
pub(super) struct ExemplarsV3 {
    n: usize,
    slowest_steps: Vec<StepV3>,
    recent_failures: Vec<StepV3>,
}

#[derive(Serialize, Deserialize)]
struct StepV3 {
    value: i64,
    id: String,
    run_id: Option<String>,
    thread_id: Option<String>,
    assistant_id: Option<String>,
    status: String,
    #[serde(rename = "type")]
    step_type: Option<String>,
    created_at: i64,
    code: Option<String>,
    message: Option<String>,
    file: u32,
    chunk: u64,
    line: u32,
}

impl StepV3 {
    fn of(s: &Step) -> StepV3 {
        let f = &s.step;
        StepV3 {
            value: s.value,
            id: f.id.clone(),
            run_id: f.run_id.clone(),
            thread_id: f.thread_id.clone(),
            assistant_id: f.assistant_id.clone(),
            status: f.status.clone(),
            step_type: f.step_type.clone(),
            created_at: f.created_at,
            code: s.code.clone(),
            message: s.message.clone(),
            file: s.place.file,
            chunk: s.place.chunk,
            line: s.place.line,
        }
    }

    fn into_step(self) -> Step {
        Step {
            value: self.value,
            step: StepFields {
                id: self.id,
                run_id: self.run_id,
                thread_id: self.thread_id,
                assistant_id: self.assistant_id,
                status: self.status,
                step_type: self.step_type,
                created_at: self.created_at,
            },
            code: self.code,
            message: self.message,
            place: Place {
                file: self.file,
                chunk: self.chunk,
                line: self.line,
            },
        }
    }
}

impl ExemplarsV3 {
    pub fn of(e: &Exemplars) -> ExemplarsV3 {
        ExemplarsV3 {
            n: e.n,
            slowest_steps: e.slowest.steps.iter().map(StepV3::of).collect(),
            recent_failures: e.failures.steps.iter().map(StepV3::of).collect(),
        }
    }

    pub fn into_exemplars(self) -> Exemplars {
        let top = |v: Vec<StepV3>| Top {
            steps: v.into_iter().map(StepV3::into_step).collect(),
        };
        Exemplars {
            n: self.n,
            slowest: top(self.slowest_steps),
            failures: top(self.recent_failures),
        }
    }
}
