//! The orders real logs come in, for benchmarks and tests: the same kind of steps written
//! as a list export (each run's steps together), as a service logs them (the steps of
//! many concurrent runs interleaved by `created_at`), as merged exports hold them
//! (shuffled), or one step per run.
//!
//! Each order stresses another part of a summary: runs written together keep one run hot
//! at a time; interleaved runs keep thousands open at once; shuffled steps touch a random
//! run for every line; one step per run makes the run table as large as the input.

use super::{Generator, Rng};
use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::io::{self, Write};

/// The runs in flight at once in [`Order::Interleaved`], unless told otherwise: about what
/// a busy service has open.
pub const DEFAULT_IN_FLIGHT: usize = 5_000;

/// How the steps of runs are laid out in a corpus.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Order {
    /// Each run's steps together, runs one after another (a list-steps export).
    Grouped,
    /// `in_flight` runs (and their threads) under way at once, their steps written in
    /// `created_at` order (a service's log).
    Interleaved {
        /// Runs under way at once.
        in_flight: usize,
    },
    /// The grouped corpus in a random order (merged or re-sorted exports).
    Shuffled,
    /// Every step is a run of its own.
    Single,
}

impl Order {
    /// The order called `name` (`grouped`, `interleaved`, `shuffled`, `single`), with
    /// `in_flight` runs at once when interleaved.
    pub fn parse(name: &str, in_flight: usize) -> Option<Order> {
        Some(match name {
            "grouped" => Order::Grouped,
            "interleaved" => Order::Interleaved {
                in_flight: in_flight.max(1),
            },
            "shuffled" => Order::Shuffled,
            "single" => Order::Single,
            _ => return None,
        })
    }
}

/// Writes `lines` lines of `generator`'s corpus in `order` to `out`, and the run objects
/// to `runs` when the generator writes them; returns the bytes of each.
///
/// [`Order::Shuffled`] holds the whole corpus in memory to shuffle it (about 900 bytes a
/// line); the others hold a line (or one per run in flight) at a time.
pub fn write_corpus<W: Write, R: Write>(
    mut generator: Generator,
    lines: u64,
    order: Order,
    out: W,
    runs: R,
) -> io::Result<(u64, u64)> {
    match order {
        Order::Grouped => generator.write_with_runs(lines, out, runs),
        Order::Single => generator.one_step_runs().write_with_runs(lines, out, runs),
        Order::Interleaved { in_flight } => interleaved(&generator, lines, in_flight, out, runs),
        Order::Shuffled => {
            let mut all = Vec::new();
            let (_, run_bytes) = generator.write_with_runs(lines, &mut all, runs)?;
            Ok((shuffled(&all, generator.rng.0, out)?, run_bytes))
        }
    }
}

/// `in_flight` independent writers sharing assistants and models, merged by the
/// `created_at` of each one's next line (ties by writer).
fn interleaved<W: Write, R: Write>(
    base: &Generator,
    lines: u64,
    in_flight: usize,
    out: W,
    runs: R,
) -> io::Result<(u64, u64)> {
    let mut out = io::BufWriter::with_capacity(1 << 20, out);
    let mut runs = io::BufWriter::with_capacity(1 << 20, runs);
    let lanes = in_flight.clamp(1, usize::try_from(lines).unwrap_or(usize::MAX).max(1));
    let mut writers: Vec<Generator> = (0..lanes as u64).map(|l| base.lane(l)).collect();
    let mut next: Vec<Vec<u8>> = vec![Vec::new(); lanes];
    let mut heap = BinaryHeap::with_capacity(lanes);
    let (mut bytes, mut run_bytes) = (0u64, 0u64);
    let mut step = |g: &mut Generator, buf: &mut Vec<u8>, runs: &mut dyn Write| {
        buf.clear();
        g.line(buf);
        run_bytes += g.write_runs(runs)?;
        io::Result::Ok(g.created())
    };
    for (lane, (g, buf)) in writers.iter_mut().zip(&mut next).enumerate() {
        heap.push(Reverse((step(g, buf, &mut runs)?, lane)));
    }
    for _ in 0..lines {
        let Some(Reverse((_, lane))) = heap.pop() else {
            break;
        };
        bytes += next[lane].len() as u64;
        out.write_all(&next[lane])?;
        let created = step(&mut writers[lane], &mut next[lane], &mut runs)?;
        heap.push(Reverse((created, lane)));
    }
    out.flush()?;
    runs.flush()?;
    Ok((bytes, run_bytes))
}

/// Writes the lines of `all` in a random order drawn from `seed` (Fisher–Yates).
pub(super) fn shuffled<W: Write>(all: &[u8], seed: u64, out: W) -> io::Result<u64> {
    let mut starts: Vec<usize> = Vec::new();
    let mut at = 0;
    for end in memchr::memchr_iter(b'\n', all) {
        starts.push(at);
        at = end + 1;
    }
    let mut rng = Rng(seed ^ 0x5EED_5A0F_F1E5);
    for i in (1..starts.len()).rev() {
        let j = (rng.next() % (i as u64 + 1)) as usize;
        starts.swap(i, j);
    }
    let mut out = io::BufWriter::with_capacity(1 << 20, out);
    for &s in &starts {
        let end = memchr::memchr(b'\n', &all[s..]).map_or(all.len(), |e| s + e + 1);
        out.write_all(&all[s..end])?;
    }
    out.flush()?;
    Ok(all.len() as u64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::{BTreeMap, BTreeSet};

    fn corpus(order: Order, n: u64) -> Vec<serde_json::Value> {
        let mut out = Vec::new();
        write_corpus(Generator::new(3), n, order, &mut out, io::sink()).unwrap();
        String::from_utf8(out)
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    }

    fn runs(steps: &[serde_json::Value]) -> BTreeMap<String, usize> {
        let mut m = BTreeMap::new();
        for s in steps {
            *m.entry(s["run_id"].as_str().unwrap().to_string())
                .or_default() += 1;
        }
        m
    }

    /// How many times consecutive lines change run.
    fn switches(steps: &[serde_json::Value]) -> usize {
        steps
            .windows(2)
            .filter(|w| w[0]["run_id"] != w[1]["run_id"])
            .count()
    }

    #[test]
    fn each_order_lays_out_the_runs_as_it_says() {
        let n = 3000;
        let grouped = corpus(Order::Grouped, n);
        let shuffled = corpus(Order::Shuffled, n);
        let single = corpus(Order::Single, n);
        let interleaved = corpus(Order::Interleaved { in_flight: 200 }, n);
        for c in [&grouped, &shuffled, &single, &interleaved] {
            assert_eq!(c.len(), n as usize);
        }
        // The same steps, in another order.
        let ids = |c: &[serde_json::Value]| -> BTreeSet<String> {
            c.iter().map(|s| s["id"].as_str().unwrap().into()).collect()
        };
        assert_eq!(ids(&grouped), ids(&shuffled));
        assert_eq!(runs(&grouped), runs(&shuffled));
        // Grouped: a run's steps are together, so the run changes once per run.
        assert_eq!(switches(&grouped) + 1, runs(&grouped).len());
        assert!(runs(&grouped).len() < n as usize / 3);
        // Shuffled: almost every line is another run's.
        assert!(switches(&shuffled) > n as usize * 3 / 4);
        // Single: as many runs as steps.
        assert_eq!(runs(&single).len(), n as usize);
        // Interleaved: runs of several steps, in created_at order, many at once.
        let created: Vec<i64> = interleaved
            .iter()
            .map(|s| s["created_at"].as_i64().unwrap())
            .collect();
        assert!(created.windows(2).all(|w| w[0] <= w[1]));
        assert!(runs(&interleaved).len() < n as usize / 2);
        assert!(switches(&interleaved) > n as usize * 3 / 4);
        let threads: BTreeSet<&str> = interleaved[..200]
            .iter()
            .map(|s| s["thread_id"].as_str().unwrap())
            .collect();
        assert!(threads.len() > 50, "{} threads at once", threads.len());
    }

    #[test]
    fn every_order_is_reproducible() {
        for order in [
            Order::Grouped,
            Order::Shuffled,
            Order::Single,
            Order::Interleaved { in_flight: 7 },
        ] {
            let (mut a, mut b) = (Vec::new(), Vec::new());
            write_corpus(Generator::new(9), 500, order, &mut a, io::sink()).unwrap();
            write_corpus(Generator::new(9), 500, order, &mut b, io::sink()).unwrap();
            assert_eq!(a, b, "{order:?}");
        }
    }
}
