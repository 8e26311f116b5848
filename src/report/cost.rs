//! What the work cost: the report's `cost` section, per-group and per-bucket amounts.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// An amount of US dollars, kept exactly as picodollars (10^-12 USD: list prices per
/// token are whole picodollars) and shown as a JSON number of dollars.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Usd(pub u128);

impl Usd {
    /// Picodollars in a dollar.
    pub const PER_DOLLAR: u128 = 1_000_000_000_000;

    /// Dollars, as a float (for display and JSON; sums are kept in picodollars).
    pub fn dollars(self) -> f64 {
        // Whole dollars and the fraction apart, so large sums keep their cents.
        (self.0 / Self::PER_DOLLAR) as f64 + (self.0 % Self::PER_DOLLAR) as f64 / 1e12
    }

    /// `a + b`, or `None` past 2^128 − 1 picodollars.
    pub fn checked_add(self, other: Usd) -> Option<Usd> {
        self.0.checked_add(other.0).map(Usd)
    }

    /// The amount as people read it: `$1,234.57`, `$0.0123` under a dollar, `$0` for none.
    pub fn display(self) -> String {
        let d = self.dollars();
        if self.0 == 0 {
            "$0".into()
        } else if d < 0.01 {
            format!("${d:.6}")
        } else if d < 1.0 {
            format!("${d:.4}")
        } else {
            let cents = (self.0 + Self::PER_DOLLAR / 200) / (Self::PER_DOLLAR / 100);
            let (whole, frac) = (cents / 100, cents % 100);
            let s = whole.to_string();
            let mut out = String::from("$");
            for (i, c) in s.chars().enumerate() {
                if i > 0 && (s.len() - i) % 3 == 0 {
                    out.push(',');
                }
                out.push(c);
            }
            format!("{out}.{frac:02}")
        }
    }
}

impl Serialize for Usd {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_f64(self.dollars())
    }
}

impl<'de> Deserialize<'de> for Usd {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Usd, D::Error> {
        let v = f64::deserialize(d)?;
        if !(v.is_finite() && v >= 0.0) {
            return Err(serde::de::Error::custom(format!("{v} is not an amount")));
        }
        Ok(Usd((v * 1e12).round() as u128))
    }
}

/// The `cost` section: every step with usage, priced or counted as unpriced.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cost {
    /// The priced steps' cost.
    pub total_usd: Usd,
    /// The price table in force: the bundled list prices, or a `--prices` file over them.
    pub prices: String,
    /// Steps with usage by where their model came from: `run` (its `thread.run` object),
    /// `model_flag` (`--model ASSISTANT=MODEL`), `default_model` (`--default-model`).
    pub model_from: BTreeMap<String, u64>,
    /// By model, as the run (or flag) names it.
    pub by_model: BTreeMap<String, ModelCost>,
    /// By assistant (`(none)` for steps without one).
    pub by_assistant: BTreeMap<String, Usd>,
    /// Steps with usage that could not be priced, and why.
    pub unpriced: Unpriced,
    /// What the reader should know about the prices used (a snapshot priced as its base
    /// model); empty when nothing needs saying.
    pub notes: Vec<String>,
}

/// The cost and tokens of one model's steps.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ModelCost {
    /// Their cost.
    pub usd: Usd,
    /// Steps with usage.
    pub steps: u64,
    /// `prompt_tokens`, of which `cached_tokens` were billed at the cached-input price.
    pub prompt_tokens: u64,
    /// `cached_tokens` (part of `prompt_tokens`).
    pub cached_tokens: u64,
    /// `completion_tokens`.
    pub completion_tokens: u64,
    /// `reasoning_tokens` (part of `completion_tokens`).
    pub reasoning_tokens: u64,
}

/// Steps with usage that have no price.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Unpriced {
    /// Steps.
    pub steps: u64,
    /// Their prompt plus completion tokens.
    pub tokens: u64,
    /// By reason: `no_model` (no run object named the run's model, and no `--model` or
    /// `--default-model` applies), `unknown_model` (the model is not in the table).
    pub by_reason: BTreeMap<String, StepsTokens>,
    /// The models not in the table, with their steps and tokens.
    pub unknown_models: BTreeMap<String, StepsTokens>,
}

/// Steps and tokens.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct StepsTokens {
    /// Steps.
    pub steps: u64,
    /// Prompt plus completion tokens.
    pub tokens: u64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_read_as_people_write_them() {
        assert_eq!(Usd(0).display(), "$0");
        assert_eq!(Usd(12_345_000_000).display(), "$0.0123");
        assert_eq!(Usd(1_234_000_000).display(), "$0.001234");
        assert_eq!(Usd(123_400_000_000).display(), "$0.1234");
        assert_eq!(Usd(1_234_567_000_000_000).display(), "$1,234.57");
        assert_eq!(Usd(999_995_000_000_000).display(), "$1,000.00");
        let big = Usd(u128::MAX);
        assert!(big.dollars() > 3.4e26);
        assert_eq!(
            serde_json::to_string(&Usd(2_500_000_000_000)).unwrap(),
            "2.5"
        );
        let back: Usd = serde_json::from_str("0.000123").unwrap();
        assert_eq!(back, Usd(123_000_000));
    }
}
