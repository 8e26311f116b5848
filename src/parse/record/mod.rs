//! What a parsed line holds, by its `object`: one kind of record per file, each behind
//! [`Kind`], each filling the batch's columns.
//!
//! - [`step::Step`]: a run step (`thread.run.step`, or a line without `object`): a row;
//! - [`run::Run`]: a run (`thread.run`): its id and model, for the cost of its steps;
//! - [`response::Response`]: a Responses API `response`: a row, its `api` responses;
//! - a `thread.run.step.delta` is recognised and counted, never read;
//! - a Responses stream event (`type` `response.*`, no `object`): its terminal event
//!   (`response.completed`, `.failed`, `.incomplete`, `.cancelled`) is read for the
//!   response it carries, the others are stream framing;
//! - a Batch API output line (`custom_id`): see [`batch_line`].
//!
//! Any other `object` is not a record steplog reads, and the line says so.

mod batch_line;
mod response;
mod run;
mod step;

use super::malformed::{Malformed, Reason};
use super::value::members;
use super::LineKind;
use crate::batch::Batch;
use simd_json::Node;

/// One kind of record: how a line of it is read into a batch.
pub(super) trait Kind {
    /// Reads the line whose tape is `tape` (an object) into `batch`. On `Err`, nothing
    /// of the line stays in the batch but tool calls, which the caller rolls back.
    fn read(tape: &[Node<'_>], batch: &mut Batch) -> Result<LineKind, Malformed>;
}

/// Reads one parsed line into `batch`, by its kind.
pub(super) fn walk(tape: &[Node<'_>], batch: &mut Batch) -> Result<LineKind, Malformed> {
    if !matches!(tape.first(), Some(Node::Object { .. })) {
        return Err(Malformed::not_an_object());
    }
    // Nearly every line of an archive is a run step: it is read as one first, in one
    // pass over its fields. A line that is not one fails that reading, and its `object`
    // (the last one, as for every repeated key) then says what it is. A line whose first
    // members already name another object (a response: `id`, then `object`) goes to its
    // kind at once, not through a failed step reading.
    let early = members(tape, 0)
        .take(2)
        .find(|&(k, _)| k == "object")
        .and_then(|(_, v)| match tape[v] {
            Node::String(s) if s != "thread.run.step" => Some(s),
            _ => None,
        });
    let result = match early {
        // Read as a response at once; only if its last `object` names another kind is
        // the line looked at again.
        Some("response") => match response::Response::read(tape, batch) {
            Err(m) if m.reason == Reason::NotARunStep => by_kind(tape, batch, None),
            read => read,
        },
        Some(_) => by_kind(tape, batch, None),
        None => match step::Step::read(tape, batch) {
            Err(m) => by_kind(tape, batch, Some(m)),
            read => read,
        },
    };
    // Tool calls are pushed while the line is read; only a record keeps them.
    if !matches!(result, Ok(LineKind::Record)) {
        batch.rollback_tools();
    }
    result
}

/// Reads a line that is not a run step by its `object`, or by the other marks of the
/// lines steplog reads (a stream event's `type`, a batch line's `custom_id`); else the
/// line is read as a run step after all: `step` is that reading's result if it was
/// already tried.
fn by_kind(
    tape: &[Node<'_>],
    batch: &mut Batch,
    step: Option<Malformed>,
) -> Result<LineKind, Malformed> {
    batch.rollback_tools();
    let not_step = |batch: &mut Batch| match step {
        Some(m) => Err(m),
        None => step::Step::read(tape, batch),
    };
    match object(tape) {
        Some("thread.run.step.delta") => Ok(LineKind::Delta),
        Some("thread.run") => run::Run::read(tape, batch),
        Some("response") => response::Response::read(tape, batch),
        Some("thread.run.step") => not_step(batch),
        Some(other) => Err(Malformed::not_a_run_step(other)),
        None => {
            if let Some(event) = member_str(tape, 0, "type").filter(|t| t.starts_with("response."))
            {
                return stream_event(tape, event, batch);
            }
            if members(tape, 0).any(|(k, _)| k == "custom_id") {
                return batch_line::read(tape, batch);
            }
            not_step(batch)
        }
    }
}

/// A Responses stream event: the terminal one is read for its response.
fn stream_event(tape: &[Node<'_>], event: &str, batch: &mut Batch) -> Result<LineKind, Malformed> {
    match event {
        "response.completed" | "response.failed" | "response.incomplete" | "response.cancelled" => {
            match members(tape, 0).filter(|&(k, _)| k == "response").last() {
                Some((_, v)) => response::read_at(tape, v, batch, false),
                None => Err(Malformed::missing("response")),
            }
        }
        _ => Ok(LineKind::Framing),
    }
}

/// The string value of member `key` (its last) of the object at `tape[at]`.
fn member_str<'a>(tape: &[Node<'a>], at: usize, key: &str) -> Option<&'a str> {
    let (_, v) = members(tape, at).filter(|&(k, _)| k == key).last()?;
    match tape[v] {
        Node::String(s) => Some(s),
        _ => None,
    }
}

/// The line's `object`: its last one, if a string.
fn object<'a>(tape: &[Node<'a>]) -> Option<&'a str> {
    member_str(tape, 0, "object")
}

#[cfg(test)]
mod tests;
