//! Runs, threads, exemplars, `--where` and `find`, against an independent computation:
//! generated runs written in shuffled order across several files, every line read back
//! with serde_json and every figure recomputed here.

use crate::util::*;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// A step as the independent computation sees it, and where it is.
#[derive(Debug, Clone)]
pub(crate) struct Step {
    pub(crate) v: Value,
    pub(crate) raw: String,
    pub(crate) file: String,
    pub(crate) line: u64,
}

impl Step {
    fn s(&self, k: &str) -> Option<&str> {
        self.v[k].as_str()
    }

    fn created(&self) -> i64 {
        self.v["created_at"].as_i64().unwrap()
    }

    /// The terminal timestamp its duration uses.
    fn terminal(&self) -> Option<i64> {
        let field = match self.s("status")? {
            "completed" => "completed_at",
            "failed" => "failed_at",
            "cancelled" => "cancelled_at",
            "expired" => "expired_at",
            _ => return None,
        };
        self.v[field].as_i64().or_else(|| {
            (self.s("status") == Some("expired"))
                .then(|| self.v["expires_at"].as_i64())
                .flatten()
        })
    }

    /// As reports count it: none for a step whose terminal time comes before its creation.
    fn duration(&self) -> Option<i64> {
        self.terminal()
            .map(|t| t - self.created())
            .filter(|d| *d >= 0)
    }

    fn tool_calls(&self) -> u64 {
        self.v["step_details"]["tool_calls"]
            .as_array()
            .map_or(0, |a| a.len() as u64)
    }

    fn tokens(&self, k: &str) -> Option<u64> {
        let u = &self.v["usage"];
        if !u.is_object() {
            return None;
        }
        match k {
            "cached" => u["prompt_token_details"]["cached_tokens"].as_u64(),
            "reasoning" => u["completion_tokens_details"]["reasoning_tokens"].as_u64(),
            k => u[format!("{k}_tokens")].as_u64(),
        }
    }
}

/// A deterministic shuffle (xorshift), so failures reproduce.
pub fn shuffle<T>(v: &mut [T], mut seed: u64) {
    for i in (1..v.len()).rev() {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        v.swap(i, (seed % (i as u64 + 1)) as usize);
    }
}

/// `n` generated steps, shuffled and split over four files in `dir/logs`; the steps in
/// input order (files in path order).
fn shuffled_corpus(dir: &Path, n: u64, seed: u64) -> (PathBuf, Vec<Step>) {
    let mut out = Vec::new();
    steplog::generate::Generator::new(seed)
        .write(n, &mut out)
        .unwrap();
    let text = String::from_utf8(out).unwrap();
    let mut lines: Vec<&str> = text.lines().collect();
    shuffle(&mut lines, seed * 7919 + 1);
    let logs = dir.join("logs");
    std::fs::create_dir_all(&logs).unwrap();
    let mut steps = Vec::new();
    let per = lines.len().div_ceil(4);
    for (k, part) in lines.chunks(per).enumerate() {
        let name = logs.join(format!("part-{k}.jsonl"));
        std::fs::write(&name, part.join("\n") + "\n").unwrap();
        for (i, l) in part.iter().enumerate() {
            steps.push(Step {
                v: serde_json::from_str(l).unwrap(),
                raw: l.to_string(),
                file: path(&name).to_string(),
                line: i as u64 + 1,
            });
        }
    }
    (logs, steps)
}

/// The ⌈n·q/100⌉-th smallest.
fn rank(sorted: &[u64], q: usize) -> Value {
    if sorted.is_empty() {
        return Value::Null;
    }
    let k = (sorted.len() * q).div_ceil(100).max(1);
    sorted[k - 1].into()
}

fn spread(mut v: Vec<u64>) -> Value {
    v.sort_unstable();
    let n = v.len();
    let sum: u128 = v.iter().map(|&x| u128::from(x)).sum();
    serde_json::json!({
        "count": n,
        "min": v.first(),
        "mean": (n > 0).then(|| sum as f64 / n as f64),
        "p50": rank(&v, 50),
        "p90": rank(&v, 90),
        "p99": rank(&v, 99),
        "max": v.last(),
    })
}

/// Runs by id with a figure: the slowest or costliest.
pub(crate) type Ranked = Vec<(String, u64)>;

/// Runs and threads as the report should give them, and the slowest and costliest runs.
pub(crate) fn expected_runs(steps: &[Step]) -> (Value, Value, Ranked, Ranked) {
    let mut runs: BTreeMap<&str, Vec<&Step>> = BTreeMap::new();
    let mut threads: BTreeMap<&str, (u64, BTreeSet<&str>)> = BTreeMap::new();
    let (mut without_run, mut without_thread) = (0u64, 0u64);
    for s in steps {
        match s.s("run_id") {
            Some(r) => runs.entry(r).or_default().push(s),
            None => without_run += 1,
        }
        match s.s("thread_id") {
            Some(t) => {
                let e = threads.entry(t).or_default();
                e.0 += 1;
                if let Some(r) = s.s("run_id") {
                    e.1.insert(r);
                }
            }
            None => without_thread += 1,
        }
    }
    let mut by_outcome: BTreeMap<String, u64> = BTreeMap::new();
    let (mut per_run, mut spans, mut tools, mut tokens) = (vec![], vec![], vec![], vec![]);
    let (mut slowest, mut costliest) = (vec![], vec![]);
    for (id, ss) in &runs {
        let last = ss
            .iter()
            .max_by_key(|s| {
                (
                    s.created(),
                    s.terminal().unwrap_or(i64::MIN),
                    s.s("id").unwrap().to_string(),
                )
            })
            .unwrap();
        *by_outcome
            .entry(last.s("status").unwrap().into())
            .or_default() += 1;
        per_run.push(ss.len() as u64);
        let first = ss.iter().map(|s| s.created()).min().unwrap();
        let end = ss.iter().filter_map(|s| s.terminal()).max();
        if let (Some(_), Some(end)) = (last.terminal(), end) {
            if end >= first {
                spans.push((end - first) as u64);
                slowest.push((id.to_string(), (end - first) as u64));
            }
        }
        tools.push(ss.iter().map(|s| s.tool_calls()).sum());
        let t: u64 = ss.iter().map(|s| s.tokens("total").unwrap_or(0)).sum();
        tokens.push(t);
        costliest.push((id.to_string(), t));
    }
    let top = |mut v: Vec<(String, u64)>| {
        v.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        v.truncate(10);
        v
    };
    let runs_v = serde_json::json!({
        "total": runs.len(),
        "steps_without_run": without_run,
        "by_outcome": by_outcome,
        "steps_per_run": spread(per_run),
        "span_seconds": spread(spans),
        "tool_calls_per_run": spread(tools),
        "tokens_per_run": spread(tokens),
    });
    let threads_v = serde_json::json!({
        "total": threads.len(),
        "steps_without_thread": without_thread,
        "runs_per_thread": spread(threads.values().map(|t| t.1.len() as u64).collect()),
        "steps_per_thread": spread(threads.values().map(|t| t.0).collect()),
    });
    (runs_v, threads_v, top(slowest), top(costliest))
}

#[test]
fn runs_threads_and_exemplars_agree_with_an_independent_computation() {
    let dir = tempfile::tempdir().unwrap();
    let (logs, steps) = shuffled_corpus(dir.path(), 12_000, 3);
    let r = summary_value(&[path(&logs)]);
    let (runs, threads, slowest_runs, costliest_runs) = expected_runs(&steps);
    assert!(runs["total"].as_u64().unwrap() > 1000, "{runs}");
    assert_eq!(r["runs"], runs);
    assert_eq!(r["threads"], threads);
    let e = &r["exemplars"];
    let pairs = |list: &Value, key: &str| -> Vec<(String, u64)> {
        list.as_array()
            .unwrap()
            .iter()
            .map(|x| {
                (
                    x[key].as_str().unwrap().to_string(),
                    x["value"].as_u64().unwrap(),
                )
            })
            .collect()
    };
    assert_eq!(pairs(&e["slowest_runs"], "run_id"), slowest_runs);
    assert_eq!(pairs(&e["costliest_runs"], "run_id"), costliest_runs);
    // The slowest steps and the latest failures, with where they are.
    let mut by_duration: Vec<&Step> = steps
        .iter()
        .filter(|s| s.duration().is_some_and(|d| d >= 0))
        .collect();
    by_duration.sort_by(|a, b| {
        b.duration()
            .cmp(&a.duration())
            .then_with(|| a.s("id").cmp(&b.s("id")))
    });
    let mut failed: Vec<&Step> = steps
        .iter()
        .filter(|s| s.s("status") == Some("failed"))
        .collect();
    failed.sort_by(|a, b| {
        b.created()
            .cmp(&a.created())
            .then_with(|| a.s("id").cmp(&b.s("id")))
    });
    for (list, want, value) in [
        (&e["slowest_steps"], &by_duration, "duration"),
        (&e["recent_failures"], &failed, "created"),
    ] {
        let got = list.as_array().unwrap();
        assert_eq!(got.len(), 10);
        for (x, s) in got.iter().zip(want.iter()) {
            assert_eq!(x["id"].as_str(), s.s("id"));
            assert_eq!(x["run_id"].as_str(), s.s("run_id"));
            assert_eq!(x["thread_id"].as_str(), s.s("thread_id"));
            assert_eq!(x["status"].as_str(), s.s("status"));
            assert_eq!(
                (x["file"].as_str().unwrap(), x["line"].as_u64().unwrap()),
                (s.file.as_str(), s.line)
            );
            let v = if value == "duration" {
                s.duration().unwrap()
            } else {
                s.created()
            };
            assert_eq!(x["value"].as_i64(), Some(v));
        }
        if value == "created" {
            assert!(got
                .iter()
                .all(|x| x["code"].is_string() || x["code"].is_null()));
        }
    }
    // Any threads, chunking and I/O give the same report.
    let whole = summary_json(&[path(&logs)]);
    for args in [
        &["--threads", "1"][..],
        &["--threads", "3", "--chunk-size", "1K"],
        &["--no-mmap", "--chunk-size", "7K", "--threads", "2"],
    ] {
        let mut a = args.to_vec();
        a.push(path(&logs));
        assert_eq!(summary_json(&a), whole, "{args:?}");
    }
}

#[test]
fn shards_of_runs_that_cross_files_merge_into_one_run() {
    let dir = tempfile::tempdir().unwrap();
    let (mut logs, _) = shuffled_corpus(dir.path(), 8_000, 5);
    // Shards take files by a hash of their paths, which hold the temporary directory's
    // random name: a directory whose four files fall in at least two shards.
    let shards = |dir: &Path| {
        let files: Vec<PathBuf> = (0..4)
            .map(|k| dir.join(format!("part-{k}.jsonl")))
            .collect();
        (0..3u64)
            .filter(|&index| {
                let shard = steplog::engine::Shard { index, count: 3 };
                files.iter().any(|f| shard.owns(f))
            })
            .count()
    };
    for k in 0.. {
        if shards(&logs) >= 2 {
            break;
        }
        let next = dir.path().join(format!("logs-{k}"));
        std::fs::rename(&logs, &next).unwrap();
        logs = next;
    }
    let (states, merged) = shards_merged(&logs, dir.path(), 3, &[0, 1, 2]);
    let report = ok(steplog().args(["report", "-f", "json", path(&merged)]));
    let one = summary_json(&[path(&logs)]);
    assert_eq!(String::from_utf8(report).unwrap(), one);
    let v: Value = serde_json::from_str(&one).unwrap();
    // Runs do cross the shards: fewer runs than the shards' runs added up.
    let shard_runs: u64 = states
        .iter()
        .map(|s| {
            let r: Value =
                serde_json::from_slice(&ok(steplog().args(["report", "-f", "json", path(s)])))
                    .unwrap();
            r["runs"]["total"].as_u64().unwrap()
        })
        .sum();
    assert!(shard_runs > v["runs"]["total"].as_u64().unwrap());
    // About 150 bytes of state per run.
    let bytes = std::fs::metadata(&merged).unwrap().len();
    assert!(
        bytes / v["runs"]["total"].as_u64().unwrap() < 400,
        "{bytes}"
    );
}

/// Whether step `s` matches each `--where` expression of [`EXPRESSIONS`].
type Judge = fn(&Step) -> bool;

const EXPRESSIONS: [(&str, Judge); 12] = [
    (r#"status == "failed""#, |s| s.s("status") == Some("failed")),
    (r#"status != "completed" && type == "tool_calls""#, |s| {
        s.s("status") != Some("completed") && s.s("type") == Some("tool_calls")
    }),
    ("duration > 30", |s| s.duration().is_some_and(|d| d > 30)),
    (r#"duration <= 2 || code == "rate_limit_exceeded""#, |s| {
        s.duration().is_some_and(|d| d <= 2)
            || s.v["last_error"]["code"].as_str() == Some("rate_limit_exceeded")
    }),
    (r#"code in ["server_error", "rate_limit_exceeded"]"#, |s| {
        matches!(
            s.v["last_error"]["code"].as_str(),
            Some("server_error" | "rate_limit_exceeded")
        )
    }),
    (r#"message == "rate limit""#, |s| {
        s.v["last_error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("rate limit"))
    }),
    (r#"tool == "code_interpreter""#, |s| {
        s.v["step_details"]["tool_calls"]
            .as_array()
            .is_some_and(|a| a.iter().any(|c| c["type"] == "code_interpreter"))
    }),
    ("tokens.total >= 2000 && tokens.cached > 0", |s| {
        s.tokens("total").is_some_and(|t| t >= 2000) && s.tokens("cached").is_some_and(|c| c > 0)
    }),
    ("tokens.prompt == null", |s| s.tokens("prompt").is_none()),
    (r#"!(status in ["completed", "in_progress"])"#, |s| {
        !matches!(s.s("status"), Some("completed" | "in_progress"))
    }),
    (
        r#"metadata.team == "search" || metadata.env == "prod""#,
        |s| s.v["metadata"]["team"] == "search" || s.v["metadata"]["env"] == "prod",
    ),
    ("created_at >= 1761900000 && run != null", |s| {
        s.created() >= 1_761_900_000 && s.s("run_id").is_some()
    }),
];

#[test]
fn where_counts_and_find_lines_agree_with_an_independent_computation() {
    let dir = tempfile::tempdir().unwrap();
    let (logs, steps) = shuffled_corpus(dir.path(), 6_000, 9);
    for (expr, judge) in EXPRESSIONS {
        let matching: Vec<&Step> = steps.iter().filter(|s| judge(s)).collect();
        let r = summary_value(&["--where", expr, path(&logs)]);
        assert_eq!(
            r["steps"]["total"].as_u64(),
            Some(matching.len() as u64),
            "{expr}"
        );
        assert_eq!(
            r["input"]["filtered_out"].as_u64(),
            Some((steps.len() - matching.len()) as u64),
            "{expr}"
        );
        // find prints exactly those lines, byte for byte, in input order.
        let out = ok(steplog().args(["find", "-q", "--where", expr, path(&logs)]));
        let want: String = matching.iter().map(|s| s.raw.clone() + "\n").collect();
        assert_eq!(String::from_utf8(out).unwrap(), want, "{expr}");
        // And the same through threads, small chunks and reads.
        let out = ok(steplog().args([
            "find",
            "-q",
            "--threads",
            "3",
            "--chunk-size",
            "2K",
            "--no-mmap",
            "--where",
            expr,
            path(&logs),
        ]));
        assert_eq!(String::from_utf8(out).unwrap(), want, "{expr} (chunked)");
        // JSON: ids with file and line.
        let out = ok(steplog().args(["find", "-q", "-f", "json", "--where", expr, path(&logs)]));
        let got: Value = serde_json::from_slice(&out).unwrap();
        let got: Vec<(String, String, u64)> = got
            .as_array()
            .unwrap()
            .iter()
            .map(|x| {
                (
                    x["id"].as_str().unwrap().into(),
                    x["file"].as_str().unwrap().into(),
                    x["line"].as_u64().unwrap(),
                )
            })
            .collect();
        let want: Vec<(String, String, u64)> = matching
            .iter()
            .map(|s| (s.s("id").unwrap().into(), s.file.clone(), s.line))
            .collect();
        assert_eq!(got, want, "{expr}");
    }
    // --limit: the first N in input order.
    let out = ok(steplog().args([
        "find",
        "-q",
        "--limit",
        "3",
        "--where",
        "duration >= 0",
        path(&logs),
    ]));
    let want: String = steps
        .iter()
        .filter(|s| s.duration().is_some_and(|d| d >= 0))
        .take(3)
        .map(|s| s.raw.clone() + "\n")
        .collect();
    assert_eq!(String::from_utf8(out).unwrap(), want);
}

#[test]
fn states_remember_the_expression_and_refuse_to_merge_others() {
    let dir = tempfile::tempdir().unwrap();
    let (logs, _) = shuffled_corpus(dir.path(), 2_000, 11);
    let (a, b, c) = (
        dir.path().join("a.state"),
        dir.path().join("b.state"),
        dir.path().join("c.state"),
    );
    ok(steplog().args([
        "partial",
        "--where",
        r#"status=="failed""#,
        path(&logs),
        "-o",
        path(&a),
    ]));
    ok(steplog().args([
        "partial",
        "--where",
        r#"status  ==  "failed""#,
        path(&logs),
        "-o",
        path(&b),
    ]));
    ok(steplog().args([
        "partial",
        "--where",
        "duration > 5",
        path(&logs),
        "-o",
        path(&c),
    ]));
    // The same expression however it is spaced: they merge.
    let ab = dir.path().join("ab.state");
    ok(steplog().args(["merge", path(&a), path(&b), "-o", path(&ab)]));
    let out = steplog()
        .args(["merge", path(&a), path(&c), "-o", path(&ab)])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("--where")
            && err.contains(r#"status == "failed""#)
            && err.contains("duration > 5"),
        "{err}"
    );
}

#[test]
fn run_figures_appear_in_every_format() {
    let dir = tempfile::tempdir().unwrap();
    let (logs, steps) = shuffled_corpus(dir.path(), 3_000, 13);
    let (runs, ..) = expected_runs(&steps);
    let total = runs["total"].as_u64().unwrap();
    let slowest = summary_value(&[path(&logs)])["exemplars"]["slowest_steps"][0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    for (fmt, runs_shown) in [
        ("table", format!("Runs {}", thousands(total))),
        ("markdown", format!("## Runs: {total}")),
        ("html", format!("{} runs", thousands(total))),
        ("csv", format!(",runs.total,,{total}")),
        (
            "prometheus",
            "steplog_runs_total{outcome=\"completed\"}".to_string(),
        ),
    ] {
        let mut args = vec!["-f", fmt, "--color", "never", path(&logs)];
        if fmt == "table" {
            args.push("--full");
        }
        let text = summary_text(&args);
        assert!(text.contains(&runs_shown), "{fmt}: no {runs_shown}");
        if fmt != "prometheus" {
            assert!(text.contains(&slowest), "{fmt}: no exemplar {slowest}");
        }
    }
    // The one screen shows the runs and the slowest run by its id.
    let slowest_run = summary_value(&[path(&logs)])["exemplars"]["slowest_runs"][0]["run_id"]
        .as_str()
        .unwrap()
        .to_string();
    let brief = summary_text(&["--color", "never", path(&logs)]);
    assert!(
        brief.contains(&format!("Runs {}", thousands(total))),
        "{brief}"
    );
    assert!(brief.contains(&slowest_run), "{brief}");
    // --no-runs and --exemplars 0 leave them out (null in JSON).
    let r = summary_value(&["--no-runs", "--exemplars", "0", path(&logs)]);
    assert!(r["runs"].is_null() && r["threads"].is_null() && r["exemplars"].is_null());
}

#[test]
fn dedup_applies_before_runs_are_formed() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("stream.jsonl");
    let mut out = Vec::new();
    steplog::generate::Generator::new(4)
        .streaming()
        .write(900, &mut out)
        .unwrap();
    std::fs::write(&p, &out).unwrap();
    let text = String::from_utf8(out).unwrap();
    // The final snapshot of each step, as --dedup keeps it.
    let mut last: BTreeMap<String, Step> = BTreeMap::new();
    for (i, l) in text.lines().enumerate() {
        let v: Value = serde_json::from_str(l).unwrap();
        if v["object"] != "thread.run.step" {
            continue;
        }
        let s = Step {
            v,
            raw: l.into(),
            file: String::new(),
            line: i as u64 + 1,
        };
        let id = s.s("id").unwrap().to_string();
        let better = last.get(&id).is_none_or(|o| {
            let rank = |s: &Step| (s.terminal().is_some(), s.terminal().or(Some(s.created())));
            rank(&s) >= rank(o)
        });
        if better {
            last.insert(id, s);
        }
    }
    let steps: Vec<Step> = last.into_values().collect();
    let (runs, threads, ..) = expected_runs(&steps);
    let r = summary_value(&["--dedup", path(&p)]);
    assert_eq!(r["runs"], runs);
    assert_eq!(r["threads"], threads);
}

#[test]
fn a_run_whose_steps_disagree_is_reported_alike_however_it_is_read() {
    // One run whose steps name two assistants and two threads, among other runs, in
    // three files: every split, thread count and file order gives the same report, and
    // the run is under the names first in byte order.
    let dir = tempfile::tempdir().unwrap();
    let step = |i: u64, asst: &str, thread: &str| {
        format!(
            r#"{{"id":"step_{i:03}","object":"thread.run.step","created_at":{},"run_id":"run_x","assistant_id":"{asst}","thread_id":"{thread}","type":"message_creation","status":"completed","completed_at":{}}}"#,
            1_761_000_000 + i,
            1_761_000_010 + i
        )
    };
    let other = |i: u64| {
        format!(
            r#"{{"id":"step_o{i:03}","object":"thread.run.step","created_at":{},"run_id":"run_{i}","assistant_id":"asst_m","thread_id":"thread_m","type":"message_creation","status":"completed","completed_at":{}}}"#,
            1_761_000_000 + i,
            1_761_000_100 + i
        )
    };
    let mut files = Vec::new();
    for (f, (asst, thread)) in [
        ("asst_z", "thread_b"),
        ("asst_c", "thread_z"),
        ("asst_q", "thread_c"),
    ]
    .iter()
    .enumerate()
    {
        let mut text = String::new();
        for i in 0..40u64 {
            text += &other(f as u64 * 100 + i);
            text.push('\n');
            text += &step(f as u64 * 100 + i, asst, thread);
            text.push('\n');
        }
        let p = dir.path().join(format!("{f}.jsonl"));
        std::fs::write(&p, text).unwrap();
        files.push(p);
    }
    let names: Vec<&str> = files.iter().map(|p| path(p)).collect();
    let base = summary_json(&names);
    let v: Value = serde_json::from_str(&base).unwrap();
    let run = v["exemplars"]["slowest_runs"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["run_id"] == "run_x")
        .expect("run_x is the slowest run");
    assert_eq!(run["assistant_id"], "asst_c");
    assert_eq!(run["thread_id"], "thread_b");
    let reversed: Vec<&str> = names.iter().rev().copied().collect();
    for extra in [
        vec!["-j", "1"],
        vec!["-j", "3", "--chunk-size", "1"],
        vec!["-j", "2", "--chunk-size", "300"],
        vec!["--no-mmap", "--chunk-size", "1"],
    ] {
        for order in [&names, &reversed] {
            let mut a = extra.clone();
            a.extend(order.iter().copied());
            let r: Value = serde_json::from_str(&summary_json(&a)).unwrap();
            // Per-file figures follow the order given; the runs do not.
            assert_eq!(r["runs"], v["runs"], "{a:?}");
            assert_eq!(r["threads"], v["threads"], "{a:?}");
            let strip = |x: &Value| {
                let mut x = x.clone();
                for list in x.as_object_mut().unwrap().values_mut() {
                    for e in list.as_array_mut().unwrap() {
                        e.as_object_mut().unwrap().remove("file");
                    }
                }
                x
            };
            assert_eq!(strip(&r["exemplars"]), strip(&v["exemplars"]), "{a:?}");
            if order == &names {
                assert_eq!(summary_json(&a), base, "{a:?}");
            }
        }
    }
}
