//! `steplog bench`: run the benchmark, print its report as a table or JSON.

use crate::cli::{BenchArgs, FormatArg};
use anyhow::Result;
use std::io::{self, Write};
use steplog::bench::{self, BenchConfig, BenchReport};

/// Runs the benchmark and writes its report to stdout.
pub fn run(args: &BenchArgs) -> Result<()> {
    let cfg = BenchConfig {
        engine: args.engine.config(),
        runs: args.runs as usize,
        warmup: args.warmup as usize,
    };
    let report = bench::run(&args.inputs(), &cfg)?;
    let stdout = io::stdout();
    let mut out = io::BufWriter::new(stdout.lock());
    match args.format {
        FormatArg::Json => {
            serde_json::to_writer_pretty(&mut out, &report)?;
            writeln!(out)?;
        }
        FormatArg::Table => table(&report, &mut out)?,
    }
    out.flush()?;
    Ok(())
}

/// `4194304` → `4 MiB`, `1024` → `1 KiB`, `100` → `100 B`.
fn size(bytes: usize) -> String {
    match bytes {
        b if b >= 1 << 20 && b % (1 << 20) == 0 => format!("{} MiB", b >> 20),
        b if b >= 1 << 10 && b % (1 << 10) == 0 => format!("{} KiB", b >> 10),
        b => format!("{b} B"),
    }
}

fn table(r: &BenchReport, out: &mut dyn Write) -> io::Result<()> {
    let files = match r.files.as_slice() {
        [one] => one.clone(),
        many => format!("{} files", many.len()),
    };
    writeln!(
        out,
        "{files}: {}, {} lines ({} records, {} malformed)",
        steplog::report::binary_bytes(r.bytes),
        r.counts.lines,
        r.counts.records,
        r.counts.malformed
    )?;
    writeln!(
        out,
        "{} threads, {}, {} chunks; {} measured run(s) after {} warm-up",
        r.threads,
        if r.mmap { "mmap" } else { "read(2)" },
        size(r.chunk_size),
        r.samples.len(),
        r.warmup_runs
    )?;
    writeln!(out)?;
    writeln!(out, "{:<12}{:>12}{:>12}{:>12}", "", "min", "median", "max")?;
    let w = &r.wall_seconds;
    writeln!(
        out,
        "{:<12}{:>10.3} s{:>10.3} s{:>10.3} s",
        "wall", w.min, w.median, w.max
    )?;
    // Throughput from the slowest, median and fastest run, in the columns' order.
    let b = &r.bytes_per_second;
    writeln!(
        out,
        "{:<12}{:>7.2} GB/s{:>7.2} GB/s{:>7.2} GB/s",
        "throughput",
        b.min / 1e9,
        b.median / 1e9,
        b.max / 1e9
    )?;
    let l = &r.lines_per_second;
    writeln!(
        out,
        "{:<12}{:>8.2} M/s{:>8.2} M/s{:>8.2} M/s",
        "lines",
        l.min / 1e6,
        l.median / 1e6,
        l.max / 1e6
    )?;
    writeln!(out)?;
    writeln!(
        out,
        "{:<12}{:>14}{:>8}{:>16}",
        "stage", "seconds (med)", "share", "GB/s per core"
    )?;
    for s in &r.stages {
        writeln!(
            out,
            "{:<12}{:>14.3}{:>7.1}%{:>16.2}",
            s.stage,
            s.seconds.median,
            s.share * 100.0,
            s.bytes_per_second_per_core / 1e9
        )?;
    }
    writeln!(out)?;
    writeln!(
        out,
        "Stage seconds are summed over workers (read is the reading thread alone); GB/s are 10^9 bytes a second."
    )
}
