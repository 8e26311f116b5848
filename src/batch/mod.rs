//! The columnar batch: what one worker has parsed from up to [`Batch::CAPACITY`] records.
//!
//! A batch is a struct of arrays. Every record is one row; strings are dictionary codes
//! ([`Dict`]), numbers live in typed columns with a validity bitmap ([`I64Column`],
//! [`U64Column`]), and the tool calls of a step are a list column (offsets into child
//! columns), as in Arrow. Aggregators read batches; they never see JSON.
//!
//! Batches and their dictionaries are reused: [`Batch::clear`] drops the rows but keeps the
//! allocations and the dictionaries, so a worker allocates only when it meets a string it
//! has never seen before.

mod column;
mod dict;
pub mod pos;
mod row;
mod select;
mod vocab;

pub use column::{Column, I64Column, TextColumn, U64Column, Validity};
pub use dict::{Code, Dict, NULL};
pub use row::{Keep, MetaValue, Row, TimesRow, UsageRow, MAX_METADATA};
pub use vocab::*;

/// The dictionaries of a batch, one per string column.
#[derive(Debug, Clone)]
pub struct Dicts {
    /// `status`, seeded with [`KNOWN_STATUSES`].
    pub status: Dict,
    /// step `type` (falling back to `step_details.type`).
    pub step_type: Dict,
    /// `assistant_id`.
    pub assistant: Dict,
    /// `last_error.code`.
    pub error_code: Dict,
    /// `last_error.message`.
    pub error_message: Dict,
    /// `function.name` of function tool calls.
    pub function: Dict,
    /// A response's own `model` (a run step's model is its run's).
    pub model: Dict,
    /// A response's `service_tier`.
    pub service_tier: Dict,
    /// A response's prompt template id (`prompt.id`).
    pub prompt: Dict,
}

impl Default for Dicts {
    fn default() -> Self {
        Dicts {
            status: Dict::with_seed(&KNOWN_STATUSES),
            step_type: Dict::with_seed(&["message_creation", "tool_calls"]),
            assistant: Dict::default(),
            error_code: Dict::with_seed(&["server_error", "rate_limit_exceeded"]),
            error_message: Dict::default(),
            function: Dict::default(),
            model: Dict::default(),
            service_tier: Dict::with_seed(&["default", "auto", "flex", "priority"]),
            prompt: Dict::default(),
        }
    }
}

/// A step's identifying fields as text, taken out of a batch (an exemplar, a `find`
/// match).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StepFields {
    /// `id`.
    pub id: String,
    /// `run_id`.
    pub run_id: Option<String>,
    /// `thread_id`.
    pub thread_id: Option<String>,
    /// `assistant_id`.
    pub assistant_id: Option<String>,
    /// `status`.
    pub status: String,
    /// `type`.
    pub step_type: Option<String>,
    /// `created_at`.
    pub created_at: i64,
}

/// Which line a row is: its input, the chunk of that input, and the line within the
/// chunk (line numbers are known once every earlier chunk is counted).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Place {
    /// Input index.
    pub file: u32,
    /// Line index within the chunk, from 0.
    pub line: u32,
    /// Chunk index within the input.
    pub chunk: u64,
}

/// Declares [`Batch`]: the per-row columns in one list (so clearing, truncating and
/// copying rows cannot forget one), then the tool-call list column, the dictionaries and
/// the optional step-id text.
macro_rules! batch {
    ($($(#[$doc:meta])* $name:ident: $ty:ty,)*) => {
        /// A columnar batch of run-step records.
        #[derive(Debug, Clone)]
        pub struct Batch {
            $($(#[$doc])* pub $name: $ty,)*
            /// Row `i`'s tool calls are child rows `tool_offsets[i]..tool_offsets[i + 1]`.
            pub tool_offsets: Vec<u32>,
            /// Child column: the kind of each tool call.
            pub tool_kind: Vec<ToolKind>,
            /// Child column: the function name code (into `dicts.function`) of each tool
            /// call, or [`NULL`] for non-function calls and function calls without a name.
            pub tool_function: Vec<Code>,
            /// The string dictionaries; they outlive [`Batch::clear`].
            pub dicts: Dicts,
            /// The optional fields rows keep.
            pub keep: Keep,
            /// Step ids as text (with `keep.ids`; else only [`Batch::id_hash`]).
            pub ids: TextColumn,
            /// `run_id` (with `keep.runs`).
            pub run_id: TextColumn,
            /// `thread_id` (with `keep.threads`).
            pub thread_id: TextColumn,
            /// The values of the `keep.metadata` keys: one column per key, in that order.
            pub metadata: Vec<TextColumn>,
            /// A response's `previous_response_id` (with `keep.runs`).
            pub previous: TextColumn,
            /// Run objects (`thread.run` lines) read since the last clear: their ids…
            pub run_objects: TextColumn,
            /// …and their `model`s.
            pub run_models: TextColumn,
        }

        impl Batch {
            fn with_rows(n: usize) -> Batch {
                let mut tool_offsets = Vec::with_capacity(n + 1);
                tool_offsets.push(0);
                Batch {
                    $($name: Column::with_rows(n),)*
                    tool_offsets,
                    tool_kind: Vec::with_capacity(n * 2),
                    tool_function: Vec::with_capacity(n * 2),
                    dicts: Dicts::default(),
                    keep: Keep::default(),
                    ids: TextColumn::default(),
                    run_id: TextColumn::default(),
                    thread_id: TextColumn::default(),
                    previous: TextColumn::default(),
                    metadata: Vec::new(),
                    run_objects: TextColumn::default(),
                    run_models: TextColumn::default(),
                }
            }

            fn clear_rows(&mut self) {
                $(self.$name.clear_rows();)*
            }

            /// Keeps the per-row columns' rows `rows` (ascending indexes), in order; the
            /// text columns too when they hold every row. The new columns have room for a
            /// full batch, as the old ones had.
            fn select_rows(&mut self, rows: &[usize]) {
                let n = self.len();
                let room = Batch::CAPACITY.max(rows.len());
                $(
                    let old = std::mem::replace(&mut self.$name, Column::with_rows(room));
                    for &i in rows {
                        self.$name.push_row_of(&old, i);
                    }
                )*
                let text = [
                    &mut self.ids,
                    &mut self.run_id,
                    &mut self.thread_id,
                    &mut self.previous,
                ];
                for c in text.into_iter().chain(self.metadata.iter_mut()) {
                    if c.len() == n {
                        let old = std::mem::replace(c, Column::with_rows(room));
                        for &i in rows {
                            c.push_row_of(&old, i);
                        }
                    }
                }
            }

            fn truncate_rows(&mut self, n: usize) {
                $(self.$name.truncate_rows(n);)*
                self.ids.truncate(n);
                self.run_id.truncate(n);
                self.thread_id.truncate(n);
                self.previous.truncate(n);
                for m in &mut self.metadata {
                    m.truncate(n);
                }
            }
        }
    };
}

batch! {
    /// Status code into `dicts.status`; never [`NULL`].
    status: Vec<Code>,
    /// Step type code into `dicts.step_type`, or [`NULL`].
    step_type: Vec<Code>,
    /// Assistant code into `dicts.assistant`, or [`NULL`].
    assistant: Vec<Code>,
    /// `last_error.code` code into `dicts.error_code`, or [`NULL`].
    error_code: Vec<Code>,
    /// `last_error.message` code into `dicts.error_message`, or [`NULL`].
    error_message: Vec<Code>,
    /// 128-bit hash of the step `id` (xxh3): compact and collision-free in practice, used
    /// to recognise snapshots of one step (`--dedup`) and to estimate distinct steps.
    id_hash: Vec<u128>,
    /// Where each row's line starts ([`pos::pack`]). Set by the engine with
    /// [`Batch::set_pos`] after the parser pushed the row; rows built elsewhere have 0.
    pos: Vec<u64>,
    /// Which line each row is (input, chunk, line within the chunk), for the line number
    /// reports give the steps behind a figure. Set by the engine with
    /// [`Batch::set_place`]; rows built elsewhere have the default.
    place: Vec<Place>,
    /// `created_at`, always present.
    created_at: Vec<i64>,
    /// `completed_at`
    completed_at: I64Column,
    /// `failed_at`
    failed_at: I64Column,
    /// `cancelled_at`
    cancelled_at: I64Column,
    /// `expired_at`
    expired_at: I64Column,
    /// `expires_at`
    expires_at: I64Column,
    /// Whether `usage` was an object (as opposed to null or absent).
    has_usage: Validity,
    /// `usage.prompt_tokens`
    prompt_tokens: U64Column,
    /// `usage.completion_tokens`
    completion_tokens: U64Column,
    /// `usage.total_tokens`
    total_tokens: U64Column,
    /// `usage.prompt_token_details.cached_tokens`
    cached_tokens: U64Column,
    /// `usage.completion_tokens_details.reasoning_tokens`
    reasoning_tokens: U64Column,
    /// Which API each row comes from.
    api: Vec<Api>,
    /// A response's own model code into `dicts.model`, or [`NULL`] (run steps).
    model: Vec<Code>,
    /// A response's `service_tier` code into `dicts.service_tier`, or [`NULL`].
    service_tier: Vec<Code>,
    /// A response's prompt template code into `dicts.prompt`, or [`NULL`].
    prompt: Vec<Code>,
    /// Whether a response asks for the next one (see [`Row::pending`]).
    pending: Vec<bool>,
    /// Whether a response came from a Batch API output line (priced at the batch rate).
    from_batch: Vec<bool>,
    /// A response's `reasoning` output items.
    reasoning_items: Vec<u32>,
}

impl Default for Batch {
    fn default() -> Self {
        Batch::new()
    }
}

impl Batch {
    /// Rows a batch holds before the worker hands it to the aggregators. Small enough for
    /// the columns to stay in L2 while aggregators read them, large enough that the
    /// per-batch work of aggregators (folding dictionary codes into keys) is noise.
    pub const CAPACITY: usize = 4096;

    /// An empty batch with room for [`Batch::CAPACITY`] rows.
    pub fn new() -> Batch {
        Batch::with_rows(Batch::CAPACITY)
    }

    /// Number of rows.
    #[inline]
    pub fn len(&self) -> usize {
        self.status.len()
    }

    /// Whether the batch holds no rows.
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.status.is_empty()
    }

    /// Whether the batch has reached [`Batch::CAPACITY`] rows (or run objects).
    #[inline]
    pub fn is_full(&self) -> bool {
        self.len() >= Batch::CAPACITY || self.run_objects.len() >= Batch::CAPACITY
    }

    /// Appends a run object: its id and model.
    pub fn push_run(&mut self, id: &str, model: Option<&str>) {
        self.run_objects.push(Some(id));
        self.run_models.push(model);
    }

    /// Keeps the optional fields `keep` names from now on (call on an empty batch).
    pub fn set_keep(&mut self, keep: Keep) {
        self.metadata = vec![TextColumn::with_capacity(Batch::CAPACITY); keep.metadata.len()];
        self.keep = keep;
    }

    /// Drops all rows, keeping allocations and dictionaries.
    pub fn clear(&mut self) {
        self.clear_rows();
        self.tool_offsets.clear();
        self.tool_offsets.push(0);
        self.tool_kind.clear();
        self.tool_function.clear();
        self.ids.clear();
        self.run_id.clear();
        self.thread_id.clear();
        self.previous.clear();
        for m in &mut self.metadata {
            m.clear();
        }
        self.run_objects.clear();
        self.run_models.clear();
    }

    /// Row `i`'s identifying fields as text (ids only as kept).
    pub fn step_fields(&self, i: usize) -> StepFields {
        let d = &self.dicts;
        StepFields {
            id: self.id(i).unwrap_or_default().to_string(),
            run_id: self.run_id.get(i).map(str::to_string),
            thread_id: self.thread_id.get(i).map(str::to_string),
            assistant_id: d.assistant.get_opt(self.assistant[i]).map(str::to_string),
            status: d.status.get(self.status[i]).to_string(),
            step_type: d.step_type.get_opt(self.step_type[i]).map(str::to_string),
            created_at: self.created_at[i],
        }
    }

    /// Row `i`'s step id (only with `keep.ids`).
    pub fn id(&self, i: usize) -> Option<&str> {
        if i < self.ids.len() {
            self.ids.get(i)
        } else {
            None
        }
    }

    /// Appends one tool call to the row being built. Call before [`Batch::push`] of that
    /// row; [`Batch::rollback_tools`] undoes calls of a row that turned out malformed.
    #[inline]
    pub fn push_tool(&mut self, kind: ToolKind, function: Option<&str>) {
        let code = match function {
            Some(name) => self.dicts.function.intern(name),
            None => NULL,
        };
        self.tool_kind.push(kind);
        self.tool_function.push(code);
    }

    /// Drops tool calls pushed since the last completed row.
    #[inline]
    pub fn rollback_tools(&mut self) {
        let keep = *self.tool_offsets.last().unwrap_or(&0) as usize;
        self.tool_kind.truncate(keep);
        self.tool_function.truncate(keep);
    }

    /// The tool-call child rows of row `i`.
    #[inline]
    pub fn tools(&self, i: usize) -> std::ops::Range<usize> {
        self.tool_offsets[i] as usize..self.tool_offsets[i + 1] as usize
    }

    /// The terminal timestamp of row `i` for its status, as `runstep.md` defines it:
    /// `completed_at`, `failed_at`, `cancelled_at`, or `expired_at` falling back to
    /// `expires_at`. `None` for non-terminal statuses or a missing timestamp.
    #[inline]
    pub fn terminal_at(&self, i: usize) -> Option<i64> {
        match self.status[i] {
            STATUS_COMPLETED => self.completed_at.get(i),
            STATUS_FAILED => self.failed_at.get(i),
            STATUS_CANCELLED => self.cancelled_at.get(i),
            STATUS_EXPIRED => self.expired_at.get(i).or_else(|| self.expires_at.get(i)),
            STATUS_INCOMPLETE => self.completed_at.get(i),
            _ => None,
        }
    }

    /// Row `i`'s duration in seconds: from `created_at` to its terminal timestamp. `None`
    /// for a step that has none, and for one whose terminal time comes before its
    /// creation (clock skew): reports count both as missing, and filters and exemplars
    /// use this same definition.
    #[inline]
    pub fn duration(&self, i: usize) -> Option<i64> {
        self.terminal_at(i)
            .and_then(|t| t.checked_sub(self.created_at[i]))
            .filter(|d| *d >= 0)
    }

    /// Removes the last row (and its tool calls), as if it had never been pushed.
    pub fn pop_row(&mut self) {
        let Some(n) = self.len().checked_sub(1) else {
            return;
        };
        self.truncate_rows(n);
        self.tool_offsets.truncate(n + 1);
        self.rollback_tools();
    }

    /// Marks the last row pushed as read from a Batch API output line.
    pub fn mark_batch(&mut self) {
        if let Some(b) = self.from_batch.last_mut() {
            *b = true;
        }
    }

    /// Whether row `i` is undated (see [`UNDATED`]).
    #[inline]
    pub fn undated(&self, i: usize) -> bool {
        self.created_at[i] == UNDATED
    }

    /// Sets the position of the last row pushed (see [`Batch::pos`]).
    #[inline]
    pub fn set_pos(&mut self, pos: u64) {
        if let Some(p) = self.pos.last_mut() {
            *p = pos;
        }
    }

    /// Sets where the last row pushed is.
    #[inline]
    pub fn set_place(&mut self, place: Place) {
        if let Some(p) = self.place.last_mut() {
            *p = place;
        }
    }

    /// The latest event time of row `i`: the greatest of `created_at` and the terminal
    /// timestamps present (`expires_at`, a deadline, is not an event).
    #[inline]
    pub fn latest_at(&self, i: usize) -> i64 {
        [
            self.completed_at.get(i),
            self.failed_at.get(i),
            self.cancelled_at.get(i),
            self.expired_at.get(i),
        ]
        .into_iter()
        .flatten()
        .fold(self.created_at[i], i64::max)
    }

    /// Appends a complete row; tool calls must have been pushed with
    /// [`Batch::push_tool`] first. Strings are interned, or copied into their text
    /// columns when kept.
    #[inline]
    pub fn push(&mut self, row: &Row<'_>) {
        let Row {
            id,
            status,
            step_type,
            assistant,
            error_code,
            error_message,
            created_at,
            times,
            usage,
            ..
        } = *row;
        let d = &mut self.dicts;
        self.status.push(d.status.intern(status));
        self.step_type.push(d.step_type.intern_opt(step_type));
        self.assistant.push(d.assistant.intern_opt(assistant));
        self.error_code.push(d.error_code.intern_opt(error_code));
        self.error_message
            .push(d.error_message.intern_opt(error_message));
        self.id_hash
            .push(xxhash_rust::xxh3::xxh3_128(id.as_bytes()));
        if self.keep.ids {
            self.ids.push(Some(id));
        }
        self.pos.push(0);
        self.place.push(Place::default());
        self.created_at.push(created_at);
        self.completed_at.push(times.completed_at);
        self.failed_at.push(times.failed_at);
        self.cancelled_at.push(times.cancelled_at);
        self.expired_at.push(times.expired_at);
        self.expires_at.push(times.expires_at);
        self.has_usage.push(usage.is_some());
        let u = usage.unwrap_or_default();
        self.prompt_tokens.push(u.prompt);
        self.completion_tokens.push(u.completion);
        self.total_tokens.push(u.total);
        self.cached_tokens.push(u.cached);
        self.reasoning_tokens.push(u.reasoning);
        self.tool_offsets.push(self.tool_kind.len() as u32);
        if self.keep.runs {
            self.run_id.push(row.run);
        }
        if self.keep.threads {
            self.thread_id.push(row.thread);
        }
        self.api.push(row.api);
        match row.api {
            // A run step has none of a response's own columns: no lookups for it.
            Api::Assistants => {
                self.model.push(NULL);
                self.service_tier.push(NULL);
                self.prompt.push(NULL);
            }
            Api::Responses => {
                let d = &mut self.dicts;
                self.model.push(d.model.intern_opt(row.model));
                self.service_tier
                    .push(d.service_tier.intern_opt(row.service_tier));
                self.prompt.push(d.prompt.intern_opt(row.prompt));
            }
        }
        self.pending.push(row.pending);
        self.from_batch.push(false);
        self.reasoning_items.push(row.reasoning_items);
        if self.keep.runs {
            self.previous.push(row.previous);
        }
        for (i, column) in self.metadata.iter_mut().enumerate() {
            row.metadata
                .get(i)
                .unwrap_or(&MetaValue::Absent)
                .push_to(column);
        }
    }
}

#[cfg(test)]
mod tests;
