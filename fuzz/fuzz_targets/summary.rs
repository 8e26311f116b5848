//! Whole inputs of arbitrary bytes through the whole engine, as `steplog summary` reads a
//! file: it must never panic, must account for every line
//! (lines = records + blank + deltas + framing + malformed), and must give the same
//! report whatever the chunking, thread count and I/O mode. `--dedup` must agree with the
//! plain run on the line accounting and never count more steps than records.
//!
//! Run: `cargo +nightly fuzz run summary fuzz/corpus/summary fuzz/seeds` (see doc/contributing.md).

#![no_main]

use libfuzzer_sys::fuzz_target;
use std::path::PathBuf;
use steplog::engine::{self, Config};
use steplog::input::InputSpec;

fn input_path() -> PathBuf {
    std::env::temp_dir().join(format!("steplog-fuzz-{}.jsonl", std::process::id()))
}

fn check(report: &steplog::report::Report) {
    let c = &report.input.counts;
    assert_eq!(
        c.lines,
        c.records + c.runs + c.blank_lines + c.deltas + c.framing + c.malformed,
        "every line accounted for"
    );
    let by_reason: u64 = report.input.malformed_by_reason.values().sum();
    assert_eq!(by_reason, c.malformed);
    assert_eq!(
        report.sections.steps.total,
        report.dedup.map_or(c.records, |d| d.steps)
    );
}

fuzz_target!(|data: &[u8]| {
    let path = input_path();
    std::fs::write(&path, data).unwrap();
    let spec = [InputSpec::Path(path.clone())];
    let whole = Config {
        threads: 1,
        chunk_size: 1 << 20,
        mmap: true,
        ..Config::default()
    };
    // A chunk size taken from the input, so the fuzzer explores cut points too.
    let cut = Config {
        threads: 3,
        chunk_size: 1 + data.first().map_or(0, |b| *b as usize),
        mmap: false,
        max_line_bytes: 4096,
        ..Config::default()
    };
    let a = engine::summarize(&spec, &whole);
    let b = engine::summarize(&spec, &cut);
    let c = engine::summarize(
        &spec,
        &Config {
            max_line_bytes: 4096,
            ..whole.clone()
        },
    );
    match (&a, &b) {
        (Ok(a), Ok(b)) => {
            check(a);
            check(b);
            let c = c.expect("mapped run failed where reading succeeded");
            assert_eq!(
                serde_json::to_string(&c).unwrap(),
                serde_json::to_string(b).unwrap(),
                "chunking or I/O mode changed the report"
            );
            let d = engine::summarize(
                &spec,
                &Config {
                    dedup: true,
                    ..whole.clone()
                },
            )
            .expect("--dedup failed where the plain run succeeded");
            check(&d);
            assert_eq!(d.input.counts, a.input.counts);
            assert!(d.sections.steps.total <= a.sections.steps.total);
        }
        // A corrupt archive fails the same way however it is read.
        (Err(_), Err(_)) => {}
        _ => panic!("one configuration failed: {a:?} / {b:?}"),
    }
    let _ = std::fs::remove_file(&path);
});
