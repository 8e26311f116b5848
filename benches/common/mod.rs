//! What the benches share: today's path over a chunk of lines.

use steplog::batch::Batch;
use steplog::parse::{LineIndex, LineParser, PADDING};

/// Today's per-line path with its reused state: a parser, a batch, the padded chunk buffer
/// and its line index.
#[derive(Default)]
pub struct TapePath {
    parser: LineParser,
    batch: Batch,
    buf: Vec<u8>,
    lines: LineIndex,
}

impl TapePath {
    /// Parses every line of `data` as the engine does: the chunk copied into the buffer
    /// with padding, its lines found, each parsed into the batch (emptied when full).
    /// Returns the lines that were records.
    pub fn parse_chunk(&mut self, data: &[u8]) -> usize {
        let TapePath {
            parser,
            batch,
            buf,
            lines,
        } = self;
        let len = data.len();
        buf.clear();
        buf.extend_from_slice(data);
        buf.extend_from_slice(&[b' '; PADDING]);
        lines.build(&buf[..len], true);
        let mut rows = 0;
        for i in 0..lines.len() {
            let line = lines.line(i, &buf[..len]);
            if parser
                .parse_line(&mut buf[line.start..], line.len, batch)
                .is_ok()
            {
                rows += 1;
            }
            if batch.is_full() {
                batch.clear();
            }
        }
        rows
    }
}
