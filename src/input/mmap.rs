//! Memory-mapped files, cut into chunks that end at a newline, and guarded against files
//! that shrink while mapped.
//!
//! Reading a mapped page that lies past the file's current end raises `SIGBUS`, which by
//! default kills the process. That happens for real when logrotate's `copytruncate` empties
//! a log steplog is reading. So every mapping is registered here, and a process-wide
//! `SIGBUS` handler, installed once, replaces a faulting page of a registered mapping with
//! a page of zeros and marks the mapping [`Mapping::faulted`]; the interrupted copy then
//! completes, and the engine, which checks the mark after each copy, reports the file as
//! truncated instead of crashing. Faults anywhere else get the previous disposition back
//! and fault again, so other bugs still crash as they should.
//!
//! This is the only module with `unsafe` code.

use super::{BufferPool, ChunkData, Source};
use std::fs::File;
use std::io;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;

/// A read-only file mapping, registered with the `SIGBUS` guard while it lives.
pub struct Mapping {
    map: memmap2::Mmap,
    slot: usize,
}

impl Mapping {
    /// Maps `file`, or fails if it cannot be mapped or the guard has no free slot (the
    /// caller then reads the file instead).
    pub fn new(file: &File) -> io::Result<Mapping> {
        guard::install()?;
        // SAFETY: the mapping is read-only and private to this process, and no `&mut` to
        // it is ever made. What memmap2 cannot rule out is another process truncating the
        // file while it is mapped: a read of a page past the new end raises SIGBUS. The
        // mapping is registered with the guard below before any byte of it is read, and
        // the guard turns such a read into zeros plus the `faulted` mark.
        let map = unsafe { memmap2::Mmap::map(file)? };
        let slot = guard::register(map.as_ptr() as usize, map.len())
            .ok_or_else(|| io::Error::other("too many files mapped at once"))?;
        #[cfg(unix)]
        let _ = map.advise(memmap2::Advice::Sequential);
        Ok(Mapping { map, slot })
    }

    /// Asks the kernel to start reading `range` into the page cache now, so that a file
    /// not in the cache is read ahead of the workers instead of one page fault at a time
    /// as they copy it. Advice only: errors are ignored, and cached pages cost a lookup.
    pub fn will_need(&self, range: std::ops::Range<usize>) {
        let end = range.end.min(self.map.len());
        if range.start < end {
            #[cfg(unix)]
            let _ =
                self.map
                    .advise_range(memmap2::Advice::WillNeed, range.start, end - range.start);
        }
    }

    /// The mapped bytes. A range read after the file shrank reads as zeros.
    pub fn bytes(&self) -> &[u8] {
        &self.map
    }

    /// Whether a read of this mapping went past the file's end (the file was truncated
    /// while mapped). Bytes copied since may hold zeros instead of the file's content.
    pub fn faulted(&self) -> bool {
        guard::faulted(self.slot)
    }
}

impl Mapping {
    /// Gives up one hold on a mapping. The last hold on a large one unmaps it on a
    /// short-lived thread of its own: unmapping 2 GB of cached pages takes about 80 ms,
    /// which would otherwise hold up the end of the pass (the merge and the report wait
    /// for the worker that read the last chunk).
    pub fn release(map: std::sync::Arc<Mapping>) {
        // `into_inner` gives the mapping to exactly one of the holders letting go at once.
        if let Some(mapping) = std::sync::Arc::into_inner(map) {
            let bytes = mapping.len();
            crate::agg::drop_aside(mapping, bytes);
        }
    }
}

impl Drop for Mapping {
    fn drop(&mut self) {
        // Runs before `map` is unmapped.
        guard::unregister(self.slot);
    }
}

impl std::ops::Deref for Mapping {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        &self.map
    }
}

/// A mapped regular file.
pub struct MmapSource {
    map: Arc<Mapping>,
    pos: usize,
    chunk_size: usize,
    max_line: usize,
    /// How far the kernel was asked to read ahead ([`Mapping::will_need`]).
    advised: usize,
}

impl MmapSource {
    /// Maps `file` read-only. Lines longer than `max_line` bytes are yielded as
    /// [`ChunkData::Oversized`], never copied.
    pub fn new(file: &File, chunk_size: usize, max_line: u64) -> io::Result<MmapSource> {
        Ok(MmapSource {
            map: Arc::new(Mapping::new(file)?),
            pos: 0,
            chunk_size,
            max_line: usize::try_from(max_line).unwrap_or(usize::MAX),
            advised: 0,
        })
    }
}

impl Source for MmapSource {
    fn next_chunk(&mut self, _pool: &BufferPool) -> io::Result<Option<(u64, ChunkData)>> {
        let data: &[u8] = &self.map;
        let len = data.len();
        let start = self.pos;
        if start >= len {
            return Ok(None);
        }
        // The line that starts here, or the one that crosses the target, may be too long.
        let target = start.saturating_add(self.chunk_size).min(len);
        let crossing = if target >= len {
            len
        } else {
            memchr::memrchr(b'\n', &data[start..target]).map_or(start, |p| start + p + 1)
        };
        let line_end = |from: usize| memchr::memchr(b'\n', &data[from..]).map_or(len, |p| from + p);
        let end_of_crossing = if crossing < len {
            line_end(target.max(crossing))
        } else {
            len
        };
        if crossing < len {
            let (from, to) = content(data, crossing, end_of_crossing);
            if to - from > self.max_line {
                if crossing > start {
                    // Whole lines first; the long one is the next call's.
                    self.pos = crossing;
                    let chunk = ChunkData::Mapped(Arc::clone(&self.map), start..crossing);
                    return Ok(Some((start as u64, chunk)));
                }
                self.pos = (end_of_crossing + 1).min(len);
                return Ok(Some((
                    from as u64,
                    ChunkData::Oversized((to - from) as u64),
                )));
            }
        }
        let end = if target >= len {
            len
        } else {
            (end_of_crossing + 1).min(len)
        };
        self.pos = end;
        // Keep the kernel reading two chunks (at least 2 MiB) past the one handed out;
        // each byte is advised once.
        let window = self.chunk_size.max(1 << 20);
        if end.saturating_add(window) > self.advised {
            let to = end.saturating_add(2 * window);
            self.map.will_need(self.advised.max(start)..to);
            self.advised = to;
        }
        Ok(Some((
            start as u64,
            ChunkData::Mapped(Arc::clone(&self.map), start..end),
        )))
    }

    fn bytes_read(&self) -> u64 {
        self.pos as u64
    }

    fn truncated(&self) -> bool {
        self.map.faulted()
    }
}

/// The content of the line `start..end` (`end` at its `\n` or the end of data) as the
/// line index sees it: without a byte-order mark at the start of the file, and without a
/// `\r` before the newline. A line too long is measured the same way wherever it is found.
fn content(data: &[u8], start: usize, end: usize) -> (usize, usize) {
    let from = if start == 0 && data[..end].starts_with(b"\xEF\xBB\xBF") {
        3
    } else {
        start
    };
    let to = if end > from && data[end - 1] == b'\r' {
        end - 1
    } else {
        end
    };
    (from, to)
}

/// The process-wide `SIGBUS` guard: a fixed table of registered mappings and the handler.
#[cfg(unix)]
mod guard {
    use super::*;
    use std::sync::OnceLock;

    const SLOTS: usize = 256;

    struct Slot {
        start: AtomicUsize,
        end: AtomicUsize,
        faulted: AtomicBool,
    }

    #[allow(clippy::declare_interior_mutable_const)]
    const FREE: Slot = Slot {
        start: AtomicUsize::new(0),
        end: AtomicUsize::new(0),
        faulted: AtomicBool::new(false),
    };

    static SLOTS_TABLE: [Slot; SLOTS] = [FREE; SLOTS];
    static PAGE: AtomicUsize = AtomicUsize::new(4096);
    static PREVIOUS: OnceLock<Result<libc::sigaction, i32>> = OnceLock::new();

    /// Installs the handler once; later calls report how that went.
    pub fn install() -> io::Result<()> {
        let r = PREVIOUS.get_or_init(|| {
            // SAFETY: sysconf and sigaction are called with valid arguments; the handler
            // only touches atomics and calls mmap and sigaction, which are safe in a
            // signal handler on Linux.
            unsafe {
                let page = libc::sysconf(libc::_SC_PAGESIZE);
                if page > 0 {
                    PAGE.store(page as usize, Ordering::Relaxed);
                }
                let mut new: libc::sigaction = std::mem::zeroed();
                new.sa_sigaction = on_sigbus as *const () as libc::sighandler_t;
                new.sa_flags = libc::SA_SIGINFO | libc::SA_NODEFER;
                libc::sigemptyset(&mut new.sa_mask);
                let mut old: libc::sigaction = std::mem::zeroed();
                if libc::sigaction(libc::SIGBUS, &new, &mut old) == 0 {
                    Ok(old)
                } else {
                    Err(io::Error::last_os_error().raw_os_error().unwrap_or(0))
                }
            }
        });
        match r {
            Ok(_) => Ok(()),
            Err(code) => Err(io::Error::from_raw_os_error(*code)),
        }
    }

    pub fn register(start: usize, len: usize) -> Option<usize> {
        let (start, end) = if len == 0 {
            (1, 1)
        } else {
            (start, start + len)
        };
        for (i, slot) in SLOTS_TABLE.iter().enumerate() {
            if slot
                .start
                .compare_exchange(0, start, Ordering::AcqRel, Ordering::Relaxed)
                .is_ok()
            {
                slot.faulted.store(false, Ordering::Relaxed);
                slot.end.store(end, Ordering::Release);
                return Some(i);
            }
        }
        None
    }

    pub fn unregister(slot: usize) {
        let s = &SLOTS_TABLE[slot];
        s.end.store(0, Ordering::Release);
        s.start.store(0, Ordering::Release);
    }

    pub fn faulted(slot: usize) -> bool {
        SLOTS_TABLE[slot].faulted.load(Ordering::Acquire)
    }

    extern "C" fn on_sigbus(
        _sig: libc::c_int,
        info: *mut libc::siginfo_t,
        _ctx: *mut libc::c_void,
    ) {
        // SAFETY: the kernel passes a valid siginfo for SA_SIGINFO handlers.
        let addr = unsafe { (*info).si_addr() } as usize;
        let page = PAGE.load(Ordering::Relaxed);
        for slot in &SLOTS_TABLE {
            let start = slot.start.load(Ordering::Acquire);
            let end = slot.end.load(Ordering::Acquire);
            if start <= addr && addr < end {
                let at = addr & !(page - 1);
                // SAFETY: `at..at + page` lies inside a live read-only mapping of ours
                // (registered until just before it is unmapped); replacing that page
                // with zeros changes no memory Rust code holds a `&mut` to.
                let p = unsafe {
                    libc::mmap(
                        at as *mut libc::c_void,
                        page,
                        libc::PROT_READ,
                        libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_FIXED,
                        -1,
                        0,
                    )
                };
                if p != libc::MAP_FAILED {
                    slot.faulted.store(true, Ordering::Release);
                    return;
                }
            }
        }
        // Not ours: put the previous disposition back; the access faults again under it.
        if let Some(Ok(old)) = PREVIOUS.get() {
            // SAFETY: restoring a disposition the kernel gave us.
            unsafe { libc::sigaction(libc::SIGBUS, old, std::ptr::null_mut()) };
        }
    }
}

/// Without POSIX signals there is no guard: mappings are plain.
#[cfg(not(unix))]
mod guard {
    use std::io;
    pub fn install() -> io::Result<()> {
        Ok(())
    }
    pub fn register(_start: usize, _len: usize) -> Option<usize> {
        Some(0)
    }
    pub fn unregister(_slot: usize) {}
    pub fn faulted(_slot: usize) -> bool {
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn chunks(data: &[u8], chunk: usize, max_line: u64) -> Vec<(u64, String)> {
        let mut f = tempfile::NamedTempFile::new().unwrap();
        f.write_all(data).unwrap();
        let mut src = MmapSource::new(f.as_file(), chunk, max_line).unwrap();
        let pool = BufferPool::default();
        let mut got = Vec::new();
        while let Some((off, c)) = src.next_chunk(&pool).unwrap() {
            got.push(match c {
                ChunkData::Mapped(m, r) => {
                    assert_eq!(off as usize, r.start);
                    (off, String::from_utf8(m[r].to_vec()).unwrap())
                }
                ChunkData::Oversized(n) => (off, format!("<{n}>")),
                ChunkData::Owned(_) => unreachable!(),
            });
        }
        assert_eq!(src.bytes_read(), data.len() as u64);
        assert!(!src.truncated());
        got
    }

    #[test]
    fn chunks_end_at_newlines_and_cover_the_file() {
        let got = chunks(b"aaaa\nbb\n\ncccccc\nd", 3, u64::MAX);
        let got: Vec<_> = got.into_iter().map(|c| c.1).collect();
        assert_eq!(got, vec!["aaaa\n", "bb\n\n", "cccccc\n", "d"]);
    }

    /// Expected chunks, as [`chunks`] returns them.
    fn want(chunks: &[(u64, &str)]) -> Vec<(u64, String)> {
        chunks.iter().map(|(o, s)| (*o, s.to_string())).collect()
    }

    #[test]
    fn long_lines_are_skipped_not_copied() {
        let got = chunks(b"ab\ncd\n0123456789\nef\n0123456789", 4, 5);
        let expected = want(&[(0, "ab\ncd\n"), (6, "<10>"), (17, "ef\n"), (20, "<10>")]);
        assert_eq!(got, expected);
        // Measured as the worker measures lines: without a BOM or a `\r`.
        let got = chunks(b"\xEF\xBB\xBF012345\r\nab\n0123456\r\n", 2, 5);
        assert_eq!(
            got,
            vec![(3, "<6>".into()), (11, "ab\n".into()), (14, "<7>".into())]
        );
        let got = chunks(b"\xEF\xBB\xBF01234\r\n", 2, 5);
        assert_eq!(got, vec![(0, "\u{feff}01234\r\n".into())]);
        // A long line in the middle of a chunk is left to the worker, who counts it.
        let got = chunks(b"ab\n0123456789\nef\n", 100, 5);
        assert_eq!(got, vec![(0, "ab\n0123456789\nef\n".into())]);
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn a_file_truncated_while_mapped_reads_as_zeros_and_is_flagged() {
        let mut f = tempfile::NamedTempFile::new().unwrap();
        let data = vec![b'x'; 64 * 1024];
        f.write_all(&data).unwrap();
        let map = Mapping::new(f.as_file()).unwrap();
        assert_eq!(map.bytes()[100], b'x');
        assert!(!map.faulted());
        f.as_file().set_len(0).unwrap();
        // Without the guard, this copy would kill the test process with SIGBUS.
        let copy = map.bytes()[8192..16384].to_vec();
        assert!(copy.iter().all(|b| *b == 0));
        assert!(map.faulted());
        drop(map);
        // The slot is free again and starts clean.
        let f2 = tempfile::NamedTempFile::new().unwrap();
        f2.as_file().write_all(b"ok\n").unwrap();
        let m2 = Mapping::new(f2.as_file()).unwrap();
        assert_eq!(&m2[..], b"ok\n");
        assert!(!m2.faulted());
    }

    #[test]
    fn a_mapping_is_unmapped_by_its_last_release_only() {
        // 65 MiB: past the size a release unmaps on a thread of its own.
        let mut f = tempfile::NamedTempFile::new().unwrap();
        let data = vec![b'y'; 65 << 20];
        f.write_all(&data).unwrap();
        let map = std::sync::Arc::new(Mapping::new(f.as_file()).unwrap());
        let other = map.clone();
        Mapping::release(map);
        // The other hold still reads the file, and a truncation is still caught.
        assert_eq!(other[(64 << 20) + 5], b'y');
        f.as_file().set_len(0).unwrap();
        assert_eq!(other[(64 << 20) + 5], 0);
        assert!(other.faulted());
        Mapping::release(other);
    }
}
