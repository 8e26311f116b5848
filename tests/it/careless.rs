//! Nothing lost (2): what a careless or hostile user still broke, each fixed and kept
//! fixed here: group-bys no state could hold, the memory budget against figures keyed by
//! what the log says, model lists with a byte-order mark, empty windows and defaults,
//! deep `--where`s and quoted metadata keys, impossible durations and states, exact
//! dollars, documents with a byte-order mark or a cut element, `find` on event streams.
//! Where reports go is in `outputs`.

use crate::util::{fails, generated, generated_text, lines_add_up, ok, path, steplog};
use serde_json::Value;
use std::fs;

#[test]
fn a_group_by_no_state_could_hold_is_refused_at_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("g.state");
    let nine = "assistant,type,status,tool,function,error_code,day,hour,run";
    for command in ["summary", "partial"] {
        for (dims, says) in [
            ("assistant,assistant", "names assistant twice"),
            ("type,metadata.team,type", "names type twice"),
            (nine, "names 9 dimensions"),
        ] {
            let mut args = vec![command, "usage.jsonl", "-q", "--group-by", dims];
            if command == "partial" {
                args.extend(["-o", path(&state)]);
            }
            let (code, err) = fails(&args);
            assert_eq!(code, 2, "{args:?}: {err}");
            assert!(err.contains(says), "{args:?}: {err}");
        }
    }
    assert!(!state.exists(), "no state is written");
    // Eight distinct dimensions make a state that report reads back.
    let eight = "assistant,type,status,tool,function,error_code,day,hour";
    ok(steplog().args([
        "partial",
        "usage.jsonl",
        "-q",
        "--group-by",
        eight,
        "-o",
        path(&state),
    ]));
    ok(steplog().args(["report", path(&state)]));
}

#[test]
fn thousands_of_step_types_meet_the_memory_limit_not_the_oom_killer() {
    let dir = tempfile::tempdir().unwrap();
    let logs = dir.path().join("types.jsonl");
    // Each distinct type of completed step keeps a duration histogram (about 33 KB).
    let text: String = (0..5_000)
        .map(|i| {
            format!(
                "{{\"id\":\"s{i}\",\"object\":\"thread.run.step\",\"created_at\":1700000000,\
                 \"status\":\"completed\",\"completed_at\":{},\"type\":\"t{i}\"}}\n",
                1_700_000_000 + i % 500
            )
        })
        .collect();
    fs::write(&logs, text).unwrap();
    let l = path(&logs);
    let (code, err) = fails(&["summary", l, "-q", "--memory-limit", "64M"]);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("step types") && err.contains("--memory-limit"),
        "{err}"
    );
    let out = ok(steplog().args(["summary", l, "-q", "-f", "json", "--memory-limit", "1G"]));
    let v: Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(v["steps"]["by_type"].as_object().unwrap().len(), 5_000);

    // Every other figure keyed by what the log says counts too: failure messages and
    // codes, function names, assistants, and the hours of the time series, each distinct.
    let text: String = (0..60_000)
        .map(|i| {
            format!(
                "{{\"id\":\"s{i}\",\"object\":\"thread.run.step\",\"created_at\":{},\
                 \"status\":\"failed\",\"failed_at\":{},\"assistant_id\":\"asst_{i}\",\
                 \"last_error\":{{\"code\":\"code_{i}\",\"message\":\"request {i} failed: {}\"}},\
                 \"step_details\":{{\"type\":\"tool_calls\",\"tool_calls\":[{{\"type\":\"function\",\
                 \"function\":{{\"name\":\"fn_{i}_{}\"}}}}]}}}}\n",
                1_000_000_000 + 3600 * i,
                1_000_000_001 + 3600 * i,
                "x".repeat(100),
                "y".repeat(60),
            )
        })
        .collect();
    let keyed = dir.path().join("keyed.jsonl");
    fs::write(&keyed, text).unwrap();
    let k = path(&keyed);
    for threads in ["1", "3"] {
        let (code, err) = fails(&[
            "summary",
            k,
            "-q",
            "--no-runs",
            "--no-cost",
            "--exemplars",
            "0",
            "--memory-limit",
            "8M",
            "-j",
            threads,
        ]);
        assert_eq!(code, 2, "{err}");
        assert!(
            err.contains("messages") && err.contains("--memory-limit"),
            "{err}"
        );
    }
    let out = ok(steplog().args([
        "summary",
        k,
        "-q",
        "-f",
        "json",
        "--no-runs",
        "--no-cost",
        "--memory-limit",
        "1G",
    ]));
    let v: Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(v["failures"]["by_code"].as_object().unwrap().len(), 60_000);
}

#[test]
fn model_lists_windows_and_defaults_mean_what_they_say() {
    let dir = tempfile::tempdir().unwrap();
    let logs = dir.path().join("s.jsonl");
    let data = generated(&logs, 300, 2);
    let first: Value = serde_json::from_slice(data.split(|&b| b == b'\n').next().unwrap()).unwrap();
    let assistant = first["assistant_id"].as_str().unwrap();
    let l = path(&logs);
    // A model list saved with a byte-order mark: its first line still counts.
    let models_from = |list: &[u8]| {
        let file = dir.path().join("models.txt");
        fs::write(&file, list).unwrap();
        let flag = format!("@{}", path(&file));
        let out = ok(steplog().args(["summary", l, "-q", "-f", "json", "--model", &flag]));
        let v: Value = serde_json::from_slice(&out).unwrap();
        v["cost"]["model_from"]["model_flag"].as_u64().unwrap_or(0)
    };
    let plain = format!("{assistant}=gpt-4\n");
    let with_bom = [&b"\xef\xbb\xbf"[..], plain.as_bytes()].concat();
    let n = models_from(plain.as_bytes());
    assert!(n > 0);
    assert_eq!(models_from(&with_bom), n);
    // An empty default model, and an empty window in find, are refused.
    let (code, err) = fails(&["summary", l, "-q", "--default-model", ""]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("--default-model needs a model name"), "{err}");
    let window = ["--since", "2024-02-01", "--until", "2024-01-01"];
    let mut find = vec!["find", l, "--where", "duration >= 0"];
    find.extend(window);
    let (code, err) = fails(&find);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("must be before --until"), "{err}");
    // An age reaching before 1970 is everything since 1970, said as such.
    let out = ok(steplog().args(["summary", l, "-q", "-f", "json", "--since", "100000d"]));
    let v: Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(v["input"]["window"]["since"], 0);
    assert_eq!(v["input"]["window"]["since_utc"], "1970-01-01T00:00:00Z");
    assert_eq!(v["input"]["filtered_out"], 0);
}

#[test]
fn a_where_nested_past_the_limit_is_an_error_pointing_at_it_not_a_crash() {
    let deep = |n: usize, open: &str, close: &str| {
        format!("{}status == \"failed\"{}", open.repeat(n), close.repeat(n))
    };
    let max = steplog::filter::MAX_DEPTH;
    for (n, open, close) in [(max, "!", ""), (max, "(", ")"), (max / 2, "!(", ")")] {
        let e = deep(n, open, close);
        ok(steplog().args(["summary", "usage.jsonl", "-q", "--where", &e]));
        ok(steplog().args(["find", "usage.jsonl", "-q", "--where", &e]));
    }
    for (n, open, close) in [(max + 1, "!", ""), (10_000, "!", ""), (10_000, "(", ")")] {
        let e = deep(n, open, close);
        for command in ["summary", "find"] {
            let (code, err) = fails(&[command, "usage.jsonl", "-q", "--where", &e]);
            assert_eq!(code, 2, "{command} {n}{open}: {err}");
            assert!(
                err.contains(&format!("at column {}", max + 1)) && err.contains("nest more than"),
                "{err}"
            );
        }
    }
}

#[test]
fn a_step_that_ends_before_it_starts_has_no_duration_anywhere() {
    let dir = tempfile::tempdir().unwrap();
    let logs = dir.path().join("skew.jsonl");
    let step = |id: &str, created: i64, done: i64| {
        format!(
            "{{\"id\":\"{id}\",\"object\":\"thread.run.step\",\"created_at\":{created},\
             \"status\":\"completed\",\"completed_at\":{done},\"run_id\":\"run_{id}\"}}\n"
        )
    };
    let text = [
        step("skewed", 1_700_000_100, 1_700_000_095),
        step("ok", 1_700_000_000, 1_700_000_007),
    ]
    .concat();
    fs::write(&logs, text).unwrap();
    let l = path(&logs);
    let r: Value =
        serde_json::from_slice(&ok(steplog().args(["summary", l, "-q", "-f", "json"]))).unwrap();
    assert_eq!(r["durations_seconds"]["completed"]["missing"], 1);
    assert_eq!(r["durations_seconds"]["completed"]["count"], 1);
    let found = |expr: &str| {
        let out = ok(steplog().args(["find", l, "-q", "--where", expr]));
        let text = String::from_utf8(out).unwrap();
        let mut ids: Vec<String> = text
            .lines()
            .map(|line| {
                serde_json::from_str::<Value>(line).unwrap()["id"]
                    .as_str()
                    .unwrap()
                    .to_string()
            })
            .collect();
        ids.sort();
        ids
    };
    assert!(found("duration < 0").is_empty());
    assert_eq!(found("duration == null"), ["skewed"]);
    assert_eq!(found("duration >= 0"), ["ok"]);
    // The summary's filter agrees with find.
    let r: Value = serde_json::from_slice(&ok(steplog().args([
        "summary",
        l,
        "-q",
        "-f",
        "json",
        "--where",
        "duration <= 2",
    ])))
    .unwrap();
    assert_eq!(r["steps"]["total"], 0);
}

#[test]
fn unpriced_tokens_that_would_pass_2_64_leave_costs_out_saying_why() {
    let dir = tempfile::tempdir().unwrap();
    let logs = dir.path().join("huge.jsonl");
    // Prompt and completion sums fit; their total (what cost figures count) does not.
    fs::write(
        &logs,
        "{\"id\":\"s1\",\"object\":\"thread.run.step\",\"created_at\":1700000000,\
         \"status\":\"completed\",\"completed_at\":1700000001,\"usage\":{\
         \"prompt_tokens\":9223372036854775808,\"completion_tokens\":9223372036854775808,\
         \"total_tokens\":1}}\n",
    )
    .unwrap();
    let out = ok(steplog().args(["summary", path(&logs), "-q", "-f", "json"]));
    let r: Value = serde_json::from_slice(&out).unwrap();
    assert!(r["cost"].is_null(), "{}", r["cost"]);
    let hints = r["hints"].to_string();
    assert!(
        hints.contains("costs are left out") && hints.contains("2^64"),
        "{hints}"
    );
    assert_eq!(r["usage"]["prompt_tokens"], 9_223_372_036_854_775_808u64);
}

#[test]
fn documents_saved_with_a_byte_order_mark_read_like_those_without() {
    let dir = tempfile::tempdir().unwrap();
    let steps: Vec<Value> = generated_text(500, 12)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let page = |s: &[Value]| serde_json::json!({"object": "list", "data": s, "has_more": true});
    let shapes: Vec<(&str, Vec<u8>)> = vec![
        ("array.json", serde_json::to_vec(&steps).unwrap()),
        ("pretty.json", serde_json::to_vec_pretty(&steps).unwrap()),
        (
            "pages.jsonl",
            steps
                .chunks(100)
                .map(|c| serde_json::to_string(&page(c)).unwrap() + "\n")
                .collect::<String>()
                .into_bytes(),
        ),
    ];
    for (name, body) in shapes {
        let plain = dir.path().join(name);
        let marked = dir.path().join(format!("bom-{name}"));
        fs::write(&plain, &body).unwrap();
        fs::write(&marked, [&b"\xef\xbb\xbf"[..], &body].concat()).unwrap();
        let report = |p: &std::path::Path| -> Value {
            serde_json::from_slice(&ok(steplog().args([
                "summary",
                path(p),
                "-q",
                "-f",
                "json",
            ])))
            .unwrap()
        };
        let (a, b) = (report(&plain), report(&marked));
        assert_eq!(b["steps"]["total"], 500, "{name}");
        assert_eq!(b["input"]["malformed"], 0, "{name}");
        for section in ["steps", "failures", "usage", "runs", "durations_seconds"] {
            assert_eq!(a[section], b[section], "{name}: {section}");
        }
        assert_eq!(a["input"]["records"], b["input"]["records"], "{name}");
        assert_eq!(a["input"]["lines"], b["input"]["lines"], "{name}");
    }
}

#[test]
fn dollar_amounts_are_exact_decimals_in_every_machine_format() {
    let dir = tempfile::tempdir().unwrap();
    let logs = dir.path().join("big.jsonl");
    // 2^64 − 1 prompt tokens and 7 completion tokens of gpt-4o on 2025-01-01 (input
    // $2.50 and output $10.00 per million: whole picodollars per token).
    let prompt = u64::MAX;
    fs::write(
        &logs,
        format!(
            "{{\"id\":\"s1\",\"object\":\"thread.run.step\",\"created_at\":1735689600,\
             \"run_id\":\"run_1\",\"status\":\"completed\",\"completed_at\":1735689601,\
             \"usage\":{{\"prompt_tokens\":{prompt},\"completion_tokens\":7,\"total_tokens\":7}}}}\n"
        ),
    )
    .unwrap();
    let pico = u128::from(prompt) * 2_500_000 + 7 * 10_000_000;
    let whole = pico / 1_000_000_000_000;
    let frac = format!("{:012}", pico % 1_000_000_000_000);
    let exact = format!("{whole}.{}", frac.trim_end_matches('0'));
    assert!(
        exact.len() > 17,
        "more digits than a binary float holds: {exact}"
    );
    let run = |format: &str| {
        let out = ok(steplog().args([
            "summary",
            path(&logs),
            "-q",
            "--default-model",
            "gpt-4o",
            "-f",
            format,
        ]));
        String::from_utf8(out).unwrap()
    };
    let json = run("json");
    assert!(json.contains(&format!("\"total_usd\": {exact},")), "{json}");
    let csv = run("csv");
    assert!(
        csv.contains(&format!(",cost.total_usd,,{exact}\n")),
        "{csv}"
    );
    let prom = run("prometheus");
    assert!(
        prom.contains(&format!(
            "steplog_cost_usd_total{{model=\"gpt-4o\"}} {exact}\n"
        )),
        "{prom}"
    );
    // The report reads back (to the picodollar where a binary float can say it).
    let report: steplog::report::Report = serde_json::from_str(&json).unwrap();
    let back = report.cost.unwrap().total_usd.0;
    assert!(
        back.abs_diff(pico) < pico / 1_000_000_000_000,
        "{back} {pico}"
    );
    // Small amounts too: no float noise, no exponent.
    for (p, text) in [
        (7_637_000_000_000u128, "7.637"),
        (2, "0.000000000002"),
        (0, "0.0"),
    ] {
        assert_eq!(steplog::report::Usd(p).decimal(), text);
        assert_eq!(
            steplog::report::Usd::parse(text),
            Some(steplog::report::Usd(p))
        );
    }
    assert_eq!(steplog::report::Usd::parse("-1"), None);
    assert_eq!(steplog::report::Usd::parse("0.0000000000001"), None);
}

#[test]
fn an_element_cut_short_in_a_one_line_array_costs_only_itself() {
    let dir = tempfile::tempdir().unwrap();
    let text = generated_text(100, 15);
    let steps: Vec<&str> = text.lines().collect();
    // Element 3 loses everything from its `"type"` member on: its braces never close.
    let cut = &steps[2][..steps[2].find(",\"type\"").unwrap()];
    let mut elements: Vec<&str> = steps.clone();
    elements[2] = cut;
    let array = format!("[{}]", elements.join(","));
    let file = dir.path().join("cut.json");
    fs::write(&file, &array).unwrap();
    let r: Value = serde_json::from_slice(&ok(steplog().args([
        "summary",
        path(&file),
        "-q",
        "-f",
        "json",
    ])))
    .unwrap();
    assert_eq!(r["input"]["records"], 99, "{}", r["input"]);
    assert_eq!(r["input"]["malformed"], 1, "{}", r["input"]);
    assert_eq!(r["steps"]["total"], 99);
    lines_add_up(&r);
    // The 99 whole steps read as they do without the cut one.
    let mut whole: Vec<&str> = steps.clone();
    whole.remove(2);
    let plain = dir.path().join("plain.json");
    fs::write(&plain, format!("[{}]", whole.join(","))).unwrap();
    let p: Value = serde_json::from_slice(&ok(steplog().args([
        "summary",
        path(&plain),
        "-q",
        "-f",
        "json",
    ])))
    .unwrap();
    for section in ["steps", "failures", "usage", "durations_seconds"] {
        assert_eq!(r[section], p[section], "{section}");
    }
}

#[test]
fn a_state_with_impossible_runs_or_exemplars_is_refused_not_rendered() {
    let dir = tempfile::tempdir().unwrap();
    let logs = dir.path().join("logs.jsonl");
    generated(&logs, 300, 16);
    let good = dir.path().join("good.state");
    ok(steplog().args(["partial", "-q", path(&logs), "-o", path(&good)]));
    let v: Value = serde_json::from_slice(&fs::read(&good).unwrap()).unwrap();
    ok(steplog().args(["report", "-q", path(&good)]));
    type Damage = (&'static str, fn(&mut Value), &'static str);
    // A run row: [ID, THREAD, ASSISTANT, STEPS, FIRST, END, TOOLS, TOKENS, LAST_CREATED,
    // LAST_TERMINAL, STATUS, LAST_ID, FILE, CHUNK, LINE].
    let damages: [Damage; 5] = [
        (
            "a run begun 34,800 years before its end",
            |v| v["summary"]["runs"]["runs"][0][4] = Value::from(-1_098_000_000_000i64),
            "not one a log could make",
        ),
        (
            "a run ending after year 9999",
            |v| v["summary"]["runs"]["runs"][0][5] = Value::from(999_999_999_999i64),
            "not one a log could make",
        ),
        (
            "a run created after the last step",
            |v| {
                let last = v["summary"]["figures"]["time_range"]["bounds"][1]
                    .as_i64()
                    .unwrap();
                v["summary"]["runs"]["runs"][0][8] = Value::from(last + 1);
            },
            "not one a log could make",
        ),
        (
            "runs holding more tokens than the steps",
            |v| v["summary"]["runs"]["runs"][0][7] = Value::from(u64::MAX),
            "tokens",
        ),
        (
            "an exemplar created before 1970",
            |v| v["summary"]["exemplars"]["recent_failures"][0]["created_at"] = Value::from(-5),
            "impossible time",
        ),
    ];
    for (what, damage, says) in damages {
        let mut bad = v.clone();
        damage(&mut bad);
        let p = dir.path().join("bad.state");
        fs::write(&p, serde_json::to_vec(&bad).unwrap()).unwrap();
        let (code, err) = fails(&["report", "-q", path(&p)]);
        assert_eq!(code, 2, "{what}: {err}");
        assert!(
            err.contains(says) && err.contains(path(&p)),
            "{what}: {err}"
        );
    }
}

#[test]
fn where_names_any_metadata_key_that_group_by_accepts() {
    let dir = tempfile::tempdir().unwrap();
    let logs = dir.path().join("meta.jsonl");
    let step = |id: &str, meta: &str| {
        format!(
            "{{\"id\":\"{id}\",\"object\":\"thread.run.step\",\"created_at\":1700000000,\
             \"status\":\"completed\",\"completed_at\":1700000003,\"metadata\":{meta}}}\n"
        )
    };
    fs::write(
        &logs,
        [
            step("a", r#"{"team name":"search","équipe":"ads"}"#),
            step("b", r#"{"team name":"ads"}"#),
            step("c", r#"{"say \"hi\"":"yes","team":"x"}"#),
        ]
        .concat(),
    )
    .unwrap();
    let count = |expr: &str| -> u64 {
        let out = ok(steplog().args(["summary", "-q", "-f", "json", "--where", expr, path(&logs)]));
        let r: Value = serde_json::from_slice(&out).unwrap();
        r["steps"]["total"].as_u64().unwrap()
    };
    assert_eq!(count(r#"metadata["team name"] == "search""#), 1);
    assert_eq!(count(r#"metadata["team name"] != null"#), 2);
    assert_eq!(count(r#"metadata["équipe"] in ["ads"]"#), 1);
    assert_eq!(count(r#"metadata["say \"hi\""] == "yes""#), 1);
    assert_eq!(count(r#"metadata["team"] == "x""#), 1);
    // The normal form a state keeps reads back to the same expression.
    let state = dir.path().join("s.state");
    let expr = r#"metadata["team name"] == "ads" || metadata["say \"hi\""] != null"#;
    ok(steplog().args([
        "partial",
        "-q",
        "--where",
        expr,
        "-o",
        path(&state),
        path(&logs),
    ]));
    let text = fs::read_to_string(&state).unwrap();
    assert!(text.contains(r#"metadata[\"team name\"]"#), "{text}");
    let report = ok(steplog().args(["report", "-q", "-f", "json", path(&state)]));
    let r: Value = serde_json::from_slice(&report).unwrap();
    assert_eq!(r["steps"]["total"], 2);
    // Unfinished or empty keys point at the column.
    for (bad, says) in [
        (r#"metadata["team name" == "x""#, "`]`"),
        (r#"metadata[""] == "x""#, "not empty"),
        (r#"metadata["team == "x""#, "`]`"),
        (r#"metadata["team] == 1"#, "no closing"),
    ] {
        let (code, err) = fails(&["summary", "-q", "--where", bad, path(&logs)]);
        assert_eq!(code, 2, "{bad}: {err}");
        assert!(err.contains(says), "{bad}: {err}");
    }
}

#[test]
fn find_prints_json_lines_from_event_streams_and_a_note_that_adds_up() {
    let dir = tempfile::tempdir().unwrap();
    let text = generated_text(40, 19);
    // The steps as a recorded stream: events, data lines, comments, the end marker.
    let stream: String = text
        .lines()
        .map(|l| format!("event: thread.run.step.completed\ndata: {l}\n\n: ping\n"))
        .chain(["data: [DONE]\n".to_string()])
        .collect();
    let sse = dir.path().join("run.sse");
    fs::write(&sse, &stream).unwrap();
    let find = |extra: &[&str]| {
        let mut args = vec!["find", "--where", "status != null", "-f", "jsonl"];
        args.extend(extra);
        args.push(path(&sse));
        let out = steplog().args(&args).output().unwrap();
        assert!(out.status.success());
        (
            String::from_utf8(out.stdout).unwrap(),
            String::from_utf8(out.stderr).unwrap(),
        )
    };
    let (out, note) = find(&[]);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(
        lines,
        text.lines().collect::<Vec<_>>(),
        "the data lines' JSON"
    );
    for l in &lines {
        serde_json::from_str::<Value>(l).unwrap();
    }
    assert!(note.contains("40 of 40 records match"), "{note}");
    // With a limit, the note says what was written and what was read.
    let (out, note) = find(&["--limit", "3", "-j", "1"]);
    assert_eq!(out.lines().count(), 3);
    assert!(note.contains("the first 3 matches (--limit 3)"), "{note}");
    let read: u64 = note
        .split("reading stopped at ")
        .nth(1)
        .and_then(|s| s.split(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("{note}"));
    assert!((3..=40).contains(&read), "{note}");
    assert!(note.contains(&format!("{read} of them matching")), "{note}");
}
