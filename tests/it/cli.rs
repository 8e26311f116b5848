//! Integration tests: drive the real `steplog` binary.

#[allow(unused_imports)]
use crate::util::*;
use serde_json::Value;
use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::path::Path;
use std::process::Stdio;

/// Every fixture, relative to `testdata/`.
fn fixtures() -> Vec<String> {
    let mut out = Vec::new();
    for dir in ["", "samples"] {
        for e in std::fs::read_dir(testdata().join(dir)).unwrap() {
            let p = e.unwrap().path();
            if p.extension().is_some_and(|x| x == "jsonl") {
                out.push(
                    p.strip_prefix(testdata())
                        .unwrap()
                        .to_string_lossy()
                        .into_owned(),
                );
            }
        }
    }
    out.sort();
    assert!(out.len() >= 10, "fixtures missing: {out:?}");
    out
}

/// Each fixture's full JSON report is pinned in `snapshots/it__cli__expected@NAME.snap`.
#[test]
fn every_fixture_matches_its_expected_report() {
    for f in fixtures() {
        let name = Path::new(&f)
            .file_stem()
            .unwrap()
            .to_string_lossy()
            .into_owned();
        insta::assert_snapshot!(format!("expected@{name}"), summary_json(&[&f]));
    }
}

#[test]
fn identical_json_whatever_threads_chunking_or_io() {
    for f in fixtures() {
        let base = summary_json(&[&f]);
        for args in [
            vec!["--threads", "1"],
            vec!["--threads", "4"],
            vec!["--threads", "3", "--chunk-size", "1"],
            vec!["--threads", "2", "--chunk-size", "100"],
            vec!["--no-mmap"],
            vec!["--no-mmap", "--chunk-size", "1", "--threads", "4"],
        ] {
            let mut a = args.clone();
            a.push(&f);
            assert_eq!(summary_json(&a), base, "{f} with {args:?}");
        }
        // Standard input gives the same figures, under the name `-`.
        let stdin = std::fs::read(testdata().join(&f)).unwrap();
        let out = steplog()
            .args(["summary", "-f", "json", "--chunk-size", "64"])
            .write_stdin(stdin)
            .output()
            .unwrap();
        let mut want: Value = serde_json::from_str(&base).unwrap();
        for file in want["input"]["files"].as_array_mut().unwrap() {
            file["path"] = "-".into();
        }
        for ex in want["input"]["malformed_examples"].as_array_mut().unwrap() {
            ex["file"] = "-".into();
        }
        crate::util::each_exemplar(&mut want, |x| x["file"] = "-".into());
        for h in want["hints"].as_array_mut().unwrap() {
            *h = h
                .as_str()
                .unwrap()
                .replace(f.as_str(), "standard input")
                .into();
        }
        assert_eq!(
            serde_json::from_slice::<Value>(&out.stdout).unwrap(),
            want,
            "{f} via stdin"
        );
    }
}

#[test]
fn every_line_is_accounted_for() {
    for f in fixtures() {
        let r: Value = serde_json::from_str(&summary_json(&[&f])).unwrap();
        let i = &r["input"];
        let n = |k: &str| i[k].as_u64().unwrap();
        assert_eq!(
            n("lines"),
            n("records")
                + n("runs")
                + n("blank_lines")
                + n("deltas")
                + n("framing")
                + n("malformed"),
            "{f}"
        );
        let by_reason: u64 = i["malformed_by_reason"]
            .as_object()
            .unwrap()
            .values()
            .map(|v| v.as_u64().unwrap())
            .sum();
        assert_eq!(by_reason, n("malformed"), "{f}");
        let text = std::fs::read(testdata().join(&f)).unwrap();
        let lines = text
            .split(|b| *b == b'\n')
            .filter(|l| !l.is_empty())
            .count() as u64
            + text
                .split(|b| *b == b'\n')
                .filter(|l| l.is_empty())
                .count()
                .saturating_sub(1) as u64;
        assert_eq!(n("lines"), lines, "{f}: line count");
        assert_eq!(n("bytes"), text.len() as u64, "{f}: bytes");
        assert_eq!(r["steps"]["total"], i["records"], "{f}");
    }
}

#[test]
fn several_files_make_one_report() {
    let both: Value = serde_json::from_str(&summary_json(&["tools.jsonl", "usage.jsonl"])).unwrap();
    let a: Value = serde_json::from_str(&summary_json(&["tools.jsonl"])).unwrap();
    let b: Value = serde_json::from_str(&summary_json(&["usage.jsonl"])).unwrap();
    assert_eq!(both["input"]["files"].as_array().unwrap().len(), 2);
    for key in ["lines", "records", "bytes"] {
        assert_eq!(
            both["input"][key].as_u64().unwrap(),
            a["input"][key].as_u64().unwrap() + b["input"][key].as_u64().unwrap()
        );
    }
    assert_eq!(both["steps"]["by_status"]["completed"], 9);
    assert_eq!(both["failures"]["total"], 3);
}

#[test]
fn malformed_examples_name_file_and_line_whatever_the_chunking() {
    for extra in [
        vec![],
        vec!["--chunk-size", "1", "--threads", "4"],
        vec!["--no-mmap", "--chunk-size", "50"],
    ] {
        let mut args = extra.clone();
        args.push("malformed.jsonl");
        let r: Value = serde_json::from_str(&summary_json(&args)).unwrap();
        let ex = r["input"]["malformed_examples"].as_array().unwrap();
        assert_eq!(ex.len(), 10);
        let lines: Vec<u64> = ex.iter().map(|e| e["line"].as_u64().unwrap()).collect();
        assert_eq!(lines, (2..=11).collect::<Vec<_>>(), "{extra:?}");
        assert_eq!(ex[0]["reason"], "invalid_json");
        assert_eq!(ex[4]["field"], "id");
        assert!(ex.iter().all(|e| e["file"] == "malformed.jsonl"));
    }
}

#[test]
fn strict_stops_at_the_first_malformed_line() {
    for extra in [
        vec![],
        vec!["--chunk-size", "1", "--threads", "4"],
        vec!["--no-mmap"],
    ] {
        let out = steplog()
            .args(["summary", "--strict"])
            .args(&extra)
            .arg("malformed.jsonl")
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(1), "{extra:?}");
        let err = String::from_utf8(out.stderr).unwrap();
        assert!(
            err.contains("malformed.jsonl:2: malformed line (invalid_json)"),
            "{extra:?}: {err}"
        );
        assert!(out.stdout.is_empty());
    }
    // A clean file passes --strict.
    steplog()
        .args(["summary", "--strict", "tools.jsonl"])
        .assert()
        .success();
    // With several files, the first malformed line is in the second.
    let out = steplog()
        .args([
            "summary",
            "--strict",
            "tools.jsonl",
            "malformed.jsonl",
            "usage.jsonl",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("malformed.jsonl:2:"));
}

#[test]
fn unreadable_inputs_exit_2_with_a_message() {
    let out = steplog()
        .args(["summary", "no-such-file.jsonl"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(
        err.contains("cannot open no-such-file.jsonl") && err.contains("No such file"),
        "{err}"
    );

    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("steps.jsonl.gz");
    std::fs::write(&bad, b"\x1f\x8b\x08\x00garbage").unwrap();
    let out = steplog()
        .args(["summary", bad.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("cannot read") && err.contains("steps.jsonl.gz"),
        "{err}"
    );

    let out = steplog()
        .args(["summary", "--format", "yaml", "tools.jsonl"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "usage errors exit 2");
}

#[test]
fn a_shard_that_draws_only_a_readme_is_an_empty_part_not_an_error() {
    // A directory of logs with a README beside them, split into shards by a hash of the
    // paths: with enough shards the README lands in one of its own. That shard's state
    // is empty (the whole has records); the merged states are the whole directory.
    let dir = tempfile::tempdir().unwrap();
    let logs = dir.path().join("logs");
    std::fs::create_dir(&logs).unwrap();
    let readme = logs.join("README.md");
    std::fs::write(&readme, "# Logs\n\nRun steps, one per line.\n").unwrap();
    let log = logs.join("steps.jsonl");
    std::fs::copy(testdata().join("samples/api-examples.jsonl"), &log).unwrap();
    let n = (2..64u64)
        .find(|&count| {
            let shard = |index| steplog::engine::Shard { index, count };
            (0..count).any(|i| shard(i).owns(&readme) && !shard(i).owns(&log))
        })
        .expect("a shard count that parts the two files");
    let alone = (0..n)
        .find(|&index| steplog::engine::Shard { index, count: n }.owns(&readme))
        .unwrap();
    let state = dir.path().join("alone.state");
    let out = steplog()
        .args(["partial", path(&logs), "--shard-count", &n.to_string()])
        .args(["--shard-index", &alone.to_string(), "-o", path(&state)])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("README.md"),
        "the README is still a note"
    );
    let r: Value =
        serde_json::from_slice(&ok(steplog().args(["report", "-f", "json", path(&state)])))
            .unwrap();
    assert_eq!(r["steps"]["total"], 0);
    let order: Vec<usize> = (0..n as usize).rev().collect();
    let (_, merged) = shards_merged(&logs, dir.path(), n, &order);
    let report = ok(steplog().args(["report", "-f", "json", path(&merged)]));
    assert_eq!(
        String::from_utf8(report).unwrap(),
        summary_json(&[path(&logs)])
    );

    // Named on the command line, the README is still refused, sharded or not.
    let out = steplog()
        .args(["partial", path(&readme), "--shard-count", &n.to_string()])
        .args(["--shard-index", &alone.to_string(), "-o", path(&state)])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("nothing was read"));
}

#[test]
fn bench_reports_runs_and_stages_for_the_same_lines_as_summary() {
    let out = steplog()
        .args([
            "bench",
            "-n",
            "3",
            "--warmup",
            "1",
            "-j",
            "2",
            "--chunk-size",
            "1K",
        ])
        .args([
            "-f",
            "json",
            "malformed.jsonl",
            "samples/api-examples.jsonl",
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let bench: Value = serde_json::from_slice(&out.stdout).unwrap();
    let summary: Value = serde_json::from_str(&summary_json(&[
        "malformed.jsonl",
        "samples/api-examples.jsonl",
    ]))
    .unwrap();
    for field in [
        "bytes",
        "lines",
        "records",
        "blank_lines",
        "deltas",
        "malformed",
    ] {
        assert_eq!(bench[field], summary["input"][field], "{field}");
    }
    assert_eq!(bench["threads"], 2);
    assert_eq!(bench["warmup_runs"], 1);
    assert_eq!(bench["samples"].as_array().unwrap().len(), 3);
    let stages: Vec<&str> = bench["stages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["stage"].as_str().unwrap())
        .collect();
    assert_eq!(stages, ["read", "split", "parse", "aggregate"]);
    let wall = &bench["wall_seconds"];
    let (min, median, max) = (
        wall["min"].as_f64().unwrap(),
        wall["median"].as_f64().unwrap(),
        wall["max"].as_f64().unwrap(),
    );
    assert!(0.0 < min && min <= median && median <= max, "{wall}");
    let shares: f64 = bench["stages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["share"].as_f64().unwrap())
        .sum();
    assert!((shares - 1.0).abs() < 1e-9, "shares add up to {shares}");

    let table = steplog()
        .args(["bench", "-n", "1", "--warmup", "0", "tools.jsonl"])
        .output()
        .unwrap();
    let text = String::from_utf8(table.stdout).unwrap();
    assert!(
        text.contains("GB/s per core") && text.contains("parse"),
        "{text}"
    );

    let out = steplog().args(["bench", "-"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("give files"));
}

#[test]
fn help_documents_exit_codes_and_defaults() {
    let out = steplog().args(["summary", "--help"]).output().unwrap();
    let help = String::from_utf8(out.stdout).unwrap();
    assert!(help.contains("Exit codes:") && help.contains("1  malformed input under --strict"));
    // Each default stated once, options under headings, examples, wrapped to COLUMNS.
    assert!(help.contains("[default: 4M]") && !help.contains("By default, 4M"));
    for heading in [
        "Input and selection:",
        "Output:",
        "Costs:",
        "Performance:",
        "Examples:",
    ] {
        assert!(help.contains(&format!("\n{heading}\n")), "{heading}");
    }
    let narrow = steplog()
        .args(["summary", "--help"])
        .env("COLUMNS", "60")
        .output()
        .unwrap();
    for line in String::from_utf8(narrow.stdout).unwrap().lines() {
        assert!(line.chars().count() <= 60, "{line:?}");
    }
}

#[test]
fn a_closed_pipe_is_not_an_error() {
    let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("steplog"))
        .args(["generate", "-n", "2000000"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = [0u8; 1024];
    child
        .stdout
        .as_mut()
        .unwrap()
        .read_exact(&mut first)
        .unwrap();
    let stderr = crate::util::reader_gone(child, "generate");
    assert!(stderr.is_empty());
}

#[test]
fn table_snapshots() {
    for f in [
        "samples/api-examples.jsonl",
        "malformed.jsonl",
        "timestamps.jsonl",
    ] {
        let name = Path::new(f)
            .file_stem()
            .unwrap()
            .to_string_lossy()
            .into_owned();
        // The whole table, and the one screen it is by default.
        for (view, flags) in [("table", &["--full"][..]), ("brief", &[])] {
            let out = steplog().args(["summary", f]).args(flags).output().unwrap();
            assert!(out.status.success());
            insta::assert_snapshot!(
                format!("{view}_{name}"),
                String::from_utf8(out.stdout).unwrap()
            );
        }
    }
}

#[test]
fn json_snapshot() {
    let v: Value = serde_json::from_str(&summary_json(&[
        "samples/api-examples.jsonl",
        "samples/stream-events.jsonl",
    ]))
    .unwrap();
    insta::assert_json_snapshot!("json_samples", v);
}

// ---------------------------------------------------------------------------------------
// An independent computation of the same figures, with serde_json and sorting, on a
// generated corpus.

#[derive(Default)]
struct Expect {
    lines: u64,
    by_status: BTreeMap<String, u64>,
    by_type: BTreeMap<String, u64>,
    tool_kinds: BTreeMap<String, u64>,
    functions: BTreeMap<String, u64>,
    fail_code: BTreeMap<String, u64>,
    fail_assistant: BTreeMap<String, u64>,
    fail_tool: BTreeMap<String, u64>,
    messages: BTreeMap<String, u64>,
    terminal: u64,
    durations: BTreeMap<&'static str, (Vec<u64>, u64)>,
    tokens: [u64; 5],
    with_usage: u64,
    mismatch: u64,
    by_assistant_total: BTreeMap<String, u64>,
    first: i64,
    last: i64,
}

fn key(v: &Value) -> String {
    v.as_str().unwrap_or("(none)").to_string()
}

fn independent(text: &str) -> Expect {
    let mut e = Expect {
        first: i64::MAX,
        last: i64::MIN,
        ..Default::default()
    };
    for line in text.lines() {
        e.lines += 1;
        let v: Value = serde_json::from_str(line).unwrap();
        let status = v["status"].as_str().unwrap();
        *e.by_status.entry(status.into()).or_default() += 1;
        *e.by_type.entry(key(&v["type"])).or_default() += 1;
        let created = v["created_at"].as_i64().unwrap();
        e.first = e.first.min(created);
        e.last = e.last.max(created);
        let calls = v["step_details"]["tool_calls"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        let mut kinds = std::collections::BTreeSet::new();
        for c in &calls {
            let k = c["type"].as_str().unwrap().to_string();
            *e.tool_kinds.entry(k.clone()).or_default() += 1;
            if k == "function" {
                *e.functions.entry(key(&c["function"]["name"])).or_default() += 1;
            }
            kinds.insert(k);
        }
        let terminal_key = match status {
            "completed" => Some(("completed", "completed_at")),
            "failed" => Some(("failed", "failed_at")),
            "cancelled" => Some(("cancelled", "cancelled_at")),
            "expired" => Some(("expired", "expired_at")),
            _ => None,
        };
        if let Some((name, field)) = terminal_key {
            e.terminal += 1;
            let mut at = v[field].as_i64();
            if name == "expired" && at.is_none() {
                at = v["expires_at"].as_i64();
            }
            let slot = e.durations.entry(name).or_default();
            match at.map(|t| t - created).filter(|d| *d >= 0) {
                Some(d) => slot.0.push(d as u64),
                None => slot.1 += 1,
            }
        }
        if status == "failed" {
            *e.fail_code
                .entry(key(&v["last_error"]["code"]))
                .or_default() += 1;
            *e.fail_assistant.entry(key(&v["assistant_id"])).or_default() += 1;
            if kinds.is_empty() {
                *e.fail_tool.entry("(none)".into()).or_default() += 1;
            }
            for k in kinds {
                *e.fail_tool.entry(k).or_default() += 1;
            }
            if let Some(m) = v["last_error"]["message"].as_str() {
                *e.messages.entry(m.into()).or_default() += 1;
            }
        }
        let u = &v["usage"];
        if u.is_object() {
            e.with_usage += 1;
            let t = usage_tokens(u);
            for (a, b) in e.tokens.iter_mut().zip(t) {
                *a += b;
            }
            if t[0] + t[1] != t[2] {
                e.mismatch += 1;
            }
            *e.by_assistant_total
                .entry(key(&v["assistant_id"]))
                .or_default() += t[2];
        }
    }
    e
}

fn map(v: &Value) -> BTreeMap<String, u64> {
    v.as_object()
        .unwrap()
        .iter()
        .map(|(k, v)| (k.clone(), v.as_u64().unwrap()))
        .filter(|(_, n)| *n > 0)
        .collect()
}

/// The exact quantile as HDR defines the rank: the smallest value whose cumulative count
/// reaches `ceil(q * n)`.
fn exact_quantile(sorted: &[u64], q: f64) -> u64 {
    let rank = ((q * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    sorted[rank - 1]
}

#[test]
fn agrees_with_an_independent_computation_on_a_generated_corpus() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("gen.jsonl");
    let mut file = std::fs::File::create(&path).unwrap();
    steplog::generate::Generator::new(42)
        .write(120_000, &mut file)
        .unwrap();
    file.flush().unwrap();
    let text = std::fs::read_to_string(&path).unwrap();
    let e = independent(&text);

    let r: Value = serde_json::from_str(&summary_json(&[
        "--chunk-size",
        "1M",
        path.to_str().unwrap(),
    ]))
    .unwrap();

    assert_eq!(r["input"]["lines"], e.lines);
    assert_eq!(r["input"]["records"], e.lines);
    assert_eq!(map(&r["steps"]["by_status"]), e.by_status);
    assert_eq!(e.by_status.len(), 5, "the corpus has every status");
    assert_eq!(map(&r["steps"]["by_type"]), e.by_type);
    assert_eq!(map(&r["tool_calls"]["by_kind"]), e.tool_kinds);
    assert_eq!(e.tool_kinds.len(), 4, "the corpus has every tool kind");
    assert_eq!(map(&r["tool_calls"]["functions"]), e.functions);
    assert_eq!(map(&r["failures"]["by_code"]), e.fail_code);
    assert_eq!(map(&r["failures"]["by_assistant"]), e.fail_assistant);
    assert_eq!(map(&r["failures"]["by_tool"]), e.fail_tool);
    assert_eq!(r["failures"]["terminal_steps"], e.terminal);
    let failed = e.by_status["failed"];
    assert_eq!(
        r["failures"]["rate"].as_f64().unwrap(),
        failed as f64 / e.terminal as f64
    );
    let mut top: Vec<(&String, &u64)> = e.messages.iter().collect();
    top.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
    let got: Vec<(String, u64)> = r["failures"]["top_messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            (
                m["message"].as_str().unwrap().to_string(),
                m["count"].as_u64().unwrap(),
            )
        })
        .collect();
    let want: Vec<(String, u64)> = top
        .iter()
        .take(10)
        .map(|(m, n)| ((*m).clone(), **n))
        .collect();
    assert_eq!(got, want);

    let u = &r["usage"];
    let names = [
        "prompt_tokens",
        "completion_tokens",
        "total_tokens",
        "cached_tokens",
        "reasoning_tokens",
    ];
    for (name, want) in names.iter().zip(e.tokens) {
        assert_eq!(u[name], want, "{name}");
    }
    assert!(
        e.tokens[3] > 0 && e.tokens[4] > 0,
        "the corpus has token details"
    );
    assert_eq!(u["steps_with_usage"], e.with_usage);
    assert_eq!(u["steps_without_usage"], e.lines - e.with_usage);
    assert_eq!(u["total_mismatch"], e.mismatch);
    assert!(e.mismatch > 0, "the corpus has mismatches");
    let per_asst: BTreeMap<String, u64> = u["by_assistant"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(k, v)| (k.clone(), v["total_tokens"].as_u64().unwrap()))
        .collect();
    assert_eq!(per_asst, e.by_assistant_total);
    assert_eq!(r["time_range"]["first_created_at"], e.first);
    assert_eq!(r["time_range"]["last_created_at"], e.last);

    for (name, (mut ds, missing)) in e.durations {
        ds.sort_unstable();
        let d = &r["durations_seconds"][name];
        assert_eq!(d["count"], ds.len() as u64, "{name}");
        assert_eq!(d["missing"], missing, "{name}");
        assert_eq!(d["min"], ds[0], "{name}");
        assert_eq!(d["max"], *ds.last().unwrap(), "{name}");
        let mean = ds.iter().sum::<u64>() as f64 / ds.len() as f64;
        assert!(
            (d["mean"].as_f64().unwrap() - mean).abs() < 1e-9 * mean.max(1.0),
            "{name} mean"
        );
        for (k, q) in [
            ("p50", 0.5),
            ("p90", 0.9),
            ("p95", 0.95),
            ("p99", 0.99),
            ("p999", 0.999),
        ] {
            let want = exact_quantile(&ds, q) as f64;
            let got = d[k].as_f64().unwrap();
            // 3 significant digits: within 0.1% (HDR buckets), never off by more.
            assert!(
                (got - want).abs() <= (want * 1e-3).max(1.0),
                "{name} {k}: got {got}, exact {want}"
            );
        }
    }
    assert!(
        r["durations_seconds"]["completed"]["missing"]
            .as_u64()
            .unwrap()
            > 0,
        "corpus has negative durations"
    );
}

#[test]
fn hostile_bytes_never_panic_and_every_line_is_counted() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("hostile.jsonl");
    let mut data = Vec::new();
    // Seeded pseudo-random bytes with newlines sprinkled in.
    let mut x = 0x2545_F491_4F6C_DD1Du64;
    for _ in 0..300_000 {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        data.push(if x.is_multiple_of(97) {
            b'\n'
        } else {
            (x >> 24) as u8
        });
    }
    data.push(b'\n');
    data.extend_from_slice(&b"["[..].repeat(5000));
    data.push(b'\n');
    data.extend_from_slice(&b"{\"a\":".repeat(3000));
    data.push(b'\n');
    data.extend_from_slice(b"{\"id\":\"s\0\",\"created_at\":1,\"status\":\"completed\"}\n");
    data.extend_from_slice(b"{\"id\":\"\xff\xfe\",\"created_at\":1,\"status\":\"completed\"}\n");
    data.extend_from_slice(b"\0\0\0\n\xEF\xBB\xBF\n");
    // Bytes alone are refused (nothing was read: see careless.rs); one step among them
    // makes a report.
    std::fs::write(&path, &data).unwrap();
    let (code, err) = fails(&["summary", "-q", path.to_str().unwrap()]);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("none of its") && err.contains("hostile.jsonl"),
        "{err}"
    );
    data.extend_from_slice(b"{\"id\":\"ok\",\"created_at\":1,\"status\":\"completed\"}\n");
    std::fs::write(&path, &data).unwrap();
    let expected_lines = data.iter().filter(|b| **b == b'\n').count() as u64;
    for extra in [
        vec![],
        vec!["--chunk-size", "1K", "--threads", "4"],
        vec!["--no-mmap"],
    ] {
        let mut args = extra.clone();
        args.push(path.to_str().unwrap());
        let r: Value = serde_json::from_str(&summary_json(&args)).unwrap();
        let i = &r["input"];
        let n = |k: &str| i[k].as_u64().unwrap();
        assert_eq!(n("lines"), expected_lines);
        assert_eq!(
            n("lines"),
            n("records")
                + n("runs")
                + n("blank_lines")
                + n("deltas")
                + n("framing")
                + n("malformed")
        );
        assert!(n("malformed") > 3000, "random lines are malformed");
    }
}
