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

mod resolve;
pub mod table;

use resolve::{Found, Resolver};

pub use table::{Dated, Price, Table, TableError};

use crate::agg::groups::{ModelFlags, ModelFrom};
use crate::agg::ledger::{Ledger, Tokens};
use crate::agg::runs::NONE;
use crate::agg::RunTable;
use crate::agg::NONE_KEY;
use crate::report::{Cost, ModelCost, StepsTokens, Unpriced, Usd};
use hashbrown::HashMap;
use std::collections::{BTreeMap, BTreeSet};

/// How steps are priced: the table, and the models of steps whose run gave none.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pricing {
    /// Prices by model.
    pub table: Table,
    /// `--model ASSISTANT=MODEL` and `--default-model`: the models of steps whose run
    /// object named none.
    pub models: ModelFlags,
}

impl Default for Pricing {
    fn default() -> Self {
        Pricing {
            table: Table::bundled(),
            models: ModelFlags::default(),
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

/// A sum in picodollars passed 2^128 − 1 (about 3.4 × 10^26 dollars), or a count of
/// steps or tokens 2^64 − 1.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("a cost figure would pass the largest value it holds (2^128 − 1 picodollars, 2^64 − 1 steps or tokens)")]
pub struct CostOverflow;

impl Pricing {
    /// Prices every entry of `ledger` (`groups` groups), with the models of `runs`.
    /// Entries are summed into vectors indexed by model and assistant codes (one model
    /// resolution and one price lookup per distinct model and hour), and named only at
    /// the end.
    pub fn price(
        &self,
        ledger: &Ledger,
        runs: &RunTable,
        groups: usize,
    ) -> Result<Priced, CostOverflow> {
        if !ledger.enabled {
            return Ok(Priced::default());
        }
        let add = |a: &mut Usd, b: Usd| -> Result<(), CostOverflow> {
            *a = a.checked_add(b).ok_or(CostOverflow)?;
            Ok(())
        };
        // Counts never saturate: one that would not fit fails the pricing (the report then
        // leaves costs out and says why).
        let overflowed = std::cell::Cell::new(false);
        let count = |a: &mut u64, b: u64| match a.checked_add(b) {
            Some(v) => *a = v,
            None => overflowed.set(true),
        };
        let tokens_of = |t: &crate::agg::ledger::Tokens| {
            t.prompt.checked_add(t.completion).unwrap_or_else(|| {
                overflowed.set(true);
                0
            })
        };
        let names = ledger.names_len();
        let mut resolver = Resolver::new(self, ledger, runs);
        let mut sums: Vec<(Usd, ModelCost)> = Vec::new();
        let mut unknown: Vec<(u64, u64)> = Vec::new();
        let mut fallbacks: BTreeSet<(String, String)> = BTreeSet::new();
        // Models priced before their first dated price, and that date.
        let mut early: BTreeMap<String, i64> = BTreeMap::new();
        let mut noted: Vec<bool> = Vec::new();
        let mut assistants: Vec<Usd> = vec![Usd(0); names + 1];
        let mut per_group = vec![(Usd(0), 0u64); groups];
        // Per hour, found by hashing only when the hour changes: entries of one hour come
        // together.
        let mut hour_sums: Vec<(u32, (Usd, u64))> = Vec::new();
        let mut hour_at: HashMap<u32, usize> = HashMap::new();
        let mut last_hour: Option<(u32, usize)> = None;
        let mut model_from = [0u64; 3];
        let mut no_model = StepsTokens::default();
        let mut total = Usd(0);
        // In the table's order: every sum is of integers, so the order changes nothing.
        for (e, t) in ledger.entries() {
            let group = per_group.get_mut(e.group as usize);
            let h = match last_hour {
                Some((hour, h)) if hour == e.hour => h,
                _ => {
                    let h = *hour_at.entry(e.hour).or_insert_with(|| {
                        hour_sums.push((e.hour, Default::default()));
                        hour_sums.len() - 1
                    });
                    last_hour = Some((e.hour, h));
                    h
                }
            };
            let hour = &mut hour_sums[h].1;
            let unpriced = |group: Option<&mut (Usd, u64)>, hour: &mut (Usd, u64)| {
                if let Some(g) = group {
                    count(&mut g.1, t.steps);
                }
                count(&mut hour.1, t.steps);
            };
            let (m, from, (price, base, before)) = match resolver.resolve(e) {
                Found::NoModel => {
                    count(&mut no_model.steps, t.steps);
                    count(&mut no_model.tokens, tokens_of(t));
                    unpriced(group, hour);
                    continue;
                }
                Found::Unknown(m) => {
                    let m = m as usize;
                    if unknown.len() <= m {
                        unknown.resize(m + 1, (0, 0));
                    }
                    count(&mut unknown[m].0, t.steps);
                    count(&mut unknown[m].1, tokens_of(t));
                    unpriced(group, hour);
                    continue;
                }
                Found::Priced(m, from, in_force) => (m, from, in_force),
            };
            let name = resolver.models[m as usize];
            let m = m as usize;
            if sums.len() <= m {
                sums.resize(m + 1, Default::default());
            }
            // Each model's notes once (its base and its first date are the same for all
            // its entries), not a string per entry.
            if noted.len() <= m {
                noted.resize(m + 1, false);
            }
            if !noted[m] && (base.is_some() || before.is_some()) {
                noted[m] = true;
                if let Some(b) = base {
                    if fallbacks.len() < 1000 {
                        fallbacks.insert((name.to_string(), b.to_string()));
                    }
                }
            }
            if let Some(f) = before {
                if !early.contains_key(name) {
                    early.insert(name.to_string(), f);
                }
            }
            let usd = Usd(cost_of(t, &price).ok_or(CostOverflow)?);
            add(&mut total, usd)?;
            let (u, c) = &mut sums[m];
            add(u, usd)?;
            count(&mut c.steps, t.steps);
            count(&mut c.prompt_tokens, t.prompt);
            count(&mut c.cached_tokens, t.cached);
            count(&mut c.completion_tokens, t.completion);
            count(&mut c.reasoning_tokens, t.reasoning);
            count(&mut model_from[from as usize], t.steps);
            let a = if e.assistant == NONE {
                names
            } else {
                e.assistant as usize
            };
            add(&mut assistants[a], usd)?;
            if let Some(g) = group {
                add(&mut g.0, usd)?;
            }
            add(&mut hour.0, usd)?;
        }
        let mut by_model = BTreeMap::new();
        let mut unpriced = Unpriced::default();
        let mut unknown_total = StepsTokens::default();
        for (m, name) in resolver.models.iter().enumerate() {
            if let Some((usd, c)) = sums.get(m).filter(|(_, c)| c.steps > 0) {
                by_model.insert(
                    name.to_string(),
                    ModelCost {
                        usd: *usd,
                        ..c.clone()
                    },
                );
            }
            if let Some(&(steps, tokens)) = unknown.get(m).filter(|u| u.0 > 0) {
                unpriced
                    .unknown_models
                    .insert(name.to_string(), StepsTokens { steps, tokens });
                count(&mut unknown_total.steps, steps);
                count(&mut unknown_total.tokens, tokens);
            }
        }
        unpriced.by_reason.insert("no_model".into(), no_model);
        unpriced
            .by_reason
            .insert("unknown_model".into(), unknown_total);
        unpriced.steps = no_model.steps;
        count(&mut unpriced.steps, unknown_total.steps);
        unpriced.tokens = no_model.tokens;
        count(&mut unpriced.tokens, unknown_total.tokens);
        if overflowed.get() {
            return Err(CostOverflow);
        }
        let by_assistant = assistants
            .iter()
            .enumerate()
            .filter(|(_, u)| u.0 > 0)
            .map(|(a, u)| {
                let name = if a == names {
                    NONE_KEY
                } else {
                    ledger.name(a as u32).unwrap_or(NONE_KEY)
                };
                (name.to_string(), *u)
            })
            .collect();
        let model_from = [ModelFrom::Run, ModelFrom::Flag, ModelFrom::Default]
            .into_iter()
            .filter(|f| model_from[*f as usize] > 0)
            .map(|f| (f.key().to_string(), model_from[f as usize]))
            .collect();
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
                tool_fees: None,
            }),
            groups: per_group,
            hours: hour_sums.into_iter().collect(),
        })
    }
}

impl Pricing {
    /// The fees of responses' tool calls, each with the fee in force in its hour; `None`
    /// when there are none.
    pub fn price_fees(
        &self,
        fees: &crate::agg::fees::FeeCalls,
    ) -> Result<Option<crate::report::ToolFees>, CostOverflow> {
        let mut out = crate::report::ToolFees::default();
        let mut any = false;
        for (kind, hour, calls) in fees.entries() {
            any = true;
            let k = out.by_kind.entry(kind.as_str().to_string()).or_default();
            k.calls = k.calls.checked_add(calls).ok_or(CostOverflow)?;
            match self.table.fee(kind.as_str(), i64::from(hour) * 3600) {
                Some(fee) => {
                    let usd = fee.checked_mul(u128::from(calls)).ok_or(CostOverflow)?;
                    let sum = k.usd.unwrap_or_default().0.checked_add(usd);
                    k.usd = Some(Usd(sum.ok_or(CostOverflow)?));
                    out.usd = Usd(out.usd.0.checked_add(usd).ok_or(CostOverflow)?);
                }
                None => {
                    out.unpriced_calls =
                        out.unpriced_calls.checked_add(calls).ok_or(CostOverflow)?;
                }
            }
        }
        Ok(any.then_some(out))
    }

    /// The `n` runs of `runs` whose priced steps cost the most (ties by run id), each
    /// with that cost: the entries of `ledger` priced as [`Pricing::price`] prices them,
    /// summed by run. Runs none of whose steps was priced are not ranked.
    pub fn costliest_runs(
        &self,
        ledger: &Ledger,
        runs: &RunTable,
        n: usize,
    ) -> Result<Vec<(u32, Usd)>, CostOverflow> {
        if !ledger.enabled || n == 0 {
            return Ok(Vec::new());
        }
        let mut resolver = Resolver::new(self, ledger, runs);
        // Per run: its cost so far, or UNPRICED (a sum never reaches it: that is an
        // overflow).
        const UNPRICED: u128 = u128::MAX;
        let mut cost: Vec<u128> = vec![UNPRICED; runs.len()];
        for (e, t) in ledger.entries() {
            // A response continuing a run is priced by its own model, and counted in the
            // cost of its run.
            let Some(sum) = cost.get_mut(runs.root(e.run) as usize) else {
                continue; // a step without a run
            };
            if let Found::Priced(_, _, (price, _, _)) = resolver.resolve(e) {
                let usd = cost_of(t, &price).ok_or(CostOverflow)?;
                let was = if *sum == UNPRICED { 0 } else { *sum };
                *sum = was
                    .checked_add(usd)
                    .filter(|&v| v != UNPRICED)
                    .ok_or(CostOverflow)?;
            }
        }
        let priced = cost
            .iter()
            .enumerate()
            .filter(|&(_, &c)| c != UNPRICED)
            .map(|(r, &c)| (r as u32, Usd(c)));
        Ok(runs.top(n, priced))
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
