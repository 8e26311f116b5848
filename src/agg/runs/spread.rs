//! How a figure spreads over runs (or threads): nearest-rank percentiles by selection.

use crate::report;

/// How `values` spread: count, min, mean, nearest-rank p50/p90/p99 (the ⌈n·q⌉-th
/// smallest), max. Reorders `values` (selecting each rank, not sorting them all).
pub fn spread(values: &mut [u64]) -> report::Spread {
    let n = values.len();
    if n == 0 {
        return report::Spread::default();
    }
    let sum: u128 = values.iter().map(|&v| u128::from(v)).sum();
    let min = values.iter().copied().min();
    let max = values.iter().copied().max();
    // Ranks in increasing order: each selection leaves the larger values to its right.
    let mut from = 0;
    let mut at = |num: usize| {
        let k = (n * num).div_ceil(100).max(1) - 1;
        let (_, v, _) = values[from..].select_nth_unstable(k - from);
        let v = *v;
        from = k;
        v
    };
    let (p50, p90, p99) = (at(50), at(90), at(99));
    report::Spread {
        count: n as u64,
        min,
        mean: Some(sum as f64 / n as f64),
        p50: Some(p50),
        p90: Some(p90),
        p99: Some(p99),
        max,
    }
}
