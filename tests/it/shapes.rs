//! The shapes people saved besides JSONL: list-steps pages (one per line, one per file,
//! pretty-printed, keys in any order), JSON arrays, objects spanning lines; from files,
//! gzip archives and standard input. Each gives the figures of the same steps as JSONL,
//! every element accounted for, and positions on the lines where the objects start.

use crate::util::*;
use serde_json::{json, Value};
use std::io::Write;

/// Generated steps (and the runs that price them), as JSON values.
fn steps(n: u64, seed: u64) -> Vec<Value> {
    let mut out = Vec::new();
    steplog::generate::Generator::new(seed)
        .write(n, &mut out)
        .unwrap();
    String::from_utf8(out)
        .unwrap()
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(Value::is_object)
        .collect()
}

fn jsonl(values: &[Value]) -> String {
    values.iter().map(|v| v.to_string() + "\n").collect()
}

/// Pages of `per` elements as the list endpoint returns them.
fn pages(values: &[Value], per: usize) -> Vec<Value> {
    let n = values.len().div_ceil(per);
    values
        .chunks(per)
        .enumerate()
        .map(|(i, c)| {
            json!({
                "object": "list",
                "data": c,
                "first_id": c[0]["id"],
                "last_id": c[c.len() - 1]["id"],
                "has_more": i + 1 < n,
            })
        })
        .collect()
}

/// The report with what differs between shapes of the same steps left out: the input
/// section (its names, bytes and shapes) and where exemplars are.
fn figures(mut r: Value) -> Value {
    lines_add_up(&r);
    r.as_object_mut().unwrap().remove("input");
    forget_places(&mut r);
    r
}

fn report(args: &[&str]) -> Value {
    let mut all = vec!["--exemplars", "3"];
    all.extend_from_slice(args);
    summary_value(&all)
}

fn gz(bytes: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    e.write_all(bytes).unwrap();
    e.finish().unwrap()
}

#[test]
fn every_shape_gives_the_figures_of_the_same_steps_as_jsonl() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let all = steps(1500, 11);
    let write = |name: &str, text: &[u8]| {
        let p = d.join(name);
        std::fs::write(&p, text).unwrap();
        path(&p).to_string()
    };
    let plain = write("steps.jsonl", jsonl(&all).as_bytes());
    let want = report(&[&plain]);
    let records = want["input"]["records"].as_u64().unwrap();
    assert_eq!(records, all.len() as u64);

    let paged = pages(&all, 100);
    let per_line = write("pages.jsonl", jsonl(&paged).as_bytes());
    let pretty_array = serde_json::to_string_pretty(&all).unwrap();
    // Keys sorted as `jq -S` writes them: `data` before `object`.
    let sorted_page = serde_json::to_string_pretty(&paged[0]).unwrap();
    assert!(sorted_page.find("\"data\"") < sorted_page.find("\"object\""));
    let page_dir = d.join("pages");
    std::fs::create_dir(&page_dir).unwrap();
    for (i, p) in paged.iter().enumerate() {
        let text = serde_json::to_string_pretty(p).unwrap();
        std::fs::write(page_dir.join(format!("page-{i:03}.json")), text).unwrap();
    }
    let pretty_objects: String = all
        .iter()
        .map(|v| serde_json::to_string_pretty(v).unwrap() + "\n")
        .collect();
    let shapes = [
        (per_line, "list pages"),
        (
            write(
                "pages.json",
                serde_json::to_string_pretty(&paged).unwrap().as_bytes(),
            ),
            "list pages",
        ),
        (
            write(
                "array.json",
                serde_json::to_string(&all).unwrap().as_bytes(),
            ),
            "JSON array",
        ),
        (write("pretty.json", pretty_array.as_bytes()), "JSON array"),
        (
            write("pretty.json.gz", &gz(pretty_array.as_bytes())),
            "JSON array",
        ),
        (
            write("objects.json", pretty_objects.as_bytes()),
            "JSON documents",
        ),
    ];
    for (p, shape) in &shapes {
        for chunk in ["4KiB", "4MiB"] {
            let got = report(&["--chunk-size", chunk, p]);
            let files = got["input"]["files"].as_array().unwrap();
            assert_eq!(files[0]["shape"], *shape, "{p}");
            assert_eq!(got["input"]["records"], records, "{p}");
            assert_eq!(got["input"]["malformed"], 0, "{p}");
            assert_eq!(
                figures(got),
                figures(want.clone()),
                "{p} in chunks of {chunk}"
            );
        }
    }
    // Deduplicated (the second pass re-reads the document to find the winners).
    let want_dedup = figures(report(&["--dedup", &plain]));
    for (p, _) in &shapes[1..3] {
        assert_eq!(figures(report(&["--dedup", p])), want_dedup, "{p} --dedup");
    }
    // A directory of pretty-printed pages, one per file.
    let got = report(&[path(&page_dir)]);
    assert_eq!(got["input"]["files"].as_array().unwrap().len(), paged.len());
    assert_eq!(figures(got), figures(want.clone()));
    // Standard input, pretty-printed and compressed.
    for bytes in [
        pretty_array.clone().into_bytes(),
        gz(pretty_array.as_bytes()),
    ] {
        let out = ok(steplog()
            .args(["summary", "-f", "json", "--exemplars", "3", "-"])
            .write_stdin(bytes));
        let got: Value = serde_json::from_slice(&out).unwrap();
        assert_eq!(got["input"]["files"][0]["shape"], "JSON array");
        assert_eq!(figures(got), figures(want.clone()));
    }
}

/// The line on which the object whose `id` is `id` starts in `text`.
fn line_of(text: &str, id: &str) -> u64 {
    let at = text.find(&format!("\"{id}\"")).unwrap();
    let open = text[..at].rfind('{').unwrap();
    text[..open].matches('\n').count() as u64 + 1
}

#[test]
fn positions_are_the_lines_where_the_objects_start() {
    let dir = tempfile::tempdir().unwrap();
    let all = steps(400, 5);
    let pretty = serde_json::to_string_pretty(&pages(&all, 50)).unwrap();
    // An element that is not a step, and one that is not JSON, in the middle.
    let broken = pretty.replacen("\"type\": \"", "\"type\": 7, \"x\": \"", 1);
    let p = dir.path().join("pages.json");
    std::fs::write(&p, &broken).unwrap();
    for chunk in ["1KiB", "4MiB"] {
        let r = report(&["--chunk-size", chunk, path(&p)]);
        assert_eq!(r["input"]["malformed"], 1);
        assert_eq!(r["input"]["records"], all.len() as u64 - 1);
        let bad = &r["input"]["malformed_examples"][0];
        let id = all[0]["id"].as_str().unwrap();
        assert_eq!(bad["line"], line_of(&broken, id), "{bad}");
        let at = broken.find(&format!("\"{id}\"")).unwrap();
        assert_eq!(
            bad["offset"],
            broken[..at].rfind('{').unwrap() as u64,
            "{bad}"
        );
        let mut seen = 0;
        each_exemplar(&mut r.clone(), |x| {
            if let (Some(id), Some(line)) = (x["id"].as_str(), x["line"].as_u64()) {
                if id.starts_with("step_") {
                    assert_eq!(line, line_of(&broken, id), "{x}");
                    seen += 1;
                }
            }
        });
        assert!(seen > 0);
    }
    // `find` prints each matching element on a line of its own, with its line.
    let out = ok(steplog()
        .args(["find", "--where", "status == \"failed\"", "-f", "json"])
        .arg(&p));
    let found: Value = serde_json::from_slice(&out).unwrap();
    let found = found.as_array().unwrap();
    assert!(!found.is_empty());
    for f in found {
        assert_eq!(
            f["line"],
            line_of(&broken, f["id"].as_str().unwrap()),
            "{f}"
        );
    }
    let lines = ok(steplog()
        .args(["find", "--where", "status == \"failed\""])
        .arg(&p));
    for l in String::from_utf8(lines).unwrap().lines() {
        let v: Value = serde_json::from_str(l).unwrap();
        assert!(all.contains(&v), "{l}");
    }
}

#[test]
fn a_document_state_merges_and_reports_like_a_run() {
    let dir = tempfile::tempdir().unwrap();
    let all = steps(300, 9);
    let p = dir.path().join("pages.json");
    std::fs::write(&p, serde_json::to_string_pretty(&pages(&all, 40)).unwrap()).unwrap();
    let state = dir.path().join("a.state");
    ok(steplog().args(["partial", "-o"]).arg(&state).arg(&p));
    let from_state = ok(steplog().args(["report", "-f", "json"]).arg(&state));
    let direct = summary_value(&[path(&p)]);
    let from_state: Value = serde_json::from_slice(&from_state).unwrap();
    assert_eq!(from_state["input"], direct["input"]);
    assert_eq!(from_state, direct);
}
