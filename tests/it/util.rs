//! Helpers every test module shares.

use assert_cmd::Command;
use serde_json::Value;
use std::path::{Path, PathBuf};

/// The fixtures folder.
pub fn testdata() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata")
}

/// The `steplog` binary, run in `testdata/`.
pub fn steplog() -> Command {
    let mut c = Command::cargo_bin("steplog").unwrap();
    c.current_dir(testdata());
    // Reports that say when they were made say the same time in every run.
    c.env("SOURCE_DATE_EPOCH", "1764547200");
    // The table as wide as its cells unless a test asks for a width.
    c.env_remove("COLUMNS");
    c
}

/// Runs `c`, which must succeed; returns stdout.
pub fn ok(c: &mut Command) -> Vec<u8> {
    let out = c.output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

/// `steplog summary ARGS` in `testdata/`, which must succeed: stdout.
pub fn summary_text(args: &[&str]) -> String {
    let out = steplog().arg("summary").args(args).output().unwrap();
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// `steplog summary -f json ARGS` in `testdata/`: the JSON text.
pub fn summary_json(args: &[&str]) -> String {
    let mut all = vec!["-f", "json"];
    all.extend_from_slice(args);
    summary_text(&all)
}

/// `steplog summary -f json ARGS` in `testdata/`, parsed.
pub fn summary_value(args: &[&str]) -> Value {
    serde_json::from_str(&summary_json(args)).unwrap()
}

/// `12345` as people read it: `12,345`.
pub fn thousands(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// `steplog partial` of `inputs` in `n` shards, into `dir/0.state`…; then `steplog
/// merge` of them (in the order `order` gives, by shard index) into `dir/all.state`.
/// Returns the shards' states and the merged one.
pub fn shards_merged(
    inputs: &Path,
    dir: &Path,
    n: u64,
    order: &[usize],
) -> (Vec<PathBuf>, PathBuf) {
    let states: Vec<PathBuf> = (0..n)
        .map(|i| {
            let s = dir.join(format!("{i}.state"));
            let (i, n) = (i.to_string(), n.to_string());
            ok(steplog()
                .args([
                    "partial",
                    path(inputs),
                    "--shard-count",
                    &n,
                    "--shard-index",
                    &i,
                ])
                .arg("-o")
                .arg(&s));
            s
        })
        .collect();
    let merged = dir.join("all.state");
    ok(steplog()
        .arg("merge")
        .args(order.iter().map(|&k| &states[k]))
        .arg("-o")
        .arg(&merged));
    (states, merged)
}

/// A step's `usage` as the five sums reports keep: prompt, completion, total, cached and
/// reasoning tokens (0 where absent).
pub fn usage_tokens(u: &Value) -> [u64; 5] {
    let n = |x: &Value| x.as_u64().unwrap_or(0);
    [
        n(&u["prompt_tokens"]),
        n(&u["completion_tokens"]),
        n(&u["total_tokens"]),
        n(&u["prompt_token_details"]["cached_tokens"]),
        n(&u["completion_tokens_details"]["reasoning_tokens"]),
    ]
}

/// A path as a command-line argument.
pub fn path(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// `lines = records + runs + blank_lines + deltas + framing + malformed` in a JSON report.
pub fn lines_add_up(r: &Value) {
    let i = &r["input"];
    let n = |k: &str| i[k].as_u64().unwrap();
    assert_eq!(
        n("lines"),
        n("records") + n("runs") + n("blank_lines") + n("deltas") + n("framing") + n("malformed")
    );
}

/// Calls `f` on every exemplar of a JSON report (the steps and runs behind the figures),
/// to rename or forget where they are when comparing reports of the same steps read from
/// differently named (or split) inputs.
pub fn each_exemplar(r: &mut Value, mut f: impl FnMut(&mut Value)) {
    if let Some(e) = r.get_mut("exemplars").and_then(Value::as_object_mut) {
        for list in e.values_mut() {
            for x in list.as_array_mut().into_iter().flatten() {
                f(x);
            }
        }
    }
}

/// Forgets where every exemplar is (its file and line).
pub fn forget_places(r: &mut Value) {
    each_exemplar(r, |x| {
        x["file"] = Value::Null;
        x["line"] = Value::Null;
    });
}

/// Runs `steplog ARGS` and returns (exit code, stderr).
pub fn fails(args: &[&str]) -> (i32, String) {
    let out = steplog().args(args).output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Closes `child`'s standard output (a reader that went away) and requires exit 0; what
/// it printed on standard error.
pub fn reader_gone(mut child: std::process::Child, what: &str) -> Vec<u8> {
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{what}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stderr
}

/// `n` generated lines (seed `seed`) written to `file`; the bytes.
pub fn generated(file: &Path, n: u64, seed: u64) -> Vec<u8> {
    let data = generated_text(n, seed).into_bytes();
    std::fs::write(file, &data).unwrap();
    data
}

/// `n` generated lines (seed `seed`).
pub fn generated_text(n: u64, seed: u64) -> String {
    let mut data = Vec::new();
    steplog::generate::Generator::new(seed)
        .write(n, &mut data)
        .unwrap();
    String::from_utf8(data).unwrap()
}
