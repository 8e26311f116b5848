//! Proves the engine allocates nothing per line: the real pipeline (planner, producer,
//! worker, sink, merge) runs over ten copies of some lines and over twenty, and the
//! second run may allocate only about once per chunk more than the first, however many
//! more lines it reads; with and without grouping. The lines mix records, deltas, blank, malformed and (with a time window)
//! filtered-out lines, so each of their paths is measured.
//!
//! A separate test binary, with a single test, because it installs a global allocator
//! that counts every thread's allocations.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use steplog::agg::Dim;
use steplog::engine::{self, Config, Window};
use steplog::generate::Generator;
use steplog::input::InputSpec;

struct Counting;

static COUNTING: AtomicBool = AtomicBool::new(false);
static ALLOCS: AtomicU64 = AtomicU64::new(0);

fn note() {
    if COUNTING.load(Ordering::Relaxed) {
        ALLOCS.fetch_add(1, Ordering::Relaxed);
    }
}

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        note();
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        note();
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// Generated records with deltas, blank and malformed lines among them.
fn lines(n: u64) -> Vec<u8> {
    let mut data = Vec::new();
    let mut generator = Generator::new(11);
    for i in 0..n {
        generator.line(&mut data);
        match i % 100 {
            1 => data.extend_from_slice(
                b"{\"id\":\"step_x\",\"object\":\"thread.run.step.delta\",\"delta\":{}}\n",
            ),
            2 => data.extend_from_slice(b"\r\n"),
            3 => data.extend_from_slice(
                b"{\"id\":\"step_y\",\"created_at\":\"late\",\"status\":\"completed\"}\n",
            ),
            4 => data.extend_from_slice(b"{not json\n"),
            _ => {}
        }
    }
    data
}

/// Allocations during one run over `path`, and the lines it read.
fn allocations(path: &std::path::Path, cfg: &Config) -> (u64, u64) {
    ALLOCS.store(0, Ordering::SeqCst);
    COUNTING.store(true, Ordering::SeqCst);
    let outcome = engine::run(&[InputSpec::Path(path.to_path_buf())], cfg).unwrap();
    COUNTING.store(false, Ordering::SeqCst);
    let report = outcome.report();
    let c = report.input.counts;
    assert!(c.deltas > 0 && c.blank_lines > 0 && c.malformed > 0);
    assert!(report.input.filtered_out > 0, "the window leaves lines out");
    assert!(report.sections.steps.total > 0);
    (ALLOCS.load(Ordering::SeqCst), c.lines)
}

#[test]
fn the_engine_allocates_nothing_per_line() {
    let dir = tempfile::tempdir().unwrap();
    let once = lines(400);
    // A hundred copies against two hundred: by then every string has been met and every
    // group has grown to its steady size, so what the next copies cost is what lines cost.
    let (small, large) = (dir.path().join("100.jsonl"), dir.path().join("200.jsonl"));
    std::fs::write(&small, once.repeat(100)).unwrap();
    std::fs::write(&large, once.repeat(200)).unwrap();
    // The generator starts at 2024-01-01 and steps a few seconds apart: this window
    // keeps most steps and leaves the rest out.
    let since = 1_704_067_200 + 600;
    let grouped = vec![Dim::Assistant, Dim::Status];
    for (mmap, group_by) in [(true, vec![]), (false, vec![]), (true, grouped)] {
        let cfg = Config {
            threads: 2,
            chunk_size: 256 << 10,
            mmap,
            window: Window {
                since: Some(since),
                until: None,
            },
            group_by,
            ..Config::default()
        };
        // The fewest of three runs: thread scheduling can add a few allocations to a run
        // (a waiter registering with the channel, a read buffer more in flight), never
        // take any away; an allocation per line would be in every run.
        let fewest = |p: &std::path::Path| {
            let runs: Vec<(u64, u64)> = (0..3).map(|_| allocations(p, &cfg)).collect();
            runs.into_iter().min().unwrap()
        };
        let (a, lines_a) = fewest(&small);
        let (b, lines_b) = fewest(&large);
        assert_eq!(lines_b, 2 * lines_a);
        let extra_lines = lines_b - lines_a;
        let extra_chunks = (100 * once.len() / cfg.chunk_size) as u64;
        let extra = b.saturating_sub(a);
        // Chunk bookkeeping (a line count per chunk, buffers that grow now and then) may
        // allocate: at most once per chunk (of some 300 lines here), never per line.
        assert!(
            extra <= extra_chunks,
            "mmap={mmap}, groups {:?}: {extra} more allocations for {extra_lines} more \
             lines in {extra_chunks} more chunks ({a} for the first {lines_a})",
            cfg.group_by
        );
    }
}
