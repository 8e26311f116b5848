//! Reading values off a simd-json tape: spans, object members, and the typed values
//! run-step fields hold (timestamps, token counts, strings, objects), each with the
//! malformed-line reason its failure gives.

use super::malformed::Malformed;
use simd_json::{Node, StaticNode};

/// Latest accepted timestamp: 9999-12-31T23:59:59Z. Earliest: the Unix epoch.
pub const MAX_TIMESTAMP: i64 = 253_402_300_799;
pub(super) const TIMESTAMP: &str = "an integer number of seconds between 1970 and 9999, or null";
pub(super) const CREATED_AT: &str = "an integer number of seconds between 1970 and 9999";
pub(super) const TOKENS: &str = "an integer from 0 to 18446744073709551615, or null";
pub(super) const STRING_OR_NULL: &str = "a string or null";
pub(super) const OBJECT_OR_NULL: &str = "an object or null";

/// Number of tape nodes the value at `tape[i]` spans.
#[inline]
pub(super) fn span(node: &Node<'_>) -> usize {
    match node {
        Node::Object { count, .. } | Node::Array { count, .. } => count + 1,
        _ => 1,
    }
}

/// Iterates the `(key, value index)` pairs of the object at `tape[at]`.
#[inline]
pub(super) fn members<'t, 'a>(
    tape: &'t [Node<'a>],
    at: usize,
) -> impl Iterator<Item = (&'a str, usize)> + 't {
    let len = match tape[at] {
        Node::Object { len, .. } => len,
        _ => 0,
    };
    let mut i = at + 1;
    (0..len).map(move |_| {
        let key = match tape[i] {
            Node::String(k) => k,
            // simd-json rejects non-string keys before building a tape.
            _ => "",
        };
        let v = i + 1;
        i = v + span(&tape[v]);
        (key, v)
    })
}

/// An integer as i64: JSON integers, and floats with an integral value (`1.7e9`,
/// `1699063291.0`, as re-serialising tools write them) within 2^53.
#[inline]
pub(super) fn integer(node: &Node<'_>) -> Result<Option<i64>, bool> {
    // Err(true) = out of range, Err(false) = wrong type.
    match *node {
        Node::Static(StaticNode::I64(v)) => Ok(Some(v)),
        Node::Static(StaticNode::U64(v)) => i64::try_from(v).map(Some).map_err(|_| true),
        Node::Static(StaticNode::F64(f)) if f.fract() == 0.0 => {
            if f.abs() <= (1u64 << 53) as f64 {
                Ok(Some(f as i64))
            } else {
                Err(true)
            }
        }
        Node::Static(StaticNode::Null) => Ok(None),
        _ => Err(false),
    }
}

#[inline]
pub(super) fn timestamp(
    node: &Node<'_>,
    field: &'static str,
    expected: &'static str,
) -> Result<Option<i64>, Malformed> {
    match integer(node) {
        Ok(Some(v)) if !(0..=MAX_TIMESTAMP).contains(&v) => {
            Err(Malformed::out_of_range(field, expected))
        }
        Ok(v) => Ok(v),
        Err(true) => Err(Malformed::out_of_range(field, expected)),
        Err(false) => Err(Malformed::wrong_type(field, expected)),
    }
}

#[inline]
pub(super) fn tokens(node: &Node<'_>, field: &'static str) -> Result<Option<u64>, Malformed> {
    // Every value a u64 holds is a count; sums of them are checked, never wrapped.
    if let Node::Static(StaticNode::U64(v)) = *node {
        return Ok(Some(v));
    }
    match integer(node) {
        Ok(Some(v)) => u64::try_from(v)
            .map(Some)
            .map_err(|_| Malformed::out_of_range(field, TOKENS)),
        Ok(None) => Ok(None),
        Err(true) => Err(Malformed::out_of_range(field, TOKENS)),
        Err(false) => Err(Malformed::wrong_type(field, TOKENS)),
    }
}

#[inline]
pub(super) fn string_or_null<'a>(
    node: &Node<'a>,
    field: &'static str,
) -> Result<Option<&'a str>, Malformed> {
    match *node {
        Node::String(s) => Ok(Some(s)),
        Node::Static(StaticNode::Null) => Ok(None),
        _ => Err(Malformed::wrong_type(field, STRING_OR_NULL)),
    }
}

/// A string, or null (which the caller records as a null required field).
#[inline]
pub(super) fn required_string<'a>(
    node: &Node<'a>,
    field: &'static str,
) -> Result<Option<&'a str>, Malformed> {
    string_or_null(node, field).map_err(|_| Malformed::wrong_type(field, "a string"))
}

#[inline]
pub(super) fn object_or_null(node: &Node<'_>, field: &'static str) -> Result<bool, Malformed> {
    match node {
        Node::Object { .. } => Ok(true),
        Node::Static(StaticNode::Null) => Ok(false),
        _ => Err(Malformed::wrong_type(field, OBJECT_OR_NULL)),
    }
}

/// The token count `key` of the details object (or null) at `tape[at]`, named
/// `object` and `field` in reasons: `usage.prompt_token_details.cached_tokens` and the
/// like, which run steps and responses both carry.
pub(super) fn detail_tokens(
    tape: &[Node<'_>],
    at: usize,
    key: &str,
    object: &'static str,
    field: &'static str,
) -> Result<Option<u64>, Malformed> {
    let mut n = None;
    if object_or_null(&tape[at], object)? {
        for (k, v) in members(tape, at) {
            if k == key {
                n = tokens(&tape[v], field)?;
            }
        }
    }
    Ok(n)
}

/// A required field as read: absent, present but null, or a value. The last occurrence of
/// a repeated key decides.
#[derive(Debug, Clone, Copy, Default)]
pub(super) enum Required<T> {
    #[default]
    Absent,
    Null,
    Value(T),
}

impl<T> Required<T> {
    pub(super) fn from_option(v: Option<T>) -> Required<T> {
        v.map_or(Required::Null, Required::Value)
    }

    /// The value, or why there is none.
    pub(super) fn get(self, field: &'static str, expected: &'static str) -> Result<T, Malformed> {
        match self {
            Required::Value(v) => Ok(v),
            Required::Null => Err(Malformed::wrong_type(field, expected)),
            Required::Absent => Err(Malformed::missing(field)),
        }
    }
}
