//! A Batch API output line: `{"id", "custom_id", "response": {"status_code",
//! "request_id", "body"}, "error"}`. A body that is a `response` is read as one.
//!
//! A failed request (an error body, or `"response": null` beside an `error`) is a failed
//! response with its error code, named by the line's `id` (else its `custom_id`). It has
//! no `created_at`: its row is undated ([`crate::batch::UNDATED`]), which the time
//! figures skip and count.

use super::super::malformed::Malformed;
use super::super::value::{members, object_or_null, string_or_null};
use super::super::LineKind;
use super::response;
use crate::batch::{Api, Batch, Row, UNDATED};
use simd_json::Node;

/// Reads a batch output line.
pub(super) fn read(tape: &[Node<'_>], batch: &mut Batch) -> Result<LineKind, Malformed> {
    let (mut body, mut error_code, mut line_error) = (None, None, None);
    let (mut id, mut custom_id) = (None, None);
    for (k, v) in members(tape, 0) {
        match k {
            "response" => {
                body = None;
                if object_or_null(&tape[v], "response")? {
                    for (k2, v2) in members(tape, v) {
                        if k2 == "body" {
                            body = Some(v2);
                        }
                    }
                }
            }
            "id" => id = string_or_null(&tape[v], "id")?,
            "custom_id" => custom_id = string_or_null(&tape[v], "custom_id")?,
            "error" => {
                line_error = None;
                if object_or_null(&tape[v], "error")? {
                    line_error = Some(error_code_of(tape, v, "error.code")?.unwrap_or(""));
                }
            }
            _ => {}
        }
    }
    if let Some(b) = body {
        if matches!(tape[b], Node::Object { .. }) {
            let object = members(tape, b)
                .filter(|&(k, _)| k == "object")
                .last()
                .and_then(|(_, v)| match tape[v] {
                    Node::String(s) => Some(s),
                    _ => None,
                });
            if object == Some("response") {
                return response::read_at(tape, b, batch, true);
            }
            // An error body: `{"error": {"code", …}}`.
            for (k, v) in members(tape, b) {
                if k == "error" && object_or_null(&tape[v], "response.body.error")? {
                    error_code =
                        Some(error_code_of(tape, v, "response.body.error.code")?.unwrap_or(""));
                }
            }
        }
    }
    let Some(code) = error_code.or(line_error) else {
        return Err(Malformed::missing("response.body"));
    };
    let Some(name) = id.or(custom_id) else {
        return Err(Malformed::missing("id"));
    };
    batch.push(&Row {
        id: name,
        status: "failed",
        step_type: Some("response"),
        error_code: code_or_none(code),
        created_at: UNDATED,
        api: Api::Responses,
        ..Row::default()
    });
    batch.mark_batch();
    Ok(LineKind::Record)
}

fn error_code_of<'a>(
    tape: &[Node<'a>],
    at: usize,
    field: &'static str,
) -> Result<Option<&'a str>, Malformed> {
    let mut code = None;
    for (k, v) in members(tape, at) {
        if k == "code" {
            code = string_or_null(&tape[v], field)?;
        }
    }
    Ok(code)
}

fn code_or_none(code: &str) -> Option<&str> {
    (!code.is_empty()).then_some(code)
}
