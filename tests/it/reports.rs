//! Reports for people and for cron: every format, --output, --group-by, --since/--until,
//! --fail-if, time series, colour, completions and the man page. Drives the binary.

#[allow(unused_imports)]
use crate::util::*;
use serde_json::Value;
use std::path::Path;

/// Runs `promtool check metrics` on `text`. CI installs promtool and sets
/// STEPLOG_REQUIRE_PROMTOOL=1; elsewhere the check is skipped when promtool is missing.
pub(crate) fn promtool_accepts(text: &str) {
    use std::io::Write;
    let child = std::process::Command::new("promtool")
        .args(["check", "metrics"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn();
    let mut child = match child {
        Ok(c) => c,
        Err(e) => {
            assert!(
                std::env::var_os("STEPLOG_REQUIRE_PROMTOOL").is_none(),
                "promtool is required: {e}"
            );
            eprintln!("promtool not installed: skipping the promtool check");
            return;
        }
    };
    child
        .stdin
        .take()
        .unwrap()
        .write_all(text.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "promtool: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn every_format_has_a_snapshot() {
    for (format, file, extra) in [
        ("csv", "samples/api-examples.jsonl", vec![]),
        (
            "csv",
            "samples/stream-events.jsonl",
            vec!["--group-by", "type"],
        ),
        ("markdown", "samples/api-examples.jsonl", vec![]),
        ("markdown", "malformed.jsonl", vec!["--group-by", "status"]),
        ("prometheus", "samples/api-examples.jsonl", vec![]),
        (
            "prometheus",
            "tools.jsonl",
            vec!["--group-by", "assistant,status"],
        ),
        ("html", "samples/api-examples.jsonl", vec![]),
        ("table", "tools.jsonl", vec!["--group-by", "tool", "--full"]),
    ] {
        let mut args = vec!["-f", format];
        args.extend(extra.iter().copied());
        args.push(file);
        let out = summary_text(&args);
        let name = format!(
            "{format}_{}{}",
            Path::new(file).file_stem().unwrap().to_string_lossy(),
            if extra.is_empty() { "" } else { "_grouped" }
        );
        insta::assert_snapshot!(name, out);
    }
}

#[test]
fn prometheus_output_passes_promtool() {
    for args in [
        vec!["samples/api-examples.jsonl"],
        vec![
            "samples/stream-events.jsonl",
            "--group-by",
            "assistant,status,tool",
        ],
        vec!["malformed.jsonl", "--group-by", "error_code,day"],
        vec!["empty.jsonl"],
        vec![
            "tools.jsonl",
            "usage.jsonl",
            "--group-by",
            "function,type,hour",
        ],
    ] {
        let mut a = vec!["-f", "prometheus"];
        a.extend(args.iter().copied());
        let out = summary_text(&a);
        assert!(out.contains("# TYPE steplog_steps_total counter"), "{out}");
        assert!(out.contains("# TYPE steplog_step_duration_seconds summary"));
        promtool_accepts(&out);
        // Over a window, the counts of records fall as it moves on: gauges, without
        // `_total`; the lines of the inputs are read whole and stay counters.
        a.extend(["--since", "2020-01-01"]);
        let windowed = summary_text(&a);
        assert!(
            windowed.contains("# TYPE steplog_steps gauge"),
            "{windowed}"
        );
        assert!(windowed.contains("# TYPE steplog_input_lines_total counter"));
        for line in windowed.lines().filter(|l| l.starts_with("# TYPE")) {
            let name = line.split_whitespace().nth(2).unwrap();
            let input = name.starts_with("steplog_input_") || name.starts_with("steplog_malformed");
            assert!(
                input || !line.ends_with(" counter"),
                "a windowed counter: {line}"
            );
            assert!(
                !(name.ends_with("_total") && line.ends_with(" gauge")),
                "{line}"
            );
        }
        promtool_accepts(&windowed);
    }
}

#[test]
fn html_is_one_self_contained_page_with_four_charts() {
    let out = summary_text(&[
        "-f",
        "html",
        "--group-by",
        "assistant",
        "samples/api-examples.jsonl",
        "tools.jsonl",
    ]);
    assert!(out.starts_with("<!DOCTYPE html>") && out.trim_end().ends_with("</html>"));
    for network in [
        "http://", "https://", "src=", "<script", "<link", "@import", "url(",
    ] {
        assert!(
            !out.contains(network),
            "the page must not fetch anything: {network}"
        );
    }
    for chart in [
        "Steps by status",
        "Duration distribution per terminal status",
        "Failed steps per day by error code",
        "Tokens per day",
    ] {
        assert!(out.contains(chart), "missing chart {chart}");
    }
    assert!(
        out.matches("<svg").count() >= 7,
        "4 charts, one per status for durations"
    );
    // Values are escaped: a message with markup is text.
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("x.jsonl");
    std::fs::write(
        &p,
        r#"{"id":"s","created_at":1700000000,"status":"failed","failed_at":1700000001,"last_error":{"code":"<b>x</b>","message":"<script>alert(1)</script>"}}"#,
    )
    .unwrap();
    let out = summary_text(&["-f", "html", p.to_str().unwrap()]);
    assert!(!out.contains("<script>") && out.contains("&lt;script&gt;"));
}

#[test]
fn a_cron_job_writes_prometheus_atomically_and_exits_3_on_a_breach() {
    let dir = tempfile::tempdir().unwrap();
    let prom = dir.path().join("steplog.prom");
    std::fs::write(&prom, "old content\n").unwrap();
    // tools.jsonl: 3 failed of 9 terminal steps.
    let out = steplog()
        .args([
            "summary",
            "tools.jsonl",
            "usage.jsonl",
            "--format",
            "prometheus",
            "--output",
        ])
        .arg(&prom)
        .args([
            "--fail-if",
            "failure_rate>0.05",
            "--fail-if",
            "malformed>0",
            "--fail-if",
            "p99>1000000",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3), "a breached --fail-if exits 3");
    assert!(out.stdout.is_empty(), "the report went to the file");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("failure_rate>0.05") && err.contains("it is 0.2"),
        "{err}"
    );
    assert!(
        !err.contains("malformed>0") && !err.contains("p99>"),
        "only breached conditions are named: {err}"
    );
    let written = std::fs::read_to_string(&prom).unwrap();
    assert!(written.starts_with("# HELP") && written.contains("steplog_failures_total"));
    promtool_accepts(&written);
    // Nothing else is left in the directory, and the collector can read the file.
    let names: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names, vec!["steplog.prom"]);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&prom).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o644);
    }

    // Within thresholds: exit 0.
    let out = steplog()
        .args(["summary", "tools.jsonl", "-f", "prometheus", "-o"])
        .arg(&prom)
        .args(["--fail-if", "failure_rate>0.5", "--fail-if", "steps<1"])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    // A directory that does not exist: exit 2, and nothing written.
    let out = steplog()
        .args(["summary", "tools.jsonl", "-o"])
        .arg(dir.path().join("missing").join("x.prom"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot write"));

    // A figure the report lacks cannot breach, and says so.
    let out = steplog()
        .args(["summary", "empty.jsonl", "--fail-if", "p99>1"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no such figure"));
    // A malformed condition is a usage error.
    let out = steplog()
        .args(["summary", "tools.jsonl", "--fail-if", "p99 ~ 3"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
}

/// `created_at` of every record line of a fixture, by serde_json.
fn created(file: &str) -> Vec<i64> {
    std::fs::read_to_string(testdata().join(file))
        .unwrap()
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|v| v["object"] != "thread.run.step.delta")
        .filter_map(|v| v["created_at"].as_i64())
        .collect()
}

#[test]
fn since_and_until_keep_the_window_and_count_the_rest() {
    let file = "samples/api-examples.jsonl";
    let times = created(file);
    let all = summary_value(&[file]);
    assert_eq!(all["steps"]["total"], times.len());
    let mut sorted = times.clone();
    sorted.sort();
    let mid = sorted[sorted.len() / 2];
    for (since, until) in [
        (Some(mid.to_string()), None),
        (None, Some(mid.to_string())),
        (
            Some(steplog::report::format_utc(mid)),
            Some((mid + 86_400).to_string()),
        ),
        (
            Some("2025-10-30".to_string()),
            Some("2025-10-31".to_string()),
        ),
    ] {
        let mut args = Vec::new();
        if let Some(s) = &since {
            args.extend(["--since", s.as_str()]);
        }
        if let Some(u) = &until {
            args.extend(["--until", u.as_str()]);
        }
        args.push(file);
        let r = summary_value(&args);
        let lo = since.as_deref().map(common_instant);
        let hi = until.as_deref().map(common_instant);
        let kept = times
            .iter()
            .filter(|t| lo.is_none_or(|l| **t >= l) && hi.is_none_or(|h| **t < h))
            .count() as u64;
        assert_eq!(r["steps"]["total"], kept, "{args:?}");
        assert_eq!(r["input"]["filtered_out"], times.len() as u64 - kept);
        assert_eq!(
            r["input"]["records"],
            times.len(),
            "lines are still all accounted for"
        );
    }
    // Ages count back from now: these fixtures are long past.
    let r = summary_value(&["--since", "7d", file]);
    assert_eq!(r["steps"]["total"], 0);
    assert_eq!(r["input"]["filtered_out"], times.len());
    let out = steplog()
        .args([
            "summary",
            "--since",
            "2025-11-01",
            "--until",
            "2025-10-01",
            file,
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let out = steplog()
        .args(["summary", "--since", "last tuesday", file])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
}

/// The instants the test above uses: Unix seconds, RFC 3339 Z, or a date.
fn common_instant(s: &str) -> i64 {
    steplog::report::parse_instant(s, 0).unwrap()
}

#[test]
fn group_by_gives_every_figure_per_group_whatever_the_threads() {
    let files = ["tools.jsonl", "usage.jsonl", "samples/api-examples.jsonl"];
    let mut args = vec!["--group-by", "assistant"];
    args.extend(files);
    let r = summary_value(&args);
    assert_eq!(r["group_by"], serde_json::json!(["assistant"]));
    let groups = r["groups"].as_array().unwrap();
    assert!(groups.len() >= 3);
    let sum = |path: &[&str]| -> u64 {
        groups
            .iter()
            .map(|g| path.iter().fold(g, |v, k| &v[*k]).as_u64().unwrap_or(0))
            .sum()
    };
    // A single-valued dimension partitions the steps: every count adds up.
    assert_eq!(sum(&["steps"]), r["steps"]["total"].as_u64().unwrap());
    assert_eq!(
        sum(&["failures", "total"]),
        r["failures"]["total"].as_u64().unwrap()
    );
    assert_eq!(
        sum(&["usage", "total_tokens"]),
        r["usage"]["total_tokens"].as_u64().unwrap()
    );
    assert_eq!(
        sum(&["durations_seconds", "completed", "count"]),
        r["durations_seconds"]["completed"]["count"]
            .as_u64()
            .unwrap()
    );
    // Each group's figures are those of its steps alone.
    for g in groups {
        let key = g["key"][0].as_str().unwrap();
        let by_assistant = &r["usage"]["by_assistant"][key];
        if !by_assistant.is_null() {
            assert_eq!(
                g["usage"]["total_tokens"], by_assistant["total_tokens"],
                "{key}"
            );
        }
        assert_eq!(
            g["failures"]["total"],
            r["failures"]["by_assistant"][key].as_u64().unwrap_or(0),
            "{key}"
        );
    }
    // Most steps first, ties by key; identical across threads and chunking.
    let order: Vec<(std::cmp::Reverse<u64>, &str)> = groups
        .iter()
        .map(|g| {
            let steps = g["steps"].as_u64().unwrap();
            (std::cmp::Reverse(steps), g["key"][0].as_str().unwrap())
        })
        .collect();
    let mut sorted = order.clone();
    sorted.sort();
    assert_eq!(order, sorted);
    assert_eq!(r["groups_total"], groups.len() as u64);
    for extra in [
        vec!["-j", "1"],
        vec!["-j", "3", "--chunk-size", "1"],
        vec!["--no-mmap", "--chunk-size", "200"],
    ] {
        let mut a = extra.clone();
        a.extend(args.iter().copied());
        assert_eq!(summary_value(&a), r, "{extra:?}");
    }
    // A multi-valued dimension: a step is in every tool group it called.
    let r = summary_value(&["--group-by", "tool,status", "tools.jsonl"]);
    let total: u64 = r["groups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["steps"].as_u64().unwrap())
        .sum();
    assert!(total >= r["steps"]["total"].as_u64().unwrap());
    let out = steplog()
        .args(["summary", "--group-by", "planet", "tools.jsonl"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("not a dimension"));
}

#[test]
fn colour_only_when_asked_or_on_a_terminal_and_never_with_no_color() {
    let plain = summary_text(&["tools.jsonl"]);
    assert!(!plain.contains('\x1b'), "piped output has no escapes");
    let coloured = summary_text(&["--color", "always", "tools.jsonl"]);
    assert!(coloured.contains("\x1b[1m"));
    let out = steplog()
        .env("NO_COLOR", "1")
        .args(["summary", "--color", "auto", "tools.jsonl"])
        .output()
        .unwrap();
    assert!(!String::from_utf8_lossy(&out.stdout).contains('\x1b'));
    // --quiet and --progress keep stdout the same report.
    assert_eq!(summary_text(&["-q", "tools.jsonl"]), plain);
    let out = steplog()
        .args(["summary", "-f", "json", "--progress", "tools.jsonl"])
        .output()
        .unwrap();
    assert!(out.status.success());
    serde_json::from_slice::<Value>(&out.stdout).unwrap();
}

#[test]
fn completions_and_man_page_come_from_the_cli_definitions() {
    for shell in ["bash", "zsh", "fish"] {
        let out = steplog().args(["completions", shell]).output().unwrap();
        assert!(out.status.success());
        let s = String::from_utf8(out.stdout).unwrap();
        assert!(
            s.contains("group-by") && s.contains("fail-if") && s.contains("summary"),
            "{shell}"
        );
    }
    let out = steplog().arg("man").output().unwrap();
    assert!(out.status.success());
    let man = String::from_utf8(out.stdout).unwrap();
    assert!(man.contains(".TH steplog") && man.contains(".TH steplog-summary"));
    assert!(man.contains("fail\\-if") && man.contains(".SH \"EXIT STATUS\""));
    // One page per command, which `man steplog-summary` finds.
    let dir = tempfile::tempdir().unwrap();
    let pages = dir.path().join("man1");
    ok(steplog().arg("man").arg("--dir").arg(&pages));
    for name in [
        "steplog",
        "steplog-summary",
        "steplog-find",
        "steplog-report",
    ] {
        assert!(pages.join(format!("{name}.1")).is_file(), "{name}");
    }
    let out = std::process::Command::new("man")
        .args(["-P", "cat", "steplog-summary"])
        .env("MANPATH", dir.path())
        .env("MANWIDTH", "80")
        .output()
        .expect("man(1)");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        text.contains("steplog-summary") && text.contains("steplog summary"),
        "{text}"
    );
    assert!(text.contains("EXIT STATUS"), "{text}");
}

/// The HTML page puts the groups first when asked for, leaves out cost charts and tables
/// nothing could fill, draws cost in dollars once it is large, and keeps ids and times
/// on one line, left-aligned.
#[test]
fn the_html_page_shows_what_it_has_where_the_reader_looks() {
    let unpriced = summary_text(&[
        "-f",
        "html",
        "--group-by",
        "assistant",
        "samples/api-examples.jsonl",
    ]);
    let at = |page: &str, s: &str| page.find(s).unwrap_or_else(|| panic!("no {s}"));
    assert!(at(&unpriced, "<h2>By assistant") < at(&unpriced, "<h2>Steps</h2>"));
    assert!(unpriced.contains("No step could be priced"));
    assert!(!unpriced.contains("Cost per ") && !unpriced.contains("<th>model</th>"));
    assert!(unpriced.contains("<h2>Slowest runs</h2><table class=x>"));
    assert!(unpriced.contains("table.x td:not(:first-child)"));
    let dir = tempfile::tempdir().unwrap();
    let (logs, runs) = (dir.path().join("s.jsonl"), dir.path().join("r.jsonl"));
    ok(steplog()
        .args(["generate", "-n", "20000", "-o"])
        .arg(&logs)
        .arg("--runs")
        .arg(&runs));
    let priced = summary_text(&["-f", "html", path(&logs), path(&runs)]);
    assert!(
        priced.contains("Cost per day (US dollars, priced steps)"),
        "large costs in dollars"
    );
    assert!(priced.contains("<th>model</th>"));
    assert!(!priced.contains("<h2>By "));
}
