//! Compressed inputs, recognised by their magic bytes (not their names) and decompressed
//! as a stream on the reading thread, so memory stays bounded by the chunk buffers plus
//! the codec's window.

use std::io::{self, BufRead, BufReader, Read};

/// A compression format steplog reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compression {
    /// gzip (RFC 1952), including multi-member files (`cat a.gz b.gz`, pigz, bgzip).
    Gzip,
    /// Zstandard, including several concatenated frames (`zstd -c a b`, pzstd).
    Zstd,
}

impl Compression {
    /// Bytes needed to recognise every format.
    pub const MAGIC_LEN: usize = 4;

    /// The format whose magic number starts `head`, if any.
    pub fn detect(head: &[u8]) -> Option<Compression> {
        if head.starts_with(&[0x1f, 0x8b]) {
            Some(Compression::Gzip)
        } else if head.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]) {
            Some(Compression::Zstd)
        } else {
            None
        }
    }

    /// The name reports use.
    pub fn as_str(self) -> &'static str {
        match self {
            Compression::Gzip => "gzip",
            Compression::Zstd => "zstd",
        }
    }

    /// The format called `name` (as [`Compression::as_str`] writes it).
    pub fn parse(name: &str) -> Option<Compression> {
        match name {
            "gzip" => Some(Compression::Gzip),
            "zstd" => Some(Compression::Zstd),
            _ => None,
        }
    }

    /// A reader of the decompressed bytes of `inner`.
    pub fn decoder<R: Read + Send + 'static>(self, inner: R) -> Box<dyn Read + Send> {
        let inner = BufReader::with_capacity(256 * 1024, inner);
        match self {
            Compression::Gzip => Box::new(flate2::bufread::MultiGzDecoder::new(inner)),
            Compression::Zstd => zstd_decoder(inner),
        }
    }
}

/// A zstd decoder: libzstd's (concatenated frames included), when built with it.
#[cfg(feature = "libzstd")]
fn zstd_decoder<R: BufRead + Send + 'static>(inner: R) -> Box<dyn Read + Send> {
    match zstd::stream::read::Decoder::with_buffer(inner) {
        Ok(d) => Box::new(d),
        Err(e) => Box::new(Failing(Some(e))),
    }
}

/// A zstd decoder: ruzstd's, in a build without C.
#[cfg(not(feature = "libzstd"))]
fn zstd_decoder<R: BufRead + Send + 'static>(inner: R) -> Box<dyn Read + Send> {
    Box::new(ZstdFrames {
        source: Some(inner),
        frame: None,
    })
}

/// A reader whose first read fails (a decoder that could not be made).
#[cfg(feature = "libzstd")]
struct Failing(Option<io::Error>);

#[cfg(feature = "libzstd")]
impl Read for Failing {
    fn read(&mut self, _: &mut [u8]) -> io::Result<usize> {
        Err(self
            .0
            .take()
            .unwrap_or_else(|| io::Error::other("zstd decoder")))
    }
}

/// Concatenated zstd frames, one [`ruzstd::decoding::StreamingDecoder`] at a time.
#[cfg_attr(feature = "libzstd", allow(dead_code))]
struct ZstdFrames<R: BufRead> {
    source: Option<R>,
    frame: Option<ruzstd::decoding::StreamingDecoder<R, ruzstd::decoding::FrameDecoder>>,
}

impl<R: BufRead> Read for ZstdFrames<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        loop {
            if let Some(frame) = &mut self.frame {
                let n = frame.read(buf)?;
                if n > 0 {
                    return Ok(n);
                }
                let frame = self.frame.take().expect("checked above");
                self.source = Some(frame.into_inner());
            }
            let Some(mut source) = self.source.take() else {
                return Ok(0);
            };
            if source.fill_buf()?.is_empty() {
                return Ok(0);
            }
            let frame = ruzstd::decoding::StreamingDecoder::new(source)
                .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, format!("zstd: {e}")))?;
            self.frame = Some(frame);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn gz(data: &[u8]) -> Vec<u8> {
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        e.write_all(data).unwrap();
        e.finish().unwrap()
    }

    fn zst(data: &[u8]) -> Vec<u8> {
        ruzstd::encoding::compress_to_vec(data, ruzstd::encoding::CompressionLevel::Fastest)
    }

    fn decode(c: Compression, bytes: Vec<u8>) -> io::Result<Vec<u8>> {
        let mut out = Vec::new();
        c.decoder(io::Cursor::new(bytes)).read_to_end(&mut out)?;
        Ok(out)
    }

    #[test]
    fn detects_by_magic_and_reads_concatenated_members() {
        let (a, b) = (b"{\"a\":1}\n".as_slice(), b"{\"b\":2}\n".as_slice());
        type Encoder = fn(&[u8]) -> Vec<u8>;
        let codecs: [(Compression, Encoder); 2] =
            [(Compression::Gzip, gz), (Compression::Zstd, zst)];
        for (format, encode) in codecs {
            let mut two = encode(a);
            two.extend(encode(b));
            assert_eq!(Compression::detect(&two), Some(format));
            assert_eq!(decode(format, two).unwrap(), b"{\"a\":1}\n{\"b\":2}\n");
        }
        assert_eq!(Compression::detect(b"{\"a\""), None);
        assert_eq!(Compression::detect(b""), None);
    }

    #[test]
    fn corrupt_archives_are_errors_not_panics() {
        let mut bad = gz(b"hello\n");
        let n = bad.len();
        bad[n / 2] ^= 0xff;
        bad.truncate(n - 3);
        assert!(decode(Compression::Gzip, bad).is_err());
        let mut bad = zst(&b"hello world\n".repeat(100));
        bad.truncate(bad.len() - 5);
        assert!(decode(Compression::Zstd, bad).is_err());
    }
}
