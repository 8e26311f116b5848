//! What the work cost: a step's model, its price at the step's date, and the formula.
//!
//! A step's model is, in order: the model of its run's `thread.run` object; the model
//! `--model ASSISTANT=MODEL` gives its assistant; `--default-model`; else the step is
//! unpriced (`no_model`). The price is the table's entry for that model in force at the
//! step's `created_at` (a dated snapshot missing from the table takes its base model's
//! price, and the report says so); a model the table lacks is unpriced (`unknown_model`).
//! For a step with usage:
//!
//! ```text
//! cost = (prompt_tokens − cached_tokens) × input + cached_tokens × cached_input
//!      + completion_tokens × output
//! ```
//!
//! where the cached-input price is the input price for models without a caching discount,
//! and reasoning tokens (part of `completion_tokens`) are billed at the table's reasoning
//! price instead of output only when it gives one. Nothing is counted twice; tool fees
//! (code interpreter sessions, file-search storage) are not in run steps and are not
//! included. All of it is integer arithmetic in picodollars, so any split of the input and
//! any merge of states prices to the same amount.

pub mod table;

pub use table::{Dated, Price, Table, TableError};

use crate::agg::ledger::{Entry, Ledger, Tokens};
use crate::agg::runs::NONE;
use crate::agg::NONE_KEY;
use crate::report::{Cost, ModelCost, Unpriced, Usd};
use std::collections::{BTreeMap, BTreeSet, HashMap};

/// How steps are priced: the table, and the models of steps whose run gave none.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pricing {
    /// Prices by model.
    pub table: Table,
    /// `--model ASSISTANT=MODEL`: an assistant's model, for steps whose run object is
    /// missing.
    pub by_assistant: BTreeMap<String, String>,
    /// `--default-model`: the model of the other steps.
    pub default_model: Option<String>,
}

impl Default for Pricing {
    fn default() -> Self {
        Pricing {
            table: Table::bundled(),
            by_assistant: BTreeMap::new(),
            default_model: None,
        }
    }
}

/// Where a step's model came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ModelFrom {
    /// Its run's `thread.run` object.
    Run,
    /// `--model ASSISTANT=MODEL`.
    Flag,
    /// `--default-model`.
    Default,
}

impl ModelFrom {
    fn key(self) -> &'static str {
        match self {
            ModelFrom::Run => "run",
            ModelFrom::Flag => "model_flag",
            ModelFrom::Default => "default_model",
        }
    }
}

/// The cost of `tokens` at `price`, picodollars (the module's formula).
pub fn cost_of(t: &Tokens, price: &Price) -> Option<u128> {
    let cached = u128::from(t.cached.min(t.prompt));
    let uncached = u128::from(t.prompt) - cached;
    let input = uncached.checked_mul(price.input)?;
    let cached = cached.checked_mul(price.cached_input.unwrap_or(price.input))?;
    let (output, reasoning) = match price.reasoning {
        Some(r) => {
            let reasoning = u128::from(t.reasoning.min(t.completion));
            let rest = u128::from(t.completion) - reasoning;
            (rest.checked_mul(price.output)?, reasoning.checked_mul(r)?)
        }
        None => (u128::from(t.completion).checked_mul(price.output)?, 0),
    };
    input
        .checked_add(cached)?
        .checked_add(output)?
        .checked_add(reasoning)
}

/// A model's price at an hour: the price, the base model it was found under (a snapshot
/// the table lacks), and the first date the table prices it from when that is later.
type InForce<'a> = (Price, Option<&'a str>, Option<i64>);

/// Everything the report needs of the ledger, priced.
#[derive(Debug, Clone, Default)]
pub struct Priced {
    /// The `cost` section.
    pub cost: Option<Cost>,
    /// Per group index: its priced steps' cost, and its unpriced steps.
    pub groups: Vec<(Usd, u64)>,
    /// Per hour since the epoch: the priced steps' cost, and the unpriced steps.
    pub hours: BTreeMap<u32, (Usd, u64)>,
}

/// A sum in picodollars passed 2^128 − 1 (about 3.4 × 10^26 dollars).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("cost would pass the largest amount it holds (2^128 − 1 picodollars)")]
pub struct CostOverflow;

impl Pricing {
    /// The model of a step of run `run` and assistant `assistant`, and where it came from.
    pub fn model_of<'a>(
        &'a self,
        run_model: Option<&'a str>,
        assistant: Option<&str>,
    ) -> Option<(&'a str, ModelFrom)> {
        if let Some(m) = run_model {
            return Some((m, ModelFrom::Run));
        }
        if let Some(m) = assistant.and_then(|a| self.by_assistant.get(a)) {
            return Some((m, ModelFrom::Flag));
        }
        self.default_model
            .as_deref()
            .map(|m| (m, ModelFrom::Default))
    }

    /// Prices every entry of `ledger` (`groups` groups).
    pub fn price(&self, ledger: &Ledger, groups: usize) -> Result<Priced, CostOverflow> {
        if !ledger.enabled {
            return Ok(Priced::default());
        }
        let mut total = Usd(0);
        let mut by_model: BTreeMap<String, ModelCost> = BTreeMap::new();
        let mut by_assistant: BTreeMap<String, Usd> = BTreeMap::new();
        let mut model_from: BTreeMap<String, u64> = BTreeMap::new();
        let mut unpriced = Unpriced::default();
        for reason in ["no_model", "unknown_model"] {
            unpriced.by_reason.insert(reason.into(), Default::default());
        }
        let mut fallbacks: BTreeSet<(String, String)> = BTreeSet::new();
        // Models priced before their first dated price, and that date.
        let mut early: BTreeMap<String, i64> = BTreeMap::new();
        let mut per_group = vec![(Usd(0), 0u64); groups];
        let mut hours: BTreeMap<u32, (Usd, u64)> = BTreeMap::new();
        // Entries in a fixed order, so the sums (exact anyway) are formed alike.
        let mut entries: Vec<(&Entry, &Tokens)> = ledger.entries().collect();
        entries.sort_unstable_by_key(|(e, _)| **e);
        // Each (model, hour) priced once.
        let mut cache: HashMap<(&str, u32), Option<InForce<'_>>> = HashMap::new();
        let add = |a: &mut Usd, b: Usd| -> Result<(), CostOverflow> {
            *a = a.checked_add(b).ok_or(CostOverflow)?;
            Ok(())
        };
        let count = |a: &mut u64, b: u64| *a = a.saturating_add(b);
        for (e, t) in entries {
            let run_model = (e.run != NONE).then(|| ledger.model(e.run)).flatten();
            let assistant = ledger.name(e.assistant);
            if let Some(g) = per_group.get_mut(e.group as usize) {
                // Counted as unpriced now, taken back below once priced.
                count(&mut g.1, t.steps);
            }
            let hour = hours.entry(e.hour).or_default();
            count(&mut hour.1, t.steps);
            let Some((model, from)) = self.model_of(run_model, assistant) else {
                let r = unpriced.by_reason.entry("no_model".into()).or_default();
                count(&mut r.steps, t.steps);
                count(&mut r.tokens, t.total());
                continue;
            };
            let at = i64::from(e.hour) * 3600;
            let found = cache.entry((model, e.hour)).or_insert_with(|| {
                self.table.price(model, at).map(|(d, base)| {
                    let before = d.from.filter(|&f| f > at);
                    (d.price, base, before)
                })
            });
            let Some((price, base, before)) = found else {
                let r = unpriced
                    .by_reason
                    .entry("unknown_model".into())
                    .or_default();
                count(&mut r.steps, t.steps);
                count(&mut r.tokens, t.total());
                let m = unpriced
                    .unknown_models
                    .entry(model.to_string())
                    .or_default();
                count(&mut m.steps, t.steps);
                count(&mut m.tokens, t.total());
                continue;
            };
            if let Some(b) = base {
                fallbacks.insert((model.to_string(), b.to_string()));
            }
            if let Some(f) = before {
                early.insert(model.to_string(), *f);
            }
            let usd = Usd(cost_of(t, price).ok_or(CostOverflow)?);
            add(&mut total, usd)?;
            let m = by_model.entry(model.to_string()).or_default();
            add(&mut m.usd, usd)?;
            count(&mut m.steps, t.steps);
            count(&mut m.prompt_tokens, t.prompt);
            count(&mut m.cached_tokens, t.cached);
            count(&mut m.completion_tokens, t.completion);
            count(&mut m.reasoning_tokens, t.reasoning);
            count(model_from.entry(from.key().into()).or_default(), t.steps);
            let a = assistant.unwrap_or(NONE_KEY).to_string();
            add(by_assistant.entry(a).or_default(), usd)?;
            if let Some(g) = per_group.get_mut(e.group as usize) {
                add(&mut g.0, usd)?;
                g.1 = g.1.saturating_sub(t.steps);
            }
            let hour = hours.entry(e.hour).or_default();
            add(&mut hour.0, usd)?;
            hour.1 = hour.1.saturating_sub(t.steps);
        }
        for r in unpriced.by_reason.values() {
            count(&mut unpriced.steps, r.steps);
            count(&mut unpriced.tokens, r.tokens);
        }
        let mut notes: Vec<String> = fallbacks
            .into_iter()
            .map(|(m, b)| format!("{m} is priced as {b}: the table has no entry for the snapshot"))
            .collect();
        notes.extend(early.into_iter().map(|(m, f)| {
            format!(
                "steps on {m} from before its first price in the table ({}) are priced at it",
                &crate::report::format_utc(f)[..10]
            )
        }));
        Ok(Priced {
            cost: Some(Cost {
                total_usd: total,
                prices: self.table.description.clone(),
                model_from,
                by_model,
                by_assistant,
                unpriced,
                notes,
            }),
            groups: per_group,
            hours,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_formula_bills_each_token_once() {
        let p = Price {
            input: 2_500_000,
            cached_input: Some(1_250_000),
            output: 10_000_000,
            reasoning: None,
        };
        let t = Tokens {
            steps: 1,
            prompt: 1000,
            cached: 400,
            completion: 100,
            reasoning: 60,
        };
        // 600 × 2.5 + 400 × 1.25 + 100 × 10 (µ$) = 3000 µ$.
        assert_eq!(cost_of(&t, &p), Some(3_000_000_000));
        let no_cache = Price {
            cached_input: None,
            ..p
        };
        assert_eq!(cost_of(&t, &no_cache), Some(3_500_000_000));
        let with_reasoning = Price {
            reasoning: Some(20_000_000),
            ..p
        };
        // 40 × 10 + 60 × 20 instead of 100 × 10.
        assert_eq!(cost_of(&t, &with_reasoning), Some(3_600_000_000));
        let huge = Tokens {
            prompt: u64::MAX,
            ..t
        };
        assert!(cost_of(&huge, &p).is_some());
    }
}
