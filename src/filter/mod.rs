//! `--where EXPR`: which records a summary, an export or `find` takes. A record that does
//! not match is counted in `input.filtered_out`, like one outside `--since`/`--until`.
//!
//! [`Filter`] is the parsed expression ([`parse`]); each worker evaluates it row by row
//! with a [`Matcher`], which decides each dictionary-coded string (a status, an error
//! code, a message) once per worker and remembers the answer by its code, so a filter on
//! text costs a table lookup per row.

mod lex;
mod parse;

pub use parse::{parse, Expr, Field, Op, ParseError, Tokens, Value, FIELDS, MAX_DEPTH};

use crate::batch::{Batch, Code, Dict, Keep, ToolKind, NULL};

/// A parsed `--where` expression.
#[derive(Debug, Clone, PartialEq)]
pub struct Filter {
    expr: Expr,
    text: String,
}

impl Filter {
    /// Parses `text`; times count back from `now` (Unix seconds).
    pub fn parse(text: &str, now: i64) -> Result<Filter, ParseError> {
        let expr = parse(text, now)?;
        let text = expr.to_string();
        Ok(Filter { expr, text })
    }

    /// The expression in its normal form (fully parenthesised, times as Unix seconds):
    /// what states remember, and compare before merging.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// The expression.
    pub fn expr(&self) -> &Expr {
        &self.expr
    }

    /// The optional fields rows must keep for it.
    pub fn keep(&self) -> Keep {
        let mut keep = Keep::default();
        visit(&self.expr, &mut |f| match f {
            Field::Run => keep.runs = true,
            Field::Thread => keep.threads = true,
            Field::Metadata(k) if !keep.metadata.contains(k) => keep.metadata.push(k.clone()),
            _ => {}
        });
        keep
    }

    /// A matcher for batches whose metadata columns are `metadata` (in that order).
    pub fn matcher(&self, metadata: &[String]) -> Matcher {
        Matcher {
            root: compile(&self.expr, metadata),
        }
    }
}

fn visit(e: &Expr, f: &mut impl FnMut(&Field)) {
    match e {
        Expr::And(p) | Expr::Or(p) => p.iter().for_each(|x| visit(x, f)),
        Expr::Not(x) => visit(x, f),
        Expr::Cmp(field, _, _) | Expr::In(field, _) => f(field),
    }
}

/// Evaluates a filter on rows of one worker's batches.
#[derive(Debug, Clone)]
pub struct Matcher {
    root: Node,
}

impl Matcher {
    /// Whether row `i` of `batch` matches.
    #[inline]
    pub fn matches(&mut self, batch: &Batch, i: usize) -> bool {
        self.root.eval(batch, i)
    }
}

/// A text field, by where a row holds it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Text {
    Status,
    Type,
    Assistant,
    Code,
    Message,
    Function,
    Tool,
    Run,
    Thread,
    Api,
    Model,
    ServiceTier,
    Prompt,
    /// The metadata column at this index.
    Metadata(usize),
}

/// What a text test asks of a value.
#[derive(Debug, Clone)]
enum Test {
    /// Equal to one of these (`==`, `in`); `null` among them matches a missing value.
    OneOf(Vec<String>, bool),
    /// Contains one of these (`message ==`, `message in`); `null` as above.
    Contains(Vec<String>, bool),
}

impl Test {
    fn holds(&self, v: Option<&str>) -> bool {
        match (self, v) {
            (Test::OneOf(_, null) | Test::Contains(_, null), None) => *null,
            (Test::OneOf(all, _), Some(v)) => all.iter().any(|a| a == v),
            (Test::Contains(all, _), Some(v)) => all.iter().any(|a| v.contains(a.as_str())),
        }
    }
}

#[derive(Debug, Clone, Copy)]
enum Number {
    Duration,
    Tokens(Tokens),
    CreatedAt,
}

#[derive(Debug, Clone)]
enum Node {
    And(Vec<Node>),
    Or(Vec<Node>),
    Not(Box<Node>),
    Text {
        field: Text,
        test: Test,
        /// For dictionary-coded fields: the answer per code (0 unknown, 1 no, 2 yes).
        memo: Vec<u8>,
    },
    /// `field op value`; `null` for `== null` / `!= null` (presence).
    Number {
        field: Number,
        op: Op,
        value: Option<Value>,
    },
    /// `field in [numbers]`
    NumberIn {
        field: Number,
        values: Vec<Option<Value>>,
    },
}

fn compile(e: &Expr, metadata: &[String]) -> Node {
    match e {
        Expr::And(p) => Node::And(p.iter().map(|x| compile(x, metadata)).collect()),
        Expr::Or(p) => Node::Or(p.iter().map(|x| compile(x, metadata)).collect()),
        Expr::Not(x) => Node::Not(Box::new(compile(x, metadata))),
        Expr::Cmp(field, op, v) => {
            if let Some(n) = number(field) {
                let value = (*v != Value::Null).then(|| v.clone());
                return Node::Number {
                    field: n,
                    op: *op,
                    value,
                };
            }
            let eq = text_node(field, std::slice::from_ref(v), metadata);
            match op {
                Op::Ne => Node::Not(Box::new(eq)),
                // The parser allows only == and != on text.
                _ => eq,
            }
        }
        Expr::In(field, vs) => match number(field) {
            Some(n) => Node::NumberIn {
                field: n,
                values: vs
                    .iter()
                    .map(|v| (*v != Value::Null).then(|| v.clone()))
                    .collect(),
            },
            None => text_node(field, vs, metadata),
        },
    }
}

fn number(f: &Field) -> Option<Number> {
    match f {
        Field::Duration => Some(Number::Duration),
        Field::Tokens(t) => Some(Number::Tokens(*t)),
        Field::CreatedAt => Some(Number::CreatedAt),
        _ => None,
    }
}

fn text_node(field: &Field, values: &[Value], metadata: &[String]) -> Node {
    let null = values.contains(&Value::Null);
    let strings: Vec<String> = values
        .iter()
        .filter_map(|v| match v {
            Value::Str(s) => Some(s.clone()),
            _ => None,
        })
        .collect();
    let field = match field {
        Field::Status => Text::Status,
        Field::Type => Text::Type,
        Field::Assistant => Text::Assistant,
        Field::Code => Text::Code,
        Field::Message => Text::Message,
        Field::Function => Text::Function,
        Field::Tool => Text::Tool,
        Field::Run => Text::Run,
        Field::Thread => Text::Thread,
        Field::Api => Text::Api,
        Field::Model => Text::Model,
        Field::ServiceTier => Text::ServiceTier,
        Field::Prompt => Text::Prompt,
        Field::Metadata(k) => {
            Text::Metadata(metadata.iter().position(|m| m == k).unwrap_or(usize::MAX))
        }
        // Numbers are compiled elsewhere.
        _ => Text::Run,
    };
    let test = if field == Text::Message {
        Test::Contains(strings, null)
    } else {
        Test::OneOf(strings, null)
    };
    Node::Text {
        field,
        test,
        memo: Vec::new(),
    }
}

/// The answer for dictionary code `code` of `dict`, decided once.
#[inline]
fn coded(memo: &mut Vec<u8>, test: &Test, dict: &Dict, code: Code) -> bool {
    if code == NULL {
        return test.holds(None);
    }
    let c = code as usize;
    if c >= memo.len() {
        memo.resize(c + 1, 0);
    }
    if memo[c] == 0 {
        memo[c] = 1 + u8::from(test.holds(Some(dict.get(code))));
    }
    memo[c] == 2
}

/// `x op v`, exactly for integers (a u64 token count beyond 2^53 included).
fn compare(x: i128, op: Op, v: &Value) -> bool {
    use std::cmp::Ordering::*;
    let ord = match v {
        Value::Int(n) => x.cmp(n),
        Value::Float(f) => (x as f64).partial_cmp(f).unwrap_or(Less),
        _ => return false,
    };
    match op {
        Op::Eq => ord == Equal,
        Op::Ne => ord != Equal,
        Op::Lt => ord == Less,
        Op::Le => ord != Greater,
        Op::Gt => ord == Greater,
        Op::Ge => ord != Less,
    }
}

fn number_of(batch: &Batch, i: usize, field: Number) -> Option<i128> {
    match field {
        // As reports count it: a terminal time before creation is no duration.
        Number::Duration => batch.duration(i).map(i128::from),
        Number::CreatedAt => (!batch.undated(i)).then(|| i128::from(batch.created_at[i])),
        Number::Tokens(t) => {
            if !batch.has_usage.get(i) {
                return None;
            }
            let column = match t {
                Tokens::Prompt => &batch.prompt_tokens,
                Tokens::Completion => &batch.completion_tokens,
                Tokens::Total => &batch.total_tokens,
                Tokens::Cached => &batch.cached_tokens,
                Tokens::Reasoning => &batch.reasoning_tokens,
            };
            column.get(i).map(i128::from)
        }
    }
}

impl Node {
    fn eval(&mut self, batch: &Batch, i: usize) -> bool {
        match self {
            Node::And(p) => p.iter_mut().all(|x| x.eval(batch, i)),
            Node::Or(p) => p.iter_mut().any(|x| x.eval(batch, i)),
            Node::Not(x) => !x.eval(batch, i),
            Node::Number { field, op, value } => {
                let x = number_of(batch, i, *field);
                match (x, value) {
                    (x, None) => (x.is_none()) == (*op == Op::Eq),
                    (None, Some(_)) => *op == Op::Ne,
                    (Some(x), Some(v)) => compare(x, *op, v),
                }
            }
            Node::NumberIn { field, values } => {
                let x = number_of(batch, i, *field);
                values.iter().any(|v| match (x, v) {
                    (None, None) => true,
                    (Some(x), Some(v)) => compare(x, Op::Eq, v),
                    _ => false,
                })
            }
            Node::Text { field, test, memo } => {
                let d = &batch.dicts;
                match *field {
                    Text::Status => coded(memo, test, &d.status, batch.status[i]),
                    Text::Type => coded(memo, test, &d.step_type, batch.step_type[i]),
                    Text::Assistant => coded(memo, test, &d.assistant, batch.assistant[i]),
                    Text::Code => coded(memo, test, &d.error_code, batch.error_code[i]),
                    Text::Message => coded(memo, test, &d.error_message, batch.error_message[i]),
                    Text::Function => {
                        let calls = batch.tools(i);
                        let mut names = calls
                            .clone()
                            .filter(|&t| batch.tool_function[t] != NULL)
                            .peekable();
                        if names.peek().is_none() {
                            return test.holds(None);
                        }
                        names.any(|t| coded(memo, test, &d.function, batch.tool_function[t]))
                    }
                    Text::Tool => {
                        let calls = batch.tools(i);
                        if calls.is_empty() {
                            return test.holds(None);
                        }
                        calls
                            .into_iter()
                            .any(|t| test.holds(Some(ToolKind::as_str(batch.tool_kind[t]))))
                    }
                    Text::Run => test.holds(batch.run_id.get(i)),
                    Text::Thread => test.holds(batch.thread_id.get(i)),
                    Text::Api => test.holds(Some(batch.api[i].as_str())),
                    Text::Model => coded(memo, test, &d.model, batch.model[i]),
                    Text::ServiceTier => coded(memo, test, &d.service_tier, batch.service_tier[i]),
                    Text::Prompt => coded(memo, test, &d.prompt, batch.prompt[i]),
                    Text::Metadata(c) => test.holds(batch.metadata.get(c).and_then(|m| m.get(i))),
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::agg::testutil::batch;

    #[test]
    fn matches_rows_as_the_expression_says() {
        let lines = [
            r#"{"id":"a","created_at":100,"status":"failed","failed_at":160,"run_id":"r1","last_error":{"code":"server_error","message":"The server had an error"},"usage":{"prompt_tokens":18446744073709551615,"total_tokens":5}}"#,
            r#"{"id":"b","created_at":200,"status":"completed","completed_at":210,"type":"tool_calls","step_details":{"type":"tool_calls","tool_calls":[{"type":"function","function":{"name":"lookup"}},{"type":"code_interpreter"}]}}"#,
            r#"{"id":"c","created_at":300,"status":"in_progress","run_id":"r2","thread_id":"t"}"#,
        ];
        let b = batch(&lines);
        let ids = |text: &str| -> String {
            let f = Filter::parse(text, 0).unwrap();
            let mut m = f.matcher(&[]);
            (0..b.len())
                .filter(|&i| m.matches(&b, i))
                .map(|i| b.id(i).unwrap())
                .collect()
        };
        assert_eq!(ids(r#"status == "failed""#), "a");
        assert_eq!(ids(r#"status != "failed""#), "bc");
        assert_eq!(ids(r#"status in ["failed", "in_progress"]"#), "ac");
        assert_eq!(ids("duration > 30"), "a");
        assert_eq!(ids("duration <= 10"), "b");
        assert_eq!(ids("duration == null"), "c");
        assert_eq!(ids("duration != 60"), "bc");
        assert_eq!(ids(r#"message == "server had""#), "a");
        assert_eq!(ids(r#"message != "server had""#), "bc");
        assert_eq!(ids("code == null"), "bc");
        assert_eq!(ids(r#"tool == "code_interpreter""#), "b");
        assert_eq!(ids(r#"tool != "function""#), "ac");
        assert_eq!(ids("tool == null"), "ac");
        assert_eq!(ids(r#"function == "lookup""#), "b");
        assert_eq!(ids("tokens.prompt == 18446744073709551615"), "a");
        assert_eq!(ids("tokens.prompt > 18446744073709551614"), "a");
        assert_eq!(ids("tokens.total < 6"), "a");
        assert_eq!(ids("tokens.total == null"), "bc");
        assert_eq!(ids(r#"run == "r2" || thread == "t""#), "c");
        assert_eq!(ids(r#"run != null && !(status == "failed")"#), "c");
        assert_eq!(ids("created_at >= 200 && created_at < 300"), "b");
        assert_eq!(ids(r#"type == "tool_calls""#), "b");
        assert_eq!(ids(r#"metadata.team == "x""#), "");
        assert_eq!(ids("metadata.team == null"), "abc");
    }

    #[test]
    fn keeps_the_fields_it_reads() {
        let f = Filter::parse(
            r#"run == "r" && metadata.team == "a" || metadata.env != null"#,
            0,
        )
        .unwrap();
        let k = f.keep();
        assert!(k.runs && !k.threads);
        assert_eq!(k.metadata, ["team", "env"]);
    }
}
