//! `steplog summary`: run the engine, render the report.

use crate::cli::{FormatArg, SummaryArgs};
use anyhow::Result;
use std::io::{self, Write};
use steplog::engine;
use steplog::report::{Format, Json, Table};

/// Runs the summary and writes it to stdout.
pub fn run(args: &SummaryArgs) -> Result<()> {
    let report = engine::summarize(&args.inputs(), &args.config())?;
    let format: &dyn Format = match args.format {
        FormatArg::Table => &Table,
        FormatArg::Json => &Json,
    };
    let stdout = io::stdout();
    let mut out = io::BufWriter::new(stdout.lock());
    format.render(&report, &mut out)?;
    out.flush()?;
    Ok(())
}
