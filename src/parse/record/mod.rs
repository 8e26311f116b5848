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
    // Nearly every line is a run step: it is read as one first, in one pass over its
    // fields. A line that is not one fails that reading, and its `object` (the last one,
    // as for every repeated key) then says what it is.
    let result = match step::Step::read(tape, batch) {
        Err(m) => match object(tape) {
            Some("thread.run.step.delta") => Ok(LineKind::Delta),
            Some("thread.run") => run::Run::read(tape, batch),
            _ => Err(m),
        },
        read => read,
    };
    // Tool calls are pushed while the line is read; only a record keeps them.
    if !matches!(result, Ok(LineKind::Record)) {
        batch.rollback_tools();
    }
    result
}

/// The line's `object`: its last one, if a string.
fn object<'a>(tape: &[Node<'a>]) -> Option<&'a str> {
    let (_, v) = members(tape, 0).filter(|&(k, _)| k == "object").last()?;
    match tape[v] {
        Node::String(s) => Some(s),
        _ => None,
    }
}

#[cfg(test)]
mod tests;
