//! Properties of the whole pipeline, over generated logs that mix every kind of line:
//! cutting the input into chunks anywhere gives the same report, and merging the
//! summaries of two parts gives the summary of the whole.

#[allow(unused_imports)]
use crate::util::*;
use proptest::prelude::*;
use std::path::PathBuf;
use steplog::engine::{self, Config, Outcome};
use steplog::input::InputSpec;

/// One line of every kind the engine tells apart.
fn line() -> impl Strategy<Value = String> {
    let status = prop::sample::select(vec![
        "completed",
        "failed",
        "cancelled",
        "expired",
        "in_progress",
        "queued",
    ]);
    let record = (
        0u32..40,
        status,
        0i64..5000,
        0i64..200,
        prop::option::of((0u64..1000, 0u64..1000)),
        prop::sample::select(vec![
            "",
            r#","step_details":{"type":"tool_calls","tool_calls":[{"type":"function","function":{"name":"f"}},{"type":"code_interpreter"}]}"#,
            r#","last_error":{"code":"server_error","message":"boom"}"#,
            r#","assistant_id":"asst_b","type":"message_creation""#,
        ]),
    )
        .prop_map(|(id, status, created, took, usage, extra)| {
            let created = 1_700_000_000 + created;
            let at = match status {
                "completed" | "failed" | "cancelled" | "expired" => {
                    format!(r#","{status}_at":{}"#, created + took)
                }
                _ => String::new(),
            };
            let usage = usage.map_or_else(String::new, |(p, c)| {
                format!(r#","usage":{{"prompt_tokens":{p},"completion_tokens":{c},"total_tokens":{}}}"#, p + c)
            });
            format!(r#"{{"id":"step_{id}","created_at":{created},"status":"{status}"{at}{usage}{extra}}}"#)
        });
    prop_oneof![
        6 => record.clone(),
        1 => record.clone().prop_map(|r| format!("data: {r}")),
        1 => record.prop_map(|r| format!("{r}\r")),
        1 => Just(String::new()),
        1 => Just("  \t".to_string()),
        1 => Just(r#"{"id":"step_1","object":"thread.run.step.delta","delta":{}}"#.to_string()),
        1 => Just("event: thread.run.step.completed".to_string()),
        1 => Just("data: [DONE]".to_string()),
        1 => Just(r#"{"id":"step_1","created_at":1,"status":"#.to_string()),
        1 => Just(r#"{"id":"s","created_at":-4,"status":"completed"}"#.to_string()),
        1 => Just("[1,2]".to_string()),
        1 => "[ -~]{0,30}",
        1 => (100usize..300).prop_map(|n| format!(r#"{{"id":"long","created_at":1,"status":"{}"}}"#, "x".repeat(n))),
        1 => (100usize..300).prop_map(|n| " ".repeat(n)),
    ]
}

fn log() -> impl Strategy<Value = String> {
    (
        prop::collection::vec(line(), 0..80),
        any::<bool>(),
        any::<bool>(),
    )
        .prop_map(|(lines, bom, last_newline)| {
            let mut s = if bom {
                "\u{feff}".to_string()
            } else {
                String::new()
            };
            s.push_str(&lines.join("\n"));
            if last_newline && !lines.is_empty() {
                s.push('\n');
            }
            s
        })
}

fn write(dir: &tempfile::TempDir, name: &str, text: &str) -> PathBuf {
    let p = dir.path().join(name);
    std::fs::write(&p, text).unwrap();
    p
}

fn run(paths: &[&PathBuf], cfg: &Config) -> Outcome {
    let specs: Vec<InputSpec> = paths
        .iter()
        .map(|p| InputSpec::Path((*p).clone()))
        .collect();
    engine::run(&specs, cfg).unwrap()
}

fn json(o: &Outcome) -> String {
    serde_json::to_string(&o.report()).unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, ..ProptestConfig::default() })]

    #[test]
    fn any_chunking_gives_the_same_report(
        text in log(),
        chunk in 1usize..400,
        threads in 1usize..4,
        mmap in any::<bool>(),
        dedup in any::<bool>(),
        max_line in prop::sample::select(vec![150u64, 250, 64 << 20]),
    ) {
        let dir = tempfile::tempdir().unwrap();
        let p = write(&dir, "a.jsonl", &text);
        let whole = Config {
            threads: 1,
            chunk_size: 1 << 20,
            mmap: true,
            dedup,
            max_line_bytes: max_line,
            ..Config::default()
        };
        let cut = Config {
            threads,
            chunk_size: chunk,
            mmap,
            dedup,
            max_line_bytes: max_line,
            ..Config::default()
        };
        let base = run(&[&p], &whole);
        let c = base.report().input.counts;
        prop_assert_eq!(
            c.lines,
            c.records + c.runs + c.blank_lines + c.deltas + c.framing + c.malformed
        );
        prop_assert_eq!(json(&run(&[&p], &cut)), json(&base));
    }

    #[test]
    fn merging_two_summaries_equals_summarising_both(
        text in log(),
        split in 0.0f64..1.0,
        threads in 1usize..3,
    ) {
        // Cut where it may be, a JSON document is not two documents: the law holds for JSONL.
        prop_assume!(!steplog::input::document::detect(text.as_bytes()));
        let lines: Vec<&str> = text.split_inclusive('\n').collect();
        let at = (lines.len() as f64 * split) as usize;
        let (a, b) = (lines[..at].concat(), lines[at..].concat());
        prop_assume!(!steplog::input::document::detect(b.as_bytes()));
        let dir = tempfile::tempdir().unwrap();
        let (pa, pb) = (write(&dir, "a.jsonl", &a), write(&dir, "b.jsonl", &b));
        let cfg = Config { threads, chunk_size: 64, ..Config::default() };

        // merge(a, b) = the summary of a then b, file by file…
        let both = run(&[&pa, &pb], &cfg);
        let (ra, rb) = (run(&[&pa], &cfg), run(&[&pb], &cfg));
        let mut merged = ra.summary.clone();
        merged.append(rb.summary.clone()).unwrap();
        prop_assert_eq!(
            serde_json::to_string(&merged.report()).unwrap(),
            json(&both)
        );
        // …and merging in the other order changes nothing but the file order.
        let mut reversed = rb.summary.clone();
        reversed.append(ra.summary.clone()).unwrap();
        let mut r1 = merged.report();
        let mut r2 = reversed.report();
        r1.input.files.clear();
        r2.input.files.clear();
        r1.input.malformed_examples.clear();
        r2.input.malformed_examples.clear();
        // Hints name files, in file order.
        r1.hints.clear();
        r2.hints.clear();
        // Exemplars tied on value and id are ordered by where they are, so by file order
        // (checked above against one run over the same order).
        let exemplars = r1.exemplars.take();
        r2.exemplars = None;
        prop_assert_eq!(&r1, &r2);
        r1.exemplars = exemplars;

        // The same figures as one file holding both parts.
        let whole = write(&dir, "ab.jsonl", &(a + &b));
        let mut r3 = run(&[&whole], &cfg).report();
        r3.input.files.clear();
        r3.input.malformed_examples.clear();
        r3.hints.clear();
        r1.hints.clear();
        // The same steps, at other lines of another file.
        for r in [&mut r1, &mut r3] {
            for e in r.exemplars.iter_mut() {
                for x in e.slowest_steps.iter_mut().chain(&mut e.slowest_runs)
                    .chain(&mut e.costliest_runs).chain(&mut e.recent_failures)
                {
                    (x.file, x.line) = (String::new(), 0);
                }
            }
        }
        prop_assert_eq!(&r1, &r3);
    }
}
