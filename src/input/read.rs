//! Streams (stdin, pipes, files under `--no-mmap`) read into owned chunks.

use super::{BufferPool, ChunkData, Source};
use std::io::{self, Read};

/// A reader cut into chunks at the last newline of each block read.
pub struct ReadSource<R> {
    reader: R,
    chunk_size: usize,
    /// Bytes after the last newline of the previous chunk.
    carry: Vec<u8>,
    eof: bool,
    offset: u64,
}

impl<R: Read + Send> ReadSource<R> {
    /// Chunks of about `chunk_size` bytes from `reader`.
    pub fn new(reader: R, chunk_size: usize) -> ReadSource<R> {
        ReadSource {
            reader,
            chunk_size,
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
                // A line longer than a chunk: keep reading until it ends.
                None => scanned = buf.len(),
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
        let pool = BufferPool::default();
        let mut src = ReadSource::new(Trickle(data, step), chunk);
        let mut out = Vec::new();
        while let Some((off, ChunkData::Owned(v))) = src.next_chunk(&pool).unwrap() {
            out.push((off, String::from_utf8(v.clone()).unwrap()));
            pool.give(v);
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
    fn empty_input_has_no_chunks() {
        assert!(chunks(b"", 4, 4).is_empty());
    }
}
