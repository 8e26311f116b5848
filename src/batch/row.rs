//! One record as the parser hands it to the batch: its fields borrowed from the line,
//! and which optional fields the batch keeps.

use super::column::TextColumn;
use super::vocab::Api;

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

/// At most this many `metadata` keys are kept.
pub const MAX_METADATA: usize = 8;

/// The optional fields a batch keeps; the others are parsed (and checked) but not stored.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Keep {
    /// Step ids as text.
    pub ids: bool,
    /// `run_id`.
    pub runs: bool,
    /// `thread_id`.
    pub threads: bool,
    /// The values of these `metadata` keys, in this order (at most [`MAX_METADATA`]).
    pub metadata: Vec<String>,
}

impl Keep {
    /// Also keeps what `other` keeps (its metadata keys after this one's, so columns
    /// already numbered stay where they are).
    pub fn add(&mut self, other: &Keep) {
        self.ids |= other.ids;
        self.runs |= other.runs;
        self.threads |= other.threads;
        for k in &other.metadata {
            if !self.metadata.contains(k) && self.metadata.len() < MAX_METADATA {
                self.metadata.push(k.clone());
            }
        }
    }
}

/// The value of a `metadata` key, as a row holds it: the spec says strings; other JSON
/// values are kept as their JSON text (`3`, `true`) or their kind (`(object)`).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub enum MetaValue<'a> {
    /// The key is absent, or null, or `metadata` is not an object.
    #[default]
    Absent,
    /// A string.
    Str(&'a str),
    /// An integer.
    Int(i64),
    /// An unsigned integer beyond `i64`.
    UInt(u64),
    /// A float.
    Float(f64),
    /// `true`, `false`, `(object)` or `(array)`.
    Word(&'static str),
}

impl MetaValue<'_> {
    pub(super) fn push_to(&self, column: &mut TextColumn) {
        match *self {
            MetaValue::Absent => column.push(None),
            MetaValue::Str(s) => column.push(Some(s)),
            MetaValue::Word(s) => column.push(Some(s)),
            MetaValue::Int(n) => column.push_display(n),
            MetaValue::UInt(n) => column.push_display(n),
            MetaValue::Float(f) => column.push_display(f),
        }
    }
}

/// One record as the parser hands it to [`Batch::push`].
#[derive(Debug, Clone, Copy, Default)]
pub struct Row<'a> {
    /// `id`
    pub id: &'a str,
    /// `status`
    pub status: &'a str,
    /// `type`, else `step_details.type`
    pub step_type: Option<&'a str>,
    /// `assistant_id`
    pub assistant: Option<&'a str>,
    /// `last_error.code`
    pub error_code: Option<&'a str>,
    /// `last_error.message`
    pub error_message: Option<&'a str>,
    /// `created_at`
    pub created_at: i64,
    /// The terminal timestamps.
    pub times: TimesRow,
    /// `usage`, when it is an object.
    pub usage: Option<UsageRow>,
    /// `run_id`
    pub run: Option<&'a str>,
    /// `thread_id`
    pub thread: Option<&'a str>,
    /// The values of the kept metadata keys, in [`Keep::metadata`] order (none when
    /// the row has no `metadata`).
    pub metadata: &'a [MetaValue<'a>],
    /// Which API the record comes from.
    pub api: Api,
    /// A response's `model`.
    pub model: Option<&'a str>,
    /// A response's `service_tier`.
    pub service_tier: Option<&'a str>,
    /// A response's `previous_response_id`.
    pub previous: Option<&'a str>,
    /// A response's prompt template id (`prompt.id`).
    pub prompt: Option<&'a str>,
    /// A response's `reasoning` output items (not tool calls; counted apart).
    pub reasoning_items: u32,
    /// Whether the response asks for the next one (a function or computer call, an MCP
    /// approval request): a response that names it as previous continues its run.
    pub pending: bool,
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
