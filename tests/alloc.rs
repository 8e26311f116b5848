//! Proves the hot path allocates nothing per line: after one warm-up pass (which meets
//! every string, grows every buffer and creates every map key), parsing and aggregating
//! the same lines again performs zero heap allocations.
//!
//! A separate test binary because it installs a global allocator.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use steplog::agg::Summary;
use steplog::batch::Batch;
use steplog::generate::Generator;
use steplog::parse::{LineIndex, LineParser, PADDING};

struct Counting;

thread_local! {
    static COUNTING: Cell<bool> = const { Cell::new(false) };
    static ALLOCS: Cell<u64> = const { Cell::new(0) };
}

fn note() {
    // `try_with`: thread-local storage may be gone while a thread shuts down.
    let _ = COUNTING.try_with(|c| {
        if c.get() {
            let _ = ALLOCS.try_with(|a| a.set(a.get() + 1));
        }
    });
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

/// A worker's reusable state, as the engine keeps it.
#[derive(Default)]
struct Worker {
    buf: Vec<u8>,
    index: LineIndex,
    parser: LineParser,
    batch: Batch,
    group_rows: Batch,
    summary: Summary,
}

impl Worker {
    /// One pass of the worker loop: parse every line, flush full batches to the summary.
    fn pass(&mut self, data: &[u8]) -> u64 {
        let Worker {
            buf,
            index,
            parser,
            batch,
            group_rows,
            summary,
        } = self;
        buf.clear();
        buf.extend_from_slice(data);
        buf.extend_from_slice(&[b' '; PADDING]);
        index.build(&buf[..data.len()], true);
        let mut lines = 0;
        for i in 0..index.len() {
            let line = index.line(i, &buf[..data.len()]);
            lines += 1;
            if line.blank {
                continue;
            }
            let _ = parser.parse_line(&mut buf[line.start..], line.len, batch);
            if batch.is_full() {
                summary.update(batch, group_rows);
                batch.clear();
            }
        }
        summary.update(batch, group_rows);
        batch.clear();
        lines
    }
}

#[test]
fn parsing_and_aggregating_allocate_nothing_per_line() {
    let mut data = Vec::new();
    let mut generator = Generator::new(11);
    for i in 0..30_000 {
        generator.line(&mut data);
        // Deltas, blank lines and malformed lines take their own paths.
        match i % 1000 {
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
    let mut worker = Worker::default();
    let warm = worker.pass(&data);

    COUNTING.with(|c| c.set(true));
    let lines = worker.pass(&data);
    COUNTING.with(|c| c.set(false));
    let allocs = ALLOCS.with(|a| a.get());

    assert_eq!(lines, warm);
    assert!(lines > 30_000);
    assert_eq!(
        allocs, 0,
        "{allocs} allocations while parsing and aggregating {lines} lines"
    );
    // The second pass really did the work.
    let report = worker.summary.finish(&[]);
    assert_eq!(report.sections.steps.total, 2 * 30_000);
}
