//! `--group-by`: every figure per group of steps.
//!
//! A group is a combination of values of the chosen dimensions (assistant, step type,
//! status, tool kind, function name, error code, day, hour). Rows are sorted into groups
//! per batch, by dictionary code, and each group's rows are fed to that group's own
//! [`Figures`] through [`Batch::gather`]; group keys become strings once per group and
//! batch, not per row. `tool` and `function` are multi-valued: a step that called two
//! kinds of tool is in both tool groups (and in `(none)` if it called none), so group
//! counts along those dimensions can add up to more than the steps.

use super::{Figures, NONE_KEY};
use crate::batch::{Batch, Code, ToolKind, NULL};
use crate::report::format_utc;
use std::collections::{BTreeMap, HashMap};

/// A dimension to group by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Dim {
    /// `assistant_id`
    Assistant,
    /// step type
    Type,
    /// `status`
    Status,
    /// tool kind called (multi-valued)
    Tool,
    /// function name called (multi-valued)
    Function,
    /// `last_error.code`
    ErrorCode,
    /// UTC day of `created_at`
    Day,
    /// UTC hour of `created_at`
    Hour,
}

impl Dim {
    /// Every dimension.
    pub const ALL: [Dim; 8] = [
        Dim::Assistant,
        Dim::Type,
        Dim::Status,
        Dim::Tool,
        Dim::Function,
        Dim::ErrorCode,
        Dim::Day,
        Dim::Hour,
    ];

    /// The name used on the command line and in reports.
    pub fn as_str(self) -> &'static str {
        match self {
            Dim::Assistant => "assistant",
            Dim::Type => "type",
            Dim::Status => "status",
            Dim::Tool => "tool",
            Dim::Function => "function",
            Dim::ErrorCode => "error_code",
            Dim::Day => "day",
            Dim::Hour => "hour",
        }
    }

    /// Dimensions as written on the command line: `assistant,day`.
    pub fn list(dims: &[Dim]) -> String {
        dims.iter()
            .map(|d| d.as_str())
            .collect::<Vec<_>>()
            .join(",")
    }

    /// The dimension called `name`.
    pub fn parse(name: &str) -> Option<Dim> {
        Dim::ALL.into_iter().find(|d| d.as_str() == name)
    }
}

/// At most this many dimensions at once.
pub const MAX_DIMS: usize = 8;

type CodeKey = [i64; MAX_DIMS];

/// Per-group figures for a fixed list of dimensions.
#[derive(Debug, Clone, Default)]
pub struct Groups {
    dims: Vec<Dim>,
    pub(crate) groups: HashMap<Vec<String>, Figures>,
}

impl Groups {
    /// Groups along `dims` (at most [`MAX_DIMS`], duplicates ignored).
    pub fn new(dims: &[Dim]) -> Groups {
        let mut d: Vec<Dim> = Vec::new();
        for &dim in dims {
            if !d.contains(&dim) && d.len() < MAX_DIMS {
                d.push(dim);
            }
        }
        Groups {
            dims: d,
            groups: HashMap::new(),
        }
    }

    /// Groups along `dims` holding `groups` (as a state file stores them).
    pub fn from_parts(dims: Vec<Dim>, groups: HashMap<Vec<String>, Figures>) -> Groups {
        Groups { dims, groups }
    }

    /// The dimensions.
    pub fn dims(&self) -> &[Dim] {
        &self.dims
    }

    /// Whether grouping is on.
    pub fn is_enabled(&self) -> bool {
        !self.dims.is_empty()
    }

    /// Sorts the rows of `batch` into groups and updates each group; `scratch` holds one
    /// group's rows at a time.
    pub fn update(&mut self, batch: &mut Batch, scratch: &mut Batch) {
        if self.dims.is_empty() || batch.is_empty() {
            return;
        }
        let mut rows: HashMap<CodeKey, Vec<u32>> = HashMap::new();
        let mut keys: Vec<CodeKey> = Vec::new();
        for i in 0..batch.len() {
            keys.clear();
            keys.push([0; MAX_DIMS]);
            for (d, dim) in self.dims.iter().enumerate() {
                let values = values(batch, i, *dim);
                let n = keys.len();
                for (j, v) in values.iter().enumerate() {
                    if j == 0 {
                        for k in keys.iter_mut().take(n) {
                            k[d] = *v;
                        }
                    } else {
                        for k in 0..n {
                            let mut key = keys[k];
                            key[d] = *v;
                            keys.push(key);
                        }
                    }
                }
            }
            for k in &keys {
                rows.entry(*k).or_default().push(i as u32);
            }
        }
        for (key, sel) in rows {
            let name: Vec<String> = self
                .dims
                .iter()
                .enumerate()
                .map(|(d, dim)| name(batch, *dim, key[d]))
                .collect();
            let figures = self.groups.entry(name).or_default();
            batch.gather(&sel, scratch, |g| figures.update(g));
        }
    }

    /// Merges another worker's groups (same dimensions).
    pub fn merge(&mut self, other: Groups) {
        if self.dims.is_empty() {
            self.dims = other.dims;
        }
        for (k, f) in other.groups {
            match self.groups.get_mut(&k) {
                Some(mine) => mine.merge(f),
                None => {
                    self.groups.insert(k, f);
                }
            }
        }
    }

    /// The groups, sorted by key.
    pub fn sorted(&self) -> BTreeMap<&[String], &Figures> {
        self.groups.iter().map(|(k, v)| (k.as_slice(), v)).collect()
    }
}

/// Values of `dim` for row `i`: dictionary codes, time buckets, or tool kinds.
fn values(batch: &Batch, i: usize, dim: Dim) -> Vec<i64> {
    let one = |c: Code| vec![i64::from(c)];
    match dim {
        Dim::Assistant => one(batch.assistant[i]),
        Dim::Type => one(batch.step_type[i]),
        Dim::Status => one(batch.status[i]),
        Dim::ErrorCode => one(batch.error_code[i]),
        Dim::Day => vec![batch.created_at[i].div_euclid(86_400)],
        Dim::Hour => vec![batch.created_at[i].div_euclid(3600)],
        Dim::Tool => {
            let mut seen: Vec<i64> = Vec::new();
            for t in batch.tools(i) {
                let k = batch.tool_kind[t] as i64;
                if !seen.contains(&k) {
                    seen.push(k);
                }
            }
            if seen.is_empty() {
                seen.push(-1);
            }
            seen
        }
        Dim::Function => {
            let mut seen: Vec<i64> = Vec::new();
            for t in batch.tools(i) {
                let f = batch.tool_function[t];
                if batch.tool_kind[t] == ToolKind::Function && !seen.contains(&i64::from(f)) {
                    seen.push(i64::from(f));
                }
            }
            if seen.is_empty() {
                seen.push(i64::from(NULL));
            }
            seen
        }
    }
}

/// The report name of value `v` of `dim`.
fn name(batch: &Batch, dim: Dim, v: i64) -> String {
    let dict = |d: &crate::batch::Dict| {
        let c = v as Code;
        if c == NULL {
            NONE_KEY.to_string()
        } else {
            d.get(c).to_string()
        }
    };
    match dim {
        Dim::Assistant => dict(&batch.dicts.assistant),
        Dim::Type => dict(&batch.dicts.step_type),
        Dim::Status => dict(&batch.dicts.status),
        Dim::ErrorCode => dict(&batch.dicts.error_code),
        Dim::Function => dict(&batch.dicts.function),
        Dim::Tool => ToolKind::ALL
            .iter()
            .find(|k| **k as i64 == v)
            .map_or(NONE_KEY, |k| k.as_str())
            .to_string(),
        Dim::Day => format_utc(v * 86_400)[..10].to_string(),
        Dim::Hour => format_utc(v * 3600)[..13].to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::agg::testutil::{batch, step};

    #[test]
    fn groups_rows_by_every_dimension_and_merges() {
        let t0 = 1_700_006_400; // 2023-11-15T00:00:00Z
        let lines = [
            step(
                "completed",
                t0,
                r#""assistant_id":"a","step_details":{"type":"tool_calls","tool_calls":[{"type":"function","function":{"name":"f"}},{"type":"code_interpreter"}]}"#,
            ),
            step(
                "failed",
                t0 + 3600,
                r#""assistant_id":"a","last_error":{"code":"server_error"}"#,
            ),
            step("completed", t0 + 86_400, r#""assistant_id":"b""#),
        ];
        let lines: Vec<&str> = lines.iter().map(String::as_str).collect();
        let mut scratch = Batch::new();
        let mut g = Groups::new(&[Dim::Assistant, Dim::Tool]);
        g.update(&mut batch(&lines), &mut scratch);
        let keys: Vec<Vec<String>> = g.sorted().keys().map(|k| k.to_vec()).collect();
        let s = |a: &str, b: &str| vec![a.to_string(), b.to_string()];
        assert_eq!(
            keys,
            vec![
                s("a", "(none)"),
                s("a", "code_interpreter"),
                s("a", "function"),
                s("b", "(none)")
            ]
        );
        let sorted = g.sorted();
        let fig = |k: Vec<String>| sorted[k.as_slice()].steps.total();
        assert_eq!(fig(s("a", "function")), 1);
        assert_eq!(fig(s("a", "(none)")), 1);

        let mut days = Groups::new(&[Dim::Day, Dim::Hour, Dim::Status, Dim::ErrorCode]);
        days.update(&mut batch(&lines[..2]), &mut scratch);
        let mut later = Groups::new(&[Dim::Day, Dim::Hour, Dim::Status, Dim::ErrorCode]);
        later.update(&mut batch(&lines[2..]), &mut scratch);
        days.merge(later);
        let keys: Vec<Vec<String>> = days.sorted().keys().map(|k| k.to_vec()).collect();
        assert_eq!(keys.len(), 3);
        assert_eq!(
            keys[1],
            vec!["2023-11-15", "2023-11-15T01", "failed", "server_error"]
        );
        assert_eq!(Dim::parse("error_code"), Some(Dim::ErrorCode));
        assert_eq!(Dim::parse("nope"), None);
    }
}
