//! `steplog bench`: the full pipeline run several times on the same inputs, timed overall
//! and per stage, for people who measure parse throughput.
//!
//! Every run is a complete summary (the same work `steplog summary` does, minus rendering).
//! Wall time is taken around the engine; stage times come from the engine's own
//! [`Timings`], which are measured per chunk and per batch, so they cost nothing per line.
//! The first `warmup` runs fill the page cache and are not counted.

use crate::engine::{self, Config, Timings};
use crate::input::InputSpec;
use crate::report::LineCounts;
use serde::Serialize;
use std::time::{Duration, Instant};

/// Why a benchmark could not run.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A run failed.
    #[error(transparent)]
    Engine(#[from] engine::Error),
    /// Standard input cannot be read twice.
    #[error("a benchmark reads its inputs several times: give files, not standard input")]
    Stdin,
    /// An input changed size or content between runs.
    #[error("the inputs changed between benchmark runs; benchmark files that stay still")]
    InputChanged,
}

/// How a benchmark runs.
#[derive(Debug, Clone)]
pub struct BenchConfig {
    /// The engine settings of every run.
    pub engine: Config,
    /// Measured runs (at least one).
    pub runs: usize,
    /// Uncounted runs before them.
    pub warmup: usize,
}

/// One measured run.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Sample {
    /// Wall-clock seconds for the whole run.
    pub wall_seconds: f64,
    /// Producer-thread seconds in the input (see [`Timings::read`]).
    pub read_seconds: f64,
    /// Worker seconds copying chunks and finding lines, summed over workers.
    pub split_seconds: f64,
    /// Worker seconds parsing lines into batches, summed over workers.
    pub parse_seconds: f64,
    /// Worker seconds in the aggregators, plus the final merge.
    pub aggregate_seconds: f64,
}

impl Sample {
    fn new(wall: Duration, t: &Timings) -> Sample {
        Sample {
            wall_seconds: wall.as_secs_f64(),
            read_seconds: t.read.as_secs_f64(),
            split_seconds: t.split.as_secs_f64(),
            parse_seconds: t.parse.as_secs_f64(),
            aggregate_seconds: t.aggregate.as_secs_f64(),
        }
    }
}

/// Minimum, median and maximum of a measurement over the runs.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Spread {
    /// Smallest value.
    pub min: f64,
    /// Median (the mean of the middle two for an even count).
    pub median: f64,
    /// Largest value.
    pub max: f64,
}

impl Spread {
    fn of(mut values: Vec<f64>) -> Spread {
        values.sort_by(f64::total_cmp);
        let n = values.len();
        let median = if n % 2 == 1 {
            values[n / 2]
        } else {
            (values[n / 2 - 1] + values[n / 2]) / 2.0
        };
        Spread {
            min: values[0],
            median,
            max: values[n - 1],
        }
    }
}

/// One stage's share of the work, from the median run.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StageStats {
    /// `read`, `split`, `parse` or `aggregate`.
    pub stage: &'static str,
    /// Seconds spent in the stage (summed over workers), median over runs.
    pub seconds: Spread,
    /// Share of all stage seconds in the median run.
    pub share: f64,
    /// Input bytes per second of stage time: the stage's speed on one core.
    pub bytes_per_second_per_core: f64,
}

/// Everything `steplog bench` reports.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BenchReport {
    /// Version of this layout.
    pub schema_version: u32,
    /// Input names, in order.
    pub files: Vec<String>,
    /// Input bytes per run.
    pub bytes: u64,
    /// Line accounting of one run (every run gives the same).
    #[serde(flatten)]
    pub counts: LineCounts,
    /// Worker threads.
    pub threads: usize,
    /// Whether files were memory-mapped.
    pub mmap: bool,
    /// Target chunk size in bytes.
    pub chunk_size: usize,
    /// Uncounted warm-up runs.
    pub warmup_runs: usize,
    /// Wall-clock seconds per run.
    pub wall_seconds: Spread,
    /// Input bytes per wall-clock second (from the fastest, median and slowest run).
    pub bytes_per_second: Spread,
    /// Lines per wall-clock second (likewise).
    pub lines_per_second: Spread,
    /// Per-stage time, in pipeline order.
    pub stages: Vec<StageStats>,
    /// Every measured run, in order.
    pub samples: Vec<Sample>,
}

/// Runs the benchmark. Inputs are read `warmup + runs` times, so standard input is refused.
pub fn run(inputs: &[InputSpec], cfg: &BenchConfig) -> Result<BenchReport, Error> {
    if inputs.is_empty() || inputs.iter().any(|i| matches!(i, InputSpec::Stdin)) {
        return Err(Error::Stdin);
    }
    let runs = cfg.runs.max(1);
    let mut samples = Vec::with_capacity(runs);
    let mut first: Option<(LineCounts, u64, Vec<String>)> = None;
    for i in 0..cfg.warmup + runs {
        let started = Instant::now();
        let outcome = engine::run(inputs, &cfg.engine)?;
        let wall = started.elapsed();
        let counts = outcome.summary.lines.totals().finish();
        let bytes = outcome.summary.files.iter().map(|f| f.bytes).sum();
        match &first {
            None => {
                let names = outcome
                    .summary
                    .files
                    .iter()
                    .map(|f| f.name.clone())
                    .collect();
                first = Some((counts, bytes, names));
            }
            // Inputs that change under the benchmark make its numbers meaningless.
            Some((c, b, _)) if *c != counts || *b != bytes => return Err(Error::InputChanged),
            Some(_) => {}
        }
        if i >= cfg.warmup {
            samples.push(Sample::new(wall, &outcome.timings));
        }
    }
    let (counts, bytes, files) = first.expect("at least one run");
    let wall = Spread::of(samples.iter().map(|s| s.wall_seconds).collect());
    let per_second = |amount: f64| Spread {
        min: amount / wall.max,
        median: amount / wall.median,
        max: amount / wall.min,
    };
    let stage = |name: &'static str, pick: fn(&Sample) -> f64| {
        let seconds = Spread::of(samples.iter().map(pick).collect());
        (name, seconds)
    };
    let stages = [
        stage("read", |s| s.read_seconds),
        stage("split", |s| s.split_seconds),
        stage("parse", |s| s.parse_seconds),
        stage("aggregate", |s| s.aggregate_seconds),
    ];
    let total: f64 = stages.iter().map(|(_, s)| s.median).sum();
    let stages = stages
        .into_iter()
        .map(|(stage, seconds)| StageStats {
            stage,
            seconds,
            share: if total > 0.0 {
                seconds.median / total
            } else {
                0.0
            },
            bytes_per_second_per_core: if seconds.median > 0.0 {
                bytes as f64 / seconds.median
            } else {
                0.0
            },
        })
        .collect();
    Ok(BenchReport {
        schema_version: 1,
        files,
        bytes,
        counts,
        threads: cfg.engine.worker_threads(),
        mmap: cfg.engine.mmap,
        chunk_size: cfg.engine.chunk_size,
        warmup_runs: cfg.warmup,
        wall_seconds: wall,
        bytes_per_second: per_second(bytes as f64),
        lines_per_second: per_second(counts.lines as f64),
        stages,
        samples,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spread_takes_the_middle() {
        let s = Spread::of(vec![3.0, 1.0, 2.0]);
        assert_eq!((s.min, s.median, s.max), (1.0, 2.0, 3.0));
        assert_eq!(Spread::of(vec![4.0, 1.0, 2.0, 3.0]).median, 2.5);
    }

    #[test]
    fn stdin_is_refused() {
        let cfg = BenchConfig {
            engine: Config::default(),
            runs: 1,
            warmup: 0,
        };
        assert!(matches!(run(&[InputSpec::Stdin], &cfg), Err(Error::Stdin)));
    }
}
