//! Memory-mapped files, cut into chunks that end at a newline.

use super::{BufferPool, ChunkData, Source};
use std::fs::File;
use std::io;
use std::sync::Arc;

/// A mapped regular file.
pub struct MmapSource {
    map: Arc<memmap2::Mmap>,
    pos: usize,
    chunk_size: usize,
}

impl MmapSource {
    /// Maps `file` read-only.
    pub fn new(file: &File, chunk_size: usize) -> io::Result<MmapSource> {
        // SAFETY: the mapping is read-only and private to this process, and no `&mut`
        // to it is ever made. The one risk memmap2 cannot rule out is another process
        // truncating the file while it is mapped (logrotate's copytruncate): reading
        // a page past the new end raises SIGBUS. `--no-mmap` reads instead and is immune.
        let map = unsafe { memmap2::Mmap::map(file)? };
        #[cfg(unix)]
        let _ = map.advise(memmap2::Advice::Sequential);
        Ok(MmapSource {
            map: Arc::new(map),
            pos: 0,
            chunk_size,
        })
    }
}

impl Source for MmapSource {
    fn next_chunk(&mut self, _pool: &BufferPool) -> io::Result<Option<(u64, ChunkData)>> {
        let len = self.map.len();
        if self.pos >= len {
            return Ok(None);
        }
        let start = self.pos;
        let target = start.saturating_add(self.chunk_size);
        let end = if target >= len {
            len
        } else {
            memchr::memchr(b'\n', &self.map[target..]).map_or(len, |p| target + p + 1)
        };
        self.pos = end;
        Ok(Some((
            start as u64,
            ChunkData::Mapped(Arc::clone(&self.map), start..end),
        )))
    }

    fn bytes_read(&self) -> u64 {
        self.pos as u64
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    #[test]
    fn chunks_end_at_newlines_and_cover_the_file() {
        let mut f = tempfile::NamedTempFile::new().unwrap();
        let data = b"aaaa\nbb\n\ncccccc\nd";
        f.write_all(data).unwrap();
        let mut src = MmapSource::new(f.as_file(), 3).unwrap();
        let pool = BufferPool::default();
        let mut got = Vec::new();
        while let Some((off, ChunkData::Mapped(m, r))) = src.next_chunk(&pool).unwrap() {
            assert_eq!(off as usize, r.start);
            got.push(String::from_utf8(m[r].to_vec()).unwrap());
        }
        assert_eq!(got, vec!["aaaa\n", "bb\n\n", "cccccc\n", "d"]);
        assert_eq!(src.bytes_read(), data.len() as u64);
    }
}
