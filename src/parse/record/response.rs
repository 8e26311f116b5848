//! A Responses API `response` (a JSONL line, the `response` of a stream's terminal event,
//! or the `body` of a Batch API output line): one row, with `api` = responses.
//!
//! A response maps onto a run step's columns: its status, `created_at`, `completed_at`
//! (filed under its status's terminal time), `error.code` (or, for an incomplete
//! response, `incomplete_details.reason`) and usage (`input_tokens` as prompt,
//! `output_tokens` as completion, their cached and reasoning details). Its `output`
//! items that call a tool are its tool calls (a function by name, an MCP call as
//! `server.tool`); its `conversation` is its thread. Its run is its own id until the
//! chains of `previous_response_id` are resolved (see [`crate::agg::chains`]); its own
//! `model` and `service_tier` are columns a run step leaves empty.

use super::super::malformed::Malformed;
use super::super::value::{
    detail_tokens, members, object_or_null, required_string, span, string_or_null, timestamp,
    tokens, Required, CREATED_AT, TIMESTAMP,
};
use super::super::LineKind;
use super::step::read_metadata;
use super::Kind;
use crate::batch::{Api, Batch, MetaValue, Row, TimesRow, ToolKind, UsageRow, MAX_METADATA};
use simd_json::{Node, StaticNode};

/// A response.
pub(super) struct Response;

impl Kind for Response {
    fn read(tape: &[Node<'_>], batch: &mut Batch) -> Result<LineKind, Malformed> {
        read_at(tape, 0, batch, false)
    }
}

/// The fields of one response, borrowed from the tape.
#[derive(Default)]
struct Fields<'a> {
    object: Option<&'a str>,
    id: Required<&'a str>,
    created_at: Required<i64>,
    status: Required<&'a str>,
    completed_at: Option<i64>,
    model: Option<&'a str>,
    service_tier: Option<&'a str>,
    error_code: Option<&'a str>,
    error_message: Option<&'a str>,
    reason: Option<&'a str>,
    usage: Option<UsageRow>,
    previous: Option<&'a str>,
    prompt: Option<&'a str>,
    conversation: Option<&'a str>,
    pending: bool,
    reasoning_items: u32,
    metadata: Option<[MetaValue<'a>; MAX_METADATA]>,
}

/// Reads the response object at `tape[at]` into one row of `batch`; `from_batch` when
/// it is the body of a Batch API output line.
pub(super) fn read_at(
    tape: &[Node<'_>],
    at: usize,
    batch: &mut Batch,
    from_batch: bool,
) -> Result<LineKind, Malformed> {
    if !matches!(tape[at], Node::Object { .. }) {
        return Err(Malformed::not_an_object());
    }
    let mut f = Fields::default();
    for (key, v) in members(tape, at) {
        let node = &tape[v];
        match key {
            "object" => f.object = Some(required_string(node, "object")?.unwrap_or("")),
            "id" => f.id = Required::from_option(required_string(node, "id")?),
            "created_at" => {
                f.created_at = Required::from_option(timestamp(node, "created_at", CREATED_AT)?)
            }
            "status" => f.status = Required::from_option(required_string(node, "status")?),
            "completed_at" => f.completed_at = timestamp(node, "completed_at", TIMESTAMP)?,
            "model" => f.model = string_or_null(node, "model")?,
            "service_tier" => f.service_tier = string_or_null(node, "service_tier")?,
            "previous_response_id" => f.previous = string_or_null(node, "previous_response_id")?,
            "prompt" => {
                f.prompt = None;
                if object_or_null(node, "prompt")? {
                    for (k, v) in members(tape, v) {
                        if k == "id" {
                            f.prompt = string_or_null(&tape[v], "prompt.id")?;
                        }
                    }
                }
            }
            "conversation" => {
                f.conversation = match *node {
                    Node::String(s) => Some(s),
                    Node::Static(StaticNode::Null) => None,
                    Node::Object { .. } => {
                        let mut id = None;
                        for (k, v) in members(tape, v) {
                            if k == "id" {
                                id = string_or_null(&tape[v], "conversation.id")?;
                            }
                        }
                        id
                    }
                    _ => {
                        return Err(Malformed::wrong_type(
                            "conversation",
                            "a string, an object or null",
                        ))
                    }
                }
            }
            "error" => {
                (f.error_code, f.error_message) = (None, None);
                if object_or_null(node, "error")? {
                    for (k, v) in members(tape, v) {
                        match k {
                            "code" => f.error_code = string_or_null(&tape[v], "error.code")?,
                            "message" => {
                                f.error_message = string_or_null(&tape[v], "error.message")?
                            }
                            _ => {}
                        }
                    }
                }
            }
            "incomplete_details" => {
                f.reason = None;
                if object_or_null(node, "incomplete_details")? {
                    for (k, v) in members(tape, v) {
                        if k == "reason" {
                            f.reason = string_or_null(&tape[v], "incomplete_details.reason")?;
                        }
                    }
                }
            }
            "usage" => f.usage = read_usage(tape, v)?,
            "output" => {
                batch.rollback_tools();
                (f.pending, f.reasoning_items) = read_output(tape, v, batch)?;
            }
            "metadata" if !batch.keep.metadata.is_empty() => {
                f.metadata = Some(read_metadata(tape, v, &batch.keep.metadata))
            }
            _ => {}
        }
    }
    if let Some(other) = f.object.filter(|&o| o != "response") {
        return Err(Malformed::not_a_run_step(other));
    }
    let id = f.id.get("id", "a string")?;
    let created_at = f.created_at.get("created_at", CREATED_AT)?;
    let status = f.status.get("status", "a string")?;
    // `completed_at` is when the response ended, whatever its status.
    let end = f.completed_at;
    let times = match status {
        "failed" => TimesRow {
            failed_at: end,
            ..TimesRow::default()
        },
        "cancelled" => TimesRow {
            cancelled_at: end,
            ..TimesRow::default()
        },
        _ => TimesRow {
            completed_at: end,
            ..TimesRow::default()
        },
    };
    let error_code = if status == "incomplete" {
        f.reason.or(f.error_code)
    } else {
        f.error_code
    };
    batch.push(&Row {
        id,
        status,
        step_type: Some("response"),
        assistant: None,
        error_code,
        error_message: f.error_message,
        created_at,
        times,
        usage: f.usage,
        run: Some(id),
        thread: f.conversation,
        metadata: f.metadata.as_ref().map_or(&[], |m| &m[..]),
        api: Api::Responses,
        model: f.model,
        service_tier: f.service_tier,
        previous: f.previous,
        prompt: f.prompt,
        pending: f.pending,
        reasoning_items: f.reasoning_items,
    });
    // Its run row takes its model from the row (see `RunTable::rows`): a response
    // prices its own tokens, as a run object prices its steps'.
    if from_batch {
        batch.mark_batch();
    }
    Ok(LineKind::Record)
}

fn read_usage(tape: &[Node<'_>], at: usize) -> Result<Option<UsageRow>, Malformed> {
    if !object_or_null(&tape[at], "usage")? {
        return Ok(None);
    }
    let mut u = UsageRow::default();
    for (k, v) in members(tape, at) {
        match k {
            "input_tokens" => u.prompt = tokens(&tape[v], "usage.input_tokens")?,
            "output_tokens" => u.completion = tokens(&tape[v], "usage.output_tokens")?,
            "total_tokens" => u.total = tokens(&tape[v], "usage.total_tokens")?,
            "input_tokens_details" => {
                u.cached = detail_tokens(
                    tape,
                    v,
                    "cached_tokens",
                    "usage.input_tokens_details",
                    "usage.input_tokens_details.cached_tokens",
                )?
            }
            "output_tokens_details" => {
                u.reasoning = detail_tokens(
                    tape,
                    v,
                    "reasoning_tokens",
                    "usage.output_tokens_details",
                    "usage.output_tokens_details.reasoning_tokens",
                )?
            }
            _ => {}
        }
    }
    Ok(Some(u))
}

/// Pushes the tool calls among the `output` items at `tape[at]`; whether an item asks
/// for the next response (a call the caller carries out: a function, custom tool,
/// computer, shell or patch call; an MCP approval request), so that the response that
/// answers it continues the run; and how many items are reasoning.
fn read_output(tape: &[Node<'_>], at: usize, batch: &mut Batch) -> Result<(bool, u32), Malformed> {
    let len = match tape[at] {
        Node::Array { len, .. } => len,
        Node::Static(StaticNode::Null) => return Ok((false, 0)),
        _ => return Err(Malformed::wrong_type("output", "an array or null")),
    };
    let (mut pending, mut reasoning) = (false, 0u32);
    let mut i = at + 1;
    for _ in 0..len {
        if !matches!(tape[i], Node::Object { .. }) {
            return Err(Malformed::wrong_type("output[]", "an object"));
        }
        let (mut kind, mut name, mut server) = (None, None, None);
        for (k, v) in members(tape, i) {
            match k {
                "type" => kind = string_or_null(&tape[v], "output[].type")?,
                "name" => name = string_or_null(&tape[v], "output[].name")?,
                "server_label" => server = string_or_null(&tape[v], "output[].server_label")?,
                _ => {}
            }
        }
        let item = kind.unwrap_or("");
        reasoning += u32::from(item == "reasoning");
        // The calls the caller carries out and answers in the next response; hosted
        // tools (web and file search, code interpreter, MCP calls) ran on the server.
        pending |= matches!(
            item,
            "function_call"
                | "custom_tool_call"
                | "computer_call"
                | "local_shell_call"
                | "shell_call"
                | "apply_patch_call"
                | "mcp_approval_request"
        );
        match ToolKind::from_item(item) {
            Some(ToolKind::Function) => batch.push_tool(ToolKind::Function, name),
            Some(ToolKind::Mcp) => match (server, name) {
                // An MCP call is named by its server and tool. Rare enough that the
                // joined name is built here, once per call.
                (Some(s), Some(n)) => batch.push_tool(ToolKind::Mcp, Some(&format!("{s}.{n}"))),
                (_, n) => batch.push_tool(ToolKind::Mcp, n),
            },
            Some(k) => batch.push_tool(k, None),
            None => {}
        }
        i += span(&tape[i]);
    }
    Ok((pending, reasoning))
}
