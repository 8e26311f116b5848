//! What the steps cost, against an independent computation: generated steps and their
//! run objects, shuffled together and split over files (and shards), priced with a small
//! LiteLLM-layout price file made here, every figure recomputed here in picodollars.

use crate::util::*;
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// A price: model, then picodollars per token of input, cached input, output, reasoning.
type Price = (&'static str, u128, Option<u128>, u128, Option<u128>);

/// Prices of the test's own table. Of the generator's models, `gpt-4-0613` is left to the
/// bundled table ($30 and $60 per million), `gpt-3.5-turbo-0613` is in neither (so it is
/// priced as `gpt-3.5-turbo`, with a note), and the fine-tune is unknown.
const PRICES: [Price; 4] = [
    (
        "gpt-4-1106-preview",
        10_000_000,
        Some(5_000_000),
        30_000_000,
        None,
    ),
    ("gpt-3.5-turbo-1106", 1_000_000, None, 2_000_000, None),
    (
        "gpt-3.5-turbo",
        500_000,
        Some(250_000),
        1_500_000,
        Some(3_000_000),
    ),
    ("gpt-4", 20_000_000, None, 50_000_000, None),
];

/// The bundled table's `gpt-4-0613`.
const BUNDLED_GPT4: Price = ("gpt-4-0613", 30_000_000, None, 60_000_000, None);

/// The price file, in LiteLLM's layout (dollars per token, with fields steplog ignores),
/// with entries that do not price tokens (skipped), read over the bundled table.
fn price_file(dir: &Path) -> PathBuf {
    let mut m = serde_json::Map::new();
    m.insert(
        "sample_spec".into(),
        serde_json::json!({"input_cost_per_token": 0, "mode": "chat"}),
    );
    for (name, input, cached, output, reasoning) in PRICES {
        let d = |p: u128| p as f64 / 1e12;
        let mut e = serde_json::json!({
            "input_cost_per_token": d(input),
            "output_cost_per_token": d(output),
            "litellm_provider": "openai",
            "max_tokens": 4096,
        });
        if let Some(c) = cached {
            e["cache_read_input_token_cost"] = d(c).into();
        }
        if let Some(r) = reasoning {
            e["output_cost_per_reasoning_token"] = d(r).into();
        }
        m.insert(name.into(), e);
    }
    m.insert(
        "dall-e-3".into(),
        serde_json::json!({"output_cost_per_image": 0.04}),
    );
    let p = dir.join("prices.json");
    std::fs::write(&p, serde_json::to_string_pretty(&Value::Object(m)).unwrap()).unwrap();
    p
}

/// Picodollars a step costs at `p`.
fn cost(u: &Value, p: &Price) -> u128 {
    let n = |v: &Value| u128::from(v.as_u64().unwrap_or(0));
    let prompt = n(&u["prompt_tokens"]);
    let completion = n(&u["completion_tokens"]);
    let cached = n(&u["prompt_token_details"]["cached_tokens"]).min(prompt);
    let reasoning = n(&u["completion_tokens_details"]["reasoning_tokens"]).min(completion);
    let input = (prompt - cached) * p.1 + cached * p.2.unwrap_or(p.1);
    let output = match p.4 {
        Some(r) => (completion - reasoning) * p.3 + reasoning * r,
        None => completion * p.3,
    };
    input + output
}

/// A report amount as picodollars. Exact below $9,000 (2^53 picodollars), which every
/// amount here is.
fn pico(v: &Value) -> u128 {
    let d = v.as_f64().unwrap();
    assert!(d < 9000.0, "{d}");
    (d * 1e12).round() as u128
}

/// What the report should say, computed from the lines alone.
#[derive(Default)]
struct Expected {
    total: u128,
    by_model: BTreeMap<String, (u128, u64)>,
    by_assistant: BTreeMap<String, u128>,
    by_day: BTreeMap<i64, u128>,
    no_model: u64,
    unknown: BTreeMap<String, u64>,
    fallbacks: u64,
}

fn expected(
    lines: &[String],
    by_assistant: &BTreeMap<&str, &str>,
    default: Option<&str>,
) -> Expected {
    let mut models: BTreeMap<String, String> = BTreeMap::new();
    let mut steps = Vec::new();
    for l in lines {
        let v: Value = serde_json::from_str(l).unwrap();
        if v["object"] == "thread.run" {
            let (id, m) = (v["id"].as_str().unwrap(), v["model"].as_str().unwrap());
            let e = models.entry(id.into()).or_insert_with(|| m.into());
            if m < e.as_str() {
                *e = m.into();
            }
        } else {
            steps.push(v);
        }
    }
    let mut x = Expected::default();
    for s in &steps {
        let u = &s["usage"];
        if !u.is_object() {
            continue;
        }
        let assistant = s["assistant_id"].as_str().unwrap();
        let model = s["run_id"]
            .as_str()
            .and_then(|r| models.get(r).map(String::as_str))
            .or_else(|| by_assistant.get(assistant).copied())
            .or(default);
        let Some(model) = model else {
            x.no_model += 1;
            continue;
        };
        let p = match model {
            "gpt-4-0613" => Some(&BUNDLED_GPT4),
            "gpt-3.5-turbo-0613" => {
                x.fallbacks += 1;
                PRICES.iter().find(|p| p.0 == "gpt-3.5-turbo")
            }
            m => PRICES.iter().find(|p| p.0 == m),
        };
        let Some(p) = p else {
            *x.unknown.entry(model.into()).or_default() += 1;
            continue;
        };
        let c = cost(u, p);
        x.total += c;
        let m = x.by_model.entry(model.into()).or_default();
        m.0 += c;
        m.1 += 1;
        *x.by_assistant.entry(assistant.into()).or_default() += c;
        let day = s["created_at"].as_i64().unwrap().div_euclid(86_400) * 86_400;
        *x.by_day.entry(day).or_default() += c;
    }
    x
}

/// `n` generated steps and their runs, shuffled together and split over four files.
fn corpus(dir: &Path, n: u64, seed: u64) -> (PathBuf, Vec<String>) {
    let (mut steps, mut runs) = (Vec::new(), Vec::new());
    steplog::generate::Generator::new(seed)
        .with_runs(seed)
        .write_with_runs(n, &mut steps, &mut runs)
        .unwrap();
    let text = String::from_utf8(steps).unwrap() + &String::from_utf8(runs).unwrap();
    let mut lines: Vec<String> = text.lines().map(String::from).collect();
    crate::runs::shuffle(&mut lines, seed * 31 + 7);
    let logs = dir.join("logs");
    std::fs::create_dir_all(&logs).unwrap();
    for (k, part) in lines.chunks(lines.len().div_ceil(4)).enumerate() {
        std::fs::write(logs.join(format!("part-{k}.jsonl")), part.join("\n") + "\n").unwrap();
    }
    (logs, lines)
}

fn check(r: &Value, x: &Expected) {
    let c = &r["cost"];
    assert_eq!(pico(&c["total_usd"]), x.total);
    let models: BTreeMap<String, (u128, u64)> = c["by_model"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(k, m)| (k.clone(), (pico(&m["usd"]), m["steps"].as_u64().unwrap())))
        .collect();
    assert_eq!(models, x.by_model);
    let assistants: BTreeMap<String, u128> = c["by_assistant"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(k, v)| (k.clone(), pico(v)))
        .collect();
    assert_eq!(assistants, x.by_assistant);
    let days: BTreeMap<i64, u128> = r["time_series"]["buckets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| (b["start"].as_i64().unwrap(), pico(&b["cost_usd"])))
        .filter(|(_, c)| *c > 0)
        .collect();
    assert_eq!(
        days,
        x.by_day
            .clone()
            .into_iter()
            .filter(|(_, c)| *c > 0)
            .collect()
    );
    let u = &c["unpriced"];
    assert_eq!(u["by_reason"]["no_model"]["steps"], x.no_model);
    let unknown: u64 = x.unknown.values().sum();
    assert_eq!(u["by_reason"]["unknown_model"]["steps"], unknown);
    assert_eq!(u["steps"], x.no_model + unknown);
    for (m, n) in &x.unknown {
        assert_eq!(u["unknown_models"][m]["steps"], *n, "{m}");
    }
    let priced: u64 = x.by_model.values().map(|m| m.1).sum();
    assert_eq!(
        priced + x.no_model + unknown,
        r["usage"]["steps_with_usage"].as_u64().unwrap(),
        "every step with usage is priced or counted as unpriced"
    );
    let notes = c["notes"].as_array().unwrap();
    assert_eq!(
        notes.iter().any(|n| n
            .as_str()
            .unwrap()
            .contains("gpt-3.5-turbo-0613 is priced as gpt-3.5-turbo")),
        x.fallbacks > 0
    );
}

#[test]
fn costs_agree_with_an_independent_computation_across_files_shards_and_flags() {
    let dir = tempfile::tempdir().unwrap();
    let (logs, lines) = corpus(dir.path(), 12_000, 11);
    let prices = price_file(dir.path());
    let p = path(&prices);
    let r = summary_value(&[path(&logs), "--prices", p]);
    assert!(r["input"]["runs"].as_u64().unwrap() > 1000);
    lines_add_up(&r);
    let none = BTreeMap::new();
    let x = expected(&lines, &none, None);
    assert!(
        x.no_model > 0 && !x.unknown.is_empty() && x.fallbacks > 0,
        "every case"
    );
    check(&r, &x);
    assert!(r["cost"]["prices"].as_str().unwrap().starts_with(p));

    // Flags fill in the runs without objects: one assistant mapped, the rest defaulted.
    let a = lines
        .iter()
        .find_map(|l| {
            let v: Value = serde_json::from_str(l).ok()?;
            (v["object"] == "thread.run.step")
                .then(|| v["assistant_id"].as_str().unwrap().to_string())
        })
        .unwrap();
    let map = BTreeMap::from([(a.as_str(), "gpt-3.5-turbo")]);
    let flag = format!("{a}=gpt-3.5-turbo");
    let args = [
        path(&logs),
        "--prices",
        p,
        "--model",
        &flag,
        "--default-model",
        "gpt-4",
    ];
    let r = summary_value(&args);
    let x = expected(&lines, &map, Some("gpt-4"));
    assert_eq!(x.no_model, 0);
    check(&r, &x);
    assert!(r["cost"]["model_from"]["default_model"].as_u64().unwrap() > 0);

    // Threads, chunking and --dedup (an export has nothing to fold) change nothing.
    let one = summary_json(&[path(&logs), "--prices", p]);
    for extra in [
        vec!["-j", "1"],
        vec!["-j", "3", "--chunk-size", "4K"],
        vec!["--no-mmap"],
    ] {
        let mut a = vec![path(&logs), "--prices", p];
        a.extend(extra.iter().copied());
        assert_eq!(summary_json(&a), one, "{extra:?}");
    }
    let deduped: Value =
        serde_json::from_str(&summary_json(&[path(&logs), "--prices", p, "--dedup"])).unwrap();
    let plain: Value = serde_json::from_str(&one).unwrap();
    assert_eq!(deduped["cost"], plain["cost"]);

    // Three shards, merged and priced at report time, are the one run byte for byte.
    let (_, merged) = shards_merged(&logs, dir.path(), 3, &[2, 1, 0]);
    let report = ok(steplog().args(["report", "-f", "json", path(&merged), "--prices", p]));
    assert_eq!(String::from_utf8(report).unwrap(), one);
}

#[test]
fn groups_and_thresholds_carry_the_cost() {
    let dir = tempfile::tempdir().unwrap();
    let (logs, lines) = corpus(dir.path(), 3_000, 5);
    let prices = price_file(dir.path());
    let p = path(&prices);
    let r = summary_value(&[
        path(&logs),
        "--prices",
        p,
        "--group-by",
        "assistant",
        "--sort",
        "cost",
    ]);
    let x = expected(&lines, &BTreeMap::new(), None);
    let groups = r["groups"].as_array().unwrap();
    let mut last = u128::MAX;
    for g in groups {
        let c = pico(&g["cost_usd"]);
        assert!(c <= last, "costliest first");
        last = c;
        let key = g["key"][0].as_str().unwrap();
        assert_eq!(c, x.by_assistant.get(key).copied().unwrap_or(0), "{key}");
    }
    // A group whose steps are all unpriced says so rather than show $0 alone.
    assert!(groups.iter().all(|g| g["unpriced_steps"].is_u64()));
    let total = r["cost"]["total_usd"].as_f64().unwrap();
    let breach = |cond: &str| {
        steplog()
            .args([
                "summary",
                "-q",
                "-f",
                "json",
                path(&logs),
                "--prices",
                p,
                "--fail-if",
                cond,
            ])
            .output()
            .unwrap()
            .status
            .code()
    };
    assert_eq!(breach(&format!("cost>{}", total * 0.99)), Some(3));
    assert_eq!(breach(&format!("cost>{}", total * 1.01)), Some(0));
    let (model, m) = x.by_model.iter().next().unwrap();
    let d = m.0 as f64 / 1e12;
    assert_eq!(
        breach(&format!("cost.model.{model}>={}", d * 0.999)),
        Some(3)
    );
    assert_eq!(breach("cost.model.nope>0"), Some(0));
    assert_eq!(breach("unpriced_steps>0"), Some(3));

    // Without the ledger there is no cost, and such a state does not merge with one.
    let r = summary_value(&[path(&logs), "--no-cost"]);
    assert!(r["cost"].is_null());
    let (a, b) = (dir.path().join("a.state"), dir.path().join("b.state"));
    ok(steplog().args(["partial", path(&logs), "--no-cost", "-o", path(&a)]));
    ok(steplog().args(["partial", path(&logs), "-o", path(&b)]));
    let out = steplog()
        .args([
            "merge",
            path(&a),
            path(&b),
            "-o",
            path(&dir.path().join("c.state")),
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--no-cost"));
}

#[test]
fn every_format_shows_the_cost_and_the_unpriced_steps() {
    let dir = tempfile::tempdir().unwrap();
    let (logs, _) = corpus(dir.path(), 2_000, 3);
    let prices = price_file(dir.path());
    let base = [
        path(&logs),
        "--prices",
        path(&prices),
        "--group-by",
        "assistant",
    ];
    let text = |f: &str| {
        let mut a = vec!["-f", f];
        if f == "table" {
            a.push("--full");
        }
        a.extend(base);
        summary_text(&a)
    };
    let r = summary_value(&base);
    let total = r["cost"]["total_usd"].as_f64().unwrap();
    assert!((1.0..1000.0).contains(&total), "{total}");
    let shown = format!("${total:.2}");
    for f in ["table", "markdown", "html"] {
        let t = text(f);
        assert!(t.contains(&shown), "{f}: {shown}");
        assert!(t.contains("Unpriced") || t.contains("unpriced"), "{f}");
        assert!(t.contains("ft:gpt-3.5-turbo-1106:acme::b1"), "{f}");
    }
    assert!(text("html").contains("Cost per day"));
    let csv = text("csv");
    assert!(csv.contains(",cost.total_usd,,"));
    assert!(csv.contains(",cost.unpriced.by_reason.steps,no_model,"));
    let prom = text("prometheus");
    let sum: f64 = prom
        .lines()
        .filter(|l| l.starts_with("steplog_cost_usd_total{"))
        .map(|l| l.rsplit(' ').next().unwrap().parse::<f64>().unwrap())
        .sum();
    assert!((sum - total).abs() < 1e-6, "{sum} {total}");
    assert!(prom.contains("steplog_unpriced_steps_total{reason=\"unknown_model\"}"));
}

#[test]
fn the_bundled_table_has_dated_sourced_prices() {
    let out = ok(steplog().args(["prices", "-f", "json"]));
    let v: Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(v["unit"], "USD per 1M tokens");
    let models = v["models"].as_object().unwrap();
    for name in [
        "gpt-4o",
        "gpt-4o-mini",
        "gpt-4-turbo",
        "gpt-3.5-turbo",
        "gpt-4.1",
        "o3-mini",
    ] {
        assert!(models.contains_key(name), "{name}");
    }
    let d = |s: &Value| steplog::report::parse_instant(s.as_str().unwrap(), 0).unwrap();
    let (launch, shutdown) = (d(&"2023-06-01".into()), d(&"2026-08-27".into()));
    for (name, entries) in models {
        let entries = entries.as_array().unwrap();
        assert!(!entries.is_empty(), "{name}");
        let mut prev = i64::MIN;
        for e in entries {
            let from = d(&e["from"]);
            assert!(
                (launch..shutdown).contains(&from) && from > prev,
                "{name}: {e}"
            );
            prev = from;
            assert!(
                e["source"].as_str().unwrap().starts_with("https://"),
                "{name}"
            );
            let n = |k: &str| e[k].as_str().map(|s| s.parse::<f64>().unwrap());
            let (input, output) = (n("input").unwrap(), n("output").unwrap());
            assert!(input > 0.0 && output >= input, "{name}: {e}");
            if let Some(c) = n("cached_input") {
                assert!(c < input, "{name}: a cache discount");
            }
        }
    }
    // The price in force at a date, and a snapshot falling back to its base model.
    let at = |m: &str, t: &str| -> Value {
        serde_json::from_slice(&ok(steplog().args(["prices", m, "--at", t, "-f", "json"]))).unwrap()
    };
    assert_eq!(at("o3", "2025-06-01")["models"]["o3"][0]["input"], "10.00");
    assert_eq!(at("o3", "2025-07-01")["models"]["o3"][0]["input"], "2.00");
    let snap = at("gpt-4o-2030-01-01", "2025-01-01");
    assert!(snap["note"].as_str().unwrap().contains("priced as gpt-4o"));
    let out = steplog().args(["prices", "gpt-9"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("gpt-9 is not in the price table"));
}

#[test]
fn bad_price_flags_are_clear_errors() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.json");
    std::fs::write(
        &bad,
        r#"{"m": {"input_cost_per_token": "cheap", "output_cost_per_token": 1e-6}}"#,
    )
    .unwrap();
    let models = dir.path().join("models.txt");
    std::fs::write(&models, "# assistants\nasst_a = gpt-4o\nasst_b gpt-4o\n").unwrap();
    for (args, says) in [
        (
            vec!["--prices", path(&bad)],
            "m.input_cost_per_token is \"cheap\", not a number",
        ),
        (
            vec!["--prices", "/nonexistent/p.json"],
            "cannot read the price file",
        ),
        (vec!["--model", "asst_a"], "is not ASSISTANT=MODEL"),
        (
            vec!["--model", "a=x", "--model", "a=y"],
            "gives a two models",
        ),
    ] {
        let out = steplog()
            .arg("summary")
            .args(&args)
            .arg("usage.jsonl")
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert!(
            String::from_utf8_lossy(&out.stderr).contains(says),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let flag = format!("@{}", path(&models));
    let out = steplog()
        .args(["summary", "--model", &flag, "usage.jsonl"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("line 3"));
}

#[test]
fn group_by_model_reads_the_runs_first_wherever_they_are() {
    let dir = tempfile::tempdir().unwrap();
    let (logs, lines) = corpus(dir.path(), 3_000, 9);
    let prices = price_file(dir.path());
    let p = path(&prices);
    let x = expected(&lines, &BTreeMap::new(), None);
    let r = summary_value(&[path(&logs), "--prices", p, "--group-by", "model"]);
    assert_eq!(r["group_by"], serde_json::json!(["model"]));
    let mut seen = 0;
    for g in r["groups"].as_array().unwrap() {
        let key = g["key"][0].as_str().unwrap();
        match x.by_model.get(key) {
            Some((usd, steps)) => {
                assert_eq!(pico(&g["cost_usd"]), *usd, "{key}");
                assert_eq!(g["usage"]["steps_with_usage"], *steps, "{key}");
                seen += 1;
            }
            // Runs without an object, and the model the table lacks: nothing priced.
            None => {
                assert_eq!(pico(&g["cost_usd"]), 0, "{key}");
                assert!(key == "(none)" || x.unknown.contains_key(key), "{key}");
            }
        }
    }
    assert_eq!(seen, x.by_model.len());
    // The same groups from a stream (spooled to be read twice) and with --dedup.
    let files: Vec<PathBuf> = std::fs::read_dir(&logs)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    let mut files = files;
    files.sort();
    let all: Vec<u8> = files
        .iter()
        .flat_map(|f| std::fs::read(f).unwrap())
        .collect();
    let out = steplog()
        .args([
            "summary",
            "-f",
            "json",
            "--prices",
            p,
            "--group-by",
            "model",
        ])
        .write_stdin(all)
        .output()
        .unwrap();
    let piped: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(piped["groups"], r["groups"]);
    let d = summary_value(&[path(&logs), "--prices", p, "--group-by", "model", "--dedup"]);
    assert_eq!(d["groups"], r["groups"]);
}
