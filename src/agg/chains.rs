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

use super::ids::IdKey;
use super::Error;
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
        for (&start, link) in &links {
            if link.parent.is_none() || root.contains_key(&start) || step(start).is_none() {
                continue;
            }
            // Walk back until a known root, a first response, or a response met on this
            // walk (a cycle).
            path.clear();
            let mut at = start;
            let found = loop {
                if let Some(&r) = root.get(&at) {
                    break r;
                }
                if let Some(k) = path.iter().position(|&p| p == at) {
                    // A cycle: its least id is the root of it and of all behind it.
                    let least = path[k..].iter().copied().min().unwrap_or(at);
                    break least;
                }
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
