//! The document scanner against documents written by hand.

use super::*;

/// The entries of `doc` as (text, physical line from 1), read in chunks of `chunk`.
fn entries(doc: &str, chunk: usize, max_line: u64) -> Vec<(String, u64)> {
    let pool = BufferPool::default();
    let mut src = DocumentSource::new(doc.as_bytes(), chunk, max_line);
    let mut out = Vec::new();
    let mut first_line = 1;
    while let Some((_, data)) = src.next_chunk(&pool).unwrap() {
        let spans = src.take_spans().expect("every document chunk has spans");
        let texts: Vec<String> = match data {
            ChunkData::Owned(v) => String::from_utf8(v)
                .unwrap()
                .lines()
                .map(str::to_string)
                .collect(),
            ChunkData::Oversized(n) => vec![format!("<{n}>")],
            ChunkData::Mapped(..) => unreachable!(),
        };
        assert_eq!(texts.len(), spans.starts.len());
        assert_eq!(texts.len(), spans.offsets.len());
        for (t, &o) in texts.iter().zip(&spans.offsets) {
            let first = doc.as_bytes()[o as usize];
            assert!(
                t.starts_with('<') || t.as_bytes()[0] == first,
                "{t:?} at {o}"
            );
        }
        for (t, s) in texts.into_iter().zip(&spans.starts) {
            out.push((t, first_line + u64::from(*s)));
        }
        first_line += spans.lines;
    }
    assert_eq!(src.bytes_read(), doc.len() as u64);
    out
}

fn all_ways(doc: &str) -> Vec<(String, u64)> {
    let want = entries(doc, 1 << 20, u64::MAX);
    for chunk in [1, 2, 7, 40] {
        assert_eq!(entries(doc, chunk, u64::MAX), want, "chunk {chunk}");
    }
    want
}

fn e(s: &str, line: u64) -> (String, u64) {
    (s.to_string(), line)
}

#[test]
fn list_pages_give_their_data_elements_at_the_lines_they_start() {
    let one_line =
        "{\"object\":\"list\",\"data\":[{\"id\":\"a\"},{\"id\":\"b\"}],\"has_more\":false}\n\
                    {\"object\":\"list\",\"data\":[{\"id\":\"c\"}],\"first_id\":\"c\"}\n";
    assert_eq!(
        all_ways(one_line),
        [
            e("{\"id\":\"a\"}", 1),
            e("{\"id\":\"b\"}", 1),
            e("{\"id\":\"c\"}", 2)
        ]
    );
    // Keys sorted (`jq -S`): `data` first or not, it is the page's.
    let pretty = "{\n  \"data\": [\n    {\n      \"id\": \"a\",\n      \"x\": \"]}\\\"[{\"\n    },\n    {\"id\": \"b\"}\n  ],\n  \"has_more\": true,\n  \"object\": \"list\"\n}\n";
    assert_eq!(
        all_ways(pretty),
        [
            e("{\"id\":\"a\",\"x\":\"]}\\\"[{\"}", 3),
            e("{\"id\":\"b\"}", 7)
        ]
    );
}

#[test]
fn arrays_and_objects_spanning_lines_are_entries() {
    let doc = "[\n {\"id\":\"a\",\n  \"n\":[1,2]},\n {\"object\":\"list\",\"data\":[{\"id\":\"b\"}]},\n 7, \"s\", null\n]\n{\n\"id\":\"c\"\n}\n";
    assert_eq!(
        all_ways(doc),
        [
            e("{\"id\":\"a\",\"n\":[1,2]}", 2),
            e("{\"id\":\"b\"}", 4),
            e("7", 5),
            e("\"s\"", 5),
            e("null", 5),
            e("{\"id\":\"c\"}", 7)
        ]
    );
}

#[test]
fn what_is_not_json_and_what_is_cut_short_are_entries_too() {
    let doc = "[{\"id\":\"a\"}]\nnot json here\n{\"id\":\"b\",\n";
    assert_eq!(
        all_ways(doc),
        [
            e("{\"id\":\"a\"}", 1),
            e("not json here", 2),
            e("{\"id\":\"b\",", 3)
        ]
    );
}

#[test]
fn an_element_cut_short_ends_where_the_next_one_opens() {
    // Cut in a member's value, in a nested object, and before its first key; whole
    // elements around them, and brackets inside strings that must not count.
    let doc = "[{\"id\":\"a\",\"n\":1,{\"id\":\"b\",\"u\":{\"p\":1,\
               {\"id\":\"c{,\"},{\"id\":\"d\",\"x\":[{},[]]},{{\"id\":\"e\"}]\n\
               {\"object\":\"list\",\"data\":[{\"id\":\"f\",{\"id\":\"g\"}]}\n";
    assert_eq!(
        all_ways(doc),
        [
            e("{\"id\":\"a\",\"n\":1,", 1),
            e("{\"id\":\"b\",\"u\":{\"p\":1,", 1),
            e("{\"id\":\"c{,\"}", 1),
            e("{\"id\":\"d\",\"x\":[{},[]]}", 1),
            e("{", 1),
            e("{\"id\":\"e\"}", 1),
            e("{\"id\":\"f\",", 2),
            e("{\"id\":\"g\"}", 2),
        ]
    );
}

#[test]
fn an_entry_over_the_limit_is_measured_not_kept() {
    let doc = "[{\"id\":\"a\"},\n{\"id\":\"0123456789\"},\n{\"id\":\"b\"}]";
    for chunk in [1, 1 << 20] {
        assert_eq!(
            entries(doc, chunk, 12),
            [e("{\"id\":\"a\"}", 1), e("<19>", 2), e("{\"id\":\"b\"}", 3)]
        );
    }
    // An entry cut short swallows the lines up to the end of the input.
    let doc = "[1,2]\n{\"id\":\"step_1\",\"status\":\n{\"id\":\"step_0\",\"x\":12345}\n";
    for chunk in [1, 1 << 20] {
        assert_eq!(
            entries(doc, chunk, 30),
            [e("1", 1), e("2", 1), e("<49>", 2)],
            "chunk {chunk}"
        );
    }
}

#[test]
fn detects_documents_but_not_jsonl_or_streams() {
    for doc in [
        "[{\"id\":1}]",
        "\u{feff}  [",
        "{\n\"id\":1}",
        "  {  \r\n\"id\":1}",
        "{\"object\":\"list\",\"data\":[{\"id\":1}]}\n",
        "{\"has_more\":false, \"data\" : [",
    ] {
        assert!(detect(doc.as_bytes()), "{doc:?}");
    }
    for doc in [
        "{\"id\":1}\n{\"id\":2}\n",
        "{\"data\":{\"id\":1}}\n",
        "{\"a\":{\"data\":[1]}}\n",
        "event: thread.run.step.created\ndata: {\"id\":1}\n",
        "",
        "{\"id\":\"a\\n{\"}\n",
        "{\"id\":\"step_1\",\"status\":\n]\n{\"id\":2}\n",
        "{\"id\":1,\n\"data\":[",
    ] {
        assert!(!detect(doc.as_bytes()), "{doc:?}");
    }
}
