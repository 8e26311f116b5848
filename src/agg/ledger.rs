//! The cost ledger: token sums by run, assistant, group and hour, and the model of each
//! run, so that steps can be priced once every run object has been read.
//!
//! Steps carry usage but no model; the model is on the run (`thread.run` lines), which may
//! come before the steps, after them, in another file or in another shard. So nothing is
//! priced while reading: each step with usage adds its tokens to the entry of its (run,
//! assistant, group, hour), and each run object records the run's model. Entries merge by
//! adding (exact), models by taking the first in byte order when two snapshots of a run
//! disagree; the report prices the entries with the table in force at each entry's hour
//! (see [`crate::cost`]). Steps of one run, one assistant and one hour come in bursts, so
//! a ledger holds about one entry per run and hour: a little more than the run table.

use super::ids::{BatchKeys, IdKey, IdTable};
use super::runs::{TooManyRuns, NONE};
use super::{add, Error, Overflow};
use crate::batch::{Batch, Code, Dict};
use hashbrown::{DefaultHashBuilder, HashTable};
use std::hash::BuildHasher;

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

    /// Prompt plus completion tokens (what "tokens" means in cost figures), saturating at
    /// 2^64 − 1 (only for display: sums are checked where they are kept).
    pub fn total(&self) -> u64 {
        self.prompt.saturating_add(self.completion)
    }
}

/// The ledger of a summary.
#[derive(Debug, Clone)]
pub struct Ledger {
    /// Whether costs are kept at all (else every method is a no-op).
    pub enabled: bool,
    max: usize,
    /// Run ids, from steps and run objects.
    runs: IdTable,
    /// Per run: its model (a code of `names`), or [`NONE`] while no run object named one.
    models: Vec<u32>,
    /// Model names and assistant ids.
    names: Dict,
    /// Every entry, in the order first filed, found through `index`.
    entries: Vec<(Entry, Tokens)>,
    index: HashTable<u32>,
    hasher: DefaultHashBuilder,
    /// Per row of the worker's run table (see [`BatchKeys::rows`]): this ledger's run and
    /// the entry it filed last, so that a run's next step finds both without a lookup.
    by_row: Vec<[u32; 2]>,
    /// A batch's assistant codes → this ledger's (a cache per batch).
    assistant_codes: Vec<u32>,
}

impl Default for Ledger {
    fn default() -> Self {
        Ledger::new(false, super::DEFAULT_MAX_RUNS)
    }
}

impl Ledger {
    /// A ledger, if `enabled`, of at most `max` runs.
    pub fn new(enabled: bool, max: usize) -> Ledger {
        Ledger {
            enabled,
            max,
            runs: IdTable::default(),
            models: Vec::new(),
            names: Dict::default(),
            entries: Vec::new(),
            index: HashTable::new(),
            hasher: DefaultHashBuilder::default(),
            by_row: Vec::new(),
            assistant_codes: Vec::new(),
        }
    }

    /// The most runs allowed.
    pub fn max(&self) -> usize {
        self.max
    }

    /// Runs known (from steps or run objects).
    pub fn runs(&self) -> usize {
        self.models.len()
    }

    /// Run `r`'s id.
    pub fn run_id(&self, r: u32) -> &str {
        std::str::from_utf8(self.runs.get(r as usize)).unwrap_or("")
    }

    /// Run `r`'s model, if a run object named one.
    pub fn model(&self, r: u32) -> Option<&str> {
        let m = *self.models.get(r as usize)?;
        (m != NONE).then(|| self.names.get(m))
    }

    /// Run `r`'s model as a code of [`Ledger::name`], if a run object named one.
    pub fn model_code(&self, r: u32) -> Option<u32> {
        self.models.get(r as usize).copied().filter(|&m| m != NONE)
    }

    /// How many names (models and assistant ids) there are: codes are below it.
    pub fn names_len(&self) -> usize {
        self.names.len()
    }

    /// A name (model or assistant id) by its code.
    pub fn name(&self, code: u32) -> Option<&str> {
        (code != NONE).then(|| self.names.get(code))
    }

    /// Every entry.
    pub fn entries(&self) -> impl Iterator<Item = (&Entry, &Tokens)> {
        self.entries.iter().map(|(e, t)| (e, t))
    }

    /// Entries held.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    fn too_many(&self) -> Error {
        Error::TooManyRuns(TooManyRuns {
            what: "runs",
            limit: self.max,
        })
    }

    /// The run called `id`, added (without a model) if new.
    pub fn run(&mut self, id: &str) -> Result<u32, Error> {
        self.run_keyed(IdKey::of(id.as_bytes()), id)
    }

    /// The run called `id`, whose key is `key`, added (without a model) if new.
    #[inline]
    pub fn run_keyed(&mut self, key: IdKey, id: &str) -> Result<u32, Error> {
        let (r, new) = self
            .runs
            .intern(key, id.as_bytes(), self.max)
            .ok_or_else(|| self.too_many())?;
        if new {
            self.models.push(NONE);
        }
        Ok(r as u32)
    }

    /// Records that run `r` is on `model`: when two snapshots of a run disagree (a
    /// stitched log), the name first in byte order, so any split of the input agrees.
    pub fn set_model(&mut self, r: u32, model: &str) {
        let code = self.names.intern(model);
        let mine = self.models[r as usize];
        if super::runs::lower(mine, code, |c| self.names.get(c).as_bytes()) {
            self.models[r as usize] = code;
        }
    }

    /// This ledger's code for `name` (model or assistant id).
    pub fn name_code(&mut self, name: &str) -> u32 {
        self.names.intern(name)
    }

    /// Adds `tokens` to `entry`.
    pub fn file(&mut self, entry: Entry, tokens: &Tokens) -> Result<(), Overflow> {
        self.file_at(entry, tokens).map(|_| ())
    }

    /// Adds `tokens` to `entry`; returns the entry's index.
    fn file_at(&mut self, entry: Entry, tokens: &Tokens) -> Result<u32, Overflow> {
        let h = self.hasher.hash_one(entry);
        let entries = &self.entries;
        if let Some(&at) = self.index.find(h, |&at| entries[at as usize].0 == entry) {
            self.entries[at as usize].1.add(tokens)?;
            return Ok(at);
        }
        let at = self.entries.len() as u32;
        self.entries.push((entry, *tokens));
        let (entries, hasher) = (&self.entries, &self.hasher);
        self.index
            .insert_unique(h, at, |&i| hasher.hash_one(entries[i as usize].0));
        Ok(at)
    }

    /// Adds `tokens` to `entry`, filed from run-table row `row` (or [`NONE`]): the row's
    /// last entry is tried first.
    fn file_from(&mut self, row: u32, entry: Entry, tokens: &Tokens) -> Result<(), Overflow> {
        if let Some(&[_, at]) = self.by_row.get(row as usize) {
            if let Some((e, t)) = self.entries.get_mut(at as usize) {
                if *e == entry {
                    return t.add(tokens);
                }
            }
        }
        let at = self.file_at(entry, tokens)?;
        if let Some(slot) = self.by_row.get_mut(row as usize) {
            slot[1] = at;
        }
        Ok(())
    }

    fn assistant_code(&mut self, code: Code, dict: &Dict) -> u32 {
        super::runs::batch_code(&mut self.assistant_codes, &mut self.names, code, dict)
    }

    /// Folds a batch in: its run objects' models, and each step with usage under its
    /// entry. `groups` lists (row, group) pairs when grouping (a row may be in several
    /// groups, or none listed when grouping is off: then `None`). `keys` are the batch's
    /// id keys; their `rows` must be those the same worker's run table gave this batch
    /// (as [`crate::agg::Aggregates`] does), or `u32::MAX` each, since the ledger
    /// remembers its runs by those rows.
    pub fn update(
        &mut self,
        batch: &Batch,
        keys: &BatchKeys,
        groups: Option<&[(u32, u32)]>,
    ) -> Result<(), Error> {
        if !self.enabled {
            return Ok(());
        }
        self.add_runs(batch)?;
        self.assistant_codes.clear();
        let mut last: Option<(IdKey, u32)> = None; // (key, run)
        let mut row_entry =
            |ledger: &mut Ledger, i: usize| -> Result<Option<(Entry, u32)>, Error> {
                if !batch.has_usage.get(i) {
                    return Ok(None);
                }
                let row = keys.rows.get(i).copied().unwrap_or(NONE);
                let run = match batch.run_id.get(i) {
                    None => NONE,
                    Some(id) => match ledger.known_row(row) {
                        NONE => {
                            let key = keys
                                .runs
                                .get(i)
                                .copied()
                                .unwrap_or_else(|| IdKey::of(id.as_bytes()));
                            let r = match last {
                                Some((at, r)) if at == key => r,
                                _ => ledger.run_keyed(key, id)?,
                            };
                            last = Some((key, r));
                            if row != NONE {
                                ledger.remember_row(row, r);
                            }
                            r
                        }
                        known => known,
                    },
                };
                let assistant = ledger.assistant_code(batch.assistant[i], &batch.dicts.assistant);
                let hour = (batch.created_at[i].max(0) / 3600).min(i64::from(u32::MAX)) as u32;
                Ok(Some((
                    Entry {
                        run,
                        assistant,
                        group: NONE,
                        hour,
                    },
                    row,
                )))
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
        // here and filed once per burst, not looked up step by step.
        let mut pending: Option<(Entry, Tokens, u32)> = None;
        let mut add =
            |ledger: &mut Ledger, (e, row): (Entry, u32), t: Tokens| -> Result<(), Error> {
                match &mut pending {
                    Some((at, sum, _)) if *at == e => sum.add(&t)?,
                    _ => {
                        if let Some((at, sum, row)) = pending.replace((e, t, row)) {
                            ledger.file_from(row, at, &sum)?;
                        }
                    }
                }
                Ok(())
            };
        match groups {
            None => {
                for i in 0..batch.len() {
                    if let Some(e) = row_entry(self, i)? {
                        add(self, e, tokens(i))?;
                    }
                }
            }
            Some(pairs) => {
                let mut entry: Option<(usize, Option<(Entry, u32)>)> = None;
                for &(row, group) in pairs {
                    let i = row as usize;
                    let e = match entry {
                        Some((r, e)) if r == i => e,
                        _ => row_entry(self, i)?,
                    };
                    entry = Some((i, e));
                    if let Some((e, row)) = e {
                        add(self, (Entry { group, ..e }, row), tokens(i))?;
                    }
                }
            }
        }
        if let Some((at, sum, row)) = pending {
            self.file_from(row, at, &sum)?;
        }
        Ok(())
    }

    /// This ledger's run for run-table row `row`, or [`NONE`] (also for row [`NONE`]).
    #[inline]
    fn known_row(&self, row: u32) -> u32 {
        self.by_row.get(row as usize).map_or(NONE, |s| s[0])
    }

    /// Remembers that run-table row `row` is this ledger's run `r`.
    fn remember_row(&mut self, row: u32, r: u32) {
        let row = row as usize;
        if row >= self.by_row.len() {
            self.by_row.resize(row + 1, [NONE, NONE]);
        }
        self.by_row[row][0] = r;
    }

    /// Folds in the batch's run objects (their models) only.
    pub fn add_runs(&mut self, batch: &Batch) -> Result<(), Error> {
        if !self.enabled {
            return Ok(());
        }
        for i in 0..batch.run_objects.len() {
            let Some(id) = batch.run_objects.get(i) else {
                continue;
            };
            let r = self.run(id)?;
            if let Some(model) = batch.run_models.get(i) {
                self.set_model(r, model);
            }
        }
        Ok(())
    }

    /// Merges another part; `groups[g]` is this side's index of the other's group `g`.
    pub fn merge(&mut self, other: Ledger, groups: &[u32]) -> Result<(), Error> {
        if !other.enabled {
            return Ok(());
        }
        self.enabled = true;
        let names: Vec<u32> = (0..other.names.len() as u32)
            .map(|c| self.names.intern(other.names.get(c)))
            .collect();
        let code = |c: u32| if c == NONE { NONE } else { names[c as usize] };
        let mut runs = Vec::with_capacity(other.models.len());
        self.runs.reserve(other.runs.len());
        for (r, &m) in other.models.iter().enumerate() {
            let mine = self.run(other.run_id(r as u32))?;
            if m != NONE {
                self.set_model(mine, other.names.get(m));
            }
            runs.push(mine);
        }
        // Rows of the run table are a worker's: no longer this ledger's once merged.
        self.by_row = Vec::new();
        self.entries.reserve(other.entries.len());
        let (entries, hasher) = (&self.entries, &self.hasher);
        self.index.reserve(other.entries.len(), |&i| {
            hasher.hash_one(entries[i as usize].0)
        });
        for (e, t) in other.entries {
            let entry = Entry {
                run: if e.run == NONE {
                    NONE
                } else {
                    runs[e.run as usize]
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
        Ok(())
    }

    /// Whether the ledger is one a run could make, given `groups` groups and the steps
    /// with usage of the summary: the entries' steps add up to them (`exact`), or to at
    /// least them when a multi-valued dimension puts a step in several groups.
    pub fn check(&self, groups: usize, steps_with_usage: u64, exact: bool) -> Result<(), String> {
        if !self.enabled {
            return match self.entries.len() {
                0 => Ok(()),
                n => Err(format!("{n} cost entries with costs off")),
            };
        }
        let mut steps = 0u64;
        for (e, t) in &self.entries {
            let bad_run = e.run != NONE && e.run as usize >= self.models.len();
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
        self.runs.heap_bytes()
            + self.models.capacity() * 4
            + self.entries.capacity() * std::mem::size_of::<(Entry, Tokens)>()
            + self.index.capacity() * 5
            + self.by_row.capacity() * 8
    }
}
