//! The figures of one group (`--group-by`), as the report holds them.

use super::{TimeRange, UsageSums, Usd};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The figures of one group (`--group-by`): what a person reads per group.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Group {
    /// The group's value for each dimension of `group_by`, in that order.
    pub key: Vec<String>,
    /// Steps in the group.
    pub steps: u64,
    /// Steps by status (statuses the group has).
    pub by_status: Counts,
    /// Failed steps.
    pub failures: GroupFailures,
    /// Durations per terminal status the group has steps in.
    pub durations_seconds: GroupDurations,
    /// Token sums.
    pub usage: UsageSums,
    /// First and last `created_at`.
    pub time_range: TimeRange,
    /// The cost of its priced steps; null when costs are not kept.
    pub cost_usd: Option<Usd>,
    /// Its steps with usage that could not be priced (so `cost_usd` is a floor when this
    /// is not 0); null when costs are not kept.
    pub unpriced_steps: Option<u64>,
}

/// The failed steps of a group.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GroupFailures {
    /// Steps with status `failed`.
    pub total: u64,
    /// Steps in a terminal status.
    pub terminal_steps: u64,
    /// `total / terminal_steps`; null without terminal steps.
    pub rate: Option<f64>,
    /// By `last_error.code`.
    pub by_code: Counts,
}

/// Counts by key, sorted by key: a JSON object, kept as a short list (groups have few
/// statuses and error codes, and there may be millions of groups).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Counts(pub Vec<(String, u64)>);

impl Counts {
    /// The count of `key`, if any.
    pub fn get(&self, key: &str) -> Option<u64> {
        self.0.iter().find(|(k, _)| k == key).map(|(_, n)| *n)
    }

    /// Every entry, in key order.
    pub fn iter(&self) -> impl Iterator<Item = (&String, &u64)> {
        self.0.iter().map(|(k, n)| (k, n))
    }

    /// As a map.
    pub fn to_map(&self) -> BTreeMap<String, u64> {
        self.0.iter().cloned().collect()
    }
}

impl From<BTreeMap<String, u64>> for Counts {
    fn from(m: BTreeMap<String, u64>) -> Counts {
        Counts(m.into_iter().collect())
    }
}

impl Serialize for Counts {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_map(self.0.iter().map(|(k, n)| (k, n)))
    }
}

impl<'de> Deserialize<'de> for Counts {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Counts, D::Error> {
        Ok(BTreeMap::<String, u64>::deserialize(d)?.into())
    }
}

/// The durations of a group, per terminal status it has steps in.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct GroupDurations {
    /// Completed steps.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub completed: Option<GroupDuration>,
    /// Failed steps.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failed: Option<GroupDuration>,
    /// Cancelled steps.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cancelled: Option<GroupDuration>,
    /// Expired steps.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expired: Option<GroupDuration>,
}

impl GroupDurations {
    /// The statuses present, in report order.
    pub fn iter(&self) -> impl Iterator<Item = (&'static str, &GroupDuration)> {
        [
            ("completed", &self.completed),
            ("failed", &self.failed),
            ("cancelled", &self.cancelled),
            ("expired", &self.expired),
        ]
        .into_iter()
        .filter_map(|(k, d)| d.as_ref().map(|d| (k, d)))
    }

    /// Status `name`'s slot.
    pub fn get_mut(&mut self, name: &str) -> Option<&mut Option<GroupDuration>> {
        match name {
            "completed" => Some(&mut self.completed),
            "failed" => Some(&mut self.failed),
            "cancelled" => Some(&mut self.cancelled),
            "expired" => Some(&mut self.expired),
            _ => None,
        }
    }
}

/// The durations of one terminal status in a group, in seconds. Percentiles are
/// nearest-rank: exact for a group of at most 64 durations, else within 0.4%.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct GroupDuration {
    /// Steps with a usable duration.
    pub count: u64,
    /// Steps without one.
    pub missing: u64,
    /// Exact minimum.
    pub min: Option<u64>,
    /// Exact mean.
    pub mean: Option<f64>,
    /// Median.
    pub p50: Option<u64>,
    /// 90th percentile.
    pub p90: Option<u64>,
    /// 99th percentile.
    pub p99: Option<u64>,
    /// Exact maximum.
    pub max: Option<u64>,
}

impl Group {
    /// The durations of completed steps, if the group has any.
    pub fn completed(&self) -> Option<&GroupDuration> {
        self.durations_seconds.completed.as_ref()
    }
}
