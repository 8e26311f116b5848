//! The `--where` language: comparisons of a step's fields with values, joined by `&&`,
//! `||`, `!` and parentheses. A small recursive-descent parser over a hand-written lexer:
//! the grammar is a dozen lines, and errors must point at the column the user typed.
//!
//! ```text
//! expr   = and { "||" and }
//! and    = unary { "&&" unary }
//! unary  = "!" unary | "(" expr ")" | field op value | field "in" "[" value { "," value } "]"
//! op     = "==" | "!=" | "<" | "<=" | ">" | ">="
//! value  = "string" | number | null
//! ```

use super::lex::{Lexer, Tok};
use std::fmt;

/// A field of a step the language compares.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Field {
    /// `status`
    Status,
    /// `type`
    Type,
    /// `assistant` (`assistant_id`)
    Assistant,
    /// `run` (`run_id`)
    Run,
    /// `thread` (`thread_id`)
    Thread,
    /// `code` (`last_error.code`)
    Code,
    /// `message` (`last_error.message`; compared as a substring)
    Message,
    /// `tool`: the kind of any tool call of the step
    Tool,
    /// `function`: the name of any function call of the step
    Function,
    /// `duration`: terminal timestamp − `created_at`, seconds
    Duration,
    /// `tokens.prompt`, `tokens.completion`, `tokens.total`, `tokens.cached`,
    /// `tokens.reasoning`
    Tokens(Tokens),
    /// `created_at`
    CreatedAt,
    /// `metadata.KEY`, or `metadata["ANY KEY"]`
    Metadata(String),
    /// `api`: `assistants` or `responses`
    Api,
    /// `model`: a response's own model (a run step's is its run's, not known while
    /// reading: null)
    Model,
    /// `service_tier`: a response's
    ServiceTier,
    /// `prompt`: a response's prompt template id
    Prompt,
}

/// Which token count.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Tokens {
    /// `tokens.prompt`
    Prompt,
    /// `tokens.completion`
    Completion,
    /// `tokens.total`
    Total,
    /// `tokens.cached`
    Cached,
    /// `tokens.reasoning`
    Reasoning,
}

/// The fields, as an error lists them.
pub const FIELDS: &str = "status, type, assistant, run, thread, code, message, tool, function, \
     duration, tokens.prompt, tokens.completion, tokens.total, tokens.cached, \
     tokens.reasoning, created_at, metadata.KEY, metadata[\"ANY KEY\"], api, model, \
     service_tier, prompt, conversation (= thread)";

impl Field {
    fn parse(name: &str) -> Option<Field> {
        Some(match name {
            "status" => Field::Status,
            "type" => Field::Type,
            "assistant" => Field::Assistant,
            "run" => Field::Run,
            "thread" | "conversation" => Field::Thread,
            "api" => Field::Api,
            "model" => Field::Model,
            "service_tier" => Field::ServiceTier,
            "prompt" => Field::Prompt,
            "code" => Field::Code,
            "message" => Field::Message,
            "tool" => Field::Tool,
            "function" => Field::Function,
            "duration" => Field::Duration,
            "created_at" => Field::CreatedAt,
            "tokens.prompt" => Field::Tokens(Tokens::Prompt),
            "tokens.completion" => Field::Tokens(Tokens::Completion),
            "tokens.total" => Field::Tokens(Tokens::Total),
            "tokens.cached" => Field::Tokens(Tokens::Cached),
            "tokens.reasoning" => Field::Tokens(Tokens::Reasoning),
            n => {
                let key = n.strip_prefix("metadata.")?;
                if key.is_empty() {
                    return None;
                }
                Field::Metadata(key.to_string())
            }
        })
    }

    /// Whether the field holds a number (else text).
    pub fn numeric(&self) -> bool {
        matches!(self, Field::Duration | Field::Tokens(_) | Field::CreatedAt)
    }
}

impl fmt::Display for Field {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = match self {
            Field::Status => "status",
            Field::Type => "type",
            Field::Assistant => "assistant",
            Field::Run => "run",
            Field::Thread => "thread",
            Field::Api => "api",
            Field::Model => "model",
            Field::ServiceTier => "service_tier",
            Field::Prompt => "prompt",
            Field::Code => "code",
            Field::Message => "message",
            Field::Tool => "tool",
            Field::Function => "function",
            Field::Duration => "duration",
            Field::CreatedAt => "created_at",
            Field::Tokens(Tokens::Prompt) => "tokens.prompt",
            Field::Tokens(Tokens::Completion) => "tokens.completion",
            Field::Tokens(Tokens::Total) => "tokens.total",
            Field::Tokens(Tokens::Cached) => "tokens.cached",
            Field::Tokens(Tokens::Reasoning) => "tokens.reasoning",
            Field::Metadata(k) => {
                let bare = k
                    .bytes()
                    .next()
                    .is_some_and(|b| b.is_ascii_alphabetic() || b == b'_')
                    && k.bytes()
                        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'));
                return if bare {
                    write!(f, "metadata.{k}")
                } else {
                    let quoted = k
                        .replace('\\', "\\\\")
                        .replace('"', "\\\"")
                        .replace('\n', "\\n")
                        .replace('\t', "\\t");
                    write!(f, "metadata[\"{quoted}\"]")
                };
            }
        };
        f.write_str(name)
    }
}

/// A comparison operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    /// `==`
    Eq,
    /// `!=`
    Ne,
    /// `<`
    Lt,
    /// `<=`
    Le,
    /// `>`
    Gt,
    /// `>=`
    Ge,
}

impl Op {
    fn as_str(self) -> &'static str {
        match self {
            Op::Eq => "==",
            Op::Ne => "!=",
            Op::Lt => "<",
            Op::Le => "<=",
            Op::Gt => ">",
            Op::Ge => ">=",
        }
    }
}

/// A value compared with.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// `"text"`
    Str(String),
    /// `42`, `-3`: exact
    Int(i128),
    /// `1.5`, `1e3`
    Float(f64),
    /// `null`: no value
    Null,
}

impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Str(s) => write!(f, "{}", serde_json::Value::from(s.as_str())),
            Value::Int(n) => write!(f, "{n}"),
            Value::Float(x) => write!(f, "{x:?}"),
            Value::Null => f.write_str("null"),
        }
    }
}

/// A parsed expression.
#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    /// Every part holds.
    And(Vec<Expr>),
    /// Some part holds.
    Or(Vec<Expr>),
    /// The part does not hold.
    Not(Box<Expr>),
    /// `field op value`
    Cmp(Field, Op, Value),
    /// `field in [values]`
    In(Field, Vec<Value>),
}

impl fmt::Display for Expr {
    /// The expression in a normal form: fully parenthesised, one space around operators
    /// (how states remember it).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let join = |f: &mut fmt::Formatter<'_>, parts: &[Expr], op: &str| {
            f.write_str("(")?;
            for (i, p) in parts.iter().enumerate() {
                if i > 0 {
                    write!(f, " {op} ")?;
                }
                write!(f, "{p}")?;
            }
            f.write_str(")")
        };
        match self {
            Expr::And(p) => join(f, p, "&&"),
            Expr::Or(p) => join(f, p, "||"),
            Expr::Not(e) => write!(f, "!{e}"),
            Expr::Cmp(field, op, v) => write!(f, "{field} {} {v}", op.as_str()),
            Expr::In(field, vs) => {
                write!(f, "{field} in [")?;
                for (i, v) in vs.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{v}")?;
                }
                f.write_str("]")
            }
        }
    }
}

/// Why an expression does not parse: where (a 1-based column) and what.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("--where: at column {column}: {message}\n  {text}\n  {marker}")]
pub struct ParseError {
    /// 1-based column (in characters).
    pub column: usize,
    /// What is wrong.
    pub message: String,
    /// The expression.
    pub text: String,
    /// A caret under the column.
    pub marker: String,
}

struct Parser<'a> {
    toks: Vec<(Tok, usize)>,
    at: usize,
    now: i64,
    text: &'a str,
    /// `!` and `(` open around the token being parsed.
    depth: usize,
}

/// The deepest nesting of `!` and `(` an expression may have. Parsing, printing and
/// matching recurse once per level: a bound keeps every stack (a worker's is smaller than
/// the main thread's) far from overflowing, and no real filter comes near it.
pub const MAX_DEPTH: usize = 64;

type Fail = (usize, String);

impl Parser<'_> {
    fn peek(&self) -> &Tok {
        &self.toks[self.at].0
    }

    fn pos(&self) -> usize {
        self.toks[self.at].1
    }

    fn next(&mut self) -> (Tok, usize) {
        let t = self.toks[self.at].clone();
        if self.at + 1 < self.toks.len() {
            self.at += 1;
        }
        t
    }

    fn expr(&mut self) -> Result<Expr, Fail> {
        let mut parts = vec![self.and()?];
        while *self.peek() == Tok::Or {
            self.next();
            parts.push(self.and()?);
        }
        Ok(if parts.len() == 1 {
            parts.pop().expect("one part")
        } else {
            Expr::Or(parts)
        })
    }

    fn and(&mut self) -> Result<Expr, Fail> {
        let mut parts = vec![self.unary()?];
        while *self.peek() == Tok::And {
            self.next();
            parts.push(self.unary()?);
        }
        Ok(if parts.len() == 1 {
            parts.pop().expect("one part")
        } else {
            Expr::And(parts)
        })
    }

    /// One level deeper, at the `!` or `(` at `at`; refused past [`MAX_DEPTH`].
    fn enter(&mut self, at: usize) -> Result<(), Fail> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err((
                at,
                format!("`!` and `(` nest more than {MAX_DEPTH} deep here; write it flatter"),
            ));
        }
        Ok(())
    }

    fn unary(&mut self) -> Result<Expr, Fail> {
        match self.next() {
            (Tok::Not, at) => {
                self.enter(at)?;
                let e = self.unary()?;
                self.depth -= 1;
                Ok(Expr::Not(Box::new(e)))
            }
            (Tok::Open, at) => {
                self.enter(at)?;
                let e = self.expr()?;
                self.depth -= 1;
                match self.next() {
                    (Tok::Close, _) => Ok(e),
                    (_, here) => Err((
                        here,
                        format!(
                            "expected `)` closing the `(` at column {}",
                            col(self.text, at)
                        ),
                    )),
                }
            }
            (Tok::Ident(name), at) => {
                let field = Field::parse(&name).ok_or_else(|| {
                    (
                        at,
                        format!("`{name}` is not a field; the fields are {FIELDS}"),
                    )
                })?;
                self.comparison(field)
            }
            (Tok::End, at) => Err((
                at,
                "the expression ends where a comparison should be".into(),
            )),
            (t, at) => Err((
                at,
                format!("expected a field (or `!`, `(`), found {}", describe(&t)),
            )),
        }
    }

    fn comparison(&mut self, field: Field) -> Result<Expr, Fail> {
        match self.next() {
            (Tok::Op(op), _) => {
                let at = self.pos();
                let v = self.value(&field)?;
                let ordering = !matches!(op, Op::Eq | Op::Ne);
                if ordering && !field.numeric() {
                    return Err((
                        at,
                        format!("`{field}` is text: compare it with == or != (or `in`)"),
                    ));
                }
                if ordering && v == Value::Null {
                    return Err((at, "only == and != compare with null".into()));
                }
                Ok(Expr::Cmp(field, op, v))
            }
            (Tok::Ident(w), _) if w == "in" => {
                match self.next() {
                    (Tok::OpenList, _) => {}
                    (t, at) => {
                        return Err((
                            at,
                            format!("expected `[` after `in`, found {}", describe(&t)),
                        ))
                    }
                }
                let mut vs = Vec::new();
                loop {
                    vs.push(self.value(&field)?);
                    match self.next() {
                        (Tok::Comma, _) => continue,
                        (Tok::CloseList, _) => break,
                        (t, at) => {
                            return Err((
                                at,
                                format!("expected `,` or `]`, found {}", describe(&t)),
                            ))
                        }
                    }
                }
                Ok(Expr::In(field, vs))
            }
            (t, at) => Err((
                at,
                format!(
                    "expected an operator (== != < <= > >= in) after `{field}`, found {}",
                    describe(&t)
                ),
            )),
        }
    }

    fn value(&mut self, field: &Field) -> Result<Value, Fail> {
        let (t, at) = self.next();
        let v = match t {
            Tok::Str(s) if *field == Field::CreatedAt => {
                let secs =
                    crate::report::parse_instant(&s, self.now).map_err(|e| (at, e.to_string()))?;
                Value::Int(i128::from(secs))
            }
            Tok::Str(s) if field.numeric() => {
                return Err((
                    at,
                    format!("`{field}` is a number: compare it with a number, not \"{s}\""),
                ))
            }
            Tok::Str(s) => Value::Str(s),
            Tok::Num(n) if field.numeric() => n,
            Tok::Num(n) => {
                return Err((
                    at,
                    format!("`{field}` is text: write the value in double quotes (\"{n}\")"),
                ))
            }
            Tok::Ident(w) if w == "null" => Value::Null,
            Tok::Ident(w) => {
                return Err((
                    at,
                    format!("expected a value, found `{w}` (strings go in double quotes)"),
                ))
            }
            t => return Err((at, format!("expected a value, found {}", describe(&t)))),
        };
        Ok(v)
    }
}

fn describe(t: &Tok) -> String {
    match t {
        Tok::Ident(s) => format!("`{s}`"),
        Tok::Str(s) => format!("\"{s}\""),
        Tok::Num(n) => n.to_string(),
        Tok::Op(op) => format!("`{}`", op.as_str()),
        Tok::And => "`&&`".into(),
        Tok::Or => "`||`".into(),
        Tok::Not => "`!`".into(),
        Tok::Open => "`(`".into(),
        Tok::Close => "`)`".into(),
        Tok::OpenList => "`[`".into(),
        Tok::CloseList => "`]`".into(),
        Tok::Comma => "`,`".into(),
        Tok::End => "the end".into(),
    }
}

/// The 1-based column (in characters) of byte `at`.
fn col(text: &str, at: usize) -> usize {
    text[..at.min(text.len())].chars().count() + 1
}

/// Parses `text`; times (`created_at > "24h"`) count back from `now`.
pub fn parse(text: &str, now: i64) -> Result<Expr, ParseError> {
    let fail = |(at, message): Fail| {
        let column = col(text, at);
        ParseError {
            column,
            message,
            text: text.to_string(),
            marker: format!("{}^", " ".repeat(column - 1)),
        }
    };
    let toks = Lexer::run(text).map_err(fail)?;
    let mut p = Parser {
        toks,
        at: 0,
        now,
        text,
        depth: 0,
    };
    let e = p.expr().map_err(fail)?;
    match p.next() {
        (Tok::End, _) => Ok(e),
        (t, at) => Err(fail((
            at,
            format!("expected `&&`, `||` or the end, found {}", describe(&t)),
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_precedence_lists_and_times() {
        let e = parse(
            r#"status == "failed" && (duration > 30 || code == "server_error")"#,
            0,
        )
        .unwrap();
        assert_eq!(
            e.to_string(),
            r#"(status == "failed" && (duration > 30 || code == "server_error"))"#
        );
        let e = parse(r#"!type in ["tool_calls", "x"] || tokens.total >= 1e3"#, 0).unwrap();
        assert_eq!(
            e.to_string(),
            r#"(!type in ["tool_calls", "x"] || tokens.total >= 1000.0)"#
        );
        let e = parse(r#"created_at >= "2024-01-02" && metadata.team != null"#, 0).unwrap();
        assert_eq!(
            e.to_string(),
            r#"(created_at >= 1704153600 && metadata.team != null)"#
        );
        let e = parse(r#"created_at > "1h""#, 7200).unwrap();
        assert_eq!(e, Expr::Cmp(Field::CreatedAt, Op::Gt, Value::Int(3600)));
        // The normal form parses to the same expression.
        let text = r#"status == "a \"b\"" || message == "x\\y""#;
        let e = parse(text, 0).unwrap();
        assert_eq!(parse(&e.to_string(), 0).unwrap(), e);
    }

    #[test]
    fn errors_point_at_the_column_and_list_the_fields() {
        let cases = [
            (
                r#"stat == "failed""#,
                1,
                "is not a field; the fields are status, type",
            ),
            (r#"status = "failed""#, 8, "write `==`"),
            (r#"status == failed"#, 11, "strings go in double quotes"),
            (r#"status > "a""#, 10, "is text"),
            (r#"duration > "a""#, 12, "is a number"),
            (r#"(status == "a""#, 15, "expected `)`"),
            (
                r#"status == "a" &&"#,
                17,
                "ends where a comparison should be",
            ),
            (r#"status == "a" x"#, 15, "expected `&&`, `||` or the end"),
            (r#"created_at > "2024-02-30""#, 14, "not a time"),
            (r#"code == "abc"#, 9, "no closing"),
            ("status == \"é\" é", 15, "unexpected"),
        ];
        for (text, column, says) in cases {
            let e = parse(text, 0).unwrap_err();
            assert_eq!(e.column, column, "{text}: {e}");
            assert!(e.to_string().contains(says), "{text}: {e}");
            assert!(
                e.to_string()
                    .contains(&format!("\n  {}^", " ".repeat(column - 1))),
                "{e}"
            );
        }
    }
}
