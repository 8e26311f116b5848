//! The snapshot index of deduplication: the best snapshot of every step seen, then the
//! positions of the winning lines.
//!
//! An event-stream log holds several snapshots of each step (`in_progress`, then
//! `completed`), and overlapping exports hold the same step twice. The [`SnapshotIndex`]
//! maps a compact key of the step id to the best snapshot so far and where its line
//! starts; [`Winners`] are the sorted line positions of the chosen snapshots. Memory is
//! O(distinct steps): 24-byte entries in open-addressing tables kept 64% to 80% full
//! (they grow by a quarter at a time, not double), about 33 bytes per step.
//!
//! Which snapshot wins: a terminal status (completed, failed, cancelled, expired) beats any
//! other; between equals, the later event time (the greatest of `created_at` and the
//! terminal timestamps), then the later line.
//!
//! The key is the low 64 bits of the id's 128-bit xxh3 hash, checked against 25 more bits
//! stored beside the rank: two different ids are confused only if 89 hash bits collide
//! (at a billion steps, a chance of about one in a billion).

use crate::batch::pos::{self, MAX_OFFSET};
use crate::batch::{is_terminal, Batch};
use std::sync::Mutex;

const SHARDS: usize = 64;
const TAG_BITS: u32 = 25;
const TAG_MASK: u64 = (1 << TAG_BITS) - 1;
/// The rank's bit of a terminal snapshot (above its 38 bits of time), and where it is in
/// a slot's word (`rank << 25 | tag`: the top bit).
const TERMINAL_RANK: u64 = 1 << 38;
const TERMINAL_WORD: u64 = TERMINAL_RANK << TAG_BITS;

/// One entry: `[key, rank << 25 | tag, position]`; a key of 0 marks an empty slot.
type Slot = [u64; 3];

/// A linear-probing table of [`Slot`]s. Unlike a general-purpose map it grows by a
/// quarter when 80% full, so it is always 64–80% full: memory per entry stays near 33
/// bytes instead of swinging between 27 and 55 as power-of-two doubling would.
#[derive(Default)]
struct Table {
    slots: Vec<Slot>,
    len: usize,
}

impl Table {
    #[inline]
    fn home(key: u64, cap: usize) -> usize {
        // Multiply-shift onto 0..cap (keys are uniform hashes).
        ((u128::from(key) * cap as u128) >> 64) as usize
    }

    /// Keeps the better of `(word, pos)` and what is stored for `key`/`tag`; says what
    /// was known of the step.
    fn offer(&mut self, key: u64, tag: u64, word: u64, pos: u64) -> Seen {
        if (self.len + 1) * 5 > self.slots.len() * 4 {
            self.grow();
        }
        let cap = self.slots.len();
        let mut i = Table::home(key, cap);
        loop {
            let s = &mut self.slots[i];
            if s[0] == 0 {
                *s = [key, word, pos];
                self.len += 1;
                return Seen::New;
            }
            if s[0] == key && s[1] & TAG_MASK == tag {
                let seen = if s[1] & word & TERMINAL_WORD != 0 {
                    Seen::TerminalAgain
                } else {
                    Seen::Again
                };
                if (word >> TAG_BITS, pos) > (s[1] >> TAG_BITS, s[2]) {
                    s[1] = word;
                    s[2] = pos;
                }
                return seen;
            }
            i = if i + 1 == cap { 0 } else { i + 1 };
        }
    }

    fn grow(&mut self) {
        let cap = (self.slots.len() + self.slots.len() / 4).max(16);
        // Zeroed by writing, not by `vec![0; n]`: calloc's untouched pages map the shared
        // zero page on the first read, and the first write to each then costs a
        // copy-on-write fault with a TLB shootdown to every other worker (8% of a run).
        let mut slots = Vec::with_capacity(cap);
        slots.resize(cap, [0; 3]);
        let old = std::mem::replace(&mut self.slots, slots);
        for s in old.into_iter().filter(|s| s[0] != 0) {
            let mut i = Table::home(s[0], cap);
            while self.slots[i][0] != 0 {
                i = if i + 1 == cap { 0 } else { i + 1 };
            }
            self.slots[i] = s;
        }
    }
}

/// The best snapshot of every step seen, shared by the workers of the first pass.
pub struct SnapshotIndex {
    shards: Vec<Mutex<Table>>,
}

impl Default for SnapshotIndex {
    fn default() -> Self {
        SnapshotIndex {
            shards: (0..SHARDS).map(|_| Mutex::new(Table::default())).collect(),
        }
    }
}

/// The table key (never 0, which marks an empty slot; the tag still tells a real 0 from
/// a real 1) and the tag checked beside it.
#[inline]
fn key_tag(id_hash: u128) -> (u64, u64) {
    ((id_hash as u64).max(1), (id_hash >> 64) as u64 & TAG_MASK)
}

/// What the index knew of a step when one of its snapshots was offered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Seen {
    /// Nothing: its first snapshot.
    New,
    /// An earlier snapshot, not both terminal.
    Again,
    /// A terminal snapshot, and this one is terminal too.
    TerminalAgain,
}

/// A snapshot's rank: terminal first, then event time. Fits 39 bits (times are at most
/// year 9999, under 2^38 seconds).
#[inline]
fn rank(batch: &Batch, i: usize) -> u64 {
    let time = batch.latest_at(i).max(0) as u64 & (TERMINAL_RANK - 1);
    let terminal = if is_terminal(batch.status[i]) {
        TERMINAL_RANK
    } else {
        0
    };
    terminal | time
}

impl SnapshotIndex {
    /// An empty index.
    pub fn new() -> SnapshotIndex {
        SnapshotIndex::default()
    }

    /// Offers every row of `batch` (whose [`Batch::pos`] the engine has set); says the
    /// most that was known of one of its steps (in this batch or an earlier one).
    pub fn offer_batch(&self, batch: &Batch) -> Seen {
        let mut seen = Seen::New;
        for i in 0..batch.len() {
            seen = seen.max(self.offer(batch.id_hash[i], rank(batch, i), batch.pos[i]));
        }
        seen
    }

    /// Offers one snapshot: id hash, rank, line position. Says what was known of the
    /// step.
    pub fn offer(&self, id_hash: u128, rank: u64, pos: u64) -> Seen {
        let (key, tag) = key_tag(id_hash);
        let word = (rank << TAG_BITS) | tag;
        // Low bits pick the shard; the table places keys by their high bits.
        let shard = key as usize % SHARDS;
        let mut table = self.shards[shard].lock().unwrap_or_else(|e| e.into_inner());
        table.offer(key, tag, word, pos)
    }

    /// Distinct steps seen.
    pub fn len(&self) -> usize {
        self.shards
            .iter()
            .map(|s| s.lock().unwrap_or_else(|e| e.into_inner()).len)
            .sum()
    }

    /// Whether no step was seen.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Heap bytes the tables hold.
    pub fn heap_bytes(&self) -> usize {
        self.shards
            .iter()
            .map(|s| s.lock().unwrap_or_else(|e| e.into_inner()).slots.capacity())
            .sum::<usize>()
            * std::mem::size_of::<Slot>()
    }

    /// The winning lines, shard by shard, freeing each table as it goes (so the peak is
    /// the tables, not the tables plus the 8 bytes per step of the result).
    ///
    /// With `unfinished_only`, only the steps whose best snapshot is not terminal.
    pub fn into_winners(self, files: usize, unfinished_only: bool) -> Winners {
        let tables: Vec<Table> = self
            .shards
            .into_iter()
            .map(|s| s.into_inner().unwrap_or_else(|e| e.into_inner()))
            .collect();
        let file_of = |s: &Slot| pos::file(s[2]);
        let wanted = |s: &&Slot| s[0] != 0 && !(unfinished_only && s[1] & TERMINAL_WORD != 0);
        let mut counts = vec![0usize; files];
        for s in tables.iter().flat_map(|t| &t.slots).filter(wanted) {
            if let Some(c) = counts.get_mut(file_of(s)) {
                *c += 1;
            }
        }
        let mut by_file: Vec<Vec<u64>> = counts.into_iter().map(Vec::with_capacity).collect();
        for table in tables {
            for s in table.slots.iter().filter(wanted) {
                if let Some(v) = by_file.get_mut(file_of(s)) {
                    v.push(s[2] & MAX_OFFSET);
                }
            }
        }
        for v in &mut by_file {
            v.sort_unstable();
        }
        Winners { by_file }
    }
}

/// The byte offsets of the winning lines, per input, sorted.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Winners {
    by_file: Vec<Vec<u64>>,
}

impl Winners {
    /// Winning line offsets of input `file` within `start..end`.
    pub fn within(&self, file: u32, start: u64, end: u64) -> &[u64] {
        let Some(v) = self.by_file.get(file as usize) else {
            return &[];
        };
        let a = v.partition_point(|&o| o < start);
        let b = v.partition_point(|&o| o < end);
        &v[a..b]
    }

    /// Winning lines in all inputs (= distinct steps).
    pub fn len(&self) -> usize {
        self.by_file.iter().map(Vec::len).sum()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::agg::testutil::batch;

    fn offer_lines(index: &SnapshotIndex, lines: &[&str], file: u32) {
        let mut b = batch(lines);
        for i in 0..b.len() {
            b.pos[i] = pos::pack(file, i as u64 * 100);
        }
        index.offer_batch(&b);
    }

    #[test]
    fn the_most_advanced_snapshot_wins_whatever_the_order() {
        let lines = [
            r#"{"id":"a","created_at":10,"status":"in_progress"}"#,
            r#"{"id":"a","created_at":10,"status":"completed","completed_at":20}"#,
            r#"{"id":"a","created_at":10,"status":"in_progress"}"#,
            r#"{"id":"b","created_at":10,"status":"failed","failed_at":30}"#,
            r#"{"id":"b","created_at":10,"status":"failed","failed_at":30}"#,
            r#"{"id":"c","created_at":10,"status":"cancelled","cancelled_at":12}"#,
            r#"{"id":"c","created_at":10,"status":"completed","completed_at":11}"#,
        ];
        let index = SnapshotIndex::new();
        offer_lines(&index, &lines, 0);
        assert_eq!(index.len(), 3);
        let w = index.into_winners(1, false);
        // a: the completed line (1); b: the later of two equal lines (4); c: the later
        // terminal time (5).
        assert_eq!(w.within(0, 0, u64::MAX), &[100, 400, 500]);
        assert_eq!(w.within(0, 150, 450), &[400]);
        assert_eq!(w.within(1, 0, u64::MAX), &[] as &[u64]);

        // Offered in reverse: the same snapshots win, at their new lines.
        let index = SnapshotIndex::new();
        let mut rev: Vec<&str> = lines.to_vec();
        rev.reverse();
        offer_lines(&index, &rev, 0);
        let w = index.into_winners(1, false);
        // Reversed, a's completed line is 5 (500), b's later equal line is 3 (300), and
        // c's cancelled line (the later terminal time) is 1 (100).
        assert_eq!(w.within(0, 0, u64::MAX), &[100, 300, 500]);
    }

    #[test]
    fn offers_say_what_was_known_and_winners_can_be_the_unfinished_only() {
        let index = SnapshotIndex::new();
        let terminal = TERMINAL_RANK;
        let h = |id: &str| xxhash_rust::xxh3::xxh3_128(id.as_bytes());
        assert_eq!(index.offer(h("a"), 5, pos::pack(0, 0)), Seen::New);
        assert_eq!(
            index.offer(h("a"), terminal | 6, pos::pack(0, 10)),
            Seen::Again
        );
        assert_eq!(index.offer(h("a"), 7, pos::pack(0, 20)), Seen::Again);
        assert_eq!(
            index.offer(h("a"), terminal | 5, pos::pack(0, 30)),
            Seen::TerminalAgain
        );
        assert_eq!(index.offer(h("b"), 9, pos::pack(0, 40)), Seen::New);
        assert_eq!(index.offer(h("b"), 8, pos::pack(0, 50)), Seen::Again);
        assert_eq!(index.offer(h("c"), terminal, pos::pack(0, 60)), Seen::New);
        let w = index.into_winners(1, true);
        // Only b never finished; its later event time (9, at 40) won.
        assert_eq!(w.within(0, 0, u64::MAX), &[40]);
    }

    #[test]
    fn entries_stay_compact() {
        let index = SnapshotIndex::new();
        let n = 200_000u64;
        for i in 0..n {
            let id = format!("step_{i:024}");
            let h = xxhash_rust::xxh3::xxh3_128(id.as_bytes());
            index.offer(h, 1, pos::pack(0, i));
            index.offer(h, 2, pos::pack(0, i + n));
        }
        assert_eq!(index.len(), n as usize);
        let per_step = index.heap_bytes() as f64 / n as f64;
        assert!(per_step <= 38.0, "{per_step:.1} bytes per distinct step");
        let w = index.into_winners(1, false);
        assert_eq!(w.len(), n as usize);
        assert_eq!(w.within(0, 0, n), &[] as &[u64], "rank 2 won everywhere");
    }
}
