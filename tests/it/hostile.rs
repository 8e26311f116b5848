//! Hostile and odd input: each case has a defined outcome (doc/hostile.md), and
//! none of them may panic or lose a line.

#[allow(unused_imports)]
use crate::util::*;
use std::path::{Path, PathBuf};
use steplog::engine::{self, Config};
use steplog::input::InputSpec;
use steplog::report::Report;

fn hostile(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("testdata/hostile")
        .join(name)
}

fn summarize_bytes(data: &[u8], cfg: &Config) -> Report {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("case.jsonl");
    std::fs::write(&p, data).unwrap();
    let r = engine::summarize(&[InputSpec::Path(p)], cfg).unwrap();
    let c = &r.input.counts;
    assert_eq!(
        c.lines,
        c.records + c.runs + c.blank_lines + c.deltas + c.framing + c.malformed
    );
    r
}

/// What one line becomes.
#[derive(Debug, PartialEq)]
enum Outcome {
    /// A record with this status.
    Record(&'static str),
    /// A malformed line with this reason (and field, if any).
    Malformed(&'static str, Option<&'static str>),
}

fn outcome(line: &[u8]) -> Outcome {
    let mut data = line.to_vec();
    data.push(b'\n');
    let r = summarize_bytes(&data, &Config::default());
    assert_eq!(r.input.counts.lines, 1);
    if r.input.counts.records == 1 {
        let status = r.sections.steps.by_status.keys().next().unwrap().clone();
        return Outcome::Record(Box::leak(status.into_boxed_str()));
    }
    let ex = &r.input.malformed_examples[0];
    Outcome::Malformed(
        Box::leak(ex.reason.clone().into_boxed_str()),
        ex.field.clone().map(|f| &*Box::leak(f.into_boxed_str())),
    )
}

const OK: &str = r#""id":"s","created_at":1700000000,"status":"completed""#;

#[test]
fn each_hostile_case_has_its_documented_outcome() {
    use Outcome::*;
    let deep = |n: usize| format!(r#"{{{OK},"x":{}{}}}"#, "[".repeat(n), "]".repeat(n));
    let cases: Vec<(&str, Vec<u8>, Outcome)> = vec![
        (
            "nesting 1000 deep",
            deep(1000).into_bytes(),
            Record("completed"),
        ),
        (
            "nesting 1100 deep (over simd-json's 1024)",
            deep(1100).into_bytes(),
            Malformed("invalid_json", None),
        ),
        (
            "nesting 100k deep",
            deep(100_000).into_bytes(),
            Malformed("invalid_json", None),
        ),
        (
            "unclosed 100k deep",
            "[".repeat(100_000).into_bytes(),
            Malformed("invalid_json", None),
        ),
        (
            "invalid UTF-8 in a string",
            b"{\"id\":\"s\xff\",\"created_at\":1700000000,\"status\":\"completed\"}".to_vec(),
            Malformed("invalid_json", None),
        ),
        (
            "invalid UTF-8 in a skipped field",
            b"{\"id\":\"s\",\"created_at\":1700000000,\"status\":\"completed\",\"x\":\"\xc3\x28\"}"
                .to_vec(),
            Malformed("invalid_json", None),
        ),
        (
            "NUL inside a string",
            b"{\"id\":\"s\0\",\"created_at\":1700000000,\"status\":\"completed\"}".to_vec(),
            Malformed("invalid_json", None),
        ),
        (
            "NUL bytes only",
            b"\0\0\0".to_vec(),
            Malformed("invalid_json", None),
        ),
        (
            "escaped NUL (valid JSON)",
            br#"{"id":"s\u0000","created_at":1700000000,"status":"completed"}"#.to_vec(),
            Record("completed"),
        ),
        (
            "created_at 1e30",
            br#"{"id":"s","created_at":1e30,"status":"completed"}"#.to_vec(),
            Malformed("out_of_range", Some("created_at")),
        ),
        (
            "created_at negative",
            br#"{"id":"s","created_at":-1,"status":"completed"}"#.to_vec(),
            Malformed("out_of_range", Some("created_at")),
        ),
        (
            "created_at after 9999",
            br#"{"id":"s","created_at":253402300800,"status":"completed"}"#.to_vec(),
            Malformed("out_of_range", Some("created_at")),
        ),
        (
            "created_at fractional",
            br#"{"id":"s","created_at":1700000000.5,"status":"completed"}"#.to_vec(),
            Malformed("wrong_type", Some("created_at")),
        ),
        (
            "created_at as a string",
            br#"{"id":"s","created_at":"1700000000","status":"completed"}"#.to_vec(),
            Malformed("wrong_type", Some("created_at")),
        ),
        (
            "negative tokens",
            format!(
                r#"{{{OK},"usage":{{"prompt_tokens":-5,"completion_tokens":1,"total_tokens":1}}}}"#
            )
            .into_bytes(),
            Malformed("out_of_range", Some("usage.prompt_tokens")),
        ),
        (
            "tokens beyond 64 bits",
            format!(r#"{{{OK},"usage":{{"total_tokens":99999999999999999999999}}}}"#).into_bytes(),
            Malformed("out_of_range", Some("usage.total_tokens")),
        ),
        (
            "tokens up to 2^64 - 1 are counts",
            format!(r#"{{{OK},"usage":{{"total_tokens":18446744073709551615}}}}"#).into_bytes(),
            Record("completed"),
        ),
        (
            "tokens of 2^64",
            format!(r#"{{{OK},"usage":{{"total_tokens":18446744073709551616}}}}"#).into_bytes(),
            Malformed("out_of_range", Some("usage.total_tokens")),
        ),
        (
            "duplicate keys: the last wins",
            format!(r#"{{{OK},"status":"failed"}}"#).into_bytes(),
            Record("failed"),
        ),
        (
            "duplicate keys: a later null required field",
            format!(r#"{{{OK},"id":null}}"#).into_bytes(),
            Malformed("wrong_type", Some("id")),
        ),
        (
            // A JSON array's elements are its lines: this one's is an array.
            "an array",
            b"[[1,2,3]]".to_vec(),
            Malformed("not_an_object", None),
        ),
        (
            "a bare string",
            br#""thread.run.step""#.to_vec(),
            Malformed("not_an_object", None),
        ),
        (
            "another object",
            br#"{"id":"msg_1","object":"thread.message","created_at":1}"#.to_vec(),
            Malformed("not_a_run_step", Some("object")),
        ),
        (
            "status missing",
            br#"{"id":"s","created_at":1700000000}"#.to_vec(),
            Malformed("missing_field", Some("status")),
        ),
        (
            "SSE data line with a broken payload",
            b"data: {\"id\":".to_vec(),
            Malformed("invalid_json", None),
        ),
    ];
    let mut failures = Vec::new();
    for (name, line, want) in cases {
        let got = outcome(&line);
        if got != want {
            failures.push(format!("{name}: got {got:?}, want {want:?}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn every_rfc8259_violation_is_invalid_json() {
    let data = std::fs::read(hostile("invalid-json.jsonl")).unwrap();
    let names = std::fs::read_to_string(hostile("invalid-json.cases")).unwrap();
    let cases = names.lines().count() as u64;
    assert!(cases >= 40);
    for cfg in [
        Config::default(),
        Config {
            threads: 3,
            chunk_size: 1,
            mmap: false,
            ..Config::default()
        },
    ] {
        let r = summarize_bytes(&data, &cfg);
        assert_eq!(r.input.counts.lines, cases, "one case per line");
        assert_eq!(r.input.counts.malformed, cases);
        assert_eq!(r.input.malformed_by_reason["invalid_json"], cases);
    }
    // Each case, alone: the reason is JSON, not a field of the run step.
    for (line, name) in data.split(|b| *b == b'\n').zip(names.lines()) {
        assert_eq!(
            outcome(line),
            Outcome::Malformed("invalid_json", None),
            "case {name:?}"
        );
    }
}

#[test]
fn valid_odd_json_is_read_as_documented() {
    let mut data = std::fs::read(hostile("valid-odd.jsonl")).unwrap();
    // A 16 MiB error message: one string far beyond any buffer's first size.
    data.extend_from_slice(
        br#"{"id":"huge","created_at":1700000000,"status":"failed","failed_at":1700000032,"last_error":{"code":"server_error","message":""#,
    );
    data.extend(std::iter::repeat_n(b'x', 16 << 20));
    data.extend_from_slice(b"\"}}\n");
    let r = summarize_bytes(&data, &Config::default());
    let c = &r.input.counts;
    assert_eq!((c.lines, c.records, c.malformed), (10, 10, 0));
    // `1.7e9`, `17E8`, `….0` are integers; escaped keys and values match; the last of
    // repeated keys wins (`dup` is failed with the second error).
    assert_eq!(r.sections.steps.by_status["completed"], 8);
    assert_eq!(r.sections.steps.by_status["failed"], 2);
    assert_eq!(r.sections.failures.by_code["rate_limit_exceeded"], 1);
    assert_eq!(r.sections.failures.by_code["server_error"], 1);
    assert!(r
        .sections
        .failures
        .top_messages
        .iter()
        .any(|m| m.message == "second"));
    assert!(r
        .sections
        .failures
        .top_messages
        .iter()
        .any(|m| m.message.len() == 16 << 20));
    // Completed durations 0 (exp), 2 (float), 4 (escaped key), 8 (escaped value),
    // 16 (deep), 64 (surrogates), 128 (spaces), 256 (-0).
    let d = &r.sections.durations_seconds.completed;
    assert_eq!((d.count, d.min, d.max), (8, Some(0), Some(256)));
    assert_eq!(d.mean, Some((2 + 4 + 8 + 16 + 64 + 128 + 256) as f64 / 8.0));
    // A surrogate pair is one character; `-0` and `0.0e5` are zero tokens.
    assert_eq!(
        r.sections.usage.by_assistant["asst_\u{1F600}"].total_tokens,
        2
    );
    assert_eq!(r.sections.usage.steps_with_usage, 2);
    assert_eq!(r.sections.usage.total_tokens, 2);
}
