//! `--where` against an evaluator written here, apart from steplog's: the bytes choose a
//! dozen records and an expression from the language's grammar (every field, operator,
//! `in` list, `null`, `!`, `&&`, `||`, parentheses, quoted metadata keys), and the summary
//! must count exactly the records this evaluator matches, the rest as filtered out. The
//! expression's normal form must parse back to itself.
//!
//! Run: `cargo +nightly fuzz run where corpus/where -- -detect_leaks=0` (see doc/contributing.md).

#![no_main]

use libfuzzer_sys::fuzz_target;
use serde_json::{json, Value};
use std::sync::Arc;
use steplog::engine::{self, Config};
use steplog::filter::Filter;
use steplog::input::InputSpec;

/// Choices read from the fuzzer's bytes (zeros once they run out).
struct Bytes<'a>(&'a [u8]);

impl Bytes<'_> {
    fn byte(&mut self) -> u8 {
        let (b, rest) = self.0.split_first().map_or((0, &[][..]), |(b, r)| (*b, r));
        self.0 = rest;
        b
    }
    fn pick<'p, T>(&mut self, from: &'p [T]) -> &'p T {
        &from[self.byte() as usize % from.len()]
    }
}

const STATUSES: [&str; 5] = ["completed", "failed", "cancelled", "expired", "in_progress"];
const TYPES: [&str; 2] = ["message_creation", "tool_calls"];
const NAMES: [&str; 3] = ["a", "b", "c"];
const CODES: [&str; 2] = ["server_error", "rate_limit_exceeded"];
const MESSAGES: [&str; 3] = ["The server had an error", "Rate limit", "server"];
const KINDS: [&str; 3] = ["function", "code_interpreter", "file_search"];
const FUNCTIONS: [&str; 2] = ["lookup", "search"];
const KEYS: [&str; 3] = ["team", "team name", "équipe"];
const TEXT_FIELDS: [&str; 9] = [
    "status", "type", "assistant", "run", "thread", "code", "message", "tool", "function",
];
const NUMBER_FIELDS: [&str; 7] = [
    "duration",
    "created_at",
    "tokens.prompt",
    "tokens.completion",
    "tokens.total",
    "tokens.cached",
    "tokens.reasoning",
];

fn record(b: &mut Bytes<'_>, i: usize) -> Value {
    let status = *b.pick(&STATUSES);
    let created = 1_700_000_000 + i64::from(b.byte());
    let mut v = json!({
        "id": format!("step_{i}"),
        "object": "thread.run.step",
        "created_at": created,
        "status": status,
        "type": *b.pick(&TYPES),
    });
    for (field, prefix) in [("assistant_id", "asst_"), ("run_id", "run_"), ("thread_id", "thread_")] {
        if b.byte() % 4 != 0 {
            v[field] = json!(format!("{prefix}{}", b.pick(&NAMES)));
        }
    }
    if status != "in_progress" {
        // Sometimes before its creation: no duration then.
        let end = created + i64::from(b.byte()) - 20;
        v[format!("{status}_at")] = json!(end);
    }
    if status == "failed" && b.byte() % 3 != 0 {
        v["last_error"] = json!({"code": *b.pick(&CODES), "message": *b.pick(&MESSAGES)});
    }
    let calls: Vec<Value> = (0..b.byte() % 3)
        .map(|_| {
            let kind = *b.pick(&KINDS);
            match kind {
                "function" => json!({"type": kind, "function": {"name": *b.pick(&FUNCTIONS)}}),
                _ => json!({"type": kind, kind: {}}),
            }
        })
        .collect();
    if !calls.is_empty() {
        v["step_details"] = json!({"type": "tool_calls", "tool_calls": calls});
    }
    if b.byte() % 3 != 0 {
        let n = |b: &mut Bytes<'_>| u64::from(b.byte());
        let (p, c) = (n(b), n(b));
        v["usage"] = json!({
            "prompt_tokens": p, "completion_tokens": c, "total_tokens": p + c,
            "prompt_token_details": {"cached_tokens": n(b) % (p + 1)},
            "completion_tokens_details": {"reasoning_tokens": n(b) % (c + 1)},
        });
    }
    let mut meta = serde_json::Map::new();
    for key in KEYS {
        if b.byte() % 2 == 0 {
            meta.insert(key.into(), json!(*b.pick(&NAMES)));
        }
    }
    v["metadata"] = Value::Object(meta);
    v
}

/// A value a field may be compared with: `null`, or one of its own kind.
#[derive(Clone, Debug)]
enum Lit {
    Null,
    Str(String),
    Num(i64),
}

impl Lit {
    fn text(&self) -> String {
        match self {
            Lit::Null => "null".into(),
            Lit::Str(s) => format!("{s:?}"),
            Lit::Num(n) => n.to_string(),
        }
    }
}

/// An expression, as generated (printed for steplog, evaluated here).
#[derive(Debug)]
enum Expr {
    And(Box<Expr>, Box<Expr>),
    Or(Box<Expr>, Box<Expr>),
    Not(Box<Expr>),
    Cmp(String, &'static str, Lit),
    In(String, Vec<Lit>),
}

fn field(b: &mut Bytes<'_>) -> (String, bool) {
    match b.byte() % 4 {
        0 => (b.pick(&NUMBER_FIELDS).to_string(), true),
        1 => {
            let key = *b.pick(&KEYS);
            let name = if key.bytes().all(|c| c.is_ascii_alphabetic()) && b.byte() % 2 == 0 {
                format!("metadata.{key}")
            } else {
                format!("metadata[{key:?}]")
            };
            (name, false)
        }
        _ => (b.pick(&TEXT_FIELDS).to_string(), false),
    }
}

fn literal(b: &mut Bytes<'_>, name: &str, numeric: bool) -> Lit {
    if b.byte() % 6 == 0 {
        return Lit::Null;
    }
    if numeric {
        let n = i64::from(b.byte());
        return Lit::Num(if name == "created_at" { 1_700_000_000 + n } else { n - 20 });
    }
    let s = match name {
        "status" => b.pick(&STATUSES).to_string(),
        "type" => b.pick(&TYPES).to_string(),
        "assistant" => format!("asst_{}", b.pick(&NAMES)),
        "run" => format!("run_{}", b.pick(&NAMES)),
        "thread" => format!("thread_{}", b.pick(&NAMES)),
        "code" => b.pick(&CODES).to_string(),
        "message" => b.pick(&MESSAGES).to_string(),
        "tool" => b.pick(&KINDS).to_string(),
        "function" => b.pick(&FUNCTIONS).to_string(),
        _ => b.pick(&NAMES).to_string(),
    };
    Lit::Str(s)
}

fn expr(b: &mut Bytes<'_>, depth: u32) -> Expr {
    let choice = if depth >= 4 { 0 } else { b.byte() % 6 };
    match choice {
        3 => Expr::And(Box::new(expr(b, depth + 1)), Box::new(expr(b, depth + 1))),
        4 => Expr::Or(Box::new(expr(b, depth + 1)), Box::new(expr(b, depth + 1))),
        5 => Expr::Not(Box::new(expr(b, depth + 1))),
        _ => {
            let (name, numeric) = field(b);
            if b.byte() % 4 == 0 {
                let n = 1 + b.byte() % 3;
                let values = (0..n).map(|_| literal(b, &name, numeric)).collect();
                return Expr::In(name, values);
            }
            let value = literal(b, &name, numeric);
            let ops: &[&'static str] = if numeric && !matches!(value, Lit::Null) {
                &["==", "!=", "<", "<=", ">", ">="]
            } else {
                &["==", "!="]
            };
            Expr::Cmp(name, *b.pick(ops), value)
        }
    }
}

fn print(e: &Expr) -> String {
    match e {
        Expr::And(a, b) => format!("({} && {})", print(a), print(b)),
        Expr::Or(a, b) => format!("({} || {})", print(a), print(b)),
        Expr::Not(a) => format!("!{}", print(a)),
        Expr::Cmp(f, op, v) => format!("{f} {op} {}", v.text()),
        Expr::In(f, vs) => {
            let list: Vec<String> = vs.iter().map(Lit::text).collect();
            format!("{f} in [{}]", list.join(", "))
        }
    }
}

/// What a text field holds: none, or every value (tools and functions may be several).
fn texts(r: &Value, field: &str) -> Vec<String> {
    let s = |v: &Value| v.as_str().map(str::to_string);
    let calls = r["step_details"]["tool_calls"].as_array().cloned().unwrap_or_default();
    let one = match field {
        "status" => s(&r["status"]),
        "type" => s(&r["type"]),
        "assistant" => s(&r["assistant_id"]),
        "run" => s(&r["run_id"]),
        "thread" => s(&r["thread_id"]),
        "code" => s(&r["last_error"]["code"]),
        "message" => s(&r["last_error"]["message"]),
        "tool" => return calls.iter().filter_map(|c| s(&c["type"])).collect(),
        "function" => return calls.iter().filter_map(|c| s(&c["function"]["name"])).collect(),
        _ => {
            let key = field
                .strip_prefix("metadata.")
                .map(str::to_string)
                .or_else(|| {
                    let quoted = field.strip_prefix("metadata[")?.strip_suffix(']')?;
                    serde_json::from_str::<String>(quoted).ok()
                })
                .unwrap_or_default();
            s(&r["metadata"][key])
        }
    };
    one.into_iter().collect()
}

fn number(r: &Value, field: &str) -> Option<i64> {
    let usage = &r["usage"];
    let token = |path: &[&str]| -> Option<i64> {
        if !usage.is_object() {
            return None;
        }
        path.iter().fold(usage, |v, k| &v[k]).as_i64()
    };
    match field {
        "created_at" => r["created_at"].as_i64(),
        "duration" => {
            let status = r["status"].as_str()?;
            let end = r[format!("{status}_at")].as_i64()?;
            let d = end - r["created_at"].as_i64()?;
            (d >= 0).then_some(d)
        }
        "tokens.prompt" => token(&["prompt_tokens"]),
        "tokens.completion" => token(&["completion_tokens"]),
        "tokens.total" => token(&["total_tokens"]),
        "tokens.cached" => token(&["prompt_token_details", "cached_tokens"]),
        "tokens.reasoning" => token(&["completion_tokens_details", "reasoning_tokens"]),
        _ => unreachable!("{field}"),
    }
}

/// `field == value` for one record.
fn equals(r: &Value, field: &str, value: &Lit) -> bool {
    if NUMBER_FIELDS.contains(&field) {
        let x = number(r, field);
        return match value {
            Lit::Null => x.is_none(),
            Lit::Num(n) => x == Some(*n),
            Lit::Str(_) => false,
        };
    }
    let all = texts(r, field);
    match value {
        Lit::Null => all.is_empty(),
        // The message matches as a substring.
        Lit::Str(s) if field == "message" => all.iter().any(|m| m.contains(s.as_str())),
        Lit::Str(s) => all.iter().any(|m| m == s),
        Lit::Num(_) => false,
    }
}

fn eval(e: &Expr, r: &Value) -> bool {
    match e {
        Expr::And(a, b) => eval(a, r) && eval(b, r),
        Expr::Or(a, b) => eval(a, r) || eval(b, r),
        Expr::Not(a) => !eval(a, r),
        Expr::In(f, vs) => vs.iter().any(|v| equals(r, f, v)),
        Expr::Cmp(f, op, v) => match *op {
            "==" => equals(r, f, v),
            "!=" => !equals(r, f, v),
            _ => {
                let (Some(x), Lit::Num(n)) = (number(r, f), v) else {
                    return false;
                };
                match *op {
                    "<" => x < *n,
                    "<=" => x <= *n,
                    ">" => x > *n,
                    _ => x >= *n,
                }
            }
        },
    }
}

fuzz_target!(|data: &[u8]| {
    let mut b = Bytes(data);
    let records: Vec<Value> = (0..1 + b.byte() % 12).map(|i| record(&mut b, i as usize)).collect();
    let e = expr(&mut b, 0);
    let text = print(&e);
    let filter = Filter::parse(&text, 1_800_000_000)
        .unwrap_or_else(|err| panic!("{text}: a valid expression is refused: {err:?}"));
    let again = Filter::parse(filter.text(), 1_800_000_000).expect("the normal form parses");
    assert_eq!(again.text(), filter.text(), "the normal form is a fixed point");
    let expected = records.iter().filter(|r| eval(&e, r)).count() as u64;

    let path = std::env::temp_dir().join(format!("steplog-fuzz-where-{}.jsonl", std::process::id()));
    let lines: String = records.iter().map(|r| r.to_string() + "\n").collect();
    std::fs::write(&path, lines).unwrap();
    let cfg = Config {
        threads: 1 + (data.len() % 3),
        filter: Some(Arc::new(filter)),
        ..Config::default()
    };
    let report = engine::summarize(&[InputSpec::Path(path.clone())], &cfg).expect("summary");
    assert_eq!(report.sections.steps.total, expected, "{text}\n{records:#?}");
    assert_eq!(
        report.input.filtered_out,
        records.len() as u64 - expected,
        "{text}"
    );
    let _ = std::fs::remove_file(&path);
});
