//! Command-line definitions (clap derive) and their translation into library settings.

use clap::{Args, Parser, Subcommand, ValueEnum};
use std::path::PathBuf;
use steplog::engine::Config;
use steplog::input::{InputSpec, DEFAULT_CHUNK_SIZE, DEFAULT_MAX_LINE_BYTES};

const EXIT_CODES: &str = "\
Exit codes:
  0  success (also when the reader of our output goes away early)
  1  malformed input under --strict
  2  usage error, or an input that cannot be opened, read or decompressed, or that
     was truncated or changed while steplog read it";

/// Fast summaries of OpenAI Assistants run-step logs (JSONL).
#[derive(Debug, Parser)]
#[command(name = "steplog", version, about, after_help = EXIT_CODES)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Summarise run steps: counts by status and type, tool calls, failures and why,
    /// duration percentiles, token usage.
    #[command(after_help = EXIT_CODES)]
    Summary(SummaryArgs),
    /// Measure throughput: run the full summary several times on the same files and
    /// report wall time, GB/s and lines/s, and the time in each stage (read, split, parse,
    /// aggregate).
    #[command(after_help = EXIT_CODES)]
    Bench(BenchArgs),
    /// Write a seeded, realistic run-step JSONL corpus (for benchmarks and tests).
    Generate(GenerateArgs),
}

/// Output formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FormatArg {
    /// Aligned text for people.
    Table,
    /// The stable JSON contract (see the README).
    Json,
}

/// Settings shared by every command that runs the engine.
#[derive(Debug, Args)]
pub struct EngineArgs {
    /// Worker threads. By default (0), one per core.
    #[arg(long, short = 'j', default_value_t = 0, value_name = "N")]
    pub threads: usize,
    /// Read files with read(2) instead of memory-mapping them. Same results; immune to
    /// files truncated while steplog reads them.
    #[arg(long)]
    pub no_mmap: bool,
    /// Target chunk size (bytes; K, M and G suffixes allowed). Chunks always end at a
    /// newline. By default, 4M.
    #[arg(long, value_name = "SIZE", value_parser = parse_size, default_value = "4M")]
    pub chunk_size: usize,
    /// Lines longer than this (bytes; K, M and G suffixes allowed) are counted as
    /// malformed (`too_long`) and skipped without being held in memory.
    #[arg(long, value_name = "SIZE", value_parser = parse_size, default_value = "64M")]
    pub max_line_bytes: usize,
    /// Count each step id once, from its most advanced snapshot (terminal beats
    /// in_progress, then the later timestamp, then the later line), for event streams and
    /// overlapping exports. Reads the inputs twice; standard input is saved to a
    /// temporary file first.
    #[arg(long)]
    pub dedup: bool,
    /// Read directories recursively. Without it, a directory stands for the files
    /// directly inside it. Either way files are read in sorted order, hidden ones skipped.
    #[arg(long, short = 'r')]
    pub recursive: bool,
}

impl EngineArgs {
    /// The engine settings.
    pub fn config(&self) -> Config {
        Config {
            threads: self.threads,
            chunk_size: self.chunk_size,
            mmap: !self.no_mmap,
            max_line_bytes: self.max_line_bytes as u64,
            dedup: self.dedup,
            recursive: self.recursive,
            ..Config::default()
        }
    }
}

/// `steplog summary`.
#[derive(Debug, Args)]
pub struct SummaryArgs {
    /// JSONL files of run steps, one object per line, or server-sent-event captures;
    /// gzip and zstd files are decompressed. A directory stands for the files in it. `-`,
    /// or no file at all, reads standard input. Several files give one combined report.
    pub files: Vec<String>,
    /// Output format. By default, table.
    #[arg(long, short = 'f', value_enum, default_value_t = FormatArg::Table)]
    pub format: FormatArg,
    /// Stop at the first malformed line and exit 1, naming it. By default, malformed
    /// lines are counted, and the first 10 are listed in the report.
    #[arg(long)]
    pub strict: bool,
    #[command(flatten)]
    pub engine: EngineArgs,
}

impl SummaryArgs {
    /// The inputs, in order.
    pub fn inputs(&self) -> Vec<InputSpec> {
        inputs(&self.files)
    }

    /// The engine settings.
    pub fn config(&self) -> Config {
        Config {
            strict: self.strict,
            ..self.engine.config()
        }
    }
}

/// `steplog bench`.
#[derive(Debug, Args)]
pub struct BenchArgs {
    /// JSONL files to read (each run reads them all; standard input cannot be re-read).
    #[arg(required = true)]
    pub files: Vec<String>,
    /// Measured runs.
    #[arg(long, short = 'n', default_value_t = 5, value_parser = clap::value_parser!(u32).range(1..))]
    pub runs: u32,
    /// Uncounted runs first, to warm the page cache.
    #[arg(long, default_value_t = 1)]
    pub warmup: u32,
    /// Output format. By default, table.
    #[arg(long, short = 'f', value_enum, default_value_t = FormatArg::Table)]
    pub format: FormatArg,
    #[command(flatten)]
    pub engine: EngineArgs,
}

impl BenchArgs {
    /// The inputs, in order.
    pub fn inputs(&self) -> Vec<InputSpec> {
        inputs(&self.files)
    }
}

/// `steplog generate`.
#[derive(Debug, Args)]
pub struct GenerateArgs {
    /// Lines to write.
    #[arg(long, short = 'n', default_value_t = 100_000)]
    pub lines: u64,
    /// Seed; the same seed gives the same bytes. By default, 1.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Output file. By default, standard output.
    #[arg(long, short = 'o')]
    pub output: Option<PathBuf>,
    /// Write an event-stream log instead of an export: each step as an `in_progress`
    /// snapshot, a delta event and its final snapshot (for `--dedup`).
    #[arg(long)]
    pub stream: bool,
}

/// File arguments as inputs, in order (`-` is standard input).
fn inputs(files: &[String]) -> Vec<InputSpec> {
    files.iter().map(|f| InputSpec::parse(f)).collect()
}

/// `64K`, `4M`, `1G` or plain bytes.
fn parse_size(s: &str) -> Result<usize, String> {
    let s = s.trim();
    let (digits, mult) = match s.char_indices().last() {
        Some((i, c)) if c.eq_ignore_ascii_case(&'k') => (&s[..i], 1usize << 10),
        Some((i, c)) if c.eq_ignore_ascii_case(&'m') => (&s[..i], 1 << 20),
        Some((i, c)) if c.eq_ignore_ascii_case(&'g') => (&s[..i], 1 << 30),
        _ => (s, 1),
    };
    let n: usize = digits
        .parse()
        .map_err(|_| format!("`{s}` is not a size like 65536, 64K or 4M"))?;
    match n.checked_mul(mult) {
        Some(0) | None => Err(format!(
            "`{s}` must be between 1 byte and {} bytes",
            usize::MAX
        )),
        Some(v) => Ok(v),
    }
}

#[allow(dead_code)]
const _: () = assert!(
    DEFAULT_CHUNK_SIZE == 4 << 20 && DEFAULT_MAX_LINE_BYTES == 64 << 20,
    "keep --chunk-size's and --max-line-bytes' documented defaults in step"
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes() {
        assert_eq!(parse_size("100"), Ok(100));
        assert_eq!(parse_size("64K"), Ok(65536));
        assert_eq!(parse_size("4m"), Ok(4 << 20));
        assert!(parse_size("0").is_err());
        assert!(parse_size("lots").is_err());
        assert!(parse_size("99999999999999G").is_err());
    }

    #[test]
    fn clap_definitions_are_consistent() {
        use clap::CommandFactory;
        Cli::command().debug_assert();
    }
}
