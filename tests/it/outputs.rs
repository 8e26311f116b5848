//! Where reports go, and what they never destroy: standard output by name, an output
//! that is an input or another output, a reader that goes away, a standard output closed
//! at start, and the permissions a new file gets.

use crate::util::{fails, generated, ok, path, steplog, testdata};
use serde_json::Value;
use std::fs;
use std::process::{Command as Std, Stdio};

#[test]
fn standard_output_by_name_is_the_descriptor_the_shell_set_up() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("log.txt");
    fs::write(&log, "KEEP\n").unwrap();
    // `steplog … -o /dev/stdout >> log.txt`: the report is appended, the log kept.
    for name in ["/dev/stdout", "/dev/fd/1", "/proc/self/fd/1"] {
        let appended = fs::OpenOptions::new().append(true).open(&log).unwrap();
        let status = Std::new(env!("CARGO_BIN_EXE_steplog"))
            .current_dir(testdata())
            .args(["summary", "usage.jsonl", "-q", "-f", "json", "-o", name])
            .stdout(Stdio::from(appended))
            .status()
            .unwrap();
        assert!(status.success(), "{name}");
    }
    let text = fs::read_to_string(&log).unwrap();
    assert!(text.starts_with("KEEP\n"), "{text}");
    assert_eq!(text.matches("\"schema_version\"").count(), 3);
    // Into a pipe, as `| jq` reads it, and to standard error.
    let to = |name: &str| {
        let out = steplog()
            .args(["summary", "usage.jsonl", "-q", "-f", "json", "-o", name])
            .output()
            .unwrap();
        assert!(out.status.success(), "{name}");
        out
    };
    let out = to("/dev/stdout");
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(v["steps"]["total"].as_u64().unwrap() > 0);
    let err = to("/dev/stderr");
    assert!(err.stdout.is_empty());
    assert!(String::from_utf8_lossy(&err.stderr).contains("\"schema_version\""));
}

#[test]
fn an_output_that_is_an_input_or_another_output_is_refused_before_reading() {
    let dir = tempfile::tempdir().unwrap();
    let logs = dir.path().join("logs");
    fs::create_dir(&logs).unwrap();
    let log = logs.join("steps.jsonl");
    fs::copy(testdata().join("usage.jsonl"), &log).unwrap();
    let before = fs::read(&log).unwrap();
    let (state, report) = (dir.path().join("day.state"), dir.path().join("r.json"));
    let refused = |args: &[&str], says: &str| {
        let (code, err) = fails(args);
        assert_eq!(code, 2, "{args:?}: {err}");
        assert!(err.contains(says), "{args:?}: {err}");
    };
    let (l, d) = (path(&log), path(&logs));
    refused(&["summary", l, "-o", l], "is one of the inputs");
    refused(&["summary", l, "--save-state", l], "is one of the inputs");
    refused(&["summary", d, "-o", l], "is one of the inputs");
    refused(&["partial", d, "-o", l], "is one of the inputs");
    // The same file by another name, and two outputs at one path.
    let other = dir.path().join("logs/../logs/./steps.jsonl");
    refused(&["summary", l, "-o", path(&other)], "is one of the inputs");
    let (r, s) = (path(&report), path(&state));
    refused(
        &["summary", l, "-o", r, "--save-state", r],
        "are the same file",
    );
    let runs = dir.path().join("g.jsonl");
    refused(
        &[
            "generate",
            "-n",
            "5",
            "--output",
            path(&runs),
            "--runs",
            path(&runs),
        ],
        "are the same file",
    );
    assert_eq!(fs::read(&log).unwrap(), before, "the log is untouched");
    // A report over the state it reads would replace the state.
    ok(steplog().args(["partial", "-q", l, "-o", s]));
    let kept = fs::read(&state).unwrap();
    refused(&["report", s, "-o", s], "is one of the inputs");
    assert_eq!(fs::read(&state).unwrap(), kept);
    // Outputs beside the inputs, and a new file in a directory read, are fine; so is a
    // file in a subdirectory that a directory read without -r does not reach.
    ok(steplog().args(["summary", l, "-q", "-o", r, "--save-state", s]));
    ok(steplog().args(["summary", d, "-q", "-o", path(&logs.join("new.json"))]));
    // (A report is no log: the directory read again would refuse it.)
    fs::remove_file(logs.join("new.json")).unwrap();
    fs::create_dir(logs.join("out")).unwrap();
    let nested = logs.join("out/report.json");
    fs::write(&nested, "old").unwrap();
    ok(steplog().args(["summary", d, "-q", "-o", path(&nested)]));
    refused(
        &["summary", "-r", d, "-o", path(&nested)],
        "is one of the inputs",
    );
}

#[test]
fn every_command_and_format_exits_0_when_the_reader_goes_away() {
    let dir = tempfile::tempdir().unwrap();
    let logs = dir.path().join("big.jsonl");
    generated(&logs, 20_000, 6);
    let l = path(&logs);
    let mut cases: Vec<Vec<&str>> = Vec::new();
    for f in ["jsonl", "json", "table"] {
        cases.push(vec!["find", l, "--where", "duration >= 0", "-f", f]);
    }
    for f in ["table", "json"] {
        cases.push(vec!["prices", "-f", f]);
    }
    for f in ["table", "json", "csv", "markdown", "html", "prometheus"] {
        cases.push(vec!["summary", l, "-q", "-f", f]);
    }
    for args in cases {
        // A reader that takes nothing and goes away: every write meets a closed pipe.
        let child = Std::new(env!("CARGO_BIN_EXE_steplog"))
            .args(&args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        crate::util::reader_gone(child, &format!("{args:?}"));
    }
}

#[test]
fn new_files_take_the_umask_as_a_shell_redirect_would() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let program = steplog().get_program().to_owned();
    let logs = testdata().join("usage.jsonl");
    for (mask, mode) in [("077", 0o600), ("002", 0o664), ("022", 0o644)] {
        let report = dir.path().join(format!("report-{mask}.json"));
        let state = dir.path().join(format!("day-{mask}.state"));
        let script = r#"umask "$1"; "$2" summary -q "$3" -o "$4" && "$2" partial -q "$3" -o "$5""#;
        let status = Std::new("sh")
            .args(["-c", script, "sh", mask])
            .arg(&program)
            .arg(&logs)
            .arg(&report)
            .arg(&state)
            .status()
            .unwrap();
        assert!(status.success());
        for file in [&report, &state] {
            let got = fs::metadata(file).unwrap().permissions().mode() & 0o777;
            assert_eq!(got, mode, "umask {mask}: {file:?} is {got:o}");
        }
    }
}

#[test]
fn a_report_to_a_closed_standard_output_is_exit_2_not_lost() {
    let program = steplog().get_program().to_owned();
    let dir = tempfile::tempdir().unwrap();
    let logs = testdata().join("usage.jsonl");
    let out = dir.path().join("r.txt");
    let run = |script: &str| {
        Std::new("sh")
            .args(["-c", script, "sh"])
            .arg(&program)
            .arg(&logs)
            .arg(&out)
            .output()
            .unwrap()
    };
    for script in [
        r#""$1" summary -q "$2" >&-"#,
        r#""$1" summary -q "$2" <&- >&-"#,
        r#""$1" find --where 'status != null' "$2" >&-"#,
        r#""$1" prices >&-"#,
    ] {
        let o = run(script);
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{script}: {err}");
        assert!(
            err.contains("standard output was closed"),
            "{script}: {err}"
        );
    }
    // Written elsewhere, a closed standard output does not matter; nor does /dev/null.
    let o = run(r#""$1" summary -q "$2" -o "$3" >&-"#);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(fs::read_to_string(&out).unwrap().contains("6 steps"));
    assert!(run(r#""$1" summary -q "$2" >/dev/null"#).status.success());
}
