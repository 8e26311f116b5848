//! `steplog export --to parquet`: one row per run step with the parsed columns, for Spark,
//! Trino, DuckDB or DataFusion to take over ad-hoc SQL. Built with the `parquet` cargo
//! feature (Arrow and Parquet add about a minute to a release build).
//!
//! Columns: `source_file`, `line_offset` (byte offset of the line in its decompressed
//! input), `id`, `status`, `type`, `assistant_id`, `error_code`, `error_message`,
//! `created_at`, `completed_at`, `failed_at`, `cancelled_at`, `expired_at`, `expires_at`
//! (timestamps with time zone UTC, microsecond unit), `duration_seconds` (as the report computes it),
//! `has_usage`, the five token counts, `tool_calls` (the number of calls),
//! `tool_kinds` and `functions` (lists of strings). Rows are written as workers finish
//! batches, so their order is not the input's: sort by `source_file, line_offset` for
//! that. Snappy-compressed row groups, one per batch of up to 4096 rows.

#[cfg(feature = "parquet")]
pub use parquet_sink::ParquetSink;

/// Why an export could not be written.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Arrow refused the columns.
    #[cfg(feature = "parquet")]
    #[error("cannot build the Arrow columns")]
    Arrow(#[from] arrow_schema::ArrowError),
    /// The Parquet writer failed.
    #[cfg(feature = "parquet")]
    #[error("cannot write Parquet")]
    Parquet(#[from] parquet::errors::ParquetError),
    /// A worker panicked while it held the writer.
    #[error("a worker panicked while writing")]
    Poisoned,
    /// The writer was already finished.
    #[error("the export was already finished")]
    Finished,
}

#[cfg(feature = "parquet")]
mod parquet_sink {
    use super::Error;
    use crate::batch::{pos, Batch};
    use crate::engine::RowSink;
    use arrow_array::builder::{ListBuilder, StringBuilder};
    use arrow_array::{
        ArrayRef, BooleanArray, Int64Array, RecordBatch, StringArray, TimestampMicrosecondArray,
        UInt32Array, UInt64Array,
    };
    use arrow_schema::{DataType, Field, Schema, TimeUnit};
    use parquet::arrow::ArrowWriter;
    use parquet::basic::Compression;
    use parquet::file::properties::WriterProperties;
    use std::io::Write;
    use std::sync::{Arc, Mutex};

    /// Writes batches of run steps as Parquet rows.
    pub struct ParquetSink<W: Write + Send> {
        writer: Mutex<Option<ArrowWriter<W>>>,
        schema: Arc<Schema>,
    }

    /// Seconds to microseconds (timestamps are at most year 9999: no overflow).
    fn micros(secs: i64) -> i64 {
        secs * 1_000_000
    }

    fn schema() -> Arc<Schema> {
        // Microseconds: Parquet has no seconds unit, and Spark, DuckDB and Trino all read
        // micros as TIMESTAMP WITH TIME ZONE.
        let ts = || DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into()));
        let list = || DataType::List(Arc::new(Field::new("item", DataType::Utf8, true)));
        Arc::new(Schema::new(vec![
            Field::new("source_file", DataType::Utf8, false),
            Field::new("line_offset", DataType::UInt64, false),
            Field::new("id", DataType::Utf8, false),
            Field::new("status", DataType::Utf8, false),
            Field::new("type", DataType::Utf8, true),
            Field::new("assistant_id", DataType::Utf8, true),
            Field::new("error_code", DataType::Utf8, true),
            Field::new("error_message", DataType::Utf8, true),
            // Null for an undated record (a failed batch request).
            Field::new("created_at", ts(), true),
            Field::new("completed_at", ts(), true),
            Field::new("failed_at", ts(), true),
            Field::new("cancelled_at", ts(), true),
            Field::new("expired_at", ts(), true),
            Field::new("expires_at", ts(), true),
            Field::new("duration_seconds", DataType::Int64, true),
            Field::new("has_usage", DataType::Boolean, false),
            Field::new("prompt_tokens", DataType::UInt64, true),
            Field::new("completion_tokens", DataType::UInt64, true),
            Field::new("total_tokens", DataType::UInt64, true),
            Field::new("cached_tokens", DataType::UInt64, true),
            Field::new("reasoning_tokens", DataType::UInt64, true),
            Field::new("tool_calls", DataType::UInt32, false),
            Field::new("tool_kinds", list(), false),
            Field::new("functions", list(), false),
        ]))
    }

    impl<W: Write + Send> ParquetSink<W> {
        /// A sink writing to `out`.
        pub fn new(out: W) -> Result<ParquetSink<W>, Error> {
            let schema = schema();
            let props = WriterProperties::builder()
                .set_compression(Compression::SNAPPY)
                .build();
            let writer = ArrowWriter::try_new(out, Arc::clone(&schema), Some(props))?;
            Ok(ParquetSink {
                writer: Mutex::new(Some(writer)),
                schema,
            })
        }

        /// Writes the footer; returns the output.
        pub fn finish(self) -> Result<W, Error> {
            let writer = self
                .writer
                .into_inner()
                .map_err(|_| Error::Poisoned)?
                .ok_or(Error::Finished)?;
            Ok(writer.into_inner()?)
        }

        fn record_batch(&self, b: &Batch, names: &[String]) -> Result<RecordBatch, Error> {
            let n = b.len();
            let d = &b.dicts;
            let strings = |codes: &[u32], dict: &crate::batch::Dict| -> ArrayRef {
                Arc::new(StringArray::from_iter(
                    codes.iter().map(|c| dict.get_opt(*c)),
                ))
            };
            let ts = |col: &crate::batch::I64Column| -> ArrayRef {
                Arc::new(
                    TimestampMicrosecondArray::from_iter((0..n).map(|i| col.get(i).map(micros)))
                        .with_timezone("UTC"),
                )
            };
            let tokens = |col: &crate::batch::U64Column| -> ArrayRef {
                Arc::new(UInt64Array::from_iter((0..n).map(|i| col.get(i))))
            };
            let mut kinds = ListBuilder::new(StringBuilder::new());
            let mut functions = ListBuilder::new(StringBuilder::new());
            for i in 0..n {
                for t in b.tools(i) {
                    kinds.values().append_value(b.tool_kind[t].as_str());
                    if let Some(f) = d.function.get_opt(b.tool_function[t]) {
                        functions.values().append_value(f);
                    }
                }
                kinds.append(true);
                functions.append(true);
            }
            let columns: Vec<ArrayRef> = vec![
                Arc::new(StringArray::from_iter_values(
                    b.pos
                        .iter()
                        .map(|p| names.get(pos::file(*p)).map_or("", String::as_str)),
                )),
                Arc::new(UInt64Array::from_iter_values(
                    b.pos.iter().map(|p| pos::offset(*p)),
                )),
                Arc::new(StringArray::from_iter_values(
                    (0..n).map(|i| b.id(i).unwrap_or_default()),
                )),
                Arc::new(StringArray::from_iter_values(
                    b.status.iter().map(|c| d.status.get(*c)),
                )),
                strings(&b.step_type, &d.step_type),
                strings(&b.assistant, &d.assistant),
                strings(&b.error_code, &d.error_code),
                strings(&b.error_message, &d.error_message),
                Arc::new(
                    TimestampMicrosecondArray::from_iter(
                        b.created_at
                            .iter()
                            .map(|&t| crate::batch::dated(t).map(micros)),
                    )
                    .with_timezone("UTC"),
                ),
                ts(&b.completed_at),
                ts(&b.failed_at),
                ts(&b.cancelled_at),
                ts(&b.expired_at),
                ts(&b.expires_at),
                Arc::new(Int64Array::from_iter((0..n).map(|i| {
                    b.terminal_at(i)
                        .map(|t| t - b.created_at[i])
                        .filter(|d| *d >= 0)
                }))),
                Arc::new(BooleanArray::from_iter(
                    (0..n).map(|i| Some(b.has_usage.get(i))),
                )),
                tokens(&b.prompt_tokens),
                tokens(&b.completion_tokens),
                tokens(&b.total_tokens),
                tokens(&b.cached_tokens),
                tokens(&b.reasoning_tokens),
                Arc::new(UInt32Array::from_iter_values(
                    (0..n).map(|i| b.tools(i).len() as u32),
                )),
                Arc::new(kinds.finish()),
                Arc::new(functions.finish()),
            ];
            Ok(RecordBatch::try_new(Arc::clone(&self.schema), columns)?)
        }
    }

    impl<W: Write + Send> ParquetSink<W> {
        fn write_batch(&self, batch: &Batch, names: &[String]) -> Result<(), Error> {
            // Built outside the lock; only the write is serialised.
            let rb = self.record_batch(batch, names)?;
            let mut guard = self.writer.lock().map_err(|_| Error::Poisoned)?;
            let writer = guard.as_mut().ok_or(Error::Finished)?;
            writer.write(&rb)?;
            // One row group per batch keeps memory flat.
            Ok(writer.flush()?)
        }
    }

    impl<W: Write + Send> RowSink for ParquetSink<W> {
        fn write(
            &self,
            batch: &Batch,
            names: &[String],
        ) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
            Ok(self.write_batch(batch, names)?)
        }
    }
}
