//! How a report is rendered and delivered: the format (from `-f` or `-o`'s extension), the
//! time-series interval, colours, thresholds, groups shown.

use super::prices::PriceArgs;
use super::values::parse_sort;
use clap::{Args, ValueEnum};
use std::path::PathBuf;
use steplog::agg::{Interval, Sort};
use steplog::summary::View;
use steplog::threshold::Threshold;

/// Layouts of `--format csv`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum CsvLayout {
    /// A row per group and figure: every figure of the JSON report.
    Tidy,
    /// A row per group: its dimensions, then steps, failures, rate, p50/p90/p99, tokens
    /// and cost, a column each.
    Wide,
}

/// Output formats of `steplog summary`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ReportFormat {
    /// Aligned text for people.
    #[value(alias = "text", alias = "txt")]
    Table,
    /// The stable JSON contract (see doc/json.md).
    Json,
    /// Tidy CSV: one row per group and figure.
    Csv,
    /// Markdown tables, for wikis and pull requests.
    #[value(alias = "md")]
    Markdown,
    /// Prometheus text exposition (node_exporter's textfile collector).
    #[value(alias = "prom")]
    Prometheus,
    /// One self-contained HTML page with SVG charts.
    Html,
}

impl ReportFormat {
    /// The format a file's extension names, if any.
    pub fn of_path(path: &std::path::Path) -> Option<ReportFormat> {
        let ext = path.extension()?.to_str()?.to_ascii_lowercase();
        Some(match ext.as_str() {
            "json" => ReportFormat::Json,
            "csv" => ReportFormat::Csv,
            "md" | "markdown" => ReportFormat::Markdown,
            "prom" => ReportFormat::Prometheus,
            "html" | "htm" => ReportFormat::Html,
            "txt" | "text" => ReportFormat::Table,
            _ => return None,
        })
    }

    /// Its name on the command line.
    pub fn name(self) -> &'static str {
        match self {
            ReportFormat::Table => "table",
            ReportFormat::Json => "json",
            ReportFormat::Csv => "csv",
            ReportFormat::Markdown => "markdown",
            ReportFormat::Prometheus => "prometheus",
            ReportFormat::Html => "html",
        }
    }
}

/// When to colour the table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum When {
    /// On a terminal, unless NO_COLOR is set.
    Auto,
    /// Always.
    Always,
    /// Never.
    Never,
}

/// Time-series bucket widths.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum IntervalArg {
    /// UTC hours.
    Hour,
    /// UTC days.
    Day,
}

/// How a report is rendered and delivered: shared by `summary` and `report`.
#[derive(Debug, Args)]
#[command(next_help_heading = "Output")]
pub struct RenderArgs {
    /// Output format (by default table, or -o's extension).
    ///
    /// Output format: table, unless `-o FILE` names one by its extension (.json, .csv,
    /// .md, .prom, .html, .txt).
    #[arg(long = "format", short = 'f', value_enum, value_name = "FORMAT")]
    pub format_flag: Option<ReportFormat>,
    /// Write the report to FILE, atomically.
    ///
    /// Write the report to FILE instead of standard output, atomically: a temporary file
    /// in the same directory, renamed over FILE once complete (mode 0644).
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Time series buckets: day or hour.
    ///
    /// Bucket width of the time series: day (the default) or hour. Every format but
    /// Prometheus (counters, not series) shows it.
    #[arg(long, value_enum)]
    pub interval: Option<IntervalArg>,
    /// Exit 3 when a condition holds (failure_rate>0.05, p99>30; repeatable).
    ///
    /// Exit 3 when this condition holds, naming it, e.g. failure_rate>0.05, p99>30,
    /// malformed>0. Repeatable; the report is written either way.
    #[arg(long, value_name = "EXPR", value_parser = Threshold::parse)]
    pub fail_if: Vec<Threshold>,
    /// The whole table, every section (by default: one screen).
    ///
    /// The whole table, every section: by default the table fits one screen (the
    /// headline figures, the top failure codes and the runs behind them). The other
    /// formats always hold everything.
    #[arg(long)]
    pub full: bool,
    /// The CSV's layout: tidy (a row per group and figure, every figure; the default) or
    /// wide (a row per group, a column per headline figure, for spreadsheets).
    #[arg(long, value_enum, value_name = "LAYOUT")]
    pub csv_layout: Option<CsvLayout>,
    /// Colour the table: auto (on a terminal, unless NO_COLOR is set), always, never.
    #[arg(hide_short_help = true, long, value_enum, default_value_t = When::Auto, value_name = "WHEN")]
    pub color: When,
    /// Only the first N groups.
    ///
    /// Only the first N groups (in --sort order) in every format. Without it, JSON and
    /// CSV hold every group, and the table, Markdown and HTML show the first 20.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    pub top: Option<u64>,
    /// The order of groups (steps, failures, failure_rate, p50, p99, tokens, cost, key).
    ///
    /// The order of groups: steps, failures, failure_rate, p50, p99 (of completed
    /// steps), tokens, cost (largest first, ties by key) or key (ascending). By default,
    /// steps.
    #[arg(long, value_name = "ORDER", value_parser = parse_sort)]
    pub sort: Option<Sort>,
    #[command(flatten)]
    pub prices: PriceArgs,
}

impl RenderArgs {
    /// How the report is shown.
    /// The format: `--format`, else the one `--output`'s extension names, else table;
    /// and a note when `--format` overrides a different extension.
    pub fn format(&self) -> (ReportFormat, Option<String>) {
        let by_extension = self.output.as_deref().and_then(ReportFormat::of_path);
        match (self.format_flag, by_extension) {
            (Some(f), Some(e)) if f != e => (
                f,
                Some(format!(
                    "writing {} as --format {} says, although its extension is that of {}",
                    self.output
                        .as_deref()
                        .map(|p| p.display().to_string())
                        .unwrap_or_default(),
                    f.name(),
                    e.name()
                )),
            ),
            (Some(f), _) => (f, None),
            (None, Some(e)) => (e, None),
            (None, None) => (ReportFormat::Table, None),
        }
    }

    /// `--top` and `--sort` order and cut groups: without grouping they would do nothing,
    /// so they are refused rather than ignored.
    pub fn check_groups(&self, grouped: bool) -> anyhow::Result<()> {
        let given = [
            ("--top", self.top.is_some()),
            ("--sort", self.sort.is_some()),
        ];
        match given.iter().find(|(_, g)| *g) {
            Some((flag, _)) if !grouped => anyhow::bail!(
                "{flag} orders and cuts the groups of --group-by, and there are none: add \
                 --group-by (assistant, model, day, …) or leave {flag} out"
            ),
            _ => Ok(()),
        }
    }

    pub fn view(&self) -> View {
        View {
            interval: match self.interval {
                Some(IntervalArg::Hour) => Interval::Hour,
                Some(IntervalArg::Day) | None => Interval::Day,
            },
            sort: self.sort.unwrap_or_default(),
            top: self.top.map(|t| usize::try_from(t).unwrap_or(usize::MAX)),
            shown: self.groups_shown(),
        }
    }

    /// How many groups the chosen format shows, when it shows only the first few: the
    /// table and the markup formats without `--top`. JSON, CSV and Prometheus hold every
    /// group.
    fn groups_shown(&self) -> Option<usize> {
        match self.format().0 {
            ReportFormat::Table | ReportFormat::Markdown | ReportFormat::Html
                if self.top.is_none() =>
            {
                Some(steplog::report::GROUPS_SHOWN)
            }
            _ => None,
        }
    }
}
