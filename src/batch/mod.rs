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

pub use column::{Column, I64Column, U64Column, Validity};
pub use dict::{Code, Dict, NULL};

/// Status values known in advance. Their dictionary codes are fixed (the index in this
/// array), so aggregators can test a status with an integer comparison.
pub const KNOWN_STATUSES: [&str; 5] =
    ["in_progress", "cancelled", "failed", "completed", "expired"];
/// Dictionary code of `in_progress`.
pub const STATUS_IN_PROGRESS: Code = 0;
/// Dictionary code of `cancelled`.
pub const STATUS_CANCELLED: Code = 1;
/// Dictionary code of `failed`.
pub const STATUS_FAILED: Code = 2;
/// Dictionary code of `completed`.
pub const STATUS_COMPLETED: Code = 3;
/// Dictionary code of `expired`.
pub const STATUS_EXPIRED: Code = 4;

/// The kind of one tool call. Unknown `type` values are [`ToolKind::Other`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[repr(u8)]
pub enum ToolKind {
    /// `code_interpreter`
    CodeInterpreter,
    /// `file_search`
    FileSearch,
    /// `function`
    Function,
    /// `retrieval` (the 2024 v1 name of file search)
    Retrieval,
    /// any other or missing `type`
    Other,
}

impl ToolKind {
    /// All kinds, in the order reports list them.
    pub const ALL: [ToolKind; 5] = [
        ToolKind::CodeInterpreter,
        ToolKind::FileSearch,
        ToolKind::Function,
        ToolKind::Retrieval,
        ToolKind::Other,
    ];

    /// Classifies a tool call's `type` string.
    pub fn from_type(s: &str) -> ToolKind {
        match s {
            "code_interpreter" => ToolKind::CodeInterpreter,
            "file_search" => ToolKind::FileSearch,
            "function" => ToolKind::Function,
            "retrieval" => ToolKind::Retrieval,
            _ => ToolKind::Other,
        }
    }

    /// The name reports use.
    pub fn as_str(self) -> &'static str {
        match self {
            ToolKind::CodeInterpreter => "code_interpreter",
            ToolKind::FileSearch => "file_search",
            ToolKind::Function => "function",
            ToolKind::Retrieval => "retrieval",
            ToolKind::Other => "other",
        }
    }
}

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
        }
    }
}

/// Usage token counts of one row, as the parser hands them to [`Batch::push`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct UsageRow {
    /// `usage.prompt_tokens`
    pub prompt: Option<u64>,
    /// `usage.completion_tokens`
    pub completion: Option<u64>,
    /// `usage.total_tokens`
    pub total: Option<u64>,
    /// `usage.prompt_token_details.cached_tokens`
    pub cached: Option<u64>,
    /// `usage.completion_tokens_details.reasoning_tokens`
    pub reasoning: Option<u64>,
}

/// Event timestamps of one row (Unix seconds).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TimesRow {
    /// `completed_at`
    pub completed_at: Option<i64>,
    /// `failed_at`
    pub failed_at: Option<i64>,
    /// `cancelled_at`
    pub cancelled_at: Option<i64>,
    /// `expired_at` (in the spec, rarely in real data)
    pub expired_at: Option<i64>,
    /// `expires_at` (the parent run's deadline; real data carries it)
    pub expires_at: Option<i64>,
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
            /// Keep each row's step id as text (for export); off by default, when only
            /// [`Batch::id_hash`] is kept.
            pub keep_ids: bool,
            /// Step ids as text, concatenated (with `keep_ids`).
            pub id_text: String,
            /// Row `i`'s id is `id_text[id_ends[i - 1]..id_ends[i]]` (with `keep_ids`).
            pub id_ends: Vec<u32>,
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
                    keep_ids: false,
                    id_text: String::new(),
                    id_ends: Vec::new(),
                }
            }

            fn clear_rows(&mut self) {
                $(self.$name.clear_rows();)*
            }

            fn truncate_rows(&mut self, n: usize) {
                $(self.$name.truncate_rows(n);)*
            }

            fn push_row_of(&mut self, src: &Batch, i: usize) {
                $(self.$name.push_row_of(&src.$name, i);)*
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

    /// Whether the batch has reached [`Batch::CAPACITY`].
    #[inline]
    pub fn is_full(&self) -> bool {
        self.len() >= Batch::CAPACITY
    }

    /// Drops all rows, keeping allocations and dictionaries.
    pub fn clear(&mut self) {
        self.clear_rows();
        self.tool_offsets.clear();
        self.tool_offsets.push(0);
        self.tool_kind.clear();
        self.tool_function.clear();
        self.id_text.clear();
        self.id_ends.clear();
    }

    /// Row `i`'s step id (only with [`Batch::keep_ids`]).
    pub fn id(&self, i: usize) -> Option<&str> {
        let end = *self.id_ends.get(i)? as usize;
        let start = if i == 0 {
            0
        } else {
            self.id_ends[i - 1] as usize
        };
        self.id_text.get(start..end)
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
            _ => None,
        }
    }

    /// Removes the last row (and its tool calls), as if it had never been pushed.
    pub fn pop_row(&mut self) {
        let Some(n) = self.len().checked_sub(1) else {
            return;
        };
        self.truncate_rows(n);
        self.tool_offsets.truncate(n + 1);
        self.rollback_tools();
        if self.id_ends.len() > n {
            self.id_ends.truncate(n);
            let end = self.id_ends.last().copied().unwrap_or(0) as usize;
            self.id_text.truncate(end);
        }
    }

    /// Appends row `i` of `src` to this batch's columns. The codes are copied as they are,
    /// so they are only meaningful with `src`'s dictionaries (see [`Batch::gather`]).
    fn copy_row(&mut self, src: &Batch, i: usize) {
        self.push_row_of(src, i);
        for t in src.tools(i) {
            self.tool_kind.push(src.tool_kind[t]);
            self.tool_function.push(src.tool_function[t]);
        }
        self.tool_offsets.push(self.tool_kind.len() as u32);
    }

    /// Fills `out` with the given rows of this batch, then lends it this batch's
    /// dictionaries while `f` reads it, so its codes mean what they mean here. Used to
    /// feed one group's rows to that group's aggregators.
    pub fn gather<R>(&mut self, rows: &[u32], out: &mut Batch, f: impl FnOnce(&Batch) -> R) -> R {
        out.clear();
        for &i in rows {
            out.copy_row(self, i as usize);
        }
        std::mem::swap(&mut out.dicts, &mut self.dicts);
        let r = f(out);
        std::mem::swap(&mut out.dicts, &mut self.dicts);
        r
    }

    /// Sets the position of the last row pushed (see [`Batch::pos`]).
    #[inline]
    pub fn set_pos(&mut self, pos: u64) {
        if let Some(p) = self.pos.last_mut() {
            *p = pos;
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
    /// [`Batch::push_tool`] first. String arguments are interned.
    #[allow(clippy::too_many_arguments)]
    pub fn push(
        &mut self,
        id: &str,
        status: &str,
        step_type: Option<&str>,
        assistant: Option<&str>,
        error_code: Option<&str>,
        error_message: Option<&str>,
        created_at: i64,
        times: TimesRow,
        usage: Option<UsageRow>,
    ) {
        let d = &mut self.dicts;
        self.status.push(d.status.intern(status));
        self.step_type.push(d.step_type.intern_opt(step_type));
        self.assistant.push(d.assistant.intern_opt(assistant));
        self.error_code.push(d.error_code.intern_opt(error_code));
        self.error_message
            .push(d.error_message.intern_opt(error_message));
        self.id_hash
            .push(xxhash_rust::xxh3::xxh3_128(id.as_bytes()));
        if self.keep_ids {
            self.id_text.push_str(id);
            self.id_ends.push(self.id_text.len() as u32);
        }
        self.pos.push(0);
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
    }
}

#[cfg(test)]
mod tests;
