//! Responses API records: the samples' responses, streams and batch lines, and run steps
//! beside them, against an independent reading of the same lines with serde_json, in any
//! order, thread count, chunk size, file split and shard split.

use crate::util::*;
use serde_json::Value;
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

fn sample(name: &str) -> PathBuf {
    testdata().join("samples").join(name)
}

fn lines(name: &str) -> Vec<String> {
    std::fs::read_to_string(sample(name))
        .unwrap()
        .lines()
        .map(str::to_string)
        .collect()
}

/// The output item types a caller answers in the next response.
const ASKS: [&str; 7] = [
    "function_call",
    "custom_tool_call",
    "computer_call",
    "local_shell_call",
    "shell_call",
    "apply_patch_call",
    "mcp_approval_request",
];

/// What a report of responses should say, computed from the bodies alone.
#[derive(Debug, Default, PartialEq)]
struct Expected {
    by_status: BTreeMap<String, u64>,
    failures_by_code: BTreeMap<String, u64>,
    /// input, output, total, cached, reasoning
    tokens: [u64; 5],
    tool_kinds: BTreeMap<String, u64>,
    functions: BTreeMap<String, u64>,
    runs: u64,
    /// Responses per run, sorted.
    run_lengths: Vec<u64>,
    conversations: u64,
    completed_durations: Vec<i64>,
}

fn expected(bodies: &[Value]) -> Expected {
    let mut e = Expected::default();
    let n = |v: &Value| v.as_u64().unwrap_or(0);
    for r in bodies {
        let status = r["status"].as_str().unwrap().to_string();
        *e.by_status.entry(status.clone()).or_default() += 1;
        let code = match status.as_str() {
            "failed" => r["error"]["code"].as_str(),
            "incomplete" => r["incomplete_details"]["reason"].as_str(),
            _ => None,
        };
        if matches!(status.as_str(), "failed" | "incomplete") {
            *e.failures_by_code
                .entry(code.unwrap_or("(none)").to_string())
                .or_default() += 1;
        }
        let u = &r["usage"];
        for (t, v) in e.tokens.iter_mut().zip([
            &u["input_tokens"],
            &u["output_tokens"],
            &u["total_tokens"],
            &u["input_tokens_details"]["cached_tokens"],
            &u["output_tokens_details"]["reasoning_tokens"],
        ]) {
            *t += n(v);
        }
        for item in r["output"].as_array().into_iter().flatten() {
            let kind = match item["type"].as_str().unwrap() {
                "function_call" | "custom_tool_call" => "function",
                "file_search_call" => "file_search",
                "code_interpreter_call" => "code_interpreter",
                "web_search_call" => "web_search",
                "mcp_call" => "mcp",
                "image_generation_call" => "image_generation",
                "computer_call" => "computer",
                "message" | "reasoning" | "mcp_list_tools" | "mcp_approval_request" => continue,
                _ => "other",
            };
            *e.tool_kinds.entry(kind.to_string()).or_default() += 1;
            if kind == "function" {
                let name = item["name"].as_str().unwrap().to_string();
                *e.functions.entry(name).or_default() += 1;
            }
        }
        if status == "completed" {
            if let Some(end) = r["completed_at"].as_i64() {
                e.completed_durations
                    .push(end - r["created_at"].as_i64().unwrap());
            }
        }
    }
    // Runs: a response continues its parent's run when the parent is here and asked
    // for an answer; its run's first response is found by walking back.
    let by_id: HashMap<&str, &Value> = bodies
        .iter()
        .map(|r| (r["id"].as_str().unwrap(), r))
        .collect();
    let asks = |r: &Value| {
        r["output"]
            .as_array()
            .into_iter()
            .flatten()
            .any(|i| ASKS.contains(&i["type"].as_str().unwrap()))
    };
    let mut lengths: BTreeMap<&str, u64> = BTreeMap::new();
    for r in bodies {
        let mut at: &Value = r;
        while let Some(p) = at["previous_response_id"].as_str() {
            match by_id.get(p) {
                Some(parent) if asks(parent) => at = parent,
                _ => break,
            }
        }
        *lengths.entry(at["id"].as_str().unwrap()).or_default() += 1;
    }
    e.runs = lengths.len() as u64;
    e.run_lengths = lengths.into_values().collect();
    e.run_lengths.sort_unstable();
    let conversations: std::collections::BTreeSet<&str> = bodies
        .iter()
        .filter_map(|r| r["conversation"]["id"].as_str())
        .collect();
    e.conversations = conversations.len() as u64;
    e.completed_durations.sort_unstable();
    e
}

/// The same figures, read from a JSON report.
fn reported(r: &Value) -> Expected {
    let map = |v: &Value| -> BTreeMap<String, u64> {
        v.as_object()
            .unwrap()
            .iter()
            .filter(|(_, n)| n.as_u64() != Some(0))
            .map(|(k, n)| (k.clone(), n.as_u64().unwrap()))
            .collect()
    };
    let u = &r["usage"];
    let n = |k: &str| u[k].as_u64().unwrap();
    let spread = &r["runs"]["steps_per_run"];
    let d = &r["durations_seconds"]["completed"];
    Expected {
        by_status: map(&r["steps"]["by_status"]),
        failures_by_code: map(&r["failures"]["by_code"]),
        tokens: [
            n("prompt_tokens"),
            n("completion_tokens"),
            n("total_tokens"),
            n("cached_tokens"),
            n("reasoning_tokens"),
        ],
        tool_kinds: map(&r["tool_calls"]["by_kind"]),
        functions: map(&r["tool_calls"]["functions"]),
        runs: r["runs"]["total"].as_u64().unwrap(),
        // Checked through the spread: count, min, max and the sum (mean × count).
        run_lengths: vec![
            spread["count"].as_u64().unwrap(),
            spread["min"].as_u64().unwrap(),
            spread["max"].as_u64().unwrap(),
            (spread["mean"].as_f64().unwrap() * spread["count"].as_f64().unwrap()).round() as u64,
        ],
        conversations: r["threads"]["total"].as_u64().unwrap(),
        completed_durations: vec![
            d["count"].as_i64().unwrap(),
            d["max"].as_i64().unwrap_or(-1),
        ],
    }
}

/// `expected` shaped as `reported` reads a report.
fn as_reported(mut e: Expected) -> Expected {
    let l = &e.run_lengths;
    e.run_lengths = vec![
        l.len() as u64,
        *l.first().unwrap(),
        *l.last().unwrap(),
        l.iter().sum(),
    ];
    let d = &e.completed_durations;
    e.completed_durations = vec![d.len() as i64, d.last().copied().unwrap_or(-1)];
    e
}

fn bodies(lines: &[String]) -> Vec<Value> {
    lines
        .iter()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// `lines` in a seeded shuffled order.
fn shuffled(lines: &[String], seed: u64) -> Vec<String> {
    let mut out = lines.to_vec();
    let mut x = seed
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    for i in (1..out.len()).rev() {
        x = x
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        out.swap(i, (x >> 33) as usize % (i + 1));
    }
    out
}

fn write(dir: &Path, name: &str, lines: &[String]) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, lines.join("\n") + "\n").unwrap();
    p
}

#[test]
fn every_figure_of_the_sample_responses_matches_an_independent_reading() {
    let all = lines("responses.jsonl");
    let want = as_reported(expected(&bodies(&all)));
    // The sample has chains, a conversation, an incomplete and a cancelled response.
    assert!(
        want.runs < all.len() as u64 && want.conversations == 1,
        "{want:?}"
    );
    assert_eq!(want.failures_by_code.get("max_output_tokens"), Some(&1));
    let dir = tempfile::tempdir().unwrap();
    let cases: Vec<(Vec<PathBuf>, Vec<&str>)> = vec![
        (vec![sample("responses.jsonl")], vec!["-j", "1"]),
        (
            vec![sample("responses.jsonl")],
            vec!["-j", "2", "--chunk-size", "4KiB"],
        ),
        (
            vec![write(dir.path(), "shuffled.jsonl", &shuffled(&all, 7))],
            vec!["-j", "2", "--chunk-size", "8KiB"],
        ),
        (
            // A chain's responses in two files, the later one first.
            vec![
                write(dir.path(), "b.jsonl", &all[30..]),
                write(dir.path(), "a.jsonl", &all[..30]),
            ],
            vec![],
        ),
    ];
    for (files, flags) in cases {
        let mut args: Vec<&str> = files.iter().map(|p| path(p)).collect();
        args.extend(&flags);
        let r = summary_value(&args);
        lines_add_up(&r);
        assert_eq!(reported(&r), want, "{args:?}");
        assert_eq!(r["steps"]["by_api"]["responses"], 71, "{args:?}");
    }
}

#[test]
fn chains_split_over_shards_merge_into_the_same_runs() {
    let dir = tempfile::tempdir().unwrap();
    let all = lines("responses.jsonl");
    let input = write(dir.path(), "shuffled.jsonl", &shuffled(&all, 3));
    let whole = summary_value(&[path(&input)]);
    for n in [2, 3] {
        let order: Vec<usize> = (0..n as usize).rev().collect();
        let (_, merged) = shards_merged(&input, dir.path(), n, &order);
        let r: Value =
            serde_json::from_slice(&ok(steplog().args(["report", "-f", "json"]).arg(&merged)))
                .unwrap();
        for k in ["runs", "steps", "failures", "usage", "cost", "tool_calls"] {
            assert_eq!(r[k], whole[k], "{k} over {n} shards");
        }
        let state: Value = serde_json::from_slice(&std::fs::read(&merged).unwrap()).unwrap();
        assert_eq!(state["version"], 5);
        // The responses that name one before them or ask for the next.
        let linking = all
            .iter()
            .map(|l| serde_json::from_str::<Value>(l).unwrap())
            .filter(|r| {
                r["previous_response_id"].is_string()
                    || r["output"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .any(|i| ASKS.contains(&i["type"].as_str().unwrap()))
            })
            .count();
        assert!(linking > 0 && linking < all.len());
        assert_eq!(state["summary"]["links"].as_array().unwrap().len(), linking);
    }
}

#[test]
fn streams_give_the_response_of_each_terminal_event_and_frame_the_rest() {
    let text = std::fs::read_to_string(sample("responses-stream.sse")).unwrap();
    let terminal: Vec<Value> = text
        .lines()
        .filter_map(|l| l.strip_prefix("data: "))
        .filter_map(|d| serde_json::from_str::<Value>(d).ok())
        .filter(|v| v["type"] == "response.completed")
        .map(|v| v["response"].clone())
        .collect();
    assert_eq!(terminal.len(), 5);
    let r = summary_value(&[path(&sample("responses-stream.sse"))]);
    lines_add_up(&r);
    let i = &r["input"];
    assert_eq!(i["records"], 5);
    assert_eq!(i["malformed"], 0);
    let blank = text.lines().filter(|l| l.trim().is_empty()).count() as u64;
    let lines = text.lines().count() as u64;
    assert_eq!(i["framing"].as_u64().unwrap(), lines - 5 - blank);
    assert_eq!(reported(&r), as_reported(expected(&terminal)));
}

#[test]
fn failed_batch_requests_are_undated_failures_never_malformed() {
    let r = summary_value(&[path(&sample("responses-batch.jsonl"))]);
    lines_add_up(&r);
    assert_eq!(r["input"]["records"], 6);
    assert_eq!(r["input"]["malformed"], 0);
    assert_eq!(r["steps"]["undated"], 2);
    assert_eq!(r["steps"]["by_status"]["failed"], 2);
    let codes = &r["failures"]["by_code"];
    assert_eq!(codes["rate_limit_exceeded"], 1);
    assert_eq!(codes["batch_expired"], 1);
    // In no hour and in no time range: the dated four are.
    let buckets = r["time_series"]["buckets"].as_array().unwrap();
    let in_series: u64 = buckets.iter().map(|b| b["steps"].as_u64().unwrap()).sum();
    assert_eq!(in_series, 4);
    assert_eq!(
        r["time_range"]["first_created_at_utc"],
        "2025-09-16T23:13:48Z"
    );
    // A window leaves them out, as records outside it.
    let w = summary_value(&[
        path(&sample("responses-batch.jsonl")),
        "--since",
        "2025-01-01",
    ]);
    assert_eq!(w["steps"]["total"], 4);
    assert_eq!(w["input"]["filtered_out"], 2);
    let text = summary_text(&[path(&sample("responses-batch.jsonl"))]);
    assert!(
        text.contains("2 undated (failed batch requests, no created_at)"),
        "{text}"
    );
}

#[test]
fn both_apis_in_one_report_are_told_apart() {
    let args = [
        "samples/responses.jsonl",
        "samples/api-examples.jsonl",
        "samples/runs.jsonl",
    ];
    let text = summary_text(&args);
    assert!(
        text.contains("Records 78 (7 run steps · 71 responses)"),
        "{text}"
    );
    let mut grouped = args.to_vec();
    grouped.extend(["--group-by", "api", "-f", "json"]);
    let r: Value = serde_json::from_str(&summary_text(&grouped)).unwrap();
    let steps = summary_value(&["samples/api-examples.jsonl", "samples/runs.jsonl"]);
    let responses = summary_value(&["samples/responses.jsonl"]);
    for g in r["groups"].as_array().unwrap() {
        let alone = match g["key"][0].as_str().unwrap() {
            "assistants" => &steps,
            "responses" => &responses,
            other => panic!("api {other}"),
        };
        assert_eq!(g["steps"], alone["steps"]["total"]);
        assert_eq!(g["failures"]["total"], alone["failures"]["total"]);
        assert_eq!(g["usage"]["total_tokens"], alone["usage"]["total_tokens"]);
        assert_eq!(g["cost_usd"], alone["cost"]["total_usd"]);
    }
    // Run steps alone say nothing of APIs.
    assert!(steps["steps"].get("by_api").is_none());
    assert_eq!(
        r["runs"]["total"].as_u64().unwrap(),
        steps["runs"]["total"].as_u64().unwrap() + responses["runs"]["total"].as_u64().unwrap()
    );
}

#[test]
fn a_report_of_responses_never_calls_them_steps() {
    let step = regex_lite_words();
    for format in ["table", "markdown", "html"] {
        let mut args = vec!["samples/responses.jsonl", "-f", format];
        if format == "table" {
            args.push("--full");
        }
        let text = summary_text(&args);
        for line in text.lines() {
            // Field names (`by step type`, `step_details`) name the column, not the record.
            let words = step(line);
            assert!(words.is_empty(), "{format}: {line}");
        }
    }
    let brief = summary_text(&["samples/responses.jsonl"]);
    assert!(brief.contains("Responses 71 · 1 failed"), "{brief}");
    assert!(brief.contains("71 responses"), "{brief}");
}

/// The words `step`/`steps`/`Steps` standing alone in `line` (not `step_type`, not
/// `steplog`, not the `step type` of a breakdown's title).
fn regex_lite_words() -> impl Fn(&str) -> Vec<String> {
    |line: &str| {
        let bytes = line.as_bytes();
        let mut out = Vec::new();
        let mut i = 0;
        while i < bytes.len() {
            if bytes[i].is_ascii_alphabetic() {
                let start = i;
                while i < bytes.len() && (bytes[i].is_ascii_alphanumeric() || bytes[i] == b'_') {
                    i += 1;
                }
                let w = &line[start..i];
                let before = line[..start].trim_end();
                let next = line[i..].trim_start();
                let field = next.starts_with("type") || before.ends_with("by");
                if matches!(w, "step" | "steps" | "Steps") && !field {
                    out.push(w.to_string());
                }
            } else {
                i += 1;
            }
        }
        out
    }
}

#[test]
fn responses_are_priced_by_their_own_model_with_a_prices_file() {
    let dir = tempfile::tempdir().unwrap();
    let all = bodies(&lines("responses.jsonl"));
    // Picodollars per token: input, cached input, output; for every model of the sample,
    // so that none falls back to the bundled table.
    let mut models: Vec<&str> = all.iter().map(|r| r["model"].as_str().unwrap()).collect();
    models.sort_unstable();
    models.dedup();
    let price = |i: usize| {
        (
            1_000_000 * (i as u128 + 1),
            100_000 * (i as u128 + 1),
            3_000_000 * (i as u128 + 1),
        )
    };
    let mut file = serde_json::Map::new();
    for (i, m) in models.iter().enumerate() {
        let (input, cached, output) = price(i);
        let d = |p: u128| p as f64 / 1e12;
        file.insert(
            m.to_string(),
            serde_json::json!({
                "input_cost_per_token": d(input),
                "cache_read_input_token_cost": d(cached),
                "output_cost_per_token": d(output),
            }),
        );
    }
    let prices = dir.path().join("prices.json");
    std::fs::write(&prices, Value::Object(file).to_string()).unwrap();
    let mut want = 0u128;
    let mut want_by_model: BTreeMap<&str, u128> = BTreeMap::new();
    for r in &all {
        let u = &r["usage"];
        if !u.is_object() {
            continue;
        }
        let n = |v: &Value| u128::from(v.as_u64().unwrap_or(0));
        let m = r["model"].as_str().unwrap();
        let (input, cached_price, output) = price(models.binary_search(&m).unwrap());
        let prompt = n(&u["input_tokens"]);
        let cached = n(&u["input_tokens_details"]["cached_tokens"]).min(prompt);
        let c = (prompt - cached) * input + cached * cached_price + n(&u["output_tokens"]) * output;
        want += c;
        *want_by_model.entry(m).or_default() += c;
    }
    let r = summary_value(&["samples/responses.jsonl", "--prices", path(&prices)]);
    let pico = |v: &Value| (v.as_f64().unwrap() * 1e12).round() as u128;
    assert_eq!(pico(&r["cost"]["total_usd"]), want);
    for (m, c) in want_by_model {
        assert_eq!(pico(&r["cost"]["by_model"][m]["usd"]), c, "{m}");
    }
    assert_eq!(r["cost"]["unpriced"]["steps"], 0);
    // Tool fees: web and file searches per call at the bundled fees ($10 and $2.50 per
    // thousand calls), containers and images counted as unpriced, never $0.
    let items = |t: &str| -> u64 {
        all.iter()
            .flat_map(|r| r["output"].as_array().unwrap().iter())
            .filter(|i| i["type"] == t)
            .count() as u64
    };
    let fees = &r["cost"]["tool_fees"];
    let (web, file) = (items("web_search_call"), items("file_search_call"));
    assert!(web > 0 && file > 0);
    assert_eq!(fees["by_kind"]["web_search"]["calls"], web);
    assert_eq!(
        pico(&fees["usd"]),
        u128::from(web) * 10_000_000_000 + u128::from(file) * 2_500_000_000
    );
    let unpriced = items("code_interpreter_call") + items("image_generation_call");
    assert!(unpriced > 0);
    assert_eq!(fees["unpriced_calls"], unpriced);
    assert!(fees["by_kind"]["code_interpreter"]["usd"].is_null());
    // Tool fees are not in the total, which is the tokens'.
    assert_eq!(pico(&r["cost"]["total_usd"]), want);
    // Without the file, the models the bundled table lacks are counted, never $0.
    let bundled = summary_value(&["samples/responses.jsonl"]);
    let unknown = &bundled["cost"]["unpriced"]["unknown_models"];
    assert!(unknown.get("gpt-5.5-2026-04-23").is_some(), "{unknown}");
    assert!(bundled["cost"]["by_model"]
        .get("gpt-5-2025-08-07")
        .is_some());
}

#[test]
fn the_new_fields_select_and_group() {
    let args = |extra: &[&str]| {
        let mut a = vec!["samples/responses.jsonl", "samples/api-examples.jsonl"];
        a.extend_from_slice(extra);
        summary_value(&a)
    };
    let r = args(&["--where", r#"api == "responses" && service_tier == "auto""#]);
    assert_eq!(r["steps"]["total"], 4);
    let r = args(&["--where", r#"model == "gpt-5-2025-08-07""#]);
    assert_eq!(r["steps"]["total"], 10);
    let r = args(&["--where", r#"api == "assistants""#]);
    assert_eq!(r["steps"]["total"], 7);
    let r = args(&["--where", r#"tool == "mcp""#]);
    assert_eq!(r["tool_calls"]["by_kind"]["mcp"], 6);
    let r = args(&["--group-by", "service_tier"]);
    let keys: Vec<&str> = r["groups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["key"][0].as_str().unwrap())
        .collect();
    assert!(keys.contains(&"default") && keys.contains(&"auto") && keys.contains(&"(none)"));
    let r = args(&["--group-by", "conversation"]);
    assert_eq!(r["group_by"][0], "thread");
}

#[test]
fn responses_in_arrays_and_pretty_printed_documents_read_as_lines_do() {
    let dir = tempfile::tempdir().unwrap();
    let all = bodies(&lines("responses.jsonl"));
    let want = summary_value(&["samples/responses.jsonl"]);
    let array = dir.path().join("array.json");
    std::fs::write(&array, serde_json::to_string_pretty(&all).unwrap()).unwrap();
    let pretty = dir.path().join("pretty.json");
    let text: Vec<String> = all
        .iter()
        .map(|r| serde_json::to_string_pretty(r).unwrap())
        .collect();
    std::fs::write(&pretty, text.join("\n")).unwrap();
    for p in [&array, &pretty] {
        let r = summary_value(&[path(p)]);
        assert_eq!(r["input"]["records"], 71, "{p:?}");
        assert_eq!(r["input"]["malformed"], 0, "{p:?}");
        for k in ["steps", "runs", "failures", "usage", "cost", "tool_calls"] {
            assert_eq!(r[k], want[k], "{k} of {p:?}");
        }
    }
}

#[test]
fn a_generated_corpus_matches_an_independent_reading_in_every_order_and_split() {
    let dir = tempfile::tempdir().unwrap();
    for order in ["interleaved", "shuffled", "single"] {
        let file = dir.path().join(format!("{order}.jsonl"));
        ok(steplog()
            .args([
                "generate",
                "--api",
                "responses",
                "-n",
                "3000",
                "--seed",
                "4",
            ])
            .args(["--order", order, "--in-flight", "30", "-o"])
            .arg(&file));
        let text = std::fs::read_to_string(&file).unwrap();
        let lines: Vec<String> = text.lines().map(str::to_string).collect();
        let want = as_reported(expected(&bodies(&lines)));
        if order != "single" {
            assert!(want.runs < 3000, "{order}: chains");
        }
        for flags in [&["-j", "1"][..], &["-j", "2", "--chunk-size", "64KiB"][..]] {
            let mut args = vec![path(&file)];
            args.extend(flags);
            assert_eq!(reported(&summary_value(&args)), want, "{order} {flags:?}");
        }
        let (_, merged) = shards_merged(&file, dir.path(), 3, &[2, 0, 1]);
        let r: Value =
            serde_json::from_slice(&ok(steplog().args(["report", "-f", "json"]).arg(&merged)))
                .unwrap();
        assert_eq!(reported(&r), want, "{order} over 3 shards");
    }
}

#[test]
fn a_diff_of_the_two_apis_says_what_each_side_holds() {
    let out = ok(steplog().args([
        "diff",
        "samples/api-examples.jsonl",
        "samples/responses.jsonl",
    ]));
    let text = String::from_utf8(out).unwrap();
    assert!(
        text.contains("base     7 steps, samples/api-examples.jsonl"),
        "{text}"
    );
    assert!(
        text.contains("current  71 responses, samples/responses.jsonl"),
        "{text}"
    );
}
