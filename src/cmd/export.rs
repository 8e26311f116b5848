//! `steplog export --to parquet`: every record as a row (with the `parquet` feature).

use super::summary::config;
use crate::cli::ExportArgs;
use anyhow::Result;
#[cfg(feature = "parquet")]
use std::io;
use steplog::engine;
use steplog::summary::View;

/// `steplog export`: every record as a Parquet row, written atomically.
pub fn export(args: &ExportArgs) -> Result<()> {
    super::deliver::check_outputs(
        &[Some(args.output.as_path())],
        &args.select.input_paths(),
        args.select.engine.recursive,
    )?;
    super::summary::not_a_terminal(&args.select.inputs())?;
    let cfg = config(&args.select, View::default())?;
    if !cfg.group_by.is_empty() || cfg.dedup {
        anyhow::bail!("export writes every record: --group-by and --dedup do not apply");
    }
    export_parquet(args, &cfg)
}

#[cfg(feature = "parquet")]
fn export_parquet(args: &ExportArgs, cfg: &engine::Config) -> Result<()> {
    let mut outcome = None;
    let mut failure = None;
    let written = steplog::output::write(&args.output, |out| {
        let sink = steplog::export::ParquetSink::new(out).map_err(io::Error::other)?;
        match engine::export(&args.select.inputs(), cfg, &sink) {
            Ok(o) => outcome = Some(o),
            Err(e) => {
                // Abandon the temporary file: a failed export leaves the old output.
                failure = Some(e);
                return Err(io::Error::other("export failed"));
            }
        }
        sink.finish().map_err(io::Error::other)?;
        Ok(())
    });
    if let Some(e) = failure {
        return Err(e.into());
    }
    written?;
    let Some(outcome) = outcome else {
        anyhow::bail!("export produced nothing");
    };
    if !args.select.quiet {
        let c = outcome.summary.lines.totals();
        eprintln!(
            "steplog: exported {} records from {} lines ({} malformed, {} outside the time window) to {}",
            c.records - outcome.summary.filtered_out,
            c.lines,
            c.malformed,
            outcome.summary.filtered_out,
            args.output.display()
        );
    }
    Ok(())
}

#[cfg(not(feature = "parquet"))]
fn export_parquet(_args: &ExportArgs, _cfg: &engine::Config) -> Result<()> {
    anyhow::bail!(
        "this steplog was built without Parquet support; build it with \
         `cargo build --release --features parquet`"
    )
}
