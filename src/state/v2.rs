//! Version 2 of the state file: version 1 ([`super::v1`]) with compact groups. Everything
//! but `summary.groups` is laid out as in version 1. Groups are:
//!
//! ```text
//! "groups": { "dims": [DIM],
//!             "groups": [ { "key": [S|null],            one value per dimension
//!                           "steps": N,
//!                           "by_status": { STATUS: N },
//!                           "failures": [ [CODE|null, N] ],
//!                           "usage": SUMS,                 as in version 1
//!                           "first_created_at": SECS, "last_created_at": SECS,
//!                           "durations": DURATIONS } ] }
//! ```
//!
//! Groups are sorted by key. `DURATIONS` is either `{"exact": {STATUS: [SECS]}}`, every
//! duration of each terminal status sorted (a group of at most 64 durations), or
//! `{"histograms": {STATUS: {"count", "sum", "min", "max", "buckets": [[B, N]]}}}`, where
//! bucket `B` holds durations `v` with `v = B` below 256, and above it, for
//! `e = floor(log2 v)`, `B = 256 + (e - 8) * 128 + ((v >> (e - 7)) & 127)`.

use super::v1::{self, DedupV1, FiguresV1, FileV1, Invalid, LinesV1, SettingsV1, SumsV1};
use super::v3::{ExemplarsV3, RunsIn, RunsOut};
use super::v4::{CostIn, CostOut};
use crate::agg::groups::sketch::{EXACT, SLOTS};
use crate::agg::groups::{decode_key, encode_key, GroupFigures, Hist, Sketch, NO_CODE, STATUSES};
use crate::agg::{Aggregates, Exemplars, Groups, Runs, TooManyGroups, UsageSums};
use crate::input::FileInfo;
use crate::summary::{Summary, View};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The whole file. `G` is how the groups are held: written straight from the summary's
/// table ([`GroupsOut`]), read as raw text first and then one group at a time, so that a
/// state of millions of groups never exists twice in memory.
#[derive(Serialize, Deserialize)]
pub(super) struct StateV2<G, R, C> {
    /// Always `steplog-state`.
    pub format: String,
    /// 2, or 3 with runs and exemplars ([`super::v3`]).
    pub version: u32,
    pub settings: SettingsV1,
    pub files: Vec<FileV1>,
    pub summary: SummaryV2<G, R, C>,
}

#[derive(Serialize, Deserialize)]
pub(super) struct SummaryV2<G, R, C> {
    lines: LinesV1,
    figures: FiguresV1,
    /// The HyperLogLog registers, base64.
    distinct: String,
    dedup: Option<DedupV1>,
    groups: G,
    filtered_out: u64,
    /// `day` or `hour`: how the summary renders by default.
    interval: String,
    /// Runs and threads (version 3, when counted).
    #[serde(default = "none", skip_serializing_if = "Option::is_none")]
    runs: Option<R>,
    /// Exemplar steps (version 3, when kept).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    exemplars: Option<ExemplarsV3>,
    /// The cost ledger (version 4, when kept).
    #[serde(default = "none", skip_serializing_if = "Option::is_none")]
    cost: Option<C>,
    /// The `created_at` range of the records the time window left out (version 4, when
    /// it left any).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    outside_window: Option<[i64; 2]>,
    /// The links between responses (version 5, when runs are counted and there are
    /// responses): `[ID, PREVIOUS|null, ASKS_FOR_NEXT]`, ids as their 128-bit hashes in
    /// hex, sorted. Runs are written with their chains folded; a response whose run
    /// began in another state joins it when the states merge.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    links: Vec<(String, Option<String>, bool)>,
}

fn hex(h: u128) -> String {
    format!("{h:032x}")
}

fn unhex(s: &str) -> Result<u128, Invalid> {
    match s.len() {
        32 => u128::from_str_radix(s, 16).map_err(|_| format!("links: {s:?} is not hex")),
        _ => Err(format!("links: {s:?} is not 32 hex digits")),
    }
}

/// An absent field read as `None` (without asking its type for a default).
fn none<T>() -> Option<T> {
    None
}

/// The groups of a summary, as a state file writes them.
pub(super) struct GroupsOut<'a>(&'a Groups);

impl Serialize for GroupsOut<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let (groups, t) = (self.0, &self.0.table);
        let dims = groups.dims();
        // Sorted by key: the key bytes sort as their values do.
        let mut order: Vec<usize> = (0..t.len()).collect();
        order.sort_unstable_by(|a, b| t.key(*a).cmp(t.key(*b)));
        let all = Sorted(
            order
                .iter()
                .map(|&g| group_of(t.key(g), &t.figures[g], dims, |c| t.codes.get(c))),
        );
        let mut st = s.serialize_struct("groups", 2)?;
        st.serialize_field("dims", &v1::dims(dims))?;
        st.serialize_field("groups", &all)?;
        st.end()
    }
}

/// A sequence written from an iterator, one element at a time.
struct Sorted<I>(I);

impl<I: Iterator<Item = GroupV2> + Clone> Serialize for Sorted<I> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.0.clone())
    }
}

/// The groups as read: their text (borrowed from the file's), turned into groups by
/// [`read_groups`].
pub(super) type GroupsRaw<'a> = &'a serde_json::value::RawValue;

#[derive(Serialize, Deserialize)]
struct GroupV2 {
    key: Vec<Option<String>>,
    steps: u64,
    by_status: BTreeMap<String, u64>,
    failures: Vec<(Option<String>, u64)>,
    usage: SumsV1,
    first_created_at: i64,
    last_created_at: i64,
    durations: DurationsV2,
}

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
enum DurationsV2 {
    Exact(BTreeMap<String, Vec<u64>>),
    Histograms(BTreeMap<String, HistV2>),
}

#[derive(Serialize, Deserialize)]
struct HistV2 {
    count: u64,
    sum: u128,
    min: u64,
    max: u64,
    buckets: Vec<(u16, u64)>,
}

fn slot(status: &str) -> Result<usize, Invalid> {
    SLOTS
        .iter()
        .position(|s| *s == status)
        .ok_or_else(|| format!("`{status}` has no durations: it is not a terminal status"))
}

impl<'a> SummaryV2<GroupsOut<'a>, RunsOut<'a>, CostOut<'a>> {
    pub fn of(s: &'a Summary) -> SummaryV2<GroupsOut<'a>, RunsOut<'a>, CostOut<'a>> {
        let a = &s.aggregates;
        SummaryV2 {
            lines: LinesV1::of(&s.lines),
            figures: FiguresV1::of(&a.figures),
            distinct: v1::distinct_text(&a.distinct),
            dedup: s.dedup.map(DedupV1::of),
            groups: GroupsOut(&a.groups),
            filtered_out: s.filtered_out,
            outside_window: s.outside.bounds.map(|(a, b)| [a, b]),
            links: a
                .chains
                .entries()
                .into_iter()
                .map(|(id, parent, pending)| (hex(id), parent.map(hex), pending))
                .collect(),
            interval: s.view.interval.as_str().to_string(),
            runs: a.runs.enabled.then_some(RunsOut(&a.runs, &a.table)),
            exemplars: (a.exemplars.n > 0).then(|| ExemplarsV3::of(&a.exemplars)),
            cost: a.ledger.enabled.then(|| CostOut {
                ledger: &a.ledger,
                table: &a.table,
                group_rank: group_rank(&a.groups),
            }),
        }
    }
}

/// Each group's position among the groups as a state writes them (sorted by key).
fn group_rank(groups: &Groups) -> Vec<u32> {
    let t = &groups.table;
    let mut order: Vec<usize> = (0..t.len()).collect();
    order.sort_unstable_by(|a, b| t.key(*a).cmp(t.key(*b)));
    let mut rank = vec![0u32; order.len()];
    for (i, g) in order.into_iter().enumerate() {
        rank[g] = i as u32;
    }
    rank
}

/// Why reading the groups stopped.
pub(super) enum GroupsError {
    /// They are damaged.
    Invalid(Invalid),
    /// There are more than allowed.
    TooMany(TooManyGroups),
}

/// Reads the groups' text one group at a time into a table of at most `max` groups.
fn read_groups(raw: &serde_json::value::RawValue, max: usize) -> Result<Groups, GroupsError> {
    use serde::de::{DeserializeSeed, Error as _, MapAccess, SeqAccess, Visitor};
    use std::cell::RefCell;

    /// What the visitors fill in, and why they stopped if they did.
    struct Sink {
        groups: Option<Groups>,
        failed: Option<GroupsError>,
        max: usize,
    }

    struct Object<'s>(&'s RefCell<Sink>);
    struct List<'s>(&'s RefCell<Sink>);

    impl<'de> Visitor<'de> for Object<'_> {
        type Value = ();
        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("an object with dims and groups")
        }
        fn visit_map<A: MapAccess<'de>>(self, mut m: A) -> Result<(), A::Error> {
            while let Some(k) = m.next_key::<String>()? {
                match k.as_str() {
                    "dims" => {
                        let names: Vec<String> = m.next_value()?;
                        let mut sink = self.0.borrow_mut();
                        let dims = v1::parse_dims(&names).map_err(A::Error::custom)?;
                        let groups = Groups::new(&dims, sink.max);
                        if groups.dims() != dims {
                            return Err(A::Error::custom("the group dimensions repeat"));
                        }
                        sink.groups = Some(groups);
                    }
                    "groups" => {
                        if self.0.borrow().groups.is_none() {
                            return Err(A::Error::custom("`groups` comes before `dims`"));
                        }
                        m.next_value_seed(List(self.0))?;
                    }
                    _ => {
                        m.next_value::<serde::de::IgnoredAny>()?;
                    }
                }
            }
            Ok(())
        }
    }

    impl<'de> DeserializeSeed<'de> for List<'_> {
        type Value = ();
        fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
            d.deserialize_seq(self)
        }
    }

    impl<'de> Visitor<'de> for List<'_> {
        type Value = ();
        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("a list of groups")
        }
        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
            while let Some(g) = seq.next_element::<GroupV2>()? {
                let mut sink = self.0.borrow_mut();
                let sink = &mut *sink;
                let max = sink.max;
                let groups = sink.groups.as_mut().expect("dims came first");
                if let Err(e) = add_group(groups, g, max) {
                    sink.failed = Some(e);
                    return Err(A::Error::custom("stopped"));
                }
            }
            Ok(())
        }
    }

    let sink = RefCell::new(Sink {
        groups: None,
        failed: None,
        max,
    });
    let mut de = serde_json::Deserializer::from_str(raw.get());
    let read = serde::Deserializer::deserialize_map(&mut de, Object(&sink));
    let sink = sink.into_inner();
    if let Some(e) = sink.failed {
        return Err(e);
    }
    read.map_err(|e| GroupsError::Invalid(e.to_string()))?;
    sink.groups
        .ok_or_else(|| GroupsError::Invalid("the groups have no `dims`".into()))
}

/// Adds one group read from a state.
fn add_group(groups: &mut Groups, g: GroupV2, max: usize) -> Result<(), GroupsError> {
    let invalid = GroupsError::Invalid;
    let key = encode_key(&g.key, groups.dims()).map_err(invalid)?;
    let table = &mut groups.table;
    let before = table.len();
    let at = table
        .group(&key, max)
        .ok_or(GroupsError::TooMany(TooManyGroups {
            limit: max,
            seen: max + 1,
        }))?;
    if table.len() == before {
        return Err(invalid("two groups have the same key".into()));
    }
    let failures = g
        .failures
        .iter()
        .map(|(code, n)| {
            let c = code.as_deref().map_or(NO_CODE, |c| table.codes.intern(c));
            (c, *n)
        })
        .collect();
    table.figures[at] = figures_of(g, failures).map_err(invalid)?;
    Ok(())
}

impl<'a> SummaryV2<GroupsRaw<'a>, RunsIn<'a>, CostIn<'a>> {
    /// The summary over `files`, with at most `max_groups` groups and `max_runs` runs.
    pub fn into_summary(
        self,
        files: Vec<FileInfo>,
        max_groups: usize,
        max_runs: usize,
    ) -> Result<Summary, GroupsError> {
        let groups = read_groups(self.groups, max_groups)?;
        let invalid = GroupsError::Invalid;
        let mut table = crate::agg::RunTable::new(max_runs);
        let runs = match self.runs {
            Some(r) => r.into_runs(&mut table).map_err(invalid)?,
            None => Runs::default(),
        };
        let ledger = match self.cost {
            Some(c) => c.into_ledger(&mut table).map_err(invalid)?,
            None => crate::agg::Ledger::default(),
        };
        let mut chains = crate::agg::chains::Chains::new(max_runs);
        for (i, (id, parent, pending)) in self.links.iter().enumerate() {
            if i > 0 && self.links[i - 1].0 >= *id {
                return Err(invalid(format!(
                    "links are not sorted and distinct at {id:?}"
                )));
            }
            let parent = parent.as_deref().map(unhex).transpose().map_err(invalid)?;
            chains
                .insert(unhex(id).map_err(invalid)?, parent, *pending)
                .map_err(|e| invalid(e.to_string()))?;
        }
        Ok(Summary {
            files,
            lines: self.lines.into_stats().map_err(invalid)?,
            filtered_out: self.filtered_out,
            window: (None, None),
            outside: crate::agg::TimeRange {
                bounds: match self.outside_window {
                    Some([a, b]) if a <= b => Some((a, b)),
                    Some(_) => {
                        return Err(GroupsError::Invalid("outside_window is reversed".into()))
                    }
                    None => None,
                },
            },
            aggregates: Aggregates {
                figures: self.figures.into_figures().map_err(invalid)?,
                distinct: v1::distinct(&self.distinct).map_err(invalid)?,
                groups,
                table,
                runs,
                chains,
                exemplars: self
                    .exemplars
                    .map_or_else(|| Exemplars::new(0), ExemplarsV3::into_exemplars),
                ledger,
                ..Aggregates::default()
            },
            dedup: self.dedup.map(|d| d.folded()),
            pricing: Default::default(),
            view: View {
                interval: v1::interval(&self.interval).map_err(invalid)?,
                ..View::default()
            },
        })
    }
}

fn group_of<'a>(
    key: &[u8],
    f: &GroupFigures,
    dims: &[crate::agg::Dim],
    code: impl Fn(u32) -> &'a str,
) -> GroupV2 {
    let by_status = f.status_counts();
    let mut failures: Vec<(Option<String>, u64)> = f
        .failures
        .iter()
        .map(|&(c, n)| ((c != NO_CODE).then(|| code(c).to_string()), n))
        .collect();
    failures.sort();
    let durations = match f.durations.exact_values() {
        Some(values) => {
            let mut by: BTreeMap<String, Vec<u64>> = BTreeMap::new();
            for (slot, v) in values {
                by.entry(SLOTS[slot].to_string()).or_default().push(v);
            }
            DurationsV2::Exact(by)
        }
        None => {
            let hists = f
                .durations
                .histograms()
                .map(|h| h.as_slice())
                .unwrap_or(&[]);
            DurationsV2::Histograms(
                hists
                    .iter()
                    .enumerate()
                    .filter(|(_, h)| h.count > 0)
                    .map(|(s, h)| {
                        let v = HistV2 {
                            count: h.count,
                            sum: h.sum,
                            min: h.min,
                            max: h.max,
                            buckets: h.buckets.clone(),
                        };
                        (SLOTS[s].to_string(), v)
                    })
                    .collect(),
            )
        }
    };
    let sums = f.usage_sums();
    GroupV2 {
        key: decode_key(key, dims).unwrap_or_default(),
        steps: f.steps,
        by_status,
        failures,
        usage: (&sums).into(),
        first_created_at: f.first,
        last_created_at: f.last,
        durations,
    }
}

fn figures_of(g: GroupV2, failures: Vec<(u32, u64)>) -> Result<GroupFigures, Invalid> {
    let mut f = GroupFigures {
        steps: g.steps,
        failures,
        first: g.first_created_at,
        last: g.last_created_at,
        ..GroupFigures::default()
    };
    for (status, n) in g.by_status {
        match STATUSES.iter().position(|s| *s == status) {
            Some(i) => f.statuses[i] = n,
            None => {
                f.other_statuses
                    .get_or_insert_with(Box::default)
                    .insert(status, n);
            }
        }
    }
    let sums: UsageSums = (&g.usage).into();
    f.usage = [
        sums.steps_with_usage,
        sums.prompt_tokens,
        sums.completion_tokens,
        sums.total_tokens,
        sums.cached_tokens,
        sums.reasoning_tokens,
    ];
    f.durations = match g.durations {
        DurationsV2::Exact(by) => {
            let mut s = Sketch::default();
            let n: usize = by.values().map(Vec::len).sum();
            if n > EXACT {
                return Err(format!("{n} exact durations in a group (at most {EXACT})"));
            }
            for (status, values) in by {
                let at = slot(&status)?;
                for v in values {
                    s.record(at, v)
                        .map_err(|_| "a group's durations do not fit".to_string())?;
                }
            }
            s
        }
        DurationsV2::Histograms(by) => {
            let mut hists: [Hist; 4] = Default::default();
            for (status, h) in by {
                hists[slot(&status)?] = Hist {
                    buckets: h.buckets,
                    count: h.count,
                    sum: h.sum,
                    min: h.min,
                    max: h.max,
                };
            }
            Sketch::from_histograms(hists)?
        }
    };
    Ok(f)
}
