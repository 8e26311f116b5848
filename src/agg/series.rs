//! Time series: steps, failures (by error code) and tokens per hour of `created_at`.
//!
//! Hours are the unit kept; days are folded from them when the report asks for days, so a
//! merged state can be rendered either way. A batch is usually a run of nearby times, so
//! rows are summed locally while the hour stays the same.

use super::{add, Aggregator, Overflow, NONE_KEY};
use crate::batch::{is_failure, Batch, Code, NULL, UNDATED};
use crate::report::{self, format_utc};
use std::collections::BTreeMap;

/// Seconds per hour.
const HOUR: i64 = 3600;

/// The bucket width of a rendered series.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub enum Interval {
    /// One bucket per UTC hour.
    Hour,
    /// One bucket per UTC day (the default).
    #[default]
    Day,
}

impl Interval {
    /// Seconds per bucket.
    pub fn seconds(self) -> i64 {
        match self {
            Interval::Hour => HOUR,
            Interval::Day => 24 * HOUR,
        }
    }

    /// The name reports use.
    pub fn as_str(self) -> &'static str {
        match self {
            Interval::Hour => "hour",
            Interval::Day => "day",
        }
    }

    /// The interval called `name` (as [`Interval::as_str`] writes it).
    pub fn parse(name: &str) -> Option<Interval> {
        match name {
            "hour" => Some(Interval::Hour),
            "day" => Some(Interval::Day),
            _ => None,
        }
    }
}

/// What one bucket holds.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Bucket {
    /// Records created in the bucket.
    pub steps: u64,
    /// Of which failed.
    pub failed: u64,
    /// Failed steps by error code.
    pub failures_by_code: BTreeMap<String, u64>,
    /// Sum of `prompt_tokens`.
    pub prompt_tokens: u64,
    /// Sum of `completion_tokens`.
    pub completion_tokens: u64,
    /// Sum of `total_tokens`.
    pub total_tokens: u64,
}

impl Bucket {
    /// Adds `other`, or names the figure that would not fit; counts the error codes it
    /// adds in `codes`.
    fn add(&mut self, other: &Bucket, codes: &mut Codes) -> Result<(), Overflow> {
        add(&mut self.steps, other.steps, "time_series.steps")?;
        add(&mut self.failed, other.failed, "time_series.failed")?;
        for (k, v) in &other.failures_by_code {
            add_count(&mut self.failures_by_code, k, *v, codes)?;
        }
        add(
            &mut self.prompt_tokens,
            other.prompt_tokens,
            "time_series.prompt_tokens",
        )?;
        let completion = other.completion_tokens;
        add(
            &mut self.completion_tokens,
            completion,
            "time_series.completion_tokens",
        )?;
        add(
            &mut self.total_tokens,
            other.total_tokens,
            "time_series.total_tokens",
        )
    }
}

/// Error codes held across the buckets: entries, and the bytes of their keys.
#[derive(Debug, Clone, Copy, Default)]
struct Codes {
    entries: usize,
    bytes: usize,
}

/// Adds `n` under `key`, allocating only for a key not seen before (counted in `codes`).
fn add_count(
    map: &mut BTreeMap<String, u64>,
    key: &str,
    n: u64,
    codes: &mut Codes,
) -> Result<(), Overflow> {
    match map.get_mut(key) {
        Some(v) => add(v, n, "time_series.failures_by_code"),
        None => {
            codes.entries += 1;
            codes.bytes += key.len();
            map.insert(key.to_string(), n);
            Ok(())
        }
    }
}

/// Hourly buckets of `created_at` (keyed by hours since the epoch).
#[derive(Debug, Clone, Default)]
pub struct TimeSeries {
    pub(crate) hours: BTreeMap<i64, Bucket>,
    /// The error codes the buckets hold (for the memory budget).
    codes: Codes,
    /// Failures by error code of the run of rows being summed (empty between batches).
    run_codes: Vec<(Code, u64)>,
    overflow: Option<Overflow>,
    /// A batch's sums per hour, from its earliest hour (reused from batch to batch).
    dense: Vec<Run>,
    /// A batch's failures: (hour from its earliest, error code).
    failed: Vec<(u32, Code)>,
    /// A batch's rows by hour, when it spans too many for `dense`.
    order: Vec<(i64, u32)>,
}

impl PartialEq for TimeSeries {
    /// The buckets and any overflow (not the scratch space of an update).
    fn eq(&self, other: &Self) -> bool {
        self.hours == other.hours && self.overflow == other.overflow
    }
}

impl Eq for TimeSeries {}

/// The widest hour range a batch is summed in densely (about six months): a batch of a
/// log in any order spans far fewer; one that spans more (a shuffled log of years) is
/// summed in hour order.
const DENSE_HOURS: i64 = 4096;

/// The rows of one hour in a batch, summed before they reach the map.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct Run {
    steps: u64,
    failed: u64,
    prompt_tokens: u64,
    completion_tokens: u64,
    total_tokens: u64,
    /// A token sum of the run that did not fit.
    overflow: Option<Overflow>,
}

impl TimeSeries {
    /// Bytes its buckets hold, about (for the memory budget): a bucket per hour and an
    /// entry per error code in one.
    pub fn held_bytes(&self) -> usize {
        self.hours.len() * (std::mem::size_of::<Bucket>() + 48)
            + super::tally::map_bytes(self.codes.entries, self.codes.bytes, 8)
    }

    /// Counts the error codes of buckets read back from a state.
    pub(crate) fn recount(&mut self) {
        let maps = self.hours.values().map(|b| &b.failures_by_code);
        self.codes = Codes {
            entries: maps.clone().map(BTreeMap::len).sum(),
            bytes: maps.map(super::tally::key_bytes).sum(),
        };
    }
}

impl TimeSeries {
    /// The series in buckets of `interval`, oldest first; empty buckets are left out.
    /// `costs` (per hour since the epoch), when kept, give each bucket its cost.
    pub fn finish_as(
        &self,
        interval: Interval,
        costs: Option<&BTreeMap<u32, (report::Usd, u64)>>,
    ) -> report::TimeSeries {
        let mut cost: BTreeMap<i64, (report::Usd, u64)> = BTreeMap::new();
        for (&hour, &(usd, unpriced)) in costs.into_iter().flatten() {
            let start =
                (i64::from(hour) * HOUR).div_euclid(interval.seconds()) * interval.seconds();
            let c = cost.entry(start).or_default();
            // A bucket's cost is at most the total, which fits (it was summed checked).
            c.0 = c.0.checked_add(usd).unwrap_or(report::Usd(u128::MAX));
            c.1 = c.1.saturating_add(unpriced);
        }
        let mut folded: BTreeMap<i64, Bucket> = BTreeMap::new();
        for (&hour, b) in &self.hours {
            let start = (hour * HOUR).div_euclid(interval.seconds()) * interval.seconds();
            // A day's sums are at most the whole input's, which fit (they are checked).
            let _fits = folded
                .entry(start)
                .or_default()
                .add(b, &mut Codes::default());
        }
        report::TimeSeries {
            interval: interval.as_str().to_string(),
            buckets: folded
                .into_iter()
                .map(|(start, b)| report::TimeBucket {
                    start,
                    start_utc: format_utc(start),
                    steps: b.steps,
                    failed: b.failed,
                    failures_by_code: b.failures_by_code,
                    prompt_tokens: b.prompt_tokens,
                    completion_tokens: b.completion_tokens,
                    total_tokens: b.total_tokens,
                    cost_usd: costs.map(|_| cost.get(&start).map(|c| c.0).unwrap_or_default()),
                    unpriced_steps: costs.map(|_| cost.get(&start).map_or(0, |c| c.1)),
                })
                .collect(),
        }
    }
}

impl TimeSeries {
    fn flush(&mut self, hour: i64, r: Run, batch: &Batch) {
        let b = self.hours.entry(hour).or_default();
        let mut result = add(&mut b.steps, r.steps, "time_series.steps")
            .and(add(&mut b.failed, r.failed, "time_series.failed"))
            .and(r.overflow.map_or(Ok(()), Err))
            .and(add(
                &mut b.prompt_tokens,
                r.prompt_tokens,
                "time_series.prompt_tokens",
            ))
            .and(add(
                &mut b.completion_tokens,
                r.completion_tokens,
                "time_series.completion_tokens",
            ))
            .and(add(
                &mut b.total_tokens,
                r.total_tokens,
                "time_series.total_tokens",
            ));
        for (code, n) in self.run_codes.drain(..) {
            let key = if code == NULL {
                NONE_KEY
            } else {
                batch.dicts.error_code.get(code)
            };
            result = result.and(add_count(&mut b.failures_by_code, key, n, &mut self.codes));
        }
        self.overflow = self.overflow.or(result.err());
    }
}

impl Run {
    /// Adds row `i`'s tokens, when it has usage; a sum that would not fit is kept to be
    /// told.
    #[inline]
    fn add_usage(&mut self, batch: &Batch, i: usize) {
        if !batch.has_usage.get(i) {
            return;
        }
        let sums = add(
            &mut self.prompt_tokens,
            batch.prompt_tokens.values()[i],
            "time_series.prompt_tokens",
        )
        .and(add(
            &mut self.completion_tokens,
            batch.completion_tokens.values()[i],
            "time_series.completion_tokens",
        ))
        .and(add(
            &mut self.total_tokens,
            batch.total_tokens.values()[i],
            "time_series.total_tokens",
        ));
        self.overflow = self.overflow.or(sums.err());
    }
}

impl TimeSeries {
    /// Sums the batch per hour in a dense array from its earliest hour, then adds each
    /// hour to the map once: a shuffled log's batch touches the map once per hour it
    /// spans, not once per row. `None` when the batch spans too many hours.
    fn update_dense(&mut self, batch: &Batch) -> Option<()> {
        let created = &batch.created_at[..batch.len()];
        // Undated rows (failed batch requests) are in no hour.
        let (lo, hi) =
            created
                .iter()
                .filter(|&&c| c != UNDATED)
                .fold((i64::MAX, i64::MIN), |(lo, hi), &c| {
                    let h = c.div_euclid(HOUR);
                    (lo.min(h), hi.max(h))
                });
        if hi.checked_sub(lo)? >= DENSE_HOURS {
            return None;
        }
        let mut dense = std::mem::take(&mut self.dense);
        dense.clear();
        dense.resize((hi - lo + 1) as usize, Run::default());
        self.failed.clear();
        for (i, &c) in created.iter().enumerate() {
            if c == UNDATED {
                continue;
            }
            let at = (c.div_euclid(HOUR) - lo) as usize;
            let r = &mut dense[at];
            r.steps += 1;
            if is_failure(batch.status[i]) {
                r.failed += 1;
                self.failed.push((at as u32, batch.error_code[i]));
            }
            r.add_usage(batch, i);
        }
        self.failed.sort_unstable();
        let mut failed = std::mem::take(&mut self.failed);
        let mut codes = failed.iter().peekable();
        for (at, r) in dense.iter_mut().enumerate() {
            if r.steps == 0 {
                continue;
            }
            while let Some(&(_, code)) = codes.next_if(|(h, _)| *h as usize == at) {
                match self.run_codes.last_mut() {
                    Some((c, n)) if *c == code => *n += 1,
                    _ => self.run_codes.push((code, 1)),
                }
            }
            self.flush(lo + at as i64, std::mem::take(r), batch);
        }
        failed.clear();
        self.failed = failed;
        self.dense = dense;
        Some(())
    }
}

impl Aggregator for TimeSeries {
    type Output = report::TimeSeries;

    fn update(&mut self, batch: &Batch) {
        if self.update_dense(batch).is_some() {
            return;
        }
        // A batch spanning more hours than the dense array holds (a shuffled log of
        // years): its rows are visited in hour order, each hour's summed locally and added
        // to the map once, so the map is touched once per hour the batch spans, not once
        // per row, and nothing is allocated once every hour and error code has been seen.
        let mut order = std::mem::take(&mut self.order);
        order.clear();
        order.extend(
            (0..batch.len())
                .filter(|&i| !batch.undated(i))
                .map(|i| (batch.created_at[i].div_euclid(HOUR), i as u32)),
        );
        order.sort_unstable();
        let mut run: Option<(i64, Run)> = None;
        for &(hour, i) in &order {
            let i = i as usize;
            if run.as_ref().is_some_and(|(h, _)| *h != hour) {
                let (h, r) = run.take().expect("checked");
                self.flush(h, r, batch);
            }
            let r = &mut run.get_or_insert_with(|| (hour, Run::default())).1;
            r.steps += 1;
            if is_failure(batch.status[i]) {
                r.failed += 1;
                let code = batch.error_code[i];
                match self.run_codes.iter_mut().find(|(c, _)| *c == code) {
                    Some((_, n)) => *n += 1,
                    None => self.run_codes.push((code, 1)),
                }
            }
            r.add_usage(batch, i);
        }
        if let Some((h, r)) = run {
            self.flush(h, r, batch);
        }
        self.order = order;
    }

    fn merge(&mut self, other: Self) -> Result<(), Overflow> {
        for (h, b) in other.hours {
            match self.hours.get_mut(&h) {
                Some(mine) => mine.add(&b, &mut self.codes)?,
                None => {
                    self.codes.entries += b.failures_by_code.len();
                    self.codes.bytes += super::tally::key_bytes(&b.failures_by_code);
                    self.hours.insert(h, b);
                }
            }
        }
        Ok(())
    }

    fn overflow(&self) -> Option<Overflow> {
        self.overflow
    }

    fn finish(&self) -> report::TimeSeries {
        self.finish_as(Interval::Day, None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::agg::testutil::{batch, step};
    use std::collections::BTreeSet;

    #[test]
    fn buckets_by_hour_and_day_and_merges() {
        let t0 = 1_700_000_000 - 1_700_000_000 % 86_400; // a midnight
        let lines = [
            step(
                "completed",
                t0 + 10,
                r#""usage":{"prompt_tokens":1,"completion_tokens":2,"total_tokens":3}"#,
            ),
            step("failed", t0 + 20, r#""last_error":{"code":"server_error"}"#),
            step("failed", t0 + 3700, ""),
            step("completed", t0 + 86_400 + 5, ""),
        ];
        let lines: Vec<&str> = lines.iter().map(String::as_str).collect();
        let mut whole = TimeSeries::default();
        whole.update(&batch(&lines));
        let hours = whole.finish_as(Interval::Hour, None);
        assert_eq!(hours.interval, "hour");
        let starts: Vec<i64> = hours.buckets.iter().map(|b| b.start).collect();
        assert_eq!(starts, vec![t0, t0 + 3600, t0 + 86_400]);
        assert_eq!(hours.buckets[0].steps, 2);
        assert_eq!(hours.buckets[0].failures_by_code["server_error"], 1);
        assert_eq!(hours.buckets[1].failures_by_code["(none)"], 1);
        let days = whole.finish_as(Interval::Day, None);
        assert_eq!(days.buckets.len(), 2);
        assert_eq!((days.buckets[0].steps, days.buckets[0].failed), (3, 2));
        assert_eq!(days.buckets[0].total_tokens, 3);
        assert!(days.buckets[1].start_utc.ends_with("T00:00:00Z"));

        let (mut a, mut b) = (TimeSeries::default(), TimeSeries::default());
        a.update(&batch(&lines[..2]));
        b.update(&batch(&lines[2..]));
        b.merge(a).unwrap();
        assert_eq!(b, whole);
    }

    #[test]
    fn a_batch_spanning_years_in_any_order_sums_as_its_rows_one_by_one() {
        // 400 rows over ten years, shuffled, with failures by several codes and usage: one
        // batch takes the path in hour order (it spans more than the dense array holds),
        // one batch a row takes the dense path; the buckets agree.
        let t0: i64 = 1_600_000_000;
        let codes = ["server_error", "rate_limit_exceeded", "invalid_prompt"];
        let lines: Vec<String> = (0..400i64)
            .map(|k| {
                let at = t0 + (k * 7_919 % 400) * 790_000 + k % 3 * 1_800;
                match k % 5 {
                    0 => step("failed", at, &format!(r#""last_error":{{"code":"{}"}}"#, codes[k as usize % 3])),
                    1 => step("failed", at, ""),
                    _ => step("completed", at, &format!(r#""usage":{{"prompt_tokens":{k},"completion_tokens":2,"total_tokens":{}}}"#, k + 2)),
                }
            })
            .collect();
        let hours: BTreeSet<i64> = lines
            .iter()
            .map(|l| {
                serde_json::from_str::<serde_json::Value>(l).unwrap()["created_at"]
                    .as_i64()
                    .unwrap()
                    / HOUR
            })
            .collect();
        assert!(hours.last().unwrap() - hours.first().unwrap() > DENSE_HOURS);
        let [whole, merged] = crate::agg::testutil::whole_and_merged::<TimeSeries>(&lines);
        assert_eq!(whole, merged);
        let report = whole.finish_as(Interval::Hour, None);
        assert_eq!(report.buckets.len(), hours.len());
        assert_eq!(report.buckets.iter().map(|b| b.steps).sum::<u64>(), 400);
        assert_eq!(report.buckets.iter().map(|b| b.failed).sum::<u64>(), 160);
        let by_code: u64 = report
            .buckets
            .iter()
            .map(|b| b.failures_by_code.get("server_error").copied().unwrap_or(0))
            .sum();
        assert_eq!(by_code, 27);
    }
}
