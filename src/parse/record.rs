//! The tape walk: reads the fields of one run step from a simd-json tape into a batch row.
//!
//! Keys may come in any order and may repeat (the last one wins); unknown keys and
//! subtrees steplog does not read are skipped by their node count without being visited.
//! Escaped keys (`"st\u0061tus"`) are already unescaped on the tape, so they match.

use super::malformed::Malformed;
use super::value::{
    members, object_or_null, required_string, span, string_or_null, timestamp, tokens, Required,
    CREATED_AT, TIMESTAMP,
};
use super::LineKind;
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
    /// A run's `model`.
    model: Option<&'a str>,
    /// Only when the batch keeps metadata values.
    metadata: Option<[MetaValue<'a>; MAX_METADATA]>,
}

/// Reads one parsed line. Appends a row (and its tool calls) to `batch` for a record.
pub(super) fn walk<'a>(tape: &[Node<'a>], batch: &mut Batch) -> Result<LineKind, Malformed> {
    let result = read_line(tape, batch);
    // Tool calls are pushed while the line is read; only a record keeps them.
    if !matches!(result, Ok(LineKind::Record)) {
        batch.rollback_tools();
    }
    result
}

fn read_line<'a>(tape: &[Node<'a>], batch: &mut Batch) -> Result<LineKind, Malformed> {
    if !matches!(tape.first(), Some(Node::Object { .. })) {
        return Err(Malformed::not_an_object());
    }
    let mut f = Fields::default();
    read_fields(tape, batch, &mut f)?;
    match f.object {
        None | Some("thread.run.step") => {}
        Some("thread.run.step.delta") => return Ok(LineKind::Delta),
        Some("thread.run") => {
            let id = f.id.get("id", "a string")?;
            batch.push_run(id, f.model);
            return Ok(LineKind::Run);
        }
        Some(other) => return Err(Malformed::not_a_run_step(other)),
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
    });
    Ok(LineKind::Record)
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
            "model" => f.model = string_or_null(node, "model")?,
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
fn read_metadata<'a>(
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
                u.cached = None;
                if object_or_null(&tape[v], "usage.prompt_token_details")? {
                    for (k2, v2) in members(tape, v) {
                        if k2 == "cached_tokens" {
                            u.cached =
                                tokens(&tape[v2], "usage.prompt_token_details.cached_tokens")?;
                        }
                    }
                }
            }
            "completion_tokens_details" | "completion_token_details" => {
                u.reasoning = None;
                if object_or_null(&tape[v], "usage.completion_tokens_details")? {
                    for (k2, v2) in members(tape, v) {
                        if k2 == "reasoning_tokens" {
                            u.reasoning = tokens(
                                &tape[v2],
                                "usage.completion_tokens_details.reasoning_tokens",
                            )?;
                        }
                    }
                }
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::batch::{NULL, STATUS_EXPIRED};
    use crate::parse::{LineParser, Reason, PADDING};

    fn parse_into(
        batch: &mut Batch,
        line: &str,
    ) -> Result<LineKind, (Reason, Option<&'static str>, String)> {
        let mut buf = line.as_bytes().to_vec();
        buf.extend_from_slice(&[b' '; PADDING]);
        let mut parser = LineParser::new();
        parser
            .parse_line(&mut buf, line.len(), batch)
            .map_err(|m| (m.reason, m.field, parser.explain(&m, &buf[..line.len()])))
    }

    fn one(line: &str) -> Batch {
        let mut b = Batch::new();
        assert_eq!(parse_into(&mut b, line), Ok(LineKind::Record), "{line}");
        b
    }

    fn bad(line: &str) -> (Reason, Option<&'static str>) {
        let mut b = Batch::new();
        let r = parse_into(&mut b, line).map(|_| ()).unwrap_err();
        assert!(
            b.is_empty() && b.tool_kind.is_empty(),
            "malformed line left state: {line}"
        );
        (r.0, r.1)
    }

    #[test]
    fn run_objects_give_their_id_and_model() {
        let mut b = Batch::new();
        let run = r#"{"id":"run_1","object":"thread.run","created_at":1,"status":"completed","model":"gpt-4o","usage":{"prompt_tokens":3,"completion_tokens":1,"total_tokens":4},"tools":[{"type":"code_interpreter"}]}"#;
        assert_eq!(parse_into(&mut b, run), Ok(LineKind::Run));
        let unknown = r#"{"id":"run_2","object":"thread.run","model":null}"#;
        assert_eq!(parse_into(&mut b, unknown), Ok(LineKind::Run));
        assert_eq!(b.len(), 0, "a run is not a step");
        assert!(b.tool_kind.is_empty());
        assert_eq!(b.run_objects.get(0), Some("run_1"));
        assert_eq!(b.run_models.get(0), Some("gpt-4o"));
        assert_eq!(b.run_objects.get(1), Some("run_2"));
        assert_eq!(b.run_models.get(1), None);
    }

    #[test]
    fn tape_spans_skip_nested_values() {
        // Unknown deep subtrees before the fields we read must be skipped exactly.
        let b = one(
            r#"{"x":{"a":[1,{"b":[2,3]},{}],"c":{"d":{}}},"id":"s","y":[[],[[1]]],"created_at":7,"status":"completed","completed_at":8}"#,
        );
        assert_eq!(b.created_at, vec![7]);
        assert_eq!(b.terminal_at(0), Some(8));
    }

    #[test]
    fn token_counts_take_every_64_bit_value() {
        let b = one(
            r#"{"id":"s","created_at":1,"status":"completed","usage":{"prompt_tokens":18446744073709551615,"completion_tokens":9223372036854775808,"total_tokens":1e3}}"#,
        );
        assert_eq!(
            (
                b.prompt_tokens.get(0),
                b.completion_tokens.get(0),
                b.total_tokens.get(0)
            ),
            (Some(u64::MAX), Some(1 << 63), Some(1000))
        );
    }

    #[test]
    fn reads_every_field_in_any_order() {
        let b = one(&
            r#"{"usage":{"completion_tokens_details":{"reasoning_tokens":4},"total_tokens":30,"prompt_token_details":{"cached_tokens":5},"prompt_tokens":10,"completion_tokens":20},
               "step_details":{"tool_calls":[{"id":"c1","type":"function","function":{"arguments":"{}","name":"lookup","output":null}},{"type":"retrieval","retrieval":{}},{"type":"brand_new"}],"type":"tool_calls"},
               "last_error":{"message":"boom","code":"rate_limit_exceeded"},"status":"failed","failed_at":12,"created_at":10,"assistant_id":"asst_9","id":"step_1","object":"thread.run.step"}"#
                .replace('\n', ""),
        );
        assert_eq!(b.dicts.status.get(b.status[0]), "failed");
        assert_eq!(b.dicts.step_type.get(b.step_type[0]), "tool_calls");
        assert_eq!(b.dicts.assistant.get(b.assistant[0]), "asst_9");
        assert_eq!(
            b.dicts.error_code.get(b.error_code[0]),
            "rate_limit_exceeded"
        );
        assert_eq!(b.dicts.error_message.get(b.error_message[0]), "boom");
        assert_eq!(b.terminal_at(0), Some(12));
        assert_eq!(
            (
                b.prompt_tokens.get(0),
                b.completion_tokens.get(0),
                b.total_tokens.get(0)
            ),
            (Some(10), Some(20), Some(30))
        );
        assert_eq!(
            (b.cached_tokens.get(0), b.reasoning_tokens.get(0)),
            (Some(5), Some(4))
        );
        assert_eq!(
            b.tool_kind,
            vec![ToolKind::Function, ToolKind::Retrieval, ToolKind::Other]
        );
        assert_eq!(b.dicts.function.get(b.tool_function[0]), "lookup");
        assert_eq!(&b.tool_function[1..], &[NULL, NULL]);
    }

    #[test]
    fn step_type_falls_back_to_details_and_nulls_are_nulls() {
        let b = one(
            r#"{"id":"s","created_at":1,"status":"expired","type":null,"assistant_id":null,"last_error":null,"usage":null,"expires_at":9,"step_details":{"type":"message_creation","message_creation":{"message_id":"m"}}}"#,
        );
        assert_eq!(b.dicts.step_type.get(b.step_type[0]), "message_creation");
        assert_eq!((b.assistant[0], b.error_code[0]), (NULL, NULL));
        assert!(!b.has_usage.get(0));
        assert_eq!(b.status[0], STATUS_EXPIRED);
        assert_eq!(b.terminal_at(0), Some(9));
    }

    #[test]
    fn escapes_unicode_and_duplicate_keys() {
        let b = one(
            r#"{"id":"s","created_at":1,"st\u0061tus":"caf\u00e9 \ud83d\ude00","status":"completed","status":"w\"x"}"#,
        );
        assert_eq!(
            b.dicts.status.get(b.status[0]),
            "w\"x",
            "last duplicate wins"
        );
        let b = one(r#"{"id":"s","created_at":1,"status":"caf\u00e9 \ud83d\ude00"}"#);
        assert_eq!(b.dicts.status.get(b.status[0]), "café 😀");
    }

    #[test]
    fn the_last_of_repeated_required_keys_decides() {
        let b = one(
            r#"{"id":null,"id":"s","created_at":null,"created_at":3,"status":null,"status":"completed"}"#,
        );
        assert_eq!(
            (b.created_at[0], b.status[0]),
            (3, crate::batch::STATUS_COMPLETED)
        );
        assert_eq!(
            bad(r#"{"id":"s","id":null,"created_at":3,"status":"completed"}"#),
            (Reason::WrongType, Some("id"))
        );
    }

    #[test]
    fn integral_floats_are_integers() {
        let b = one(
            r#"{"id":"s","created_at":1.7e9,"status":"completed","completed_at":1700000001.0}"#,
        );
        assert_eq!(b.created_at[0], 1_700_000_000);
        assert_eq!(b.terminal_at(0), Some(1_700_000_001));
    }

    #[test]
    fn bad_fields_are_named() {
        use Reason::*;
        let base = r#""id":"s","created_at":1,"status":"completed""#;
        let cases: &[(&str, (Reason, Option<&str>))] = &[
            (
                r#"{"created_at":1,"status":"x"}"#,
                (MissingField, Some("id")),
            ),
            (
                r#"{"id":"s","status":"x"}"#,
                (MissingField, Some("created_at")),
            ),
            (
                r#"{"id":"s","created_at":1}"#,
                (MissingField, Some("status")),
            ),
            (
                r#"{"id":null,"created_at":1,"status":"x"}"#,
                (WrongType, Some("id")),
            ),
            (
                r#"{"id":"s","created_at":"1","status":"x"}"#,
                (WrongType, Some("created_at")),
            ),
            (
                r#"{"id":"s","created_at":1.5,"status":"x"}"#,
                (WrongType, Some("created_at")),
            ),
            (
                r#"{"id":"s","created_at":1e30,"status":"x"}"#,
                (OutOfRange, Some("created_at")),
            ),
            (
                r#"{"id":"s","created_at":-1,"status":"x"}"#,
                (OutOfRange, Some("created_at")),
            ),
            (
                r#"{"id":"s","created_at":1,"status":7}"#,
                (WrongType, Some("status")),
            ),
            (
                r#"{"object":"thread.message","id":"s","created_at":1,"status":"x"}"#,
                (NotARunStep, Some("object")),
            ),
            (
                r#"{"object":"thread.run","created_at":1,"model":"gpt-4o"}"#,
                (MissingField, Some("id")),
            ),
            (
                r#"{"object":"thread.run","id":"run_1","model":4}"#,
                (WrongType, Some("model")),
            ),
            (r#"{"object":3}"#, (WrongType, Some("object"))),
        ];
        for (line, want) in cases {
            assert_eq!(bad(line), *want, "{line}");
        }
        let with = |extra: &str| format!("{{{base},{extra}}}");
        let cases: &[(&str, (Reason, Option<&str>))] = &[
            (
                r#""usage":{"prompt_tokens":-3}"#,
                (OutOfRange, Some("usage.prompt_tokens")),
            ),
            (
                r#""usage":{"total_tokens":"9"}"#,
                (WrongType, Some("usage.total_tokens")),
            ),
            (r#""usage":[]"#, (WrongType, Some("usage"))),
            (r#""completed_at":true"#, (WrongType, Some("completed_at"))),
            (
                r#""last_error":{"code":5}"#,
                (WrongType, Some("last_error.code")),
            ),
            (
                r#""step_details":{"tool_calls":{}}"#,
                (WrongType, Some("step_details.tool_calls")),
            ),
            (
                r#""step_details":{"tool_calls":[{"type":"function"},1]}"#,
                (WrongType, Some("step_details.tool_calls[]")),
            ),
            (r#""type":1"#, (WrongType, Some("type"))),
            (
                r#""usage":{"prompt_tokens":18446744073709551616}"#,
                (OutOfRange, Some("usage.prompt_tokens")),
            ),
        ];
        for (extra, want) in cases {
            assert_eq!(bad(&with(extra)), *want, "{extra}");
        }
    }

    #[test]
    fn deltas_are_recognised_without_required_fields() {
        let mut b = Batch::new();
        let r = parse_into(
            &mut b,
            r#"{"id":"step_1","object":"thread.run.step.delta","delta":{"step_details":{"type":"tool_calls","tool_calls":[{"index":0,"type":"function"}]}}}"#,
        );
        assert_eq!(r, Ok(LineKind::Delta));
        assert!(b.is_empty() && b.tool_kind.is_empty());
    }

    #[test]
    fn messages_are_readable() {
        let mut b = Batch::new();
        let m = parse_into(&mut b, r#"{"id":"s","created_at":"x","status":"y"}"#)
            .unwrap_err()
            .2;
        assert!(m.contains("`created_at` has the wrong type"), "{m}");
        let m = parse_into(&mut b, r#"{"id":"s""#).unwrap_err().2;
        assert!(m.starts_with("invalid JSON"), "{m}");
    }

    #[test]
    fn invalid_json_is_explained_with_what_was_expected_where_and_what_was_found() {
        let mut b = Batch::new();
        let cases: &[(&str, &str)] = &[
            ("b", "expected a JSON value at byte 1, found `b`"),
            ("[", "the line ends inside a list after 1 byte (cut short?)"),
            (
                "{} x",
                "more after the end of the JSON value at byte 4, found `x`",
            ),
            (
                r#"{"id":"s""#,
                "the line ends inside an object after 9 bytes",
            ),
            (
                r#"{"id":"s",}"#,
                "expected an object key (a string in double quotes) at byte 11, found `}`",
            ),
            (r#"{"id" "s"}"#, "expected `:` at byte 7, found `\"`"),
            (r#"{"id":"s" "x":1}"#, "expected `,` or `}` at byte 11"),
            (r#"{"a":"\q"}"#, "invalid escape at byte 8, found `q`"),
            (r#"{"a":01}"#, "invalid number at byte 7, found `1`"),
            (
                r#"{"a":tru}"#,
                "expected `true`, `false` or `null` at byte 9",
            ),
            (
                r#"{"a":[1,]}"#,
                "expected a JSON value at byte 9, found `]`",
            ),
            (
                "{\"a\":\"\u{1}\"}",
                "a raw control character (0x01) inside a string at byte 7",
            ),
            // Escaped strings before the fault are rewritten in place by the parser; the
            // explanation is still about the line as read.
            (
                r#"{"a":"x\"y\"z", "b":"\n\/\u00e9"} x"#,
                "more after the end of the JSON value at byte 35, found `x`",
            ),
            (
                r#"{"a":"\"\"", "b":1 2}"#,
                "expected `,` or `}` at byte 20, found `2`",
            ),
            (
                r#"{"a":"\n", "b""#,
                "the line ends inside an object after 14 bytes",
            ),
            (
                "\u{1b}[2J",
                "expected a JSON value at byte 1, found `\\x1b`",
            ),
        ];
        for (line, want) in cases {
            let got = parse_into(&mut b, line).unwrap_err();
            assert_eq!(got.0, Reason::InvalidJson, "{line}");
            assert!(
                got.2.contains(want),
                "{line}: {} does not say {want}",
                got.2
            );
            assert!(
                !got.2.contains("Error") && !got.2.contains("character 0"),
                "{}",
                got.2
            );
        }
        // Invalid UTF-8 and depth are told too.
        let mut buf = b"{\"a\":\"\xff\"}".to_vec();
        let n = buf.len();
        buf.extend_from_slice(&[b' '; PADDING]);
        let mut p = LineParser::new();
        let m = p.parse_line(&mut buf, n, &mut b).unwrap_err();
        let text = p.explain(&m, &buf[..n]);
        assert!(text.contains("UTF-8") || text.contains("unicode"), "{text}");
        let deep = format!("{{\"a\":{}}}", "[".repeat(1100));
        let m = parse_into(&mut b, &deep).unwrap_err().2;
        assert!(m.contains("nested deeper than 1024 levels"), "{m}");
    }
}
