//! Every command in a `sh` block of the README and of the manual (`doc/*.md`) runs, in a
//! directory holding the files the docs name, and exits 0 (or 3, a `--fail-if` that
//! held); where a `text` block follows a `sh` block, it is what the block's first command
//! prints at 80 columns (up to a line `…`). So no example goes stale.
//!
//! Crontab lines lose their five time fields (and `\%` becomes `%`, as cron reads it);
//! absolute paths under `/var/` and `/srv/` are taken inside the directory. `cargo`
//! commands are the README's two: the first runs as `steplog`, `cargo test` is what runs
//! this.

use crate::util::{ok, steplog};
use std::path::{Path, PathBuf};
use std::process::Command;

/// A fenced block: its language and lines.
struct Block {
    lang: String,
    lines: Vec<String>,
}

fn blocks(text: &str) -> Vec<Block> {
    let mut out = Vec::new();
    let mut open: Option<Block> = None;
    for line in text.lines() {
        match (&mut open, line.strip_prefix("```")) {
            (None, Some(lang)) => {
                open = Some(Block {
                    lang: lang.trim().to_string(),
                    lines: Vec::new(),
                })
            }
            (Some(_), Some(_)) => out.push(open.take().unwrap()),
            (Some(b), None) => b.lines.push(line.to_string()),
            (None, None) => {}
        }
    }
    assert!(open.is_none(), "a block is not closed");
    out
}

/// The commands of a `sh` block: continuation lines joined, comments dropped, crontab
/// schedules taken off.
fn commands(block: &Block) -> Vec<String> {
    let mut out = Vec::new();
    let mut pending = String::new();
    for line in &block.lines {
        let line = line.trim();
        if pending.is_empty() && (line.is_empty() || line.starts_with('#')) {
            continue;
        }
        match line.strip_suffix('\\') {
            Some(part) => {
                pending.push_str(part);
                pending.push(' ');
            }
            None => {
                pending.push_str(line);
                out.push(std::mem::take(&mut pending));
            }
        }
    }
    out.into_iter()
        .map(|c| {
            let fields: Vec<&str> = c.split_whitespace().collect();
            let cron = fields.len() > 5
                && fields[..5].iter().all(|f| {
                    f.chars()
                        .all(|ch| ch.is_ascii_digit() || "*/,-".contains(ch))
                });
            match cron {
                true => fields[5..].join(" ").replace("\\%", "%"),
                false => c,
            }
        })
        .collect()
}

/// The files the docs name, under `root`.
fn sandbox(root: &Path) {
    let run = |args: &[&str]| {
        ok(steplog().current_dir(root).args(args));
    };
    std::os::unix::fs::symlink(crate::util::testdata(), root.join("testdata")).unwrap();
    for d in [
        "logs",
        "steps",
        "week",
        "var/lib/steplog",
        "var/lib/node_exporter/textfile",
        "srv/reports",
    ] {
        std::fs::create_dir_all(root.join(d)).unwrap();
    }
    run(&[
        "generate",
        "-n",
        "3000",
        "--seed",
        "1",
        "-o",
        "logs/steps.jsonl",
        "--runs",
        "logs/runs.jsonl",
    ]);
    let steps = std::fs::read(root.join("logs/steps.jsonl")).unwrap();
    std::fs::write(root.join("steps.jsonl"), &steps).unwrap();
    std::fs::write(root.join("steps/steps.jsonl"), &steps).unwrap();
    std::fs::copy(root.join("logs/runs.jsonl"), root.join("runs.jsonl")).unwrap();
    let zst =
        ruzstd::encoding::compress_to_vec(&steps[..], ruzstd::encoding::CompressionLevel::Fastest);
    std::fs::write(root.join("steps.jsonl.zst"), zst).unwrap();
    // Yesterday's directory of logs, as the nightly job finds it.
    let yesterday = Command::new("date")
        .args(["-d", "yesterday", "+%F"])
        .output()
        .unwrap();
    let yesterday = String::from_utf8(yesterday.stdout).unwrap();
    let day = root.join("var/log/assistants").join(yesterday.trim());
    std::fs::create_dir_all(&day).unwrap();
    std::fs::write(day.join("steps.jsonl"), &steps).unwrap();
    let lines: Vec<&[u8]> = steps.split(|&b| b == b'\n').collect();
    for (i, state) in [
        "week/mon.state",
        "week/tue.state",
        "var/lib/steplog/a.state",
    ]
    .into_iter()
    .enumerate()
    {
        let part = lines[i * 500..(i + 1) * 500].join(&b'\n');
        let file = format!("part{i}.jsonl");
        std::fs::write(root.join(&file), part).unwrap();
        run(&["partial", &file, "logs/runs.jsonl", "-q", "-o", state]);
    }
    std::fs::write(
        root.join("model_prices_and_context_window.json"),
        r#"{"gpt-4o": {"input_cost_per_token": 2.5e-6, "output_cost_per_token": 1e-5}}"#,
    )
    .unwrap();
}

/// Runs `command` in `root` with steplog on the PATH: its exit code and output.
fn run(root: &Path, command: &str) -> (Option<i32>, String, String) {
    let bin = PathBuf::from(env!("CARGO_BIN_EXE_steplog"));
    let path = format!(
        "{}:{}",
        bin.parent().unwrap().display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let r = root.display().to_string();
    let command = command
        .replace(" /var/", &format!(" {r}/var/"))
        .replace(" /srv/", &format!(" {r}/srv/"));
    let out = Command::new("sh")
        .arg("-c")
        .arg(&command)
        .current_dir(root)
        .env("PATH", path)
        .env("COLUMNS", "80")
        .env("SOURCE_DATE_EPOCH", "1764547200")
        .env_remove("NO_COLOR")
        .output()
        .unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn every_command_in_the_docs_runs_and_prints_what_they_show() {
    if Command::new("jq").arg("--version").output().is_err() {
        assert!(
            std::env::var_os("STEPLOG_REQUIRE_JQ").is_none(),
            "jq is required"
        );
        eprintln!("jq not installed: skipping the docs' examples");
        return;
    }
    let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut pages = vec![repo.join("README.md")];
    let mut manual: Vec<PathBuf> = std::fs::read_dir(repo.join("doc"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "md"))
        .collect();
    manual.sort();
    assert!(manual.len() >= 10, "{manual:?}");
    pages.extend(manual);
    let dir = tempfile::tempdir().unwrap();
    sandbox(dir.path());
    let (mut ran, mut shown) = (0, 0);
    for page in &pages {
        let name = page.strip_prefix(repo).unwrap().display().to_string();
        let text = std::fs::read_to_string(page).unwrap();
        let all = blocks(&text);
        for (i, block) in all.iter().enumerate() {
            if block.lang != "sh" {
                continue;
            }
            let mut first = None;
            for command in commands(block) {
                let command = match command.strip_prefix("cargo run --release -- ") {
                    Some(rest) => format!("steplog {rest}"),
                    None if command.starts_with("cargo ") => continue,
                    None => command,
                };
                let (code, stdout, stderr) = run(dir.path(), &command);
                assert!(
                    matches!(code, Some(0 | 3)),
                    "{name}: `{command}` exited {code:?}:\n{stderr}"
                );
                ran += 1;
                first.get_or_insert((command, stdout));
            }
            // The output shown under it.
            let Some(next) = all.get(i + 1).filter(|b| b.lang == "text") else {
                continue;
            };
            let (command, stdout) = first.expect("a command before its output");
            let want: Vec<&str> = next
                .lines
                .iter()
                .map(String::as_str)
                .take_while(|l| *l != "…")
                .collect();
            let got: Vec<&str> = stdout.lines().take(want.len()).collect();
            assert_eq!(got, want, "{name}: what `{command}` prints");
            shown += 1;
        }
    }
    assert!(ran >= 15, "{ran} commands");
    assert!(shown >= 4, "{shown} outputs");
}

#[test]
fn commands_are_read_as_a_shell_and_cron_would() {
    let block = Block {
        lang: "sh".into(),
        lines: [
            "# a comment",
            "steplog summary a \\",
            "    --full",
            "",
            "5 0 * * 1 steplog partial -o /var/lib/$(date +\\%F).state",
            "*/15 * * * * steplog report x",
        ]
        .map(String::from)
        .to_vec(),
    };
    assert_eq!(
        commands(&block),
        [
            "steplog summary a  --full",
            "steplog partial -o /var/lib/$(date +%F).state",
            "steplog report x",
        ]
    );
}
