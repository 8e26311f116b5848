//! A run step (`thread.run.step`, or a line without `object`): its fields into one batch
//! row, its tool calls into the tool-call columns.
//!
//! Keys may come in any order and may repeat (the last one wins); unknown keys and
//! subtrees steplog does not read are skipped by their node count without being visited.
//! Escaped keys (`"st\u0061tus"`) are already unescaped on the tape, so they match.

use super::super::malformed::Malformed;
use super::super::value::{
    detail_tokens, members, object_or_null, required_string, span, string_or_null, timestamp,
    tokens, Required, CREATED_AT, TIMESTAMP,
};
use super::super::LineKind;
use super::Kind;
use crate::batch::{Batch, MetaValue, Row, TimesRow, ToolKind, UsageRow, MAX_METADATA};
use simd_json::{Node, StaticNode};

/// The fields of one line, borrowed from the tape.
#[derive(Default)]
struct Fields<'a> {
    object: Option<&'a str>,
    id: Required<&'a str>,
    created_at: Required<i64>,
    status: Required<&'a str>,
    step_type: Option<&'a str>,
    details_type: Option<&'a str>,
    assistant: Option<&'a str>,
    error_code: Option<&'a str>,
    error_message: Option<&'a str>,
    times: TimesRow,
    usage: Option<UsageRow>,
    run: Option<&'a str>,
    thread: Option<&'a str>,
    /// Only when the batch keeps metadata values.
    metadata: Option<[MetaValue<'a>; MAX_METADATA]>,
}

/// A run step.
pub(super) struct Step;

impl Kind for Step {
    fn read(tape: &[Node<'_>], batch: &mut Batch) -> Result<LineKind, Malformed> {
        let mut f = Fields::default();
        read_fields(tape, batch, &mut f)?;
        if let Some(other) = f.object.filter(|&o| o != "thread.run.step") {
            // A delta or a run is read by its own kind (see `mod.rs`); anything else (a
            // message, a thread) is not a record.
            return Err(Malformed::not_a_run_step(other));
        }
        let id = f.id.get("id", "a string")?;
        let created_at = f.created_at.get("created_at", CREATED_AT)?;
        let status = f.status.get("status", "a string")?;
        batch.push(&Row {
            id,
            status,
            step_type: f.step_type.or(f.details_type),
            assistant: f.assistant,
            error_code: f.error_code,
            error_message: f.error_message,
            created_at,
            times: f.times,
            usage: f.usage,
            run: f.run,
            thread: f.thread,
            metadata: f.metadata.as_ref().map_or(&[], |m| &m[..]),
            ..Row::default()
        });
        Ok(LineKind::Record)
    }
}

fn read_fields<'a>(
    tape: &[Node<'a>],
    batch: &mut Batch,
    f: &mut Fields<'a>,
) -> Result<(), Malformed> {
    for (key, v) in members(tape, 0) {
        let node = &tape[v];
        match key {
            "object" => {
                f.object = match *node {
                    Node::String(s) => Some(s),
                    _ => return Err(Malformed::wrong_type("object", "a string")),
                }
            }
            "id" => f.id = Required::from_option(required_string(node, "id")?),
            "created_at" => {
                f.created_at = Required::from_option(timestamp(node, "created_at", CREATED_AT)?)
            }
            "status" => f.status = Required::from_option(required_string(node, "status")?),
            "type" => f.step_type = string_or_null(node, "type")?,
            "assistant_id" => f.assistant = string_or_null(node, "assistant_id")?,
            "run_id" => f.run = string_or_null(node, "run_id")?,
            "thread_id" => f.thread = string_or_null(node, "thread_id")?,
            "metadata" if !batch.keep.metadata.is_empty() => {
                f.metadata = Some(read_metadata(tape, v, &batch.keep.metadata))
            }
            "completed_at" => f.times.completed_at = timestamp(node, "completed_at", TIMESTAMP)?,
            "failed_at" => f.times.failed_at = timestamp(node, "failed_at", TIMESTAMP)?,
            "cancelled_at" => f.times.cancelled_at = timestamp(node, "cancelled_at", TIMESTAMP)?,
            "expired_at" => f.times.expired_at = timestamp(node, "expired_at", TIMESTAMP)?,
            "expires_at" => f.times.expires_at = timestamp(node, "expires_at", TIMESTAMP)?,
            "last_error" => {
                f.error_code = None;
                f.error_message = None;
                if object_or_null(node, "last_error")? {
                    for (k, v) in members(tape, v) {
                        match k {
                            "code" => f.error_code = string_or_null(&tape[v], "last_error.code")?,
                            "message" => {
                                f.error_message = string_or_null(&tape[v], "last_error.message")?
                            }
                            _ => {}
                        }
                    }
                }
            }
            "usage" => f.usage = read_usage(tape, v)?,
            "step_details" => {
                batch.rollback_tools();
                f.details_type = None;
                if object_or_null(node, "step_details")? {
                    read_details(tape, v, batch, f)?;
                }
            }
            _ => {}
        }
    }
    Ok(())
}

/// The values of the `wanted` keys of the `metadata` object at `tape[at]`. Never an error:
/// a `metadata` that is not an object has none of the keys.
pub(super) fn read_metadata<'a>(
    tape: &[Node<'a>],
    at: usize,
    wanted: &[String],
) -> [MetaValue<'a>; MAX_METADATA] {
    let mut out = [MetaValue::Absent; MAX_METADATA];
    if !matches!(tape[at], Node::Object { .. }) {
        return out;
    }
    for (k, v) in members(tape, at) {
        let Some(slot) = wanted.iter().position(|w| w == k) else {
            continue;
        };
        if slot >= MAX_METADATA {
            continue;
        }
        out[slot] = match tape[v] {
            Node::String(s) => MetaValue::Str(s),
            Node::Static(StaticNode::Null) => MetaValue::Absent,
            Node::Static(StaticNode::Bool(b)) => MetaValue::Word(if b { "true" } else { "false" }),
            Node::Static(StaticNode::I64(n)) => MetaValue::Int(n),
            Node::Static(StaticNode::U64(n)) => MetaValue::UInt(n),
            Node::Static(StaticNode::F64(x)) => MetaValue::Float(x),
            Node::Object { .. } => MetaValue::Word("(object)"),
            Node::Array { .. } => MetaValue::Word("(array)"),
        };
    }
    out
}

fn read_usage(tape: &[Node<'_>], at: usize) -> Result<Option<UsageRow>, Malformed> {
    if !object_or_null(&tape[at], "usage")? {
        return Ok(None);
    }
    let mut u = UsageRow::default();
    for (k, v) in members(tape, at) {
        match k {
            "prompt_tokens" => u.prompt = tokens(&tape[v], "usage.prompt_tokens")?,
            "completion_tokens" => u.completion = tokens(&tape[v], "usage.completion_tokens")?,
            "total_tokens" => u.total = tokens(&tape[v], "usage.total_tokens")?,
            // Run steps spell it `prompt_token_details`; chat completions (and some
            // re-serialised exports) `prompt_tokens_details`. Both are read.
            "prompt_token_details" | "prompt_tokens_details" => {
                u.cached = detail_tokens(
                    tape,
                    v,
                    "cached_tokens",
                    "usage.prompt_token_details",
                    "usage.prompt_token_details.cached_tokens",
                )?
            }
            "completion_tokens_details" | "completion_token_details" => {
                u.reasoning = detail_tokens(
                    tape,
                    v,
                    "reasoning_tokens",
                    "usage.completion_tokens_details",
                    "usage.completion_tokens_details.reasoning_tokens",
                )?
            }
            _ => {}
        }
    }
    Ok(Some(u))
}

fn read_details<'a>(
    tape: &[Node<'a>],
    at: usize,
    batch: &mut Batch,
    f: &mut Fields<'a>,
) -> Result<(), Malformed> {
    for (k, v) in members(tape, at) {
        match k {
            "type" => f.details_type = string_or_null(&tape[v], "step_details.type")?,
            "tool_calls" => {
                batch.rollback_tools();
                let len = match tape[v] {
                    Node::Array { len, .. } => len,
                    Node::Static(StaticNode::Null) => 0,
                    _ => {
                        return Err(Malformed::wrong_type(
                            "step_details.tool_calls",
                            "an array or null",
                        ))
                    }
                };
                let mut i = v + 1;
                for _ in 0..len {
                    if !matches!(tape[i], Node::Object { .. }) {
                        return Err(Malformed::wrong_type(
                            "step_details.tool_calls[]",
                            "an object",
                        ));
                    }
                    read_tool_call(tape, i, batch)?;
                    i += span(&tape[i]);
                }
            }
            _ => {}
        }
    }
    Ok(())
}

fn read_tool_call(tape: &[Node<'_>], at: usize, batch: &mut Batch) -> Result<(), Malformed> {
    let mut kind = ToolKind::Other;
    let mut name = None;
    for (k, v) in members(tape, at) {
        match k {
            "type" => {
                kind = match string_or_null(&tape[v], "step_details.tool_calls[].type")? {
                    Some(t) => ToolKind::from_type(t),
                    None => ToolKind::Other,
                }
            }
            "function" => {
                name = None;
                if object_or_null(&tape[v], "step_details.tool_calls[].function")? {
                    for (k2, v2) in members(tape, v) {
                        if k2 == "name" {
                            name = string_or_null(
                                &tape[v2],
                                "step_details.tool_calls[].function.name",
                            )?;
                        }
                    }
                }
            }
            _ => {}
        }
    }
    let name = if kind == ToolKind::Function {
        name
    } else {
        None
    };
    batch.push_tool(kind, name);
    Ok(())
}
