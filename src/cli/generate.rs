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
    /// How the steps of runs are laid out: `grouped` (each run's steps together, as a
    /// list export), `interleaved` (--in-flight runs under way at once, in `created_at`
    /// order, as a service logs them), `shuffled` (held in memory and shuffled), `single`
    /// (every step its own run).
    #[arg(long, default_value = "grouped", value_parser = ["grouped", "interleaved", "shuffled", "single"])]
    pub order: String,
    /// Runs under way at once with `--order interleaved`.
    #[arg(long, default_value_t = steplog::generate::DEFAULT_IN_FLIGHT, value_name = "N")]
    pub in_flight: usize,
    /// Also write the `thread.run` object of each run to FILE (a list-runs export: the
    /// models that price the steps; one run in twenty has none).
    #[arg(long, value_name = "FILE")]
    pub runs: Option<PathBuf>,
    /// Which API's records: `assistants` (run steps) or `responses` (Responses API
    /// `response` bodies: chains, conversations, every status and output item; with
    /// --stream, each as a stream's `data:` payloads).
    #[arg(long, default_value = "assistants", value_parser = ["assistants", "responses"])]
    pub api: String,
}
