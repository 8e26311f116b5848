//! A tool that tells them what it did: notes on standard error (and in the JSON) for inputs
//! that gave no step, the fix for the wrong file given to the wrong command, the format
//! taken from `-o`'s extension, the time window and what it left out.

use crate::util::*;
use serde_json::Value;
use std::path::Path;

/// Runs `steplog ARGS` in `testdata/`: exit code, stdout, stderr.
fn run(args: &[&str]) -> (i32, String, String) {
    let out = steplog().args(args).output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn inputs_that_give_no_step_are_named_with_what_they_hold_and_the_fix() {
    let dir = tempfile::tempdir().unwrap();
    let d = |n: &str| path(&dir.path().join(n)).to_string();
    let state = d("a.state");
    ok(steplog().args(["partial", "tools.jsonl", "-o", &state]));
    std::fs::write(d("empty.jsonl"), "").unwrap();
    std::fs::write(d("blank.jsonl"), "\n  \n").unwrap();
    std::fs::write(d("other.jsonl"), "{\"a\":1}\n{\"b\":2}\n").unwrap();
    std::fs::create_dir_all(dir.path().join("tree/sub")).unwrap();
    std::fs::copy(
        testdata().join("tools.jsonl"),
        dir.path().join("tree/sub/t.jsonl"),
    )
    .unwrap();
    // Inputs with lines nothing was read from are refused (exit 2: a report of zeros
    // would pass for a quiet day); empty ones, and run objects alone, are a note.
    let cases: [(Vec<String>, &[&str], i32); 6] = [
        (vec![state.clone()], &["a.state is a steplog state file: read it with `steplog report"], 2),
        (
            vec!["samples/runs.jsonl".into()],
            &["samples/runs.jsonl holds 18 run objects and no steps"],
            0,
        ),
        (vec![d("empty.jsonl")], &["empty.jsonl is empty"], 0),
        (vec![d("blank.jsonl")], &["blank.jsonl holds only blank lines"], 0),
        (
            vec![d("other.jsonl")],
            &["other.jsonl: none of its 2 lines is a run step or a response (line 1: missing required field `id`)"],
            2,
        ),
        (
            vec![d("tree")],
            &["no input file was read", "1 subdirectory not read (-r reads subdirectories"],
            0,
        ),
    ];
    for (inputs, said, exit) in cases {
        let json = d("out.json");
        let _ = std::fs::remove_file(&json);
        let mut args = vec!["summary", "-o", json.as_str()];
        args.extend(inputs.iter().map(String::as_str));
        let (code, _, err) = run(&args);
        assert_eq!(code, exit, "{err}");
        for s in said {
            assert!(err.contains(s), "{inputs:?}: stderr {err:?} lacks {s:?}");
        }
        if exit != 0 {
            assert!(
                err.contains("nothing was read from 1 of the inputs"),
                "{err}"
            );
            assert!(!Path::new(&json).exists(), "no report of zeros");
            // `-q` keeps standard error for errors: this is one.
            args.insert(1, "-q");
            let (code, _, err) = run(&args);
            assert_eq!((code, err.contains(said[0])), (2, true), "{err}");
            continue;
        }
        let report: Value = serde_json::from_slice(&std::fs::read(&json).unwrap()).unwrap();
        let hints: Vec<&str> = report["hints"]
            .as_array()
            .unwrap()
            .iter()
            .map(|h| h.as_str().unwrap())
            .collect();
        for s in said {
            assert!(
                hints.iter().any(|h| h.contains(s)),
                "{inputs:?}: hints {hints:?}"
            );
        }
        // `-q` keeps standard error for errors.
        args.insert(1, "-q");
        let (_, _, err) = run(&args);
        assert!(err.is_empty(), "{err}");
    }
    // A file found in a directory beside the logs (a README) is a note, not an error; a
    // directory where nothing at all is a step is refused.
    let logs = dir.path().join("logs");
    std::fs::create_dir_all(&logs).unwrap();
    std::fs::copy(testdata().join("tools.jsonl"), logs.join("steps.jsonl")).unwrap();
    std::fs::write(logs.join("README.md"), "# the logs\n").unwrap();
    let (code, _, err) = run(&["summary", "-o", &d("out.json"), path(&logs)]);
    assert_eq!(code, 0, "{err}");
    assert!(
        err.contains("README.md: its one line is not a run step or a response"),
        "{err}"
    );
    let only = dir.path().join("only");
    std::fs::create_dir_all(&only).unwrap();
    std::fs::write(only.join("a.csv"), "a,b\n1,2\n").unwrap();
    let (code, _, err) = run(&["summary", path(&only)]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("nothing was read"), "{err}");
    // `partial` says it too.
    let (_, _, err) = run(&["partial", "-o", &d("b.state"), &d("empty.jsonl")]);
    assert!(err.contains("empty.jsonl is empty"), "{err}");
}

#[test]
fn the_wrong_file_for_report_is_named_with_the_command_to_run() {
    let dir = tempfile::tempdir().unwrap();
    let sse = dir.path().join("stream.txt");
    std::fs::write(
        &sse,
        "event: thread.run.step.created\ndata: {\"id\":\"step_1\"}\n\n",
    )
    .unwrap();
    let page = dir.path().join("page.json");
    std::fs::write(&page, "{\n  \"object\": \"list\",\n  \"data\": []\n}\n").unwrap();
    for (file, holds) in [
        ("tools.jsonl", "JSON lines of run steps or runs"),
        ("samples/runs.jsonl", "JSON lines of run steps or runs"),
        (path(&sse), "a recorded event stream"),
        (path(&page), "a JSON document of run steps or pages"),
    ] {
        let (code, _, err) = run(&["report", file]);
        assert_eq!(code, 2);
        assert!(
            err.contains(holds)
                && err.contains(&format!("summarise it with `steplog summary {file}`")),
            "{file}: {err}"
        );
    }
}

#[test]
fn the_output_extension_picks_the_format_unless_format_says_otherwise() {
    let dir = tempfile::tempdir().unwrap();
    type Looks = fn(&str) -> bool;
    let looks: [(&str, Looks); 6] = [
        ("r.json", |t| serde_json::from_str::<Value>(t).is_ok()),
        ("r.csv", |t| t.starts_with("bucket,metric,key,value")),
        ("r.md", |t| t.starts_with("# steplog summary")),
        ("r.prom", |t| t.starts_with("# HELP")),
        ("r.html", |t| t.starts_with("<!DOCTYPE html>")),
        ("r.txt", |t| t.starts_with("steplog summary of")),
    ];
    for (name, is) in looks {
        let p = dir.path().join(name);
        let (code, _, err) = run(&["summary", "tools.jsonl", "-o", path(&p)]);
        assert_eq!(code, 0, "{err}");
        let text = std::fs::read_to_string(&p).unwrap();
        assert!(is(&text), "{name}: {}", &text[..text.len().min(80)]);
        assert!(!err.contains("extension"), "{err}");
    }
    // A different --format wins, and says so.
    let p = dir.path().join("r.html");
    let (code, _, err) = run(&["summary", "tools.jsonl", "-f", "json", "-o", path(&p)]);
    assert_eq!(code, 0);
    assert!(serde_json::from_slice::<Value>(&std::fs::read(&p).unwrap()).is_ok());
    assert!(
        err.contains("as --format json says, although its extension is that of html"),
        "{err}"
    );
    // Short names.
    for (short, long) in [("md", "markdown"), ("prom", "prometheus"), ("txt", "table")] {
        let a = run(&["summary", "tools.jsonl", "-f", short]);
        let b = run(&["summary", "tools.jsonl", "-f", long]);
        assert_eq!(a, b, "-f {short}");
    }
}

#[test]
fn the_window_and_what_it_left_out_are_in_every_format() {
    let args = ["summary", "--since", "2025-10-30T22:00:01Z", "tools.jsonl"];
    let r = summary_value(&args[1..]);
    let w = &r["input"]["window"];
    assert_eq!(w["since_utc"], "2025-10-30T22:00:01Z");
    assert!(w["until"].is_null());
    let outside = &r["input"]["outside_window"];
    let left_out = r["input"]["filtered_out"].as_u64().unwrap();
    assert!(left_out > 0);
    assert_eq!(outside["last_created_at_utc"], "2025-10-30T22:00:00Z");
    let (_, table, _) = run(&args);
    assert!(
        table.contains("window   2025-10-30T22:00:01Z … the end"),
        "{table}"
    );
    assert!(
        table.contains(&format!("{left_out} records outside the window")),
        "{table}"
    );
    assert!(table.contains("… 2025-10-30T22:00:00Z)"), "{table}");
    for (format, want) in [
        ("markdown", "Window: 2025-10-30T22:00:01Z … the end."),
        ("html", "Window: 2025-10-30T22:00:01Z … the end."),
        ("csv", "input.window.since_utc,,2025-10-30T22:00:01Z"),
    ] {
        let (_, text, _) = run(&[&args[..], &["-f", format]].concat());
        assert!(text.contains(want), "{format}: {want}");
    }
    // From a state, the same.
    let dir = tempfile::tempdir().unwrap();
    let s = dir.path().join("w.state");
    ok(steplog().arg("partial").args(&args[1..]).arg("-o").arg(&s));
    let from_state: Value =
        serde_json::from_slice(&ok(steplog().args(["report", "-f", "json"]).arg(&s))).unwrap();
    assert_eq!(from_state["input"], r["input"]);
}

#[test]
fn prometheus_token_counts_add_up_and_say_when_they_were_made() {
    let (_, prom, _) = run(&["summary", "-f", "prometheus", "usage.jsonl"]);
    let r = summary_value(&["usage.jsonl"]);
    let u = &r["usage"];
    let value = |line: &str| line.rsplit(' ').next().unwrap().parse::<f64>().unwrap() as u64;
    let kinds: u64 = prom
        .lines()
        .filter(|l| l.starts_with("steplog_tokens_total{"))
        .map(value)
        .sum();
    let n = |k: &str| u[k].as_u64().unwrap();
    assert_eq!(kinds, n("prompt_tokens") + n("completion_tokens"));
    assert!(!prom.contains("kind=\"total\"") && !prom.contains("kind=\"cached\""));
    let one = |name: &str| value(prom.lines().find(|l| l.starts_with(name)).unwrap());
    assert_eq!(one("steplog_cached_tokens_total "), n("cached_tokens"));
    assert_eq!(
        one("steplog_reasoning_tokens_total "),
        n("reasoning_tokens")
    );
    // `SOURCE_DATE_EPOCH`, which the tests set, pins the report's time.
    assert_eq!(one("steplog_report_timestamp_seconds "), 1_764_547_200);
    crate::reports::promtool_accepts(&prom);
}

#[test]
fn a_file_where_the_command_goes_gets_the_command_and_the_man_page_keeps_its_lists() {
    let (code, _, err) = run(&["tools.jsonl"]);
    assert_eq!(code, 2);
    assert!(
        err.contains("tip: to summarise files, run `steplog summary tools.jsonl`"),
        "{err}"
    );
    let (_, man, _) = run(&["man"]);
    assert!(
        !man.contains(".SH EXTRA"),
        "clap's refilled section is gone"
    );
    let status = man
        .find(".SH \"EXIT STATUS\"\n.nf\n")
        .expect("an EXIT STATUS section set as written");
    assert!(
        man[status..].contains("\n  3  a --fail-if condition held"),
        "one line per code"
    );
    assert!(man.contains(".SH \"--FAIL-IF METRICS\""));
    // `export` lists only what it takes.
    let (_, help, _) = run(&["export", "--help"]);
    for flag in [
        "--group-by",
        "--dedup",
        "--exemplars",
        "--no-runs",
        "--no-cost",
    ] {
        assert!(!help.contains(flag), "export --help lists {flag}");
    }
}

#[test]
fn every_format_orders_by_count_and_honours_the_interval_or_refuses_it() {
    // Largest first, ties by name, in the table as in Markdown.
    let (_, table, _) = run(&["summary", "--full", "timestamps.jsonl"]);
    let statuses: Vec<&str> = table
        .lines()
        .skip_while(|l| !l.starts_with("  by status"))
        .skip(1)
        .take_while(|l| l.starts_with("    "))
        .map(|l| l.split_whitespace().next().unwrap())
        .collect();
    assert_eq!(
        statuses,
        ["completed", "expired", "cancelled", "failed", "in_progress"]
    );
    let (_, md, _) = run(&["summary", "-f", "md", "timestamps.jsonl"]);
    let at = |s: &str| {
        md.find(&format!("| `{s}` |"))
            .or_else(|| md.find(&format!("| {s} |")))
    };
    assert!(
        at("completed") < at("expired") && at("expired") < at("cancelled"),
        "{md}"
    );
    // The table shows the series --interval asks for.
    let (_, hourly, _) = run(&[
        "summary",
        "--full",
        "--interval",
        "hour",
        "tools.jsonl",
        "samples/api-examples.jsonl",
    ]);
    assert!(hourly.contains("Over time (per hour;"), "{hourly}");
    // The one screen has no time series: --interval there would do nothing.
    let (code, _, err) = run(&["summary", "--interval", "hour", "tools.jsonl"]);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("--interval") && err.contains("--full"),
        "{err}"
    );
    let (code, _, err) = run(&[
        "summary",
        "--interval",
        "hour",
        "-f",
        "prometheus",
        "tools.jsonl",
    ]);
    assert_eq!(code, 2);
    assert!(
        err.contains("--interval does not apply to --format prometheus"),
        "{err}"
    );
}

#[test]
fn the_table_fits_80_columns_and_uses_more_when_there_is_more() {
    let dir = tempfile::tempdir().unwrap();
    let logs = dir.path().join("g.jsonl");
    let runs = dir.path().join("g.runs.jsonl");
    ok(steplog()
        .args(["generate", "-n", "3000", "--seed", "2", "-o"])
        .arg(&logs)
        .arg("--runs")
        .arg(&runs));
    let args = [
        "summary",
        "--full",
        "--group-by",
        "assistant",
        "--interval",
        "hour",
        path(&logs),
        path(&runs),
        "malformed.jsonl",
    ];
    let at = |columns: &str| {
        let out = steplog()
            .args(args)
            .env("COLUMNS", columns)
            .output()
            .unwrap();
        assert!(out.status.success());
        String::from_utf8(out.stdout).unwrap()
    };
    let narrow = at("80");
    for line in narrow.lines() {
        assert!(
            line.chars().count() <= 80,
            "{} wide: {line:?}",
            line.chars().count()
        );
    }
    // Ids shortened in the middle, and what was left out said.
    assert!(narrow.contains('…'), "{narrow}");
    let wide = at("250");
    let widest = wide.lines().map(|l| l.chars().count()).max().unwrap();
    assert!(widest > 80 && widest <= 250, "{widest}");
    assert!(!wide.contains("not shown here"), "{wide}");
    // Without a terminal or COLUMNS (a file), as wide as the cells: no id shortened.
    let (_, piped, _) = run(&args);
    assert!(!piped.contains("not shown here") && !piped.contains("asst_…"));
    let ids = |t: &str| t.matches("asst_").count();
    assert_eq!(ids(&piped), ids(&wide));
}

#[test]
fn the_progress_of_a_compressed_file_is_its_compressed_bytes() {
    use std::io::Write;
    let dir = tempfile::tempdir().unwrap();
    let mut text = Vec::new();
    steplog::generate::Generator::new(8)
        .write(60_000, &mut text)
        .unwrap();
    let gz = dir.path().join("steps.jsonl.gz");
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    e.write_all(&text).unwrap();
    std::fs::write(&gz, e.finish().unwrap()).unwrap();
    let out = steplog()
        .args([
            "summary",
            "--progress",
            "--threads",
            "1",
            "-f",
            "json",
            "-o",
            "/dev/null",
        ])
        .arg(&gz)
        .output()
        .unwrap();
    assert!(out.status.success());
    let err = String::from_utf8(out.stderr).unwrap();
    for line in err.lines() {
        assert!(line.chars().count() <= 80, "{line:?}");
    }
    // "▓▓░░ 3.31 MiB/10.15 MiB 32.92 MiB/s eta 0s": done and total, in bytes.
    let bytes = |n: &str, unit: &str| {
        let scale = match unit {
            "B" => 1.0,
            "KiB" => 1024.0,
            "MiB" => 1024.0 * 1024.0,
            _ => panic!("unit {unit}"),
        };
        n.parse::<f64>().unwrap() * scale
    };
    let shown: Vec<(f64, f64)> = err
        .lines()
        .filter_map(|l| {
            let w: Vec<&str> = l.split_whitespace().collect();
            let (unit, total) = w.get(2)?.split_once('/')?;
            Some((bytes(w[1], unit), bytes(total, w.get(3)?)))
        })
        .collect();
    assert!(!shown.is_empty(), "{err}");
    let size = std::fs::metadata(&gz).unwrap().len() as f64;
    for &(done, total) in &shown {
        // Measured against the file's size on disk, and never past it.
        assert!(
            (total - size).abs() / size < 0.01,
            "{total} against {size}: {err}"
        );
        assert!(done <= total * 1.001, "{done} > {total}: {err}");
    }
    // Decompressed bytes would reach the compressed size a fifth of the way in (judged
    // when the bar drew at least twice during the run).
    let drawn: Vec<_> = shown.iter().filter(|s| s.0 > 0.0).collect();
    if drawn.len() >= 2 {
        assert!(drawn.iter().any(|&&(d, t)| d < 0.9 * t), "{err}");
    }
}

#[test]
fn the_window_survives_a_merge_with_the_empty_state() {
    use steplog::state::{Limits, State};
    let dir = tempfile::tempdir().unwrap();
    let s = dir.path().join("w.state");
    ok(steplog()
        .args([
            "partial",
            "--since",
            "2025-10-30T22:00:01Z",
            "tools.jsonl",
            "-o",
        ])
        .arg(&s));
    let state = State::read(&s, Limits::default()).unwrap();
    let window = state.report(Default::default()).input.window;
    assert!(window.is_some());
    let mut merged = State::empty(state.settings.clone());
    merged.merge(state).unwrap();
    assert_eq!(merged.report(Default::default()).input.window, window);
}
