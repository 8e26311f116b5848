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

    /// The exact amount in dollars, as a decimal: `7.637`, `0.000002`, `12.0` (every
    /// picodollar kept, no trailing zeros past the first, never an exponent; a fraction
    /// always, so that readers that type numbers by their look see an amount). JSON, CSV
    /// and Prometheus print this, so a sum reads back to the same picodollars.
    pub fn decimal(self) -> String {
        let whole = self.0 / Self::PER_DOLLAR;
        let frac = self.0 % Self::PER_DOLLAR;
        if frac == 0 {
            return format!("{whole}.0");
        }
        let digits = format!("{frac:012}");
        format!("{whole}.{}", digits.trim_end_matches('0'))
    }

    /// The amount written as `text` (a JSON number: `7.637`, `12`, `1.5e3`), to the
    /// picodollar: exact for a plain decimal, rounded for a float with an exponent (as
    /// older reports wrote large sums). `None` for a negative, fractional-picodollar
    /// decimal or otherwise unreadable amount.
    pub fn parse(text: &str) -> Option<Usd> {
        let text = text.trim();
        if text.bytes().any(|b| matches!(b, b'e' | b'E')) {
            let v: f64 = text.parse().ok()?;
            return (v.is_finite() && v >= 0.0 && v * 1e12 < u128::MAX as f64)
                .then(|| Usd((v * 1e12).round() as u128));
        }
        let (whole, frac) = text.split_once('.').unwrap_or((text, ""));
        let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
        if !digits(whole) || !(frac.is_empty() || digits(frac)) {
            return None;
        }
        let frac = frac.trim_end_matches('0');
        if frac.len() > 12 {
            return None;
        }
        let whole: u128 = whole.parse().ok()?;
        let frac: u128 = if frac.is_empty() {
            0
        } else {
            format!("{frac:0<12}").parse().ok()?
        };
        whole
            .checked_mul(Self::PER_DOLLAR)?
            .checked_add(frac)
            .map(Usd)
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

/// A JSON number with the exact digits of [`Usd::decimal`] (a binary float would print
/// `7.6370000000000005`).
impl Serialize for Usd {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let raw = serde_json::value::RawValue::from_string(self.decimal())
            .map_err(serde::ser::Error::custom)?;
        raw.serialize(s)
    }
}

/// Reads an amount back from a report: exact from a string or whole dollars; a JSON
/// number with a fraction comes as a binary float (serde_json reads no decimals), so it is
/// rounded to the picodollar, exact below about $9,000.
impl<'de> Deserialize<'de> for Usd {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Usd, D::Error> {
        struct Amount;
        impl serde::de::Visitor<'_> for Amount {
            type Value = Usd;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("an amount in dollars")
            }
            fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<Usd, E> {
                Ok(Usd(u128::from(v) * Usd::PER_DOLLAR))
            }
            fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<Usd, E> {
                u64::try_from(v)
                    .map_err(|_| E::custom(format!("{v} is not an amount in dollars")))
                    .and_then(|v| self.visit_u64(v))
            }
            fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<Usd, E> {
                if v.is_finite() && v >= 0.0 && v * 1e12 < u128::MAX as f64 {
                    Ok(Usd((v * 1e12).round() as u128))
                } else {
                    Err(E::custom(format!("{v} is not an amount in dollars")))
                }
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Usd, E> {
                Usd::parse(v).ok_or_else(|| E::custom(format!("{v} is not an amount in dollars")))
            }
        }
        d.deserialize_any(Amount)
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
    /// Responses' tool calls with a fee of their own, apart from the tokens (not in
    /// `total_usd`); left out when there are none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tool_fees: Option<ToolFees>,
}

/// Responses' tool calls with a fee of their own: web and file searches priced per call
/// where the table has the fee; code-interpreter containers and generated images, which
/// no record prices, counted as unpriced.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ToolFees {
    /// The priced calls' fees.
    pub usd: Usd,
    /// By kind: the calls, and their fees when priced (`null` when not).
    pub by_kind: BTreeMap<String, KindFees>,
    /// Calls that could not be priced.
    pub unpriced_calls: u64,
}

/// The calls of one kind with a fee.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct KindFees {
    /// Calls.
    pub calls: u64,
    /// Their fees, or `None` when the table has no fee for them (not $0).
    pub usd: Option<Usd>,
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
