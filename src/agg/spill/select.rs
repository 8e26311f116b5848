//! How a figure spreads over more runs than memory holds: the values go to a temporary
//! file, and each percentile is selected exactly by radix, 16 bits at a time (a pass
//! counts the next 16 bits of the values that share the bits chosen so far, and keeps
//! the digit where the rank falls). At most four passes, the first skipped for every
//! 16 bits the largest value does not use: steps and tool calls per run take one.

use super::{io_error, Error};
use crate::report;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::os::unix::fs::FileExt;

/// Values written out, with their count, sum, least and greatest.
pub struct Values {
    out: BufWriter<File>,
    n: u64,
    sum: u128,
    min: u64,
    max: u64,
}

/// The percentiles a spread shows.
const PERCENTILES: [u64; 3] = [50, 90, 99];
const DIGIT: u32 = 16;
const DIGITS: usize = 1 << DIGIT;

impl Values {
    /// None yet, in a new temporary file.
    pub fn new() -> Result<Values, Error> {
        Ok(Values {
            out: BufWriter::with_capacity(1 << 16, tempfile::tempfile().map_err(io_error)?),
            n: 0,
            sum: 0,
            min: u64::MAX,
            max: 0,
        })
    }

    /// Adds `v`.
    pub fn push(&mut self, v: u64) -> Result<(), Error> {
        self.out.write_all(&v.to_le_bytes()).map_err(io_error)?;
        self.n += 1;
        self.sum += u128::from(v);
        self.min = self.min.min(v);
        self.max = self.max.max(v);
        Ok(())
    }

    /// Calls `f` with every value, in the order pushed.
    fn each(&mut self, mut f: impl FnMut(u64)) -> Result<(), Error> {
        self.out.flush().map_err(io_error)?;
        let total = self.n * 8;
        let mut buf = vec![0u8; 1 << 20];
        let mut at = 0u64;
        while at < total {
            let len = (total - at).min(buf.len() as u64) as usize;
            self.out
                .get_ref()
                .read_exact_at(&mut buf[..len], at)
                .map_err(io_error)?;
            for v in buf[..len].chunks_exact(8) {
                f(u64::from_le_bytes(v.try_into().unwrap_or_default()));
            }
            at += len as u64;
        }
        Ok(())
    }

    /// Count, least, mean, nearest-rank p50/p90/p99 (the ⌈n·q⌉-th smallest) and greatest:
    /// what [`crate::agg::runs::spread`] gives for the same values.
    pub fn spread(mut self) -> Result<report::Spread, Error> {
        let n = self.n;
        if n == 0 {
            return Ok(report::Spread::default());
        }
        // 0-based ranks.
        let mut ranks = PERCENTILES.map(|q| (n * q).div_ceil(100).max(1) - 1);
        let mut prefixes = [0u64; 3];
        // Digits above the greatest value's highest bit are 0 for every value.
        let used = 64 - self.max.leading_zeros();
        let passes = used.div_ceil(DIGIT).max(1);
        let mut counts = vec![0u64; 3 * DIGITS];
        for pass in (0..passes).rev() {
            let shift = pass * DIGIT;
            counts.fill(0);
            let above = shift + DIGIT;
            self.each(|v| {
                let high = if above >= 64 { 0 } else { v >> above };
                let digit = ((v >> shift) as usize) & (DIGITS - 1);
                for (j, &prefix) in prefixes.iter().enumerate() {
                    if high == prefix {
                        counts[j * DIGITS + digit] += 1;
                    }
                }
            })?;
            for j in 0..3 {
                let mut below = 0u64;
                let counts = &counts[j * DIGITS..][..DIGITS];
                let digit = counts
                    .iter()
                    .position(|&c| {
                        if below + c > ranks[j] {
                            true
                        } else {
                            below += c;
                            false
                        }
                    })
                    .ok_or(Error::Damaged("fewer values than counted"))?;
                ranks[j] -= below;
                prefixes[j] = (prefixes[j] << DIGIT) | digit as u64;
            }
        }
        let [p50, p90, p99] = prefixes;
        Ok(report::Spread {
            count: n,
            min: Some(self.min),
            mean: Some(self.sum as f64 / n as f64),
            p50: Some(p50),
            p90: Some(p90),
            p99: Some(p99),
            max: Some(self.max),
        })
    }
}
