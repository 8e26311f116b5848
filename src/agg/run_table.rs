//! Every run a summary meets, by id: the one table that the figures over runs
//! ([`crate::agg::Runs`]) and the cost ledger ([`crate::agg::Ledger`]) both index by row,
//! with each run's model.
//!
//! A run is met through its steps or through a run object (`thread.run`, which names its
//! model). Its id is hashed once per line and looked up once per line (see [`IdTable`]);
//! the row it gets is then what the run figures and the cost entries are filed under, so
//! a step with usage costs one lookup, not one per table. Rows are numbered in the order
//! runs are first met; merging another part gives the map from its rows to this one's.

use super::hint::AHEAD;
use super::ids::{BatchKeys, IdKey, IdTable};
use super::runs::{lower, TooManyRuns, NONE};
use super::Error;
use crate::batch::{Api, Batch, Dict, BATCH_MODEL, NULL};

/// Runs by id, and their models.
#[derive(Debug, Clone)]
pub struct RunTable {
    max: usize,
    ids: IdTable,
    /// Per row: its model (a code of `names`), or [`NONE`] while no run object named one.
    models: Vec<u32>,
    /// Model names.
    names: Dict,
    /// Per row: the row it is counted under (a response continuing a run is counted
    /// under the run's first response), or [`NONE`] for itself; empty while no response
    /// continues another. Set once at the end.
    roots: Vec<u32>,
    /// A batch's response model codes → this table's, for its synchronous and its batch
    /// responses (reused from batch to batch, cleared for each).
    model_codes: [Vec<u32>; 2],
}

impl Default for RunTable {
    fn default() -> Self {
        RunTable::new(super::DEFAULT_MAX_RUNS)
    }
}

impl RunTable {
    /// An empty table of at most `max` runs.
    pub fn new(max: usize) -> RunTable {
        RunTable {
            max,
            ids: IdTable::default(),
            models: Vec::new(),
            names: Dict::default(),
            roots: Vec::new(),
            model_codes: Default::default(),
        }
    }

    /// Runs held (met through steps or run objects).
    #[inline]
    pub fn len(&self) -> usize {
        self.models.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.models.is_empty()
    }

    /// The most runs allowed.
    pub fn max(&self) -> usize {
        self.max
    }

    /// Run `r`'s id.
    pub fn id(&self, r: u32) -> &str {
        std::str::from_utf8(self.ids.get(r as usize)).unwrap_or("")
    }

    /// Run `r`'s id as bytes (ids are UTF-8: their byte order is their order as text).
    #[inline]
    pub fn id_bytes(&self, r: u32) -> &[u8] {
        self.ids.get(r as usize)
    }

    /// The row of the run called `id`, whose key is `key`, added if new; `Err` past the
    /// limit.
    #[inline]
    pub fn row_keyed(&mut self, key: IdKey, id: &[u8]) -> Result<u32, Error> {
        let too_many = Error::TooManyRuns(TooManyRuns {
            what: "runs",
            limit: self.max,
        });
        let (r, new) = self.ids.intern(key, id, self.max).ok_or(too_many)?;
        if new {
            self.models.push(NONE);
        }
        Ok(r as u32)
    }

    /// The row of the run called `id`, added if new.
    pub fn row(&mut self, id: &str) -> Result<u32, Error> {
        self.row_keyed(IdKey::of(id.as_bytes()), id.as_bytes())
    }

    /// The row of the run whose id has key `key`, if held.
    pub fn find_key(&self, key: IdKey) -> Option<u32> {
        self.ids.find(key).map(|r| r as u32)
    }

    /// The run row `r`'s figures and costs are counted under: the first response of its
    /// chain for a response that continues another's run, else `r` itself.
    #[inline]
    pub fn root(&self, r: u32) -> u32 {
        match self.roots.get(r as usize) {
            Some(&root) if root != NONE => root,
            _ => r,
        }
    }

    /// Files each run row of the first list under the second's (see [`RunTable::root`]).
    pub fn set_roots(&mut self, roots: &[(u32, u32)]) {
        self.roots.clear();
        if !roots.is_empty() {
            self.roots.resize(self.len(), NONE);
            for &(r, root) in roots {
                self.roots[r as usize] = root;
            }
        }
    }

    /// Brings the slot where `key` is looked up into the cache, ahead of the lookup.
    #[inline]
    pub fn prefetch(&self, key: IdKey) {
        self.ids.prefetch(key);
    }

    /// The row of the run called `id`, if held.
    pub fn find(&self, id: &str) -> Option<u32> {
        self.ids.find(IdKey::of(id.as_bytes())).map(|r| r as u32)
    }

    /// Fills `keys.rows` with the row of each of `batch`'s steps ([`NONE`] for a step
    /// without a run id), adding the runs not yet held. `keys` must be `batch`'s. A
    /// response is its own run until chains are resolved, and names its own model: its
    /// row takes it here (a batch response's marked for the batch rate).
    pub fn rows(&mut self, batch: &Batch, keys: &mut BatchKeys) -> Result<(), Error> {
        debug_assert_eq!(keys.rows.len(), batch.len());
        let responses = batch.api.contains(&Api::Responses);
        if responses {
            for c in &mut self.model_codes {
                c.clear();
            }
        }
        // Steps of a run mostly come together: the previous row's run is looked up once.
        let mut last: Option<(IdKey, u32)> = None;
        for i in 0..batch.len() {
            if let Some(&ahead) = keys.runs.get(i + AHEAD) {
                self.ids.prefetch(ahead);
            }
            let Some(id) = batch.run_id.get(i) else {
                keys.rows[i] = NONE;
                continue;
            };
            let key = keys.runs[i];
            let r = match last {
                Some((at, r)) if at == key => r,
                _ => self.row_keyed(key, id.as_bytes())?,
            };
            last = Some((key, r));
            keys.rows[i] = r;
            if responses && batch.api[i] == Api::Responses && batch.model[i] != NULL {
                let code = self.response_model(batch, i);
                self.set_model_code(r, code);
            }
        }
        Ok(())
    }

    /// This table's code for the model of response `i` of `batch`.
    fn response_model(&mut self, batch: &Batch, i: usize) -> u32 {
        let from_batch = batch.from_batch[i];
        let cache = &mut self.model_codes[usize::from(from_batch)];
        let c = batch.model[i] as usize;
        if c >= cache.len() {
            cache.resize(c + 1, NONE);
        }
        if cache[c] == NONE {
            let name = batch.dicts.model.get(batch.model[i]);
            cache[c] = match from_batch {
                true => self.names.intern(&format!("{name}{BATCH_MODEL}")),
                false => self.names.intern(name),
            };
        }
        self.model_codes[usize::from(from_batch)][c]
    }

    /// Adds the runs of `batch`'s run objects, with the models they name.
    pub fn add_objects(&mut self, batch: &Batch) -> Result<(), Error> {
        for i in 0..batch.run_objects.len() {
            let Some(id) = batch.run_objects.get(i) else {
                continue;
            };
            let r = self.row(id)?;
            if let Some(model) = batch.run_models.get(i) {
                self.set_model(r, model);
            }
        }
        Ok(())
    }

    /// Records that run `r` is on `model`: when two snapshots of a run disagree (a
    /// stitched log), the name first in byte order, so any split of the input agrees.
    pub fn set_model(&mut self, r: u32, model: &str) {
        let code = self.names.intern(model);
        self.set_model_code(r, code);
    }

    /// The code of model `name` here (see [`RunTable::model_name`]), added if new.
    pub(crate) fn model_code_of(&mut self, name: &str) -> u32 {
        self.names.intern(name)
    }

    /// [`RunTable::set_model`] with the model by its code here.
    pub(crate) fn set_model_code(&mut self, r: u32, code: u32) {
        let mine = self.models[r as usize];
        if lower(mine, code, |c| self.names.get(c).as_bytes()) {
            self.models[r as usize] = code;
        }
    }

    /// Run `r`'s model, if a run object named one.
    pub fn model(&self, r: u32) -> Option<&str> {
        self.model_code(r).map(|m| self.names.get(m))
    }

    /// Run `r`'s model as a code of [`RunTable::model_name`], if a run object named one.
    #[inline]
    pub fn model_code(&self, r: u32) -> Option<u32> {
        self.models.get(r as usize).copied().filter(|&m| m != NONE)
    }

    /// How many model names there are: codes are below it.
    pub fn models_len(&self) -> usize {
        self.names.len()
    }

    /// A model's name by its code.
    pub fn model_name(&self, code: u32) -> &str {
        self.names.get(code)
    }

    /// Merges another part's runs in; returns each of its rows' row here.
    pub fn merge(&mut self, other: RunTable) -> Result<Vec<u32>, Error> {
        let names: Vec<u32> = (0..other.names.len() as u32)
            .map(|c| self.names.intern(other.names.get(c)))
            .collect();
        self.models.reserve(other.len());
        let mut map = Vec::with_capacity(other.len());
        let (models, mine_names) = (&mut self.models, &self.names);
        let added = self.ids.merge_from(&other.ids, self.max, |r, mine, new| {
            if new {
                models.push(NONE);
            }
            let m = other.models[r];
            if m != NONE {
                let code = names[m as usize];
                if lower(models[mine], code, |c| mine_names.get(c).as_bytes()) {
                    models[mine] = code;
                }
            }
            map.push(mine as u32);
        });
        let bytes = other.heap_bytes();
        super::drop_aside(other, bytes);
        added.map_err(|_| {
            Error::TooManyRuns(TooManyRuns {
                what: "runs",
                limit: self.max,
            })
        })?;
        Ok(map)
    }

    /// The first `n` of `runs` (rows of this table with a figure), largest figure first,
    /// ties by run id ascending. At most 2n are held while they are scanned: a run below
    /// the n-th so far is passed over, and ids are read only on a tie.
    pub fn top<K: Ord + Copy>(
        &self,
        n: usize,
        runs: impl Iterator<Item = (u32, K)>,
    ) -> Vec<(u32, K)> {
        if n == 0 {
            return Vec::new();
        }
        let order = |a: &(u32, K), b: &(u32, K)| {
            b.1.cmp(&a.1)
                .then_with(|| self.id_bytes(a.0).cmp(self.id_bytes(b.0)))
        };
        let mut best: Vec<(u32, K)> = Vec::with_capacity(2 * n);
        let mut floor: Option<K> = None;
        for (r, v) in runs {
            if floor.is_some_and(|f| v < f) {
                continue;
            }
            best.push((r, v));
            if best.len() == 2 * n {
                best.select_nth_unstable_by(n - 1, order);
                best.truncate(n);
                floor = Some(best[n - 1].1);
            }
        }
        best.sort_by(order);
        best.truncate(n);
        best
    }

    /// Bytes held on the heap, about.
    pub fn heap_bytes(&self) -> usize {
        self.ids.heap_bytes() + (self.models.capacity() + self.roots.capacity()) * 4
    }
}

#[cfg(test)]
mod tests {
    use super::RunTable;

    #[test]
    fn the_top_runs_are_the_largest_then_the_first_ids() {
        let mut t = RunTable::new(100);
        let ids = ["run_c", "run_a", "run_d", "run_b", "run_e"];
        for id in ids {
            t.row(id).unwrap();
        }
        let figures = [(0, 5u64), (1, 7), (2, 5), (3, 5), (4, 1)];
        let named = |top: Vec<(u32, u64)>| -> Vec<(&str, u64)> {
            top.into_iter().map(|(r, v)| (ids[r as usize], v)).collect()
        };
        assert_eq!(
            named(t.top(3, figures.into_iter())),
            [("run_a", 7), ("run_b", 5), ("run_c", 5)]
        );
        // One at a time (the held list fills and is cut at every second run).
        assert_eq!(named(t.top(1, figures.into_iter())), [("run_a", 7)]);
        assert_eq!(named(t.top(9, figures.into_iter())).len(), 5);
        assert!(t.top(0, figures.into_iter()).is_empty());
    }

    #[test]
    fn merging_maps_rows_and_keeps_the_first_model_in_byte_order() {
        let mut a = RunTable::new(10);
        let r1 = a.row("run_1").unwrap();
        a.set_model(r1, "gpt-4o");
        let mut b = RunTable::new(10);
        let r2 = b.row("run_2").unwrap();
        let r1b = b.row("run_1").unwrap();
        b.set_model(r1b, "gpt-4.1");
        b.set_model(r2, "o3");
        let map = a.merge(b).unwrap();
        assert_eq!(map, vec![1, 0]);
        assert_eq!(a.len(), 2);
        assert_eq!(a.model(0), Some("gpt-4.1"));
        assert_eq!(a.model(1), Some("o3"));
        assert_eq!(a.id(1), "run_2");
        assert_eq!(a.find("run_2"), Some(1));
        assert_eq!(a.find("run_3"), None);
        let mut small = RunTable::new(1);
        small.row("run_1").unwrap();
        assert!(small.row("run_2").is_err());
        assert_eq!(small.row("run_1").unwrap(), 0);
    }
}
