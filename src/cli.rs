//! Command-line definitions (clap derive) and their translation into library settings.

mod generate;
mod help;
mod prices;
mod render;
mod values;

pub use generate::GenerateArgs;

use help::*;
pub use prices::{PriceArgs, PricesArgs, PricesFormat};
pub use render::{CsvLayout, RenderArgs, ReportFormat, When};
use values::{parse_chunk_size, parse_dim, parse_size, parse_sort};

use clap::{Args, Parser, Subcommand, ValueEnum};
use std::path::PathBuf;
use steplog::agg::{Dim, DEFAULT_MAX_GROUPS, DEFAULT_MAX_RUNS};
use steplog::engine::{Config, Shard, Window, DEFAULT_EXEMPLARS};
use steplog::input::{InputSpec, DEFAULT_CHUNK_SIZE, DEFAULT_MAX_LINE_BYTES};
use steplog::summary::View;

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
    #[command(after_help = SUMMARY_EXAMPLES, after_long_help = format!("{SUMMARY_EXAMPLES}\n\n{FAIL_IF_METRICS}\n\n{EXIT_CODES}"))]
    Summary(SummaryArgs),
    /// Measure throughput: run the full summary several times on the same files and
    /// report wall time, GB/s and lines/s, and the time in each stage (read, split, parse,
    /// aggregate).
    #[command(after_help = BENCH_EXAMPLES, after_long_help = format!("{BENCH_EXAMPLES}\n\n{EXIT_CODES}"))]
    Bench(BenchArgs),
    /// Summarise into a state file instead of a report, for merging later: a nightly
    /// partial per day, merged into a weekly report without re-reading the logs.
    #[command(after_help = PARTIAL_EXAMPLES, after_long_help = format!("{PARTIAL_EXAMPLES}\n\n{EXIT_CODES}"))]
    Partial(PartialArgs),
    /// Merge state files into one (associative and commutative; inputs sorted by path).
    #[command(after_help = MERGE_EXAMPLES, after_long_help = format!("{MERGE_EXAMPLES}\n\n{EXIT_CODES}"))]
    Merge(MergeArgs),
    /// Render state files (merged) as `summary` would have rendered their logs.
    #[command(after_help = REPORT_EXAMPLES, after_long_help = format!("{REPORT_EXAMPLES}\n\n{FAIL_IF_METRICS}\n\n{EXIT_CODES}"))]
    Report(ReportArgs),
    /// Write one row per run step, with the parsed columns, to a Parquet file (for Spark,
    /// Trino, DuckDB or DataFusion). Needs a build with `--features parquet`.
    #[command(
        after_help = EXIT_CODES,
        mut_arg("group_by", |a| a.hide(true)),
        mut_arg("exemplars", |a| a.hide(true)),
        mut_arg("no_runs", |a| a.hide(true)),
        mut_arg("no_cost", |a| a.hide(true)),
        mut_arg("dedup", |a| a.hide(true)),
    )]
    Export(ExportArgs),
    /// Print the steps a `--where` expression matches, in input order: the lines
    /// themselves (jsonl, byte for byte, to pipe into jq), or a table or JSON of their ids
    /// with file and line.
    #[command(after_help = FIND_EXAMPLES, after_long_help = format!("{FIND_EXAMPLES}\n\n{EXIT_CODES}"))]
    Find(FindArgs),
    /// Write a seeded, realistic run-step JSONL corpus (for benchmarks and tests).
    #[command(after_help = GENERATE_EXAMPLES)]
    Generate(GenerateArgs),
    /// Compare two periods or two sources: every figure side by side, with the change
    /// and its significance, per group too; exit 3 when a --fail-if condition on a change
    /// holds.
    #[command(after_help = DIFF_EXAMPLES, after_long_help = format!("{DIFF_EXAMPLES}\n\n{DIFF_FIGURES}\n\n{EXIT_CODES}"))]
    Diff(DiffArgs),
    /// Print the price table in force (the bundled OpenAI list prices, or a --prices file
    /// over them): per model, the dates each price held and its source.
    #[command(after_help = PRICES_EXAMPLES, after_long_help = format!("{PRICES_EXAMPLES}\n\n{EXIT_CODES}"))]
    Prices(PricesArgs),
    /// Print a shell completion script (bash, zsh, fish, elvish, powershell).
    Completions {
        /// The shell.
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the man page (roff), e.g. `steplog man > steplog.1`; or, with --dir, write
    /// one page per command there (steplog.1, steplog-summary.1, …), for `man
    /// steplog-summary`.
    Man {
        /// Write steplog.1 and a page per subcommand (steplog-summary.1, …) into DIR
        /// instead of printing one page.
        #[arg(long, value_name = "DIR")]
        dir: Option<PathBuf>,
    },
}

/// Output formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FormatArg {
    /// Aligned text for people.
    Table,
    /// The stable JSON contract (see doc/json.md).
    Json,
}

/// Settings shared by every command that runs the engine.
#[derive(Debug, Clone, Args)]
#[command(next_help_heading = "Performance")]
pub struct EngineArgs {
    /// Worker threads. By default (0), one per core; at most four per core.
    #[arg(
        long,
        short = 'j',
        default_value_t = 0,
        value_name = "N",
        hide_default_value = true
    )]
    #[arg(hide_short_help = true)]
    pub threads: usize,
    /// Read files with read(2) instead of memory-mapping them. Same results; immune to
    /// files truncated while steplog reads them.
    #[arg(hide_short_help = true, long)]
    pub no_mmap: bool,
    /// Target chunk size (bytes; K, M and G suffixes allowed; at most 1G, as each worker
    /// holds a chunk). Chunks always end at a newline.
    #[arg(hide_short_help = true, long, value_name = "SIZE", value_parser = parse_chunk_size, default_value = "4M")]
    pub chunk_size: usize,
    /// Lines longer than this (bytes; K, M and G suffixes allowed) are counted as
    /// malformed (`too_long`) and skipped without being held in memory.
    #[arg(hide_short_help = true, long, value_name = "SIZE", value_parser = parse_size, default_value = "64M")]
    pub max_line_bytes: usize,
    /// Count each step once, from its most advanced snapshot (event streams).
    ///
    /// Count each step id once, from its most advanced snapshot (terminal beats
    /// in_progress, then the later timestamp, then the later line), for event streams and
    /// overlapping exports. Reads the inputs twice; standard input is saved to a
    /// temporary file first.
    #[arg(long, help_heading = "Input and selection")]
    pub dedup: bool,
    /// Read directories recursively.
    ///
    /// Read directories recursively. Without it, a directory stands for the files
    /// directly inside it. Either way files are read in sorted order, hidden ones skipped.
    #[arg(long, short = 'r', help_heading = "Input and selection")]
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

/// What to read and how: shared by `summary` and `partial`.
#[derive(Debug, Args)]
#[command(next_help_heading = "Input and selection")]
pub struct SelectArgs {
    /// Files or directories of run steps (JSONL, pages, arrays, streams; gzip, zstd); `-` or none: stdin.
    ///
    /// Files of run steps: JSONL (one object per line), list-steps pages, JSON arrays, or
    /// server-sent-event captures; gzip and zstd files are decompressed. A directory
    /// stands for the files in it. `-`, or no file at all, reads standard input. Several
    /// files give one combined report.
    pub files: Vec<String>,
    /// Also compute figures per group (assistant, model, day, run, metadata.KEY, …).
    ///
    /// Also compute figures per group: one or more of assistant, type, status, tool,
    /// function, error_code, day, hour, run, thread, model, metadata.KEY (comma-separated
    /// or repeated). `model` reads the inputs twice: the run objects first.
    #[arg(long, value_name = "DIMS", value_delimiter = ',', value_parser = parse_dim)]
    pub group_by: Vec<Dim>,
    /// Take only the steps an expression matches (`status == "failed" && duration > 30`).
    ///
    /// Take only the steps this expression matches (the others are counted as
    /// filtered out): comparisons of status, type, assistant, run, thread, code, message
    /// (a substring), tool, function, duration (seconds), tokens.prompt|completion|total|
    /// cached|reasoning, created_at (any --since form) or metadata.KEY (metadata["a key"]
    /// for any other key), with the
    /// operators `==`, `!=`, `<`, `<=`, `>`, `>=` or `in [...]`, joined by `&&`, `||`, `!`
    /// and parentheses; strings in double quotes, as in
    /// `status == "failed" && (duration > 30 || code == "server_error")`.
    #[arg(long = "where", value_name = "EXPR")]
    pub filter: Option<String>,
    /// Do not count runs and threads (`runs` and `threads` are null in the report; less
    /// memory on exports of millions of runs).
    #[arg(hide_short_help = true, long)]
    pub no_runs: bool,
    /// Do not keep the cost ledger (`cost` is null in the report; less memory).
    #[arg(hide_short_help = true, long)]
    pub no_cost: bool,
    /// How many steps (and runs) of each kind `exemplars` lists: the slowest steps and
    /// runs, the costliest runs, the latest failures; 0 lists none. By default, 10.
    #[arg(hide_short_help = true, long, value_name = "N", default_value_t = DEFAULT_EXEMPLARS, hide_default_value = true)]
    pub exemplars: usize,
    /// Only steps created at or after this time: RFC 3339, a date (UTC midnight), Unix
    /// seconds, or an age such as 24h or 7d.
    #[arg(long, value_name = "TIME")]
    pub since: Option<String>,
    /// Only steps created before this time (same forms as --since).
    #[arg(long, value_name = "TIME")]
    pub until: Option<String>,
    /// Stop at the first malformed line and exit 1, naming it. By default, malformed
    /// lines are counted, and the first 10 are listed in the report.
    #[arg(hide_short_help = true, long)]
    pub strict: bool,
    /// This process's share of the input files, from 0 (with --shard-count). With
    /// --shard-count and without this, $JOB_COMPLETION_INDEX (as Kubernetes Indexed Jobs
    /// set it).
    #[arg(
        hide_short_help = true,
        long,
        value_name = "I",
        requires = "shard_count"
    )]
    pub shard_index: Option<u64>,
    /// Split the input files into N shares by a hash of their path; N processes with
    /// indexes 0..N cover every file exactly once.
    #[arg(hide_short_help = true, long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    pub shard_count: Option<u64>,
    /// No progress bar and no notes on standard error (errors are still printed).
    #[arg(long, short = 'q')]
    pub quiet: bool,
    /// Show a progress bar on standard error even when it is not a terminal or the
    /// input is small (by default: only on a terminal, for inputs over 256 MiB).
    #[arg(hide_short_help = true, long, conflicts_with = "quiet")]
    pub progress: bool,
    #[command(flatten)]
    pub limits: LimitArgs,
    #[command(flatten)]
    pub engine: EngineArgs,
}

impl SelectArgs {
    /// The inputs, in order.
    pub fn inputs(&self) -> Vec<InputSpec> {
        inputs(&self.files)
    }

    /// Whether this process reads one share of the input files (--shard-count over 1).
    pub fn sharded(&self) -> bool {
        self.shard_count.is_some_and(|n| n > 1)
    }

    /// The files and directories named (not standard input).
    pub fn input_paths(&self) -> Vec<PathBuf> {
        self.files
            .iter()
            .filter(|f| f.as_str() != "-")
            .map(PathBuf::from)
            .collect()
    }

    /// The engine settings; `now` anchors relative times.
    pub fn config(&self, now: i64, view: View) -> anyhow::Result<Config> {
        let at = |s: &Option<String>| {
            s.as_deref()
                .map(|t| steplog::report::parse_instant(t, now))
                .transpose()
        };
        let window = window(at(&self.since)?, at(&self.until)?)?;
        let shard = match self.shard_count {
            None => None,
            Some(n) => {
                // The variable counts only with --shard-count: plain runs ignore it.
                let (index, from) = match self.shard_index {
                    Some(i) => (i, "--shard-index"),
                    None => match std::env::var("JOB_COMPLETION_INDEX") {
                        Ok(v) => (
                            v.trim().parse().map_err(|_| {
                                anyhow::anyhow!(
                                    "$JOB_COMPLETION_INDEX is `{v}`, not a shard index (a whole number from 0)"
                                )
                            })?,
                            "$JOB_COMPLETION_INDEX",
                        ),
                        Err(_) => anyhow::bail!(
                            "--shard-count {n} needs --shard-index, or $JOB_COMPLETION_INDEX set"
                        ),
                    },
                };
                if index >= n {
                    anyhow::bail!("{from} is {index}, but it must be below --shard-count {n}");
                }
                Some(Shard { index, count: n })
            }
        };
        check_dims(&self.group_by)?;
        let filter = self
            .filter
            .as_deref()
            .map(|text| steplog::filter::Filter::parse(text, now))
            .transpose()?
            .map(std::sync::Arc::new);
        Ok(Config {
            strict: self.strict,
            window,
            filter,
            group_by: self.group_by.clone(),
            max_groups: self.limits.max_groups,
            max_runs: self.limits.max_runs,
            memory_limit: self.limits.memory_limit(),
            runs: !self.no_runs,
            cost: !self.no_cost,
            exemplars: self.exemplars,
            view,
            shard,
            ..self.engine.config()
        })
    }
}

/// The time window `--since`/`--until` give; refused when it is empty.
fn window(since: Option<i64>, until: Option<i64>) -> anyhow::Result<Window> {
    if let (Some(a), Some(b)) = (since, until) {
        if a >= b {
            anyhow::bail!(
                "--since ({}) must be before --until ({})",
                steplog::report::format_utc(a),
                steplog::report::format_utc(b)
            );
        }
    }
    Ok(Window { since, until })
}

/// Refuses a `--group-by` that names a dimension twice or more than
/// [`steplog::agg::groups::MAX_DIMS`] of them: a state made so could not be read back.
fn check_dims(dims: &[Dim]) -> anyhow::Result<()> {
    for (i, d) in dims.iter().enumerate() {
        if dims[..i].contains(d) {
            anyhow::bail!(
                "--group-by names {} twice; name each dimension once",
                d.name()
            );
        }
    }
    let max = steplog::agg::groups::MAX_DIMS;
    if dims.len() > max {
        anyhow::bail!(
            "--group-by names {} dimensions; at most {max} fit in a group key: group by fewer",
            dims.len()
        );
    }
    Ok(())
}

/// The most groups and runs a run (or a merge) holds.
#[derive(Debug, Clone, Args)]
#[command(next_help_heading = "Limits")]
pub struct LimitArgs {
    /// Stop with exit 2 past this many groups, instead of running out of memory (a group
    /// takes about 300 bytes). By default, 5000000.
    #[arg(hide_short_help = true, long, value_name = "N", default_value_t = DEFAULT_MAX_GROUPS, hide_default_value = true)]
    pub max_groups: usize,
    /// Stop with exit 2 past this many runs, or threads (a run takes about 400 bytes
    /// with its costs). By default, 5000000.
    #[arg(hide_short_help = true, long, value_name = "N", default_value_t = DEFAULT_MAX_RUNS, hide_default_value = true)]
    pub max_runs: usize,
    /// The most the tables that grow with the input (runs, threads, costs, groups, step
    /// types) may hold together (64M, 2G). Past a quarter of it, a summary spills its
    /// runs, threads and costs to a temporary file in TMPDIR and reads them back at the
    /// end (the same report); what cannot spill stops with exit 2, naming what to change,
    /// rather than meet the system's out-of-memory killer. By default, half of the
    /// memory (or of the container's limit).
    #[arg(hide_short_help = true, long, value_name = "SIZE", value_parser = parse_size)]
    pub memory_limit: Option<usize>,
}

impl LimitArgs {
    /// The memory budget, in bytes.
    pub fn memory_limit(&self) -> u64 {
        self.memory_limit
            .map_or_else(steplog::engine::default_memory_limit, |m| m as u64)
    }

    /// The limits for reading and merging states.
    pub fn limits(&self) -> steplog::state::Limits {
        steplog::state::Limits {
            groups: self.max_groups,
            runs: self.max_runs,
        }
    }
}

/// `steplog summary`.
#[derive(Debug, Args)]
pub struct SummaryArgs {
    #[command(flatten)]
    pub select: SelectArgs,
    #[command(flatten)]
    pub render: RenderArgs,
    /// Also save the summary's state to STATE (see `steplog partial`), atomically.
    #[arg(long, value_name = "STATE", help_heading = "Output")]
    pub save_state: Option<PathBuf>,
}

/// `steplog partial`.
#[derive(Debug, Args)]
pub struct PartialArgs {
    #[command(flatten)]
    pub select: SelectArgs,
    /// The state file to write (atomically).
    #[arg(long, short = 'o', value_name = "STATE", help_heading = "Output")]
    pub output: PathBuf,
}

/// Export formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ExportFormat {
    /// Apache Parquet (Snappy).
    Parquet,
}

/// `steplog export`.
#[derive(Debug, Args)]
pub struct ExportArgs {
    #[command(flatten)]
    pub select: SelectArgs,
    /// The format.
    #[arg(long, value_enum, default_value_t = ExportFormat::Parquet, help_heading = "Output")]
    pub to: ExportFormat,
    /// The file to write (atomically).
    #[arg(long, short = 'o', value_name = "FILE", help_heading = "Output")]
    pub output: PathBuf,
}

/// Output forms of `steplog find`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FindFormat {
    /// The matching lines, byte for byte.
    Jsonl,
    /// A table of ids, status, type and time, with file:line.
    Table,
    /// A JSON array of the same.
    Json,
}

/// `steplog find`.
#[derive(Debug, Args)]
pub struct FindArgs {
    /// JSONL files (or directories, or `-` for standard input), as `summary` reads them.
    pub files: Vec<String>,
    /// Which steps: the expression `summary --where` takes (see `steplog summary --help`).
    #[arg(long = "where", value_name = "EXPR", required = true)]
    pub filter: String,
    /// Only steps created at or after this time (as `summary` takes it).
    #[arg(long, value_name = "TIME")]
    pub since: Option<String>,
    /// Only steps created before this time.
    #[arg(long, value_name = "TIME")]
    pub until: Option<String>,
    /// Stop after this many matches (the first in input order).
    #[arg(long, value_name = "N")]
    pub limit: Option<u64>,
    /// What to print.
    #[arg(long, short = 'f', value_enum, default_value_t = FindFormat::Jsonl)]
    pub format: FindFormat,
    /// No note on standard error of how many lines were read and matched.
    #[arg(long, short = 'q')]
    pub quiet: bool,
    #[command(flatten)]
    pub engine: EngineArgs,
}

impl FindArgs {
    /// The engine settings; `now` anchors relative times.
    pub fn config(&self, now: i64) -> anyhow::Result<Config> {
        let at = |s: &Option<String>| {
            s.as_deref()
                .map(|t| steplog::report::parse_instant(t, now))
                .transpose()
        };
        let filter = steplog::filter::Filter::parse(&self.filter, now)?;
        Ok(Config {
            window: window(at(&self.since)?, at(&self.until)?)?,
            filter: Some(std::sync::Arc::new(filter)),
            runs: false,
            exemplars: 0,
            ..self.engine.config()
        })
    }
}

/// `steplog merge`.
#[derive(Debug, Args)]
pub struct MergeArgs {
    /// State files to merge (made with the same settings).
    #[arg(required = true)]
    pub states: Vec<PathBuf>,
    #[command(flatten)]
    pub limits: LimitArgs,
    /// The merged state file to write (atomically).
    #[arg(long, short = 'o', value_name = "STATE", help_heading = "Output")]
    pub output: PathBuf,
}

/// `steplog report`.
#[derive(Debug, Args)]
pub struct ReportArgs {
    /// State files; several are merged first.
    #[arg(required = true)]
    pub states: Vec<PathBuf>,
    #[command(flatten)]
    pub render: RenderArgs,
    #[command(flatten)]
    pub limits: LimitArgs,
    /// No notes on standard error.
    #[arg(long, short = 'q')]
    pub quiet: bool,
    /// Accepted when it matches the states' --group-by: a state holds the groups it was
    /// made with, and only those.
    #[arg(long, value_name = "DIMS", value_delimiter = ',', value_parser = parse_dim)]
    pub group_by: Option<Vec<Dim>>,
    /// Accepted when it matches the states' --since (same forms as `summary`).
    #[arg(long, value_name = "TIME")]
    pub since: Option<String>,
    /// Accepted when it matches the states' --until (same forms as `summary`).
    #[arg(long, value_name = "TIME")]
    pub until: Option<String>,
}

/// `steplog diff`.
#[derive(Debug, Args)]
pub struct DiffArgs {
    /// BASE and CURRENT: two state files or two logs (files or directories). With
    /// --base-window and --current-window: the logs both windows are cut from.
    pub inputs: Vec<String>,
    /// A base input (state file or logs); repeat for several (states are merged, logs
    /// read together). Needs --current.
    #[arg(long, value_name = "FILE", requires = "current")]
    pub base: Vec<String>,
    /// A current input; repeat for several. Needs --base.
    #[arg(long, value_name = "FILE", requires = "base")]
    pub current: Vec<String>,
    /// The base's time window in the logs, SINCE..UNTIL (any --since form; either may be
    /// left out: 2026-11-01..2026-11-08, ..7d, 14d..7d).
    #[arg(long, value_name = "SINCE..UNTIL", requires = "current_window")]
    pub base_window: Option<String>,
    /// The current time window in the logs, SINCE..UNTIL; must not overlap the base's.
    #[arg(long, value_name = "SINCE..UNTIL", requires = "base_window")]
    pub current_window: Option<String>,
    /// Compare per group too (assistant, model, day, metadata.KEY, …; as `summary`).
    #[arg(long, value_name = "DIMS", value_delimiter = ',', value_parser = parse_dim)]
    pub group_by: Vec<Dim>,
    /// Take only the steps an expression matches, on both sides (as `summary --where`).
    #[arg(long = "where", value_name = "EXPR")]
    pub filter: Option<String>,
    /// The p-value below which a change is called significant.
    #[arg(long, value_name = "P", default_value_t = steplog::diff::DEFAULT_ALPHA, value_parser = parse_alpha)]
    pub alpha: f64,
    /// Exit 3 when a condition on a change holds (failure_rate.delta>0.02,
    /// p95.ratio>1.5@significant; repeatable).
    #[arg(long, value_name = "EXPR", value_parser = steplog::diff::gate::Change::parse)]
    pub fail_if: Vec<steplog::diff::gate::Change>,
    /// Output format (by default table, or -o's extension).
    #[arg(long = "format", short = 'f', value_enum, value_name = "FORMAT")]
    pub format_flag: Option<ReportFormat>,
    /// Write the diff to FILE, atomically.
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Only the first N groups (in ranked order).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    pub top: Option<u64>,
    /// The figure groups are ranked by the change of: steps, failures, failure_rate (the
    /// default), p50, p99, tokens, cost, or key (ascending).
    #[arg(long, value_name = "ORDER", value_parser = parse_sort)]
    pub sort: Option<steplog::agg::Sort>,
    /// Leave runs out (no run figures).
    #[arg(hide_short_help = true, long)]
    pub no_runs: bool,
    /// Leave costs out.
    #[arg(hide_short_help = true, long)]
    pub no_cost: bool,
    /// No notes on standard error.
    #[arg(long, short = 'q')]
    pub quiet: bool,
    #[command(flatten)]
    pub prices: PriceArgs,
    #[command(flatten)]
    pub limits: LimitArgs,
    #[command(flatten)]
    pub engine: EngineArgs,
}

impl DiffArgs {
    /// The format: `--format`, else `-o`'s extension, else table.
    pub fn format(&self) -> ReportFormat {
        self.format_flag
            .or_else(|| self.output.as_deref().and_then(ReportFormat::of_path))
            .unwrap_or(ReportFormat::Table)
    }

    /// Selection settings for one side's logs: its files and window, the shared flags.
    pub fn select(
        &self,
        files: Vec<String>,
        window: (Option<String>, Option<String>),
    ) -> SelectArgs {
        SelectArgs {
            files,
            group_by: self.group_by.clone(),
            filter: self.filter.clone(),
            no_runs: self.no_runs,
            no_cost: self.no_cost,
            exemplars: 0,
            since: window.0,
            until: window.1,
            strict: false,
            shard_index: None,
            shard_count: None,
            quiet: self.quiet,
            progress: false,
            limits: self.limits.clone(),
            engine: self.engine.clone(),
        }
    }
}

/// `--alpha`: a probability strictly between 0 and 1.
fn parse_alpha(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(a) if a > 0.0 && a < 1.0 => Ok(a),
        _ => Err(format!(
            "`{s}` is not a p-value between 0 and 1 (0.01, 0.05)"
        )),
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
    /// Output format.
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

/// File arguments as inputs, in order (`-` is standard input).
pub fn inputs(files: &[String]) -> Vec<InputSpec> {
    files.iter().map(|f| InputSpec::parse(f)).collect()
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
    fn clap_definitions_are_consistent() {
        use clap::CommandFactory;
        Cli::command().debug_assert();
    }
}
