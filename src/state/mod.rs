//! State files: a summary as a value that merges exactly, written by `steplog partial`
//! (or `summary --save-state`), combined by `steplog merge`, rendered by `steplog report`.
//!
//! A state is JSON in an explicit, versioned layout ([`v1`]): a format tag and version,
//! the settings that shaped it, the inputs it covers, and every aggregate the reports
//! need: counts and sums, the maps keyed by the values seen, hourly time buckets, the
//! HyperLogLog registers of step ids, and each duration histogram in HdrHistogram's
//! standard V2 encoding with DEFLATE, in base64, so other tools can read them.
//!
//! Merging is exact, associative and commutative: a merged state lists its inputs sorted
//! by path (whatever the order of the arguments), and an empty state with the same
//! settings is the identity. States whose settings differ (grouping, time window, line
//! limit, deduplication) or whose version is unknown are refused.

mod hdr;
mod v1;
mod v2;
mod v3;
mod v4;

use crate::agg::{self, Dim, Overflow, TooManyGroups};
use crate::engine::{Config, Outcome};
use crate::report::Report;
use crate::summary::{Summary, View};
use serde::Deserialize;
use std::io;
use std::path::Path;

/// The `format` tag of every state file.
pub const FORMAT: &str = "steplog-state";
/// The state layout version this build writes. It reads every version from 1 to this one.
/// Version 5 adds records by API and undated records to the steps, the four tool kinds of
/// responses, and the links between responses (see [`v2`]).
pub const VERSION: u32 = 5;

/// What a state's figures depend on besides its inputs: states merge only when these
/// are equal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    /// `--group-by` dimensions, in order.
    pub group_by: Vec<Dim>,
    /// `--since`, Unix seconds.
    pub since: Option<i64>,
    /// `--until`, Unix seconds.
    pub until: Option<i64>,
    /// `--dedup` (deduplicated within each state's inputs).
    pub dedup: bool,
    /// `--max-line-bytes`.
    pub max_line_bytes: u64,
    /// Whether runs and threads are counted (`--no-runs` turns them off).
    pub runs: bool,
    /// `--exemplars`.
    pub exemplars: usize,
    /// `--where`, in its normal form.
    pub filter: Option<String>,
    /// Whether the cost ledger is kept (`--no-cost` leaves it out).
    pub cost: bool,
}

/// The most groups and runs a state read or merged may hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// `--max-groups`.
    pub groups: usize,
    /// `--max-runs` (runs, and threads).
    pub runs: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            groups: crate::agg::DEFAULT_MAX_GROUPS,
            runs: crate::agg::DEFAULT_MAX_RUNS,
        }
    }
}

impl Settings {
    /// The settings of a run with `cfg`.
    pub fn of(cfg: &Config) -> Settings {
        Settings {
            group_by: cfg.group_by.clone(),
            since: cfg.window.since,
            until: cfg.window.until,
            dedup: cfg.dedup,
            max_line_bytes: cfg.max_line_bytes,
            runs: cfg.runs,
            exemplars: cfg.exemplars,
            filter: cfg.filter.as_ref().map(|f| f.text().to_string()),
            cost: cfg.cost,
        }
    }
}

/// A state's summary as read, before it is converted.
enum Parsed<'a> {
    V1(Box<v1::SummaryV1>),
    V2(Box<v2::SummaryV2<v2::GroupsRaw<'a>, v3::RunsIn<'a>, v4::CostIn<'a>>>),
}

/// A summary that can be saved, merged and rendered later.
#[derive(Debug, Clone)]
pub struct State {
    /// What the figures depend on.
    pub settings: Settings,
    /// The inputs covered (sorted by path) and their aggregates.
    pub summary: Summary,
}

/// Why a state cannot be read or merged.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The file could not be read.
    #[error("cannot read state {path}")]
    Read {
        /// The path.
        path: String,
        /// The cause.
        #[source]
        source: io::Error,
    },
    /// Not a state file, or a damaged one.
    #[error("{path} is not a steplog state file: {why}")]
    Invalid {
        /// The path.
        path: String,
        /// What is wrong.
        why: String,
    },
    /// Written by a newer (or older, incompatible) steplog.
    #[error("{path} is a version {found} state; this steplog reads versions 1 to {VERSION}")]
    Version {
        /// The path.
        path: String,
        /// The version in the file.
        found: u32,
    },
    /// Merging would make more groups than allowed.
    #[error(transparent)]
    TooManyGroups(#[from] TooManyGroups),
    /// Merging would make more runs or threads than allowed.
    #[error(transparent)]
    TooManyRuns(#[from] agg::TooManyRuns),
    /// Chains of responses met spilled runs.
    #[error(transparent)]
    Chains(agg::Error),
    /// Merging would pass the largest value a count or sum holds.
    #[error("the merged states do not fit")]
    Overflow(#[from] Overflow),
    /// Settings differ, so the figures do not add up.
    #[error("cannot merge states made with different settings ({what}): {a} vs {b}")]
    Incompatible {
        /// Which setting.
        what: &'static str,
        /// One side's value.
        a: String,
        /// The other's.
        b: String,
    },
}

/// What orders inputs in a state: path, then size, compression and line counts.
type FileKey = (String, u64, Option<&'static str>, (u64, [u64; 6], Vec<u64>));

fn file_key(s: &Summary, i: usize) -> FileKey {
    let f = &s.files[i];
    (
        f.name.clone(),
        f.bytes,
        f.compression.map(|c| c.as_str()),
        s.lines.file_key(i),
    )
}

impl From<agg::Error> for Error {
    fn from(e: agg::Error) -> Error {
        match e {
            agg::Error::Overflow(o) => Error::Overflow(o),
            agg::Error::TooManyGroups(g) => Error::TooManyGroups(g),
            agg::Error::TooManyRuns(r) => Error::TooManyRuns(r),
            e @ agg::Error::ChainsSpilled(_) => Error::Chains(e),
        }
    }
}

impl State {
    /// An empty state (no inputs) with `settings`: the identity of [`State::merge`].
    pub fn empty(settings: Settings) -> State {
        let limits = Limits::default();
        let mut summary = Summary::default();
        let a = &mut summary.aggregates;
        a.groups = agg::Groups::new(&settings.group_by, limits.groups);
        a.table = agg::RunTable::new(limits.runs);
        a.runs = agg::Runs::new(settings.runs, limits.runs);
        a.exemplars = agg::Exemplars::new(settings.exemplars);
        a.ledger = agg::Ledger::new(settings.cost);
        summary.window = (settings.since, settings.until);
        State { settings, summary }
    }

    /// The state of a finished run (taken, not copied: a grouped summary is large).
    pub fn of(outcome: Outcome, cfg: &Config) -> State {
        let mut s = State {
            settings: Settings::of(cfg),
            summary: outcome.summary,
        };
        s.sort_files();
        s
    }

    /// Merges `other` in. Refuses states made with other settings.
    pub fn merge(&mut self, other: State) -> Result<(), Error> {
        let (a, b) = (&self.settings, &other.settings);
        let differ = |what: &'static str, x: String, y: String| {
            Err(Error::Incompatible { what, a: x, b: y })
        };
        if a.group_by != b.group_by {
            let list = |d: &[Dim]| match d {
                [] => "no grouping".to_string(),
                d => Dim::list(d),
            };
            return differ("--group-by", list(&a.group_by), list(&b.group_by));
        }
        if (a.since, a.until) != (b.since, b.until) {
            let window = |since: Option<i64>, until: Option<i64>| {
                let at =
                    |t: Option<i64>| t.map_or_else(|| "…".to_string(), crate::report::format_utc);
                format!("{}..{}", at(since), at(until))
            };
            return differ(
                "--since/--until",
                window(a.since, a.until),
                window(b.since, b.until),
            );
        }
        if a.dedup != b.dedup {
            return differ("--dedup", a.dedup.to_string(), b.dedup.to_string());
        }
        if a.max_line_bytes != b.max_line_bytes {
            return differ(
                "--max-line-bytes",
                a.max_line_bytes.to_string(),
                b.max_line_bytes.to_string(),
            );
        }
        if a.runs != b.runs {
            let runs = |r: bool| if r { "runs counted" } else { "no runs" }.to_string();
            return differ(
                "--no-runs (or a state older than runs)",
                runs(a.runs),
                runs(b.runs),
            );
        }
        if a.exemplars != b.exemplars {
            return differ(
                "--exemplars",
                a.exemplars.to_string(),
                b.exemplars.to_string(),
            );
        }
        if a.cost != b.cost {
            let cost = |c: bool| if c { "costs kept" } else { "no costs" }.to_string();
            return differ(
                "--no-cost (or a state older than costs)",
                cost(a.cost),
                cost(b.cost),
            );
        }
        if a.filter != b.filter {
            let w = |f: &Option<String>| f.clone().unwrap_or_else(|| "no --where".into());
            return differ("--where", w(&a.filter), w(&b.filter));
        }
        // Both sides numbered as the merged state orders its inputs before they merge,
        // so that ties between copies of one step in two inputs break the same way
        // whichever state comes first.
        let n = self.summary.files.len();
        let mut keys: Vec<(FileKey, usize)> = (0..n)
            .map(|i| (file_key(&self.summary, i), i))
            .chain((0..other.summary.files.len()).map(|i| (file_key(&other.summary, i), n + i)))
            .collect();
        keys.sort();
        let order: Vec<usize> = keys.into_iter().map(|(_, i)| i).collect();
        self.summary.merge_ordered(other.summary, &order)?;
        Ok(())
    }

    /// Puts the inputs in path order (then by size and counts, so equal paths order the
    /// same way every time), renumbering the line accounting, runs and exemplars to match.
    fn sort_files(&mut self) {
        let s = &self.summary;
        let mut keys: Vec<(FileKey, usize)> =
            (0..s.files.len()).map(|i| (file_key(s, i), i)).collect();
        keys.sort();
        let order: Vec<usize> = keys.into_iter().map(|(_, i)| i).collect();
        self.summary.reorder(&order);
    }

    /// The report, shown as `view` says.
    pub fn report(&self, view: View) -> Report {
        self.summary.report_as(view)
    }

    /// Reads a state file, refusing more groups or runs than `limits`.
    pub fn read(path: &Path, limits: Limits) -> Result<State, Error> {
        let name = path.display().to_string();
        let text = std::fs::read(path).map_err(|source| Error::Read {
            path: name.clone(),
            source,
        })?;
        State::from_json(&text, &name, limits)
    }

    /// Reads a state from its JSON text; errors call it `name`.
    pub fn from_json(text: &[u8], name: &str, limits: Limits) -> Result<State, Error> {
        let max_groups = limits.groups;
        let name = name.to_string();
        // The tag and version first, so an old or foreign file gets a clear message.
        #[derive(Deserialize)]
        struct Head {
            format: Option<String>,
            version: Option<u32>,
        }
        let invalid = |why: String| Error::Invalid {
            path: name.clone(),
            why,
        };
        let not_steps = |why: String| match holds_steps(text) {
            Some(what) => invalid(format!(
                "it holds {what}: summarise it with `steplog summary {name}`"
            )),
            None => invalid(why),
        };
        let head: Head = serde_json::from_slice(text).map_err(|e| not_steps(e.to_string()))?;
        if head.format.as_deref() != Some(FORMAT) {
            return Err(not_steps(format!("its \"format\" is not \"{FORMAT}\"")));
        }
        let (settings, files, summary) = match head.version {
            Some(1) => {
                let file: v1::StateV1 =
                    serde_json::from_slice(text).map_err(|e| invalid(e.to_string()))?;
                (
                    file.settings,
                    file.files,
                    Parsed::V1(Box::new(file.summary)),
                )
            }
            Some(2..=VERSION) => {
                let file: v2::StateV2<v2::GroupsRaw<'_>, v3::RunsIn<'_>, v4::CostIn<'_>> =
                    serde_json::from_slice(text).map_err(|e| invalid(e.to_string()))?;
                (
                    file.settings,
                    file.files,
                    Parsed::V2(Box::new(file.summary)),
                )
            }
            Some(found) => return Err(Error::Version { path: name, found }),
            None => return Err(invalid("it has no \"version\"".into())),
        };
        if let Parsed::V1(s) = &summary {
            if s.groups() > max_groups {
                return Err(Error::TooManyGroups(TooManyGroups {
                    limit: max_groups,
                    seen: s.groups(),
                }));
            }
        }
        let settings = Settings {
            group_by: v1::parse_dims(&settings.group_by).map_err(invalid)?,
            since: settings.since,
            until: settings.until,
            dedup: settings.dedup,
            max_line_bytes: settings.max_line_bytes,
            runs: settings.runs,
            exemplars: settings.exemplars,
            filter: settings.filter,
            cost: settings.cost,
        };
        let files = files
            .into_iter()
            .map(v1::FileV1::into_info)
            .collect::<Result<Vec<_>, _>>()
            .map_err(invalid)?;
        let summary = match summary {
            Parsed::V1(s) => s.into_summary(files, max_groups).map_err(invalid)?,
            Parsed::V2(s) => {
                s.into_summary(files, max_groups, limits.runs)
                    .map_err(|e| match e {
                        v2::GroupsError::Invalid(why) => invalid(why),
                        v2::GroupsError::TooMany(g) => Error::TooManyGroups(g),
                    })?
            }
        };
        summary.check().map_err(invalid)?;
        let a = &summary.aggregates;
        if a.ledger.enabled != settings.cost {
            return Err(invalid(
                "its cost ledger is not what its settings say".to_string(),
            ));
        }
        if a.runs.enabled != settings.runs || a.exemplars.n != settings.exemplars {
            return Err(invalid(
                "its runs or exemplars are not what its settings say".to_string(),
            ));
        }
        if summary.aggregates.groups.dims() != settings.group_by {
            return Err(invalid(format!(
                "its groups are along '{}' but its settings say --group-by '{}'",
                Dim::list(summary.aggregates.groups.dims()),
                Dim::list(&settings.group_by)
            )));
        }
        // Written sorted; a state edited by hand reads the same as if it had been.
        let mut summary = summary;
        summary.window = (settings.since, settings.until);
        // Its runs were written with their chains folded: this files each response's
        // costs under its run again.
        summary.aggregates.resolve_chains(false)?;
        let mut state = State { settings, summary };
        state.sort_files();
        Ok(state)
    }

    /// The state as JSON text.
    pub fn to_json(&self) -> String {
        let mut out = Vec::new();
        self.write_json(&mut out).expect("writing to memory");
        String::from_utf8(out).expect("JSON is UTF-8")
    }

    /// Writes the state as JSON to `out`, group by group.
    pub fn write_json(&self, out: &mut dyn io::Write) -> io::Result<()> {
        let s = &self.settings;
        let file = v2::StateV2 {
            format: FORMAT.to_string(),
            version: VERSION,
            settings: v1::SettingsV1 {
                group_by: v1::dims(&s.group_by),
                since: s.since,
                until: s.until,
                dedup: s.dedup,
                max_line_bytes: s.max_line_bytes,
                runs: s.runs,
                exemplars: s.exemplars,
                filter: s.filter.clone(),
                cost: s.cost,
            },
            files: self.summary.files.iter().map(v1::FileV1::of).collect(),
            summary: v2::SummaryV2::of(&self.summary),
        };
        serde_json::to_writer(out, &file).map_err(io::Error::other)
    }
}

/// What a file given as a state holds instead, if it is what `summary` reads: the shape
/// of its first line that is not blank.
fn holds_steps(text: &[u8]) -> Option<&'static str> {
    if crate::input::Compression::detect(text).is_some() {
        return Some("compressed data (states are plain JSON)");
    }
    let text = text.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(text);
    let first = text
        .split(|&b| b == b'\n')
        .find(|l| !l.iter().all(u8::is_ascii_whitespace))?;
    let first = first.trim_ascii();
    if first.starts_with(b"[") || crate::input::document::detect(text) {
        return Some("a JSON document of run steps or pages");
    }
    if first.starts_with(b"data:") || first.starts_with(b"event:") {
        return Some("a recorded event stream");
    }
    let value: serde_json::Value = serde_json::from_slice(first).ok()?;
    let object = value.get("object").and_then(serde_json::Value::as_str);
    let id = value.get("id").and_then(serde_json::Value::as_str);
    match (object, id) {
        (Some(o), _) if o.starts_with("thread.run") => Some("JSON lines of run steps or runs"),
        (_, Some(i)) if i.starts_with("step_") || i.starts_with("run_") => {
            Some("JSON lines of run steps or runs")
        }
        _ => None,
    }
}
