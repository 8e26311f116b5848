//! steplog: fast summaries of OpenAI Assistants run-step logs (JSONL).
//!
//! Data flows one way: [`input`] cuts files and streams into newline-aligned chunks;
//! [`parse`] turns each line into a row of a columnar [`batch::Batch`] with simd-json;
//! [`agg`] folds batches into mergeable aggregates; [`dedup`] picks each step's most
//! advanced snapshot; [`report`] holds the result as plain
//! data and renders it; [`engine`] runs the pipeline on a rayon pool; [`bench`] times it.
//!
//! ```no_run
//! use steplog::{engine, input::InputSpec};
//! let report = engine::summarize(&[InputSpec::parse("steps.jsonl")], &engine::Config::default())?;
//! println!("{} steps, {} failed", report.sections.steps.total, report.sections.failures.total);
//! # Ok::<(), steplog::Error>(())
//! ```

pub mod agg;
pub mod batch;
pub mod bench;
pub mod dedup;
pub mod engine;
mod error;
pub mod export;
pub mod generate;
pub mod input;
pub mod parse;
pub mod report;
pub mod state;
pub mod threshold;

pub use error::Error;
