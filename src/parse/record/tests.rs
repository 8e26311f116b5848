//! The tape walk's tests: what each kind of line gives, and each malformed field's reason.

use super::*;
use crate::batch::{Batch, ToolKind, NULL, STATUS_EXPIRED};
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
    let b =
        one(r#"{"id":"s","created_at":1.7e9,"status":"completed","completed_at":1700000001.0}"#);
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

#[test]
fn each_kind_reads_only_its_own_fields() {
    // A run is read for its id and model: fields a step would check are not its.
    let mut b = Batch::new();
    let run = r#"{"object":"thread.run","id":"run_1","status":7,"created_at":"x","model":"o3","step_details":{"tool_calls":[{"type":"function"}]}}"#;
    assert_eq!(parse_into(&mut b, run), Ok(LineKind::Run));
    assert!(b.tool_kind.is_empty() && b.is_empty());
    assert_eq!(b.run_models.get(0), Some("o3"));
    // A run's own fields are still checked.
    let (reason, field) = bad(r#"{"object":"thread.run","id":"run_1","model":5}"#);
    assert_eq!((reason, field), (Reason::WrongType, Some("model")));
    let (reason, field) = bad(r#"{"object":"thread.run","model":"o3"}"#);
    assert_eq!((reason, field), (Reason::MissingField, Some("id")));
    // A delta is recognised whatever it holds; the last `object` decides.
    let delta = r#"{"object":"thread.run.step","id":5,"object":"thread.run.step.delta"}"#;
    assert_eq!(parse_into(&mut b, delta), Ok(LineKind::Delta));
    // A step with another object, and an object that is not a string.
    assert_eq!(
        bad(r#"{"object":"thread.message","id":"m"}"#).0,
        Reason::NotARunStep
    );
    assert_eq!(
        bad(r#"{"id":"s","created_at":1,"status":"completed","object":[]}"#),
        (Reason::WrongType, Some("object"))
    );
}

#[test]
fn a_response_is_one_row_with_its_own_model_usage_and_calls() {
    let line = r#"{"id":"resp_1","object":"response","created_at":100,"status":"incomplete","completed_at":130,"model":"gpt-5","service_tier":"flex","previous_response_id":"resp_0","conversation":{"id":"conv_1"},"prompt":{"id":"pmpt_1","version":"2"},"error":null,"incomplete_details":{"reason":"max_output_tokens"},"usage":{"input_tokens":10,"input_tokens_details":{"cached_tokens":4},"output_tokens":7,"output_tokens_details":{"reasoning_tokens":5},"total_tokens":17},"output":[{"type":"reasoning","id":"rs"},{"type":"function_call","name":"get_weather","call_id":"c"},{"type":"mcp_call","server_label":"deepwiki","name":"ask"},{"type":"web_search_call"},{"type":"message"}],"tools":[{"type":"function","name":"x"}]}"#;
    // Read keeping ids, runs and threads, as a summary does.
    let b = crate::agg::testutil::batch(&[line]);
    assert_eq!(b.len(), 1);
    let d = &b.dicts;
    assert_eq!(b.api[0], crate::batch::Api::Responses);
    assert_eq!(d.status.get(b.status[0]), "incomplete");
    // An incomplete response's reason stands for its error code.
    assert_eq!(d.error_code.get(b.error_code[0]), "max_output_tokens");
    assert_eq!(d.model.get(b.model[0]), "gpt-5");
    assert_eq!(d.service_tier.get(b.service_tier[0]), "flex");
    assert_eq!(d.prompt.get(b.prompt[0]), "pmpt_1");
    assert_eq!(b.thread_id.get(0), Some("conv_1"));
    assert_eq!(b.previous.get(0), Some("resp_0"));
    // Its run is its own id until chains are resolved; its run row takes its model
    // from the row (no run object is needed).
    assert_eq!(b.run_id.get(0), Some("resp_1"));
    assert!(b.run_objects.is_empty());
    assert_eq!(b.duration(0), Some(30));
    assert_eq!(b.prompt_tokens.get(0), Some(10));
    assert_eq!(b.cached_tokens.get(0), Some(4));
    assert_eq!(b.completion_tokens.get(0), Some(7));
    assert_eq!(b.reasoning_tokens.get(0), Some(5));
    // Tool calls: the function by name, MCP as server.tool, web search; reasoning and
    // messages are not calls. A function call asks for the next response.
    let kinds: Vec<ToolKind> = b.tools(0).map(|t| b.tool_kind[t]).collect();
    assert_eq!(
        kinds,
        [ToolKind::Function, ToolKind::Mcp, ToolKind::WebSearch]
    );
    assert_eq!(d.function.get(b.tool_function[0]), "get_weather");
    assert_eq!(d.function.get(b.tool_function[1]), "deepwiki.ask");
    assert!(b.pending[0]);
}

#[test]
fn a_response_is_read_by_its_kind_in_any_key_order() {
    // `object` first, last, or late after fields a step reads the same way.
    for line in [
        r#"{"object":"response","id":"r","created_at":1,"status":"completed","output":[]}"#,
        r#"{"id":"r","created_at":1,"status":"completed","output":[],"object":"response"}"#,
        r#"{"id":"r","created_at":1,"status":"completed","step_details":{"tool_calls":[{"type":"function"}]},"object":"response"}"#,
    ] {
        let b = one(line);
        assert_eq!(b.api[0], crate::batch::Api::Responses, "{line}");
        assert!(b.tool_kind.is_empty(), "{line}");
    }
    // The last `object` decides, even when an early one names a response.
    let b = one(
        r#"{"id":"s","object":"response","created_at":1,"status":"completed","object":"thread.run.step"}"#,
    );
    assert_eq!(b.api[0], crate::batch::Api::Assistants);
    // A response's own fields are checked, and named.
    for (line, reason, field) in [
        (
            r#"{"id":"r","object":"response","created_at":1}"#,
            Reason::MissingField,
            "status",
        ),
        (
            r#"{"id":"r","object":"response","created_at":1,"status":"completed","model":3}"#,
            Reason::WrongType,
            "model",
        ),
        (
            r#"{"id":"r","object":"response","created_at":1,"status":"completed","output":{}}"#,
            Reason::WrongType,
            "output",
        ),
        (
            r#"{"id":"r","object":"response","created_at":1,"status":"completed","output":[1]}"#,
            Reason::WrongType,
            "output[]",
        ),
        (
            r#"{"id":"r","object":"response","created_at":1,"status":"completed","usage":{"input_tokens":-1}}"#,
            Reason::OutOfRange,
            "usage.input_tokens",
        ),
        (
            r#"{"id":"r","object":"response","created_at":1,"status":"completed","conversation":5}"#,
            Reason::WrongType,
            "conversation",
        ),
        (
            r#"{"id":"r","object":"response","created_at":-5,"status":"completed"}"#,
            Reason::OutOfRange,
            "created_at",
        ),
    ] {
        assert_eq!(bad(line), (reason, Some(field)), "{line}");
    }
}

#[test]
fn a_stream_gives_the_response_of_its_terminal_event_and_frames_the_rest() {
    let mut b = Batch::new();
    for event in [
        "response.created",
        "response.in_progress",
        "response.output_text.delta",
    ] {
        let line = format!(r#"{{"type":"{event}","sequence_number":1,"response":{{"id":"r"}}}}"#);
        assert_eq!(parse_into(&mut b, &line), Ok(LineKind::Framing), "{event}");
    }
    assert!(b.is_empty());
    for (event, status) in [
        ("response.completed", "completed"),
        ("response.failed", "failed"),
        ("response.incomplete", "incomplete"),
        ("response.cancelled", "cancelled"),
    ] {
        let line = format!(
            r#"{{"type":"{event}","sequence_number":9,"response":{{"id":"r_{status}","object":"response","created_at":5,"status":"{status}","error":{{"code":"server_error"}}}}}}"#
        );
        assert_eq!(parse_into(&mut b, &line), Ok(LineKind::Record), "{event}");
    }
    assert_eq!(b.len(), 4);
    assert_eq!(b.dicts.error_code.get(b.error_code[1]), "server_error");
    // A terminal event without its response is malformed, by name.
    assert_eq!(
        bad(r#"{"type":"response.completed","sequence_number":1}"#),
        (Reason::MissingField, Some("response"))
    );
}

#[test]
fn batch_lines_give_their_response_or_an_undated_failure() {
    let mut b = Batch::new();
    let ok = r#"{"id":"batch_req_1","custom_id":"a","response":{"status_code":200,"request_id":"q","body":{"id":"resp_1","object":"response","created_at":7,"status":"completed","model":"gpt-4o"}},"error":null}"#;
    assert_eq!(parse_into(&mut b, ok), Ok(LineKind::Record));
    let error_body = r#"{"id":"batch_req_2","custom_id":"b","response":{"status_code":429,"request_id":"q","body":{"error":{"message":"slow down","code":"rate_limit_exceeded"}}},"error":null}"#;
    assert_eq!(parse_into(&mut b, error_body), Ok(LineKind::Record));
    let expired = r#"{"id":"batch_req_3","custom_id":"c","response":null,"error":{"code":"batch_expired","message":"late"}}"#;
    assert_eq!(parse_into(&mut b, expired), Ok(LineKind::Record));
    assert_eq!(b.len(), 3);
    assert!(b.from_batch.iter().all(|&x| x));
    assert!(!b.undated(0) && b.undated(1) && b.undated(2));
    let codes: Vec<&str> = (1..3)
        .map(|i| b.dicts.error_code.get(b.error_code[i]))
        .collect();
    assert_eq!(codes, ["rate_limit_exceeded", "batch_expired"]);
    assert_eq!(b.dicts.status.get(b.status[2]), "failed");
    // A line that says neither is malformed, and says why.
    assert_eq!(
        bad(r#"{"id":"batch_req_4","custom_id":"d","response":null,"error":null}"#),
        (Reason::MissingField, Some("response.body"))
    );
}
