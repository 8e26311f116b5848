//! The bytes of a spill: runs with their figures and cost entries, threads with their
//! steps, thread keys. Written and read back by the same process (no version, no
//! portability), and compact, since writing is most of a spill's cost: numbers as
//! LEB128 varints, timestamps as differences, and the names runs repeat (models,
//! assistants, statuses) once per slice, by code. A field read past the end is damage,
//! said as such, never a panic.

use super::Error;
use crate::agg::ids::IdKey;
use crate::agg::ledger::{Entry, Tokens};
use crate::agg::runs::{RunParts, NONE};
use crate::agg::{Ledger, RunTable, Runs};
use crate::batch::{Dict, Place};

/// Appends fields to a buffer.
pub struct Put<'a>(pub &'a mut Vec<u8>);

impl Put<'_> {
    /// An unsigned number, 7 bits a byte.
    pub fn var(&mut self, mut v: u64) {
        while v >= 0x80 {
            self.0.push(v as u8 | 0x80);
            v >>= 7;
        }
        self.0.push(v as u8);
    }

    /// A signed number, zigzagged.
    pub fn signed(&mut self, v: i64) {
        self.var(((v << 1) ^ (v >> 63)) as u64);
    }

    pub fn u128(&mut self, v: u128) {
        self.0.extend_from_slice(&v.to_le_bytes());
    }

    pub fn bytes(&mut self, b: &[u8]) {
        self.var(b.len() as u64);
        self.0.extend_from_slice(b);
    }

    /// A code that may be [`NONE`]: one more, or 0.
    pub fn code(&mut self, c: u32) {
        self.var(if c == NONE { 0 } else { u64::from(c) + 1 });
    }
}

/// Reads fields from a slice.
pub struct Get<'a> {
    bytes: &'a [u8],
}

impl<'a> Get<'a> {
    pub fn new(bytes: &'a [u8]) -> Get<'a> {
        Get { bytes }
    }

    pub fn is_empty(&self) -> bool {
        self.bytes.is_empty()
    }

    fn take(&mut self, n: usize) -> Result<&'a [u8], Error> {
        if n > self.bytes.len() {
            return Err(Error::Damaged("a record runs past its slice"));
        }
        let (head, rest) = self.bytes.split_at(n);
        self.bytes = rest;
        Ok(head)
    }

    pub fn var(&mut self) -> Result<u64, Error> {
        let mut v = 0u64;
        for shift in (0..64).step_by(7) {
            let b = *self
                .bytes
                .first()
                .ok_or(Error::Damaged("a number runs past its slice"))?;
            self.bytes = &self.bytes[1..];
            v |= u64::from(b & 0x7f) << shift;
            if b < 0x80 {
                return Ok(v);
            }
        }
        Err(Error::Damaged("a number of more than 64 bits"))
    }

    pub fn signed(&mut self) -> Result<i64, Error> {
        let v = self.var()?;
        Ok((v >> 1) as i64 ^ -((v & 1) as i64))
    }

    pub fn u32(&mut self) -> Result<u32, Error> {
        u32::try_from(self.var()?).map_err(|_| Error::Damaged("a number past 2^32"))
    }

    pub fn u128(&mut self) -> Result<u128, Error> {
        let mut a = [0u8; 16];
        a.copy_from_slice(self.take(16)?);
        Ok(u128::from_le_bytes(a))
    }

    pub fn str(&mut self) -> Result<&'a str, Error> {
        let n = usize::try_from(self.var()?).map_err(|_| Error::Damaged("a long name"))?;
        std::str::from_utf8(self.take(n)?).map_err(|_| Error::Damaged("a name is not UTF-8"))
    }

    /// A code that may be [`NONE`] (see [`Put::code`]).
    pub fn code(&mut self) -> Result<u32, Error> {
        match self.var()? {
            0 => Ok(NONE),
            c => u32::try_from(c - 1).map_err(|_| Error::Damaged("a code past 2^32")),
        }
    }
}

/// An optional time, as its difference from `base` (wrapping: any two times
/// round-trip, however far apart).
fn put_time(p: &mut Put<'_>, t: Option<i64>, base: i64) {
    match t {
        None => p.var(0),
        Some(t) => {
            p.var(1);
            p.signed(t.wrapping_sub(base));
        }
    }
}

fn get_time(g: &mut Get<'_>, base: i64) -> Result<Option<i64>, Error> {
    match g.var()? {
        0 => Ok(None),
        _ => Ok(Some(base.wrapping_add(g.signed()?))),
    }
}

/// A slice of runs being written: records, and the names they refer to by code.
#[derive(Default)]
pub struct RunSlice {
    names: Dict,
    body: Vec<u8>,
    /// The slice's code of each code of the tables' names, once looked up: the run
    /// table's models, the runs' statuses and assistants, the ledger's assistants.
    models: Codes,
    run_names: Codes,
    ledger_names: Codes,
    /// The slice's codes of a run's entries' assistants (reused from run to run).
    assistants: Vec<u32>,
}

/// A table's name codes → a slice's, filled as met.
#[derive(Default)]
struct Codes(Vec<u32>);

impl Codes {
    /// The slice's code (in `names`) of `code` (a code of a table whose names number
    /// `len`, its name given by `name`), or [`NONE`].
    #[inline]
    fn get<'a>(
        &mut self,
        names: &mut Dict,
        code: u32,
        len: usize,
        name: impl FnOnce(u32) -> Option<&'a str>,
    ) -> u32 {
        if code == NONE {
            return NONE;
        }
        if self.0.len() < len {
            self.0.resize(len, NONE);
        }
        match self.0.get(code as usize) {
            Some(&c) if c != NONE => c,
            _ => {
                let c = name(code).map_or(NONE, |n| names.intern(n));
                if let Some(slot) = self.0.get_mut(code as usize) {
                    *slot = c;
                }
                c
            }
        }
    }
}

impl RunSlice {
    /// Whether no run was put.
    pub fn is_empty(&self) -> bool {
        self.body.is_empty()
    }

    /// Appends row `r` of `table`: its id, model, figures (when it has steps) and the
    /// cost entries `entries` (indexes of `ledger`'s entries, all of run `r`).
    /// `groups[g]` is the code group `g` is written with.
    pub fn put(
        &mut self,
        table: &RunTable,
        runs: &Runs,
        ledger: &Ledger,
        r: u32,
        entries: &[u32],
        groups: &[u32],
    ) {
        let names = &mut self.names;
        let model = match table.model_code(r) {
            None => NONE,
            Some(m) => self
                .models
                .get(names, m, table.models_len(), |m| Some(table.model_name(m))),
        };
        let run = runs.get(r as usize);
        let (assistant, status) = match run {
            Some(run) => {
                let len = runs.names_len();
                (
                    self.run_names
                        .get(names, run.assistant, len, |c| runs.name(c)),
                    self.run_names
                        .get(names, run.last.status, len, |c| runs.name(c)),
                )
            }
            None => (NONE, NONE),
        };
        self.assistants.clear();
        for &i in entries {
            let a = ledger.entry(i as usize).0.assistant;
            let code = self
                .ledger_names
                .get(names, a, ledger.names_len(), |c| ledger.name(c));
            self.assistants.push(code);
        }
        let mut p = Put(&mut self.body);
        p.bytes(table.id_bytes(r));
        p.code(model);
        match run {
            None => p.var(0),
            Some(run) => {
                p.var(1);
                p.bytes(runs.thread_id_bytes(run.thread).unwrap_or_default());
                p.var(u64::from(run.thread != NONE));
                p.code(assistant);
                p.var(run.steps);
                p.signed(run.first);
                put_time(&mut p, run.end(), run.first);
                p.var(run.tool_calls);
                p.var(run.tokens);
                p.signed(run.last.created.wrapping_sub(run.first));
                put_time(&mut p, run.last_terminal(), run.last.created);
                p.code(status);
                p.bytes(runs.last_id_bytes(r as usize));
                p.var(u64::from(run.last.place.file));
                p.var(u64::from(run.last.place.line));
                p.var(run.last.place.chunk);
            }
        }
        p.var(entries.len() as u64);
        for (&i, &a) in entries.iter().zip(&self.assistants) {
            let (e, t) = ledger.entry(i as usize);
            p.code(a);
            p.code(groups.get(e.group as usize).copied().unwrap_or(NONE));
            p.var(u64::from(e.hour));
            for v in [t.steps, t.prompt, t.cached, t.completion, t.reasoning] {
                p.var(v);
            }
        }
    }

    /// The slice's bytes: its names, then its records.
    pub fn finish(self, out: &mut Vec<u8>) {
        let mut p = Put(out);
        p.var(self.names.len() as u64);
        for c in 0..self.names.len() as u32 {
            p.bytes(self.names.get(c).as_bytes());
        }
        out.extend_from_slice(&self.body);
    }
}

/// Runs read back from one slice: a part that merges like a worker's.
pub struct Part {
    pub table: RunTable,
    pub runs: Runs,
    pub ledger: Ledger,
}

impl Part {
    /// An empty part, counting runs and costs or not, of at most `max` runs.
    pub fn new(runs: bool, cost: bool, max: usize) -> Part {
        Part {
            table: RunTable::new(max),
            runs: Runs::new(runs, max),
            ledger: Ledger::new(cost),
        }
    }

    /// Adds the runs of `slice` (as [`RunSlice`] wrote them): a run already held gets
    /// their figures folded in, and their cost entries added to its own.
    /// `groups[c]` is the group written as code `c`, in the tables read back into.
    pub fn read(&mut self, slice: &[u8], groups: &[u32]) -> Result<(), Error> {
        let mut g = Get::new(slice);
        let names = (0..g.var()?)
            .map(|_| g.str())
            .collect::<Result<Vec<&str>, Error>>()?;
        let name = |c: u32| -> Result<Option<&str>, Error> {
            match c {
                NONE => Ok(None),
                c => names
                    .get(c as usize)
                    .copied()
                    .map(Some)
                    .ok_or(Error::Damaged("a name code past the slice's names")),
            }
        };
        // Each of the slice's names as a model, a run's name and a ledger's name here,
        // looked up once.
        const UNSEEN: u32 = NONE - 1;
        let mut models = vec![UNSEEN; names.len()];
        let mut run_names = vec![UNSEEN; names.len()];
        let mut ledger_names = vec![UNSEEN; names.len()];
        let code = |seen: &mut [u32], c: u32, intern: &mut dyn FnMut(&str) -> u32| {
            let Some(n) = name(c)? else {
                return Ok(NONE);
            };
            // `name` found code `c`: it is below the names' count, as `seen` is long.
            let slot = &mut seen[c as usize];
            if *slot == UNSEEN {
                *slot = intern(n);
            }
            Ok::<u32, Error>(*slot)
        };
        while !g.is_empty() {
            let id = g.str()?.as_bytes();
            let r = self.table.row_keyed(IdKey::of(id), id)?;
            let model = code(&mut models, g.code()?, &mut |m| self.table.model_code_of(m))?;
            if model != NONE {
                self.table.set_model_code(r, model);
            }
            if g.var()? == 1 {
                let thread = g.str()?;
                let thread = (g.var()? == 1).then_some(thread);
                let assistant_code = g.code()?;
                let steps = g.var()?;
                let first = g.signed()?;
                let end = get_time(&mut g, first)?;
                let tool_calls = g.var()?;
                let tokens = g.var()?;
                let last_created = first.wrapping_add(g.signed()?);
                let last_terminal = get_time(&mut g, last_created)?;
                let status_code = g.code()?;
                let status = name(status_code)?.ok_or(Error::Damaged("a run without a status"))?;
                let last_id = g.str()?;
                let place = Place {
                    file: g.u32()?,
                    line: g.u32()?,
                    chunk: g.var()?,
                };
                let parts = RunParts {
                    thread,
                    assistant: name(assistant_code)?,
                    steps,
                    first,
                    end,
                    tool_calls,
                    tokens,
                    last_created,
                    last_terminal,
                    status,
                    last_id,
                    place,
                };
                let runs = &mut self.runs;
                let assistant = code(&mut run_names, assistant_code, &mut |a| runs.name_code(a))?;
                let status = code(&mut run_names, status_code, &mut |s| runs.name_code(s))?;
                self.runs.fold_parts(r as usize, parts, assistant, status)?;
            }
            for _ in 0..g.var()? {
                let ledger = &mut self.ledger;
                let assistant = code(&mut ledger_names, g.code()?, &mut |a| ledger.name_code(a))?;
                let entry = Entry {
                    run: r,
                    assistant,
                    group: match g.code()? {
                        NONE => NONE,
                        c => *groups
                            .get(c as usize)
                            .ok_or(Error::Damaged("a group code past the file's groups"))?,
                    },
                    hour: g.u32()?,
                };
                let tokens = Tokens {
                    steps: g.var()?,
                    prompt: g.var()?,
                    cached: g.var()?,
                    completion: g.var()?,
                    reasoning: g.var()?,
                };
                self.ledger
                    .file(entry, &tokens)
                    .map_err(crate::agg::Error::from)?;
            }
        }
        Ok(())
    }
}

/// Writes a thread: its id and steps.
pub fn put_thread(out: &mut Vec<u8>, id: &[u8], steps: u64) {
    let mut p = Put(out);
    p.bytes(id);
    p.var(steps);
}

/// The key a run's thread is counted under in its thread's partition.
pub fn put_key(out: &mut Vec<u8>, key: IdKey) {
    Put(out).u128(key.0);
}
