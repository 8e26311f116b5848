//! The fixed vocabularies of a row: the statuses known in advance (with fixed codes),
//! the APIs records come from, and the kinds of tool calls.

use super::Code;

/// Status values known in advance. Their dictionary codes are fixed (the index in this
/// array), so aggregators can test a status with an integer comparison.
pub const KNOWN_STATUSES: [&str; 7] = [
    "in_progress",
    "cancelled",
    "failed",
    "completed",
    "expired",
    "incomplete",
    "queued",
];
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
/// Dictionary code of `incomplete` (a response cut short: `incomplete_details.reason`).
pub const STATUS_INCOMPLETE: Code = 5;
/// Dictionary code of `queued` (a background response not yet started).
pub const STATUS_QUEUED: Code = 6;

/// Whether a status code is terminal: the five known final statuses (`incomplete` is a
/// response's). Unknown statuses are neither terminal nor failed.
#[inline]
pub fn is_terminal(code: Code) -> bool {
    (STATUS_IN_PROGRESS + 1..=STATUS_INCOMPLETE).contains(&code)
}

/// Whether a status code is a failure: `failed`, or `incomplete` (a response that
/// ended without its answer, its reason standing for the error code).
#[inline]
pub fn is_failure(code: Code) -> bool {
    code == STATUS_FAILED || code == STATUS_INCOMPLETE
}

/// The `created_at` of an undated row: a failed Batch API request, which has none. The
/// time figures (range, series, hours, days, windows) skip it and count it apart; it is
/// below every real timestamp, which parsing keeps at 1970 or later.
pub const UNDATED: i64 = i64::MIN;

/// A row's `created_at`, or `None` when it is undated (see [`UNDATED`]).
#[inline]
pub fn dated(created_at: i64) -> Option<i64> {
    (created_at != UNDATED).then_some(created_at)
}

/// What a response read from a Batch API output line adds to its model's name as the
/// run table keeps it: costs price it at the batch rate (half the list price) and list
/// it apart from the same model's synchronous calls.
pub const BATCH_MODEL: &str = " (batch)";

/// Which API a record comes from.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[repr(u8)]
pub enum Api {
    /// An Assistants API run step.
    #[default]
    Assistants,
    /// A Responses API response.
    Responses,
}

impl Api {
    /// Both, in the order reports list them.
    pub const ALL: [Api; 2] = [Api::Assistants, Api::Responses];

    /// The name reports, `--group-by api` and `--where api=` use.
    pub fn as_str(self) -> &'static str {
        match self {
            Api::Assistants => "assistants",
            Api::Responses => "responses",
        }
    }

    /// What one record of this API is called, singular and plural.
    pub fn noun(self) -> (&'static str, &'static str) {
        match self {
            Api::Assistants => ("run step", "run steps"),
            Api::Responses => ("response", "responses"),
        }
    }
}

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
    /// `web_search_call` (a response's output item)
    WebSearch,
    /// `mcp_call`, its function column `server.tool`
    Mcp,
    /// `image_generation_call`
    ImageGeneration,
    /// `computer_call`
    Computer,
}

impl ToolKind {
    /// All kinds, in the order reports list them.
    pub const ALL: [ToolKind; 9] = [
        ToolKind::CodeInterpreter,
        ToolKind::FileSearch,
        ToolKind::Function,
        ToolKind::Retrieval,
        ToolKind::Other,
        ToolKind::WebSearch,
        ToolKind::Mcp,
        ToolKind::ImageGeneration,
        ToolKind::Computer,
    ];

    /// The kinds run steps have (the first five; a state of run steps keeps these).
    pub const STEP_KINDS: usize = 5;

    /// Classifies a response's output item `type`; `None` for items that are no tool
    /// call (messages, reasoning, MCP tool listings).
    pub fn from_item(s: &str) -> Option<ToolKind> {
        Some(match s {
            "function_call" | "custom_tool_call" => ToolKind::Function,
            "file_search_call" => ToolKind::FileSearch,
            "code_interpreter_call" => ToolKind::CodeInterpreter,
            "web_search_call" => ToolKind::WebSearch,
            "mcp_call" => ToolKind::Mcp,
            "image_generation_call" => ToolKind::ImageGeneration,
            "computer_call" => ToolKind::Computer,
            "message" | "reasoning" | "mcp_list_tools" | "mcp_approval_request" => return None,
            _ => ToolKind::Other,
        })
    }

    /// Classifies a tool call's `type` string.
    pub fn from_type(s: &str) -> ToolKind {
        match s {
            "code_interpreter" => ToolKind::CodeInterpreter,
            "file_search" => ToolKind::FileSearch,
            "function" => ToolKind::Function,
            "retrieval" => ToolKind::Retrieval,
            "web_search" => ToolKind::WebSearch,
            "mcp" => ToolKind::Mcp,
            "image_generation" => ToolKind::ImageGeneration,
            "computer" => ToolKind::Computer,
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
            ToolKind::WebSearch => "web_search",
            ToolKind::Mcp => "mcp",
            ToolKind::ImageGeneration => "image_generation",
            ToolKind::Computer => "computer",
        }
    }
}
