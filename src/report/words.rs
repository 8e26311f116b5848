//! What the records of a report are called: run steps, responses, or records of both,
//! and threads or conversations. One report may hold either API or both, and no figure
//! may call a response a run step: every renderer takes its words from here.

use super::cells::{COST_MODEL_HEAD, EXEMPLAR_HEAD};
use super::{Report, Steps};

impl Steps {
    /// Run steps and responses counted.
    pub fn apis(&self) -> (u64, u64) {
        if self.by_api.is_empty() {
            return (self.total, 0);
        }
        let get = |k: &str| self.by_api.get(k).copied().unwrap_or(0);
        (get("assistants"), get("responses"))
    }

    /// What the records are called, plural: `steps`, `responses` or `records`.
    pub fn noun(&self) -> &'static str {
        match self.apis() {
            (_, 0) => "steps",
            (0, _) => "responses",
            _ => "records",
        }
    }

    /// The same, singular.
    pub fn noun1(&self) -> &'static str {
        match self.apis() {
            (_, 0) => "step",
            (0, _) => "response",
            _ => "record",
        }
    }

    /// The heading word, capitalised: `Steps`, `Responses` or `Records`.
    pub fn title(&self) -> &'static str {
        match self.noun() {
            "steps" => "Steps",
            "responses" => "Responses",
            _ => "Records",
        }
    }

    /// What the records are, spelt out when both APIs are there:
    /// `(7 run steps · 71 responses)`; empty otherwise.
    pub fn split(&self, num: impl Fn(u64) -> String) -> String {
        match self.apis() {
            (a, r) if a > 0 && r > 0 => format!("({} run steps · {} responses)", num(a), num(r)),
            _ => String::new(),
        }
    }
}

/// `text` with the words `step` and `steps` (and `Steps`) saying what the records are:
/// unchanged for run steps alone, `response(s)` for responses alone, `record(s)` for
/// both (see [`super::Steps::noun`]).
pub(super) fn say(r: &Report, text: &str) -> String {
    let s = &r.sections.steps;
    if s.noun() == "steps" {
        return text.to_string();
    }
    let mut out = String::with_capacity(text.len() + 8);
    let mut rest = text;
    while let Some(at) = rest.find(|c: char| c.is_ascii_alphabetic()) {
        out.push_str(&rest[..at]);
        rest = &rest[at..];
        let end = rest
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .unwrap_or(rest.len());
        let word = &rest[..end];
        out.push_str(match word {
            "step" => s.noun1(),
            "steps" => s.noun(),
            "Steps" => s.title(),
            _ => word,
        });
        rest = &rest[end..];
    }
    out.push_str(rest);
    out
}

/// What a thread is called: a conversation, for responses.
pub(super) fn thread_noun(r: &Report) -> (&'static str, &'static str) {
    match r.sections.steps.apis() {
        (_, 0) => ("thread", "threads"),
        (0, _) => ("conversation", "conversations"),
        _ => ("thread or conversation", "threads and conversations"),
    }
}

/// [`EXEMPLAR_HEAD`], its first word saying what the records are.
pub(super) fn exemplar_head(r: &Report) -> Vec<String> {
    EXEMPLAR_HEAD.iter().map(|h| say(r, h)).collect()
}

/// [`COST_MODEL_HEAD`], saying what the records are.
pub(super) fn cost_model_head(r: &Report) -> Vec<String> {
    COST_MODEL_HEAD.iter().map(|h| say(r, h)).collect()
}
