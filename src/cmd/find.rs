//! `steplog find`: the matching records, in input order, as lines, a table or JSON.

use crate::cli::{FindArgs, FindFormat};
use anyhow::{Context, Result};
use std::io::{self, BufWriter, Write};
use std::time::{SystemTime, UNIX_EPOCH};
use steplog::batch::dated;
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
        columns: Columns::fitting(&args.files, super::deliver::table_width()),
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
    /// Null for an undated record (a failed batch request).
    created_at: Option<i64>,
    created_at_utc: Option<String>,
}

/// Writes matches in one of `find`'s forms.
struct Writer<W: Write> {
    out: W,
    format: FindFormat,
    written: u64,
    columns: Columns,
}

/// A column of `find -f table`: its heading and width.
#[derive(Clone, Copy, PartialEq)]
enum Column {
    Where,
    Step,
    Run,
    Status,
    Type,
    Created,
}

/// The columns of `find -f table` that fit the width, in order, each with its width. Rows
/// are written as they are found, so widths are set first: ids at 30 (real ones take
/// 29), `file:line` at the longest input named plus a line number. What does not fit is
/// left out (type first, then created, status and run), never cut; a value longer than
/// its column pushes the rest of its row along.
struct Columns(Vec<(Column, usize)>);

impl Columns {
    fn fitting(files: &[String], width: Option<usize>) -> Columns {
        let name = files.iter().map(|f| f.chars().count()).max().unwrap_or(1);
        // A directory's files are longer than its name.
        let dir = files.iter().any(|f| std::path::Path::new(f).is_dir());
        let place = name + if dir { 24 } else { 8 };
        let all = [
            (Column::Where, place),
            (Column::Step, 30),
            (Column::Run, 30),
            (Column::Status, 11),
            (Column::Type, 16),
            (Column::Created, 20),
        ];
        let mut shown: Vec<(Column, usize)> = all.to_vec();
        let wide = |c: &[(Column, usize)]| c.iter().map(|(_, w)| w + 2).sum::<usize>() - 2;
        for drop in [Column::Type, Column::Created, Column::Status, Column::Run] {
            if width.is_none_or(|w| wide(&shown) <= w) {
                break;
            }
            shown.retain(|(c, _)| *c != drop);
        }
        Columns(shown)
    }

    fn write(&self, out: &mut dyn Write, cell: impl Fn(Column) -> String) -> io::Result<()> {
        let last = self.0.len() - 1;
        for (i, &(c, w)) in self.0.iter().enumerate() {
            let text = cell(c);
            if i == last {
                writeln!(out, "{text}")?;
            } else {
                let pad = w.saturating_sub(unicode_width::UnicodeWidthStr::width(text.as_str()));
                write!(out, "{text}{}  ", " ".repeat(pad))?;
            }
        }
        Ok(())
    }
}

impl<W: Write> Writer<W> {
    fn start(&mut self) -> io::Result<()> {
        match self.format {
            FindFormat::Json => self.out.write_all(b"["),
            FindFormat::Table => self.columns.write(&mut self.out, |c| {
                match c {
                    Column::Where => "where",
                    Column::Step => "id",
                    Column::Run => "run",
                    Column::Status => "status",
                    Column::Type => "type",
                    Column::Created => "created",
                }
                .to_string()
            }),
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
                    created_at: dated(f.created_at),
                    created_at_utc: dated(f.created_at).map(format_utc),
                };
                self.out.write_all(if first { b"\n  " } else { b",\n  " })?;
                serde_json::to_writer(&mut self.out, &v).map_err(io::Error::other)
            }
            _ => self.columns.write(&mut self.out, |c| match c {
                Column::Where => visible(&format!("{file}:{line}")),
                Column::Step => visible(&f.id),
                Column::Run => visible(f.run_id.as_deref().unwrap_or("-")),
                Column::Status => visible(&f.status),
                Column::Type => visible(f.step_type.as_deref().unwrap_or("-")),
                Column::Created => dated(f.created_at).map_or_else(|| "-".into(), format_utc),
            }),
        }
    }
}
