//! Nothing passes for checked that was not: a `--fail-if` on a mistyped name, flags that
//! would do nothing, `find --dedup`, and standard input on a terminal are refused (exit
//! 2) with the fix, never accepted in silence. (Inputs nothing was read from: notes.rs.)

use crate::util::{fails, ok, path, steplog};
use std::process::Command;

/// A generated log with its run objects, in `dir`: the two paths.
fn corpus(dir: &std::path::Path) -> [String; 2] {
    let (logs, runs) = (dir.join("steps.jsonl"), dir.join("runs.jsonl"));
    ok(steplog().args([
        "generate",
        "-n",
        "3000",
        "--seed",
        "4",
        "-o",
        path(&logs),
        "--runs",
        path(&runs),
    ]));
    [path(&logs).to_string(), path(&runs).to_string()]
}

#[test]
fn a_fail_if_on_a_name_nothing_has_is_refused_with_the_nearest_or_noted() {
    let dir = tempfile::tempdir().unwrap();
    let [logs, runs] = corpus(dir.path());
    let report = dir.path().join("r.json");
    let run = |condition: &str| {
        let _ = std::fs::remove_file(&report);
        let out = steplog()
            .args(["summary", "-o", path(&report), "--fail-if", condition])
            .args([&logs, &runs])
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr).to_string();
        (out.status.code().unwrap(), err, report.exists())
    };
    // Typos of a name the report or the API has: exit 2, the nearest named, no report.
    for (condition, meant) in [
        ("status.complete>0", "status.completed"),
        ("status.Failed>0", "status.failed"),
        ("code.rate_limit>0", "code.rate_limit_exceeded"),
        ("code.server-error>0", "code.server_error"),
        ("cost.model.gpt-4-061>1", "cost.model.gpt-4-0613"),
    ] {
        let (code, err, written) = run(condition);
        assert_eq!(code, 2, "{condition}: {err}");
        assert!(err.contains(&format!("did you mean {meant}?")), "{err}");
        assert!(!written, "{condition}: no report");
    }
    // A status no step can have, however far from the five: exit 2 all the same.
    let (code, err, _) = run("status.zzzzzzzz>0");
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("could never hold"), "{err}");
    // A code far from any: it may come another day; a note says it cannot hold today.
    let (code, err, written) = run("code.tool_timeout>0");
    assert_eq!((code, written), (0, true), "{err}");
    assert!(
        err.contains("`tool_timeout`") && err.contains("cannot hold today"),
        "{err}"
    );
    // Names the API or the report has are quiet, present or not, and still fire.
    for condition in ["status.expired>100000", "code.invalid_prompt>100000"] {
        let (code, err, _) = run(condition);
        assert_eq!((code, err.as_str()), (0, ""), "{condition}");
    }
    let (code, _, _) = run("status.completed>0");
    assert_eq!(code, 3);
    // `report` checks the names of a state's report the same way.
    let state = dir.path().join("s.state");
    ok(steplog().args(["partial", "-q", "-o", path(&state), &logs, &runs]));
    let (code, err) = fails(&["report", path(&state), "--fail-if", "code.rate_limit>0"]);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("did you mean code.rate_limit_exceeded?"),
        "{err}"
    );
}

#[test]
fn top_and_sort_without_groups_are_refused_not_ignored() {
    let dir = tempfile::tempdir().unwrap();
    let [logs, _] = corpus(dir.path());
    for flags in [
        &["--top", "3"][..],
        &["--sort", "cost"],
        &["--sort", "steps"],
    ] {
        let mut args = vec!["summary", "-q"];
        args.extend(flags);
        args.push(&logs);
        let (code, err) = fails(&args);
        assert_eq!(code, 2, "{flags:?}: {err}");
        assert!(
            err.contains(flags[0]) && err.contains("--group-by"),
            "{err}"
        );
    }
    ok(steplog()
        .args(["summary", "-q", "--group-by", "assistant", "--sort", "cost"])
        .args(["--top", "3", &logs]));
    let state = dir.path().join("s.state");
    ok(steplog().args(["partial", "-q", "-o", path(&state), &logs]));
    let (code, err) = fails(&["report", "--top", "2", path(&state)]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("--group-by"), "{err}");
    // The help names every order.
    let help = String::from_utf8(ok(steplog().args(["summary", "--help"]))).unwrap();
    let sort = help.split("--sort <ORDER>").nth(1).unwrap();
    let words: Vec<&str> = sort.split_whitespace().take(60).collect();
    assert!(
        words.join(" ").contains("tokens, cost (largest first"),
        "{sort}"
    );
}

#[test]
fn find_refuses_dedup_saying_what_to_use() {
    let dir = tempfile::tempdir().unwrap();
    let [logs, _] = corpus(dir.path());
    let (code, err) = fails(&["find", "--dedup", "--where", "status == \"failed\"", &logs]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("--dedup") && err.contains("summary"), "{err}");
    // The filter it suggests is one `find` takes.
    let out = ok(steplog().args(["find", "-q", "--where", "status != \"in_progress\"", &logs]));
    assert!(!out.is_empty());
}

/// Standard input on a terminal (here a pseudo-terminal `script` makes) is an error that
/// says what to give, not a silent wait.
#[test]
fn standard_input_on_a_terminal_is_an_error_not_a_wait() {
    let bin = env!("CARGO_BIN_EXE_steplog");
    for command in [
        format!("{bin} summary"),
        format!("{bin} summary -"),
        format!("{bin} partial -o /dev/null"),
        format!("{bin} find --where 'status == \"failed\"'"),
    ] {
        let out = Command::new("script")
            .args(["-qec", &command, "/dev/null"])
            .stdin(std::process::Stdio::null())
            .output()
            .expect("script (util-linux) runs a command on a pseudo-terminal");
        let text = String::from_utf8_lossy(&out.stdout);
        assert_eq!(out.status.code(), Some(2), "{command}: {text}");
        assert!(text.contains("no input: name a file"), "{command}: {text}");
    }
    // Piped, standard input is read.
    let out = steplog()
        .args(["summary", "-q", "-f", "json", "-"])
        .write_stdin("{\"id\":\"s\",\"created_at\":1,\"status\":\"completed\"}\n")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&out.stdout).contains("\"total\": 1"));
}

/// Every example in every command's help runs as shown (in a directory holding the files
/// they name), and the options sit under headings that fit them.
#[test]
fn every_example_in_the_help_runs() {
    let bin = std::path::Path::new(env!("CARGO_BIN_EXE_steplog"));
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let run_in = |line: &str| {
        Command::new("sh")
            .args(["-c", line])
            .current_dir(d)
            .env(
                "PATH",
                format!("{}:/usr/bin:/bin", bin.parent().unwrap().display()),
            )
            .output()
            .unwrap()
    };
    // The files the examples name.
    for setup in [
        "steplog generate -n 3000 --seed 3 -o steps.jsonl --runs runs.jsonl",
        "mkdir -p logs exports/a && cp steps.jsonl logs/ && cp steps.jsonl exports/a/",
        "gzip -k steps.jsonl",
        "steplog partial -q logs/ -o mon.state && cp mon.state day.state",
    ] {
        let out = run_in(setup);
        assert!(
            out.status.success(),
            "{setup}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let mut ran = 0;
    for command in [
        "summary", "partial", "merge", "report", "find", "bench", "generate", "prices", "diff",
    ] {
        let help = String::from_utf8(ok(steplog().args([command, "--help"]))).unwrap();
        let examples: Vec<String> = help
            .split("Examples:\n")
            .nth(1)
            .unwrap_or_else(|| panic!("{command} has no examples"))
            .lines()
            .take_while(|l| l.starts_with("  "))
            .map(|l| {
                // The example, without the comment after it (two spaces or more).
                let l = l.trim_start();
                let mut end = l.len();
                let mut quoted = false;
                for (i, c) in l.char_indices() {
                    if c == '\'' {
                        quoted = !quoted;
                    }
                    if !quoted && l[i..].starts_with("  ") {
                        end = i;
                        break;
                    }
                }
                l[..end].to_string()
            })
            .collect();
        assert!(!examples.is_empty(), "{command}");
        for example in examples {
            let out = run_in(&example);
            let code = out.status.code();
            assert!(
                code == Some(0) || (example.contains("--fail-if") && code == Some(3)),
                "{example}: {code:?} {}",
                String::from_utf8_lossy(&out.stderr)
            );
            ran += 1;
        }
        // Where output goes is under Output, not under Limits: the heading above it.
        let short = String::from_utf8(ok(steplog().args([command, "-h"]))).unwrap();
        if let Some(at) = short.find("-o, --output") {
            let heading = short[..at]
                .lines()
                .rev()
                .find(|l| !l.starts_with(' ') && !l.is_empty());
            assert!(
                matches!(heading, Some("Output:" | "Options:")),
                "{command}: -o under {heading:?}"
            );
        }
    }
    assert!(ran >= 18, "{ran}");
    // Their files were written.
    for made in [
        "report.html",
        "day.json",
        "week.state",
        "week.html",
        "shuffled.jsonl",
    ] {
        assert!(d.join(made).is_file(), "{made}");
    }
}
