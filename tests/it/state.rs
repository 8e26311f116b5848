//! State files: partial / merge / report, sharding, and the merge laws.

#[allow(unused_imports)]
use crate::util::*;
use proptest::prelude::*;
use serde_json::Value;
use std::path::{Path, PathBuf};
use steplog::engine::{self, Config};
use steplog::input::InputSpec;
use steplog::state::State;
use steplog::summary::View;

/// Five files: generated steps split unevenly, plus fixtures with malformed lines,
/// deltas and framing. Named so that their path order is their order here.
fn five_files(dir: &Path) -> Vec<PathBuf> {
    let mut generated = Vec::new();
    steplog::generate::Generator::new(5)
        .write(6000, &mut generated)
        .unwrap();
    let text = String::from_utf8(generated).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    let fixture = |name: &str| std::fs::read_to_string(testdata().join(name)).unwrap();
    let parts = [
        lines[..100].join("\n") + "\n" + &fixture("malformed.jsonl"),
        lines[100..2500].join("\n") + "\n",
        fixture("samples/stream-events.jsonl") + &lines[2500..2600].join("\n"),
        lines[2600..5900].join("\n") + "\n" + &fixture("bom_crlf.jsonl"),
        fixture("tools.jsonl") + &lines[5900..].join("\n") + "\n",
    ];
    parts
        .iter()
        .enumerate()
        .map(|(i, p)| {
            let path = dir.join(format!("part-{i}.jsonl"));
            std::fs::write(&path, p).unwrap();
            path
        })
        .collect()
}

#[test]
fn five_processes_and_a_merge_equal_one_run_byte_for_byte() {
    let dir = tempfile::tempdir().unwrap();
    let files = five_files(dir.path());
    for extra in [vec![], vec!["--group-by", "assistant,status"]] {
        let mut states = Vec::new();
        for (i, f) in files.iter().enumerate() {
            let state = dir.path().join(format!("{i}.state"));
            ok(steplog()
                .arg("partial")
                .args(&extra)
                .arg(f)
                .arg("-o")
                .arg(&state));
            states.push(state);
        }
        // Merged in a scrambled order: the result does not depend on it.
        let merged = dir.path().join("all.state");
        let mut m = steplog();
        m.arg("merge");
        for i in [3, 0, 4, 2, 1] {
            m.arg(&states[i]);
        }
        ok(m.arg("-o").arg(&merged));
        for (format, interval) in [
            ("json", "day"),
            ("json", "hour"),
            ("csv", "day"),
            // Prometheus has no time series: no --interval.
            ("prometheus", ""),
            ("markdown", "day"),
            ("table", "hour"),
            // The one-screen table (no time series).
            ("table", ""),
        ] {
            let interval_args: &[&str] = match (format, interval) {
                (_, "") => &[],
                ("table", i) => &["--full", "--interval", i],
                (_, i) => &["--interval", i],
            };
            let report = ok(steplog()
                .args(["report", "-f", format])
                .args(interval_args)
                .arg(&merged));
            let mut single = steplog();
            single
                .args(["summary", "-f", format])
                .args(interval_args)
                .args(&extra);
            for f in &files {
                single.arg(f);
            }
            assert_eq!(
                String::from_utf8(report).unwrap(),
                String::from_utf8(ok(&mut single)).unwrap(),
                "{format} {interval} {extra:?}"
            );
        }
        // `report` merges several states itself, the same way.
        let mut r = steplog();
        r.args(["report", "-f", "json"]).args(&states);
        let mut single = steplog();
        single
            .args(["summary", "-f", "json"])
            .args(&extra)
            .args(&files);
        assert_eq!(ok(&mut r), ok(&mut single));
    }
}

#[test]
fn shards_cover_every_file_once_and_a_retried_shard_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let logs = dir.path().join("logs");
    std::fs::create_dir(&logs).unwrap();
    for f in five_files(dir.path()) {
        std::fs::rename(&f, logs.join(f.file_name().unwrap())).unwrap();
    }
    for extra in ["a", "b", "c", "d", "e", "f", "g"] {
        std::fs::copy(
            testdata().join("tools.jsonl"),
            logs.join(format!("{extra}.jsonl")),
        )
        .unwrap();
    }
    let n = 3;
    let mut covered = Vec::new();
    let mut states = Vec::new();
    for i in 0..n {
        let state = dir.path().join(format!("shard-{i}.state"));
        // The index comes from the environment, as a Kubernetes Indexed Job sets it.
        ok(steplog()
            .env("JOB_COMPLETION_INDEX", i.to_string())
            .args([
                "partial",
                "--shard-count",
                &n.to_string(),
                path(&logs),
                "-o",
            ])
            .arg(&state));
        let st: Value = serde_json::from_slice(&std::fs::read(&state).unwrap()).unwrap();
        for f in st["files"].as_array().unwrap() {
            covered.push(f["name"].as_str().unwrap().to_string());
        }
        states.push(state);
    }
    covered.sort();
    let mut all: Vec<String> = std::fs::read_dir(&logs)
        .unwrap()
        .map(|e| e.unwrap().path().display().to_string())
        .collect();
    all.sort();
    assert_eq!(covered, all, "every file in exactly one shard");

    // Retrying a shard writes the same bytes, and leaves nothing else behind.
    let before = std::fs::read(&states[1]).unwrap();
    ok(steplog()
        .args([
            "partial",
            "--shard-index",
            "1",
            "--shard-count",
            "3",
            path(&logs),
            "-o",
        ])
        .arg(&states[1]));
    assert_eq!(std::fs::read(&states[1]).unwrap(), before);
    let leftovers: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".tmp"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");

    let mut r = steplog();
    r.args(["report", "-f", "json"]).args(&states);
    let single = ok(steplog().args(["summary", "-f", "json", path(&logs)]));
    assert_eq!(ok(&mut r), single);

    // Bad shard settings are usage errors.
    for args in [
        vec!["--shard-index", "3", "--shard-count", "3"],
        vec!["--shard-count", "0"],
    ] {
        let out = steplog()
            .arg("partial")
            .args(&args)
            .args(["tools.jsonl", "-o", "/dev/null"])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}");
    }
}

#[test]
fn incompatible_or_foreign_states_are_refused_clearly() {
    let dir = tempfile::tempdir().unwrap();
    let a = dir.path().join("a.state");
    let b = dir.path().join("b.state");
    ok(steplog().args(["partial", "tools.jsonl", "-o"]).arg(&a));
    ok(steplog()
        .args(["partial", "--group-by", "status", "usage.jsonl", "-o"])
        .arg(&b));
    let out = steplog()
        .args(["merge", path(&a), path(&b), "-o", "/dev/null"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("different settings (--group-by)"), "{err}");

    let mut v: Value = serde_json::from_slice(&std::fs::read(&a).unwrap()).unwrap();
    v["version"] = 99.into();
    let future = dir.path().join("future.state");
    std::fs::write(&future, v.to_string()).unwrap();
    let out = steplog().args(["report", path(&future)]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr)
        .contains("is a version 99 state; this steplog reads versions 1 to 5"));

    // Flags of `summary` the state cannot honour get a message, not a wrong report.
    let out = steplog()
        .args(["report", "--group-by", "assistant", path(&b)])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("made with --group-by 'status'")
            && err.contains("steplog partial --group-by assistant"),
        "{err}"
    );
    ok(steplog().args(["report", "--group-by", "status", path(&b)]));
    let out = steplog()
        .args(["report", "--since", "2025-01-01", path(&a)])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("not the window these states were made with")
    );

    let out = steplog().args(["report", "tools.jsonl"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("is not a steplog state file"));
}

#[test]
fn the_state_format_is_pinned_byte_for_byte() {
    // testdata/state/golden-v5.state is what `partial` writes for these fixtures: a
    // change to the format shows here, to be made on purpose (with a version bump).
    let dir = tempfile::tempdir().unwrap();
    let fresh = dir.path().join("fresh.state");
    ok(steplog()
        .args(["partial", "--group-by", "status"])
        .args(FIXTURES)
        .arg("-o")
        .arg(&fresh));
    let golden = std::fs::read(testdata().join("state/golden-v5.state")).unwrap();
    assert!(
        std::fs::read(&fresh).unwrap() == golden,
        "partial no longer writes testdata/state/golden-v5.state byte for byte"
    );
}

/// The fixtures the committed states were made from, with `--group-by status`.
const FIXTURES: [&str; 6] = [
    "bom_crlf.jsonl",
    "deltas.jsonl",
    "malformed.jsonl",
    "timestamps.jsonl",
    "tools.jsonl",
    "usage.jsonl",
];

#[test]
fn states_of_every_version_are_read_by_report() {
    // testdata/state/fixtures-v1.state was written by `steplog partial` when the format
    // was introduced, golden-v1.state by the last version-1 steplog, golden-v2.state by
    // the last version-2 one, golden-v3.state by the last version-3 one, golden-v4.state
    // by the last version-4 one, golden-v5.state by this one: each report must stay the summary of the same fixtures (version 1's
    // groups are read into compact groups, their durations from the histograms).
    // Malformed-line messages are kept as written, and older steplogs worded them
    // otherwise; states before version 3 hold no runs and before version 4 no costs: for
    // those every other figure is compared, and what they lack is null.
    let single = ok(steplog()
        .args(["summary", "-f", "json", "--group-by", "status"])
        .args(FIXTURES));
    let figures = |json: &[u8]| {
        let mut v: Value = serde_json::from_slice(json).unwrap();
        for e in v["input"]["malformed_examples"].as_array_mut().unwrap() {
            e["message"] = Value::Null;
        }
        for k in ["runs", "threads", "exemplars", "cost"] {
            v[k] = Value::Null;
        }
        for g in v["groups"].as_array_mut().unwrap() {
            g["cost_usd"] = Value::Null;
            g["unpriced_steps"] = Value::Null;
        }
        for b in v["time_series"]["buckets"].as_array_mut().unwrap() {
            b["cost_usd"] = Value::Null;
            b["unpriced_steps"] = Value::Null;
        }
        v
    };
    for name in [
        "fixtures-v1",
        "golden-v1",
        "golden-v2",
        "golden-v3",
        "golden-v4",
        "golden-v5",
    ] {
        let state = testdata().join(format!("state/{name}.state"));
        let report = ok(steplog().args(["report", "-f", "json"]).arg(&state));
        // Version 5 added only what run steps alone do not have: a version-4 state of
        // them reports as this steplog's summary does.
        if name == "golden-v4" || name == "golden-v5" {
            assert_eq!(
                String::from_utf8(report).unwrap(),
                String::from_utf8(single.clone()).unwrap(),
                "{name}"
            );
        } else {
            let v: Value = serde_json::from_slice(&report).unwrap();
            assert!(v["cost"].is_null(), "{name}");
            if name != "golden-v3" {
                assert!(v["runs"].is_null() && v["exemplars"].is_null(), "{name}");
            }
            assert_eq!(figures(&report), figures(&single), "{name}");
        }
    }
}

#[test]
fn histograms_are_standard_hdr_v2_deflate() {
    use base64::Engine as _;
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("t.state");
    ok(steplog()
        .args(["partial", "samples/api-examples.jsonl", "-o"])
        .arg(&p));
    let v: Value = serde_json::from_slice(&std::fs::read(&p).unwrap()).unwrap();
    let d = &v["summary"]["figures"]["durations"]["by_status"][0];
    assert_eq!(d["count"], 6);
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(d["hdr_v2_deflate"].as_str().unwrap())
        .unwrap();
    // The V2 compressed cookie, as every HdrHistogram implementation writes it.
    assert_eq!(&bytes[..4], &[0x1c, 0x84, 0x93, 0x14]);
    let h: hdrhistogram::Histogram<u64> = hdrhistogram::serialization::Deserializer::new()
        .deserialize(&mut bytes.as_slice())
        .unwrap();
    assert_eq!(h.len(), 6);
}

fn log() -> impl Strategy<Value = String> {
    let line = prop_oneof![
        4 => (0u32..20, prop::sample::select(vec!["completed", "failed", "cancelled", "in_progress"]), 0i64..200_000, prop_oneof![0i64..100, 0i64..100_000])
            .prop_map(|(id, st, t, d)| {
                let t = 1_700_000_000 + t;
                let at = if st == "in_progress" { String::new() } else { format!(r#","{st}_at":{}"#, t + d) };
                format!(r#"{{"id":"s{id}","created_at":{t},"status":"{st}"{at},"assistant_id":"a{}","usage":{{"prompt_tokens":{d},"completion_tokens":1,"total_tokens":{}}}}}"#, id % 3, d + 1)
            }),
        1 => Just("{broken".to_string()),
        1 => Just(String::new()),
    ];
    prop::collection::vec(line, 0..40).prop_map(|l| l.join("\n") + "\n")
}

fn state_of(dir: &Path, name: &str, text: &str, cfg: &Config) -> State {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    let outcome = engine::run(&[InputSpec::Path(p)], cfg).unwrap();
    State::of(outcome, cfg)
}

fn merged(parts: &[&State]) -> State {
    let mut m = parts[0].clone();
    for p in &parts[1..] {
        m.merge((*p).clone()).unwrap();
    }
    m
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn merge_is_associative_and_commutative_with_an_identity(
        a in log(), b in log(), c in log(), grouped in any::<bool>(),
    ) {
        let dir = tempfile::tempdir().unwrap();
        let cfg = Config {
            threads: 2,
            chunk_size: 97,
            group_by: if grouped { vec![steplog::agg::Dim::Assistant] } else { vec![] },
            ..Config::default()
        };
        let (sa, sb, sc) = (
            state_of(dir.path(), "a.jsonl", &a, &cfg),
            state_of(dir.path(), "b.jsonl", &b, &cfg),
            state_of(dir.path(), "c.jsonl", &c, &cfg),
        );
        let left = merged(&[&merged(&[&sa, &sb]), &sc]);
        let right = merged(&[&sa, &merged(&[&sb, &sc])]);
        let swapped = merged(&[&sc, &sb, &sa]);
        prop_assert_eq!(left.to_json(), right.to_json());
        prop_assert_eq!(left.to_json(), swapped.to_json());
        let empty = State::empty(steplog::state::Settings::of(&cfg));
        prop_assert_eq!(merged(&[&sa, &empty]).to_json(), sa.to_json());
        prop_assert_eq!(merged(&[&empty, &sa]).to_json(), sa.to_json());
        // And the merged state reports what one run over the three files reports.
        let files: Vec<InputSpec> = ["a.jsonl", "b.jsonl", "c.jsonl"]
            .iter()
            .map(|n| InputSpec::Path(dir.path().join(n)))
            .collect();
        let one = engine::summarize(&files, &cfg).unwrap();
        prop_assert_eq!(
            serde_json::to_string(&left.report(View::default())).unwrap(),
            serde_json::to_string(&one).unwrap()
        );
        // A state survives the round trip through its file format exactly.
        let back = State::from_json(left.to_json().as_bytes(), "left", steplog::state::Limits::default()).unwrap();
        prop_assert_eq!(back.to_json(), left.to_json());
    }
}

#[cfg(not(feature = "parquet"))]
#[test]
fn export_without_the_parquet_feature_says_how_to_get_it() {
    let out = steplog()
        .args([
            "export",
            "--to",
            "parquet",
            "tools.jsonl",
            "-o",
            "/dev/null",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--features parquet"));
}
