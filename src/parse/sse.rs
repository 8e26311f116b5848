//! Server-sent events, as `curl -N` captures an Assistants stream: `event: <name>` and
//! `data: <json>` lines separated by blank lines, ending with `data: [DONE]`.
//!
//! Only what a line says by itself is used, so chunks stay independent: a `data:` line is
//! its payload (one leading space removed, as the SSE specification says), and the other
//! fields (`event:`, `id:`, `retry:`) and comments (`:` …) are framing. A payload spread
//! over several `data:` lines is not something OpenAI sends; each such line would be
//! counted as malformed JSON.

/// What an event-stream view of one line says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Line {
    /// Not an SSE line: parse it as JSON.
    Json,
    /// A `data:` line whose JSON payload starts at this byte.
    Data(usize),
    /// A field or comment that carries no run step, or `data: [DONE]`.
    Framing,
}

/// Classifies one line (without its newline).
pub fn classify(line: &[u8]) -> Line {
    if let Some(rest) = line.strip_prefix(b"data:") {
        let skip = 5 + usize::from(rest.first() == Some(&b' '));
        let payload = &line[skip..];
        if payload.trim_ascii_end() == b"[DONE]" {
            return Line::Framing;
        }
        return Line::Data(skip);
    }
    if line.first() == Some(&b':')
        || line.starts_with(b"event:")
        || line.starts_with(b"id:")
        || line.starts_with(b"retry:")
    {
        return Line::Framing;
    }
    Line::Json
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classifies_event_stream_lines() {
        assert_eq!(classify(b"{\"a\":1}"), Line::Json);
        assert_eq!(classify(b"data: {\"a\":1}"), Line::Data(6));
        assert_eq!(classify(b"data:{\"a\":1}"), Line::Data(5));
        assert_eq!(classify(b"data: [DONE]"), Line::Framing);
        assert_eq!(classify(b"data:[DONE] "), Line::Framing);
        assert_eq!(classify(b"event: thread.run.step.created"), Line::Framing);
        assert_eq!(classify(b"id: 7"), Line::Framing);
        assert_eq!(classify(b"retry: 1000"), Line::Framing);
        assert_eq!(classify(b": keep-alive"), Line::Framing);
        // Not SSE: left to the JSON parser, which calls them invalid.
        assert_eq!(classify(b"datum: 1"), Line::Json);
        assert_eq!(classify(b"events: 1"), Line::Json);
    }
}
