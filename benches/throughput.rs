//! Throughput benchmarks on seeded, generated data (`steplog::generate`), reported in
//! bytes/s (parsing, end to end) and rows/s (aggregators). Setup stays outside the timed
//! closures. Run with `cargo bench`; CI only builds them (`cargo bench --no-run`).

mod common;

use criterion::{black_box, criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use steplog::agg::{Aggregator, Durations, Failures, Steps, ToolCalls, Usage};
use steplog::batch::Batch;
use steplog::engine::{self, Config};
use steplog::generate::{write_responses, Generator, Order, Responses};
use steplog::input::InputSpec;
use steplog::parse::{LineIndex, LineParser, PADDING};

/// `n` generated lines, newline-separated.
fn corpus(n: u64, seed: u64) -> Vec<u8> {
    let mut out = Vec::new();
    let mut g = Generator::new(seed);
    for _ in 0..n {
        g.line(&mut out);
    }
    out
}

/// `n` generated responses (Responses API bodies, sessions interleaved), newline-separated.
fn responses(n: u64, seed: u64) -> Vec<u8> {
    let mut out = Vec::new();
    let order = Order::Interleaved { in_flight: 40 };
    write_responses(Responses::new(seed), n, order, &mut out).expect("in memory");
    out
}

/// The first generated line for which `pred` holds.
fn line_where(pred: impl Fn(&str) -> bool) -> Vec<u8> {
    let mut g = Generator::new(3);
    loop {
        let mut l = Vec::new();
        g.line(&mut l);
        l.pop();
        if pred(std::str::from_utf8(&l).unwrap()) {
            return l;
        }
    }
}

fn parse_lines(c: &mut Criterion) {
    let cases = [
        (
            "message_creation",
            line_where(|l| {
                l.contains("\"type\":\"message_creation\"")
                    && l.contains("\"status\":\"completed\"")
            }),
        ),
        (
            "tool_calls_long",
            line_where(|l| l.contains("code_interpreter") && l.len() > 1500),
        ),
        (
            "failed",
            line_where(|l| l.contains("\"status\":\"failed\"") && l.contains("last_error\":{")),
        ),
        (
            "response_function_call",
            responses(200, 3)
                .split(|&b| b == b'\n')
                .find(|l| {
                    let l = std::str::from_utf8(l).unwrap();
                    l.contains("\"function_call\"") && l.contains("\"status\":\"completed\"")
                })
                .expect("a function call in 200 responses")
                .to_vec(),
        ),
    ];
    let mut group = c.benchmark_group("parse_line");
    for (name, line) in cases {
        let mut buf = line.clone();
        buf.extend_from_slice(&[b' '; PADDING]);
        let mut parser = LineParser::new();
        let mut batch = Batch::new();
        group.throughput(Throughput::Bytes(line.len() as u64));
        group.bench_function(name, |b| {
            b.iter(|| {
                // In-place parsing unescapes strings, so restore the line each time (a
                // memcpy of ~1 KB, as the engine's per-chunk copy does).
                buf[..line.len()].copy_from_slice(&line);
                let r = parser.parse_line(&mut buf, line.len(), &mut batch);
                if batch.is_full() {
                    batch.clear();
                }
                black_box(r.is_ok())
            })
        });
    }
    group.finish();
}

fn build_batches(c: &mut Criterion) {
    let data = corpus(20_000, 5);
    let mut group = c.benchmark_group("batch_build");
    group.throughput(Throughput::Bytes(data.len() as u64));
    group.bench_function("20k_lines", |b| {
        let mut tape = common::TapePath::default();
        b.iter(|| black_box(tape.parse_chunk(&data)))
    });
    // Responses of about the same bytes: what a line costs per byte in each API.
    let data = responses(12_000, 5);
    group.throughput(Throughput::Bytes(data.len() as u64));
    group.bench_function("responses_12k_lines", |b| {
        let mut tape = common::TapePath::default();
        b.iter(|| black_box(tape.parse_chunk(&data)))
    });
    group.finish();
}

fn full_batch() -> Batch {
    let data = corpus(Batch::CAPACITY as u64, 9);
    let mut buf = data.clone();
    buf.extend_from_slice(&[b' '; PADDING]);
    let mut parser = LineParser::new();
    let mut batch = Batch::new();
    let mut lines = LineIndex::new();
    lines.build(&buf[..data.len()], true);
    for i in 0..lines.len() {
        let line = lines.line(i, &buf[..data.len()]);
        parser
            .parse_line(&mut buf[line.start..], line.len, &mut batch)
            .expect("generated lines are valid");
    }
    batch
}

fn bench_agg<A: Aggregator>(
    group: &mut criterion::BenchmarkGroup<'_, criterion::measurement::WallTime>,
    name: &str,
    batch: &Batch,
) {
    group.bench_function(name, |b| {
        b.iter_batched_ref(
            A::default,
            |agg| agg.update(black_box(batch)),
            BatchSize::SmallInput,
        )
    });
}

fn aggregators(c: &mut Criterion) {
    let batch = full_batch();
    let mut group = c.benchmark_group("aggregate");
    group.throughput(Throughput::Elements(batch.len() as u64));
    bench_agg::<Steps>(&mut group, "steps", &batch);
    bench_agg::<ToolCalls>(&mut group, "tool_calls", &batch);
    bench_agg::<Failures>(&mut group, "failures", &batch);
    bench_agg::<Durations>(&mut group, "durations", &batch);
    bench_agg::<Usage>(&mut group, "usage", &batch);
    group.finish();
}

fn end_to_end(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("bench.jsonl");
    let data = corpus(100_000, 1);
    std::fs::write(&path, &data).expect("write corpus");
    let inputs = [InputSpec::Path(path)];
    let mut group = c.benchmark_group("end_to_end");
    group.sample_size(10);
    group.throughput(Throughput::Bytes(data.len() as u64));
    for threads in [1, 2] {
        for mmap in [true, false] {
            let cfg = Config {
                threads,
                mmap,
                ..Config::default()
            };
            let name = format!("{}t_{}", threads, if mmap { "mmap" } else { "read" });
            group.bench_function(name, |b| {
                b.iter(|| engine::summarize(&inputs, &cfg).expect("summary"))
            });
        }
    }
    // The default summary of responses (chains resolved into runs), 2 threads.
    let path = dir.path().join("responses.jsonl");
    let data = responses(70_000, 1);
    std::fs::write(&path, &data).expect("write corpus");
    let inputs = [InputSpec::Path(path)];
    group.throughput(Throughput::Bytes(data.len() as u64));
    let cfg = Config {
        threads: 2,
        ..Config::default()
    };
    group.bench_function("responses_2t", |b| {
        b.iter(|| engine::summarize(&inputs, &cfg).expect("summary"))
    });
    group.finish();
}

criterion_group!(benches, parse_lines, build_batches, aggregators, end_to_end);
criterion_main!(benches);
