//! Conversions between the version-1 structs and the aggregators, both ways.

use super::*;
use crate::agg::groups::{encode_key, GroupFigures, NO_CODE, STATUSES};
use crate::agg::{
    Aggregates, Bucket, Dim, DistinctIds, DurationStats, Example, Figures, FileCounts, Groups,
    Interval, LineCounts, LinePos, LineStats, TimeRange, UsageSums, SIGNIFICANT_DIGITS,
};
use crate::batch::ToolKind;
use crate::input::{Compression, FileInfo, Shape};
use crate::parse::Reason;
use crate::summary::{Folded, Summary, View};
use base64::Engine as _;
use hdrhistogram::Histogram;
use std::collections::BTreeMap;

same_fields!(LineCounts => CountsV1 { lines, records, runs, blank_lines, deltas, framing, malformed });
same_fields!(CountsV1 => LineCounts { lines, records, runs, blank_lines, deltas, framing, malformed });
same_fields!(UsageSums => SumsV1 {
    steps_with_usage, prompt_tokens, completion_tokens, total_tokens, cached_tokens,
    reasoning_tokens
});
same_fields!(SumsV1 => UsageSums {
    steps_with_usage, prompt_tokens, completion_tokens, total_tokens, cached_tokens,
    reasoning_tokens
});
same_fields!(Bucket => BucketV1 {
    steps, failed, failures_by_code, prompt_tokens, completion_tokens, total_tokens
});
same_fields!(BucketV1 => Bucket {
    steps, failed, failures_by_code, prompt_tokens, completion_tokens, total_tokens
});

// ---------------------------------------------------------------- to the file

/// Dimension names.
pub(in crate::state) fn dims(d: &[Dim]) -> Vec<String> {
    d.iter().map(Dim::name).collect()
}

impl FileV1 {
    pub fn of(f: &FileInfo) -> FileV1 {
        FileV1 {
            name: f.name.clone(),
            bytes: f.bytes,
            compression: f.compression.map(|c| c.as_str().to_string()),
            shape: f.shape.map(|s| s.as_str().to_string()),
        }
    }
}

impl LinesV1 {
    pub(in crate::state) fn of(l: &LineStats) -> LinesV1 {
        LinesV1 {
            files: l
                .files
                .iter()
                .map(|f| FileCountsV1 {
                    totals: (&f.totals).into(),
                    chunk_lines: f.chunk_lines.clone(),
                    chunk_spans: f.chunk_spans.clone(),
                })
                .collect(),
            by_reason: ReasonCounts(
                l.by_reason
                    .iter()
                    .map(|(r, n)| (r.as_str().to_string(), *n))
                    .collect(),
            ),
            examples: l
                .examples
                .iter()
                .map(|e| ExampleV1 {
                    pos: PosV1 {
                        file: e.pos.file,
                        chunk: e.pos.chunk,
                        line: e.pos.line,
                        offset: e.pos.offset,
                    },
                    reason: e.reason.as_str().to_string(),
                    field: e.field.clone(),
                    message: e.message.clone(),
                })
                .collect(),
        }
    }
}

impl FiguresV1 {
    pub(in crate::state) fn of(f: &Figures) -> FiguresV1 {
        let (s, t, x, d, u) = (&f.steps, &f.tools, &f.failures, &f.durations, &f.usage);
        FiguresV1 {
            steps: StepsV1 {
                total: s.total,
                by_status: s.by_status.clone(),
                by_type: s.by_type.clone(),
                by_api: (s.by_api[1] > 0).then_some(s.by_api),
                undated: s.undated,
            },
            tools: ToolsV1 {
                // The five kinds of run steps, and the responses' when any was made.
                by_kind: match t.by_kind[ToolKind::STEP_KINDS..].iter().any(|&n| n > 0) {
                    true => t.by_kind.to_vec(),
                    false => t.by_kind[..ToolKind::STEP_KINDS].to_vec(),
                },
                functions: t.functions.clone(),
                mcp: t.mcp.clone(),
                reasoning_items: t.reasoning_items,
            },
            failures: FailuresV1 {
                total: x.total,
                terminal: x.terminal,
                by_code: x.by_code.clone(),
                by_assistant: x.by_assistant.clone(),
                by_step_type: x.by_step_type.clone(),
                by_tool: x.by_tool.clone(),
                messages: x.messages.clone(),
            },
            durations: DurationsV1 {
                by_status: d.by_status.each_ref().map(DurationV1::of),
                completed_by_type: map(&d.completed_by_type, DurationV1::of),
            },
            usage: UsageV1 {
                records: u.records,
                sums: (&u.sums).into(),
                total_mismatch: u.total_mismatch,
                by_assistant: map(&u.by_assistant, |s| s.into()),
            },
            time_range: TimeRangeV1 {
                bounds: f.time_range.bounds,
            },
            series: SeriesV1 {
                hours: f.series.hours.iter().map(|(h, b)| (*h, b.into())).collect(),
            },
            fee_calls: f
                .fees
                .entries()
                .map(|(k, h, n)| (k.as_str().to_string(), h, n))
                .collect(),
        }
    }
}

impl DurationV1 {
    fn of(d: &DurationStats) -> DurationV1 {
        let count = d.count();
        let hdr = d.hist.as_deref().filter(|h| !h.is_empty()).and_then(|h| {
            // The encoding records the histogram's range, which depends on how it grew;
            // re-recording into one sized by its maximum makes equal contents encode to
            // equal bytes, so merged states are byte-identical whatever the merge order.
            let mut canonical =
                Histogram::<u64>::new_with_bounds(1, h.max().max(2), SIGNIFICANT_DIGITS).ok()?;
            canonical.add(h).ok()?;
            Some(
                base64::engine::general_purpose::STANDARD
                    .encode(super::super::hdr::encode(&canonical)?),
            )
        });
        DurationV1 {
            count,
            missing: d.missing,
            sum: d.sum,
            min: (count > 0).then_some(d.min),
            max: (count > 0).then_some(d.max),
            hdr_v2_deflate: hdr,
        }
    }
}

// -------------------------------------------------------------- from the file

impl FileV1 {
    pub fn into_info(self) -> Result<FileInfo, Invalid> {
        let compression = match self.compression.as_deref() {
            None => None,
            Some(c) => Some(
                Compression::parse(c)
                    .ok_or_else(|| format!("input {}: unknown compression `{c}`", self.name))?,
            ),
        };
        let shape = match self.shape.as_deref() {
            None => None,
            Some(s) => Some(
                Shape::parse(s)
                    .ok_or_else(|| format!("input {}: unknown shape `{s}`", self.name))?,
            ),
        };
        Ok(FileInfo {
            name: self.name,
            bytes: self.bytes,
            compression,
            shape,
        })
    }
}

/// Dimensions from their names.
pub(in crate::state) fn parse_dims(names: &[String]) -> Result<Vec<Dim>, Invalid> {
    names
        .iter()
        .map(|n| Dim::parse(n).ok_or_else(|| format!("unknown dimension `{n}`")))
        .collect()
}

/// The HyperLogLog sketch from its base64 registers.
pub(in crate::state) fn distinct(text: &str) -> Result<DistinctIds, Invalid> {
    let registers = base64::engine::general_purpose::STANDARD
        .decode(text)
        .map_err(|e| format!("distinct-id sketch: {e}"))?;
    let n = registers.len();
    DistinctIds::from_registers(registers).ok_or_else(|| {
        format!(
            "distinct-id sketch has {n} registers, not {}",
            DistinctIds::REGISTERS
        )
    })
}

/// The registers, base64.
pub(in crate::state) fn distinct_text(d: &DistinctIds) -> String {
    base64::engine::general_purpose::STANDARD.encode(d.registers())
}

impl DedupV1 {
    pub(in crate::state) fn of(d: Folded) -> DedupV1 {
        DedupV1 {
            snapshots: d.snapshots,
            steps: d.steps,
            folded: d.snapshots.saturating_sub(d.steps),
        }
    }

    pub(in crate::state) fn folded(&self) -> Folded {
        Folded {
            snapshots: self.snapshots,
            steps: self.steps,
        }
    }
}

/// The interval called `name`.
pub(in crate::state) fn interval(name: &str) -> Result<Interval, Invalid> {
    Interval::parse(name).ok_or_else(|| format!("unknown interval `{name}`"))
}

impl SummaryV1 {
    /// The summary these figures describe, over `files`. Groups kept every figure in
    /// version 1; they become compact groups, their durations read from the histograms.
    pub fn into_summary(self, files: Vec<FileInfo>, max_groups: usize) -> Result<Summary, Invalid> {
        let dims = parse_dims(&self.groups.dims)?;
        let mut groups = Groups::new(&dims, max_groups);
        if groups.dims() != dims {
            return Err("the group dimensions repeat".into());
        }
        for g in self.groups.groups {
            let values: Vec<Option<String>> = g
                .key
                .into_iter()
                .map(|v| (v != crate::agg::NONE_KEY).then_some(v))
                .collect();
            let key = encode_key(&values, &dims)?;
            let table = &mut groups.table;
            let at = table
                .group(&key, max_groups)
                .ok_or_else(|| format!("more than {max_groups} groups"))?;
            let figures = g.figures.into_figures()?;
            let failures: Vec<(u32, u64)> = figures
                .failures
                .by_code
                .iter()
                .map(|(code, n)| {
                    let c = if code == crate::agg::NONE_KEY {
                        NO_CODE
                    } else {
                        table.codes.intern(code)
                    };
                    (c, *n)
                })
                .collect();
            table.figures[at] = compact(&figures, failures)?;
        }
        Ok(Summary {
            files,
            lines: self.lines.into_stats()?,
            filtered_out: self.filtered_out,
            window: (None, None),
            outside: Default::default(),
            aggregates: Aggregates {
                runs: crate::agg::Runs::default(),
                exemplars: crate::agg::Exemplars::new(0),
                ledger: crate::agg::Ledger::default(),
                figures: self.figures.into_figures()?,
                distinct: distinct(&self.distinct)?,
                groups,
                ..Aggregates::default()
            },
            dedup: self.dedup.map(|d| d.folded()),
            pricing: Default::default(),
            view: View {
                interval: interval(&self.interval)?,
                ..View::default()
            },
        })
    }
}

/// A version-1 group's full figures as a compact group.
fn compact(f: &Figures, failures: Vec<(u32, u64)>) -> Result<GroupFigures, Invalid> {
    let mut g = GroupFigures {
        steps: f.steps.total,
        failures,
        ..GroupFigures::default()
    };
    for (status, n) in &f.steps.by_status {
        match STATUSES.iter().position(|s| s == status) {
            Some(i) => g.statuses[i] = *n,
            None => {
                g.other_statuses
                    .get_or_insert_with(Box::default)
                    .insert(status.clone(), *n);
            }
        }
    }
    let u = &f.usage.sums;
    g.usage = [
        u.steps_with_usage,
        u.prompt_tokens,
        u.completion_tokens,
        u.total_tokens,
        u.cached_tokens,
        u.reasoning_tokens,
    ];
    (g.first, g.last) = f.time_range.bounds.unwrap_or((0, 0));
    for (slot, d) in f.durations.by_status.iter().enumerate() {
        let Some(h) = d.hist.as_deref() else { continue };
        for v in h.iter_recorded() {
            let value = v.value_iterated_to().clamp(d.min, d.max);
            g.durations
                .record_n(slot, value, v.count_at_value())
                .map_err(|_| "a group's durations do not fit")?;
        }
    }
    Ok(g)
}

fn reason(name: &str) -> Result<Reason, Invalid> {
    Reason::parse(name).ok_or_else(|| format!("unknown malformed-line reason `{name}`"))
}

impl LinesV1 {
    pub(in crate::state) fn into_stats(self) -> Result<LineStats, Invalid> {
        let mut by_reason = BTreeMap::new();
        for (r, n) in self.by_reason.0 {
            by_reason.insert(reason(&r)?, n);
        }
        let examples = self
            .examples
            .into_iter()
            .map(|e| {
                Ok(Example {
                    pos: LinePos {
                        file: e.pos.file,
                        chunk: e.pos.chunk,
                        line: e.pos.line,
                        offset: e.pos.offset,
                    },
                    reason: reason(&e.reason)?,
                    field: e.field,
                    message: e.message,
                })
            })
            .collect::<Result<_, Invalid>>()?;
        Ok(LineStats {
            files: self
                .files
                .into_iter()
                .map(|f| FileCounts {
                    totals: (&f.totals).into(),
                    chunk_lines: f.chunk_lines,
                    chunk_spans: f.chunk_spans,
                })
                .collect(),
            by_reason,
            examples,
        })
    }
}

impl FiguresV1 {
    pub(in crate::state) fn into_figures(self) -> Result<Figures, Invalid> {
        let mut f = Figures::default();
        let (steps, tools, failures) = (self.steps, self.tools, self.failures);
        f.steps.total = steps.total;
        f.steps.by_status = steps.by_status;
        f.steps.by_type = steps.by_type;
        f.steps.by_api = steps.by_api.unwrap_or([steps.total, 0]);
        f.steps.undated = steps.undated;
        if f.steps.by_api[0].checked_add(f.steps.by_api[1]) != Some(steps.total)
            || steps.undated > f.steps.by_api[1]
        {
            return Err("steps.by_api and steps.undated do not add up to the steps".into());
        }
        if ![ToolKind::STEP_KINDS, ToolKind::ALL.len()].contains(&tools.by_kind.len()) {
            return Err(format!(
                "tools.by_kind has {} kinds, not {} or {}",
                tools.by_kind.len(),
                ToolKind::STEP_KINDS,
                ToolKind::ALL.len()
            ));
        }
        f.tools.by_kind[..tools.by_kind.len()].copy_from_slice(&tools.by_kind);
        f.tools.functions = tools.functions;
        f.tools.mcp = tools.mcp;
        f.tools.reasoning_items = tools.reasoning_items;
        let x = &mut f.failures;
        x.total = failures.total;
        x.terminal = failures.terminal;
        x.by_code = failures.by_code;
        x.by_assistant = failures.by_assistant;
        x.by_step_type = failures.by_step_type;
        x.by_tool = failures.by_tool;
        x.messages = failures.messages;
        let [c, fd, xd, e] = self.durations.by_status;
        f.durations.by_status = [
            c.into_stats()?,
            fd.into_stats()?,
            xd.into_stats()?,
            e.into_stats()?,
        ];
        f.durations.completed_by_type =
            try_map(self.durations.completed_by_type, DurationV1::into_stats)?;
        let u = self.usage;
        f.usage.records = u.records;
        f.usage.sums = (&u.sums).into();
        f.usage.total_mismatch = u.total_mismatch;
        f.usage.by_assistant = try_map(u.by_assistant, |s| Ok((&s).into()))?;
        f.time_range = TimeRange {
            bounds: self.time_range.bounds,
        };
        f.series.hours = self
            .series
            .hours
            .into_iter()
            .map(|(h, b)| (h, (&b).into()))
            .collect();
        for (kind, hour, calls) in &self.fee_calls {
            f.fees.insert(kind, *hour, *calls)?;
        }
        f.recount();
        Ok(f)
    }
}

impl DurationV1 {
    fn into_stats(self) -> Result<DurationStats, Invalid> {
        let hist = match &self.hdr_v2_deflate {
            None => None,
            Some(text) => {
                let mut h = super::super::hdr::decode(text)
                    .map_err(|e| format!("duration histogram: {e}"))?;
                // Decoded histograms are fixed-range; merges must be able to grow them.
                h.auto(true);
                Some(Box::new(h))
            }
        };
        if (self.count > 0) != (self.min.is_some() && self.max.is_some()) {
            return Err(format!(
                "durations with a count of {} {} a min and max",
                self.count,
                if self.count > 0 { "lack" } else { "have" }
            ));
        }
        let d = DurationStats {
            hist,
            missing: self.missing,
            sum: self.sum,
            min: self.min.unwrap_or(u64::MAX),
            max: self.max.unwrap_or(0),
        };
        if d.count() != self.count {
            return Err(format!(
                "duration histogram holds {} values, the state says {}",
                d.count(),
                self.count
            ));
        }
        d.check().map_err(|e| format!("durations: {e}"))?;
        Ok(d)
    }
}
