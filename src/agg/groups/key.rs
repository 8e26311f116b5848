//! Group keys as bytes: one component per dimension, each a tag and a value, so that a
//! key means the same in every worker and every state file, hashes as plain bytes, and
//! compares as its values do. A text value is its UTF-8 bytes, a zero byte written as
//! `00 FF`, ended by `00 00`; a day or an hour is its number since the epoch (i64,
//! big-endian, sign bit flipped); a missing value is the tag alone, and sorts first.

use super::{Dim, Models};
use crate::agg::NONE_KEY;
use crate::batch::{Batch, ToolKind, NULL};
use crate::report::format_utc;

const NONE: u8 = 0;
const TEXT: u8 = 1;
const TIME: u8 = 2;

/// Appends a text component.
#[inline]
pub fn push_text(key: &mut Vec<u8>, s: &str) {
    key.push(TEXT);
    let b = s.as_bytes();
    if memchr::memchr(0, b).is_none() {
        key.extend_from_slice(b);
    } else {
        for &c in b {
            key.push(c);
            if c == 0 {
                key.push(0xFF);
            }
        }
    }
    key.extend_from_slice(&[0, 0]);
}

/// Appends a component that is text or missing.
#[inline]
fn push_opt(key: &mut Vec<u8>, s: Option<&str>) {
    match s {
        Some(s) => push_text(key, s),
        None => key.push(NONE),
    }
}

/// Appends a time component.
#[inline]
fn push_time(key: &mut Vec<u8>, n: i64) {
    key.push(TIME);
    key.extend_from_slice(&((n as u64) ^ (1 << 63)).to_be_bytes());
}

/// Calls `f` with each key of row `i` along `dims`: one key, or several when a
/// multi-valued dimension (tool kinds, function names) has several values. `key` is
/// scratch space; `meta` maps each dimension to its metadata column; `models` gives the
/// steps' models (none known without it).
pub fn each_key(
    batch: &Batch,
    i: usize,
    dims: &[Dim],
    meta: &[usize],
    models: Option<&Models>,
    key: &mut Vec<u8>,
    f: &mut dyn FnMut(&[u8]),
) {
    key.clear();
    let row = Row {
        batch,
        i,
        dims,
        meta,
        models,
    };
    along(&row, 0, key, f);
}

/// What [`along`] reads: a row and how its key is formed.
struct Row<'a> {
    batch: &'a Batch,
    i: usize,
    dims: &'a [Dim],
    meta: &'a [usize],
    models: Option<&'a Models>,
}

fn along(row: &Row<'_>, d: usize, key: &mut Vec<u8>, f: &mut dyn FnMut(&[u8])) {
    let Row {
        batch,
        i,
        dims,
        meta,
        models,
    } = *row;
    let Some(dim) = dims.get(d) else {
        f(key);
        return;
    };
    let at = key.len();
    match dim {
        Dim::Tool => {
            let mut seen = 0u8;
            for t in batch.tools(i) {
                let k = batch.tool_kind[t];
                if seen & (1 << k as u8) == 0 {
                    seen |= 1 << k as u8;
                    push_text(key, k.as_str());
                    along(row, d + 1, key, f);
                    key.truncate(at);
                }
            }
            if seen == 0 {
                key.push(NONE);
                along(row, d + 1, key, f);
                key.truncate(at);
            }
            return;
        }
        Dim::Function => {
            let tools = batch.tools(i);
            let mut any = false;
            for t in tools.clone() {
                let code = batch.tool_function[t];
                let function = batch.tool_kind[t] == ToolKind::Function && code != NULL;
                // Each name once: skip it if an earlier call had it.
                let repeat = (tools.start..t).any(|u| {
                    batch.tool_kind[u] == ToolKind::Function && batch.tool_function[u] == code
                });
                if function && !repeat {
                    any = true;
                    push_text(key, batch.dicts.function.get(code));
                    along(row, d + 1, key, f);
                    key.truncate(at);
                }
            }
            if !any {
                key.push(NONE);
                along(row, d + 1, key, f);
                key.truncate(at);
            }
            return;
        }
        Dim::Assistant => push_opt(key, batch.dicts.assistant.get_opt(batch.assistant[i])),
        Dim::Type => push_opt(key, batch.dicts.step_type.get_opt(batch.step_type[i])),
        Dim::Status => push_opt(key, batch.dicts.status.get_opt(batch.status[i])),
        Dim::ErrorCode => push_opt(key, batch.dicts.error_code.get_opt(batch.error_code[i])),
        Dim::Day | Dim::Hour if batch.undated(i) => push_opt(key, None),
        Dim::Day => push_time(key, batch.created_at[i].div_euclid(86_400)),
        Dim::Hour => push_time(key, batch.created_at[i].div_euclid(3600)),
        Dim::Run => push_opt(key, batch.run_id.get(i)),
        Dim::Thread => push_opt(key, batch.thread_id.get(i)),
        Dim::Metadata(_) => push_opt(key, batch.metadata[meta[d]].get(i)),
        Dim::Model => {
            let own = batch.dicts.model.get_opt(batch.model[i]);
            let assistant = batch.dicts.assistant.get_opt(batch.assistant[i]);
            push_opt(
                key,
                own.or_else(|| models.and_then(|m| m.of(batch.run_id.get(i), assistant))),
            )
        }
        Dim::Api => push_opt(key, Some(batch.api[i].as_str())),
        Dim::ServiceTier => push_opt(key, batch.dicts.service_tier.get_opt(batch.service_tier[i])),
        Dim::Prompt => push_opt(key, batch.dicts.prompt.get_opt(batch.prompt[i])),
    }
    along(row, d + 1, key, f);
}

/// Why a key could not be read back (a damaged state file).
pub type Damaged = String;

/// The values of `key`, one per dimension, as reports write them (`(none)` for a
/// missing value).
pub fn names(key: &[u8], dims: &[Dim]) -> Result<Vec<String>, Damaged> {
    Ok(decode(key, dims)?
        .into_iter()
        .map(|v| v.unwrap_or_else(|| NONE_KEY.to_string()))
        .collect())
}

/// The values of `key`, one per dimension; `None` for a missing value.
pub fn decode(key: &[u8], dims: &[Dim]) -> Result<Vec<Option<String>>, Damaged> {
    let mut out = Vec::with_capacity(dims.len());
    let mut rest = key;
    for dim in dims {
        let (&tag, tail) = rest
            .split_first()
            .ok_or_else(|| format!("a group key ends before its `{}` value", dim.name()))?;
        rest = tail;
        match tag {
            NONE => out.push(None),
            TEXT => {
                let mut text = Vec::new();
                loop {
                    let at = memchr::memchr(0, rest).ok_or("a group key is cut short")?;
                    text.extend_from_slice(&rest[..at]);
                    match rest.get(at + 1) {
                        Some(0) => {
                            rest = &rest[at + 2..];
                            break;
                        }
                        Some(0xFF) => {
                            text.push(0);
                            rest = &rest[at + 2..];
                        }
                        _ => return Err("a group key has a stray zero byte".into()),
                    }
                }
                out.push(Some(
                    String::from_utf8(text)
                        .map_err(|_| "a group key value is not UTF-8".to_string())?,
                ));
            }
            TIME => {
                let (n, tail) = take(rest, 8)?;
                let n = (u64::from_be_bytes(n.try_into().expect("8 bytes")) ^ (1 << 63)) as i64;
                out.push(Some(time_name(dim, n)?));
                rest = tail;
            }
            _ => return Err(format!("a group key has an unknown tag {tag}")),
        }
    }
    if !rest.is_empty() {
        return Err("a group key has more values than dimensions".into());
    }
    Ok(out)
}

fn take(b: &[u8], n: usize) -> Result<(&[u8], &[u8]), Damaged> {
    if b.len() < n {
        return Err("a group key is cut short".into());
    }
    Ok(b.split_at(n))
}

/// The name of day or hour number `n`.
fn time_name(dim: &Dim, n: i64) -> Result<String, Damaged> {
    let (seconds, len) = match dim {
        Dim::Day => (n.checked_mul(86_400), 10),
        Dim::Hour => (n.checked_mul(3600), 13),
        other => return Err(format!("a time in a group key for `{}`", other.name())),
    };
    let seconds = seconds
        .filter(|s| (0..=crate::parse::MAX_TIMESTAMP).contains(s))
        .ok_or_else(|| format!("a group key's {} is out of range", dim.name()))?;
    Ok(format_utc(seconds)[..len].to_string())
}

/// The key of the given values (as [`decode`] returns them), for keys read from a state.
pub fn encode(values: &[Option<String>], dims: &[Dim]) -> Result<Vec<u8>, Damaged> {
    if values.len() != dims.len() {
        return Err(format!(
            "a group key has {} values for {} dimensions",
            values.len(),
            dims.len()
        ));
    }
    let mut key = Vec::new();
    for (v, dim) in values.iter().zip(dims) {
        match (v, dim) {
            (None, _) => key.push(NONE),
            (Some(v), Dim::Day | Dim::Hour) => {
                let n = time_number(v, matches!(dim, Dim::Hour))
                    .ok_or_else(|| format!("`{v}` is not a {}", dim.name()))?;
                push_time(&mut key, n);
            }
            (Some(v), _) => push_text(&mut key, v),
        }
    }
    Ok(key)
}

/// `2024-01-05` as days since the epoch, or `2024-01-05T12` as hours.
fn time_number(s: &str, hour: bool) -> Option<i64> {
    let (date, h) = match s.split_once('T') {
        Some((d, h)) if hour && h.len() == 2 && h.bytes().all(|b| b.is_ascii_digit()) => {
            (d, h.parse::<i64>().ok().filter(|h| *h < 24)?)
        }
        None if !hour => (s, 0),
        _ => return None,
    };
    if date.len() != 10 {
        return None;
    }
    let midnight = crate::report::parse_instant(date, 0).ok()?;
    let n = if hour {
        midnight / 3600 + h
    } else {
        midnight / 86_400
    };
    // Only the form this module writes: it must name the same bucket back.
    (time_name(&if hour { Dim::Hour } else { Dim::Day }, n).ok()? == s).then_some(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_compare_as_their_values() {
        let key = |v: &[Option<&str>]| {
            let values: Vec<Option<String>> = v.iter().map(|x| x.map(str::to_string)).collect();
            encode(&values, &[Dim::Assistant, Dim::Run]).unwrap()
        };
        let ordered = [
            key(&[None, Some("z")]),
            key(&[Some(""), None]),
            key(&[Some("a"), Some("b")]),
            key(&[Some("a\0"), None]),
            key(&[Some("a\0b"), None]),
            key(&[Some("a\u{1}"), None]),
            key(&[Some("ab"), None]),
            key(&[Some("é"), None]),
        ];
        for w in ordered.windows(2) {
            assert!(w[0] < w[1], "{:?} < {:?}", w[0], w[1]);
        }
        let days: Vec<Vec<u8>> = ["1970-01-01", "1999-12-31", "2024-02-29"]
            .iter()
            .map(|d| encode(&[Some(d.to_string())], &[Dim::Day]).unwrap())
            .collect();
        assert!(days.windows(2).all(|w| w[0] < w[1]));
        let nul = encode(&[Some("x\0y".into())], &[Dim::Run]).unwrap();
        assert_eq!(
            decode(&nul, &[Dim::Run]).unwrap(),
            vec![Some("x\0y".to_string())]
        );
    }

    #[test]
    fn keys_round_trip_through_their_names() {
        let dims = [Dim::Assistant, Dim::Day, Dim::Hour, Dim::Run];
        let values = vec![
            Some("asst_é".to_string()),
            Some("2024-02-29".to_string()),
            Some("2024-02-29T23".to_string()),
            None,
        ];
        let key = encode(&values, &dims).unwrap();
        assert_eq!(decode(&key, &dims).unwrap(), values);
        assert_eq!(names(&key, &dims).unwrap()[3], "(none)");
        // Damage is an error, never a panic.
        assert!(decode(&key[..key.len() - 1], &dims).is_err());
        assert!(decode(&[9], &dims[..1]).is_err());
        assert!(
            decode(&key, &dims[..2]).is_err(),
            "more values than dimensions"
        );
        assert!(encode(&values[..2], &dims).is_err());
        for bad in ["2024-13-01", "2024-02-29T24", "2024-2-29"] {
            assert!(encode(&[Some(bad.into())], &[Dim::Day]).is_err(), "{bad}");
        }
    }
}
