//! `steplog diff` on data with known, injected changes: one assistant's failure rate
//! doubled on day 2, and another assistant's runs moved to a cheaper model. The diff must
//! find exactly those changes, with the p-values and costs an independent computation
//! gives, and nothing else; in every format, from logs, windows and states alike.

use crate::util::steplog;
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::Path;

const DAY1: i64 = 1_793_577_600; // 2026-11-02T00:00:00Z
const DAY: i64 = 86_400;
const ASSISTANTS: [&str; 4] = ["asst_a", "asst_b", "asst_c", "asst_d"];
const PER_ASSISTANT: u64 = 2_000;
/// Prices (dollars a token): input, output.
const BIG: (f64, f64) = (2e-6, 8e-6);
const SMALL: (f64, f64) = (5e-7, 1e-6);

/// One day of steps and their runs: every step its own run. Each assistant fails every
/// 20th step (server_error); on day 2 (`changed`), asst_b fails every 10th and asst_c's
/// runs use the small model. Durations and tokens are the same every day.
fn day(n: i64, changed: bool) -> (String, String) {
    let (mut steps, mut runs) = (String::new(), String::new());
    for (a, asst) in ASSISTANTS.iter().enumerate() {
        for i in 0..PER_ASSISTANT {
            let id = format!("{n}_{a}_{i}");
            let t = DAY1 + (n - 1) * DAY + (i as i64) * 40 + a as i64;
            let every = if changed && *asst == "asst_b" { 10 } else { 20 };
            let failed = i % every == 0;
            // Durations independent of which steps fail (7 is prime to 10 and 20).
            let d = 5 + (i % 7) as i64;
            let (status, end, error) = if failed {
                (
                    "failed",
                    format!(r#""completed_at":null,"failed_at":{}"#, t + d),
                    r#"{"code":"server_error","message":"boom"}"#,
                )
            } else {
                (
                    "completed",
                    format!(r#""completed_at":{},"failed_at":null"#, t + d),
                    "null",
                )
            };
            let (p, c) = (100 + i % 7, 50 + i % 5);
            steps.push_str(&format!(
                r#"{{"id":"step_{id}","object":"thread.run.step","created_at":{t},"run_id":"run_{id}","assistant_id":"{asst}","thread_id":"thread_{id}","type":"message_creation","status":"{status}",{end},"last_error":{error},"usage":{{"prompt_tokens":{p},"completion_tokens":{c},"total_tokens":{}}}}}"#,
                p + c
            ));
            steps.push('\n');
            let model = if changed && *asst == "asst_c" {
                "model-small"
            } else {
                "model-big"
            };
            runs.push_str(&format!(
                r#"{{"object":"thread.run","id":"run_{id}","created_at":{t},"assistant_id":"{asst}","model":"{model}","status":"{status}"}}"#
            ));
            runs.push('\n');
        }
    }
    (steps, runs)
}

/// The dollars of one day, per assistant, computed from the rules above.
fn expected_cost(changed: bool) -> BTreeMap<&'static str, f64> {
    ASSISTANTS
        .iter()
        .map(|&asst| {
            let price = if changed && asst == "asst_c" {
                SMALL
            } else {
                BIG
            };
            let usd: f64 = (0..PER_ASSISTANT)
                .map(|i| (100 + i % 7) as f64 * price.0 + (50 + i % 5) as f64 * price.1)
                .sum();
            (asst, usd)
        })
        .collect()
}

/// The two-sided tail of the standard normal at `z`, by integrating its density.
fn normal_tail(z: f64) -> f64 {
    let n = 100_000;
    let h = z.abs() / n as f64;
    let pdf = |x: f64| (-x * x / 2.0).exp() / (2.0 * std::f64::consts::PI).sqrt();
    let mut s = pdf(0.0) + pdf(z.abs());
    for i in 1..n {
        s += pdf(i as f64 * h) * if i % 2 == 1 { 4.0 } else { 2.0 };
    }
    1.0 - 2.0 * s * h / 3.0
}

/// The pooled two-proportion z-test, written out.
fn z_test(x1: f64, n1: f64, x2: f64, n2: f64) -> f64 {
    let p = (x1 + x2) / (n1 + n2);
    let z = (x2 / n2 - x1 / n1) / (p * (1.0 - p) * (1.0 / n1 + 1.0 / n2)).sqrt();
    normal_tail(z)
}

/// A directory with day1.jsonl, day2.jsonl (each with its runs), both.jsonl, both days'
/// runs, and prices.json.
fn corpus(dir: &Path) {
    let (s1, r1) = day(1, false);
    let (s2, r2) = day(2, true);
    std::fs::write(dir.join("day1.jsonl"), format!("{s1}{r1}")).unwrap();
    std::fs::write(dir.join("day2.jsonl"), format!("{s2}{r2}")).unwrap();
    std::fs::write(dir.join("both.jsonl"), format!("{s1}{s2}{r1}{r2}")).unwrap();
    let prices = serde_json::json!({
        "model-big": {"input_cost_per_token": BIG.0, "output_cost_per_token": BIG.1},
        "model-small": {"input_cost_per_token": SMALL.0, "output_cost_per_token": SMALL.1},
    });
    std::fs::write(dir.join("prices.json"), prices.to_string()).unwrap();
}

fn diff_json(dir: &Path, args: &[&str]) -> Value {
    let out = steplog()
        .current_dir(dir)
        .args(["diff", "-f", "json", "--prices", "prices.json"])
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

fn close(a: f64, b: f64, what: &str) {
    assert!((a - b).abs() <= 1e-9 + 1e-7 * b.abs(), "{what}: {a} vs {b}");
}

#[test]
fn the_injected_changes_are_found_and_nothing_else() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    corpus(d);
    let j = diff_json(d, &["--group-by", "assistant", "day1.jsonl", "day2.jsonl"]);
    let figures = j["figures"].as_object().unwrap();
    let n = 4.0 * PER_ASSISTANT as f64;
    let (f1, f2) = (4.0 * 100.0, 3.0 * 100.0 + 200.0);
    let rate = &figures["failure_rate"];
    close(rate["base"].as_f64().unwrap(), f1 / n, "base rate");
    close(rate["current"].as_f64().unwrap(), f2 / n, "current rate");
    close(rate["delta"].as_f64().unwrap(), (f2 - f1) / n, "delta");
    close(rate["ratio"].as_f64().unwrap(), f2 / f1, "ratio");
    let p = z_test(f1, n, f2, n);
    assert!(
        (rate["p_value"].as_f64().unwrap() - p).abs() < 1e-8,
        "{} vs {p}",
        rate["p_value"]
    );
    assert_eq!(rate["significant"], true);
    // Costs: the small model for a quarter of day 2.
    let (c1, c2) = (expected_cost(false), expected_cost(true));
    let (t1, t2): (f64, f64) = (c1.values().sum(), c2.values().sum());
    close(figures["cost"]["base"].as_f64().unwrap(), t1, "base cost");
    close(
        figures["cost"]["current"].as_f64().unwrap(),
        t2,
        "current cost",
    );
    close(
        figures["cost_per_run"]["ratio"].as_f64().unwrap(),
        t2 / t1,
        "cost per run",
    );
    // What changed, and nothing else: every figure whose delta is not 0 is one of these.
    let may_change = [
        "failures",
        "failure_rate",
        "run_failure_rate",
        "status.failed",
        "status.completed",
        "code.server_error",
        "cost",
        "cost_per_step",
        "cost_per_run",
        // Failed steps leave the completed durations: about the same shape, fewer of
        // them (so a percentile may move a little, and its test must not call it real).
        "p50",
        "p90",
        "p95",
        "p99",
        "mean",
        "max",
    ];
    for (name, f) in figures {
        // Every figure is one `--fail-if` may name.
        let condition = format!("{name}.delta>0");
        assert!(
            steplog::diff::gate::Change::parse(&condition).is_ok(),
            "{condition}"
        );
        let delta = f["delta"].as_f64();
        assert!(delta.is_some(), "{name} is on one side only: {f}");
        if !may_change.contains(&name.as_str()) {
            assert_eq!(delta, Some(0.0), "{name} changed: {f}");
        }
        if f["significant"] == true {
            assert!(
                [
                    "failures",
                    "failure_rate",
                    "run_failure_rate",
                    "status.failed",
                    "status.completed",
                    "code.server_error"
                ]
                .contains(&name.as_str()),
                "{name} is called significant: {f}"
            );
        }
    }
    for q in ["p50", "p90", "p95", "p99"] {
        assert_eq!(figures[q]["significant"], false, "{q}: {}", figures[q]);
    }
    // Groups: asst_b first, the only one whose failure rate changed.
    let groups = j["groups"].as_array().unwrap();
    assert_eq!(j["groups_ranked_by"], "failure_rate");
    assert_eq!(groups.len(), 4);
    assert_eq!(groups[0]["key"][0], "asst_b");
    let b = &groups[0]["figures"]["failure_rate"];
    let per = PER_ASSISTANT as f64;
    close(
        b["p_value"].as_f64().unwrap(),
        z_test(100.0, per, 200.0, per),
        "asst_b p",
    );
    assert_eq!(b["significant"], true);
    for g in &groups[1..] {
        let f = &g["figures"]["failure_rate"];
        assert_eq!(f["delta"].as_f64(), Some(0.0), "{g}");
        assert_eq!(f["significant"], false, "{g}");
    }
    // By cost: asst_c first, its cost per step down by the known ratio; the others equal.
    let j = diff_json(
        d,
        &[
            "--group-by",
            "assistant",
            "--sort",
            "cost",
            "day1.jsonl",
            "day2.jsonl",
        ],
    );
    let groups = j["groups"].as_array().unwrap();
    assert_eq!(groups[0]["key"][0], "asst_c");
    let c = &groups[0]["figures"]["cost"];
    close(
        c["ratio"].as_f64().unwrap(),
        c2["asst_c"] / c1["asst_c"],
        "asst_c cost",
    );
    for g in &groups[1..] {
        assert_eq!(g["figures"]["cost"]["delta"].as_f64(), Some(0.0), "{g}");
    }
    assert!(j["groups_new"].as_array().unwrap().is_empty());
    assert!(j["groups_gone"].as_array().unwrap().is_empty());
}

#[test]
fn windows_and_states_give_the_same_figures_as_two_files() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    corpus(d);
    let files = diff_json(d, &["--group-by", "assistant", "day1.jsonl", "day2.jsonl"]);
    let windows = diff_json(
        d,
        &[
            "--group-by",
            "assistant",
            "--base-window",
            "2026-11-02..2026-11-03",
            "--current-window",
            "2026-11-03..2026-11-04",
            "both.jsonl",
        ],
    );
    for day in ["day1", "day2"] {
        let out = steplog()
            .current_dir(d)
            .args([
                "partial",
                "-q",
                "--group-by",
                "assistant",
                &format!("{day}.jsonl"),
                "-o",
                &format!("{day}.state"),
            ])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let states = diff_json(d, &["day1.state", "day2.state"]);
    let several = diff_json(d, &["--base", "day1.state", "--current", "day2.state"]);
    for other in [&windows, &states, &several] {
        assert_eq!(files["figures"], other["figures"]);
        assert_eq!(files["groups"], other["groups"]);
    }
    assert_eq!(
        windows["base"]["window"]["since_utc"],
        "2026-11-02T00:00:00Z"
    );
    assert_eq!(files["base"]["inputs"][0], "day1.jsonl");
    assert_eq!(states["current"]["inputs"][0], "day2.state");
}

#[test]
fn fail_if_holds_on_changes_and_names_them() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    corpus(d);
    let run = |conds: &[&str]| {
        let mut c = steplog();
        c.current_dir(d).args([
            "diff",
            "-q",
            "--prices",
            "prices.json",
            "day1.jsonl",
            "day2.jsonl",
        ]);
        for cond in conds {
            c.args(["--fail-if", cond]);
        }
        c.output().unwrap()
    };
    let out = run(&["failure_rate.delta>0.01@significant", "p95.ratio>1.5"]);
    assert_eq!(out.status.code(), Some(3));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("failure_rate.delta>0.01@significant (it is 0.0125, p = "),
        "{err}"
    );
    assert!(!err.contains("p95"), "{err}");
    assert!(String::from_utf8_lossy(&out.stdout).contains("failure_rate"));
    // Not significant, or not over: exit 0.
    assert_eq!(
        run(&["p95.ratio>1.5", "steps.delta!=0", "cost_per_run.ratio>1"])
            .status
            .code(),
        Some(0)
    );
    assert_eq!(run(&["cost_per_run.ratio<0.9"]).status.code(), Some(3));
    // A condition that cannot be read is a usage error.
    let out = run(&["failure_rate>0.01"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("failure_rate.delta"));
}

#[test]
fn sides_that_cannot_be_compared_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    corpus(d);
    let refused = |args: &[&str], says: &str| {
        let out = steplog()
            .current_dir(d)
            .arg("diff")
            .args(args)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(says), "{args:?}: {err}");
    };
    refused(
        &[
            "--base-window",
            "2026-11-02..2026-11-04",
            "--current-window",
            "2026-11-03..2026-11-05",
            "both.jsonl",
        ],
        "overlap",
    );
    let window = [
        "--base-window",
        "2026-11-02..2026-11-04",
        "--current-window",
        "2026-11-03..2026-11-05",
    ];
    refused(
        &[
            &window[..],
            &["--base", "both.jsonl", "--current", "both.jsonl"],
        ]
        .concat(),
        "overlap",
    );
    // Two sources over one period are a comparison, not a double count.
    crate::util::ok(
        steplog()
            .current_dir(d)
            .args([
                "diff",
                "-q",
                "--base",
                "day1.jsonl",
                "--current",
                "both.jsonl",
            ])
            .args(window),
    );
    for (day, dims) in [("day1", "assistant"), ("day2", "status")] {
        steplog()
            .current_dir(d)
            .args([
                "partial",
                "-q",
                "--group-by",
                dims,
                &format!("{day}.jsonl"),
                "-o",
                &format!("{day}.state"),
            ])
            .assert()
            .success();
    }
    refused(&["day1.state", "day2.state"], "different --group-by");
    steplog()
        .current_dir(d)
        .args([
            "partial",
            "-q",
            "--group-by",
            "assistant",
            "day2.jsonl",
            "-o",
            "day2.state",
        ])
        .assert()
        .success();
    refused(
        &["--group-by", "status", "day1.state", "day2.state"],
        "made with --group-by 'assistant'",
    );
    refused(
        &[
            "--where",
            "status == \"failed\"",
            "day1.state",
            "day2.state",
        ],
        "--where",
    );
    refused(
        &[
            "--base",
            "day1.state",
            "--base",
            "day2.jsonl",
            "--current",
            "day2.jsonl",
        ],
        "mixes a state file",
    );
    refused(&["day1.jsonl"], "give two inputs");
    refused(&["-", "day1.jsonl"], "standard input");
    refused(&["--top", "3", "day1.jsonl", "day2.jsonl"], "--group-by");
    refused(
        &[
            "--where",
            "status == \"failed\"",
            "day1.state",
            "day2.jsonl",
        ],
        "--group-by",
    );
    refused(
        &[
            "--group-by",
            "assistant",
            "--where",
            "status == \"failed\"",
            "day1.state",
            "day2.jsonl",
        ],
        "--where",
    );
}

#[test]
fn every_format_shows_the_changes() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    corpus(d);
    let render = |f: &str| {
        let out = steplog()
            .current_dir(d)
            .args([
                "diff",
                "-f",
                f,
                "--prices",
                "prices.json",
                "--group-by",
                "assistant",
                "day1.jsonl",
                "day2.jsonl",
            ])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{f}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    };
    let table = render("table");
    for line in table.lines() {
        assert!(line.chars().count() <= 80, "{line}");
    }
    // What changed most leads: the significant rate changes come first.
    let first = table.lines().nth(4).unwrap();
    assert!(
        [
            "failure_rate",
            "failures",
            "status.failed",
            "code.server_error",
            "run_failure_rate",
            "status.completed"
        ]
        .iter()
        .any(|f| first.starts_with(f)),
        "{table}"
    );
    assert!(table.contains("asst_b"), "{table}");
    assert!(table.contains("+1.25 pp"), "{table}");
    let md = render("markdown");
    assert!(
        md.contains("| figure | base | current | change | ratio | p |"),
        "{md}"
    );
    assert!(
        md.contains("| failure\\_rate | 5.00% | 6.25% | +1.25 pp |"),
        "{md}"
    );
    let csv = render("csv");
    let mut rows = csv::Reader::from_reader(csv.as_bytes());
    let head: Vec<String> = rows.headers().unwrap().iter().map(String::from).collect();
    assert_eq!(head[..2], ["scope", "assistant"]);
    let recs: Vec<csv::StringRecord> = rows.records().map(Result::unwrap).collect();
    let rate = recs
        .iter()
        .find(|r| &r[0] == "all" && &r[2] == "failure_rate")
        .unwrap();
    assert_eq!((&rate[4], &rate[5], &rate[9]), ("0.05", "0.0625", "true"));
    assert!(recs.iter().any(|r| &r[0] == "group" && &r[1] == "asst_b"));
    let prom = render("prometheus");
    assert!(
        prom.contains("steplog_diff_current{figure=\"failure_rate\"} 0.0625"),
        "{prom}"
    );
    assert!(
        prom.contains("steplog_diff_delta{figure=\"failure_rate\",group=\"asst_b\"} 0.05"),
        "{prom}"
    );
    assert!(
        prom.contains("steplog_diff_significant{figure=\"failure_rate\"} 1"),
        "{prom}"
    );
    let html = render("html");
    assert!(
        html.starts_with("<!DOCTYPE html>") && html.contains("<svg"),
        "{html}"
    );
    assert!(
        html.contains("class=\"sig\"><td>failure_rate</td>"),
        "{html}"
    );
}

#[test]
fn the_table_and_the_json_of_the_injected_changes() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    corpus(d);
    let args = ["diff", "--prices", "prices.json", "--group-by", "assistant"];
    let table = crate::util::ok(
        steplog()
            .current_dir(d)
            .args(args)
            .args(["day1.jsonl", "day2.jsonl"]),
    );
    insta::assert_snapshot!("injected_table", String::from_utf8(table).unwrap());
    let json = crate::util::ok(steplog().current_dir(d).args(args).args([
        "-f",
        "json",
        "day1.jsonl",
        "day2.jsonl",
    ]));
    let v: Value = serde_json::from_slice(&json).unwrap();
    insta::assert_json_snapshot!("injected_json", v);
}

#[test]
fn a_side_against_itself_changes_nothing_and_swapping_sides_negates_every_change() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    for (name, seed) in [("a.jsonl", "5"), ("b.jsonl", "6")] {
        steplog()
            .current_dir(d)
            .args(["generate", "-n", "4000", "--seed", seed, "-o", name])
            .assert()
            .success();
    }
    let diff = |a: &str, b: &str| {
        let out = steplog()
            .current_dir(d)
            .args(["diff", "-f", "json", "--group-by", "type", a, b])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice::<Value>(&out.stdout).unwrap()
    };
    let same = diff("a.jsonl", "a.jsonl");
    for scope in std::iter::once(&same["figures"]).chain(
        same["groups"]
            .as_array()
            .unwrap()
            .iter()
            .map(|g| &g["figures"]),
    ) {
        for (name, f) in scope.as_object().unwrap() {
            assert_eq!(f["delta"].as_f64(), Some(0.0), "{name}: {f}");
            assert_ne!(f["significant"], true, "{name}: {f}");
        }
    }
    assert!(same["groups_new"].as_array().unwrap().is_empty());
    let (ab, ba) = (diff("a.jsonl", "b.jsonl"), diff("b.jsonl", "a.jsonl"));
    let (fa, fb) = (
        ab["figures"].as_object().unwrap(),
        ba["figures"].as_object().unwrap(),
    );
    assert_eq!(fa.keys().collect::<Vec<_>>(), fb.keys().collect::<Vec<_>>());
    for (name, x) in fa {
        let y = &fb[name];
        assert_eq!(x["base"], y["current"], "{name}");
        if let (Some(p), Some(q)) = (x["delta"].as_f64(), y["delta"].as_f64()) {
            assert!((p + q).abs() <= 1e-9 * p.abs().max(1.0), "{name}: {p} {q}");
        }
        if let (Some(p), Some(q)) = (x["ratio"].as_f64(), y["ratio"].as_f64()) {
            assert!((p * q - 1.0).abs() < 1e-9, "{name}: {p} {q}");
        }
        match (x["p_value"].as_f64(), y["p_value"].as_f64()) {
            (Some(p), Some(q)) => assert!((p - q).abs() < 1e-12, "{name}: {p} {q}"),
            (p, q) => assert_eq!(p, q, "{name}"),
        }
    }
    assert_eq!(ab["groups_new"], ba["groups_gone"]);
}
