//! steplog: fast summaries of OpenAI Assistants run-step logs (JSONL).
//!
//! Data flows one way: [`input`] cuts files and streams into newline-aligned chunks;
//! [`parse`] turns each line into a row of a columnar [`batch::Batch`] with simd-json;
//! [`agg`] folds batches into mergeable aggregates; a [`summary::Summary`] joins them with
//! the inputs they came from; [`report`] holds the result as plain data and renders it.
//! [`engine`] runs the pipeline on a rayon pool (with deduplication as a two-pass
//! strategy), [`state`] saves summaries to merge them later, [`export`] writes rows,
//! [`threshold`] judges reports, and [`bench`] times runs.
//!
//! ```no_run
//! use steplog::{engine, input::InputSpec};
//! let report = engine::summarize(&[InputSpec::parse("steps.jsonl")], &engine::Config::default())?;
//! println!("{} steps, {} failed", report.sections.steps.total, report.sections.failures.total);
//! # Ok::<(), steplog::engine::Error>(())
//! ```

#[macro_use]
mod convert;

pub mod agg;
pub mod batch;
pub mod bench;
pub mod cost;
pub mod diff;
pub mod engine;
pub mod export;
pub mod filter;
pub mod generate;
pub mod input;
pub mod output;
pub mod parse;
pub mod report;
pub mod state;
pub mod summary;
pub mod threshold;
