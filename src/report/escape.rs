//! Escaping text for the formats that need it: each format says which characters it
//! replaces, and by what.

/// `s` with every character `replace` maps to `Some` replaced by that text.
pub(super) fn chars(s: &str, replace: impl Fn(char) -> Option<&'static str>) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match replace(c) {
            Some(r) => out.push_str(r),
            None => out.push(c),
        }
    }
    out
}

/// Text for HTML and SVG, in elements and in quoted attributes.
pub(super) fn html(s: &str) -> String {
    chars(s, |c| match c {
        '&' => Some("&amp;"),
        '<' => Some("&lt;"),
        '>' => Some("&gt;"),
        '"' => Some("&quot;"),
        '\'' => Some("&#39;"),
        _ => None,
    })
}

/// A Prometheus label value, as the text exposition format requires.
pub(super) fn label(s: &str) -> String {
    chars(s, |c| match c {
        '\\' => Some("\\\\"),
        '"' => Some("\\\""),
        '\n' => Some("\\n"),
        _ => None,
    })
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
    }
}
