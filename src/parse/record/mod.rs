//! What a parsed line holds, by its `object`: one kind of record per file, each behind
//! [`Kind`], each filling the batch's columns.
//!
//! - [`step::Step`]: a run step (`thread.run.step`, or a line without `object`): a row;
//! - [`run::Run`]: a run (`thread.run`): its id and model, for the cost of its steps;
//! - a `thread.run.step.delta` is recognised and counted, never read.
//!
//! Any other `object` is not a record steplog reads, and the line says so.

mod run;
mod step;

use super::malformed::Malformed;
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
    // The last `object` decides, as for every repeated key. A value that is not a string
    // is the run-step reader's to report, in the order of the line's fields.
    let object = members(tape, 0)
        .filter(|&(k, _)| k == "object")
        .last()
        .map(|(_, v)| match tape[v] {
            Node::String(s) => Some(s),
            _ => None,
        });
    let result = match object {
        Some(Some("thread.run.step.delta")) => Ok(LineKind::Delta),
        Some(Some("thread.run")) => run::Run::read(tape, batch),
        _ => step::Step::read(tape, batch),
    };
    // Tool calls are pushed while the line is read; only a record keeps them.
    if !matches!(result, Ok(LineKind::Record)) {
        batch.rollback_tools();
    }
    result
}

#[cfg(test)]
mod tests;
