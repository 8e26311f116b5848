//! `steplog generate`'s flags.

use clap::Args;
use std::path::PathBuf;

/// `steplog generate`.
#[derive(Debug, Args)]
pub struct GenerateArgs {
    /// Lines to write.
    #[arg(long, short = 'n', default_value_t = 100_000)]
    pub lines: u64,
    /// Seed; the same seed gives the same bytes.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Output file. By default, standard output.
    #[arg(long, short = 'o')]
    pub output: Option<PathBuf>,
    /// Write an event-stream log instead of an export: each step as an `in_progress`
    /// snapshot, a delta event and its final snapshot (for `--dedup`).
    #[arg(long)]
    pub stream: bool,
    /// Also write the `thread.run` object of each run to FILE (a list-runs export: the
    /// models that price the steps; one run in twenty has none).
    #[arg(long, value_name = "FILE")]
    pub runs: Option<PathBuf>,
}
