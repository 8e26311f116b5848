//! Escaping text for the formats that need it: each format says which characters it
//! replaces, and by what.

/// `s` with every character `replace` maps to `Some` replaced by that text.
pub(crate) fn chars(s: &str, replace: impl Fn(char) -> Option<&'static str>) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match replace(c) {
            Some(r) => out.push_str(r),
            None => out.push(c),
        }
    }
    out
}

/// How [`visible`] writes a character a terminal (or a viewer) would act on instead of
/// showing, or `None` for one it shows: C0 and C1 controls and DEL (escape sequences,
/// bells, carriage returns), and the Unicode controls that reorder or break text
/// (bidirectional overrides and isolates, line and paragraph separators).
fn control(c: char) -> Option<String> {
    match c {
        '\n' => Some("\\n".into()),
        '\r' => Some("\\r".into()),
        '\t' => Some("\\t".into()),
        '\u{0}'..='\u{1f}' | '\u{7f}'..='\u{9f}' => Some(format!("\\x{:02x}", c as u32)),
        '\u{200e}'
        | '\u{200f}'
        | '\u{2028}'
        | '\u{2029}'
        | '\u{202a}'..='\u{202e}'
        | '\u{2066}'..='\u{2069}' => Some(format!("\\u{{{:x}}}", c as u32)),
        _ => None,
    }
}

/// `s` with every control character shown as an escape (`\x1b`, `\n`, `\u{202e}`), so
/// text from the logs is seen and never acted on by the terminal or viewer showing it.
pub fn visible(s: &str) -> String {
    if !s.chars().any(|c| control(c).is_some()) {
        return s.to_string();
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match control(c) {
            Some(e) => out.push_str(&e),
            None => out.push(c),
        }
    }
    out
}

/// Text in a Markdown table cell: controls visible, and every character that could start
/// markup inside a line (emphasis, links and images, code, raw HTML, entities,
/// strikethrough, the cell border) escaped with a backslash, which CommonMark allows
/// before any ASCII punctuation. (`#` and list markers only count at a line's start,
/// where a cell never is.)
pub(crate) fn markdown(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 8);
    for c in visible(s).chars() {
        if matches!(
            c,
            '\\' | '`' | '*' | '_' | '[' | ']' | '<' | '>' | '|' | '&' | '~'
        ) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// A value as Markdown inline code: controls visible, `|` escaped (GitHub reads it as a
/// cell border even in code), and fenced by more backticks than it holds in a row.
pub(crate) fn markdown_code(s: &str) -> String {
    if s.is_empty() {
        return String::new();
    }
    let text = visible(s).replace('|', "\\|");
    let mut run = 0;
    let mut longest = 0;
    for c in text.chars() {
        run = if c == '`' { run + 1 } else { 0 };
        longest = longest.max(run);
    }
    let fence = "`".repeat(longest + 1);
    // A space keeps a backtick at either end from joining the fence (and is stripped).
    let pad = if text.starts_with('`') || text.ends_with('`') {
        " "
    } else {
        ""
    };
    format!("{fence}{pad}{text}{pad}{fence}")
}

/// Text for HTML and SVG, in elements and in quoted attributes: controls visible, markup
/// characters as entities.
pub(crate) fn html(s: &str) -> String {
    chars(&visible(s), |c| match c {
        '&' => Some("&amp;"),
        '<' => Some("&lt;"),
        '>' => Some("&gt;"),
        '"' => Some("&quot;"),
        '\'' => Some("&#39;"),
        _ => None,
    })
}

/// A Prometheus label value, as the text exposition format requires (`\\`, `\"`, `\n`),
/// other controls (a NUL, an escape) written visibly as text, `\x00`.
pub(crate) fn label(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            c => match control(c) {
                // The escape's backslash is a character of the value: written as `\\`.
                Some(e) => out.push_str(&e.replacen('\\', "\\\\", 1)),
                None => out.push(c),
            },
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn each_format_replaces_its_characters() {
        assert_eq!(
            super::html("<a href='x'>&\"</a>"),
            "&lt;a href=&#39;x&#39;&gt;&amp;&quot;&lt;/a&gt;"
        );
        assert_eq!(super::label("a\\b\"c\nd"), "a\\\\b\\\"c\\nd");
        assert_eq!(super::label("a\u{0}b\u{1b}"), "a\\\\x00b\\\\x1b");
    }

    #[test]
    fn controls_are_shown_never_sent() {
        let evil = "Boom \u{1b}[2J\u{1b}]0;title\u{7} \u{202e}txt.exe\u{0}\r\n\u{9b}";
        let v = super::visible(evil);
        assert_eq!(
            v,
            "Boom \\x1b[2J\\x1b]0;title\\x07 \\u{202e}txt.exe\\x00\\r\\n\\x9b"
        );
        for out in [
            v,
            super::markdown(evil),
            super::markdown_code(evil),
            super::html(evil),
        ] {
            assert!(
                !out.chars().any(|c| c.is_control() || c == '\u{202e}'),
                "{out:?}"
            );
        }
        assert_eq!(super::visible("plain é ✓"), "plain é ✓");
    }

    #[test]
    fn markdown_escapes_markup_and_fences_code() {
        assert_eq!(
            super::markdown("<script>*a*_b_ [x](y) | `c` &amp;"),
            "\\<script\\>\\*a\\*\\_b\\_ \\[x\\](y) \\| \\`c\\` \\&amp;"
        );
        assert_eq!(super::markdown_code("a|b"), "`a\\|b`");
        assert_eq!(super::markdown_code("x`y"), "``x`y``");
        assert_eq!(super::markdown_code("`x"), "`` `x ``");
    }
}
