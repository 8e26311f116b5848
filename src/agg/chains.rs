//! Chains of responses: the runs of the Responses API.
//!
//! A response names the one before it (`previous_response_id`). It continues that one's
//! run when the one before asked for it (its output called a function or a computer, or
//! asked to approve an MCP call: see [`crate::batch::Row::pending`]); otherwise, or when
//! the one before is not in the input, it starts a run of its own. A new question in the
//! same conversation is a new run, as a new run on the same thread is.
//!
//! The links are kept by id hash (the run table's keys), for the responses that name one
//! before them or ask for the next (the others link nothing), and resolved at the end,
//! from the whole set: the result does not depend on the order of the lines, on how the
//! input was split into chunks, files or parts, or on repeated snapshots of a response
//! (their links are united: a response asked for the next one if any snapshot did, and
//! names the least of the parents its snapshots name). A cycle (which the API cannot
//! make, but a file can) is one run, rooted at its least id hash.

use super::hint::AHEAD;
use super::ids::IdKey;
use super::runs::NONE;
use super::{Error, RunTable};
use crate::agg::runs::TooManyRuns;
use crate::batch::{Api, Batch};
use std::hash::{BuildHasher, Hasher};

/// The keys are xxh3 hashes of ids already: their low bits index the table as they are
/// (hashing them again was a visible share of reading responses).
#[derive(Debug, Clone, Copy, Default)]
struct Prehashed;

impl BuildHasher for Prehashed {
    type Hasher = Low64;
    fn build_hasher(&self) -> Low64 {
        Low64(0)
    }
}

/// The low 64 bits of a `u128` key.
struct Low64(u64);

impl Hasher for Low64 {
    fn write(&mut self, bytes: &[u8]) {
        // Only `u128` keys are hashed here; any other input still hashes.
        for &b in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(b);
        }
    }
    fn write_u128(&mut self, v: u128) {
        self.0 = v as u64;
    }
    fn finish(&self) -> u64 {
        self.0
    }
}

type HashMap<K, V> = hashbrown::HashMap<K, V, Prehashed>;

/// What is known of one response: the response before it, and whether it asked for the
/// next one.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Link {
    parent: Option<u128>,
    pending: bool,
}

impl Link {
    fn unite(&mut self, other: Link) {
        self.pending |= other.pending;
        self.parent = match (self.parent, other.parent) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
    }
}

/// The links of the responses met, as read: appended while reading (a worker's pass
/// touches no table for them), united by response when resolved.
#[derive(Debug, Clone)]
pub struct Chains {
    links: Vec<(u128, Link)>,
    /// The most links held (`--max-runs`).
    max: usize,
}

impl Default for Chains {
    fn default() -> Self {
        Chains::new(super::DEFAULT_MAX_RUNS)
    }
}

impl Chains {
    /// The most links held.
    pub fn max(&self) -> usize {
        self.max
    }

    /// No links, at most `max` of them.
    pub fn new(max: usize) -> Chains {
        Chains {
            links: Vec::new(),
            max,
        }
    }

    /// Links held (a response's snapshots count once each).
    pub fn len(&self) -> usize {
        self.links.len()
    }

    /// Whether none is.
    pub fn is_empty(&self) -> bool {
        self.links.is_empty()
    }

    /// Bytes held, about.
    pub fn heap_bytes(&self) -> usize {
        self.links.capacity() * std::mem::size_of::<(u128, Link)>()
    }

    fn too_many(&self) -> Error {
        Error::TooManyRuns(TooManyRuns {
            what: "responses",
            limit: self.max,
        })
    }

    /// Adds the links of `batch`'s responses (its rows keep `previous`, with the run ids).
    pub fn update(&mut self, batch: &Batch) -> Result<(), Error> {
        if !batch.api.contains(&Api::Responses) || batch.previous.len() != batch.len() {
            return Ok(());
        }
        for i in 0..batch.len() {
            if batch.api[i] != Api::Responses || batch.undated(i) {
                continue;
            }
            let parent = batch.previous.get(i);
            // A response that names none and asks for none links nothing: no response
            // continues it (its snapshots that ask, if any, are kept), and it continues
            // none. Most responses are such: they are not held.
            if parent.is_none() && !batch.pending[i] {
                continue;
            }
            let link = Link {
                parent: parent.map(|p| IdKey::of(p.as_bytes()).0),
                pending: batch.pending[i],
            };
            self.add(batch.id_hash[i], link)?;
        }
        Ok(())
    }

    fn add(&mut self, id: u128, link: Link) -> Result<(), Error> {
        if self.links.len() >= self.max {
            return Err(self.too_many());
        }
        self.links.push((id, link));
        Ok(())
    }

    /// The links united by response.
    fn united(&self) -> HashMap<u128, Link> {
        let mut map: HashMap<u128, Link> = HashMap::default();
        map.reserve(self.links.len());
        for &(id, link) in &self.links {
            map.entry(id).and_modify(|l| l.unite(link)).or_insert(link);
        }
        map
    }

    /// Every link, united by response: the response, the one before it, whether it
    /// asked for the next; sorted (as a state writes them).
    pub fn entries(&self) -> Vec<(u128, Option<u128>, bool)> {
        let mut all: Vec<_> = self
            .united()
            .into_iter()
            .map(|(id, l)| (id, l.parent, l.pending))
            .collect();
        all.sort_unstable();
        all
    }

    /// Adds a link as [`Chains::entries`] gives it.
    pub fn insert(&mut self, id: u128, parent: Option<u128>, pending: bool) -> Result<(), Error> {
        self.add(id, Link { parent, pending })
    }

    /// Merges another part's links.
    pub fn merge(&mut self, mut other: Chains) -> Result<(), Error> {
        if self.links.len() + other.links.len() > self.max {
            return Err(self.too_many());
        }
        if self.links.len() < other.links.len() {
            std::mem::swap(&mut self.links, &mut other.links);
        }
        self.links.append(&mut other.links);
        Ok(())
    }

    /// [`Chains::resolve`] on the rows of `table`, which holds every response linked
    /// (their runs were not spilled): each row that continues another's run, with the
    /// row of the first response of that run, in row order.
    ///
    /// The same answer as [`Chains::resolve`] (a test holds them equal), in arrays
    /// indexed by row instead of maps keyed by hash: a response's links are found by one
    /// probe of the run table, and its parent by one more, asked for a few links ahead.
    /// Resolving a million chained responses took a third of a second with the maps,
    /// on one thread at the end of the run.
    pub fn resolve_in(&self, table: &RunTable) -> Vec<(u32, u32)> {
        let n = table.len();
        if self.links.is_empty() || n == 0 {
            return Vec::new();
        }
        // Per row: whether any of its snapshots asked for the next response, and the
        // link of the snapshot naming the least parent (snapshots are united so).
        let mut pending = vec![false; n];
        let mut named = vec![NONE; n];
        let rows = probe_all(table, self.links.len(), |i| Some(self.links[i].0));
        for (i, ((_, link), &r)) in self.links.iter().zip(&rows).enumerate() {
            if r == NONE {
                continue; // not in this table: its run was never counted
            }
            let r = r as usize;
            pending[r] |= link.pending;
            if let Some(p) = link.parent {
                let best = named[r];
                if best == NONE || self.links[best as usize].1.parent.is_some_and(|q| p < q) {
                    named[r] = i as u32;
                }
            }
        }
        // Per row: the row of the response it continues (its parent, when that one
        // asked for the next), or NONE.
        let parent_key = |r: usize| -> Option<u128> {
            (named[r] != NONE)
                .then(|| self.links[named[r] as usize].1.parent)
                .flatten()
        };
        drop(rows);
        let mut parent = vec![NONE; n];
        let linked: Vec<usize> = (0..n).filter(|&r| named[r] != NONE).collect();
        let parents = probe_all(table, linked.len(), |k| parent_key(linked[k]));
        for (&r, &p) in linked.iter().zip(&parents) {
            if p != NONE && pending[p as usize] {
                parent[r] = p;
            }
        }
        drop((pending, named, parents));
        // Each walk back stops at a known root, a first response, or a row met on this
        // walk (a cycle, which the API cannot make but a file can: its least id hash is
        // the root of it and of all behind it). Marks make every step constant time, so
        // a chain of any length is walked once.
        const WALKING: u32 = NONE - 1;
        let key = |r: u32| IdKey::of(table.id_bytes(r)).0;
        let mut root = vec![NONE; n];
        let mut path: Vec<u32> = Vec::new();
        for &start in &linked {
            if parent[start] == NONE || root[start] != NONE {
                continue;
            }
            path.clear();
            let mut at = start as u32;
            let found = loop {
                match root[at as usize] {
                    NONE => {}
                    WALKING => {
                        let k = path.iter().position(|&p| p == at).unwrap_or(0);
                        break path[k..]
                            .iter()
                            .copied()
                            .min_by_key(|&r| key(r))
                            .unwrap_or(at);
                    }
                    r => break r,
                }
                root[at as usize] = WALKING;
                path.push(at);
                match parent[at as usize] {
                    NONE => break at,
                    p => at = p,
                }
            };
            for &p in &path {
                root[p as usize] = found;
            }
        }
        linked
            .into_iter()
            .map(|r| (r as u32, root[r]))
            .filter(|&(r, root)| root != NONE && root != r)
            .collect()
    }

    /// Every response that continues another's run, with the first response of that
    /// run (by id hash), sorted by the former.
    pub fn resolve(&self) -> Vec<(u128, u128)> {
        let links = self.united();
        // The response each continues, if it does.
        let step = |id: u128| -> Option<u128> {
            let p = links.get(&id)?.parent?;
            links.get(&p).filter(|l| l.pending).map(|_| p)
        };
        // Only the responses that continue a run are walked (most start one).
        let mut root: HashMap<u128, u128> = HashMap::default();
        let mut path = Vec::new();
        let mut walking: hashbrown::HashSet<u128, Prehashed> = Default::default();
        for (&start, link) in &links {
            if link.parent.is_none() || root.contains_key(&start) || step(start).is_none() {
                continue;
            }
            // Walk back until a known root, a first response, or a response met on this
            // walk (a cycle).
            path.clear();
            walking.clear();
            let mut at = start;
            let found = loop {
                if let Some(&r) = root.get(&at) {
                    break r;
                }
                if walking.contains(&at) {
                    // A cycle: its least id is the root of it and of all behind it.
                    let k = path.iter().position(|&p| p == at).unwrap_or(0);
                    let least = path[k..].iter().copied().min().unwrap_or(at);
                    break least;
                }
                walking.insert(at);
                path.push(at);
                match step(at) {
                    Some(p) => at = p,
                    None => break at,
                }
            };
            for &p in &path {
                root.insert(p, found);
            }
        }
        let mut out: Vec<(u128, u128)> = root.into_iter().filter(|(id, r)| id != r).collect();
        out.sort_unstable();
        out
    }
}

/// The run-table row of each of `count` keys (`key(i)`; [`NONE`] for none, or for a key
/// the table does not hold), probed in parts on every core of the current pool, each part
/// asking for the slots a few keys ahead: a million probes of a table far larger than the
/// caches wait on memory, side by side.
fn probe_all(
    table: &RunTable,
    count: usize,
    key: impl Fn(usize) -> Option<u128> + Sync,
) -> Vec<u32> {
    use rayon::prelude::*;
    const PART: usize = 1 << 14;
    let mut out = vec![NONE; count];
    out.par_chunks_mut(PART).enumerate().for_each(|(c, part)| {
        let (base, len) = (c * PART, part.len());
        for (j, slot) in part.iter_mut().enumerate() {
            if j + AHEAD < len {
                if let Some(ahead) = key(base + j + AHEAD) {
                    table.prefetch(IdKey(ahead));
                }
            }
            if let Some(k) = key(base + j) {
                *slot = table.find_key(IdKey(k)).unwrap_or(NONE);
            }
        }
    });
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chains(links: &[(u128, Option<u128>, bool)]) -> Chains {
        let mut c = Chains::new(100);
        for &(id, parent, pending) in links {
            c.add(id, Link { parent, pending }).unwrap();
        }
        c
    }

    #[test]
    fn a_response_continues_the_run_of_one_that_asked_for_it() {
        // 1 asks (a function call); 2 answers it and asks again; 3 answers; 4 follows 3,
        // which did not ask: a new run. 5 names a response not in the input.
        let c = chains(&[
            (1, None, true),
            (2, Some(1), true),
            (3, Some(2), false),
            (4, Some(3), false),
            (5, Some(99), false),
        ]);
        assert_eq!(c.resolve(), vec![(2, 1), (3, 1)]);
    }

    #[test]
    fn resolution_is_the_same_in_any_order_and_split() {
        let links = [
            (10, Some(7), false),
            (7, Some(3), true),
            (3, None, true),
            (8, Some(3), true),
            (9, Some(8), false),
        ];
        let whole = chains(&links).resolve();
        assert_eq!(whole, vec![(7, 3), (8, 3), (9, 3), (10, 3)]);
        for split in 0..links.len() {
            let mut a = chains(&links[..split]);
            let mut rev: Vec<_> = links[split..].to_vec();
            rev.reverse();
            a.merge(chains(&rev)).unwrap();
            assert_eq!(a.resolve(), whole, "split at {split}");
        }
    }

    #[test]
    fn repeated_snapshots_unite_and_cycles_are_one_run() {
        // The in-progress snapshot of 1 did not ask; the completed one did.
        let c = chains(&[(1, None, false), (2, Some(1), false), (1, None, true)]);
        assert_eq!(c.resolve(), vec![(2, 1)]);
        let c = chains(&[
            (5, Some(6), true),
            (6, Some(7), true),
            (7, Some(5), true),
            (8, Some(6), false),
        ]);
        assert_eq!(c.resolve(), vec![(6, 5), (7, 5), (8, 5)]);
    }

    #[test]
    fn resolving_by_rows_agrees_with_resolving_by_hashes() {
        // Random links among 40 responses (the last 8 never read, so not in the table:
        // parents outside the input), with repeated snapshots that disagree, cycles, and
        // responses in the table that link nothing. Rows are numbered in another order
        // than the hashes, so no answer can come from the order alone.
        let id = |k: u64| format!("resp_{k:03}");
        let key = |k: u64| IdKey::of(id(k).as_bytes()).0;
        let mut seed = 0x9e37_79b9_7f4a_7c15u64;
        let mut next = |n: u64| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed % n
        };
        let mut continued = 0;
        for round in 0..300 {
            let mut table = RunTable::new(100);
            let mut order: Vec<u64> = (0..32).collect();
            for i in (1..order.len()).rev() {
                order.swap(i, next(i as u64 + 1) as usize);
            }
            for &k in &order {
                table.row(&id(k)).unwrap();
            }
            let mut c = Chains::new(1000);
            for _ in 0..(10 + next(50)) {
                let child = next(32);
                let parent = (next(5) > 0).then(|| key(next(40)));
                c.add(
                    key(child),
                    Link {
                        parent,
                        pending: next(3) > 0,
                    },
                )
                .unwrap();
            }
            let by_hash = c.resolve();
            let mut by_rows: Vec<(u128, u128)> = c
                .resolve_in(&table)
                .into_iter()
                .map(|(r, root)| {
                    let k = |r: u32| IdKey::of(table.id_bytes(r)).0;
                    (k(r), k(root))
                })
                .collect();
            by_rows.sort_unstable();
            assert_eq!(by_rows, by_hash, "round {round}");
            continued += by_hash.len();
        }
        assert!(continued > 1000, "the rounds made chains: {continued}");
    }

    #[test]
    fn a_chain_of_any_length_is_walked_once() {
        // 200,000 responses, each continuing the one before: one run. (Walking back with
        // a search of the path for cycles took quadratic time.)
        let n = 200_000u64;
        let id = |k: u64| format!("resp_{k}");
        let mut table = RunTable::new(n as usize);
        let mut c = Chains::new(n as usize);
        for k in (0..n).rev() {
            table.row(&id(k)).unwrap();
            let parent = (k > 0).then(|| IdKey::of(id(k - 1).as_bytes()).0);
            let link = Link {
                parent,
                pending: true,
            };
            c.add(IdKey::of(id(k).as_bytes()).0, link).unwrap();
        }
        let rows = c.resolve_in(&table);
        assert_eq!(rows.len() as u64, n - 1);
        assert_eq!(c.resolve().len() as u64, n - 1);
        let first = table.find(&id(0)).unwrap();
        assert!(rows.iter().all(|&(_, root)| root == first));
    }

    #[test]
    fn more_links_than_allowed_is_an_error() {
        let mut c = Chains::new(2);
        c.add(1, Link::default()).unwrap();
        c.add(2, Link::default()).unwrap();
        assert!(c.add(3, Link::default()).is_err());
        let mut d = Chains::new(2);
        d.add(4, Link::default()).unwrap();
        assert!(d.merge(c).is_err());
    }
}
