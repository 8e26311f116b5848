//! `--format csv`: tidy (a row per group and figure) and agreeing with JSON, its time
//! series adding up, and wide (a row per group) with the same figures.

use crate::util::*;
use serde_json::Value;
use std::collections::BTreeMap;

#[test]
fn time_series_add_up_per_hour_and_per_day_in_json_and_csv() {
    let file = "samples/stream-events.jsonl";
    for interval in ["hour", "day"] {
        let r = summary_value(&["--interval", interval, "timestamps.jsonl", file]);
        let ts = &r["time_series"];
        assert_eq!(ts["interval"], interval);
        let buckets = ts["buckets"].as_array().unwrap();
        let sum = |k: &str| -> u64 { buckets.iter().map(|b| b[k].as_u64().unwrap()).sum() };
        assert_eq!(sum("steps"), r["steps"]["total"].as_u64().unwrap());
        assert_eq!(sum("failed"), r["failures"]["total"].as_u64().unwrap());
        assert_eq!(
            sum("total_tokens"),
            r["usage"]["total_tokens"].as_u64().unwrap()
        );
        let starts: Vec<i64> = buckets
            .iter()
            .map(|b| b["start"].as_i64().unwrap())
            .collect();
        let width = if interval == "hour" { 3600 } else { 86_400 };
        assert!(starts.windows(2).all(|w| w[0] < w[1]) && starts.iter().all(|s| s % width == 0));
    }
    let csv = summary_text(&["-f", "csv", "--interval", "hour", file]);
    let series: Vec<&str> = csv
        .lines()
        .filter(|l| l.contains(",time_series.steps,"))
        .collect();
    let r = summary_value(&["--interval", "hour", file]);
    assert_eq!(
        series.len(),
        r["time_series"]["buckets"].as_array().unwrap().len()
    );
    assert!(
        series[0].starts_with("2025-10-30T21:00:00Z,time_series.steps,,"),
        "{}",
        series[0]
    );
}

/// Splits one CSV record (RFC 4180 quoting).
fn csv_fields(line: &str) -> Vec<String> {
    let mut out = vec![String::new()];
    let mut quoted = false;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match (c, quoted) {
            ('"', true) if chars.peek() == Some(&'"') => {
                chars.next();
                out.last_mut().unwrap().push('"');
            }
            ('"', _) => quoted = !quoted,
            (',', false) => out.push(String::new()),
            (c, _) => out.last_mut().unwrap().push(c),
        }
    }
    out
}

#[test]
fn csv_is_tidy_and_agrees_with_json() {
    let args = [
        "--group-by",
        "assistant,status",
        "tools.jsonl",
        "malformed.jsonl",
    ];
    let r = summary_value(&args);
    let mut a = vec!["-f", "csv"];
    a.extend(args);
    let csv = summary_text(&a);
    let mut lines = csv.lines();
    let header = csv_fields(lines.next().unwrap());
    assert_eq!(
        header,
        ["assistant", "status", "bucket", "metric", "key", "value"]
    );
    let rows: Vec<Vec<String>> = lines.map(csv_fields).collect();
    assert!(
        rows.iter().all(|r| r.len() == header.len()),
        "every row has every column"
    );
    let find = |group: [&str; 2], metric: &str, key: &str| -> String {
        rows.iter()
            .find(|r| r[0] == group[0] && r[1] == group[1] && r[3] == metric && r[4] == key)
            .unwrap_or_else(|| panic!("no row {group:?} {metric} {key}"))[5]
            .clone()
    };
    assert_eq!(
        find(["(all)", "(all)"], "steps.total", ""),
        r["steps"]["total"].to_string()
    );
    assert_eq!(
        find(["(all)", "(all)"], "steps.by_status", "completed"),
        r["steps"]["by_status"]["completed"].to_string()
    );
    assert_eq!(
        find(
            ["(all)", "(all)"],
            "input.malformed_by_reason",
            "invalid_json"
        ),
        r["input"]["malformed_by_reason"]["invalid_json"].to_string()
    );
    // Every group, every figure: the groups' step totals are there.
    for g in r["groups"].as_array().unwrap() {
        let k = [g["key"][0].as_str().unwrap(), g["key"][1].as_str().unwrap()];
        assert_eq!(find(k, "steps.total", ""), g["steps"].to_string());
        if let Some(d) = g["durations_seconds"].get("completed") {
            assert_eq!(
                find(k, "durations_seconds.completed.count", ""),
                d["count"].to_string()
            );
        }
    }
    // Messages with commas and quotes survive quoting.
    let messages: BTreeMap<String, String> = rows
        .iter()
        .filter(|r| r[3] == "failures.top_messages" && r[0] == "(all)")
        .map(|r| (r[4].clone(), r[5].clone()))
        .collect();
    for m in r["failures"]["top_messages"].as_array().unwrap() {
        assert_eq!(
            messages[m["message"].as_str().unwrap()],
            m["count"].to_string()
        );
    }
}

/// `--csv-layout wide`: a row for the whole input, then one per group, the figures a
/// column each, equal to the JSON's; refused with another format.
#[test]
fn csv_wide_has_a_row_per_group_with_the_figures_of_the_json() {
    let args = [
        "--group-by",
        "assistant,status",
        "tools.jsonl",
        "usage.jsonl",
    ];
    let r = summary_value(&args);
    let mut a = vec!["-f", "csv", "--csv-layout", "wide"];
    a.extend(args);
    let csv = summary_text(&a);
    let mut lines = csv.lines();
    let header = csv_fields(lines.next().unwrap());
    assert_eq!(
        header,
        [
            "assistant",
            "status",
            "steps",
            "failed",
            "failure_rate",
            "p50_seconds",
            "p90_seconds",
            "p99_seconds",
            "prompt_tokens",
            "completion_tokens",
            "total_tokens",
            "cost_usd",
            "unpriced_steps"
        ]
    );
    let rows: Vec<Vec<String>> = lines.map(csv_fields).collect();
    let groups = r["groups"].as_array().unwrap();
    assert_eq!(
        rows.len(),
        groups.len() + 1,
        "the whole input and each group"
    );
    assert_eq!(rows[0][..2], ["(all)", "(all)"]);
    assert_eq!(rows[0][2], r["steps"]["total"].to_string());
    assert_eq!(rows[0][10], r["usage"]["total_tokens"].to_string());
    let text = |v: &Value| match v {
        Value::Null => String::new(),
        v => v.to_string(),
    };
    for (row, g) in rows[1..].iter().zip(groups) {
        assert_eq!(row[0], g["key"][0].as_str().unwrap());
        assert_eq!(row[1], g["key"][1].as_str().unwrap());
        assert_eq!(row[2], g["steps"].to_string());
        assert_eq!(row[3], g["failures"]["total"].to_string());
        assert_eq!(row[4], text(&g["failures"]["rate"]));
        let p99 = g["durations_seconds"]
            .get("completed")
            .map_or(String::new(), |d| text(&d["p99"]));
        assert_eq!(row[7], p99);
        assert_eq!(row[10], g["usage"]["total_tokens"].to_string());
        assert_eq!(row[12], text(&g["unpriced_steps"]));
    }
    // Without groups, one row; with another format, refused.
    let one = summary_text(&["-f", "csv", "--csv-layout", "wide", "tools.jsonl"]);
    assert_eq!(one.lines().count(), 2);
    let (code, err) = fails(&["summary", "--csv-layout", "wide", "tools.jsonl"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("--csv-layout is for --format csv"), "{err}");
}
