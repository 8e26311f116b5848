//! `steplog find`: the matching records, in input order, as lines, a table or JSON.

use crate::cli::{FindArgs, FindFormat};
use anyhow::{Context, Result};
use std::io::{self, BufWriter, Write};
use std::time::{SystemTime, UNIX_EPOCH};
use steplog::engine::{self, find::FoundSink, find::Match};
use steplog::report::{format_utc, visible};

/// Runs `find` and prints what it found to standard output.
pub fn run(args: &FindArgs) -> Result<()> {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64);
    if args.engine.dedup {
        anyhow::bail!(
            "find prints the lines that match as they were logged, every snapshot of a step \
             included; --dedup (each step's final snapshot) is for summary and partial: leave \
             it out, or add `status != \"in_progress\"` to --where for the snapshots of steps \
             that finished"
        );
    }
    let cfg = args.config(now)?;
    let inputs = crate::cli::inputs(&args.files);
    super::summary::not_a_terminal(&inputs)?;
    let mut out = Writer {
        out: BufWriter::with_capacity(1 << 16, io::stdout()),
        format: args.format,
        written: 0,
    };
    out.start().context("cannot write to standard output")?;
    let fields = args.format != FindFormat::Jsonl;
    let (outcome, found) = engine::find(
        &inputs,
        &cfg,
        args.limit.unwrap_or(u64::MAX),
        fields,
        &mut out,
    )
    .map_err(super::summary::explain)
    .context("writing to standard output")?;
    out.end().context("cannot write to standard output")?;
    if !args.quiet {
        let c = outcome.summary.lines.totals();
        let left_out = outcome.summary.filtered_out;
        let matched = c.records.saturating_sub(left_out);
        match args.limit {
            // The workers read ahead of the writer: more may have matched than it wrote.
            Some(limit) if found >= limit => eprintln!(
                "steplog: the first {found} matches (--limit {limit}); reading stopped at \
                 {} records ({} lines), {matched} of them matching",
                c.records, c.lines
            ),
            _ => eprintln!(
                "steplog: {found} of {} records match ({} lines; {left_out} left out by \
                 --where or the time window)",
                c.records, c.lines
            ),
        }
    }
    Ok(())
}

/// One match in `find -f json`.
#[derive(serde::Serialize)]
struct Found<'a> {
    file: &'a str,
    line: u64,
    id: &'a str,
    run_id: Option<&'a str>,
    thread_id: Option<&'a str>,
    assistant_id: Option<&'a str>,
    status: &'a str,
    #[serde(rename = "type")]
    step_type: Option<&'a str>,
    created_at: i64,
    created_at_utc: String,
}

/// Writes matches in one of `find`'s forms.
struct Writer<W: Write> {
    out: W,
    format: FindFormat,
    written: u64,
}

impl<W: Write> Writer<W> {
    fn start(&mut self) -> io::Result<()> {
        match self.format {
            FindFormat::Json => self.out.write_all(b"["),
            FindFormat::Table => writeln!(
                self.out,
                "{:<40}  {:<30}  {:<30}  {:<12}  {:<16}  created",
                "where", "step", "run", "status", "type"
            ),
            FindFormat::Jsonl => Ok(()),
        }
    }

    fn end(&mut self) -> io::Result<()> {
        if self.format == FindFormat::Json {
            self.out
                .write_all(if self.written == 0 { b"]\n" } else { b"\n]\n" })?;
        }
        self.out.flush()
    }
}

impl<W: Write + Send> FoundSink for Writer<W> {
    fn found(&mut self, file: &str, line: u64, m: &Match) -> io::Result<()> {
        let first = self.written == 0;
        self.written += 1;
        let Some(f) = &m.fields else {
            // jsonl: the line itself, byte for byte.
            self.out.write_all(&m.raw)?;
            return self.out.write_all(b"\n");
        };
        match self.format {
            FindFormat::Json => {
                let v = Found {
                    file,
                    line,
                    id: &f.id,
                    run_id: f.run_id.as_deref(),
                    thread_id: f.thread_id.as_deref(),
                    assistant_id: f.assistant_id.as_deref(),
                    status: &f.status,
                    step_type: f.step_type.as_deref(),
                    created_at: f.created_at,
                    created_at_utc: format_utc(f.created_at),
                };
                self.out.write_all(if first { b"\n  " } else { b",\n  " })?;
                serde_json::to_writer(&mut self.out, &v).map_err(io::Error::other)
            }
            _ => writeln!(
                self.out,
                "{:<40}  {:<30}  {:<30}  {:<12}  {:<16}  {}",
                visible(&format!("{file}:{line}")),
                visible(&f.id),
                visible(f.run_id.as_deref().unwrap_or("-")),
                visible(&f.status),
                visible(f.step_type.as_deref().unwrap_or("-")),
                format_utc(f.created_at)
            ),
        }
    }
}
