//! The cost ledger: token sums by run, assistant, group and hour, so that steps can be
//! priced once every run object has been read.
//!
//! Steps carry usage but no model; the model is on the run (`thread.run` lines), which may
//! come before the steps, after them, in another file or in another shard. So nothing is
//! priced while reading: each step with usage adds its tokens to the entry of its (run,
//! assistant, group, hour), and the run table ([`crate::agg::RunTable`]) records each
//! run's model. Entries merge by adding (exact); the report prices them with the table in
//! force at each entry's hour (see [`crate::cost`]).
//!
//! A step names its run by its row in the run table, found once per line for the run
//! figures and the ledger together. A run's entries are chained, newest first: steps of
//! one run, assistant and hour come in bursts, so a burst's entry is found at the head of
//! its chain without hashing. A run with many entries (a long run, many groups) has them
//! moved to a hash index instead, as have the entries of steps without a run.

use super::hint::{prefetch, AHEAD};
use super::runs::NONE;
use super::{add, Error, Overflow};
use crate::batch::{Batch, Code, Dict};
use hashbrown::{DefaultHashBuilder, HashTable};
use std::hash::BuildHasher;

/// The hour (since the epoch) that costs are filed and priced under for a record created
/// at `created_at`: hour 0 for a time before the epoch, the last for one past 2^32 hours.
/// Cost entries and responses' fee-bearing calls share it.
#[inline]
pub fn cost_hour(created_at: i64) -> u32 {
    (created_at.max(0) / 3600).min(i64::from(u32::MAX)) as u32
}

/// What a step's tokens are filed under.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Entry {
    /// The run (an index of [`Ledger::run_id`]), or [`NONE`] for a step without a run id.
    pub run: u32,
    /// The assistant (a code of [`Ledger::name`]), or [`NONE`].
    pub assistant: u32,
    /// The group (an index of the groups table), or [`NONE`] without grouping.
    pub group: u32,
    /// Hours since the epoch of the step's `created_at`.
    pub hour: u32,
}

/// Token sums of the steps with usage filed under one [`Entry`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Tokens {
    /// Steps with usage.
    pub steps: u64,
    /// `prompt_tokens`.
    pub prompt: u64,
    /// `prompt_token_details.cached_tokens` (part of `prompt`).
    pub cached: u64,
    /// `completion_tokens`.
    pub completion: u64,
    /// `completion_tokens_details.reasoning_tokens` (part of `completion`).
    pub reasoning: u64,
}

impl Tokens {
    /// Adds `other`, or says which sum would not hold the total.
    pub fn add(&mut self, other: &Tokens) -> Result<(), Overflow> {
        add(&mut self.steps, other.steps, "cost.steps")?;
        add(&mut self.prompt, other.prompt, "cost.prompt_tokens")?;
        add(&mut self.cached, other.cached, "cost.cached_tokens")?;
        add(
            &mut self.completion,
            other.completion,
            "cost.completion_tokens",
        )?;
        add(
            &mut self.reasoning,
            other.reasoning,
            "cost.reasoning_tokens",
        )
    }
}

/// Where a run's entries are: the head of its chain, or [`INDEXED`] once the chain grew
/// past [`CHAIN`] and its entries moved to the hash index.
const INDEXED: u32 = u32::MAX - 1;
/// The longest chain walked before a run's entries move to the hash index.
const CHAIN: usize = 8;

/// The ledger of a summary.
#[derive(Debug, Clone)]
pub struct Ledger {
    /// Whether costs are kept at all (else every method is a no-op).
    pub enabled: bool,
    /// Assistant ids.
    names: Dict,
    /// Every entry, in the order first filed.
    entries: Vec<(Entry, Tokens)>,
    /// Per entry: the next (older) entry of its run's chain, or [`NONE`].
    next: Vec<u32>,
    /// Per row of the run table: its newest entry (the head of its chain), [`NONE`] for
    /// none, or [`INDEXED`].
    heads: Vec<u32>,
    /// The entries without a run, and those of runs with many: found by hashing.
    index: HashTable<u32>,
    hasher: DefaultHashBuilder,
    /// A batch's assistant codes → this ledger's (a cache per batch).
    assistant_codes: Vec<u32>,
}

impl Default for Ledger {
    fn default() -> Self {
        Ledger::new(false)
    }
}

impl Ledger {
    /// A ledger, if `enabled`; its entries name runs by their row in the summary's
    /// [`crate::agg::RunTable`].
    pub fn new(enabled: bool) -> Ledger {
        Ledger {
            enabled,
            names: Dict::default(),
            entries: Vec::new(),
            next: Vec::new(),
            heads: Vec::new(),
            index: HashTable::new(),
            hasher: DefaultHashBuilder::default(),
            assistant_codes: Vec::new(),
        }
    }

    /// How many names (assistant ids) there are: codes are below it.
    pub fn names_len(&self) -> usize {
        self.names.len()
    }

    /// An assistant id by its code.
    pub fn name(&self, code: u32) -> Option<&str> {
        (code != NONE).then(|| self.names.get(code))
    }

    /// Every entry.
    pub fn entries(&self) -> impl Iterator<Item = (&Entry, &Tokens)> {
        self.entries.iter().map(|(e, t)| (e, t))
    }

    /// Entry `i` (in the order first filed).
    pub fn entry(&self, i: usize) -> (&Entry, &Tokens) {
        let (e, t) = &self.entries[i];
        (e, t)
    }

    /// Keeps only the entries of steps without a run (no run table refers to them): the
    /// others went to a spill, with their runs.
    pub fn clear_runs(&mut self) -> Result<(), Overflow> {
        let old = std::mem::replace(self, Ledger::new(self.enabled));
        for (e, t) in old.entries.iter().filter(|(e, _)| e.run == NONE) {
            let assistant = match old.name(e.assistant) {
                Some(a) => self.name_code(a),
                None => NONE,
            };
            self.file(Entry { assistant, ..*e }, t)?;
        }
        Ok(())
    }

    /// Entries held.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// This ledger's code for `name` (an assistant id).
    pub fn name_code(&mut self, name: &str) -> u32 {
        self.names.intern(name)
    }

    /// Adds `tokens` to `entry`.
    pub fn file(&mut self, entry: Entry, tokens: &Tokens) -> Result<(), Overflow> {
        let head = if entry.run == NONE {
            INDEXED
        } else {
            let r = entry.run as usize;
            if r >= self.heads.len() {
                self.heads.resize(r + 1, NONE);
            }
            self.heads[r]
        };
        if head != INDEXED {
            // Walk the run's chain, newest first: steps come in bursts, so the entry
            // sought is nearly always the first.
            let mut at = head;
            let mut walked = 0;
            while at != NONE && walked < CHAIN {
                let (e, t) = &mut self.entries[at as usize];
                if *e == entry {
                    return t.add(tokens);
                }
                at = self.next[at as usize];
                walked += 1;
            }
            if at == NONE {
                let new = self.push(entry, tokens, head);
                self.heads[entry.run as usize] = new;
                return Ok(());
            }
            // A long chain: its run's entries move to the index, where the rest of the
            // run's steps find theirs by hashing.
            self.heads[entry.run as usize] = INDEXED;
            let mut at = head;
            while at != NONE {
                self.index_entry(at);
                at = self.next[at as usize];
            }
        }
        let h = self.hasher.hash_one(entry);
        let entries = &self.entries;
        if let Some(&at) = self.index.find(h, |&at| entries[at as usize].0 == entry) {
            return self.entries[at as usize].1.add(tokens);
        }
        let at = self.push(entry, tokens, NONE);
        self.index_entry(at);
        Ok(())
    }

    /// Brings the head of run row `r`'s chain into the cache, ahead of its filing.
    #[inline]
    fn prefetch_head(&self, r: u32) {
        if r != NONE {
            prefetch(self.heads.as_ptr().wrapping_add(r as usize));
        }
    }

    /// Brings the newest entry of run row `r` into the cache (its head should be there by
    /// now: see [`Ledger::prefetch_head`]).
    #[inline]
    fn prefetch_entry(&self, r: u32) {
        if let Some(&head) = self.heads.get(r as usize).filter(|&&h| h < INDEXED) {
            prefetch(self.entries.as_ptr().wrapping_add(head as usize));
        }
    }

    /// A new entry, whose chain goes on at `next`; returns its index.
    fn push(&mut self, entry: Entry, tokens: &Tokens, next: u32) -> u32 {
        let at = self.entries.len() as u32;
        self.entries.push((entry, *tokens));
        self.next.push(next);
        at
    }

    /// Puts entry `at` in the hash index.
    fn index_entry(&mut self, at: u32) {
        let (entries, hasher) = (&self.entries, &self.hasher);
        let h = hasher.hash_one(entries[at as usize].0);
        self.index
            .insert_unique(h, at, |&i| hasher.hash_one(entries[i as usize].0));
    }

    fn assistant_code(&mut self, code: Code, dict: &Dict) -> u32 {
        super::runs::batch_code(&mut self.assistant_codes, &mut self.names, code, dict)
    }

    /// Folds a batch's steps with usage in, each under its entry. `rows` are the steps'
    /// rows in the summary's run table ([`NONE`] for a step without a run id), as
    /// [`crate::agg::RunTable::rows`] gives them. `groups` lists (row, group) pairs when
    /// grouping (a row may be in several groups, or none listed when grouping is off: then
    /// `None`).
    pub fn update(
        &mut self,
        batch: &Batch,
        rows: &[u32],
        groups: Option<&[(u32, u32)]>,
    ) -> Result<(), Error> {
        if !self.enabled || batch.is_empty() {
            return Ok(());
        }
        debug_assert_eq!(rows.len(), batch.len());
        self.assistant_codes.clear();
        let entry = |ledger: &mut Ledger, i: usize| -> Option<Entry> {
            if !batch.has_usage.get(i) {
                return None;
            }
            let assistant = ledger.assistant_code(batch.assistant[i], &batch.dicts.assistant);
            let hour = cost_hour(batch.created_at[i]);
            Some(Entry {
                run: rows[i],
                assistant,
                group: NONE,
                hour,
            })
        };
        // Cached tokens are part of the prompt and reasoning tokens part of the
        // completion: a step claiming more of them than the whole is billed for the whole.
        let tokens = |i: usize| {
            let prompt = batch.prompt_tokens.values()[i];
            let completion = batch.completion_tokens.values()[i];
            Tokens {
                steps: 1,
                prompt,
                cached: batch.cached_tokens.values()[i].min(prompt),
                completion,
                reasoning: batch.reasoning_tokens.values()[i].min(completion),
            }
        };
        // Steps of one run, assistant and hour come in bursts: their tokens are added up
        // here and filed once per burst.
        let mut pending: Option<(Entry, Tokens)> = None;
        let mut add = |ledger: &mut Ledger, e: Entry, t: Tokens| -> Result<(), Error> {
            match &mut pending {
                Some((at, sum)) if *at == e => sum.add(&t)?,
                _ => {
                    if let Some((at, sum)) = pending.replace((e, t)) {
                        ledger.file(at, &sum)?;
                    }
                }
            }
            Ok(())
        };
        match groups {
            None => {
                for i in 0..batch.len() {
                    // Two steps: the head of a run's chain, then (once that is in the
                    // cache) the entry it names.
                    if let Some(&ahead) = rows.get(i + 2 * AHEAD) {
                        self.prefetch_head(ahead);
                    }
                    if let Some(&ahead) = rows.get(i + AHEAD) {
                        self.prefetch_entry(ahead);
                    }
                    if let Some(e) = entry(self, i) {
                        add(self, e, tokens(i))?;
                    }
                }
            }
            Some(pairs) => {
                let mut last: Option<(usize, Option<Entry>)> = None;
                for (j, &(row, group)) in pairs.iter().enumerate() {
                    if let Some(&(ahead, _)) = pairs.get(j + 2 * AHEAD) {
                        self.prefetch_head(rows[ahead as usize]);
                    }
                    if let Some(&(ahead, _)) = pairs.get(j + AHEAD) {
                        self.prefetch_entry(rows[ahead as usize]);
                    }
                    let i = row as usize;
                    let e = match last {
                        Some((r, e)) if r == i => e,
                        _ => entry(self, i),
                    };
                    last = Some((i, e));
                    if let Some(e) = e {
                        add(self, Entry { group, ..e }, tokens(i))?;
                    }
                }
            }
        }
        if let Some((at, sum)) = pending {
            self.file(at, &sum)?;
        }
        Ok(())
    }

    /// Merges another part; `runs[r]` is this side's row of the other's run `r` (see
    /// [`crate::agg::RunTable::merge`]), `groups[g]` this side's index of the other's group `g`.
    pub fn merge(&mut self, other: Ledger, runs: &[u32], groups: &[u32]) -> Result<(), Error> {
        if !other.enabled {
            return Ok(());
        }
        self.enabled = true;
        let names: Vec<u32> = (0..other.names.len() as u32)
            .map(|c| self.names.intern(other.names.get(c)))
            .collect();
        let code = |c: u32| if c == NONE { NONE } else { names[c as usize] };
        self.entries.reserve(other.entries.len());
        self.next.reserve(other.entries.len());
        for (i, &(e, t)) in other.entries.iter().enumerate() {
            if let Some(&mine) = other
                .entries
                .get(i + AHEAD)
                .and_then(|(ahead, _)| runs.get(ahead.run as usize))
            {
                self.prefetch_head(mine);
            }
            let entry = Entry {
                run: if e.run == NONE {
                    NONE
                } else {
                    *runs.get(e.run as usize).unwrap_or(&NONE)
                },
                assistant: code(e.assistant),
                group: if e.group == NONE {
                    NONE
                } else {
                    *groups.get(e.group as usize).unwrap_or(&NONE)
                },
                hour: e.hour,
            };
            self.file(entry, &t)?;
        }
        let bytes = other.heap_bytes();
        super::drop_aside(other, bytes);
        Ok(())
    }

    /// Whether the ledger is one a run could make, given `groups` groups and the steps
    /// with usage of the summary: the entries' steps add up to them (`exact`), or to at
    /// least them when a multi-valued dimension puts a step in several groups.
    pub fn check(
        &self,
        runs: usize,
        groups: usize,
        steps_with_usage: u64,
        exact: bool,
    ) -> Result<(), String> {
        if !self.enabled {
            return match self.entries.len() {
                0 => Ok(()),
                n => Err(format!("{n} cost entries with costs off")),
            };
        }
        let mut steps = 0u64;
        for (e, t) in &self.entries {
            let bad_run = e.run != NONE && e.run as usize >= runs;
            let bad_name = e.assistant != NONE && e.assistant as usize >= self.names.len();
            let bad_group = (e.group == NONE) != (groups == 0)
                || (e.group != NONE && e.group as usize >= groups);
            let max_hour = crate::parse::MAX_TIMESTAMP / 3600;
            if bad_run || bad_name || bad_group || i64::from(e.hour) > max_hour {
                return Err(format!("cost entry {e:?} refers to nothing"));
            }
            if t.steps == 0 || t.cached > t.prompt || t.reasoning > t.completion {
                return Err(format!("cost entry {e:?} holds {t:?}"));
            }
            steps = steps
                .checked_add(t.steps)
                .ok_or("the cost entries' steps pass 2^64")?;
        }
        if (exact && steps != steps_with_usage) || steps < steps_with_usage {
            return Err(format!(
                "the cost entries hold {steps} steps with usage, the summary {steps_with_usage}"
            ));
        }
        Ok(())
    }

    /// Bytes held on the heap, about.
    pub fn heap_bytes(&self) -> usize {
        self.entries.capacity() * std::mem::size_of::<(Entry, Tokens)>()
            + self.next.capacity() * 4
            + self.heads.capacity() * 4
            + self.index.capacity() * 5
    }
}

#[cfg(test)]
mod tests {
    use super::{Entry, Ledger, Tokens, CHAIN, NONE};
    use std::collections::BTreeMap;

    /// Entries filed in an order that defeats the chains (each run's hours in turn, more
    /// of them than a chain walks), against a map.
    #[test]
    fn long_chains_move_to_the_index_and_every_sum_stays_exact() {
        let mut ledger = Ledger::new(true);
        let mut expected: BTreeMap<Entry, u64> = BTreeMap::new();
        let hours = (3 * CHAIN) as u32;
        for round in 0..5u64 {
            for hour in 0..hours {
                for run in [0, 1, 7, NONE] {
                    let entry = Entry {
                        run,
                        assistant: NONE,
                        group: NONE,
                        hour: hour % (2 + run % 40),
                    };
                    let t = Tokens {
                        steps: 1,
                        prompt: round + u64::from(hour),
                        ..Tokens::default()
                    };
                    ledger.file(entry, &t).unwrap();
                    *expected.entry(entry).or_default() += t.prompt;
                }
            }
        }
        let got: BTreeMap<Entry, u64> = ledger.entries().map(|(e, t)| (*e, t.prompt)).collect();
        assert_eq!(got, expected);
        assert_eq!(ledger.len(), expected.len(), "no entry is filed twice");
        // Runs 0 and 1 kept short chains; run 7 (and the runless) went to the index.
        assert_ne!(ledger.heads[0], super::INDEXED);
        assert_eq!(ledger.heads[7], super::INDEXED);
    }
}
