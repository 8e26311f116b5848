//! The orders real logs come in (`steplog generate --order`): every one gives the runs,
//! threads, exemplars and costs of an independent computation, whatever the threads and
//! chunks; and the memory budget stops a summary whose tables outgrow it.

use crate::runs::{expected_runs, Ranked, Step};
use crate::util::*;
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::Path;

/// The steps of a JSONL file, with their places.
fn read_steps(file: &Path) -> Vec<Step> {
    std::fs::read_to_string(file)
        .unwrap()
        .lines()
        .enumerate()
        .map(|(i, l)| Step {
            v: serde_json::from_str(l).unwrap(),
            raw: l.to_string(),
            file: path(file).to_string(),
            line: i as u64 + 1,
        })
        .collect()
}

/// A price table (LiteLLM's layout) for every model the runs file names, in whole
/// picodollars per token (input 1 µ$, cached input 0.5 µ$, output 2 µ$); and the ten runs
/// whose steps cost the most at those prices, with their cost in picodollars, ties by id.
fn costliest_in_dollars(
    dir: &Path,
    steps: &[Step],
    runs_file: &Path,
) -> (std::path::PathBuf, Vec<(String, u128)>) {
    let mut models: BTreeMap<String, String> = BTreeMap::new();
    for line in std::fs::read_to_string(runs_file).unwrap().lines() {
        let v: Value = serde_json::from_str(line).unwrap();
        models.insert(
            v["id"].as_str().unwrap().into(),
            v["model"].as_str().unwrap().into(),
        );
    }
    let table: serde_json::Map<String, Value> = models
        .values()
        .map(|m| {
            let price = serde_json::json!({
                "input_cost_per_token": 1e-6,
                "cache_read_input_token_cost": 5e-7,
                "output_cost_per_token": 2e-6,
            });
            (m.clone(), price)
        })
        .collect();
    let prices = dir.join("prices.json");
    std::fs::write(&prices, Value::Object(table).to_string()).unwrap();
    let mut cost: BTreeMap<&str, u128> = BTreeMap::new();
    for s in steps {
        let (Some(run), u) = (s.v["run_id"].as_str(), &s.v["usage"]) else {
            continue;
        };
        if !u.is_object() || !models.contains_key(run) {
            continue;
        }
        let n = |v: &Value| u128::from(v.as_u64().unwrap_or(0));
        let prompt = n(&u["prompt_tokens"]);
        let cached = n(&u["prompt_token_details"]["cached_tokens"]).min(prompt);
        let completion = n(&u["completion_tokens"]);
        *cost.entry(run).or_default() +=
            (prompt - cached) * 1_000_000 + cached * 500_000 + completion * 2_000_000;
    }
    let mut ranked: Vec<(String, u128)> =
        cost.into_iter().map(|(r, c)| (r.to_string(), c)).collect();
    ranked.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    ranked.truncate(10);
    (prices, ranked)
}

#[test]
fn every_order_real_logs_come_in_gives_the_runs_of_an_independent_computation() {
    use steplog::generate::{write_corpus, Generator, Order};
    let dir = tempfile::tempdir().unwrap();
    let mut costs = BTreeMap::new();
    for (name, order) in [
        ("grouped", Order::Grouped),
        ("interleaved", Order::Interleaved { in_flight: 300 }),
        ("shuffled", Order::Shuffled),
        ("single", Order::Single),
    ] {
        let logs = dir.path().join(format!("{name}.jsonl"));
        let runs_file = dir.path().join(format!("{name}.runs.jsonl"));
        write_corpus(
            Generator::new(7).with_runs(7),
            6_000,
            order,
            std::fs::File::create(&logs).unwrap(),
            std::fs::File::create(&runs_file).unwrap(),
        )
        .unwrap();
        let steps = read_steps(&logs);
        let (runs, threads, slowest, _) = expected_runs(&steps);
        let (prices, costliest) = costliest_in_dollars(dir.path(), &steps, &runs_file);
        let inputs = [path(&logs), path(&runs_file), "--prices", path(&prices)];
        let r = summary_value(&inputs);
        assert_eq!(r["runs"], runs, "{name}");
        assert_eq!(r["threads"], threads, "{name}");
        let pairs = |list: &Value| -> Ranked {
            list.as_array()
                .unwrap()
                .iter()
                .map(|x| {
                    (
                        x["run_id"].as_str().unwrap().into(),
                        x["value"].as_u64().unwrap(),
                    )
                })
                .collect()
        };
        assert_eq!(pairs(&r["exemplars"]["slowest_runs"]), slowest, "{name}");
        // Ranked by dollars, as the runs' steps are priced.
        let got: Vec<(String, f64)> = r["exemplars"]["costliest_runs"]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| {
                assert_eq!(x["figure"], "cost_usd");
                (
                    x["run_id"].as_str().unwrap().into(),
                    x["cost_usd"].as_f64().unwrap(),
                )
            })
            .collect();
        assert_eq!(got.len(), costliest.len(), "{name}");
        for ((id, usd), (want, pico)) in got.iter().zip(&costliest) {
            assert_eq!(id, want, "{name}: {got:?} {costliest:?}");
            assert!(
                (usd - *pico as f64 / 1e12).abs() < 1e-12,
                "{name}: {id} {usd} {pico}"
            );
        }
        // Every priced step is a step with usage, whatever the order.
        let with_usage = steps.iter().filter(|s| s.v["usage"].is_object()).count() as u64;
        let cost = &r["cost"];
        let unpriced = cost["unpriced"]["steps"].as_u64().unwrap();
        let priced: u64 = cost["by_model"]
            .as_object()
            .unwrap()
            .values()
            .map(|m| m["steps"].as_u64().unwrap())
            .sum();
        assert_eq!(priced + unpriced, with_usage, "{name}: {cost}");
        costs.insert(name, cost.clone());
        // Any threads and chunking give the same report; so do workers that hand their
        // tables over to be merged while reading (at a third of `--max-runs` each, or a
        // share of a small memory limit), and a memory limit so small that the runs are
        // spilled to disk and read back.
        let whole = summary_json(&inputs);
        // Runs met through steps or run objects (the run file may name runs whose steps
        // the corpus cut off).
        let mut ids: std::collections::BTreeSet<String> = steps
            .iter()
            .filter_map(|s| s.v["run_id"].as_str().map(str::to_string))
            .collect();
        for line in std::fs::read_to_string(&runs_file).unwrap().lines() {
            let v: Value = serde_json::from_str(line).unwrap();
            ids.insert(v["id"].as_str().unwrap().to_string());
        }
        let n = ids.len().to_string();
        for args in [
            &["--threads", "1"][..],
            &["--threads", "3", "--chunk-size", "1K"],
            &["--no-mmap", "--chunk-size", "7K", "--threads", "2"],
            &["--threads", "3", "--chunk-size", "2K", "--max-runs", &n],
            &[
                "--threads",
                "3",
                "--chunk-size",
                "2K",
                "--memory-limit",
                "8M",
            ],
            // Small enough that the runs spill to disk many times, and every partition
            // is read back from several spills.
            &[
                "--threads",
                "2",
                "--chunk-size",
                "3K",
                "--memory-limit",
                "200K",
            ],
            &["--threads", "1", "--memory-limit", "100K"],
        ] {
            let mut a = args.to_vec();
            a.extend(inputs);
            assert_eq!(summary_json(&a), whole, "{name} {args:?}");
        }
        // Grouped, the cost of each group read back from spills is the one kept whole
        // (spills name groups by key: the tables that spill number them each their own way).
        let grouped = |extra: &[&str]| {
            let mut a = vec!["--group-by", "assistant"];
            a.extend(extra);
            a.extend(inputs);
            summary_json(&a)
        };
        let whole = grouped(&[]);
        for args in [
            &[
                "--threads",
                "2",
                "--chunk-size",
                "3K",
                "--memory-limit",
                "200K",
            ][..],
            &[
                "--threads",
                "3",
                "--chunk-size",
                "2K",
                "--memory-limit",
                "8M",
            ],
        ] {
            assert_eq!(grouped(args), whole, "{name} --group-by assistant {args:?}");
        }
        // `--max-runs` bounds the process: one run fewer than there are is exit 2 however
        // the runs fall among the workers.
        let fewer = (ids.len() - 1).to_string();
        for threads in ["1", "3"] {
            let mut a = vec!["summary", "-q", "--max-runs", &fewer, "-j", threads];
            a.extend(["--chunk-size", "2K"]);
            a.extend(inputs);
            let (code, err) = crate::util::fails(&a);
            assert_eq!(code, 2, "{name} -j {threads}: {err}");
            assert!(err.contains("--max-runs"), "{err}");
        }
    }
    // The shuffled corpus holds the grouped one's lines: the same costs.
    assert_eq!(costs["grouped"], costs["shuffled"]);
    assert_ne!(costs["grouped"], costs["single"]);
}

#[test]
fn a_memory_limit_spills_runs_to_disk_and_stops_what_cannot_spill_with_exit_2() {
    use steplog::generate::{write_corpus, Generator, Order};
    let dir = tempfile::tempdir().unwrap();
    let logs = dir.path().join("single.jsonl");
    // 30,000 runs of one step: several MiB of run, thread and cost tables.
    write_corpus(
        Generator::new(4),
        30_000,
        Order::Single,
        std::fs::File::create(&logs).unwrap(),
        std::io::sink(),
    )
    .unwrap();
    let logs = path(&logs);
    let fails = |args: &[&str]| {
        let out = steplog().args(args).output().unwrap();
        let err = String::from_utf8_lossy(&out.stderr).to_string();
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert!(out.stdout.is_empty(), "no report after the limit");
        assert!(
            err.contains("--memory-limit") && err.contains("1.00 MiB"),
            "{err}"
        );
    };
    // A summary spills its runs past a quarter of the limit, says so on standard error,
    // and reports what an unlimited one does.
    let unlimited = summary_json(&["-q", logs]);
    for threads in ["1", "3"] {
        let out = steplog()
            .args([
                "summary",
                "-f",
                "json",
                "--memory-limit",
                "1M",
                "-j",
                threads,
                logs,
            ])
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(0), "{err}");
        assert_eq!(String::from_utf8_lossy(&out.stdout), unlimited);
        assert!(err.contains("spilled") && err.contains("1.00 MiB"), "{err}");
    }
    assert!(
        !String::from_utf8_lossy(&ok(steplog().args(["summary", "-f", "json", logs])))
            .contains("spilled")
    );
    // Tables that do not spill (groups; runs a state must hold whole) stop at the limit.
    let mut group_by_run = vec!["summary", "-q", "--memory-limit", "1M", "--group-by", "run"];
    group_by_run.push(logs);
    fails(&group_by_run);
    let state = dir.path().join("day.state");
    fails(&[
        "partial",
        "-q",
        "--memory-limit",
        "1M",
        "-o",
        path(&state),
        logs,
    ]);
    fails(&[
        "summary",
        "-q",
        "--memory-limit",
        "1M",
        "--save-state",
        path(&state),
        logs,
    ]);
    assert!(!state.exists(), "no state after the limit");
    // Without runs and costs the same budget holds; a larger one changes nothing.
    ok(steplog().args([
        "summary",
        "-q",
        "--memory-limit",
        "1M",
        "--no-runs",
        "--no-cost",
        logs,
    ]));
    assert_eq!(
        summary_json(&["-q", "--memory-limit", "1G", logs]),
        unlimited
    );
    // Merging and reporting states count the merged tables.
    ok(steplog().args(["partial", "-q", "-o", path(&state), logs]));
    fails(&["report", "--memory-limit", "1M", path(&state)]);
    fails(&[
        "merge",
        "--memory-limit",
        "1M",
        "-o",
        path(&dir.path().join("m.state")),
        path(&state),
    ]);
    ok(steplog().args(["report", "--memory-limit", "1G", path(&state)]));
    // A spill that cannot be written is a clear exit 2, naming the place.
    let out = steplog()
        .env("TMPDIR", dir.path().join("gone"))
        .args(["summary", "-q", "--memory-limit", "1M", logs])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("cannot spill runs") && err.contains("gone"),
        "{err}"
    );
    assert!(out.stdout.is_empty());
}
