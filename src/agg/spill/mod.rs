//! Runs, threads and cost entries spilled to a temporary file once the tables pass their
//! share of the memory budget, and the figures over them computed from it one partition
//! at a time (a grace hash join's second half, as DuckDB and ClickHouse spill GROUP BY).
//!
//! A summary holds every run it meets until the end: a run's steps may come anywhere in
//! the input, and its model only with its run object. When the merged tables pass their
//! share of `--memory-limit`, [`Spill::write`] writes them out by hash partition of the ids
//! (runs, with their figures and cost entries, by run id; threads by thread id) and the
//! tables start again empty. At the end, [`Spill::finish`] reads each partition's pieces
//! back and merges them with the code that merges workers' tables, so every figure is the
//! one an unlimited run gives; then it keeps only what the report needs: the figures over
//! runs and threads (exact percentiles, selected from values written to the same file),
//! the slowest and costliest runs, and the cost entries filed under their run's model
//! rather than their run.
//!
//! The file is anonymous, in `TMPDIR` (see [`tempfile::tempfile`]): it is gone when the
//! process ends, however it ends.

mod codec;
mod finish;
mod select;

pub use finish::{Finished, PriceRuns, RunRow};

use super::groups::table::Table as GroupTable;
use super::ids::IdKey;
use super::{Ledger, RunTable, Runs};
use std::collections::HashMap;
use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::os::unix::fs::FileExt;

/// Partitions: a partition's runs are about 1/256 of all, read back and merged at once.
pub const PARTITIONS: usize = 256;

/// The partition of an id.
fn partition(id: &[u8]) -> usize {
    (IdKey::of(id).0 >> 120) as usize
}

/// Why a spill failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The temporary file could not be made, written or read (a full disk).
    #[error("cannot spill runs to a temporary file in {dir} (TMPDIR names another place)")]
    Io {
        /// The directory of temporary files.
        dir: String,
        /// The cause.
        #[source]
        source: io::Error,
    },
    /// The tables read back did not merge.
    #[error(transparent)]
    Agg(#[from] super::Error),
    /// What was read back is not what was written.
    #[error("runs read back from the spill file are damaged: {0}")]
    Damaged(&'static str),
}

fn io_error(source: io::Error) -> Error {
    Error::Io {
        dir: std::env::temp_dir().display().to_string(),
        source,
    }
}

/// A byte range of one of the files: 0 is the one this spill writes, `k` the `k`-th it
/// took over from another ([`Spill::absorb`]).
#[derive(Debug, Clone, Copy)]
struct Slice {
    file: u32,
    at: u64,
    len: u64,
}

/// Runs, threads and cost entries written out, by partition.
#[derive(Debug)]
pub struct Spill {
    out: BufWriter<File>,
    /// Bytes written to `out`.
    at: u64,
    /// Files taken over from other spills (workers spill on their own, side by side),
    /// written and flushed; and the bytes they hold.
    others: Vec<File>,
    absorbed: u64,
    /// Per file (as [`Slice::file`] numbers them): the keys of the groups its cost entries
    /// name, by the code they are written with. The tables that spill number their groups
    /// each their own way (a worker's restart at every hand-over), so a spill names them
    /// by key, and the tables it is read back into find them by key.
    groups: Vec<GroupKeys>,
    /// Per partition: the slices of runs (by run id) and of threads (by thread id).
    runs: Vec<Vec<Slice>>,
    threads: Vec<Vec<Slice>>,
    /// How many times tables were written out.
    pub times: usize,
}

impl Spill {
    /// A new, empty spill file in `TMPDIR`.
    pub fn new() -> Result<Spill, Error> {
        let file = tempfile::tempfile().map_err(io_error)?;
        Ok(Spill {
            out: BufWriter::with_capacity(1 << 20, file),
            at: 0,
            others: Vec::new(),
            absorbed: 0,
            groups: vec![GroupKeys::default()],
            runs: vec![Vec::new(); PARTITIONS],
            threads: vec![Vec::new(); PARTITIONS],
            times: 0,
        })
    }

    /// Appends `bytes`; where they are.
    fn put(&mut self, bytes: &[u8]) -> Result<Slice, Error> {
        self.out.write_all(bytes).map_err(io_error)?;
        let slice = Slice {
            file: 0,
            at: self.at,
            len: bytes.len() as u64,
        };
        self.at += slice.len;
        Ok(slice)
    }

    /// Writes out what is buffered, so that [`Spill::get`] reads it.
    fn flush(&mut self) -> Result<(), Error> {
        self.out.flush().map_err(io_error)
    }

    /// Reads `slice` (written and flushed) into `buf`.
    fn get(&self, slice: Slice, buf: &mut Vec<u8>) -> Result<(), Error> {
        let len = usize::try_from(slice.len).map_err(|_| Error::Damaged("a slice too long"))?;
        buf.clear();
        buf.resize(len, 0);
        let file = match slice.file {
            0 => self.out.get_ref(),
            k => self
                .others
                .get(k as usize - 1)
                .ok_or(Error::Damaged("a slice of no file"))?,
        };
        file.read_exact_at(buf, slice.at).map_err(io_error)
    }

    /// Bytes written out, in all files.
    pub fn bytes(&self) -> u64 {
        self.at + self.absorbed
    }

    /// Takes over `other`'s files and slices: what either wrote is read back as one.
    pub fn absorb(&mut self, mut other: Spill) -> Result<(), Error> {
        other.flush()?;
        let base = self.others.len() as u32 + 1;
        let moved = |s: &Slice| Slice {
            file: base + s.file,
            ..*s
        };
        for (mine, theirs) in self.runs.iter_mut().zip(&other.runs) {
            mine.extend(theirs.iter().map(moved));
        }
        for (mine, theirs) in self.threads.iter_mut().zip(&other.threads) {
            mine.extend(theirs.iter().map(moved));
        }
        self.absorbed += other.bytes();
        self.times += other.times;
        let out = other
            .out
            .into_inner()
            .map_err(|e| io_error(e.into_error()))?;
        self.others.push(out);
        self.others.append(&mut other.others);
        self.groups.append(&mut other.groups);
        Ok(())
    }

    /// Per file, each group code's index in `groups`, which gains the groups it lacks
    /// (`None` past `max` groups).
    fn groups_in(&self, groups: &mut GroupTable, max: usize) -> Option<Vec<Vec<u32>>> {
        self.groups
            .iter()
            .map(|keys| {
                keys.keys
                    .iter()
                    .map(|k| groups.group(k, max).map(|g| g as u32))
                    .collect()
            })
            .collect()
    }

    /// Writes out every row of `table` (with its figures in `runs` and its entries in
    /// `ledger`) and every thread of `runs`, each in its partition. The caller then empties
    /// them.
    pub fn write(
        &mut self,
        table: &RunTable,
        runs: &Runs,
        ledger: &Ledger,
        groups: &GroupTable,
    ) -> Result<(), Error> {
        self.times += 1;
        // The groups the entries of runs name, by this file's codes (looked up once each,
        // and only those named: a table of a million groups is not walked every spill).
        let mine = &mut self.groups[0];
        let mut group_codes = vec![super::runs::NONE; groups.len()];
        // Each run's cost entries, by counting sort on their rows.
        let rows = table.len();
        let mut starts = vec![0u32; rows + 1];
        for i in 0..ledger.len() {
            let e = ledger.entry(i).0;
            if (e.run as usize) < rows {
                starts[e.run as usize + 1] += 1;
                if let Some(code) = group_codes.get_mut(e.group as usize) {
                    if *code == super::runs::NONE {
                        *code = mine.code(groups.key(e.group as usize));
                    }
                }
            }
        }
        for r in 0..rows {
            starts[r + 1] += starts[r];
        }
        let mut entries = vec![0u32; starts[rows] as usize];
        let mut next = starts.clone();
        for i in 0..ledger.len() {
            let run = ledger.entry(i).0.run as usize;
            if run < rows {
                entries[next[run] as usize] = i as u32;
                next[run] += 1;
            }
        }
        drop(next);
        // Rows in order (the tables are read front to back), each to its partition's
        // slice; then the slices.
        let mut slices: Vec<codec::RunSlice> = (0..PARTITIONS)
            .map(|_| codec::RunSlice::default())
            .collect();
        for r in 0..rows as u32 {
            let mine = &entries[starts[r as usize] as usize..starts[r as usize + 1] as usize];
            slices[partition(table.id_bytes(r))].put(table, runs, ledger, r, mine, &group_codes);
        }
        let mut buf = Vec::new();
        for (p, slice) in slices.into_iter().enumerate() {
            if slice.is_empty() {
                continue;
            }
            buf.clear();
            slice.finish(&mut buf);
            let slice = self.put(&buf)?;
            self.runs[p].push(slice);
        }
        let mut by_partition: Vec<Vec<u8>> = vec![Vec::new(); PARTITIONS];
        for (id, steps) in runs.threads() {
            codec::put_thread(
                &mut by_partition[partition(id.as_bytes())],
                id.as_bytes(),
                steps,
            );
        }
        for (p, bytes) in by_partition.iter().enumerate() {
            if !bytes.is_empty() {
                let slice = self.put(bytes)?;
                self.threads[p].push(slice);
            }
        }
        Ok(())
    }
}

/// The keys of the groups a file names, by code.
#[derive(Debug, Default)]
struct GroupKeys {
    keys: Vec<Vec<u8>>,
    codes: HashMap<Vec<u8>, u32>,
}

impl GroupKeys {
    fn code(&mut self, key: &[u8]) -> u32 {
        if let Some(&c) = self.codes.get(key) {
            return c;
        }
        let c = self.keys.len() as u32;
        self.keys.push(key.to_vec());
        self.codes.insert(key.to_vec(), c);
        c
    }
}

#[cfg(test)]
mod tests;
