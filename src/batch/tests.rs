//! Unit tests of the batch.
use super::*;

fn row<'a>(id: &'a str, status: &'a str) -> Row<'a> {
    Row {
        id,
        status,
        ..Row::default()
    }
}

#[test]
fn push_and_clear_keep_columns_aligned() {
    let mut b = Batch::new();
    b.push_tool(ToolKind::Function, Some("get_weather"));
    b.push_tool(ToolKind::CodeInterpreter, None);
    b.push(&Row {
        step_type: Some("tool_calls"),
        assistant: Some("asst_1"),
        created_at: 100,
        times: TimesRow {
            completed_at: Some(105),
            ..Default::default()
        },
        usage: Some(UsageRow {
            prompt: Some(1),
            completion: Some(2),
            total: Some(3),
            ..Default::default()
        }),
        ..row("s", "completed")
    });
    b.push(&Row {
        error_code: Some("boom"),
        error_message: Some("msg"),
        created_at: 7,
        ..row("t", "weird")
    });
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
    assert_eq!(b.dicts.status.get(KNOWN_STATUSES.len() as Code), "weird");
}

#[test]
fn expired_falls_back_to_expires_at() {
    let mut b = Batch::new();
    for expired_at in [None, Some(20)] {
        b.push(&Row {
            created_at: 10,
            times: TimesRow {
                expired_at,
                expires_at: Some(50),
                ..Default::default()
            },
            ..row("s", "expired")
        });
    }
    assert_eq!(b.terminal_at(0), Some(50));
    assert_eq!(b.terminal_at(1), Some(20));
}

#[test]
fn kept_text_and_popped_rows_stay_aligned() {
    let mut b = Batch::new();
    b.set_keep(Keep {
        ids: true,
        runs: true,
        threads: true,
        metadata: vec!["team".into(), "n".into()],
    });
    let mut metadata = [MetaValue::Absent; MAX_METADATA];
    metadata[0] = MetaValue::Str("billing");
    metadata[1] = MetaValue::Int(-3);
    b.push_tool(ToolKind::Function, Some("f"));
    b.push(&Row {
        run: Some("run_1"),
        thread: Some("thread_1"),
        metadata: &metadata,
        ..row("a", "completed")
    });
    b.push_tool(ToolKind::FileSearch, None);
    b.push_tool(ToolKind::Function, Some("g"));
    b.push(&Row {
        run: Some("run_2"),
        ..row("b", "failed")
    });
    b.push(&row("c", "weird"));
    b.pop_row();
    assert_eq!(b.len(), 2);
    assert_eq!(b.tool_offsets, vec![0, 1, 3]);
    assert_eq!((b.id(0), b.id(1), b.id(2)), (Some("a"), Some("b"), None));
    assert_eq!((b.run_id.get(1), b.thread_id.get(1)), (Some("run_2"), None));
    assert_eq!(b.metadata[0].get(0), Some("billing"));
    assert_eq!(b.metadata[1].get(0), Some("-3"));
    assert_eq!(b.metadata[0].get(1), None);
    assert_eq!(b.metadata[0].len(), 2, "the popped row's values are gone");
}

#[test]
fn rollback_drops_only_the_unfinished_row() {
    let mut b = Batch::new();
    b.push_tool(ToolKind::Function, Some("a"));
    b.push(&Row {
        created_at: 1,
        ..row("s", "completed")
    });
    b.push_tool(ToolKind::Function, Some("b"));
    b.rollback_tools();
    assert_eq!(b.tool_kind.len(), 1);
    assert_eq!(b.tools(0), 0..1);
}
