//! Why a line is not a record: the reasons steplog counts, with a human message.

use std::fmt;

/// The reason a line was counted as malformed. The `as_str` names are part of the JSON
/// contract (`input.malformed_by_reason`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Reason {
    /// Not valid JSON (RFC 8259), including invalid UTF-8 and nesting deeper than 1024.
    InvalidJson,
    /// Valid JSON, but not an object.
    NotAnObject,
    /// An object whose `object` field names something other than a run step, its delta or
    /// a run.
    NotARunStep,
    /// `id`, `created_at` or `status` is absent.
    MissingField,
    /// A field steplog reads has the wrong JSON type (e.g. a string `created_at`).
    WrongType,
    /// A number outside its field's range (a negative token count, a timestamp beyond
    /// year 9999 or before 1970, an integer beyond 64 bits).
    OutOfRange,
    /// A line longer than `--max-line-bytes`; skipped without being parsed or buffered.
    TooLong,
}

impl Reason {
    /// Every reason, in report order.
    pub const ALL: [Reason; 7] = [
        Reason::InvalidJson,
        Reason::NotAnObject,
        Reason::NotARunStep,
        Reason::MissingField,
        Reason::WrongType,
        Reason::OutOfRange,
        Reason::TooLong,
    ];

    /// The stable name used in reports.
    pub fn as_str(self) -> &'static str {
        match self {
            Reason::InvalidJson => "invalid_json",
            Reason::NotAnObject => "not_an_object",
            Reason::NotARunStep => "not_a_run_step",
            Reason::MissingField => "missing_field",
            Reason::WrongType => "wrong_type",
            Reason::OutOfRange => "out_of_range",
            Reason::TooLong => "too_long",
        }
    }
}

impl Reason {
    /// The reason called `name` (as [`Reason::as_str`] writes it).
    pub fn parse(name: &str) -> Option<Reason> {
        Reason::ALL.into_iter().find(|r| r.as_str() == name)
    }
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A malformed line: the reason plus what is needed to explain it. Cheap to build (no
/// allocation); the message is only formatted for the lines that get reported.
#[derive(Debug, PartialEq)]
pub struct Malformed {
    /// Why.
    pub reason: Reason,
    /// The field at fault, as a dotted path (`usage.total_tokens`), if any.
    pub field: Option<&'static str>,
    /// What the field should have been (`"integer or null"`).
    pub expected: &'static str,
    detail: Detail,
}

#[derive(Debug, PartialEq)]
enum Detail {
    None,
    /// simd-json's error; the line's first `skip` bytes were an event-stream prefix.
    Json {
        error: simd_json::Error,
        skip: usize,
    },
    Object(ObjectName),
    Length {
        len: u64,
        max: u64,
    },
}

/// The first [`ObjectName::MAX`] bytes of an `object` value (cut at a character boundary),
/// held inline so a line that is not a run step costs no allocation.
#[derive(Debug, PartialEq)]
struct ObjectName {
    bytes: [u8; ObjectName::MAX],
    len: u8,
}

impl ObjectName {
    const MAX: usize = 64;

    fn new(s: &str) -> ObjectName {
        let mut len = s.len().min(Self::MAX);
        while !s.is_char_boundary(len) {
            len -= 1;
        }
        let mut bytes = [0; Self::MAX];
        bytes[..len].copy_from_slice(&s.as_bytes()[..len]);
        ObjectName {
            bytes,
            len: len as u8,
        }
    }

    fn as_str(&self) -> &str {
        std::str::from_utf8(&self.bytes[..self.len as usize]).unwrap_or_default()
    }
}

impl Malformed {
    pub(crate) fn invalid_json(error: simd_json::Error, skip: usize) -> Self {
        Malformed {
            reason: Reason::InvalidJson,
            field: None,
            expected: "",
            detail: Detail::Json { error, skip },
        }
    }

    /// For invalid JSON: simd-json's error and where the JSON starts in the line.
    pub(super) fn json_error(&self) -> Option<(&simd_json::Error, usize)> {
        match &self.detail {
            Detail::Json { error, skip } => Some((error, *skip)),
            _ => None,
        }
    }

    /// A line of `len` bytes, over the limit of `max`.
    pub fn too_long(len: u64, max: u64) -> Self {
        Malformed {
            reason: Reason::TooLong,
            field: None,
            expected: "",
            detail: Detail::Length { len, max },
        }
    }

    pub(crate) fn not_an_object() -> Self {
        Malformed {
            reason: Reason::NotAnObject,
            field: None,
            expected: "",
            detail: Detail::None,
        }
    }

    pub(crate) fn not_a_run_step(object: &str) -> Self {
        Malformed {
            reason: Reason::NotARunStep,
            field: Some("object"),
            expected: "",
            detail: Detail::Object(ObjectName::new(object)),
        }
    }

    pub(crate) fn missing(field: &'static str) -> Self {
        Malformed {
            reason: Reason::MissingField,
            field: Some(field),
            expected: "",
            detail: Detail::None,
        }
    }

    pub(crate) fn wrong_type(field: &'static str, expected: &'static str) -> Self {
        Malformed {
            reason: Reason::WrongType,
            field: Some(field),
            expected,
            detail: Detail::None,
        }
    }

    pub(crate) fn out_of_range(field: &'static str, expected: &'static str) -> Self {
        Malformed {
            reason: Reason::OutOfRange,
            field: Some(field),
            expected,
            detail: Detail::None,
        }
    }

    /// A one-line human explanation. Invalid JSON is explained better by
    /// [`super::LineParser::explain`], which can read the line.
    pub fn message(&self) -> String {
        let field = self.field.unwrap_or("");
        match (&self.detail, self.reason) {
            (Detail::Json { error, .. }, _) => super::explain::from_simd(error),
            (Detail::Length { len, max }, _) => {
                format!("line of {len} bytes is longer than --max-line-bytes ({max}); skipped")
            }
            (Detail::Object(o), _) => {
                let o = o.as_str();
                format!("\"object\" is {o:?}, not \"thread.run.step\", \"thread.run.step.delta\" or \"thread.run\"")
            }
            (_, Reason::NotAnObject) => "valid JSON but not an object".to_string(),
            (_, Reason::MissingField) => format!("missing required field `{field}`"),
            (_, Reason::WrongType) => {
                format!("`{field}` has the wrong type (expected {})", self.expected)
            }
            (_, Reason::OutOfRange) => {
                format!("`{field}` is out of range (expected {})", self.expected)
            }
            (_, r) => r.to_string(),
        }
    }
}
