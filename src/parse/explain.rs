//! Why a line is not JSON, told the way a person would: what was expected, at which byte,
//! what was found.
//!
//! simd-json is fast but says little (an error kind and a position that is often the last
//! structural character read, not the faulty byte). So for the few invalid lines that get
//! reported, the line is read again by `serde_json`, whose errors name the expectation and
//! the exact byte. That needs the line as it was: simd-json unescapes strings in place, so
//! strings it rewrote before failing further on are escaped again first ([`Strings`]
//! finds them), and positions past them mapped back to the line as read.

use simd_json::Node;
use std::fmt::Write as _;

/// The strings simd-json parsed before it failed on a line, where they are and where each
/// ended in the line as read: enough to undo its rewrites.
#[derive(Debug, Default)]
pub(super) struct Strings(Vec<Span>);

#[derive(Debug, Clone, Copy)]
struct Span {
    /// First content byte.
    at: usize,
    /// Content bytes as simd-json left them (unescaped).
    len: usize,
    /// The closing quote in the line as read.
    close: usize,
}

impl Strings {
    /// Notes the strings on the partial `tape` of a line that failed to parse, the line
    /// starting at address `base` (then [`Strings::resolve`], once the line can be read).
    pub fn note(&mut self, tape: &[Node<'_>], base: *const u8) {
        self.0.clear();
        for n in tape {
            if let Node::String(s) = n {
                // Addresses only: `s` points into the line.
                let at = (s.as_ptr() as usize).wrapping_sub(base as usize);
                self.0.push(Span {
                    at,
                    len: s.len(),
                    close: 0,
                });
            }
        }
    }

    /// Finds where each noted string closed in the line as read; `line` is the line as
    /// the parser left it and `structurals` the positions its stage 1 found. A string
    /// simd-json unescaped is shorter than it was, so its closing quote (the last byte
    /// before the next structural character, whitespace aside) is not right after it.
    pub fn resolve(&mut self, line: &[u8], structurals: &[u32]) {
        self.0.retain(|s| s.at >= 1 && s.at + s.len <= line.len());
        for s in &mut self.0 {
            let open = s.at - 1;
            let next = u32::try_from(open)
                .ok()
                .and_then(|o| structurals.binary_search(&o).ok())
                .and_then(|i| structurals.get(i + 1))
                .map_or(line.len(), |&n| (n as usize).min(line.len()));
            let close = line[..next]
                .iter()
                .rposition(|b| !matches!(b, b' ' | b'\t' | b'\r' | b'\n'))
                .unwrap_or(0);
            s.close = close.max(s.at + s.len);
        }
    }

    /// The line as read, rebuilt from `line` as the parser left it: every rewritten string
    /// escaped again (maybe not as it was written, but the same JSON), and how far bytes
    /// after the last of them moved (`None` when nothing was rewritten).
    fn rebuild(&self, line: &[u8]) -> Option<(Vec<u8>, usize, isize)> {
        let rewritten = |s: &&Span| s.close != s.at + s.len;
        self.0.iter().find(rewritten)?;
        let mut out = Vec::with_capacity(line.len() + 16);
        let mut from = 0;
        for s in self.0.iter().filter(rewritten) {
            out.extend_from_slice(&line[from..s.at]);
            let text = std::str::from_utf8(&line[s.at..s.at + s.len]).ok()?;
            let quoted = serde_json::to_string(text).ok()?;
            out.extend_from_slice(&quoted.as_bytes()[1..quoted.len() - 1]);
            from = s.close;
        }
        let end = out.len();
        let shift = from as isize - end as isize;
        out.extend_from_slice(&line[from..]);
        Some((out, end, shift))
    }
}

/// The explanation of an invalid line: `line` is the line as the parser left it,
/// `strings` what the parser noted about it, `error` simd-json's complaint.
pub(super) fn explain(line: &[u8], strings: &Strings, error: &simd_json::Error) -> String {
    use simd_json::ErrorType as E;
    // Beyond serde_json's nesting limit (128) its answer is about its limit, not the line.
    if matches!(error.error(), E::DepthLimitExceeded) {
        return from_simd(error);
    }
    let rebuilt = strings.rebuild(line);
    let (text, end, shift) = match &rebuilt {
        Some((text, end, shift)) => (text.as_slice(), *end, *shift),
        None => (line, 0, 0),
    };
    match serde_json::from_slice::<serde::de::IgnoredAny>(text) {
        // Past every rewritten string (where simd-json failed), positions map back.
        Err(e) if e.is_eof() || e.column() > end => {
            let column = (e.column() as isize + shift).max(1) as usize;
            from_serde(line, &e, column)
        }
        _ => from_simd(error),
    }
}

/// From serde_json's error: its message without the "at line 1 column N" it appends,
/// then our own position and what is there.
fn from_serde(line: &[u8], e: &serde_json::Error, column: usize) -> String {
    let text = e.to_string();
    let what = text
        .rsplit_once(" at line ")
        .map_or(text.as_str(), |(w, _)| w);
    if e.is_eof() {
        let inside = what.strip_prefix("EOF while parsing ").unwrap_or("a value");
        let n = line.len();
        let bytes = if n == 1 { "byte" } else { "bytes" };
        return format!(
            "invalid JSON: the line ends inside {inside} after {n} {bytes} (cut short?)"
        );
    }
    if what.starts_with("control character") {
        // serde_json points just before it; find it.
        let from = column.saturating_sub(1);
        if let Some(i) = line.iter().skip(from).position(|&b| b < 0x20) {
            let at = from + i;
            return format!(
                "invalid JSON: a raw control character (0x{:02x}) inside a string at byte {} \
                 (JSON writes it as \\u{:04x})",
                line[at],
                at + 1,
                line[at]
            );
        }
    }
    let what = match what {
        "trailing characters" => "more after the end of the JSON value",
        "expected value" => "expected a JSON value",
        "expected ident" => "expected `true`, `false` or `null`",
        "key must be a string" => "expected an object key (a string in double quotes)",
        w => w,
    };
    let mut out = format!("invalid JSON: {what}");
    if column > 0 {
        let at = column - 1;
        let _ = write!(out, " at byte {column}");
        found(&mut out, line, at);
    }
    out
}

/// From simd-json's error alone (serde_json took the line, or failed inside a string
/// simd-json rewrote).
pub(super) fn from_simd(error: &simd_json::Error) -> String {
    use simd_json::ErrorType as E;
    let what = match error.error() {
        E::InvalidUtf8 => "not valid UTF-8",
        E::Eof => "the line ends before the JSON value does (cut short?)",
        E::Syntax => "the JSON is incomplete or a string is not closed",
        E::TrailingData => "more after the end of the JSON value",
        E::ExpectedObjectColon => "expected `:` after an object key",
        E::ExpectedObjectKey => "expected an object key (a string in double quotes)",
        E::ExpectedObjectContent | E::ExpectedMapComma | E::ExpectedMapEnd => "expected `,` or `}`",
        E::ExpectedArrayContent | E::ExpectedArrayComma => "expected `,` or `]`",
        E::ExpectedTrue | E::ExpectedFalse | E::ExpectedNull => {
            "expected `true`, `false` or `null`"
        }
        E::InvalidNumber | E::InvalidExponent => "invalid number",
        E::InvalidEscape | E::InvalidUnicodeEscape | E::InvalidUnicodeCodepoint => {
            "invalid escape in a string"
        }
        E::DepthLimitExceeded => "nested deeper than 1024 levels",
        E::InputTooLarge => "longer than 4 GiB",
        _ => "unexpected character",
    };
    let mut out = format!("invalid JSON: {what}");
    if let Some(c) = error.character() {
        let _ = write!(out, " at byte {}, found `{}`", error.index() + 1, shown(c));
    }
    out
}

/// Appends what is at byte `at` of `line`, printable whatever it is.
fn found(out: &mut String, line: &[u8], at: usize) {
    let Some(rest) = line.get(at..).filter(|r| !r.is_empty()) else {
        return;
    };
    let head = &rest[..rest.len().min(4)];
    let c = match std::str::from_utf8(head) {
        Ok(s) => s.chars().next(),
        Err(e) if e.valid_up_to() > 0 => std::str::from_utf8(&head[..e.valid_up_to()])
            .ok()
            .and_then(|s| s.chars().next()),
        Err(_) => None,
    };
    match c {
        Some(c) => {
            let _ = write!(out, ", found `{}`", shown(c));
        }
        None => {
            let _ = write!(out, ", found byte 0x{:02x}", rest[0]);
        }
    }
}

/// A character as a message shows it: itself when printable, escaped otherwise (so a log
/// line cannot drive the terminal the message is printed on).
fn shown(c: char) -> String {
    match c {
        '"' | '\'' | '\\' => c.to_string(),
        '\u{0}'..='\u{1f}' | '\u{7f}'..='\u{9f}' => format!("\\x{:02x}", c as u32),
        c => c.escape_debug().to_string(),
    }
}
