//! The flags of what steps cost: the pricing flags every report command shares, and
//! `steplog prices`.

use clap::{Args, ValueEnum};
use std::path::PathBuf;

/// How steps are priced: shared by `summary`, `report` and `prices`.
#[derive(Debug, Args)]
#[command(next_help_heading = "Costs")]
pub struct PriceArgs {
    /// Prices over the bundled table (LiteLLM's JSON layout).
    ///
    /// Prices in LiteLLM's model_prices_and_context_window.json layout
    /// (input_cost_per_token, output_cost_per_token, cache_read_input_token_cost,
    /// output_cost_per_reasoning_token), over the bundled table: its models replace the
    /// bundled entries of the same name.
    #[arg(long, value_name = "FILE")]
    pub prices: Option<PathBuf>,
    /// ASSISTANT=MODEL (or @FILE) for steps without a run object.
    ///
    /// The model of an assistant's steps whose run object is not in the input, as
    /// ASSISTANT=MODEL (repeatable), or @FILE of such lines (# starts a comment).
    #[arg(long = "model", value_name = "ASSISTANT=MODEL")]
    pub models: Vec<String>,
    /// The model of the steps no run object or --model prices.
    #[arg(long, value_name = "MODEL")]
    pub default_model: Option<String>,
}

/// `steplog prices`.
#[derive(Debug, Args)]
pub struct PricesArgs {
    /// Only this model (a dated snapshot the table lacks shows its base model's prices).
    pub model: Option<String>,
    /// Output format.
    #[arg(long, short = 'f', value_enum, default_value_t = PricesFormat::Table)]
    pub format: PricesFormat,
    /// Only the prices in force at this time (same forms as --since).
    #[arg(long, value_name = "TIME")]
    pub at: Option<String>,
    /// Prices in LiteLLM's layout, over the bundled table (as for `summary`).
    #[arg(long, value_name = "FILE")]
    pub prices: Option<PathBuf>,
}

/// Output formats of `steplog prices`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum PricesFormat {
    /// Aligned text.
    Table,
    /// JSON: per model, its dated prices in dollars per million tokens.
    Json,
}
