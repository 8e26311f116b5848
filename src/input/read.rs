//! Streams (stdin, pipes, files under `--no-mmap`) read into owned chunks.

use super::{BufferPool, ChunkData, Source};
use std::io::{self, Read};

/// A reader cut into chunks at the last newline of each block read.
pub struct ReadSource<R> {
    reader: R,
    chunk_size: usize,
    max_line: usize,
    /// Bytes after the last newline of the previous chunk.
    carry: Vec<u8>,
    eof: bool,
    offset: u64,
}

impl<R: Read + Send> ReadSource<R> {
    /// Chunks of about `chunk_size` bytes from `reader`. A line longer than `max_line`
    /// bytes is read past without being kept and yielded as [`ChunkData::Oversized`], so
    /// memory stays within about `chunk_size + max_line` per chunk.
    pub fn new(reader: R, chunk_size: usize, max_line: u64) -> ReadSource<R> {
        ReadSource {
            reader,
            chunk_size,
            max_line: usize::try_from(max_line).unwrap_or(usize::MAX),
            carry: Vec::new(),
            eof: false,
            offset: 0,
        }
    }

    /// Reads until `buf` holds `target` bytes or the reader is exhausted. The buffer is
    /// zero-extended once per call, not once per `read`, so a pipe that returns 64 KiB at
    /// a time does not cost a memset of the whole chunk for every read.
    fn fill(&mut self, buf: &mut Vec<u8>, target: usize) -> io::Result<()> {
        let mut filled = buf.len();
        buf.resize(target, 0);
        while filled < target {
            match self.reader.read(&mut buf[filled..]) {
                Ok(0) => {
                    self.eof = true;
                    break;
                }
                Ok(n) => filled += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => {
                    buf.truncate(filled);
                    return Err(e);
                }
            }
        }
        buf.truncate(filled);
        Ok(())
    }
}

impl<R: Read + Send> Source for ReadSource<R> {
    fn next_chunk(&mut self, pool: &BufferPool) -> io::Result<Option<(u64, ChunkData)>> {
        let mut buf = pool.take();
        buf.append(&mut self.carry);
        // Bytes at the start of `buf` already known to hold no newline.
        let mut scanned = 0;
        loop {
            if !self.eof && buf.len() < scanned + self.chunk_size {
                self.fill(&mut buf, scanned + self.chunk_size)?;
            }
            if self.eof {
                break;
            }
            match memchr::memrchr(b'\n', &buf[scanned..]) {
                Some(p) => {
                    let cut = scanned + p + 1;
                    self.carry.extend_from_slice(&buf[cut..]);
                    buf.truncate(cut);
                    break;
                }
                // A line longer than a chunk: keep reading until it ends… (a BOM and a
                // `\r` do not count towards the limit, hence the slack)
                None if buf.len() <= self.max_line.saturating_add(4) => scanned = buf.len(),
                // …unless it is longer than the limit: then skip it.
                None => return self.skip_long_line(buf, pool).map(Some),
            }
        }
        if buf.is_empty() {
            pool.give(buf);
            return Ok(None);
        }
        let offset = self.offset;
        self.offset += buf.len() as u64;
        Ok(Some((offset, ChunkData::Owned(buf))))
    }

    fn bytes_read(&self) -> u64 {
        self.offset
    }
}

impl<R: Read + Send> ReadSource<R> {
    /// `buf` holds the start of a line already longer than the limit, and no newline:
    /// reads on to the line's end, keeping nothing but its length. The length is measured
    /// as the line index measures lines: without a byte-order mark at the start of the
    /// input, and without a `\r` before the newline.
    fn skip_long_line(
        &mut self,
        mut buf: Vec<u8>,
        pool: &BufferPool,
    ) -> io::Result<(u64, ChunkData)> {
        let bom = if self.offset == 0 && buf.starts_with(b"\xEF\xBB\xBF") {
            3
        } else {
            0
        };
        let mut len = buf.len() as u64;
        let mut last = buf.last().copied();
        let mut newline = 0;
        while !self.eof {
            buf.clear();
            self.fill(&mut buf, self.chunk_size)?;
            if let Some(p) = memchr::memchr(b'\n', &buf) {
                len += p as u64;
                if p > 0 {
                    last = Some(buf[p - 1]);
                }
                newline = 1;
                self.carry.extend_from_slice(&buf[p + 1..]);
                break;
            }
            len += buf.len() as u64;
            last = buf.last().copied().or(last);
        }
        pool.give(buf);
        let offset = self.offset;
        self.offset += len + newline;
        // A `\r` before the newline, or at the very end, is not part of the line.
        let cr = u64::from(last == Some(b'\r') && len > bom);
        Ok((offset + bom, ChunkData::Oversized(len - bom - cr)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A reader that returns at most `step` bytes per call, like a pipe.
    struct Trickle<'a>(&'a [u8], usize);
    impl Read for Trickle<'_> {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            let n = self.0.len().min(self.1).min(buf.len());
            buf[..n].copy_from_slice(&self.0[..n]);
            self.0 = &self.0[n..];
            Ok(n)
        }
    }

    fn chunks(data: &[u8], chunk: usize, step: usize) -> Vec<(u64, String)> {
        limited(data, chunk, step, u64::MAX)
    }

    fn limited(data: &[u8], chunk: usize, step: usize, max_line: u64) -> Vec<(u64, String)> {
        let pool = BufferPool::default();
        let mut src = ReadSource::new(Trickle(data, step), chunk, max_line);
        let mut out = Vec::new();
        while let Some((off, c)) = src.next_chunk(&pool).unwrap() {
            match c {
                ChunkData::Owned(v) => {
                    out.push((off, String::from_utf8(v.clone()).unwrap()));
                    pool.give(v);
                }
                ChunkData::Oversized(n) => out.push((off, format!("<{n}>"))),
                ChunkData::Mapped(..) => unreachable!(),
            }
        }
        assert_eq!(src.bytes_read(), data.len() as u64);
        out
    }

    #[test]
    fn cuts_after_newlines_and_carries_the_rest() {
        let got = chunks(b"ab\ncd\nef\ng", 4, 1);
        assert_eq!(
            got,
            vec![
                (0, "ab\n".into()),
                (3, "cd\n".into()),
                (6, "ef\n".into()),
                (9, "g".into())
            ]
        );
        let joined: String = got.iter().map(|c| c.1.as_str()).collect();
        assert_eq!(joined, "ab\ncd\nef\ng");
    }

    #[test]
    fn a_line_longer_than_a_chunk_stays_whole() {
        let got = chunks(b"0123456789\nx\n", 3, 2);
        assert_eq!(got[0].1, "0123456789\n");
        assert_eq!(got.last().unwrap().1, "x\n");
    }

    #[test]
    fn a_line_over_the_limit_is_skipped_and_measured_without_bom_and_cr() {
        type Chunks<'a> = &'a [(u64, &'a str)];
        let cases: [(&[u8], Chunks); 3] = [
            (
                b"ab\n0123456789012\ncd\n01234567",
                // The last is within the slack for a BOM and a `\r`: the worker measures it.
                &[(0, "ab\n"), (3, "<13>"), (17, "cd\n"), (20, "01234567")],
            ),
            (
                b"\xEF\xBB\xBF0123456789\r\nab\r\n0123456789\r\n",
                // The last one ends within the buffer that crossed the limit: whole, it
                // goes to the worker, which counts it the same way.
                &[(3, "<10>"), (15, "ab\r\n"), (19, "0123456789\r\n")],
            ),
            (
                // The last line ends in `\r` without a newline: not part of it either.
                b"ab\n0123456789012\r",
                &[(0, "ab\n"), (3, "<13>")],
            ),
        ];
        for (data, want) in cases {
            let want: Vec<(u64, String)> = want.iter().map(|(o, s)| (*o, s.to_string())).collect();
            for step in [1, 3, 4, 100] {
                assert_eq!(limited(data, 4, step, 5), want, "step {step}");
            }
        }
    }

    #[test]
    fn empty_input_has_no_chunks() {
        assert!(chunks(b"", 4, 4).is_empty());
    }
}
