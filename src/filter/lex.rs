//! The `--where` language's tokens, each with the byte where it starts (for errors that
//! point at the column).

use super::parse::{Op, Value};

#[derive(Debug, Clone, PartialEq)]
pub(super) enum Tok {
    Ident(String),
    Str(String),
    Num(Value),
    Op(Op),
    And,
    Or,
    Not,
    Open,
    Close,
    OpenList,
    CloseList,
    Comma,
    End,
}

pub(super) struct Lexer {
    toks: Vec<(Tok, usize)>,
}

impl Lexer {
    pub(super) fn run(text: &str) -> Result<Vec<(Tok, usize)>, (usize, String)> {
        let mut l = Lexer { toks: Vec::new() };
        let b = text.as_bytes();
        let mut i = 0;
        while i < b.len() {
            let c = b[i];
            let two = |s: &str| text[i..].starts_with(s);
            match c {
                b' ' | b'\t' | b'\n' | b'\r' => {
                    i += 1;
                    continue;
                }
                b'(' => l.push(Tok::Open, i),
                b')' => l.push(Tok::Close, i),
                b'[' => l.push(Tok::OpenList, i),
                b']' => l.push(Tok::CloseList, i),
                b',' => l.push(Tok::Comma, i),
                _ if two("&&") => l.push(Tok::And, i),
                _ if two("||") => l.push(Tok::Or, i),
                _ if two("==") => l.push(Tok::Op(Op::Eq), i),
                _ if two("!=") => l.push(Tok::Op(Op::Ne), i),
                _ if two("<=") => l.push(Tok::Op(Op::Le), i),
                _ if two(">=") => l.push(Tok::Op(Op::Ge), i),
                b'<' => l.push(Tok::Op(Op::Lt), i),
                b'>' => l.push(Tok::Op(Op::Gt), i),
                b'!' => l.push(Tok::Not, i),
                b'=' => return Err((i, "`=` compares nothing: write `==`".into())),
                b'&' | b'|' => {
                    return Err((i, format!("write `{0}{0}`", c as char)));
                }
                b'"' => {
                    let (s, len) = string(&text[i..]).map_err(|(at, m)| (i + at, m))?;
                    l.toks.push((Tok::Str(s), i));
                    i += len;
                    continue;
                }
                b'0'..=b'9' | b'-' | b'.' => {
                    let len = text[i..]
                        .find(|c: char| {
                            !(c.is_ascii_digit() || matches!(c, '-' | '.' | 'e' | 'E' | '+'))
                        })
                        .unwrap_or(text.len() - i);
                    let word = &text[i..i + len];
                    let n = match word.parse::<i128>() {
                        Ok(n) => Value::Int(n),
                        Err(_) => Value::Float(
                            word.parse::<f64>()
                                .ok()
                                .filter(|x| x.is_finite())
                                .ok_or_else(|| (i, format!("`{word}` is not a number")))?,
                        ),
                    };
                    l.toks.push((Tok::Num(n), i));
                    i += len;
                    continue;
                }
                c if c.is_ascii_alphabetic() || c == b'_' => {
                    let len = text[i..]
                        .find(|c: char| {
                            !(c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'))
                        })
                        .unwrap_or(text.len() - i);
                    let word = &text[i..i + len];
                    // `metadata["team name"]`: a key no bare word can spell (spaces,
                    // letters beyond ASCII, punctuation), as `--group-by` accepts it.
                    if word == "metadata" && text[i + len..].starts_with("[\"") {
                        let at = i + len + 1;
                        let (key, n) = string(&text[at..]).map_err(|(j, m)| (at + j, m))?;
                        if !text[at + n..].starts_with(']') {
                            return Err((at + n, "write `]` after the metadata key".into()));
                        }
                        if key.is_empty() {
                            return Err((at, "a metadata key is not empty".into()));
                        }
                        l.toks.push((Tok::Ident(format!("metadata.{key}")), i));
                        i = at + n + 1;
                        continue;
                    }
                    l.toks.push((Tok::Ident(word.to_string()), i));
                    i += len;
                    continue;
                }
                _ => {
                    let ch = text[i..].chars().next().unwrap_or(' ');
                    return Err((i, format!("unexpected `{}`", ch.escape_debug())));
                }
            }
            i += l.toks.last().map_or(1, |t| tok_len(&t.0));
        }
        l.toks.push((Tok::End, text.len()));
        Ok(l.toks)
    }

    fn push(&mut self, t: Tok, at: usize) {
        self.toks.push((t, at));
    }
}

fn tok_len(t: &Tok) -> usize {
    match t {
        Tok::And | Tok::Or => 2,
        Tok::Op(Op::Eq | Op::Ne | Op::Le | Op::Ge) => 2,
        _ => 1,
    }
}

/// A double-quoted string at the start of `s`: its value and length in bytes.
fn string(s: &str) -> Result<(String, usize), (usize, String)> {
    let mut out = String::new();
    let mut chars = s.char_indices().skip(1);
    while let Some((i, c)) = chars.next() {
        match c {
            '"' => return Ok((out, i + 1)),
            '\\' => match chars.next() {
                Some((_, '"')) => out.push('"'),
                Some((_, '\\')) => out.push('\\'),
                Some((_, 'n')) => out.push('\n'),
                Some((_, 't')) => out.push('\t'),
                Some((j, e)) => {
                    return Err((j, format!("unknown escape `\\{e}` (use \\\" or \\\\)")))
                }
                None => break,
            },
            c => out.push(c),
        }
    }
    Err((0, "this string has no closing `\"`".into()))
}
