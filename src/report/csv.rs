//! `--format csv`: tidy data, one row per group and figure.
//!
//! Columns: one per `--group-by` dimension (`(all)` on the rows of the whole input), then
//! `bucket` (the start of a time-series bucket, else empty), `metric` (a dotted path of
//! the JSON contract, such as `steps.by_status` or `durations_seconds.completed.p99`),
//! `key` (the map key, such as the status, error code or assistant, else empty; a key
//! inside a keyed entry, like the histogram bucket of one step type, is joined to it with
//! `|`: `tool_calls|30`) and `value`. Every figure of the JSON report is a row, except the malformed-line examples
//! (text, not figures); nulls are empty values. Fields are quoted as RFC 4180 says.

use super::{Format, Report};
use serde_json::Value;
use std::io::{self, Write};

/// The CSV renderer.
#[derive(Debug, Clone, Copy, Default)]
pub struct Csv;

/// Objects whose keys are values seen (statuses, codes, names): the key goes to the `key`
/// column, not into the metric path.
const KEYED: [&str; 11] = [
    "by_status",
    "by_type",
    "by_kind",
    "functions",
    "by_code",
    "by_assistant",
    "by_step_type",
    "by_tool",
    "completed_by_type",
    "malformed_by_reason",
    "failures_by_code",
];

/// A key under an outer key (a histogram bucket of one step type): both, joined by `|`.
fn nest(outer: &str, inner: &str) -> String {
    if outer.is_empty() {
        inner.to_string()
    } else {
        format!("{outer}|{inner}")
    }
}

struct Row {
    bucket: String,
    metric: String,
    key: String,
    value: String,
}

fn scalar(v: &Value) -> Option<String> {
    match v {
        Value::Null => Some(String::new()),
        Value::Bool(b) => Some(b.to_string()),
        Value::Number(n) => Some(n.to_string()),
        Value::String(s) => Some(s.clone()),
        _ => None,
    }
}

/// Flattens `v` at `path` into rows.
fn flatten(v: &Value, path: &str, key: &str, bucket: &str, out: &mut Vec<Row>) {
    let join = |name: &str| {
        if path.is_empty() {
            name.to_string()
        } else {
            format!("{path}.{name}")
        }
    };
    if let Some(s) = scalar(v) {
        out.push(Row {
            bucket: bucket.to_string(),
            metric: path.to_string(),
            key: key.to_string(),
            value: s,
        });
        return;
    }
    let leaf = path.rsplit('.').next().unwrap_or("");
    match v {
        Value::Object(map) if KEYED.contains(&leaf) => {
            for (k, child) in map {
                let k = nest(key, k);
                match child {
                    // A map of records (usage per assistant): their fields are metrics.
                    Value::Object(fields) => {
                        for (name, c) in fields {
                            flatten(c, &join(name), &k, bucket, out);
                        }
                    }
                    _ => flatten(child, path, &k, bucket, out),
                }
            }
        }
        Value::Object(map) => {
            for (name, child) in map {
                match name.as_str() {
                    // Text, not figures.
                    "malformed_examples" => {}
                    _ => flatten(child, &join(name), key, bucket, out),
                }
            }
        }
        Value::Array(items) => match leaf {
            "buckets" => {
                let series = path.trim_end_matches(".buckets");
                for b in items {
                    let start = b["start_utc"].as_str().unwrap_or_default();
                    if let Value::Object(m) = b {
                        for (name, child) in m {
                            if name != "start" && name != "start_utc" {
                                flatten(child, &format!("{series}.{name}"), key, start, out);
                            }
                        }
                    }
                }
            }
            "files" => {
                for f in items {
                    let p = nest(key, f["path"].as_str().unwrap_or_default());
                    if let Value::Object(m) = f {
                        for (name, child) in m.iter().filter(|(n, _)| *n != "path") {
                            flatten(child, &join(name), &p, bucket, out);
                        }
                    }
                }
            }
            "top_messages" => {
                for m in items {
                    let text = nest(key, m["message"].as_str().unwrap_or_default());
                    flatten(&m["count"], path, &text, bucket, out);
                }
            }
            "histogram" => {
                for h in items {
                    let le = h["le"]
                        .as_u64()
                        .map_or_else(|| "+Inf".to_string(), |n| n.to_string());
                    flatten(&h["count"], path, &nest(key, &le), bucket, out);
                }
            }
            _ => {
                for (i, child) in items.iter().enumerate() {
                    flatten(child, &join(&i.to_string()), key, bucket, out);
                }
            }
        },
        _ => {}
    }
}

fn field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

fn write_rows(out: &mut dyn Write, group: &[String], rows: &[Row]) -> io::Result<()> {
    let prefix: String = group.iter().map(|g| field(g) + ",").collect();
    for r in rows {
        writeln!(
            out,
            "{prefix}{},{},{},{}",
            field(&r.bucket),
            field(&r.metric),
            field(&r.key),
            field(&r.value)
        )?;
    }
    Ok(())
}

impl Format for Csv {
    fn render(&self, report: &Report, out: &mut dyn Write) -> io::Result<()> {
        let header: Vec<String> = report
            .group_by
            .iter()
            .map(|d| field(d))
            .chain(["bucket", "metric", "key", "value"].map(String::from))
            .collect();
        writeln!(out, "{}", header.join(","))?;
        let mut whole = serde_json::to_value(report).map_err(io::Error::other)?;
        let groups = whole
            .as_object_mut()
            .and_then(|o| o.remove("groups"))
            .unwrap_or(Value::Null);
        if let Some(o) = whole.as_object_mut() {
            o.remove("group_by");
            o.remove("hints");
        }
        let mut rows = Vec::new();
        flatten(&whole, "", "", "", &mut rows);
        let all = vec!["(all)".to_string(); report.group_by.len()];
        write_rows(out, &all, &rows)?;
        for g in groups.as_array().into_iter().flatten() {
            let key: Vec<String> = g["key"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|k| k.as_str().unwrap_or_default().to_string())
                .collect();
            let mut body = g.clone();
            if let Some(o) = body.as_object_mut() {
                o.remove("key");
            }
            rows.clear();
            flatten(&body, "", "", "", &mut rows);
            write_rows(out, &key, &rows)?;
        }
        Ok(())
    }
}
