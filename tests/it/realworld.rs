//! Real-world input: event streams, `--dedup`, archives, directories, stdin streams, long
//! lines, truncation. Drives the real binary.

#[allow(unused_imports)]
use crate::util::*;
use serde_json::Value;
use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Stdio;

fn sample(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("testdata/samples")
        .join(name)
}

/// Every section computed from records (not the input accounting).
fn figures(r: &Value) -> Value {
    let mut v = r.clone();
    crate::util::forget_places(&mut v);
    for b in v["time_series"]["buckets"].as_array_mut().unwrap() {
        b.as_object_mut().unwrap().remove("cost_usd");
        b.as_object_mut().unwrap().remove("unpriced_steps");
    }
    let o = v.as_object_mut().unwrap();
    o.remove("input");
    o.remove("hints");
    // What the steps cost depends on the run objects, which only the capture has; so
    // does how the costliest runs are ranked (by dollars once a run is priced).
    o.remove("cost");
    o["exemplars"]
        .as_object_mut()
        .unwrap()
        .remove("costliest_runs");
    v
}

/// The run of the first steps of the stream-events sample, as its completed event says.
const RUN: &str = r#"{"id":"run_oyfV44CrJXYJkvb2qsd80LvJ","object":"thread.run","created_at":1761861560,"status":"completed","model":"gpt-4o-mini","usage":{"prompt_tokens":544,"completion_tokens":54,"total_tokens":598}}"#;

/// The stream-events sample as `curl -N` would capture it: `event:`/`data:` pairs, blank
/// separators, other event objects, a keep-alive comment and the `[DONE]` sentinel.
fn sse_capture() -> (Vec<u8>, u64) {
    let text = std::fs::read_to_string(sample("stream-events.jsonl")).unwrap();
    let mut out = Vec::new();
    let mut framing = 0;
    let other = r#"{"id":"msg_1","object":"thread.message.delta","delta":{"content":[]}}"#;
    for (i, line) in text.lines().enumerate() {
        let v: Value = serde_json::from_str(line).unwrap();
        let event = if v["object"] == "thread.run.step.delta" {
            "thread.run.step.delta".to_string()
        } else {
            format!("thread.run.step.{}", v["status"].as_str().unwrap())
        };
        writeln!(out, "event: {event}\ndata: {line}\n").unwrap();
        framing += 1;
        if i == 3 {
            writeln!(
                out,
                ": keep-alive\nevent: thread.message.delta\ndata:{other}\n"
            )
            .unwrap();
            framing += 3;
            // A run event: its payload is a run object (read for its model), the event
            // line is framing.
            writeln!(out, "event: thread.run.completed\ndata: {RUN}\n").unwrap();
            framing += 1;
        }
    }
    writeln!(out, "event: done\ndata: [DONE]\n").unwrap();
    framing += 2;
    (out, framing)
}

#[test]
fn an_sse_capture_reads_its_payloads_and_counts_framing() {
    let dir = tempfile::tempdir().unwrap();
    let sse = dir.path().join("run.sse");
    let (bytes, framing) = sse_capture();
    std::fs::write(&sse, &bytes).unwrap();
    let plain = summary_value(&[path(&sample("stream-events.jsonl"))]);
    for extra in [
        vec![],
        vec!["--chunk-size", "100", "-j", "3"],
        vec!["--no-mmap"],
    ] {
        let mut args = extra.clone();
        args.push(path(&sse));
        let r = summary_value(&args);
        lines_add_up(&r);
        assert_eq!(r["input"]["framing"], framing, "{extra:?}");
        assert_eq!(r["input"]["records"], plain["input"]["records"]);
        assert_eq!(r["input"]["deltas"], plain["input"]["deltas"]);
        assert_eq!(r["input"]["malformed"], 0);
        assert_eq!(r["input"]["runs"], 1);
        // The run's steps are priced on its model; the other run's are not.
        let cost = &r["cost"];
        assert_eq!(cost["by_model"]["gpt-4o-mini"]["steps"], 2, "{extra:?}");
        assert_eq!(cost["by_model"]["gpt-4o-mini"]["prompt_tokens"], 260 + 284);
        assert_eq!(cost["unpriced"]["by_reason"]["no_model"]["steps"], 2);
        let costliest = r["exemplars"]["costliest_runs"].as_array().unwrap();
        assert_eq!(
            costliest.len(),
            1,
            "only the priced run is ranked by dollars"
        );
        assert_eq!(costliest[0]["run_id"], "run_oyfV44CrJXYJkvb2qsd80LvJ");
        assert_eq!(costliest[0]["figure"], "cost_usd");
        assert_eq!(costliest[0]["value"], 598);
        assert_eq!(figures(&r), figures(&plain), "{extra:?}");
    }
}

/// The figures `--dedup` must give, computed here from serde_json values by the rule in
/// the issue: terminal beats in_progress, then the later event time, then the later line.
fn expected_dedup(text: &str) -> (u64, BTreeMap<String, u64>, u64) {
    let terminal = |s: &str| matches!(s, "completed" | "failed" | "cancelled" | "expired");
    let mut best: BTreeMap<String, (bool, i64, usize, Value)> = BTreeMap::new();
    let mut snapshots = 0;
    for (n, line) in text.lines().enumerate() {
        let Ok(v) = serde_json::from_str::<Value>(line) else {
            continue;
        };
        if v["object"] == "thread.run.step.delta" || v["status"].is_null() {
            continue;
        }
        snapshots += 1;
        let time = [
            "created_at",
            "completed_at",
            "failed_at",
            "cancelled_at",
            "expired_at",
        ]
        .iter()
        .filter_map(|k| v[*k].as_i64())
        .max()
        .unwrap();
        let key = (terminal(v["status"].as_str().unwrap()), time, n);
        let id = v["id"].as_str().unwrap().to_string();
        if best.get(&id).is_none_or(|b| (b.0, b.1, b.2) < key) {
            best.insert(id, (key.0, key.1, key.2, v));
        }
    }
    let mut by_status = BTreeMap::new();
    let mut tokens = 0;
    for (_, _, _, v) in best.values() {
        *by_status
            .entry(v["status"].as_str().unwrap().to_string())
            .or_default() += 1;
        tokens += v["usage"]["total_tokens"].as_u64().unwrap_or(0);
    }
    (snapshots, by_status, tokens)
}

/// A log with several snapshots per step, in a scrambled order: ties, late in-progress
/// snapshots after terminal ones, steps that never finish.
fn snapshot_log() -> String {
    let mut out = String::new();
    let mut x = 0x9E37_79B9_7F4A_7C15u64;
    let mut rnd = |m: u64| {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x % m
    };
    for step in 0..400 {
        let created = 1_700_000_000 + step * 7;
        let final_status = ["completed", "failed", "cancelled", "in_progress"][rnd(4) as usize];
        let n = 1 + rnd(4);
        for k in 0..n {
            let status = if k + 1 == n {
                final_status
            } else {
                "in_progress"
            };
            let done = created + 1 + rnd(50);
            let at = match status {
                "completed" => format!(r#","completed_at":{done}"#),
                "failed" => format!(r#","failed_at":{done}"#),
                "cancelled" => format!(r#","cancelled_at":{done}"#),
                _ => String::new(),
            };
            let usage = if status == "in_progress" {
                "null".to_string()
            } else {
                format!(
                    r#"{{"prompt_tokens":1,"completion_tokens":{k},"total_tokens":{}}}"#,
                    k + 1 + step
                )
            };
            out.push_str(&format!(
                r#"{{"id":"step_{step:05}","object":"thread.run.step","created_at":{created},"status":"{status}"{at},"usage":{usage}}}"#
            ));
            out.push('\n');
            if rnd(5) == 0 {
                out.push_str(&format!(
                    r#"{{"id":"step_{step:05}","object":"thread.run.step.delta","delta":{{}}}}"#
                ));
                out.push('\n');
            }
        }
    }
    // Scramble line order deterministically (snapshots of a step no longer in order).
    let mut lines: Vec<&str> = out.lines().collect();
    for i in (1..lines.len()).rev() {
        let j = rnd(i as u64 + 1) as usize;
        lines.swap(i, j);
    }
    lines.join("\n") + "\n"
}

#[test]
fn dedup_counts_each_step_once_from_its_most_advanced_snapshot() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("snapshots.jsonl");
    let text = snapshot_log();
    std::fs::write(&log, &text).unwrap();
    let (snapshots, by_status, tokens) = expected_dedup(&text);

    let r = summary_value(&["--dedup", path(&log)]);
    lines_add_up(&r);
    assert_eq!(r["dedup"]["snapshots"], snapshots);
    assert_eq!(r["dedup"]["steps"], 400);
    assert_eq!(r["dedup"]["folded"], snapshots - 400);
    assert_eq!(
        r["input"]["records"], snapshots,
        "accounting still sees every line"
    );
    assert_eq!(r["steps"]["total"], 400);
    let got: BTreeMap<String, u64> =
        serde_json::from_value(r["steps"]["by_status"].clone()).unwrap();
    assert_eq!(got, by_status);
    assert_eq!(r["usage"]["total_tokens"], tokens);
    assert!(r["hints"].as_array().unwrap().is_empty());

    // Without --dedup the table says so.
    let table = steplog().args(["summary", path(&log)]).output().unwrap();
    let table = String::from_utf8(table.stdout).unwrap();
    assert!(
        table.contains("hint: ") && table.contains("--dedup"),
        "{table}"
    );
    let table = steplog()
        .args(["summary", "--dedup", path(&log)])
        .output()
        .unwrap();
    let table = String::from_utf8(table.stdout).unwrap();
    assert!(!table.contains("hint: "), "{table}");
    assert!(table.contains("→ 400 steps"), "{table}");

    // The same whatever the threads, chunking, I/O mode, stdin or compression.
    let gz = dir.path().join("snapshots.jsonl.gz");
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    e.write_all(text.as_bytes()).unwrap();
    std::fs::write(&gz, e.finish().unwrap()).unwrap();
    for args in [
        vec!["-j", "1"],
        vec!["-j", "4", "--chunk-size", "1"],
        vec!["--no-mmap", "--chunk-size", "300"],
    ] {
        let mut a = vec!["--dedup"];
        a.extend(args.iter().copied());
        a.push(path(&log));
        assert_eq!(summary_value(&a), r, "{args:?}");
    }
    let zipped = summary_value(&["--dedup", "--chunk-size", "1K", path(&gz)]);
    assert_eq!(figures(&zipped), figures(&r));
    let out = steplog()
        .args(["summary", "-f", "json", "--dedup", "-"])
        .write_stdin(text.clone())
        .output()
        .unwrap();
    let piped: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(figures(&piped), figures(&r));
    assert_eq!(piped["input"]["files"][0]["path"], "-");
}

/// `--dedup` reads a log of distinct steps once (the first pass's summary serves) and a
/// log where a step repeats twice; both must give the figures of the plain summary of the
/// same winners, to the exemplar lines.
#[test]
fn dedup_gives_the_same_report_in_one_pass_or_two() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("steps.jsonl");
    steplog()
        .args(["generate", "-n", "3000", "--seed", "5", "-o"])
        .arg(&log)
        .assert()
        .success();
    let args = |f: &Path| {
        let a = [
            "--exemplars",
            "3",
            "-j",
            "2",
            "--chunk-size",
            "64K",
            path(f),
        ];
        a.iter().map(|s| s.to_string()).collect::<Vec<_>>()
    };
    let run = |extra: &[&str], f: &Path| {
        let mut a: Vec<String> = extra.iter().map(|s| s.to_string()).collect();
        a.extend(args(f));
        summary_value(&a.iter().map(String::as_str).collect::<Vec<_>>())
    };
    let plain = run(&[], &log);
    let once = run(&["--dedup"], &log);
    assert_eq!(once["dedup"]["folded"], 0);
    let strip = |r: &Value| {
        let mut v = r.clone();
        v.as_object_mut().unwrap().remove("dedup");
        v.as_object_mut().unwrap().remove("hints");
        v
    };
    assert_eq!(strip(&once), strip(&plain), "one pass = the plain summary");

    // The same log with two losing snapshots appended: an in-progress copy of its first
    // step, and a terminal copy of its second with an earlier event time. The second pass
    // now runs; the same lines win, so every figure and place must be the same.
    let text = std::fs::read_to_string(&log).unwrap();
    let mut lines = text.lines();
    let mut first: Value = serde_json::from_str(lines.next().unwrap()).unwrap();
    first["status"] = "in_progress".into();
    for k in ["completed_at", "failed_at", "cancelled_at", "expired_at"] {
        first[k] = Value::Null;
    }
    let mut second: Value = serde_json::from_str(lines.next().unwrap()).unwrap();
    second["status"] = "completed".into();
    second["completed_at"] = second["created_at"].clone();
    for k in ["failed_at", "cancelled_at", "expired_at"] {
        second[k] = Value::Null;
    }
    second["created_at"] = (second["created_at"].as_i64().unwrap() - 10_000).into();
    second["completed_at"] = second["created_at"].clone();
    let figures_only = |r: &Value| {
        let mut v = strip(r);
        v.as_object_mut().unwrap().remove("input");
        v
    };
    // An in-progress copy alone leaves every terminal snapshot the winner (the second
    // pass reads only the steps that never finished); with a second terminal snapshot of
    // a step, the second pass reads every winner.
    for (appended, folded) in [
        (format!("{first}\n"), 1),
        (format!("{first}\n{second}\n"), 2),
    ] {
        // Under the same name, so the exemplars' file names match.
        let other = tempfile::tempdir().unwrap();
        let twice = other.path().join("steps.jsonl");
        std::fs::write(&twice, format!("{text}{appended}")).unwrap();
        let two = run(&["--dedup"], &twice).to_string();
        let two: Value =
            serde_json::from_str(&two.replace(path(other.path()), path(dir.path()))).unwrap();
        assert_eq!(two["dedup"]["folded"], folded);
        assert_eq!(two["dedup"]["steps"], once["dedup"]["steps"]);
        let (a, b) = (figures_only(&two), figures_only(&once));
        for (k, v) in a.as_object().unwrap() {
            assert_eq!(v, &b[k], "{folded} appended: the same {k}");
        }
        assert_eq!(a, b);
    }
}

#[test]
fn gzip_and_zstd_read_like_the_plain_file_from_files_and_stdin() {
    let dir = tempfile::tempdir().unwrap();
    let src = sample("api-examples.jsonl");
    let text = std::fs::read(&src).unwrap();
    let plain = summary_value(&[path(&src)]);
    // Two gzip members, and two zstd frames: what pigz/bgzip and pzstd write.
    let (a, b) = text.split_at(text.len() / 2);
    let mut gz = Vec::new();
    for part in [a, b] {
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        e.write_all(part).unwrap();
        gz.extend(e.finish().unwrap());
    }
    let mut zst = ruzstd::encoding::compress_to_vec(a, ruzstd::encoding::CompressionLevel::Fastest);
    zst.extend(ruzstd::encoding::compress_to_vec(
        b,
        ruzstd::encoding::CompressionLevel::Fastest,
    ));
    // Names do not matter: the magic bytes do.
    for (name, bytes, format) in [("steps.gz", &gz, "gzip"), ("steps.log", &zst, "zstd")] {
        let p = dir.path().join(name);
        std::fs::write(&p, bytes).unwrap();
        for extra in [vec![], vec!["--chunk-size", "512", "-j", "3"]] {
            let mut args = extra.clone();
            args.push(path(&p));
            let r = summary_value(&args);
            assert_eq!(figures(&r), figures(&plain), "{name} {extra:?}");
            assert_eq!(r["input"]["bytes"], text.len(), "decompressed bytes");
            assert_eq!(r["input"]["files"][0]["compression"], format);
            assert_eq!(r["input"]["lines"], plain["input"]["lines"]);
        }
        let out = steplog()
            .args(["summary", "-f", "json", "-"])
            .write_stdin(bytes.clone())
            .output()
            .unwrap();
        let r: Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(figures(&r), figures(&plain), "{name} via stdin");
        assert_eq!(r["input"]["files"][0]["compression"], format);
    }
    // A truncated archive is a read error naming the file, not a short report.
    let p = dir.path().join("cut.gz");
    std::fs::write(&p, &gz[..gz.len() / 3]).unwrap();
    let out = steplog().args(["summary", path(&p)]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("cannot read") && err.contains("cut.gz"),
        "{err}"
    );
}

#[test]
fn directories_expand_sorted_with_a_per_file_breakdown() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let one = std::fs::read(sample("api-examples.jsonl")).unwrap();
    let two = std::fs::read(sample("stream-events.jsonl")).unwrap();
    std::fs::create_dir(d.join("older")).unwrap();
    std::fs::write(d.join("b.jsonl"), &two).unwrap();
    std::fs::write(d.join("a.jsonl"), &one).unwrap();
    std::fs::write(d.join(".partial.jsonl"), b"not json\n").unwrap();
    std::fs::write(d.join("older").join("c.jsonl"), &one).unwrap();
    // A link back up would loop forever if followed; a link to a file is read.
    #[cfg(unix)]
    {
        std::os::unix::fs::symlink(d, d.join("older").join("loop")).unwrap();
        std::os::unix::fs::symlink(d.join("a.jsonl"), d.join("older").join("d.jsonl")).unwrap();
    }

    let r = summary_value(&[path(d)]);
    let files: Vec<String> = r["input"]["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["path"].as_str().unwrap().to_string())
        .collect();
    let name = |f: &str| d.join(f).display().to_string();
    assert_eq!(files, vec![name("a.jsonl"), name("b.jsonl")]);
    assert_eq!(r["input"]["files"][0]["records"], 7);
    assert_eq!(r["input"]["files"][1]["deltas"], 3);
    let hints = r["hints"].to_string();
    assert!(
        hints.contains("1 subdirectory not read") && hints.contains("-r"),
        "{hints}"
    );
    assert!(hints.contains("1 hidden entry"), "{hints}");

    let r = summary_value(&["-r", path(d)]);
    let files: Vec<&str> = r["input"]["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["path"].as_str().unwrap())
        .collect();
    let mut want = vec![name("a.jsonl"), name("b.jsonl"), name("older/c.jsonl")];
    if cfg!(unix) {
        want.push(name("older/d.jsonl"));
        let hints = r["hints"].to_string();
        assert!(hints.contains("loop (symbolic link)"), "{hints}");
    }
    assert_eq!(files, want);
    assert_eq!(r["input"]["records"], (files.len() as u64 - 1) * 7 + 12);

    let table = steplog().args(["summary", "-r", path(d)]).output().unwrap();
    let table = String::from_utf8(table.stdout).unwrap();
    let n = format!("{} inputs", files.len());
    assert!(
        table.contains(&n) && table.contains("older/c.jsonl"),
        "{table}"
    );
}

/// Peak resident memory (VmHWM, KiB) of a running process.
#[cfg(target_os = "linux")]
fn peak_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap()
}

/// Feeds `total` bytes of `pattern` repeated to `steplog summary -f json ARGS -` and
/// returns the report and the peak memory measured while stdin was still open.
#[cfg(target_os = "linux")]
fn stream(args: &[&str], head: &[u8], pattern: &[u8], total: usize) -> (Value, u64) {
    let bin = assert_cmd::cargo::cargo_bin("steplog");
    let mut child = std::process::Command::new(bin)
        .args(["summary", "-f", "json"])
        .args(args)
        .arg("-")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(head).unwrap();
    let block = pattern.repeat((1 << 20) / pattern.len().max(1) + 1);
    let mut written = 0;
    while written < total {
        let n = block.len().min(total - written);
        stdin.write_all(&block[..n]).unwrap();
        written += n;
    }
    stdin.write_all(b"\n").unwrap();
    stdin.flush().unwrap();
    // Everything is written and the pipe drained; let the workers finish the last chunks
    // while the process, still waiting for end of input, can be measured.
    std::thread::sleep(std::time::Duration::from_millis(300));
    let peak = peak_kib(child.id());
    drop(stdin);
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    (serde_json::from_slice(&out.stdout).unwrap(), peak)
}

#[cfg(target_os = "linux")]
#[test]
fn stdin_is_processed_as_it_arrives_in_bounded_memory() {
    let line = br#"{"id":"step_1","object":"thread.run.step","created_at":1700000000,"status":"completed","completed_at":1700000003,"usage":{"prompt_tokens":10,"completion_tokens":5,"total_tokens":15}}
"#;
    let total = 96 << 20;
    let (r, peak) = stream(&["--chunk-size", "256K", "-j", "2"], b"", line, total);
    eprintln!("stdin: peak {peak} KiB for {} MiB", total >> 20);
    let lines = (total / line.len()) as u64 + 1;
    assert_eq!(r["input"]["lines"], lines);
    assert!(r["input"]["records"].as_u64().unwrap() >= lines - 2);
    assert!(
        peak < 48 * 1024,
        "peak {peak} KiB for {} MiB of input: stdin was buffered",
        total >> 20
    );
}

#[cfg(target_os = "linux")]
#[test]
fn a_100_mb_line_is_skipped_in_bounded_memory_and_counted() {
    let head = br#"{"id":"a","created_at":1700000000,"status":"completed"}
{"id":"b","created_at":1700000000,"status":"failed","last_error":{"code":"server_error","message":""#;
    let total = 100 << 20;
    let (r, peak) = stream(
        &["--max-line-bytes", "1M", "--chunk-size", "256K"],
        head,
        b"x",
        total,
    );
    let i = &r["input"];
    assert_eq!(i["lines"], 2);
    assert_eq!(i["records"], 1);
    assert_eq!(i["malformed_by_reason"]["too_long"], 1);
    let ex = &i["malformed_examples"][0];
    assert_eq!(ex["line"], 2);
    assert!(
        ex["message"].as_str().unwrap().contains("--max-line-bytes"),
        "{ex}"
    );
    assert!(
        peak < 40 * 1024,
        "peak {peak} KiB: the long line was buffered"
    );

    // From a mapped file, under the default limit (64 MiB): counted, never copied.
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("long.jsonl");
    let mut data = head.to_vec();
    data.extend(std::iter::repeat_n(b'x', total));
    data.extend_from_slice(
        b"\"}}\n{\"id\":\"c\",\"created_at\":1700000000,\"status\":\"completed\"}\n",
    );
    std::fs::write(&p, &data).unwrap();
    let r = summary_value(&[path(&p)]);
    assert_eq!(r["input"]["lines"], 3);
    assert_eq!(r["input"]["records"], 2);
    assert_eq!(r["input"]["malformed_by_reason"]["too_long"], 1);
    assert_eq!(r["input"]["malformed_examples"][0]["line"], 2);
    // Raised above it, the line is parsed: a failed step with a 100 MB message.
    let r = summary_value(&["--max-line-bytes", "200M", path(&p)]);
    assert_eq!(r["input"]["records"], 3);
    assert_eq!(r["failures"]["total"], 1);
}

/// A file truncated while steplog reads it (copytruncate) ends in a clear error or a
/// report, never in a crash, whatever the moment.
#[cfg(target_os = "linux")]
#[test]
fn a_file_truncated_while_read_never_crashes() {
    use std::os::unix::process::ExitStatusExt;
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("rotating.jsonl");
    let line =
        br#"{"id":"step_1","created_at":1700000000,"status":"completed","completed_at":1700000003}
"#;
    let data = line.repeat((48 << 20) / line.len());
    let bin = assert_cmd::cargo::cargo_bin("steplog");
    let mut outcomes = BTreeMap::new();
    for (round, delay_ms) in [0u64, 5, 20, 60, 150, 300].into_iter().enumerate() {
        for no_mmap in [false, true] {
            std::fs::write(&p, &data).unwrap();
            let mut cmd = std::process::Command::new(&bin);
            cmd.args(["summary", "-f", "json", "--chunk-size", "64K", "-j", "1"]);
            if no_mmap {
                cmd.arg("--no-mmap");
            }
            let child = cmd
                .arg(&p)
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap();
            std::thread::sleep(std::time::Duration::from_millis(delay_ms));
            // What logrotate's copytruncate does after copying.
            std::fs::OpenOptions::new()
                .write(true)
                .open(&p)
                .unwrap()
                .set_len(0)
                .unwrap();
            let out = child.wait_with_output().unwrap();
            assert_eq!(
                out.status.signal(),
                None,
                "round {round}: killed by a signal (no_mmap={no_mmap})"
            );
            let err = String::from_utf8_lossy(&out.stderr);
            match out.status.code() {
                Some(0) => {
                    let r: Value = serde_json::from_slice(&out.stdout).unwrap();
                    lines_add_up(&r);
                    // Mapped: all or nothing, no zeros parsed. Read: what was there, where
                    // the last line read may have lost its end.
                    let most = if no_mmap { 1 } else { 0 };
                    assert!(r["input"]["malformed"].as_u64().unwrap() <= most, "{r}");
                    *outcomes.entry((no_mmap, "report")).or_insert(0) += 1;
                }
                Some(2) => {
                    assert!(err.contains("was truncated while steplog read it"), "{err}");
                    *outcomes.entry((no_mmap, "error")).or_insert(0) += 1;
                }
                other => panic!("exit {other:?}: {err}"),
            }
        }
    }
    eprintln!("truncation outcomes: {outcomes:?}");
    // Some mapped runs were cut mid-read (the debug binary reads 48 MiB for far longer
    // than 5 ms), and the guard turned their faults into the error.
    assert!(outcomes.contains_key(&(false, "error")), "{outcomes:?}");
}
