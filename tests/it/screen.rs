//! The default table fits one screen (40 lines at 80 columns) whatever the input, and the
//! runs it names can be pasted into `steplog find`.

use crate::util::{ok, path, steplog};
use serde_json::Value;

fn lines_at(columns: &str, args: &[&str]) -> String {
    let out = steplog()
        .arg("summary")
        .args(args)
        .env("COLUMNS", columns)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{args:?}");
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn the_default_table_fits_one_screen_and_its_runs_can_be_found() {
    let dir = tempfile::tempdir().unwrap();
    let logs = dir.path().join("g.jsonl");
    let runs = dir.path().join("g.runs.jsonl");
    ok(steplog()
        .args(["generate", "-n", "20000", "--seed", "9", "-o"])
        .arg(&logs)
        .arg("--runs")
        .arg(&runs));
    let (logs, runs) = (path(&logs), path(&runs));
    let inputs: [&[&str]; 6] = [
        &[logs, runs],
        &[logs, runs, "--group-by", "assistant"],
        &[logs, runs, "--group-by", "model,day", "--sort", "cost"],
        &[logs, "malformed.jsonl", "timestamps.jsonl"],
        &["samples/api-examples.jsonl", "samples/stream-events.jsonl"],
        &[logs, "--dedup", "--since", "2024-01-01"],
    ];
    for args in inputs {
        let text = lines_at("80", args);
        let n = text.lines().count();
        assert!(n <= 40, "{args:?}: {n} lines\n{text}");
        for line in text.lines() {
            assert!(line.chars().count() <= 80, "{args:?}: {line:?}");
        }
        // Nothing cut in the middle; what is left out is named, with the flag.
        let cut = text
            .split_whitespace()
            .find(|w| w.contains('…') && *w != "…");
        assert_eq!(cut, None, "{text}");
        assert!(text.contains("--full"), "{text}");
        // The whole table is much longer.
        let full = lines_at("80", &[args, &["--full"]].concat());
        assert!(full.lines().count() > 2 * n, "{args:?}");
    }
    // The runs named are whole ids: each one pasted into find gives its steps, and the
    // place shown is one of them.
    let text = lines_at("120", &[logs, runs]);
    let r: Value =
        serde_json::from_slice(&ok(steplog().args(["summary", "-f", "json", logs, runs]))).unwrap();
    let slowest = r["exemplars"]["slowest_runs"][0]["run_id"]
        .as_str()
        .unwrap();
    let most = &r["exemplars"]["costliest_runs"][0];
    for (title, id) in [
        ("Slowest runs", slowest),
        ("Costliest runs", most["run_id"].as_str().unwrap()),
    ] {
        let section: Vec<&str> = text
            .lines()
            .skip_while(|l| *l != title)
            .skip(2)
            .take(1)
            .collect();
        let row: Vec<&str> = section[0].split_whitespace().collect();
        assert_eq!(row[1], id, "{title}: {text}");
        if title == "Costliest runs" {
            // In dollars: the runs file prices every run.
            assert!(row[0].starts_with('$'), "{text}");
            assert_eq!(most["figure"], "cost_usd");
        }
        let (file, line) = row[2].rsplit_once(':').unwrap();
        assert_eq!(file, logs);
        let found =
            ok(steplog().args(["find", "-q", "--where", &format!("run == \"{id}\""), logs]));
        let found = String::from_utf8(found).unwrap();
        assert!(found.lines().count() >= 1);
        let at: usize = line.parse().unwrap();
        let logged = std::fs::read_to_string(logs).unwrap();
        let shown = logged.lines().nth(at - 1).unwrap();
        assert!(found.lines().any(|l| l == shown), "{title}: line {at}");
    }
    // Without the runs nothing is priced: the runs with the most tokens, as the JSON's.
    let text = lines_at("120", &[logs]);
    let r: Value =
        serde_json::from_slice(&ok(steplog().args(["summary", "-f", "json", logs]))).unwrap();
    let most = &r["exemplars"]["costliest_runs"][0];
    assert_eq!(most["figure"], "total_tokens");
    assert!(!text.contains("Costliest runs"), "{text}");
    let tokens = most["value"].as_u64().unwrap();
    let row = text
        .lines()
        .skip_while(|l| *l != "Runs with the most tokens")
        .nth(2)
        .unwrap();
    assert!(
        row.trim_start()
            .starts_with(&crate::util::thousands(tokens)),
        "{text}"
    );
    // --full is for the table only; --interval needs it.
    let out = steplog()
        .args(["summary", "--full", "-f", "json", logs])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--full is for the table"));
}

/// `find -f table` fits the width: columns left out (type first), never ids cut.
#[test]
fn find_tables_fit_the_width_leaving_columns_out() {
    let dir = tempfile::tempdir().unwrap();
    let logs = dir.path().join("g.jsonl");
    ok(steplog().args(["generate", "-n", "500", "-o"]).arg(&logs));
    let at = |columns: &str| {
        let out = steplog()
            .args([
                "find",
                "-q",
                "-f",
                "table",
                "--where",
                "status == \"failed\"",
            ])
            .arg(&logs)
            .env("COLUMNS", columns)
            .output()
            .unwrap();
        assert!(out.status.success());
        String::from_utf8(out.stdout).unwrap()
    };
    let json: Value = serde_json::from_slice(&ok(steplog()
        .args([
            "find",
            "-q",
            "-f",
            "json",
            "--where",
            "status == \"failed\"",
        ])
        .arg(&logs)))
    .unwrap();
    let first = &json[0];
    for (columns, heads) in [
        ("80", &["where", "id"][..]),
        ("200", &["where", "id", "run", "status", "type", "created"]),
    ] {
        let text = at(columns);
        let width: usize = columns.parse().unwrap();
        for line in text.lines() {
            assert!(line.chars().count() <= width, "{columns}: {line:?}");
        }
        let head: Vec<&str> = text.lines().next().unwrap().split_whitespace().collect();
        assert_eq!(head, heads, "{columns}");
        // The first row: its place and step id whole.
        let row: Vec<&str> = text.lines().nth(1).unwrap().split_whitespace().collect();
        let place = format!("{}:{}", first["file"].as_str().unwrap(), first["line"]);
        assert_eq!(
            (row[0], row[1]),
            (place.as_str(), first["id"].as_str().unwrap())
        );
    }
}

/// `steplog prices` fits the width: its sources are URLs, left out whole when narrow.
#[test]
fn prices_fit_the_width_without_cutting_a_url() {
    let at = |columns: &str| {
        let out = steplog()
            .arg("prices")
            .env("COLUMNS", columns)
            .output()
            .unwrap();
        assert!(out.status.success());
        String::from_utf8(out.stdout).unwrap()
    };
    let narrow = at("80");
    assert!(narrow.lines().all(|l| l.chars().count() <= 80), "{narrow}");
    assert!(!narrow.contains("http") && narrow.contains("not shown here: source"));
    let wide = at("250");
    let urls: Vec<&str> = wide
        .split_whitespace()
        .filter(|w| w.starts_with("https://"))
        .collect();
    assert!(
        !urls.is_empty() && urls.iter().all(|u| !u.contains('…')),
        "{wide}"
    );
}
