//! A run (`thread.run`, from a list-runs export or a run event's payload): its id and
//! model, appended to the batch's run objects. A run step names no model; its run does.

use super::super::malformed::Malformed;
use super::super::value::{members, required_string, string_or_null, Required};
use super::super::LineKind;
use super::Kind;
use crate::batch::Batch;
use simd_json::Node;

/// A run.
pub(super) struct Run;

impl Kind for Run {
    fn read(tape: &[Node<'_>], batch: &mut Batch) -> Result<LineKind, Malformed> {
        let mut id = Required::Absent;
        let mut model = None;
        for (key, v) in members(tape, 0) {
            match key {
                "id" => id = Required::from_option(required_string(&tape[v], "id")?),
                "model" => model = string_or_null(&tape[v], "model")?,
                _ => {}
            }
        }
        batch.push_run(id.get("id", "a string")?, model);
        Ok(LineKind::Run)
    }
}
