//! `--group-by` at scale: per-group figures against an independent computation (every
//! line read with serde_json, every figure recomputed) for run, thread, metadata and
//! combined keys; the same whatever the threads, chunking and I/O; states of shards
//! merged equal one run; `--top`, `--sort`, `--max-groups` and the Prometheus bound.

#[allow(unused_imports)]
use crate::util::*;
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// What one group should show, computed from the lines alone.
#[derive(Debug, Default, Clone, PartialEq)]
struct Expect {
    steps: u64,
    by_status: BTreeMap<String, u64>,
    by_code: BTreeMap<String, u64>,
    terminal: u64,
    /// Durations and missing ones, by terminal status.
    durations: BTreeMap<String, (Vec<u64>, u64)>,
    tokens: [u64; 6],
    first: i64,
    last: i64,
}

fn text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => "(none)".into(),
        other => other.to_string(),
    }
}

/// The value of dimension `dim` for step `v` (one value: no multi-valued dimensions here).
fn value(v: &Value, dim: &str) -> String {
    let created = v["created_at"].as_i64().unwrap();
    let utc = |secs: i64| {
        // Days since the epoch to a civil date, as an independent check of the names.
        let days = secs.div_euclid(86_400);
        let (z, hour) = (days + 719_468, secs.rem_euclid(86_400) / 3600);
        let era = z.div_euclid(146_097);
        let doe = z.rem_euclid(146_097);
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let d = doy - (153 * mp + 2) / 5 + 1;
        let m = if mp < 10 { mp + 3 } else { mp - 9 };
        let y = yoe + era * 400 + i64::from(m <= 2);
        (format!("{y:04}-{m:02}-{d:02}"), hour)
    };
    match dim {
        "run" => text(&v["run_id"]),
        "thread" => text(&v["thread_id"]),
        "assistant" => text(&v["assistant_id"]),
        "status" => text(&v["status"]),
        "day" => utc(created).0,
        "hour" => {
            let (d, h) = utc(created);
            format!("{d}T{h:02}")
        }
        meta if meta.starts_with("metadata.") => {
            text(&v["metadata"][meta.trim_start_matches("metadata.")])
        }
        other => panic!("no independent value for {other}"),
    }
}

fn independent(text_: &str, dims: &[&str]) -> BTreeMap<Vec<String>, Expect> {
    let mut groups: BTreeMap<Vec<String>, Expect> = BTreeMap::new();
    for line in text_.lines() {
        let v: Value = serde_json::from_str(line).unwrap();
        let key: Vec<String> = dims.iter().map(|d| value(&v, d)).collect();
        let created = v["created_at"].as_i64().unwrap();
        let g = groups.entry(key).or_insert_with(|| Expect {
            first: created,
            last: created,
            ..Expect::default()
        });
        g.steps += 1;
        g.first = g.first.min(created);
        g.last = g.last.max(created);
        let status = v["status"].as_str().unwrap().to_string();
        *g.by_status.entry(status.clone()).or_default() += 1;
        let field = match status.as_str() {
            "completed" => Some("completed_at"),
            "failed" => Some("failed_at"),
            "cancelled" => Some("cancelled_at"),
            "expired" => Some("expired_at"),
            _ => None,
        };
        if let Some(field) = field {
            g.terminal += 1;
            let mut at = v[field].as_i64();
            if status == "expired" && at.is_none() {
                at = v["expires_at"].as_i64();
            }
            let slot = g.durations.entry(status.clone()).or_default();
            match at.map(|t| t - created).filter(|d| *d >= 0) {
                Some(d) => slot.0.push(d as u64),
                None => slot.1 += 1,
            }
        }
        if status == "failed" {
            *g.by_code.entry(text(&v["last_error"]["code"])).or_default() += 1;
        }
        let u = &v["usage"];
        if u.is_object() {
            let t = usage_tokens(u);
            let row = [1, t[0], t[1], t[2], t[3], t[4]];
            for (a, b) in g.tokens.iter_mut().zip(row) {
                *a += b;
            }
        }
    }
    groups
}

/// The nearest-rank percentile: the ⌈n·q/100⌉-th smallest value.
fn nearest_rank(sorted: &[u64], q: u64) -> u64 {
    let n = sorted.len() as u64;
    let rank = (n * q).div_ceil(100).max(1);
    sorted[(rank - 1) as usize]
}

fn counts(v: &Value) -> BTreeMap<String, u64> {
    v.as_object()
        .unwrap()
        .iter()
        .map(|(k, n)| (k.clone(), n.as_u64().unwrap()))
        .collect()
}

/// Checks every group of `report` against `want`: counts and sums exactly, percentiles
/// exactly for groups of at most 64 durations and within 0.4% above.
fn check(report: &Value, want: &BTreeMap<Vec<String>, Expect>) -> (usize, usize) {
    let groups = report["groups"].as_array().unwrap();
    assert_eq!(groups.len(), want.len(), "every group, once");
    assert_eq!(report["groups_total"], want.len() as u64);
    let (mut exact, mut approximate) = (0, 0);
    for g in groups {
        let key: Vec<String> = g["key"]
            .as_array()
            .unwrap()
            .iter()
            .map(|k| k.as_str().unwrap().to_string())
            .collect();
        let e = want
            .get(&key)
            .unwrap_or_else(|| panic!("unexpected group {key:?}"));
        assert_eq!(g["steps"], e.steps, "{key:?}");
        assert_eq!(counts(&g["by_status"]), e.by_status, "{key:?}");
        assert_eq!(counts(&g["failures"]["by_code"]), e.by_code, "{key:?}");
        assert_eq!(g["failures"]["terminal_steps"], e.terminal, "{key:?}");
        let u = &g["usage"];
        let tokens = [
            "steps_with_usage",
            "prompt_tokens",
            "completion_tokens",
            "total_tokens",
            "cached_tokens",
            "reasoning_tokens",
        ]
        .map(|k| u[k].as_u64().unwrap());
        assert_eq!(tokens, e.tokens, "{key:?}");
        assert_eq!(g["time_range"]["first_created_at"], e.first);
        assert_eq!(g["time_range"]["last_created_at"], e.last);
        let total: usize = e.durations.values().map(|d| d.0.len()).sum();
        let durations = g["durations_seconds"].as_object().unwrap();
        assert_eq!(durations.len(), e.durations.len(), "{key:?}");
        for (status, (values, missing)) in &e.durations {
            let d = &g["durations_seconds"][status];
            assert_eq!(d["count"], values.len() as u64, "{key:?} {status}");
            assert_eq!(d["missing"], *missing, "{key:?} {status}");
            if values.is_empty() {
                assert!(d["p50"].is_null());
                continue;
            }
            let mut sorted = values.clone();
            sorted.sort_unstable();
            assert_eq!(d["min"], sorted[0]);
            assert_eq!(d["max"], *sorted.last().unwrap());
            let mean = sorted.iter().sum::<u64>() as f64 / sorted.len() as f64;
            assert!((d["mean"].as_f64().unwrap() - mean).abs() < 1e-9 * mean.max(1.0));
            for q in [50, 90, 99] {
                let want_q = nearest_rank(&sorted, q);
                let got = d[format!("p{q}")].as_u64().unwrap();
                if total <= 64 {
                    assert_eq!(got, want_q, "{key:?} {status} p{q}");
                } else {
                    let err = (got as f64 - want_q as f64).abs() / (want_q as f64).max(1.0);
                    assert!(err <= 0.004, "{key:?} {status} p{q}: {got} vs {want_q}");
                }
            }
        }
        if total <= 64 {
            exact += 1;
        } else {
            approximate += 1;
        }
    }
    (exact, approximate)
}

/// A generated corpus of `lines` steps, with its text.
fn corpus(dir: &Path, lines: u64, seed: u64) -> (PathBuf, String) {
    let mut out = Vec::new();
    steplog::generate::Generator::new(seed)
        .write(lines, &mut out)
        .unwrap();
    let p = dir.join(format!("steps-{seed}.jsonl"));
    std::fs::write(&p, &out).unwrap();
    (p, String::from_utf8(out).unwrap())
}

#[test]
fn run_thread_metadata_and_combined_keys_agree_with_an_independent_computation() {
    let dir = tempfile::tempdir().unwrap();
    let (p, text_) = corpus(dir.path(), 30_000, 21);
    for dims in [
        "run",
        "thread",
        "metadata.team",
        "assistant,metadata.env,day",
        "assistant",
        "status,hour",
    ] {
        let want = independent(&text_, &dims.split(',').collect::<Vec<_>>());
        let report = summary_value(&["--group-by", dims, path(&p)]);
        let (exact, approximate) = check(&report, &want);
        // The corpus has small groups (runs, threads) and large ones (assistants).
        match dims {
            "run" | "thread" => assert!(exact > 1000, "{dims}: {exact} small groups"),
            "assistant" => assert!(approximate > 5, "{dims}: {approximate} large groups"),
            _ => {}
        }
        lines_add_up(&report);
    }
}

#[test]
fn groups_are_the_same_whatever_the_threads_chunks_and_io() {
    let dir = tempfile::tempdir().unwrap();
    let (p, _) = corpus(dir.path(), 6_000, 22);
    let base = summary_json(&["--group-by", "run,metadata.team", path(&p)]);
    for extra in [
        ["-j", "1", "--chunk-size", "64M"],
        ["-j", "3", "--chunk-size", "1K"],
        ["--no-mmap", "-j", "2", "--chunk-size=7K"],
    ] {
        let mut args = extra.to_vec();
        args.extend(["--group-by", "run,metadata.team", path(&p)]);
        assert_eq!(summary_json(&args), base, "{extra:?}");
    }
}

#[test]
fn shards_of_runs_merged_equal_one_run() {
    // Runs cross files: the corpus is cut in the middle of runs, into four files.
    let dir = tempfile::tempdir().unwrap();
    let (_, text_) = corpus(dir.path(), 8_000, 23);
    let lines: Vec<&str> = text_.lines().collect();
    let mut files = Vec::new();
    for (i, part) in lines.chunks(2_003).enumerate() {
        let p = dir.path().join(format!("part-{i}.jsonl"));
        std::fs::write(&p, part.join("\n") + "\n").unwrap();
        files.push(p);
    }
    let mut states = Vec::new();
    for (i, f) in files.iter().enumerate() {
        let s = dir.path().join(format!("{i}.state"));
        ok(steplog()
            .args([
                "partial",
                "--group-by",
                "run,status",
                path(f),
                "-o",
                path(&s),
            ])
            .env_remove("JOB_COMPLETION_INDEX"));
        states.push(s);
    }
    let merged = dir.path().join("all.state");
    ok(steplog()
        .arg("merge")
        .args(states.iter().rev())
        .arg("-o")
        .arg(&merged));
    let report = ok(steplog().args(["report", "-f", "json", path(&merged)]));
    let mut args = vec!["-f", "json", "--group-by", "run,status"];
    args.extend(files.iter().map(|f| path(f)));
    let one = ok(steplog().arg("summary").args(&args));
    assert_eq!(
        String::from_utf8(report).unwrap(),
        String::from_utf8(one).unwrap()
    );
    // And the state round trip keeps every group exactly.
    let again = dir.path().join("again.state");
    ok(steplog().args(["merge", path(&merged), "-o", path(&again)]));
    assert_eq!(
        std::fs::read(&merged).unwrap(),
        std::fs::read(&again).unwrap()
    );
}

#[test]
fn top_and_sort_choose_the_groups_every_format_shows() {
    let dir = tempfile::tempdir().unwrap();
    let (p, text_) = corpus(dir.path(), 5_000, 24);
    let want = independent(&text_, &["thread"]);
    for (sort, figure) in [
        ("steps", "steps"),
        ("failures", "failures"),
        ("tokens", "tokens"),
        ("key", "key"),
    ] {
        let r = summary_value(&[
            "--group-by",
            "thread",
            "--top",
            "7",
            "--sort",
            sort,
            path(&p),
        ]);
        let groups = r["groups"].as_array().unwrap();
        assert_eq!(groups.len(), 7);
        assert_eq!(r["groups_total"], want.len() as u64);
        assert_eq!(r["groups_top"], 7);
        assert_eq!(r["groups_sorted_by"], sort);
        // The independent order: largest first, ties by key; key ascending.
        let mut order: Vec<(&Vec<String>, &Expect)> = want.iter().collect();
        let weight = |e: &Expect| match figure {
            "steps" => e.steps,
            "failures" => e.by_status.get("failed").copied().unwrap_or(0),
            "tokens" => e.tokens[3],
            _ => 0,
        };
        order.sort_by(|a, b| weight(b.1).cmp(&weight(a.1)).then_with(|| a.0.cmp(b.0)));
        let keys: Vec<&str> = groups
            .iter()
            .map(|g| g["key"][0].as_str().unwrap())
            .collect();
        let expected: Vec<&str> = order[..7].iter().map(|(k, _)| k[0].as_str()).collect();
        assert_eq!(keys, expected, "--sort {sort}");
    }
    // The whole table shows 20 and says how many there are; the one screen, 6.
    let table = summary_text(&[
        "--group-by",
        "thread",
        "--full",
        "--color",
        "never",
        path(&p),
    ]);
    let n = want.len();
    let note = format!("{} groups; the 20 with the most steps", thousands(n as u64));
    assert!(table.contains(&note), "{table}");
    let brief = summary_text(&["--group-by", "thread", "--color", "never", path(&p)]);
    let note = format!("{} groups, by steps", thousands(n as u64));
    let more = format!("… {} more groups: --full", thousands(n as u64 - 6));
    assert!(brief.contains(&note) && brief.contains(&more), "{brief}");
    // The formats that show 20 make only those 20 into their report: the same groups in
    // the same order as the first 20 of the JSON, which holds every group.
    let all = summary_value(&["--group-by", "thread", path(&p)]);
    let first: Vec<&str> = all["groups"].as_array().unwrap()[..20]
        .iter()
        .map(|g| g["key"][0].as_str().unwrap())
        .collect();
    let md = summary_text(&["--group-by", "thread", "-f", "markdown", path(&p)]);
    let shown: Vec<&str> = md
        .lines()
        .filter_map(|l| l.strip_prefix("| `"))
        .map(|l| l.split('`').next().unwrap())
        .filter(|k| k.starts_with("thread_"))
        .collect();
    assert_eq!(shown, first);
    let csv = summary_text(&["--group-by", "thread", "-f", "csv", path(&p)]);
    let csv_groups = csv.lines().filter(|l| l.contains(",steps.total,")).count();
    assert_eq!(
        csv_groups,
        n + 1,
        "CSV has every group, and the whole input"
    );
}

#[test]
fn too_many_groups_is_exit_2_naming_the_flag() {
    let dir = tempfile::tempdir().unwrap();
    let (p, _) = corpus(dir.path(), 3_000, 25);
    let out = steplog()
        .args([
            "summary",
            "--group-by",
            "run",
            "--max-groups",
            "100",
            path(&p),
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("--max-groups is 100") && err.contains("stopped at 101 groups"),
        "{err}"
    );
    // The same limit guards merges.
    let s = dir.path().join("runs.state");
    ok(steplog().args(["partial", "--group-by", "run", path(&p), "-o", path(&s)]));
    let out = steplog()
        .args(["merge", "--max-groups", "50", path(&s), "-o"])
        .arg(dir.path().join("m.state"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("--max-groups is 50") && err.contains("more than 50 groups"),
        "{err}"
    );
}

#[test]
fn prometheus_refuses_a_series_per_run_unless_top_bounds_it() {
    let out = steplog()
        .args([
            "summary",
            "-f",
            "prometheus",
            "--group-by",
            "run",
            "tools.jsonl",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("one series per value") && err.contains("--top"),
        "{err}"
    );
    let text_ = summary_text(&[
        "-f",
        "prometheus",
        "--group-by",
        "run,metadata.team",
        "--top",
        "3",
        "tools.jsonl",
    ]);
    assert!(text_.contains("steplog_group_steps_total{run="), "{text_}");
    assert!(
        text_.contains("metadata_team="),
        "label names are sanitised: {text_}"
    );
    crate::reports::promtool_accepts(&text_);
}
