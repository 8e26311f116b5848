//! Nothing lost, nothing crashes: what steplog does as an unattended job (from cron, as
//! root in a container) with what it writes over, with damaged state files, with sums
//! that would not fit, with hostile text in the logs, and with odd settings.

use crate::util::{fails, ok, path, steplog, testdata};
use serde_json::Value;
use std::fs;
use std::os::unix::fs::{FileTypeExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Command as Std, Stdio};

/// A device node made by the test (never the system's): `None` when this user cannot
/// make one (not root), and the test says so.
fn device(dir: &Path, name: &str, major: u32, minor: u32) -> Option<PathBuf> {
    let p = dir.join(name);
    let made = Std::new("mknod")
        .arg(&p)
        .args(["c", &major.to_string(), &minor.to_string()])
        .status()
        .is_ok_and(|s| s.success());
    if !made {
        eprintln!("skipped: cannot make a device node here (not root?)");
    }
    made.then_some(p)
}

fn fifo(dir: &Path, name: &str) -> PathBuf {
    let p = dir.join(name);
    assert!(Std::new("mkfifo").arg(&p).status().unwrap().success());
    p
}

#[test]
fn an_output_through_a_symbolic_link_updates_its_target_and_keeps_the_link() {
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("real.prom");
    fs::write(&target, "old").unwrap();
    fs::set_permissions(&target, fs::Permissions::from_mode(0o640)).unwrap();
    let link = dir.path().join("collector.prom");
    std::os::unix::fs::symlink(&target, &link).unwrap();
    ok(steplog().args([
        "summary",
        "usage.jsonl",
        "-f",
        "prometheus",
        "-o",
        path(&link),
    ]));
    assert!(fs::symlink_metadata(&link)
        .unwrap()
        .file_type()
        .is_symlink());
    let text = fs::read_to_string(&target).unwrap();
    assert!(text.contains("steplog_steps_total"), "{text}");
    assert_eq!(
        fs::metadata(&target).unwrap().permissions().mode() & 0o777,
        0o640
    );
    // The same for a state.
    let state_target = dir.path().join("real.state");
    let state_link = dir.path().join("nightly.state");
    std::os::unix::fs::symlink(&state_target, &state_link).unwrap();
    ok(steplog().args(["partial", "usage.jsonl", "-o", path(&state_link)]));
    assert!(fs::symlink_metadata(&state_link)
        .unwrap()
        .file_type()
        .is_symlink());
    assert!(fs::read_to_string(&state_target)
        .unwrap()
        .contains("steplog-state"));
    // A loop of links is an error naming the path given.
    let a = dir.path().join("a");
    let b = dir.path().join("b");
    std::os::unix::fs::symlink(&b, &a).unwrap();
    std::os::unix::fs::symlink(&a, &b).unwrap();
    let (code, err) = fails(&["summary", "usage.jsonl", "-o", path(&a)]);
    assert_eq!(code, 2);
    assert!(err.contains(path(&a)), "{err}");
}

#[test]
fn a_fifo_is_written_to_and_stays_a_fifo() {
    let dir = tempfile::tempdir().unwrap();
    let pipe = fifo(dir.path(), "report.pipe");
    let reader = {
        let pipe = pipe.clone();
        std::thread::spawn(move || fs::read_to_string(pipe).unwrap())
    };
    ok(steplog().args(["summary", "usage.jsonl", "-f", "json", "-o", path(&pipe)]));
    let text = reader.join().unwrap();
    let v: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(v["steps"]["total"], 6);
    assert!(fs::metadata(&pipe).unwrap().file_type().is_fifo());
}

#[test]
fn a_character_device_is_written_to_and_stays_a_device() {
    let dir = tempfile::tempdir().unwrap();
    // Major 1, minor 3: a node that discards what is written, like /dev/null.
    let Some(null) = device(dir.path(), "null", 1, 3) else {
        return;
    };
    ok(steplog().args(["summary", "usage.jsonl", "-o", path(&null)]));
    ok(steplog().args(["partial", "usage.jsonl", "-o", path(&null)]));
    ok(steplog().args(["summary", "usage.jsonl", "--save-state", path(&null)]));
    let t = fs::metadata(&null).unwrap().file_type();
    assert!(t.is_char_device(), "{t:?}");
}

#[test]
fn a_full_device_behind_any_output_is_exit_2_with_a_message() {
    let dir = tempfile::tempdir().unwrap();
    // Major 1, minor 7: every write fails with "no space left", like /dev/full.
    let Some(full) = device(dir.path(), "full", 1, 7) else {
        return;
    };
    let to_full = |args: &[&str]| {
        let out = Std::new(assert_cmd::cargo::cargo_bin("steplog"))
            .current_dir(testdata())
            .args(args)
            .stdout(Stdio::from(
                fs::OpenOptions::new().write(true).open(&full).unwrap(),
            ))
            .output()
            .unwrap();
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    for args in [
        &["completions", "bash"][..],
        &["completions", "zsh"],
        &["completions", "fish"],
        &["man"],
        &["--help"],
        &["--version"],
        &["summary", "--help"],
        &["summary", "usage.jsonl"],
        &["summary", "usage.jsonl", "-f", "json"],
    ] {
        let (code, err) = to_full(args);
        assert_eq!(code, Some(2), "{args:?}: {err}");
        assert!(
            err.contains("standard output") || err.contains("No space"),
            "{args:?}: {err}"
        );
    }
    let (code, err) = fails(&["summary", "usage.jsonl", "-o", path(&full)]);
    assert_eq!(code, 2);
    assert!(err.contains(path(&full)), "{err}");
}

#[test]
fn a_directory_or_a_missing_one_is_an_error_naming_the_path_given() {
    let dir = tempfile::tempdir().unwrap();
    let (code, err) = fails(&["summary", "usage.jsonl", "-o", path(dir.path())]);
    assert_eq!(code, 2);
    assert!(
        err.contains(path(dir.path())) && err.contains("directory"),
        "{err}"
    );
    let missing = dir.path().join("no/such/dir/report.json");
    for flag in ["-o", "--save-state"] {
        let (code, err) = fails(&["summary", "usage.jsonl", flag, path(&missing)]);
        assert_eq!(code, 2);
        assert!(err.contains(path(&missing)), "{err}");
        assert!(
            !err.contains(".report.json."),
            "the temporary file is no business of the user: {err}"
        );
    }
    assert!(!dir.path().join("no").exists());
}

#[test]
fn a_regular_file_is_replaced_atomically_keeping_its_permissions() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("report.json");
    fs::write(&out, "old").unwrap();
    fs::set_permissions(&out, fs::Permissions::from_mode(0o600)).unwrap();
    ok(steplog().args(["summary", "usage.jsonl", "-f", "json", "-o", path(&out)]));
    assert_eq!(
        fs::metadata(&out).unwrap().permissions().mode() & 0o777,
        0o600
    );
    assert!(fs::read_to_string(&out).unwrap().contains("schema_version"));
    // Nothing else is left in the directory.
    assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1);
}

#[test]
fn dedup_reads_a_fifo_once_and_agrees_with_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let pipe = fifo(dir.path(), "steps.pipe");
    let data = fs::read(testdata().join("deltas.jsonl")).unwrap();
    let writer = {
        let pipe = pipe.clone();
        std::thread::spawn(move || fs::write(pipe, data).unwrap())
    };
    let from_pipe = ok(steplog().args(["summary", "--dedup", "-f", "json", path(&pipe)]));
    writer.join().unwrap();
    let from_file = ok(steplog().args(["summary", "--dedup", "-f", "json", "deltas.jsonl"]));
    let figures = |b: &[u8]| {
        let mut v: Value = serde_json::from_slice(b).unwrap();
        v["input"] = Value::Null;
        crate::util::forget_places(&mut v);
        v
    };
    assert_eq!(figures(&from_pipe), figures(&from_file));
}

#[test]
fn absurd_thread_counts_are_capped_and_agree_with_one_thread() {
    let one = ok(steplog().args(["summary", "-f", "json", "--threads", "1", "tools.jsonl"]));
    for n in ["5000", "100000"] {
        let many = ok(steplog().args(["summary", "-f", "json", "--threads", n, "tools.jsonl"]));
        assert_eq!(many, one, "--threads {n}");
    }
}

#[test]
fn job_completion_index_applies_only_with_a_shard_count_and_is_named() {
    let plain = ok(steplog().env("JOB_COMPLETION_INDEX", "3").args([
        "summary",
        "-f",
        "json",
        "usage.jsonl",
    ]));
    assert_eq!(
        plain,
        ok(steplog().args(["summary", "-f", "json", "usage.jsonl"]))
    );
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("s.state");
    for (value, says) in [("x", "not a shard index"), ("9", "below --shard-count")] {
        let o = steplog()
            .env("JOB_COMPLETION_INDEX", value)
            .args([
                "partial",
                "usage.jsonl",
                "--shard-count",
                "4",
                "-o",
                path(&out),
            ])
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2));
        assert!(
            err.contains("JOB_COMPLETION_INDEX") && err.contains(says),
            "{err}"
        );
    }
    ok(steplog().env("JOB_COMPLETION_INDEX", "0").args([
        "partial",
        "usage.jsonl",
        "--shard-count",
        "1",
        "-o",
        path(&out),
    ]));
}

#[test]
fn impossible_times_are_refused() {
    for (t, says) in [
        ("2024-02-30", "day"),
        ("2023-02-29", "day"),
        ("2024-13-01", "month"),
        ("2024-01-01T24:00:00Z", "hour"),
        ("2024-01-01T00:00:00+99:00", "offset"),
        ("2024-01-01T00:00:00+24:00", "offset"),
        ("1700000000000", "milliseconds"),
    ] {
        let (code, err) = fails(&["summary", "usage.jsonl", "--since", t]);
        assert_eq!(code, 2, "{t}");
        assert!(err.contains(t) && err.contains(says), "{t}: {err}");
    }
    // Possible ones still are times.
    for t in [
        "2024-02-29",
        "2024-01-01T23:59:59+23:59",
        "2024-01-01 12:00",
        "1700000000",
        "7d",
    ] {
        ok(steplog().args(["summary", "usage.jsonl", "--since", t]));
    }
}

/// A step line with `prompt_tokens` (and total) of `n`.
fn tokens_line(i: u32, n: u64) -> String {
    format!(
        r#"{{"id":"step_{i}","object":"thread.run.step","created_at":{},"assistant_id":"asst_A","run_id":"run_1","thread_id":"thread_1","type":"message_creation","status":"completed","completed_at":1761861610,"usage":{{"prompt_tokens":{n},"completion_tokens":0,"total_tokens":{n}}}}}"#,
        1761861600 + i
    )
}

#[test]
fn sums_that_would_pass_64_bits_stop_naming_the_figure_and_fit_ones_are_exact() {
    let dir = tempfile::tempdir().unwrap();
    let big = (1u64 << 63) - 1;
    let two = dir.path().join("two.jsonl");
    fs::write(
        &two,
        format!("{}\n{}\n", tokens_line(1, big), tokens_line(2, big)),
    )
    .unwrap();
    let v: Value = serde_json::from_slice(&ok(steplog().args([
        "summary",
        "-f",
        "json",
        "--group-by",
        "assistant",
        "--interval",
        "hour",
        path(&two),
    ])))
    .unwrap();
    let want = 2 * big; // 2^64 − 2 fits: exact in every figure
    assert_eq!(v["usage"]["prompt_tokens"].as_u64(), Some(want));
    assert_eq!(
        v["time_series"]["buckets"][0]["prompt_tokens"].as_u64(),
        Some(want)
    );
    assert_eq!(
        v["groups"][0]["usage"]["prompt_tokens"].as_u64(),
        Some(want)
    );
    let three = dir.path().join("three.jsonl");
    fs::write(
        &three,
        format!(
            "{}\n{}\n{}\n",
            tokens_line(1, big),
            tokens_line(2, big),
            tokens_line(3, big)
        ),
    )
    .unwrap();
    for group in [&[][..], &["--group-by", "assistant"]] {
        let mut args = vec!["summary", path(&three)];
        args.extend_from_slice(group);
        let (code, err) = fails(&args);
        assert_eq!(code, 2, "{err}");
        assert!(
            err.contains("prompt_tokens") && err.contains("largest value"),
            "{err}"
        );
    }
    // The largest count is a count.
    let max = dir.path().join("max.jsonl");
    fs::write(&max, format!("{}\n", tokens_line(1, u64::MAX))).unwrap();
    let v: Value =
        serde_json::from_slice(&ok(steplog().args(["summary", "-f", "json", path(&max)]))).unwrap();
    assert_eq!(v["usage"]["prompt_tokens"].as_u64(), Some(u64::MAX));
    assert_eq!(v["input"]["malformed"], 0);
}

/// A state of one `in_progress` step, as JSON to edit.
fn one_step_state(dir: &Path) -> Value {
    let log = dir.join("one.jsonl");
    fs::write(
        &log,
        r#"{"id":"step_1","object":"thread.run.step","created_at":1761861600,"type":"message_creation","status":"in_progress"}"#,
    )
    .unwrap();
    let out = dir.join("one.state");
    ok(steplog().args(["partial", path(&log), "-o", path(&out)]));
    serde_json::from_slice(&fs::read(&out).unwrap()).unwrap()
}

fn write_state(dir: &Path, name: &str, v: &Value) -> PathBuf {
    let p = dir.join(name);
    fs::write(&p, serde_json::to_vec(v).unwrap()).unwrap();
    p
}

/// Every count of a one-step state set to `n` (so the state is consistent).
fn scaled(mut v: Value, n: u64) -> Value {
    fn walk(v: &mut Value, n: u64) {
        match v {
            Value::Number(x) if x.as_u64() == Some(1) => *v = Value::from(n),
            Value::Array(a) => a.iter_mut().for_each(|x| walk(x, n)),
            Value::Object(o) => o.iter_mut().for_each(|(_, x)| walk(x, n)),
            _ => {}
        }
    }
    let distinct = v["summary"]["distinct"].take();
    let version = v["version"].take();
    walk(&mut v["summary"], n);
    v["summary"]["distinct"] = distinct;
    v["version"] = version;
    v
}

#[test]
fn merges_that_would_wrap_stop_naming_the_figure() {
    let dir = tempfile::tempdir().unwrap();
    let one = one_step_state(dir.path());
    let huge = write_state(dir.path(), "huge.state", &scaled(one.clone(), u64::MAX));
    // The state itself is consistent: it reads and reports 2^64 − 1 steps.
    let r: Value =
        serde_json::from_slice(&ok(steplog().args(["report", "-f", "json", path(&huge)]))).unwrap();
    assert_eq!(r["steps"]["total"].as_u64(), Some(u64::MAX));
    let small = write_state(dir.path(), "small.state", &scaled(one, 200));
    let out = dir.path().join("merged.state");
    let (code, err) = fails(&["merge", path(&huge), path(&small), "-o", path(&out)]);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("largest value") && err.contains("input."),
        "{err}"
    );
    // Said once.
    assert_eq!(err.matches("largest value").count(), 1, "{err}");
    assert!(!out.exists());
    let (code, err) = fails(&["report", path(&huge), path(&small)]);
    assert_eq!(code, 2, "{err}");
}

#[test]
fn damaged_states_are_exit_2_naming_the_file_and_the_fault() {
    let dir = tempfile::tempdir().unwrap();
    let good = testdata().join("state/golden-v2.state");
    let v: Value = serde_json::from_slice(&fs::read(&good).unwrap()).unwrap();
    let first_group = "/summary/groups/groups/0";
    type Damage = (&'static str, Box<dyn Fn(&mut Value)>, &'static str);
    let damages: Vec<Damage> = vec![
        (
            "min above max",
            Box::new(|v: &mut Value| {
                let d = &mut v["summary"]["figures"]["durations"]["by_status"][0];
                d["min"] = Value::from(9999);
            }),
            "min",
        ),
        (
            "null min with a count",
            Box::new(|v: &mut Value| {
                v["summary"]["figures"]["durations"]["by_status"][0]["min"] = Value::Null;
            }),
            "min and max",
        ),
        (
            "a sum of 2^128 - 1",
            Box::new(|v: &mut Value| {
                // A u128 is more than `Value` holds: a placeholder, replaced in the text.
                v["summary"]["figures"]["durations"]["by_status"][0]["sum"] = Value::from("SUM");
            }),
            "sum",
        ),
        (
            "an example past the files",
            Box::new(|v: &mut Value| {
                v["summary"]["lines"]["examples"][0]["pos"]["file"] = Value::from(40);
            }),
            "example",
        ),
        (
            "a count that disagrees with the histogram",
            Box::new(|v: &mut Value| {
                v["summary"]["figures"]["durations"]["by_status"][0]["count"] = Value::from(3);
            }),
            "histogram holds",
        ),
        (
            "a group key shorter than the dimensions",
            Box::new(move |v: &mut Value| {
                v.pointer_mut(first_group).unwrap()["key"] = Value::Array(vec![]);
            }),
            "0 values for 1 dimensions",
        ),
        (
            "dimensions that differ from the settings",
            Box::new(|v: &mut Value| {
                v["settings"]["group_by"] = serde_json::json!(["assistant"]);
            }),
            "--group-by",
        ),
        (
            "steps that do not add up",
            Box::new(|v: &mut Value| {
                v["summary"]["figures"]["steps"]["total"] = Value::from(41);
            }),
            "steps",
        ),
        (
            "lines that do not add up",
            Box::new(|v: &mut Value| {
                v["summary"]["lines"]["files"][0]["totals"]["lines"] = Value::from(6);
            }),
            "lines",
        ),
        (
            "an impossible time range",
            Box::new(|v: &mut Value| {
                v["summary"]["figures"]["time_range"]["bounds"] = serde_json::json!([9, 1]);
            }),
            "time range",
        ),
        (
            "histogram bytes that are not base64",
            Box::new(|v: &mut Value| {
                v["summary"]["figures"]["durations"]["by_status"][0]["hdr_v2_deflate"] =
                    Value::from("%%%");
            }),
            "base64",
        ),
    ];
    for (what, damage, says) in damages {
        let mut bad = v.clone();
        damage(&mut bad);
        let p = write_state(dir.path(), "bad.state", &bad);
        let text = fs::read_to_string(&p).unwrap();
        fs::write(
            &p,
            text.replace("\"SUM\"", "340282366920938463463374607431768211455"),
        )
        .unwrap();
        for cmd in [&["report"][..], &["merge", path(&good)]] {
            let mut args = cmd.to_vec();
            args.push(path(&p));
            if cmd[0] == "merge" {
                args.extend(["-o", "/nonexistent-dir/never-written.state"]);
            }
            let (code, err) = fails(&args);
            assert_eq!(code, 2, "{what}: {err}");
            assert!(
                err.contains(path(&p)) && err.contains(says),
                "{what}: {err}"
            );
            assert!(!err.contains("panicked"), "{what}: {err}");
        }
    }
}

/// The `hdr_v2_deflate` of a histogram whose headers claim `compressed` bytes outside
/// and `payload` bytes inside.
fn lying_histogram(compressed: Option<u32>, payload: u32) -> String {
    use base64::Engine as _;
    use std::io::Write as _;
    let mut inner = Vec::new();
    inner.extend_from_slice(&0x1c84_9313u32.to_be_bytes());
    inner.extend_from_slice(&payload.to_be_bytes());
    inner.extend_from_slice(&0u32.to_be_bytes());
    inner.extend_from_slice(&3u32.to_be_bytes());
    inner.extend_from_slice(&1u64.to_be_bytes());
    inner.extend_from_slice(&2048u64.to_be_bytes());
    inner.extend_from_slice(&1f64.to_be_bytes());
    inner.push(2); // one count of 1
    let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
    z.write_all(&inner).unwrap();
    let deflated = z.finish().unwrap();
    let mut out = Vec::new();
    out.extend_from_slice(&0x1c84_9314u32.to_be_bytes());
    out.extend_from_slice(&compressed.unwrap_or(deflated.len() as u32).to_be_bytes());
    out.extend_from_slice(&deflated);
    base64::engine::general_purpose::STANDARD.encode(out)
}

#[test]
fn histogram_headers_claiming_gigabytes_are_refused_before_allocating() {
    let dir = tempfile::tempdir().unwrap();
    let good = testdata().join("state/golden-v2.state");
    let v: Value = serde_json::from_slice(&fs::read(&good).unwrap()).unwrap();
    for (what, hdr, says) in [
        (
            "1 GB compressed",
            lying_histogram(Some(1 << 30), 1),
            "compressed bytes",
        ),
        (
            "4 GB compressed",
            lying_histogram(Some(u32::MAX), 1),
            "compressed bytes",
        ),
        (
            "1 GB payload",
            lying_histogram(None, 1 << 30),
            "payload bytes",
        ),
        (
            "4 GB payload",
            lying_histogram(None, u32::MAX),
            "payload bytes",
        ),
    ] {
        let mut bad = v.clone();
        bad["summary"]["figures"]["durations"]["by_status"][0]["hdr_v2_deflate"] = Value::from(hdr);
        let p = write_state(dir.path(), "bad.state", &bad);
        let (code, err) = fails(&["report", path(&p)]);
        assert_eq!(code, 2, "{what}: {err}");
        assert!(err.contains(says), "{what}: {err}");
    }
}

/// A log whose strings carry terminal escapes, markup and a NUL.
fn hostile_text(dir: &Path) -> PathBuf {
    let p = dir.join("evil.jsonl");
    let step = serde_json::json!({
        "id": "step_1", "object": "thread.run.step", "created_at": 1761861600,
        "assistant_id": "asst_\u{1b}]0;pwned\u{7}X", "type": "message_creation",
        "status": "failed", "failed_at": 1761861605,
        "last_error": {
            "code": "server_\u{1b}[2Jerror|*x*<b>",
            "message": "Boom \u{1b}[2J\u{1b}]0;title\u{7} <script>alert(1)</script> | `a` *b* \u{0}nul\r\nnext \u{202e}"
        }
    });
    fs::write(&p, format!("{step}\n\u{1b}[2J not json\n")).unwrap();
    p
}

#[test]
fn text_from_the_logs_is_shown_never_acted_on_in_every_format() {
    let dir = tempfile::tempdir().unwrap();
    let evil = hostile_text(dir.path());
    let render = |fmt: &str| {
        let full: &[&str] = if fmt == "table" { &["--full"] } else { &[] };
        String::from_utf8(ok(steplog()
            .args([
                "summary",
                path(&evil),
                "-f",
                fmt,
                "--color",
                "never",
                "--group-by",
                "assistant,error_code",
            ])
            .args(full)))
        .unwrap()
    };
    let brief = String::from_utf8(ok(steplog().args([
        "summary",
        path(&evil),
        "--group-by",
        "assistant,error_code",
    ])))
    .unwrap();
    let table = render("table");
    for table in [&table, &brief] {
        assert!(!table.contains('\u{1b}') && !table.contains('\u{7}') && !table.contains('\0'));
        assert!(!table.contains('\u{202e}') && !table.contains('\r'));
    }
    assert!(brief.contains("\\x1b[2J"), "{brief}");
    assert!(
        table.contains("\\x1b[2J") && table.contains("\\x00nul"),
        "{table}"
    );
    let md = render("markdown");
    assert!(!md.contains('\u{1b}') && !md.contains('\0'));
    assert!(
        !md.contains("<script>") && md.contains("\\<script\\>"),
        "{md}"
    );
    assert!(!md.contains("*b*"));
    let html = render("html");
    assert!(!html.contains('\u{1b}') && !html.contains('\0') && !html.contains("<script>alert"));
    let prom = render("prometheus");
    assert!(!prom.contains('\0') && !prom.contains('\u{1b}'), "{prom}");
    assert!(
        prom.contains(r#"assistant="asst_\\x1b]0;pwned\\x07X""#),
        "{prom}"
    );
    // CSV keeps the data exact, quoted per RFC 4180.
    let csv = render("csv");
    let mut messages = csv::Reader::from_reader(csv.as_bytes());
    let headers = messages.headers().unwrap().clone();
    let metric = headers.iter().position(|h| h == "metric").unwrap();
    let key = headers.iter().position(|h| h == "key").unwrap();
    let found = messages
        .records()
        .map(Result::unwrap)
        .find(|r| &r[metric] == "failures.top_messages")
        .unwrap();
    assert!(found[key].contains("\r\nnext") && found[key].contains('\0'));
    // Messages on stderr too.
    let (code, err) = fails(&["summary", "--strict", path(&evil)]);
    assert_eq!(code, 1);
    assert!(!err.contains('\u{1b}'), "{err:?}");
}

#[test]
fn malformed_lines_are_explained_in_words_not_parser_names() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("bad.jsonl");
    fs::write(
        &p,
        "b\n[\n{} x\n{\"id\":\"s\",\"created_at\":1,\"status\":\"completed\",\"usage\":{\"prompt_tokens\":18446744073709551616}}\n\
         {\"id\":\"ok\",\"created_at\":1,\"status\":\"completed\"}\n",
    )
    .unwrap();
    let v: Value =
        serde_json::from_slice(&ok(steplog().args(["summary", "-f", "json", path(&p)]))).unwrap();
    let messages: Vec<&str> = v["input"]["malformed_examples"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["message"].as_str().unwrap())
        .collect();
    assert_eq!(messages.len(), 4);
    for m in &messages {
        for internal in ["InternalError", "Syntax", "TrailingData", "character 0"] {
            assert!(!m.contains(internal), "{m}");
        }
    }
    assert!(
        messages[0].contains("expected a JSON value at byte 1, found `b`"),
        "{}",
        messages[0]
    );
    assert!(
        messages[1].contains("ends inside a list"),
        "{}",
        messages[1]
    );
    assert!(
        messages[2].contains("more after the end of the JSON value at byte 4"),
        "{}",
        messages[2]
    );
    assert!(
        messages[3].contains("from 0 to 18446744073709551615"),
        "{}",
        messages[3]
    );
}

#[test]
fn settings_that_differ_are_named_on_both_sides() {
    let dir = tempfile::tempdir().unwrap();
    let a = dir.path().join("a.state");
    let b = dir.path().join("b.state");
    ok(steplog().args(["partial", "usage.jsonl", "-o", path(&a)]));
    ok(steplog().args([
        "partial",
        "usage.jsonl",
        "--group-by",
        "assistant,day",
        "-o",
        path(&b),
    ]));
    let out = dir.path().join("ab.state");
    let (code, err) = fails(&["merge", path(&a), path(&b), "-o", path(&out)]);
    assert_eq!(code, 2);
    assert!(err.contains("no grouping vs assistant,day"), "{err}");
}
