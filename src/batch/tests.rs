//! Unit tests of the batch.
use super::*;

#[test]
fn push_and_clear_keep_columns_aligned() {
    let mut b = Batch::new();
    b.push_tool(ToolKind::Function, Some("get_weather"));
    b.push_tool(ToolKind::CodeInterpreter, None);
    b.push(
        "s",
        "completed",
        Some("tool_calls"),
        Some("asst_1"),
        None,
        None,
        100,
        TimesRow {
            completed_at: Some(105),
            ..Default::default()
        },
        Some(UsageRow {
            prompt: Some(1),
            completion: Some(2),
            total: Some(3),
            ..Default::default()
        }),
    );
    b.push(
        "t",
        "weird",
        None,
        None,
        Some("boom"),
        Some("msg"),
        7,
        TimesRow::default(),
        None,
    );
    assert_eq!(b.len(), 2);
    assert_eq!(b.status[0], STATUS_COMPLETED);
    assert_eq!(b.dicts.status.get(b.status[1]), "weird");
    assert_eq!(b.tools(0), 0..2);
    assert_eq!(b.tools(1), 2..2);
    assert_eq!(b.dicts.function.get(b.tool_function[0]), "get_weather");
    assert_eq!(b.tool_function[1], NULL);
    assert_eq!(b.terminal_at(0), Some(105));
    assert_eq!(b.terminal_at(1), None);
    assert!(b.has_usage.get(0) && !b.has_usage.get(1));
    assert_eq!(b.total_tokens.get(0), Some(3));
    assert_eq!(b.total_tokens.get(1), None);

    b.clear();
    assert!(b.is_empty());
    assert_eq!(b.tool_offsets, vec![0]);
    // dictionaries survive a clear, so codes stay stable for the worker
    assert_eq!(b.dicts.status.get(5), "weird");
}

#[test]
fn expired_falls_back_to_expires_at() {
    let mut b = Batch::new();
    for expired_at in [None, Some(20)] {
        let t = TimesRow {
            expired_at,
            expires_at: Some(50),
            ..Default::default()
        };
        b.push("s", "expired", None, None, None, None, 10, t, None);
    }
    assert_eq!(b.terminal_at(0), Some(50));
    assert_eq!(b.terminal_at(1), Some(20));
}

#[test]
fn pop_and_gather_keep_rows_whole() {
    let mut b = Batch::new();
    let t = TimesRow {
        completed_at: Some(9),
        ..Default::default()
    };
    b.push_tool(ToolKind::Function, Some("f"));
    b.push(
        "a",
        "completed",
        None,
        Some("asst_1"),
        None,
        None,
        1,
        t,
        None,
    );
    b.push_tool(ToolKind::FileSearch, None);
    b.push_tool(ToolKind::Function, Some("g"));
    b.push(
        "b",
        "failed",
        None,
        Some("asst_2"),
        Some("x"),
        None,
        2,
        t,
        None,
    );
    b.push("c", "weird", None, None, None, None, 3, t, None);
    b.pop_row();
    assert_eq!(b.len(), 2);
    assert_eq!(b.tool_offsets, vec![0, 1, 3]);
    let mut out = Batch::new();
    let got = b.gather(&[1], &mut out, |g| {
        (
            g.len(),
            g.dicts.assistant.get(g.assistant[0]).to_string(),
            g.tools(0),
            g.dicts.function.get(g.tool_function[1]).to_string(),
            g.completed_at.get(0),
        )
    });
    assert_eq!(got, (1, "asst_2".into(), 0..2, "g".into(), Some(9)));
    // The dictionaries went back where they belong.
    assert_eq!(b.dicts.assistant.get(b.assistant[0]), "asst_1");
}

#[test]
fn rollback_drops_only_the_unfinished_row() {
    let mut b = Batch::new();
    b.push_tool(ToolKind::Function, Some("a"));
    b.push(
        "s",
        "completed",
        None,
        None,
        None,
        None,
        1,
        TimesRow::default(),
        None,
    );
    b.push_tool(ToolKind::Function, Some("b"));
    b.rollback_tools();
    assert_eq!(b.tool_kind.len(), 1);
    assert_eq!(b.tools(0), 0..1);
}
