//! A step's model: its run's `thread.run` object's, else the assistant's `--model`, else
//! `--default-model`. [`ModelFlags`] is the rule for steps whose run named none, shared by
//! pricing and `--group-by model`; [`Models`] adds the run objects read before the steps.

use crate::agg::RunTable;
use std::collections::{BTreeMap, HashMap};

/// Where a step's model came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ModelFrom {
    /// Its run's `thread.run` object.
    Run = 0,
    /// `--model ASSISTANT=MODEL`.
    Flag = 1,
    /// `--default-model`.
    Default = 2,
}

impl ModelFrom {
    /// The name reports give it.
    pub fn key(self) -> &'static str {
        match self {
            ModelFrom::Run => "run",
            ModelFrom::Flag => "model_flag",
            ModelFrom::Default => "default_model",
        }
    }
}

/// The models of steps whose run object named none.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ModelFlags {
    /// `--model ASSISTANT=MODEL`.
    pub by_assistant: BTreeMap<String, String>,
    /// `--default-model`.
    pub default: Option<String>,
}

impl ModelFlags {
    /// The model of a step of `run_model`'s run (if its object named one) and
    /// `assistant`, and where it came from.
    pub fn of<'a>(
        &'a self,
        run_model: Option<&'a str>,
        assistant: Option<&str>,
    ) -> Option<(&'a str, ModelFrom)> {
        if let Some(m) = run_model {
            return Some((m, ModelFrom::Run));
        }
        if let Some(m) = assistant.and_then(|a| self.by_assistant.get(a)) {
            return Some((m, ModelFrom::Flag));
        }
        self.default.as_deref().map(|m| (m, ModelFrom::Default))
    }
}

/// Models by run, and the flags for the others.
#[derive(Debug, Clone, Default)]
pub struct Models {
    /// Run id → index into `names`.
    runs: HashMap<Box<str>, u32>,
    names: Vec<Box<str>>,
    flags: ModelFlags,
}

impl Models {
    /// The models the run objects in `table` name, with `flags` for the runs without one.
    pub fn new(table: &RunTable, flags: ModelFlags) -> Models {
        let mut names: Vec<Box<str>> = Vec::new();
        let mut code: HashMap<&str, u32> = HashMap::new();
        let mut runs = HashMap::new();
        for r in 0..table.len() as u32 {
            let Some(m) = table.model(r) else { continue };
            let c = *code.entry(m).or_insert_with(|| {
                names.push(m.into());
                names.len() as u32 - 1
            });
            runs.insert(table.id(r).into(), c);
        }
        Models { runs, names, flags }
    }

    /// The model of a step of `run` and `assistant`, if any rule gives one.
    pub fn of(&self, run: Option<&str>, assistant: Option<&str>) -> Option<&str> {
        let run_model = run
            .and_then(|r| self.runs.get(r))
            .map(|&c| &*self.names[c as usize]);
        self.flags.of(run_model, assistant).map(|(m, _)| m)
    }
}
